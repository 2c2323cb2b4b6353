/*
 * The app log: appends, rotation without loss (by renaming, and in place
 * while the app writes), and reading with a tail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
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

/*
 * A writer as an older version's shim was: it appends to path and rotates
 * by renaming (path -> .1 -> .2 ...) and reopening, when a line would take
 * the file past max. Readers must still follow such logs.
 */
struct old_writer {
	const char *path;
	int fd;
	off_t size, max;
	int keep;
};

static struct old_writer *
old_writer_open(const char *path, off_t max, int keep)
{
	struct old_writer *l = xcalloc(1, sizeof *l);

	l->path = path;
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_true(l->fd >= 0);
	l->max = max;
	l->keep = keep;
	return l;
}

static void
old_writer_close(struct old_writer *l)
{
	close(l->fd);
	free(l);
}

static void
write_lines(struct old_writer *l, int from, int to)
{
	char line[32], a[4096], b[4096];

	for (int i = from; i <= to; i++) {
		snprintf(line, sizeof line, "line %03d\n", i);
		if (l->size > 0 && l->size + (off_t)strlen(line) > l->max) {
			for (int k = l->keep; k >= 1; k--) {
				if (k == 1)
					snprintf(a, sizeof a, "%s", l->path);
				else
					snprintf(a, sizeof a, "%s.%d", l->path,
					    k - 1);
				snprintf(b, sizeof b, "%s.%d", l->path, k);
				rename(a, b);
			}
			close(l->fd);
			l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND |
			    O_CLOEXEC, 0640);
			assert_true(l->fd >= 0);
			l->size = 0;
		}
		assert_int_equal(write(l->fd, line, strlen(line)),
		    (ssize_t)strlen(line));
		l->size += (off_t)strlen(line);
	}
}

static void
test_applog_reads_everything_and_tails(void **state)
{
	struct fixture *f = *state;
	struct applog_reader *r;
	struct old_writer *l;
	char *cause = NULL, *text;

	l = old_writer_open(f->path, 1 << 20, 3);
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
	old_writer_close(l);
}

static void
test_applog_reader_follows_renamed_rotations(void **state)
{
	struct fixture *f = *state;
	struct applog_reader *r;
	struct old_writer *l;
	char *cause = NULL, *text, *expect, *name;

	/* 9 bytes a line, 45 a file: 5 lines each, 3 old files kept. */
	l = old_writer_open(f->path, 45, 3);
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
	old_writer_close(l);
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

/*
 * In-place rotation. The app's bytes are numbered lines of 10 bytes
 * ("000000042\n"): 10 does not divide a block, so chunks cut lines, and a
 * byte out of place or twice shows in the comparison.
 */
static char *
stream(off_t off, size_t len)
{
	char *buf = xmalloc(len + 1), rec[16];
	size_t i = 0;

	while (i < len) {
		off_t p = off + (off_t)i;

		snprintf(rec, sizeof rec, "%09lld\n",
		    (long long)(p / 10 % 1000000000));
		for (int j = (int)(p % 10); j < 10 && i < len; j++)
			buf[i++] = rec[j];
	}
	buf[len] = '\0';
	return buf;
}

/* The app: output.log opened O_APPEND, as its stdout would be. */
struct app {
	int fd;
	off_t written; /* bytes of the stream so far */
};

static void
app_open(struct app *a, const char *path)
{
	a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_true(a->fd != -1);
	a->written = 0;
}

static void
app_write(struct app *a, size_t len)
{
	char *buf = stream(a->written, len);

	assert_int_equal(util_write_all(a->fd, buf, len), 0);
	a->written += (off_t)len;
	free(buf);
}

static off_t
block_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_blksize;
}

/* The size of path.k (k 0: path), -1 if there is none. */
static off_t
file_size(const char *path, int k)
{
	struct stat st;
	char *name = k == 0 ? xstrdup(path) : xasprintf("%s.%d", path, k);
	int rc = stat(name, &st);

	free(name);
	return rc == 0 ? st.st_size : -1;
}

