/*
 * Unit tests for the master's pending worker requests (pending.c): a reply
 * completes the request of its id exactly once, only when it comes from
 * the node the request went to; deadlines, a lost node and shutdown fail
 * the right ones; many in flight are each found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/msg.h"
#include "master/master.h"
#include "master/pending.h"

/* What the done callbacks saw, in order. */
static struct {
	int calls;
	uint32_t ids[4096];
	bool had_reply[4096];
	char why[4096][64];
} seen;

static void
test_pending_done(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	(void)m;
	assert_true(seen.calls < 4096);
	seen.ids[seen.calls] = p->id;
	seen.had_reply[seen.calls] = reply != NULL;
	snprintf(seen.why[seen.calls], sizeof seen.why[0], "%s",
	    why != NULL ? why : "");
	seen.calls++;
}

static int
test_pending_setup(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof seen);
	return 0;
}

static size_t
test_pending_listed(struct master *m)
{
	size_t n = 0;

	for (struct pending *p = m->pending; p != NULL; p = p->next)
		n++;
	return n;
}

static void
test_reply_completes_its_request_once(void **state)
{
	struct master m = { 0 };
	struct pending *a, *b;
	struct msg *r;
	uint32_t a_id;

	(void)state;
	a = pending_new(&m, "w1", 10000, test_pending_done, NULL, "web-1");
	b = pending_new(&m, "w1", 10000, test_pending_done, NULL, "web-2");
	assert_int_not_equal(a->id, b->id);
	assert_int_not_equal(a->id, 0);
	a_id = a->id;
	r = msg_new(MSG_LAUNCHED, a_id, NULL);
	assert_int_equal(pending_reply(&m, "w1", r), 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.ids[0], a_id);
	assert_true(seen.had_reply[0]);
	/* The same reply again: nothing waits for it any more. */
	assert_int_equal(pending_reply(&m, "w1", r), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(test_pending_listed(&m), 1);
	msg_free(r);
	pending_fail_all(&m, "stop");
	pending_fini(&m);
}

static void
test_reply_from_another_node_completes_nothing(void **state)
{
	struct master m = { 0 };
	struct pending *a;
	struct msg *r;

	(void)state;
	a = pending_new(&m, "w1", 10000, test_pending_done, NULL, "web-1");
	r = msg_new(MSG_LAUNCHED, a->id, NULL);
	assert_int_equal(pending_reply(&m, "w2", r), 0);
	assert_int_equal(seen.calls, 0);
	/* Still waiting for w1's own answer. */
	assert_int_equal(pending_reply(&m, "w1", r), 1);
	assert_int_equal(seen.calls, 1);
	msg_free(r);
	pending_fini(&m);
}

static void
test_deadline_and_lost_node_fail_only_theirs(void **state)
{
	struct master m = { 0 };
	struct pending *soon, *later, *other;
	uint32_t soon_id, other_id;

	(void)state;
	soon = pending_new(&m, "w1", 0, test_pending_done, NULL, NULL);
	later = pending_new(&m, "w1", 60000, test_pending_done, NULL, NULL);
	other = pending_new(&m, "w2", 60000, test_pending_done, NULL, NULL);
	soon_id = soon->id;
	other_id = other->id;
	(void)later;
	pending_expire(&m, soon->deadline + 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.ids[0], soon_id);
	assert_false(seen.had_reply[0]);
	assert_string_equal(seen.why[0], "the node did not answer in time");

	pending_node_lost(&m, "w1");
	assert_int_equal(seen.calls, 2);
	assert_string_equal(seen.why[1], "the node became unavailable");
	assert_int_equal(test_pending_listed(&m), 1);
	assert_int_equal(m.pending->id, other_id);

	pending_fail_all(&m, "the master is shutting down");
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.ids[2], other_id);
	assert_null(m.pending);
	pending_fini(&m);
}

/* A batch in flight, answered out of order: each found, each once. */
static void
test_many_in_flight_answered_out_of_order(void **state)
{
	struct master m = { 0 };
	uint32_t ids[2000];
	int n = 2000;

	(void)state;
	for (int i = 0; i < n; i++)
		ids[i] = pending_new(&m, "w1", 60000, test_pending_done, NULL,
		    NULL)->id;
	for (int i = 0; i < n; i++) {
		/* Odd ones first, then even ones, each from the end. */
		int k = i < n / 2 ? n - 1 - 2 * i : n - 2 - 2 * (i - n / 2);
		struct msg *r = msg_new(MSG_LAUNCHED, ids[k], NULL);

		assert_int_equal(pending_reply(&m, "w1", r), 1);
		assert_int_equal(seen.ids[seen.calls - 1], ids[k]);
		msg_free(r);
	}
	assert_int_equal(seen.calls, n);
	assert_null(m.pending);
	pending_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reply_completes_its_request_once,
		    test_pending_setup),
		cmocka_unit_test_setup(
		    test_reply_from_another_node_completes_nothing,
		    test_pending_setup),
		cmocka_unit_test_setup(
		    test_deadline_and_lost_node_fail_only_theirs,
		    test_pending_setup),
		cmocka_unit_test_setup(
		    test_many_in_flight_answered_out_of_order,
		    test_pending_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
