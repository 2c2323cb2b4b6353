/*
 * The worker's state file and the apps' exit files: round trips, every
 * rejection path, and the rule that a reused PID is never taken for an app
 * (matched by PID and start time, with a fake /proc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/workerstate.h"
#include "testdir.h"

/* A full entry, as the worker writes it for a running app. */
static struct workerstate_app
test_ws_sample(void)
{
	static char *argv[] = { (char *)"/bin/sleep", (char *)"600", NULL };
	static char *envp[] = { (char *)"PATH=/bin", NULL };
	struct workerstate_app s = { 0 };

	s.id = (char *)"sleep-1";
	s.name = (char *)"sleep";
	s.path = (char *)"/bin/sleep";
	s.args = json_pack("[s]", "600");
	s.argv = argv;
	s.envp = envp;
	s.phase = APP_RUNNING;
	s.restart = APP_RESTART_ON_FAILURE;
	s.max_restarts = 3;
	s.restarts = 1;
	s.backoff_ms = 2000;
	s.log_max = 1 << 20;
	s.log_keep = 3;
	s.shim_pid = 1234;
	s.shim_start = 987654321ULL;
	s.pid = 1235;
	s.start = 987654322ULL;
	s.started_at = 1700000000000LL;
	s.status = 0;
	snprintf(s.cause, sizeof s.cause, "%s", "");
	return s;
}

/* A state file without a journal. */
static int
test_ws_parse(const char *text, size_t len, struct workerstate_app **v,
    size_t *n, char **cause)
{
	uint64_t generation;
	size_t skipped;

	return workerstate_parse(text, len, NULL, 0, v, n, &generation,
	    &skipped, cause);
}

/* The document workerstate_write makes of the entries in apps. */
static char *
test_ws_doc(int generation, json_t *apps)
{
	json_t *doc = json_pack("{s:i, s:i, s:o}", "version",
	    WORKERSTATE_VERSION, "generation", generation, "apps", apps);
	char *text = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	return text;
}

static void
test_ws_round_trip(void **state)
{
	struct workerstate_app s = test_ws_sample(), *v;
	size_t n;
	char *text, *cause = NULL;

	(void)state;
	text = test_ws_doc(0, json_pack("[o]", workerstate_app_to_json(&s)));
	assert_int_equal(test_ws_parse(text, strlen(text), &v, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, "sleep-1");
	assert_string_equal(v[0].argv[1], "600");
	assert_string_equal(v[0].envp[0], "PATH=/bin");
	assert_null(v[0].artifact);
	assert_int_equal(v[0].phase, APP_RUNNING);
	assert_int_equal(v[0].restart, APP_RESTART_ON_FAILURE);
	assert_int_equal(v[0].shim_pid, 1234);
	assert_true(v[0].shim_start == 987654321ULL);
	assert_int_equal(v[0].pid, 1235);
	assert_true(v[0].start == 987654322ULL);
	assert_int_equal(v[0].backoff_ms, 2000);
	workerstate_apps_free(v, n);
	free(text);
	json_decref(s.args);
}

/*
 * workerstate_write joins entries from workerstate_app_format into the
 * very bytes json_dumps makes of the whole document, and they parse back.
 */
static void
test_ws_write_joins_entries(void **state)
{
	struct workerstate_app s = test_ws_sample(), d = test_ws_sample(), *v;
	const char *dir = *state;
	char *path, *text, *want, *entries[2], *cause = NULL;
	size_t n, len;

	d.id = (char *)"true-2";
	d.phase = APP_EXITED;
	d.argv = d.envp = NULL;
	snprintf(d.cause, sizeof d.cause, "%s", "exited 0 \"quoted\"");
	entries[0] = workerstate_app_format(&s);
	entries[1] = workerstate_app_format(&d);
	path = xasprintf("%s/worker-state.json", dir);

	assert_int_equal(workerstate_write(path, 7, entries, 2), 0);
	assert_non_null(text = util_read_file(path, 1 << 20, &len));
	want = test_ws_doc(7, json_pack("[o, o]", workerstate_app_to_json(&s),
	    workerstate_app_to_json(&d)));
	assert_string_equal(text, want);
	assert_int_equal(test_ws_parse(text, len, &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].id, "true-2");
	assert_int_equal(v[1].phase, APP_EXITED);
	assert_string_equal(v[1].cause, "exited 0 \"quoted\"");
	workerstate_apps_free(v, n);
	free(text);
	free(want);

	/* No apps at all. */
	assert_int_equal(workerstate_write(path, 8, entries, 0), 0);
	assert_non_null(text = util_read_file(path, 1 << 20, &len));
	assert_string_equal(text, "{\"version\":1,\"generation\":8,"
	    "\"apps\":[]}");
	assert_int_equal(test_ws_parse(text, len, &v, &n, &cause), 0);
	assert_int_equal(n, 0);
	workerstate_apps_free(v, n);
	free(text);

	free(path);
	free(entries[0]);
	free(entries[1]);
	json_decref(s.args);
	json_decref(d.args);
}

/* Each broken variant of the sample is refused with a cause. */
static void
test_ws_rejects(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{\"version\":2,\"apps\":[]}", "{\"version\":1}",
		"{\"version\":1,\"apps\":{}}", "{\"version\":1,\"apps\":[1]}",
		"{\"version\":1,\"apps\":[],\"apps\":[]}",
	};
	struct workerstate_app s = test_ws_sample(), *v;
	const char *field[] = { "id", "phase", "restart", "pid", "argv",
		"log_keep", "path", "status" };
	json_t *bad_value[8];
	char *text, *cause;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		assert_int_equal(test_ws_parse(bad[i], strlen(bad[i]), &v, &n,
		    &cause), -1);
		assert_non_null(cause);
		free(cause);
	}
	bad_value[0] = json_string("../etc");
	bad_value[1] = json_string("sleeping");
	bad_value[2] = json_string("sometimes");
	bad_value[3] = json_integer(-5);
	bad_value[4] = json_null(); /* running with nothing to run again */
	bad_value[5] = json_integer(99);
	bad_value[6] = json_string("relative/path");
	bad_value[7] = json_integer(70000);
	for (size_t i = 0; i < 8; i++) {
		json_t *j = workerstate_app_to_json(&s);

		json_object_set_new(j, field[i], bad_value[i]);
		text = test_ws_doc(0, json_pack("[o]", j));
		cause = NULL;
		assert_int_equal(test_ws_parse(text, strlen(text), &v, &n,
		    &cause), -1);
		assert_non_null(cause);
		free(cause);
		free(text);
	}
	/* The same id twice. */
	text = test_ws_doc(0, json_pack("[o, o]", workerstate_app_to_json(&s),
	    workerstate_app_to_json(&s)));
	cause = NULL;
	assert_int_equal(test_ws_parse(text, strlen(text), &v, &n, &cause),
	    -1);
	assert_non_null(strstr(cause, "twice"));
	free(cause);
	free(text);
	json_decref(s.args);
}

