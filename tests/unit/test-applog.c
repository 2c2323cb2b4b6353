/* The app log: appends, rotation without loss, and reading with a tail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmem.h"
#include "worker/applog.h"
#include "testdir.h"

struct fixture {
	char *dir; /* testdir_make, removed after */
	char *path;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	if ((f->dir = testdir_make()) == NULL) {
		free(f);
		return -1;
	}
	f->path = xasprintf("%s/output.log", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = testdir_remove(f->dir);

	free(f->path);
	free(f);
	return rc;
}

/* Everything a reader returns from the current position, as a string. */
static char *
read_all(struct applog_reader *r)
{
	char *out = NULL, buf[7]; /* small on purpose: reads cross files */
	size_t len = 0;
	ssize_t n;

	while ((n = applog_reader_read(r, buf, sizeof buf)) > 0) {
		out = xrealloc(out, len + (size_t)n + 1);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	if (out == NULL)
		out = xstrdup("");
	else
		out[len] = '\0';
	return out;
}

static void
write_lines(struct applog *l, int from, int to)
{
	char line[32];

	for (int i = from; i <= to; i++) {
		snprintf(line, sizeof line, "line %03d\n", i);
		assert_int_equal(applog_write(l, line, strlen(line)), 0);
	}
}

static void
test_applog_reads_everything_and_tails(void **state)
{
	struct fixture *f = *state;
	struct applog_reader *r;
	struct applog *l;
	char *cause = NULL, *text;

	l = applog_open(f->path, 1 << 20, 3, &cause);
	assert_non_null(l);
	write_lines(l, 1, 5);

	r = applog_reader_open(f->path, 3, -1, &cause);
	assert_non_null(r);
	text = read_all(r);
	assert_string_equal(text, "line 001\nline 002\nline 003\nline 004\n"
	    "line 005\n");
	free(text);
	applog_reader_close(r);

	r = applog_reader_open(f->path, 3, 2, &cause);
	text = read_all(r);
	assert_string_equal(text, "line 004\nline 005\n");
	free(text);
	applog_reader_close(r);

	r = applog_reader_open(f->path, 3, 0, &cause);
	text = read_all(r);
	assert_string_equal(text, "");
	free(text);
	/* A follower at the end sees what is written next. */
	write_lines(l, 6, 6);
	text = read_all(r);
	assert_string_equal(text, "line 006\n");
	free(text);
	applog_reader_close(r);

	r = applog_reader_open(f->path, 3, 100, &cause);
	text = read_all(r);
	assert_int_equal(strlen(text), 6 * 9);
	free(text);
	applog_reader_close(r);
	applog_close(l);
}

static void
test_applog_rotates_without_loss(void **state)
{
	struct fixture *f = *state;
	struct applog_reader *r;
	struct applog *l;
	char *cause = NULL, *text, *expect, *name;

	/* 9 bytes a line, 45 a file: 5 lines each, 3 old files kept. */
	l = applog_open(f->path, 45, 3, &cause);
	assert_non_null(l);
	write_lines(l, 1, 20);
	name = xasprintf("%s.3", f->path);
	assert_int_equal(access(name, F_OK), 0);
	free(name);
	name = xasprintf("%s.4", f->path);
	assert_int_equal(access(name, F_OK), -1);
	free(name);

	/* The 20 lines fit in 4 files exactly: all of them, in order. */
	r = applog_reader_open(f->path, 3, -1, &cause);
	text = read_all(r);
	expect = xstrdup("");
	for (int i = 1; i <= 20; i++) {
		char *next = xasprintf("%sline %03d\n", expect, i);

		free(expect);
		expect = next;
	}
	assert_string_equal(text, expect);
	free(text);
	free(expect);

	/* A tail across files, and a reader that keeps its place while the
	 * files rotate under it. */
	applog_reader_close(r);
	r = applog_reader_open(f->path, 3, 7, &cause);
	write_lines(l, 21, 27);
	text = read_all(r);
	expect = xstrdup("");
	for (int i = 14; i <= 27; i++) {
		char *next = xasprintf("%sline %03d\n", expect, i);

		free(expect);
		expect = next;
	}
	assert_string_equal(text, expect);
	free(text);
	free(expect);
	applog_reader_close(r);
	applog_close(l);
}

static void
test_applog_reader_without_log(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;

	assert_null(applog_reader_open(f->path, 3, -1, &cause));
	assert_non_null(strstr(cause, "no log"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_applog_reads_everything_and_tails, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotates_without_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_without_log, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
