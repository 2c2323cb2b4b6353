/*
 * Unit tests for the resource history in the state database (db.c,
 * db-samples.c): retention and downsampling, series in steps, and the
 * migration that brought the history tables to a schema 1 database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "master/db.h"
#include "master/history.h"
#include "testdir.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
/* A "now" on a minute boundary, so the arithmetic below is exact. */
#define NOW (1800000000LL * 1000)

static struct db *
test_history_open(void **state, const char *name)
{
	char path[256], *cause = NULL;
	struct db *db;

	snprintf(path, sizeof path, "%s/%s", (char *)*state, name);
	db = db_open(path, &cause);
	if (db == NULL)
		fail_msg("db_open: %s", cause);
	return db;
}

static struct db_sample
test_history_sample(int64_t t, double cpu, long long rss)
{
	struct db_sample s = { .t = t, .cpu_user_pct = cpu, .cpu_sys_pct = 0,
		.rss_kb = rss, .max_rss_kb = rss, .procs = 1, .threads = 2,
		.fds = -1, .read_bytes = 100, .write_bytes = 200 };

	return s;
}

/*
 * Samples every 5 s from `from` to `to` (ms before NOW), CPU 10 and 30 in
 * turn, added as of now. Returns how many were stored.
 */
static int
test_history_fill(struct db *db, const char *app, int64_t from, int64_t to,
    int64_t now)
{
	int n = 0, stored = 0;

	for (int64_t t = NOW - from; t < NOW - to; t += 5000, n++) {
		struct db_sample s = test_history_sample(t, n % 2 ? 30 : 10,
		    1000 + n % 2 * 1000);

		if (db_add_sample(db, app, &s, now) == 0)
			stored++;
	}
	db_commit(db);
	return stored;
}

static long long
test_history_count(void **state, const char *name, const char *sql)
{
	char path[256];
	sqlite3 *h;
	sqlite3_stmt *st;
	long long n;

	snprintf(path, sizeof path, "%s/%s", (char *)*state, name);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void
test_history_too_old_is_dropped(void **state)
{
	struct db *db = test_history_open(state, "old.db");
	struct db_sample s = test_history_sample(NOW - DAY_MS - 1, 5, 10);

	assert_int_equal(db_add_sample(db, "a-1", &s, NOW), -1);
	s.t = NOW - DAY_MS + 1000;
	assert_int_equal(db_add_sample(db, "a-1", &s, NOW), 0);
	db_close(db);
	assert_int_equal(test_history_count(state, "old.db",
	    "SELECT count(*) FROM samples_raw"), 1);
}

static void
test_history_compact_averages_old_minutes(void **state)
{
	struct db *db = test_history_open(state, "compact.db");
	json_t *series, *p;
	size_t i;

	/*
	 * 26 hours of samples, stored while each was fresh (added as of its
	 * own time), then compacted at NOW: the two hours past a day become
	 * 120 minute rows of 12 samples each.
	 */
	for (int64_t t = NOW - 26 * HOUR_MS, n = 0; t < NOW; t += 5000, n++) {
		struct db_sample s = test_history_sample(t, n % 2 ? 30 : 10,
		    n % 2 ? 2000 : 1000);

		assert_int_equal(db_add_sample(db, "a-1", &s, t), 0);
	}
	db_commit(db);
	db_samples_compact(db, "a-1", NOW);
	db_commit(db);

	series = db_samples_series(db, "a-1", NOW - 26 * HOUR_MS,
	    NOW - 24 * HOUR_MS, MIN_MS);
	assert_int_equal(json_array_size(series), 120);
	json_array_foreach(series, i, p) {
		/* Each minute: the mean of 10 and 30, the max of the peaks. */
		assert_int_equal(json_integer_value(json_object_get(p, "t")),
		    NOW - 26 * HOUR_MS + (int64_t)i * MIN_MS);
		assert_float_equal(json_real_value(json_object_get(p,
		    "cpu_user_pct")), 20.0, 1e-9);
		assert_int_equal(json_integer_value(json_object_get(p, "rss_kb")),
		    1500);
		assert_int_equal(json_integer_value(json_object_get(p,
		    "max_rss_kb")), 2000);
		assert_int_equal(json_integer_value(json_object_get(p, "n")), 1);
		/* Unknown in every sample: unknown in the average. */
		assert_true(json_is_null(json_object_get(p, "fds")));
	}
	json_decref(series);

	/* The last day is untouched: raw, 12 rows per minute. */
	series = db_samples_series(db, "a-1", NOW - HOUR_MS, NOW, MIN_MS);
	assert_int_equal(json_array_size(series), 60);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    series, 0), "n")), 12);
	json_decref(series);
	db_close(db);
	assert_int_equal(test_history_count(state, "compact.db",
	    "SELECT count(*) FROM samples_1m"), 120);
	assert_int_equal(test_history_count(state, "compact.db",
	    "SELECT count(*) FROM samples_raw"), 24 * 720);
	assert_int_equal(test_history_count(state, "compact.db",
	    "SELECT min(t) FROM samples_raw"), NOW - DAY_MS);
}