/* The entry of the sample renamed id, in phase. */
static char *
test_ws_entry(const char *id, enum app_phase phase)
{
	struct workerstate_app s = test_ws_sample();
	char *text;

	s.id = (char *)id;
	s.phase = phase;
	text = workerstate_app_format(&s);
	json_decref(s.args);
	return text;
}

/* Parse the state file at path with the journal at jpath. */
static void
test_ws_load(const char *path, const char *jpath, struct workerstate_app **v,
    size_t *n, uint64_t *generation, size_t *skipped)
{
	char *text, *journal, *cause = NULL;
	size_t len, jlen;

	assert_non_null(text = util_read_file(path, 1 << 20, &len));
	assert_non_null(journal = util_read_file(jpath, 1 << 20, &jlen));
	assert_int_equal(workerstate_parse(text, len, journal, jlen, v, n,
	    generation, skipped, &cause), 0);
	free(text);
	free(journal);
}

/*
 * The journal carries the changes after the state file: a changed app's
 * entry replaces its old one, a new app comes first, a forgotten one goes,
 * and a line cut short is left out; a journal of another generation is
 * ignored.
 */
static void
test_ws_journal(void **state)
{
	const char *dir = *state;
	char *path, *jpath, *snap[2], *lines[5];
	struct workerstate_app *v;
	uint64_t generation;
	size_t n, skipped;
	int fd;

	path = xasprintf("%s/worker-state.json", dir);
	jpath = xasprintf("%s/worker-state.journal", dir);
	snap[0] = test_ws_entry("a-1", APP_RUNNING);
	snap[1] = test_ws_entry("b-1", APP_EXITED);
	assert_int_equal(workerstate_write(path, 5, snap, 2), 0);

	assert_true((fd = workerstate_journal_start(jpath, 5)) >= 0);
	lines[0] = test_ws_entry("c-1", APP_RUNNING);
	lines[1] = test_ws_entry("a-1", APP_EXITED);
	lines[2] = workerstate_forget_format("b-1");
	lines[3] = test_ws_entry("d-1", APP_RUNNING);
	lines[4] = xstrdup("{\"id\":\"broken");
	assert_true(workerstate_journal_append(fd, lines, 4) > 0);
	/* A line in the middle that is not an entry: skipped, not fatal. */
	assert_true(workerstate_journal_append(fd, &lines[4], 1) > 0);
	assert_true(workerstate_journal_append(fd, &lines[3], 1) > 0);
	/* And a last line without its newline, as a write cut short leaves. */
	assert_int_equal(write(fd, "{\"forget\":\"c-1\"}", 17), 17);
	close(fd);

	test_ws_load(path, jpath, &v, &n, &generation, &skipped);
	assert_true(generation == 5);
	assert_int_equal(skipped, 2);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].id, "d-1");
	assert_string_equal(v[1].id, "c-1");
	assert_int_equal(v[1].phase, APP_RUNNING);
	assert_string_equal(v[2].id, "a-1");
	assert_int_equal(v[2].phase, APP_EXITED);
	workerstate_apps_free(v, n);

	/* The state file written again: the old journal says nothing more. */
	assert_int_equal(workerstate_write(path, 6, snap, 2), 0);
	test_ws_load(path, jpath, &v, &n, &generation, &skipped);
	assert_true(generation == 6);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "a-1");
	assert_int_equal(v[0].phase, APP_RUNNING);
	assert_string_equal(v[1].id, "b-1");
	workerstate_apps_free(v, n);

	/* A new journal starts empty; an app forgotten can come back. */
	assert_true((fd = workerstate_journal_start(jpath, 6)) >= 0);
	assert_true(workerstate_journal_append(fd, &lines[2], 1) > 0);
	free(lines[2]);
	lines[2] = test_ws_entry("b-1", APP_RUNNING);
	assert_true(workerstate_journal_append(fd, &lines[2], 1) > 0);
	close(fd);
	test_ws_load(path, jpath, &v, &n, &generation, &skipped);
	assert_int_equal(skipped, 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "b-1");
	assert_int_equal(v[0].phase, APP_RUNNING);
	assert_string_equal(v[1].id, "a-1");
	workerstate_apps_free(v, n);

	free(path);
	free(jpath);
	for (int i = 0; i < 2; i++)
		free(snap[i]);
	for (int i = 0; i < 5; i++)
		free(lines[i]);
}

