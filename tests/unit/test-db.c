/*
 * Unit tests for the state database's transactions (db.c): which
 * transaction a write goes into, when it counts as committed (what lets a
 * launch's 201 skip a commit of its own), the commit the loop is asked for,
 * an app's row written, replaced and deleted across a reopen, and what a
 * failed commit or write leaves on disk. White-box where a failure is made:
 * db_exec (db-internal.h) sets a page limit, and a VFS of the test's own
 * makes writes to the files fail as a full disk does.
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

#include "master/db-internal.h"
#include "master/db.h"
#include "testdir.h"

/* While true, every write to a database file fails as on a full disk. */
static bool test_db_disk_full;
static sqlite3_vfs test_db_vfs;
static sqlite3_vfs *test_db_real_vfs;
/* The real VFS's method tables (one per kind of file), and our copies. */
#define TEST_DB_IO_MAX 4
static const sqlite3_io_methods *test_db_real_io[TEST_DB_IO_MAX];
static sqlite3_io_methods test_db_io[TEST_DB_IO_MAX];
static int test_db_nio;

static int
test_db_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int i = (int)(f->pMethods - test_db_io);

	if (test_db_disk_full)
		return SQLITE_FULL;
	return test_db_real_io[i]->xWrite(f, buf, n, off);
}

/*
 * The real VFS opens the file; only its method table is swapped for a
 * copy whose xWrite can fail.
 */
static int
test_db_open_file(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
    int flags, int *out)
{
	int rc, i;

	(void)vfs;
	rc = test_db_real_vfs->xOpen(test_db_real_vfs, name, f, flags, out);
	if (rc != SQLITE_OK || f->pMethods == NULL)
		return rc;
	for (i = 0; i < test_db_nio; i++)
		if (test_db_real_io[i] == f->pMethods)
			break;
	if (i == test_db_nio) {
		assert_true(test_db_nio < TEST_DB_IO_MAX);
		test_db_real_io[i] = f->pMethods;
		test_db_io[i] = *f->pMethods;
		test_db_io[i].xWrite = test_db_write;
		test_db_nio++;
	}
	f->pMethods = &test_db_io[i];
	return rc;
}

/* Make the faulty VFS SQLite's default, before any database is opened. */
static void
test_db_install_vfs(void)
{
	test_db_real_vfs = sqlite3_vfs_find(NULL);
	test_db_vfs = *test_db_real_vfs;
	test_db_vfs.zName = "drover-test-faulty";
	test_db_vfs.pNext = NULL;
	test_db_vfs.xOpen = test_db_open_file;
	if (sqlite3_vfs_register(&test_db_vfs, 1) != SQLITE_OK)
		abort();
}

static struct db *
test_db_open(void **state)
{
	char path[256], *cause = NULL;
	struct db *db;

	snprintf(path, sizeof path, "%s/state.db", (char *)*state);
	db = db_open(path, &cause);
	if (db == NULL)
		fail_msg("db_open: %s", cause);
	return db;
}

static void
test_db_put(struct db *db, const char *id, const char *state)
{
	json_t *obj = json_pack("{s:s, s:s}", "id", id, "state", state);

	db_put_app(db, id, "w1", obj);
	json_decref(obj);
}

/* The loaded apps as "id=state,..." in load order. */
static void
test_db_collect(const char *id, const char *node, json_t *obj, void *arg)
{
	char *out = arg;
	size_t len = strlen(out);

	assert_string_equal(node, "w1");
	snprintf(out + len, 256 - len, "%s%s=%s", len > 0 ? "," : "", id,
	    json_string_value(json_object_get(obj, "state")));
}

static void
test_db_transactions_are_numbered_and_committed(void **state)
{
	struct db *db = test_db_open(state);
	uint64_t first, second;

	/* Nothing written: the writes to come go into transaction 1. */
	first = db_txn(db);
	assert_false(db_dirty(db));
	assert_false(db_txn_committed(db, first));
	test_db_put(db, "a-1", "starting");
	assert_true(db_dirty(db));
	assert_int_equal(db_txn(db), first);
	/* More writes before the commit join the same transaction. */
	test_db_put(db, "a-2", "starting");
	assert_int_equal(db_txn(db), first);
	assert_false(db_txn_committed(db, first));
	assert_int_equal(db_commit(db), 0);
	assert_true(db_txn_committed(db, first));
	assert_false(db_dirty(db));

	/* The next write opens the next one, not committed with the first. */
	test_db_put(db, "a-1", "running");
	second = db_txn(db);
	assert_true(second > first);
	assert_false(db_txn_committed(db, second));
	assert_true(db_txn_committed(db, first));
	assert_int_equal(db_commit(db), 0);
	assert_true(db_txn_committed(db, second));
	/* A request that wrote nothing (0) never counts as committed. */
	assert_false(db_txn_committed(db, 0));
	db_close(db);
}