/* Asserts that path.keep .. path.1 then path hold stream[from, to). */
static void
assert_log_holds(const char *path, int keep, off_t from, off_t to)
{
	char *all = NULL, *name, *text, *expect;
	size_t len = 0, n;

	for (int k = keep; k >= 0; k--) {
		name = k == 0 ? xstrdup(path) : xasprintf("%s.%d", path, k);
		if ((text = util_read_file(name, 1 << 26, &n)) != NULL) {
			all = xrealloc(all, len + n + 1);
			memcpy(all + len, text, n);
			len += n;
			free(text);
		}
		free(name);
	}
	assert_int_equal(len, to - from);
	expect = stream(from, len);
	assert_memory_equal(all, expect, len);
	free(expect);
	free(all);
}

/* Read exactly len bytes; asserts they are stream[from, from + len). */
static void
read_some(struct applog_reader *r, off_t from, size_t len)
{
	char *buf = xmalloc(len + 1), *expect = stream(from, len);
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = applog_reader_read(r, buf + got, len - got > 7 ? 7 :
		    len - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(buf, expect, len);
	free(expect);
	free(buf);
}

/* Everything r returns from here on is stream[from, to). */
static void
assert_reads(struct applog_reader *r, off_t from, off_t to)
{
	char *text = read_all(r), *expect = stream(from, (size_t)(to - from));

	assert_int_equal(strlen(text), to - from);
	assert_memory_equal(text, expect, (size_t)(to - from));
	free(expect);
	free(text);
}

static void
rotate_ok(const char *path, off_t max, int keep, struct applog_rotation *rot)
{
	char *cause = NULL;

	if (applog_rotate_file(path, max, keep, rot, &cause) == -1)
		fail_msg("applog_rotate_file: %s", cause);
}

static void
test_applog_rotate_file_leaves_small_log(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct app a;
	off_t blk;

	app_open(&a, f->path);
	blk = block_size(f->path);
	/* Over max, but a single block cannot be cut. */
	app_write(&a, (size_t)blk);
	rotate_ok(f->path, blk / 4, 3, &rot);
	assert_int_equal(rot.moved, 0);
	assert_int_equal(file_size(f->path, 1), -1);

	app_write(&a, (size_t)blk);
	rotate_ok(f->path, 2 * blk, 3, &rot);
	assert_int_equal(rot.moved, 0);
	assert_int_equal(rot.files, 0);
	assert_int_equal(file_size(f->path, 1), -1);
	assert_log_holds(f->path, 3, 0, a.written);
	close(a.fd);
}

static void
test_applog_rotate_file_keeps_what_the_app_appends(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct app a;
	off_t blk;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(2 * blk + 1000));
	rotate_ok(f->path, 2 * blk, 3, &rot);
	assert_int_equal(rot.moved, 2 * blk);
	assert_int_equal(rot.dropped, 0);
	assert_int_equal(rot.files, 1);
	assert_false(rot.truncated);
	assert_int_equal(file_size(f->path, 1), 2 * blk);
	assert_int_equal(file_size(f->path, 0), 1000);
	assert_log_holds(f->path, 3, 0, a.written);

	/* The app's descriptor writes on at the new end. */
	app_write(&a, 3000);
	rotate_ok(f->path, 2 * blk, 3, &rot);
	assert_int_equal(rot.moved, 0);
	app_write(&a, (size_t)(2 * blk));
	rotate_ok(f->path, 2 * blk, 3, &rot);
	assert_int_equal(rot.moved, 2 * blk);
	assert_int_equal(rot.files, 1);
	assert_int_equal(file_size(f->path, 2), 2 * blk);
	assert_int_equal(file_size(f->path, 1), 2 * blk);
	assert_int_equal(file_size(f->path, 0), 4000);
	app_write(&a, 500);
	assert_log_holds(f->path, 3, 0, a.written);
	close(a.fd);
}