static void
test_history_compact_twice_changes_nothing(void **state)
{
	struct db *db = test_history_open(state, "twice.db");

	for (int64_t t = NOW - 25 * HOUR_MS; t < NOW; t += 5000) {
		struct db_sample s = test_history_sample(t, 50, 10);

		assert_int_equal(db_add_sample(db, "a-1", &s, t), 0);
	}
	db_samples_compact(db, "a-1", NOW);
	db_samples_compact(db, "a-1", NOW + 1000);
	db_commit(db);
	db_close(db);
	assert_int_equal(test_history_count(state, "twice.db",
	    "SELECT count(*) FROM samples_1m"), 60);
	assert_int_equal(test_history_count(state, "twice.db",
	    "SELECT count(*) FROM samples_raw"), 24 * 720);
}

static void
test_history_minutes_expire_after_30_days(void **state)
{
	struct db *db = test_history_open(state, "expire.db");
	json_t *series;

	/* A sample every 5 minutes for 29 days, then compacted. */
	for (int64_t t = NOW - 31 * DAY_MS; t < NOW - 2 * DAY_MS;
	    t += 5 * MIN_MS) {
		struct db_sample s = test_history_sample(t, 1, 1);

		assert_int_equal(db_add_sample(db, "a-1", &s, t), 0);
	}
	db_samples_compact(db, "a-1", NOW);
	db_commit(db);
	series = db_samples_series(db, "a-1", 0, NOW, DAY_MS);
	/* Days 30 to 2 before NOW: nothing older than 30 days is left. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    series, 0), "t")) / DAY_MS, (NOW - 30 * DAY_MS) / DAY_MS);
	json_decref(series);
	db_close(db);
	assert_int_equal(test_history_count(state, "expire.db",
	    "SELECT count(*) FROM samples_1m"), 28 * 1440 / 5);
	assert_int_equal(test_history_count(state, "expire.db",
	    "SELECT count(*) FROM samples_raw"), 0);
}

static void
test_history_series_steps_and_apps(void **state)
{
	struct db *db = test_history_open(state, "steps.db");
	json_t *series;

	assert_int_equal(test_history_fill(db, "a-1", 10 * MIN_MS, 0, NOW), 120);
	assert_int_equal(test_history_fill(db, "b-1", 10 * MIN_MS, 0, NOW), 120);
	/* 10 s steps: two samples in each. */
	series = db_samples_series(db, "a-1", NOW - 10 * MIN_MS, NOW, 10000);
	assert_int_equal(json_array_size(series), 60);
	assert_float_equal(json_real_value(json_object_get(json_array_get(
	    series, 5), "cpu_pct")), 20.0, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    series, 5), "read_bytes")), 100);
	json_decref(series);
	/* The span bounds the points. */
	series = db_samples_series(db, "a-1", NOW - MIN_MS, NOW, 5000);
	assert_int_equal(json_array_size(series), 12);
	json_decref(series);
	/* Forgetting one app leaves the other. */
	db_samples_forget(db, "a-1");
	series = db_samples_series(db, "a-1", 0, NOW, MIN_MS);
	assert_int_equal(json_array_size(series), 0);
	json_decref(series);
	series = db_samples_series(db, "b-1", 0, NOW, MIN_MS);
	assert_int_equal(json_array_size(series), 10);
	json_decref(series);
	db_close(db);
}

/* A database as drover's first schema left it. */
static const char test_history_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE nodes (name TEXT PRIMARY KEY, record TEXT NOT NULL);"
    "CREATE TABLE apps (id TEXT PRIMARY KEY, node TEXT NOT NULL,"
    "  obj TEXT NOT NULL);"
    "CREATE INDEX apps_node ON apps (node);"
    "CREATE TABLE artifacts (node TEXT NOT NULL, name TEXT NOT NULL,"
    "  manifest TEXT NOT NULL, PRIMARY KEY (node, name));"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT, app TEXT,"
    "  detail TEXT NOT NULL);"
    "CREATE INDEX events_app ON events (app);"
    "CREATE INDEX events_node ON events (node);"
    "INSERT INTO meta VALUES ('schema', '1');"
    "INSERT INTO apps VALUES ('web-1', 'n1', '{\"id\":\"web-1\"}');";