static void
test_db_commit_soon_wants_a_commit_once(void **state)
{
	struct db *db = test_db_open(state);

	/* Asked for with nothing written: nothing to commit. */
	db_commit_soon(db);
	assert_false(db_commit_wanted(db));
	test_db_put(db, "a-1", "starting");
	assert_true(db_commit_wanted(db));
	assert_int_equal(db_commit(db), 0);
	assert_false(db_commit_wanted(db));
	/* Writes after the commit wait for the delay again. */
	test_db_put(db, "a-1", "running");
	assert_true(db_dirty(db));
	assert_false(db_commit_wanted(db));
	db_close(db);
}

static void
test_db_app_rows_survive_a_reopen_and_deletion(void **state)
{
	struct db *db = test_db_open(state);
	char got[256] = "";

	test_db_put(db, "a-1", "starting");
	test_db_put(db, "b-1", "starting");
	test_db_put(db, "c-1", "starting");
	assert_int_equal(db_commit(db), 0);
	/* Replaced in place (launch order kept), and one deleted. */
	test_db_put(db, "a-1", "running");
	db_delete_app(db, "b-1");
	/* Deleting what is not there changes nothing. */
	db_delete_app(db, "nosuch-1");
	assert_int_equal(db_commit(db), 0);
	db_close(db);

	db = test_db_open(state);
	assert_int_equal(db_load_apps(db, test_db_collect, got), 0);
	assert_string_equal(got, "a-1=running,c-1=starting");
	db_close(db);
}

/* A master that stops commits what it wrote last. */
static void
test_db_close_commits_the_last_writes(void **state)
{
	struct db *db = test_db_open(state);
	char got[256] = "";

	test_db_put(db, "a-1", "starting");
	assert_int_equal(db_commit(db), 0);
	test_db_put(db, "a-1", "running");
	db_close(db);

	db = test_db_open(state);
	assert_int_equal(db_load_apps(db, test_db_collect, got), 0);
	assert_string_equal(got, "a-1=running");
	db_close(db);
}

/*
 * A commit the disk refuses: the turn's writes are not on disk and never
 * count as committed, and no later write is made, even once the disk has
 * room again, so none of them reaches the file without the ones before.
 */
static void
test_db_failed_commit_refuses_every_later_write(void **state)
{
	struct db *db = test_db_open(state);
	char got[256] = "";
	uint64_t txn, writes;
	const char *why;

	test_db_put(db, "a-1", "starting");
	assert_int_equal(db_commit(db), 0);
	assert_null(db_failure(db));

	test_db_put(db, "a-2", "starting");
	txn = db_txn(db);
	test_db_disk_full = true;
	assert_int_equal(db_commit(db), -1);
	test_db_disk_full = false;
	assert_non_null(why = db_failure(db));
	assert_non_null(strstr(why, "state.db"));
	assert_non_null(strstr(why, "cannot commit: database or disk is full"));
	assert_false(db_txn_committed(db, txn));
	assert_false(db_dirty(db));

	/* Refused, and counted: the API holds the answer to such a request. */
	writes = db_writes(db);
	test_db_put(db, "a-3", "starting");
	assert_int_equal(db_add_event(db, "api", "w1", "a-3", NULL), -1);
	assert_int_equal(db_writes(db), writes + 2);
	assert_false(db_dirty(db));
	assert_false(db_txn_committed(db, db_txn(db)));
	assert_int_equal(db_commit(db), -1);
	db_close(db);

	db = test_db_open(state);
	assert_null(db_failure(db));
	assert_int_equal(db_load_apps(db, test_db_collect, got), 0);
	assert_string_equal(got, "a-1=starting");
	db_close(db);
}

/*
 * A write that fails inside the turn's transaction (SQLITE_FULL at a
 * statement, here from a page limit): the writes before it in the turn are
 * taken back with it, and none after it runs on its own.
 */
static void
test_db_failed_write_takes_back_the_turn(void **state)
{
	struct db *db = test_db_open(state);
	char got[256] = "", *big;
	json_t *obj;

	test_db_put(db, "a-1", "starting");
	assert_int_equal(db_commit(db), 0);

	test_db_put(db, "b-1", "starting");
	assert_null(db_failure(db));
	/* No page beyond those the file has (the limit is the connection's). */
	assert_int_equal(db_exec(db, "PRAGMA max_page_count = 1"), 0);
	big = calloc(1, 65536);
	assert_non_null(big);
	memset(big, 'x', 65535);
	obj = json_pack("{s:s, s:s, s:s}", "id", "c-1", "state", "starting",
	    "args", big);
	db_put_app(db, "c-1", "w1", obj);
	json_decref(obj);
	free(big);
	assert_non_null(db_failure(db));
	assert_non_null(strstr(db_failure(db), "cannot write: database or "
	    "disk is full"));

	test_db_put(db, "d-1", "starting");
	assert_int_equal(db_commit(db), -1);
	db_close(db);

	db = test_db_open(state);
	assert_int_equal(db_load_apps(db, test_db_collect, got), 0);
	assert_string_equal(got, "a-1=starting");
	db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_db_transactions_are_numbered_and_committed,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_commit_soon_wants_a_commit_once, testdir_setup,
		    testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_app_rows_survive_a_reopen_and_deletion,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_close_commits_the_last_writes,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_failed_commit_refuses_every_later_write,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_failed_write_takes_back_the_turn,
		    testdir_setup, testdir_teardown),
	};

	test_db_install_vfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
