/*
 * Unit tests for the resource sampler: a real process tree of known memory
 * and CPU, measured through /proc, and the bounded queue of samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "worker/sampler.h"

#define MIB (1024 * 1024)

static long long
test_sampler_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_sampler_read_exactly(int fd, void *buf, size_t len)
{
	assert_int_equal(read(fd, buf, len), (ssize_t)len);
}

/*
 * The tree: leader (forked from the test) -> worker child. The child writes
 * 64 MiB, says so, waits for "burn", burns 300 ms of CPU and reports the CPU
 * it used. Both end when the test closes its end of the pipe (or dies on a
 * failed assertion: no process is left behind either way).
 */
static void
test_sampler_tree(pid_t *leader, int *to_child, int *from_child)
{
	int down[2], up[2];

	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	if ((*leader = fork()) == 0) {
		char c;
		pid_t child;

		/* Only the test may hold the write end: its close is the EOF. */
		close(down[1]);
		close(up[0]);
		if ((child = fork()) == 0) {
			/* volatile: the compiler may not skip writing it. */
			volatile char *mem = malloc(64 * MIB);
			long long start, used;

			for (size_t i = 0; i < 64 * MIB; i += 4096)
				mem[i] = 1;
			(void)!write(up[1], "m", 1);
			(void)!read(down[0], &c, 1);
			start = test_sampler_cpu_ms();
			while (test_sampler_cpu_ms() - start < 300)
				;
			used = test_sampler_cpu_ms() - start;
			(void)!write(up[1], &used, sizeof used);
			while (read(down[0], &c, 1) > 0)
				;
			_exit(0);
		}
		close(up[1]);
		close(down[0]);
		waitpid(child, NULL, 0);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	*to_child = down[1];
	*from_child = up[0];
}

static void
test_sampler_measures_a_tree(void **state)
{
	struct sampler *s = sampler_new(1000);
	struct sampler_sample out[2];
	struct sampler_target t[2];
	int to_child, from_child;
	long long burned;
	int64_t t0, t1;
	double cpu_ms;
	pid_t leader;
	char c;

	(void)state;
	test_sampler_tree(&leader, &to_child, &from_child);
	test_sampler_read_exactly(from_child, &c, 1);
	t[0] = (struct sampler_target){ "tree-1", leader };
	/* Gone: never sampled. */
	t[1] = (struct sampler_target){ "gone-1", 999999999 };

	t0 = util_now_ms();
	assert_int_equal(sampler_measure(s, t, 2, t0, out), 1);
	assert_string_equal(out[0].id, "tree-1");
	assert_int_equal(out[0].procs, 2);
	assert_int_equal(out[0].threads, 2);
	assert_true(out[0].rss_kb >= 64 * 1024);
	assert_true(out[0].max_rss_kb >= out[0].rss_kb);
	assert_true(out[0].fds >= 4); /* the pipes' ends, at least */
	assert_true(out[0].read_bytes >= 0 && out[0].write_bytes >= 1);

	/* The child burns; the next round's rate, over its span, is that CPU. */
	assert_int_equal(write(to_child, "b", 1), 1);
	test_sampler_read_exactly(from_child, &burned, sizeof burned);
	t1 = util_now_ms();
	assert_int_equal(sampler_measure(s, t, 1, t1, out), 1);
	cpu_ms = (out[0].cpu_user_pct + out[0].cpu_sys_pct) / 100.0 *
	    (double)(t1 - t0);
	/* Clock ticks are 10 ms: allow three of them either way. */
	assert_true(cpu_ms >= (double)burned - 30 && cpu_ms <= (double)burned +
	    30);

	close(to_child);
	waitpid(leader, NULL, 0);
	close(from_child);
	sampler_free(s);
}

static void
test_sampler_queue_is_bounded(void **state)
{
	struct sampler *s = sampler_new(1000);
	struct sampler_target t[100];
	char ids[100][16];
	size_t count;
	json_t *batch;

	(void)state;
	/* One live process under 100 names: 100 samples a round. */
	for (int i = 0; i < 100; i++) {
		snprintf(ids[i], sizeof ids[i], "a-%d", i);
		t[i] = (struct sampler_target){ ids[i], getpid() };
	}
	sampler_run(s, t, 100, util_now_ms());
	assert_int_equal(sampler_queued(s), 100);
	batch = sampler_peek(s, 30, &count);
	assert_int_equal(count, 30);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    batch, 0), "id")), "a-0");
	json_decref(batch);
	/* Not dropped until the batch went out. */
	assert_int_equal(sampler_queued(s), 100);
	sampler_drop(s, 30);
	batch = sampler_peek(s, 1, &count);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    batch, 0), "id")), "a-30");
	json_decref(batch);
	sampler_drop(s, 70);
	assert_int_equal(sampler_queued(s), 0);

	/* 170 rounds: 17,000 samples; the oldest 616 go. */
	for (int r = 0; r < 170; r++)
		sampler_run(s, t, 100, util_now_ms());
	assert_int_equal(sampler_queued(s), SAMPLER_QUEUE_MAX);
	batch = sampler_peek(s, SAMPLER_QUEUE_MAX, &count);
	assert_int_equal(count, SAMPLER_QUEUE_MAX);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    batch, 0), "id")), "a-16");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    batch, count - 1), "id")), "a-99");
	json_decref(batch);
	sampler_free(s);
}

static void
test_sampler_off_and_due(void **state)
{
	struct sampler *off = sampler_new(0), *on = sampler_new(5000);
	struct sampler_target t = { "self-1", getpid() };
	int64_t now = util_now_ms(), due = sampler_due(on);

	(void)state;
	assert_int_equal(sampler_due(off), INT64_MAX);
	sampler_run(off, &t, 1, now);
	assert_int_equal(sampler_queued(off), 0);
	assert_true(due > now && due <= now + 5000);
	/* A late round keeps the grid: the next is one interval on. */
	sampler_run(on, &t, 1, due + 1200);
	assert_int_equal(sampler_due(on), due + 5000);
	sampler_free(off);
	sampler_free(on);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sampler_measures_a_tree),
		cmocka_unit_test(test_sampler_queue_is_bounded),
		cmocka_unit_test(test_sampler_off_and_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
