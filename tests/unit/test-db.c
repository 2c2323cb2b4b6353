/*
 * Unit tests for the state database's transactions (db.c): which
 * transaction a write goes into, when it counts as committed (what lets a
 * launch's 201 skip a commit of its own), the commit the loop is asked for,
 * and an app's row written, replaced and deleted across a reopen.
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

#include "master/db.h"
#include "testdir.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