static void
test_applog_rotate_file_drops_beyond_keep(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	char *name = xasprintf("%s.1", f->path);
	struct stat st;
	struct app a;
	off_t blk;
	int old;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)blk + 10);
	rotate_ok(f->path, blk, 3, &rot);
	assert_int_equal(rot.files, 1);
	assert_true((old = open(name, O_RDONLY | O_CLOEXEC)) != -1);

	/* Ten chunks at once, three kept: the seven oldest are never copied. */
	app_write(&a, (size_t)(10 * blk));
	rotate_ok(f->path, blk, 3, &rot);
	assert_int_equal(rot.moved, 10 * blk);
	assert_int_equal(rot.dropped, 7 * blk);
	assert_int_equal(rot.files, 3);
	for (int k = 1; k <= 3; k++)
		assert_int_equal(file_size(f->path, k), blk);
	for (int k = 4; k <= APPLOG_MAX_KEEP + 1; k++)
		assert_int_equal(file_size(f->path, k), -1);
	assert_int_equal(file_size(f->path, 0), 10);
	assert_log_holds(f->path, 3, a.written - 3 * blk - 10, a.written);
	/* The old .1 went beyond keep: removed. */
	assert_int_equal(fstat(old, &st), 0);
	assert_int_equal(st.st_nlink, 0);
	close(old);
	free(name);
	close(a.fd);
}

static void
test_applog_rotate_file_keep_zero(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct app a;
	off_t blk;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(3 * blk + 5));
	rotate_ok(f->path, blk, 0, &rot);
	assert_int_equal(rot.moved, 3 * blk);
	assert_int_equal(rot.dropped, 3 * blk);
	assert_int_equal(rot.files, 0);
	assert_int_equal(file_size(f->path, 1), -1);
	app_write(&a, 7);
	assert_log_holds(f->path, 0, 3 * blk, a.written);
	close(a.fd);
}

static void
test_applog_rotate_file_rounds_max_down(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	char *other = xasprintf("%s/other.log", f->dir);
	struct app a;
	off_t blk;

	/* Two blocks and a half make chunks of two blocks. */
	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(7 * blk));
	rotate_ok(f->path, 2 * blk + blk / 2, 5, &rot);
	assert_int_equal(rot.moved, 6 * blk);
	assert_int_equal(rot.files, 3);
	for (int k = 1; k <= 3; k++)
		assert_int_equal(file_size(f->path, k), 2 * blk);
	assert_int_equal(file_size(f->path, 4), -1);
	assert_int_equal(file_size(f->path, 0), blk);
	assert_log_holds(f->path, 5, 0, a.written);
	close(a.fd);

	/* Below one block: chunks of one block. */
	app_open(&a, other);
	app_write(&a, (size_t)(blk + blk / 2));
	rotate_ok(other, blk / 2, 5, &rot);
	assert_int_equal(rot.moved, blk);
	assert_int_equal(file_size(other, 1), blk);
	assert_int_equal(file_size(other, 0), blk / 2);
	assert_log_holds(other, 5, 0, a.written);
	close(a.fd);
	free(other);
}

static void
test_applog_reader_follows_rotation_in_place(void **state)
{
	struct fixture *f = *state;
	struct applog_reader *before, *after, *atend, *old;
	struct applog_rotation rot;
	char *cause = NULL;
	struct app a;
	off_t blk, mid;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(2 * blk + 1000));
	/*
	 * Readers in the current file, before and after the cut, and at the
	 * end of what is written.
	 */
	before = applog_reader_open(f->path, 2, -1, &cause);
	after = applog_reader_open(f->path, 2, -1, &cause);
	atend = applog_reader_open(f->path, 2, -1, &cause);
	assert_non_null(before);
	assert_non_null(after);
	assert_non_null(atend);
	read_some(before, 0, 3000);
	read_some(after, 0, (size_t)(2 * blk + 500));
	read_some(atend, 0, (size_t)a.written);
	rotate_ok(f->path, 2 * blk, 2, &rot);
	assert_int_equal(rot.moved, 2 * blk);
	assert_int_equal(applog_reader_rotated(before, &rot), 0);
	assert_int_equal(applog_reader_rotated(after, &rot), 0);
	assert_int_equal(applog_reader_rotated(atend, &rot), 0);
	app_write(&a, 1234);
	read_some(before, 3000, 100);
	read_some(after, 2 * blk + 500, 100);
	assert_reads(atend, 2 * blk + 1000, a.written);

	/*
	 * A reader still in an old file: the new one comes between that and
	 * the current one.
	 */
	old = applog_reader_open(f->path, 2, -1, &cause);
	assert_non_null(old);
	read_some(old, 0, 100);
	mid = a.written;
	app_write(&a, (size_t)(2 * blk));
	rotate_ok(f->path, 2 * blk, 2, &rot);
	assert_int_equal(rot.moved, 2 * blk);
	assert_int_equal(rot.files, 1);
	assert_int_equal(applog_reader_rotated(old, &rot), 0);
	assert_int_equal(applog_reader_rotated(before, &rot), 0);
	assert_int_equal(applog_reader_rotated(after, &rot), 0);
	assert_int_equal(applog_reader_rotated(atend, &rot), 0);
	app_write(&a, 10);
	assert_reads(old, 100, a.written);
	assert_reads(before, 3100, a.written);
	assert_reads(after, 2 * blk + 600, a.written);
	assert_reads(atend, mid, a.written);
	applog_reader_close(old);
	applog_reader_close(before);
	applog_reader_close(after);
	applog_reader_close(atend);
	close(a.fd);
}

