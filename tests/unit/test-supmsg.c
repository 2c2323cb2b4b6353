/*
 * The worker-supervisor messages: each one built and read back, and every
 * way a message can be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"
#include "worker/supmsg.h"

/* Split a copy of what m holds into out. */
static int
test_supmsg_reread(const struct supmsg *m, struct supmsg *out, char **cause)
{
	return supmsg_split(out, xmemdup(m->data, m->len), m->len, cause);
}

static void
test_supmsg_launch_round_trip(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo 'a b'", "", NULL };
	char *envp[] = { "PATH=/bin", "EMPTY=", NULL };
	struct supmsg_launch l = { "sh-1", "/w/apps/sh-1", "/bin/sh", NULL,
		argv, envp }, got;
	struct supmsg m = { 0 }, r = { 0 };
	char *cause = NULL;

	(void)state;
	supmsg_format_launch(&m, &l);
	assert_int_equal(test_supmsg_reread(&m, &r, &cause), 0);
	assert_string_equal(supmsg_name(&r), "launch");
	assert_int_equal(supmsg_parse_launch(&r, &got, &cause), 0);
	assert_string_equal(got.id, "sh-1");
	assert_string_equal(got.dir, "/w/apps/sh-1");
	assert_string_equal(got.path, "/bin/sh");
	/* No cwd: "", the app's dir. */
	assert_string_equal(got.cwd, "");
	for (int i = 0; i < 4; i++)
		assert_string_equal(got.argv[i], argv[i]);
	assert_null(got.argv[4]);
	assert_string_equal(got.envp[0], "PATH=/bin");
	assert_string_equal(got.envp[1], "EMPTY=");
	assert_null(got.envp[2]);
	supmsg_launch_clear(&got);
	supmsg_clear(&r);
	supmsg_clear(&m);

	/* No environment at all, a cwd. */
	envp[0] = NULL;
	l.cwd = "/tmp";
	supmsg_format_launch(&m, &l);
	assert_int_equal(test_supmsg_reread(&m, &r, &cause), 0);
	assert_int_equal(supmsg_parse_launch(&r, &got, &cause), 0);
	assert_string_equal(got.cwd, "/tmp");
	assert_null(got.envp[0]);
	supmsg_launch_clear(&got);
	supmsg_clear(&r);
	supmsg_clear(&m);
}

static void
test_supmsg_end_round_trip(void **state)
{
	struct supmsg_end e = { "app-7", 4242, 3 << 8, { 1500000, 250, 20480 },
		1767000000123LL, { 9000000000LL, 7, 204800 } }, got;
	struct supmsg m = { 0 }, r = { 0 };
	char *cause = NULL;

	(void)state;
	supmsg_format_end(&m, &e);
	assert_int_equal(test_supmsg_reread(&m, &r, &cause), 0);
	assert_int_equal(supmsg_parse_end(&r, &got, &cause), 0);
	assert_string_equal(got.id, "app-7");
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.status, 3 << 8);
	assert_int_equal(got.usage.user_us, 1500000);
	assert_int_equal(got.usage.sys_us, 250);
	assert_int_equal(got.usage.maxrss_kb, 20480);
	assert_int_equal(got.ended_at, 1767000000123LL);
	assert_int_equal(got.children.user_us, 9000000000LL);
	assert_int_equal(got.children.sys_us, 7);
	assert_int_equal(got.children.maxrss_kb, 204800);
	supmsg_clear(&r);
	supmsg_clear(&m);
}

/* Bytes that are no message at all. */
static void
test_supmsg_split_refuses(void **state)
{
	struct supmsg m = { 0 };
	char *cause = NULL, *many;
	size_t n = SUPMSG_FIELDS_MAX + 1;

	(void)state;
	assert_int_equal(supmsg_split(&m, xmemdup("", 1), 0, &cause), -1);
	assert_non_null(strstr(cause, "empty"));
	free(cause);
	/* The last field not ended. */
	assert_int_equal(supmsg_split(&m, xmemdup("ended\0x", 7), 7, &cause),
	    -1);
	free(cause);
	/* Too many fields. */
	many = xcalloc(n, 1);
	assert_int_equal(supmsg_split(&m, many, n, &cause), -1);
	assert_non_null(strstr(cause, "fields"));
	free(cause);
	/* Just enough: accepted. */
	assert_int_equal(supmsg_split(&m, xcalloc(n - 1, 1), n - 1, &cause), 0);
	assert_int_equal(m.nfields, SUPMSG_FIELDS_MAX);
	supmsg_clear(&m);
}

/* Split text of n bytes (NULs inside) and parse it as a launch: rc. */
static int
test_supmsg_launch_of(const char *text, size_t n)
{
	struct supmsg m = { 0 };
	struct supmsg_launch l;
	char *cause = NULL;
	int rc = -1;

	if (supmsg_split(&m, xmemdup(text, n), n, &cause) == 0)
		rc = supmsg_parse_launch(&m, &l, &cause);
	if (rc == 0)
		supmsg_launch_clear(&l);
	else
		assert_non_null(cause);
	free(cause);
	supmsg_clear(&m);
	return rc;
}