static void
test_ws_exit_round_trip(void **state)
{
	struct workerstate_exit e = { 4321, 55555, 3 << 8, 1500, 20, 2048,
		1700000000123LL }, back;
	char *text = workerstate_format_exit(&e), *cause = NULL;

	(void)state;
	assert_int_equal(workerstate_parse_exit(text, strlen(text), &back,
	    &cause), 0);
	assert_int_equal(back.pid, e.pid);
	assert_true(back.start == e.start);
	assert_int_equal(back.status, e.status);
	assert_int_equal(back.user_us, e.user_us);
	assert_int_equal(back.sys_us, e.sys_us);
	assert_int_equal(back.maxrss_kb, e.maxrss_kb);
	assert_int_equal(back.ended_at, e.ended_at);
	free(text);
	assert_int_equal(workerstate_parse_exit("{\"pid\":0}", 9, &back, &cause),
	    -1);
	free(cause);
	cause = NULL;
	assert_int_equal(workerstate_parse_exit("nope", 4, &back, &cause), -1);
	free(cause);
}

/* A fake /proc: pid 100 started at 5000; pid 200 does not exist. */
static int
test_ws_fake_start(pid_t pid, unsigned long long *start)
{
	if (pid == 100) {
		*start = 5000;
		return 0;
	}
	return -1;
}

static void
test_ws_same_process(void **state)
{
	unsigned long long mine;

	(void)state;
	assert_true(workerstate_same_process(100, 5000, test_ws_fake_start));
	/* The same PID, another start time: a reused PID, never ours. */
	assert_false(workerstate_same_process(100, 4999, test_ws_fake_start));
	assert_false(workerstate_same_process(200, 5000, test_ws_fake_start));
	/* Never recorded, or PIDs that are never an app's. */
	assert_false(workerstate_same_process(100, 0, test_ws_fake_start));
	assert_false(workerstate_same_process(1, 5000, test_ws_fake_start));
	assert_false(workerstate_same_process(0, 5000, test_ws_fake_start));
	/* The real reader on ourselves. */
	assert_int_equal(workerstate_read_start(getpid(), &mine), 0);
	assert_true(workerstate_same_process(getpid(), mine,
	    workerstate_read_start));
	assert_false(workerstate_same_process(getpid(), mine + 1,
	    workerstate_read_start));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_round_trip),
		cmocka_unit_test_setup_teardown(test_ws_write_joins_entries,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test(test_ws_rejects),
		cmocka_unit_test_setup_teardown(test_ws_journal, testdir_setup,
		    testdir_teardown),
		cmocka_unit_test(test_ws_exit_round_trip),
		cmocka_unit_test(test_ws_same_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