static void
test_applog_reader_behind_what_is_kept(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct applog_reader *r;
	char *cause = NULL;
	struct app a;
	off_t blk;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)blk + 100);
	r = applog_reader_open(f->path, 1, -1, &cause);
	assert_non_null(r);
	read_some(r, 0, 50);
	app_write(&a, (size_t)(4 * blk));
	rotate_ok(f->path, blk, 1, &rot);
	assert_int_equal(rot.dropped, 4 * blk);
	assert_int_equal(rot.files, 1);
	/* Its next bytes were dropped: it goes on with the oldest left. */
	assert_int_equal(applog_reader_rotated(r, &rot), 0);
	assert_reads(r, 4 * blk, a.written);
	applog_reader_close(r);
	close(a.fd);
}

static void
test_applog_reader_tails_across_in_place_rotation(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct applog_reader *r;
	char *cause = NULL;
	struct app a;
	off_t blk, lines;

	app_open(&a, f->path);
	blk = block_size(f->path);
	/* Whole lines, three chunks and a half. */
	app_write(&a, (size_t)((3 * blk + blk / 2) / 10 * 10));
	rotate_ok(f->path, blk, 3, &rot);
	assert_int_equal(rot.files, 3);

	/* The first lines wanted start in .2, cut across two files. */
	lines = (a.written - blk - blk / 2) / 10;
	r = applog_reader_open(f->path, 3, (long)lines, &cause);
	assert_non_null(r);
	assert_reads(r, a.written - lines * 10, a.written);
	applog_reader_close(r);

	r = applog_reader_open(f->path, 3, 1000000, &cause);
	assert_non_null(r);
	assert_reads(r, 0, a.written);
	applog_reader_close(r);
	close(a.fd);
}