static void
test_supmsg_launch_refuses(void **state)
{
	(void)state;
#define L(s) test_supmsg_launch_of(s, sizeof(s) - 1)
	assert_int_equal(L("launch\0id\0/d\0/p\0\0001\0/p\0"), 0);
	/* argc 0: no argv[0]. */
	assert_int_equal(L("launch\0id\0/d\0/p\0\0000\0/p\0"), -1);
	/* argc past the fields there are. */
	assert_int_equal(L("launch\0id\0/d\0/p\0\0002\0/p\0"), -1);
	assert_int_equal(L("launch\0id\0/d\0/p\0\0-1\0/p\0"), -1);
	assert_int_equal(L("launch\0id\0/d\0/p\0\0x\0/p\0"), -1);
	assert_int_equal(L("launch\0id\0/d\0/p\0\0001 \0/p\0"), -1);
	/* Too few fields, or another message. */
	assert_int_equal(L("launch\0id\0/d\0/p\0\0001\0"), -1);
	assert_int_equal(L("forget\0id\0/d\0/p\0\0001\0/p\0"), -1);
#undef L
}

static int
test_supmsg_end_of(const char *text, size_t n)
{
	struct supmsg m = { 0 };
	struct supmsg_end e;
	char *cause = NULL;
	int rc = -1;

	if (supmsg_split(&m, xmemdup(text, n), n, &cause) == 0)
		rc = supmsg_parse_end(&m, &e, &cause);
	if (rc == -1)
		assert_non_null(cause);
	free(cause);
	supmsg_clear(&m);
	return rc;
}

static void
test_supmsg_end_refuses(void **state)
{
	(void)state;
#define E(s) test_supmsg_end_of(s, sizeof(s) - 1)
	assert_int_equal(E("ended\0a\0005\0000\0001\0002\0003\0004\0005\0006\0007\0"), 0);
	/* A field short, one too many. */
	assert_int_equal(E("ended\0a\0005\0000\0001\0002\0003\0004\0005\0006\0"), -1);
	assert_int_equal(E("ended\0a\0005\0000\0001\0002\0003\0004\0005\0006\0007\0008\0"), -1);
	/* pid 0 or 1 is never an app's; negative times; not numbers. */
	assert_int_equal(E("ended\0a\0001\0000\0001\0002\0003\0004\0005\0006\0007\0"), -1);
	assert_int_equal(E("ended\0a\0005\0000\0-1\0002\0003\0004\0005\0006\0007\0"), -1);
	assert_int_equal(E("ended\0a\0005\0000\0001\0002\0003\0x\0005\0006\0007\0"), -1);
	assert_int_equal(E("ended\0a\0005\0000\0001\0002\0003\0004\0005\0006\0" "99999999999999999999\0"), -1);
	assert_int_equal(E("live\0a\0005\0000\0001\0002\0003\0004\0005\0006\0007\0"), -1);
#undef E
}

/* Numbers are whole fields in range; missing fields say so. */
static void
test_supmsg_numbers(void **state)
{
	struct supmsg m = { 0 };
	unsigned long long u;
	long long v;
	char *cause = NULL;

	(void)state;
	supmsg_add(&m, "x");
	supmsg_add(&m, "12");
	supmsg_add(&m, "");
	supmsg_addf(&m, "%llu", 18446744073709551615ULL);
	assert_int_equal(supmsg_split(&m, xmemdup(m.data, m.len), m.len, &cause),
	    0);
	assert_int_equal(supmsg_get_ll(&m, 1, 0, 12, &v, &cause), 0);
	assert_int_equal(v, 12);
	assert_int_equal(supmsg_get_ll(&m, 1, 0, 11, &v, &cause), -1);
	free(cause);
	assert_int_equal(supmsg_get_ll(&m, 2, 0, 11, &v, &cause), -1);
	free(cause);
	assert_int_equal(supmsg_get_ll(&m, 9, 0, 11, &v, &cause), -1);
	assert_non_null(strstr(cause, "no field 9"));
	free(cause);
	assert_int_equal(supmsg_get_ull(&m, 3, &u, &cause), 0);
	assert_true(u == 18446744073709551615ULL);
	assert_int_equal(supmsg_get_ull(&m, 2, &u, &cause), -1);
	free(cause);
	supmsg_clear(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supmsg_launch_round_trip),
		cmocka_unit_test(test_supmsg_end_round_trip),
		cmocka_unit_test(test_supmsg_split_refuses),
		cmocka_unit_test(test_supmsg_launch_refuses),
		cmocka_unit_test(test_supmsg_end_refuses),
		cmocka_unit_test(test_supmsg_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