static void
test_history_loaded_app(const char *id, const char *node, json_t *obj,
    void *arg)
{
	(void)obj;
	assert_string_equal(id, "web-1");
	assert_string_equal(node, "n1");
	(*(int *)arg)++;
}

static void
test_history_migrates_schema_1(void **state)
{
	struct db_sample s = test_history_sample(NOW, 1, 1);
	char path[256];
	struct db *db;
	sqlite3 *h;
	int apps = 0;

	snprintf(path, sizeof path, "%s/v1.db", (char *)*state);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, test_history_v1, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);

	db = test_history_open(state, "v1.db");
	assert_int_equal(db_load_apps(db, test_history_loaded_app, &apps), 0);
	assert_int_equal(apps, 1);
	assert_int_equal(db_add_sample(db, "web-1", &s, NOW), 0);
	db_close(db);
	assert_int_equal(test_history_count(state, "v1.db",
	    "SELECT value FROM meta WHERE key = 'schema'"), DB_SCHEMA_VERSION);
	/* Opening it again migrates nothing more. */
	db = test_history_open(state, "v1.db");
	db_close(db);
	assert_int_equal(test_history_count(state, "v1.db",
	    "SELECT count(*) FROM samples_raw"), 1);
}

static json_t *
test_history_wire_sample(void)
{
	return json_pack("{s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I}", "id", "web-1", "t", (json_int_t)NOW, "cpu_user_pct", 12.5,
	    "cpu_sys_pct", 0.5, "rss_kb", 1000, "max_rss_kb", 2000, "procs", 2,
	    "threads", 3, "fds", -1, "read_bytes", 10, "write_bytes", 20);
}

static void
test_history_parses_a_wire_sample(void **state)
{
	json_t *o = test_history_wire_sample();
	struct db_sample s;
	const char *id;
	char *cause = NULL;

	(void)state;
	assert_int_equal(history_parse_sample(o, &id, &s, &cause), 0);
	assert_string_equal(id, "web-1");
	assert_int_equal(s.t, NOW);
	assert_float_equal(s.cpu_user_pct, 12.5, 1e-9);
	assert_int_equal(s.rss_kb, 1000);
	assert_int_equal(s.max_rss_kb, 2000);
	assert_int_equal(s.procs, 2);
	assert_int_equal(s.fds, -1);
	assert_int_equal(s.write_bytes, 20);
	json_decref(o);
}

static void
test_history_refuses_bad_wire_samples(void **state)
{
	/* Each: one field spoiled, or missing. */
	static const struct {
		const char *key;
		const char *json; /* NULL: remove the key */
	} bad[] = {
		{ "id", NULL }, { "id", "7" }, { "t", "-1" }, { "t", "\"now\"" },
		{ "cpu_user_pct", "-0.5" }, { "cpu_sys_pct", "1e9" },
		{ "cpu_user_pct", "null" }, { "rss_kb", "-2" }, { "procs", NULL },
		{ "fds", "1.5" }, { "write_bytes", "\"x\"" },
	};
	struct db_sample s;
	const char *id;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *o = test_history_wire_sample();
		char *cause = NULL;

		if (bad[i].json == NULL)
			json_object_del(o, bad[i].key);
		else
			json_object_set_new(o, bad[i].key, json_loads(bad[i].json,
			    JSON_DECODE_ANY, NULL));
		assert_int_equal(history_parse_sample(o, &id, &s, &cause), -1);
		assert_non_null(cause);
		free(cause);
		json_decref(o);
	}
	{
		json_t *arr = json_array();
		char *cause = NULL;

		assert_int_equal(history_parse_sample(arr, &id, &s, &cause), -1);
		free(cause);
		json_decref(arr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_history_too_old_is_dropped,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_history_compact_averages_old_minutes,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_history_compact_twice_changes_nothing,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_history_minutes_expire_after_30_days,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_history_series_steps_and_apps,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_history_migrates_schema_1,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test(test_history_parses_a_wire_sample),
		cmocka_unit_test(test_history_refuses_bad_wire_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