static void
test_applog_rotate_file_failures(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct applog_reader *r;
	char *cause = NULL, *name;
	struct app a;
	off_t blk;
	int fd;

	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(2 * blk + 10));
	/* An old rotated file that cannot be removed: a directory. */
	name = xasprintf("%s.1", f->path);
	assert_int_equal(mkdir(name, 0700), 0);
	free(name);
	name = xasprintf("%s.1/x", f->path);
	assert_true((fd = open(name, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
	assert_int_equal(applog_rotate_file(f->path, blk, 1, &rot, &cause),
	    -1);
	assert_non_null(strstr(cause, "cannot move"));
	free(cause);
	assert_int_equal(rot.moved, 0);
	assert_log_holds(f->path, 0, 0, a.written);
	assert_int_equal(unlink(name), 0);
	*strrchr(name, '/') = '\0';
	assert_int_equal(rmdir(name), 0);
	free(name);

	/* A reader whose next bytes went into a file that is gone. */
	r = applog_reader_open(f->path, 2, -1, &cause);
	assert_non_null(r);
	read_some(r, 0, 100);
	rotate_ok(f->path, blk, 2, &rot);
	assert_int_equal(rot.files, 2);
	name = xasprintf("%s.2", f->path);
	assert_int_equal(unlink(name), 0);
	free(name);
	assert_int_equal(applog_reader_rotated(r, &rot), -1);
	assert_reads(r, 2 * blk, a.written);
	applog_reader_close(r);
	close(a.fd);
}

/*
 * The app writes while the rotations run: a child writes bursts of lines,
 * one per token, while the test rotates and a reader follows. Between the
 * reader's read to the end and the next rotation come at most two bursts,
 * less than the kept chunks: the reader never falls behind what is kept,
 * and must see every byte once. Long bursts make it likely that rotations
 * land in one (the count is printed, a busy machine makes it vary).
 */
#define BURST_LINES 2000
#define ROUNDS 40
#define KEEP APPLOG_MAX_KEEP

/*
 * The child. No cmocka asserts here: they would jump into the child's copy
 * of the test runner.
 */
static void
burst_writer(const char *path, int tokens, int acks)
{
	off_t written = 0;
	char token, *line;
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		_exit(1);
	while (read(tokens, &token, 1) == 1) {
		for (int i = 0; i < BURST_LINES; i++) {
			line = stream(written, 10);
			if (util_write_all(fd, line, 10) == -1)
				_exit(1);
			free(line);
			written += 10;
		}
		if (write(acks, "a", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void
test_applog_rotate_file_with_concurrent_writer(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct applog_reader *r = NULL;
	char *cause = NULL, *seen, *text, token;
	int tokens[2], acks[2], status, rotations = 0, during = 0;
	size_t nseen = 0;
	off_t blk, written = 0, kept = 0;
	struct stat st, st2;
	pid_t pid;

	assert_int_equal(pipe(tokens), 0);
	assert_int_equal(pipe(acks), 0);
	assert_int_equal(close(open(f->path, O_WRONLY | O_CREAT, 0640)), 0);
	blk = block_size(f->path);
	assert_true(BURST_LINES * 10 * 2 <= blk * KEEP);
	if ((pid = fork()) == 0) {
		close(tokens[1]);
		close(acks[0]);
		burst_writer(f->path, tokens[0], acks[1]);
	}
	assert_true(pid > 0);
	close(tokens[0]);
	close(acks[1]);
	/* Allocated after the fork: under valgrind the child's exit checks
	 * for leaks too. */
	seen = xstrdup("");
	r = applog_reader_open(f->path, KEEP, -1, &cause);
	assert_non_null(r);
	for (int round = 0; round < ROUNDS; round++) {
		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(write(tokens[1], "t", 1), 1);
		/* Rotate once the burst has started, to cut while it runs. */
		for (int spin = 0; spin < 100000; spin++) {
			assert_int_equal(stat(f->path, &st2), 0);
			if (st2.st_size != st.st_size)
				break;
		}
		rotate_ok(f->path, blk, KEEP, &rot);
		assert_false(rot.truncated);
		assert_int_equal(stat(f->path, &st), 0);
		if (rot.moved > 0) {
			rotations++;
			if (st.st_size + rot.moved > st2.st_size)
				during++;
		}
		assert_int_equal(applog_reader_rotated(r, &rot), 0);
		text = read_all(r);
		seen = xrealloc(seen, nseen + strlen(text) + 1);
		memcpy(seen + nseen, text, strlen(text) + 1);
		nseen += strlen(text);
		free(text);
		assert_int_equal(read(acks[0], &token, 1), 1);
		written += BURST_LINES * 10;
	}
	close(tokens[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(acks[0]);
	text = read_all(r);
	seen = xrealloc(seen, nseen + strlen(text) + 1);
	memcpy(seen + nseen, text, strlen(text) + 1);
	nseen += strlen(text);
	free(text);
	applog_reader_close(r);
	print_message("%d rotations, %d while the app wrote\n", rotations,
	    during);
	assert_true(rotations > 0);

	/* The files hold the end of it all, from a chunk's start. */
	for (int k = 0; k <= KEEP; k++)
		kept += file_size(f->path, k) == -1 ? 0 : file_size(f->path, k);
	assert_int_equal((written - kept) % blk, 0);
	assert_log_holds(f->path, KEEP, written - kept, written);
	text = stream(0, (size_t)written);
	assert_int_equal(nseen, written);
	assert_memory_equal(seen, text, nseen);
	free(text);
	free(seen);
}

/* A fixture in /dev/shm, left empty (no dir) when that is not tmpfs. */
static int
setup_shm(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct statfs sfs;

	if (statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC) {
		f->dir = xstrdup("/dev/shm/drover-test.XXXXXX");
		if (mkdtemp(f->dir) == NULL) {
			free(f->dir);
			free(f);
			return -1;
		}
		f->path = xasprintf("%s/output.log", f->dir);
	}
	*state = f;
	return 0;
}

/* rotate_ok, with what goes to stderr meanwhile written to errfd. */
static void
rotate_catching(int errfd, const char *path, off_t max, int keep,
    struct applog_rotation *rot)
{
	char *cause = NULL;
	int saved = dup(2), rc;

	assert_true(saved != -1);
	assert_int_equal(dup2(errfd, 2), 2);
	rc = applog_rotate_file(path, max, keep, rot, &cause);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	if (rc == -1)
		fail_msg("applog_rotate_file: %s", cause);
}

static void
test_applog_rotate_file_copytruncate_on_tmpfs(void **state)
{
	struct fixture *f = *state;
	struct applog_rotation rot;
	struct applog_reader *r;
	char *cause = NULL, *other, *errpath, *text, *p;
	int errfd, warnings = 0;
	struct app a;
	off_t blk;

	if (f->dir == NULL) {
		print_message("/dev/shm is not tmpfs: nothing to test\n");
		skip();
	}
	errpath = xasprintf("%s/stderr", f->dir);
	errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(errfd != -1);
	app_open(&a, f->path);
	blk = block_size(f->path);
	app_write(&a, (size_t)(3 * blk + 100));
	r = applog_reader_open(f->path, 2, -1, &cause);
	assert_non_null(r);
	read_some(r, 0, 100);

	/* The chunks as with COLLAPSE_RANGE, the rest onto .1. */
	rotate_catching(errfd, f->path, blk, 2, &rot);
	assert_true(rot.truncated);
	assert_int_equal(rot.moved, 3 * blk + 100);
	assert_int_equal(rot.dropped, blk);
	assert_int_equal(rot.files, 2);
	assert_int_equal(file_size(f->path, 2), blk);
	assert_int_equal(file_size(f->path, 1), blk + 100);
	assert_int_equal(file_size(f->path, 0), 0);
	assert_int_equal(applog_reader_rotated(r, &rot), 0);
	/* The app's next write lands at the new start (O_APPEND). */
	app_write(&a, 500);
	assert_int_equal(file_size(f->path, 0), 500);
	assert_log_holds(f->path, 2, blk, a.written);
	assert_reads(r, blk, a.written);

	app_write(&a, (size_t)(2 * blk));
	rotate_catching(errfd, f->path, blk, 2, &rot);
	assert_true(rot.truncated);
	assert_int_equal(rot.files, 2);
	assert_log_holds(f->path, 2, a.written - 2 * blk - 500, a.written);
	assert_int_equal(applog_reader_rotated(r, &rot), 0);
	assert_reads(r, a.written - 2 * blk, a.written);
	applog_reader_close(r);
	close(a.fd);

	/* Nothing kept: all goes. */
	other = xasprintf("%s/other.log", f->dir);
	app_open(&a, other);
	app_write(&a, (size_t)(2 * blk + 1));
	rotate_catching(errfd, other, blk, 0, &rot);
	assert_true(rot.truncated);
	assert_int_equal(rot.moved, 2 * blk + 1);
	assert_int_equal(rot.dropped, 2 * blk + 1);
	assert_int_equal(rot.files, 0);
	assert_int_equal(file_size(other, 0), 0);
	assert_int_equal(file_size(other, 1), -1);
	close(a.fd);
	free(other);

	/* Said once, not at every rotation. */
	close(errfd);
	text = util_read_file(errpath, 1 << 20, NULL);
	assert_non_null(text);
	for (p = text; (p = strstr(p, "copy-then-truncate")) != NULL; p++)
		warnings++;
	assert_int_equal(warnings, 1);
	free(text);
	free(errpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_applog_reads_everything_and_tails, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_follows_renamed_rotations, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_without_log, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_leaves_small_log, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_keeps_what_the_app_appends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_drops_beyond_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_keep_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_rounds_max_down, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_follows_rotation_in_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_behind_what_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_reader_tails_across_in_place_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_with_concurrent_writer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_applog_rotate_file_copytruncate_on_tmpfs, setup_shm,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
