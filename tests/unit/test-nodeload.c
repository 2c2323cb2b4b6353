/* Unit tests for the node load sampler, against the live /proc. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/nodeload.h"

/* Spin for ms milliseconds of this process's own CPU time. */
static void
test_nodeload_burn(long ms)
{
	struct timespec start, now;
	volatile unsigned long sink = 0;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
	do {
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 +
		     (now.tv_nsec - start.tv_nsec) / 1000000 <
		 ms);
}

static void
test_nodeload_first_sample_has_no_cpu(void **state)
{
	struct nodeload nl;
	double cpu = -1, mem = -1;

	(void)state;
	memset(&nl, 0, sizeof nl);
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	assert_true(cpu == 0);
	assert_true(mem > 0 && mem <= 100);
	assert_int_equal(nl.have_last, 1);
	assert_true(nl.last.total > 0);
}

static void
test_nodeload_two_samples_with_burn(void **state)
{
	struct nodeload nl;
	double cpu, mem;

	(void)state;
	memset(&nl, 0, sizeof nl);
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	test_nodeload_burn(300);
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	assert_true(cpu > 0 && cpu <= 100);
	assert_true(mem > 0 && mem <= 100);
}

/* CPU hot-unplug drops ticks from the sum: that must read as a restart. */
static void
test_nodeload_shrinking_total_restarts(void **state)
{
	struct nodeload nl;
	double cpu = -1, mem;

	(void)state;
	memset(&nl, 0, sizeof nl);
	nl.have_last = 1;
	nl.last.total = ULLONG_MAX;
	nl.last.idle = 0;
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	assert_true(cpu == 0);
	assert_true(nl.last.total < ULLONG_MAX);
}

/* iowait can step backwards, so idle may shrink while total grows. */
static void
test_nodeload_shrinking_idle_is_clamped(void **state)
{
	struct nodeload nl;
	double cpu = -1, mem;

	(void)state;
	memset(&nl, 0, sizeof nl);
	nl.have_last = 1;
	nl.last.total = 0;
	nl.last.idle = ULLONG_MAX;
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	assert_true(cpu == 100);

	/* Since boot: some share, never out of range. */
	nl.last.total = 0;
	nl.last.idle = 0;
	assert_int_equal(nodeload_sample(&nl, &cpu, &mem), 0);
	assert_true(cpu >= 0 && cpu <= 100);
}

static void
test_nodeload_cpus(void **state)
{
	(void)state;
	assert_true(nodeload_cpus() >= 1);
	assert_int_equal(nodeload_cpus(), sysconf(_SC_NPROCESSORS_ONLN));
}

static void
test_nodeload_mem_total(void **state)
{
	struct procfs_meminfo mi;

	(void)state;
	assert_int_equal(procfs_read_meminfo(&mi), 0);
	assert_true(nodeload_mem_total_kb() > 0);
	assert_true(nodeload_mem_total_kb() == mi.mem_total_kb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nodeload_first_sample_has_no_cpu),
	    cmocka_unit_test(test_nodeload_two_samples_with_burn),
	    cmocka_unit_test(test_nodeload_shrinking_total_restarts),
	    cmocka_unit_test(test_nodeload_shrinking_idle_is_clamped),
	    cmocka_unit_test(test_nodeload_cpus),
	    cmocka_unit_test(test_nodeload_mem_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
