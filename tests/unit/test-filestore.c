/* The master's copy of artifact files: writing, verification, leftovers, gc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/filestore.h"
#include "testdir.h"

struct test_fs {
	char *dir; /* testdir_make, removed after */
	struct filestore *fs;
};

static int
test_fs_setup(void **state)
{
	struct test_fs *t = calloc(1, sizeof *t);
	char *cause = NULL;

	if (t == NULL || (t->dir = testdir_make()) == NULL)
		return -1;
	if ((t->fs = filestore_open(t->dir, &cause)) == NULL) {
		fprintf(stderr, "filestore_open: %s\n", cause);
		free(cause);
		return -1;
	}
	*state = t;
	return 0;
}

static int
test_fs_teardown(void **state)
{
	struct test_fs *t = *state;
	int rc;

	filestore_free(t->fs);
	rc = testdir_remove(t->dir);
	free(t);
	return rc;
}

/* The BLAKE2b-256 of data, in hex. */
static void
test_fs_hash(const void *data, size_t len, char out[FILESTORE_HASH_LEN + 1])
{
	unsigned char d[32];

	crypto_generichash(d, sizeof d, data, len, NULL, 0);
	sodium_bin2hex(out, FILESTORE_HASH_LEN + 1, d, sizeof d);
}

static size_t
test_fs_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static size_t
test_fs_tmp_count(struct test_fs *t)
{
	char path[512];

	snprintf(path, sizeof path, "%s/tmp", t->dir);
	return test_fs_count(path);
}

/* Write data as hash through a writer; returns what commit returned. */
static int
test_fs_put(struct test_fs *t, const char *hash, const void *data, size_t len,
    size_t piece, char **cause)
{
	struct filestore_writer *w = filestore_begin(t->fs, hash, len, cause);
	const char *p = data;

	assert_non_null(w);
	for (size_t off = 0; off < len; off += piece)
		assert_int_equal(filestore_write(w, p + off, len - off < piece ?
		    len - off : piece, cause), 0);
	return filestore_commit(w, cause);
}

static void
test_write_then_read_back(void **state)
{
	struct test_fs *t = *state;
	size_t len = (9u << 20) + 123; /* past the writeback step */
	char *data = malloc(len), *back = malloc(len);
	char hash[FILESTORE_HASH_LEN + 1], *cause = NULL;
	int fd;

	assert_non_null(data);
	assert_non_null(back);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7 + i / 4096);
	test_fs_hash(data, len, hash);
	assert_false(filestore_has(t->fs, hash));
	assert_int_equal(test_fs_put(t, hash, data, len, 256 * 1024, &cause), 0);
	assert_true(filestore_has(t->fs, hash));
	assert_int_equal(test_fs_tmp_count(t), 0);
	fd = filestore_open_file(t->fs, hash, &cause);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, len, 0), (ssize_t)len);
	assert_memory_equal(back, data, len);
	close(fd);
	/* The same file again (two uploads racing) is fine. */
	assert_int_equal(test_fs_put(t, hash, data, len, len, &cause), 0);
	assert_true(filestore_has(t->fs, hash));
	free(data);
	free(back);
}

static void
test_empty_file(void **state)
{
	struct test_fs *t = *state;
	char hash[FILESTORE_HASH_LEN + 1], *cause = NULL;
	struct filestore_writer *w;

	test_fs_hash("", 0, hash);
	assert_non_null(w = filestore_begin(t->fs, hash, 0, &cause));
	assert_int_equal(filestore_commit(w, &cause), 0);
	assert_true(filestore_has(t->fs, hash));
}

static void
test_wrong_content_is_not_kept(void **state)
{
	struct test_fs *t = *state;
	char hash[FILESTORE_HASH_LEN + 1], *cause = NULL;

	test_fs_hash("right", 5, hash);
	assert_int_equal(test_fs_put(t, hash, "wrong", 5, 2, &cause), -1);
	assert_non_null(strstr(cause, "hash mismatch"));
	free(cause);
	assert_false(filestore_has(t->fs, hash));
	assert_int_equal(test_fs_tmp_count(t), 0);
}

static void
test_short_or_long_is_refused(void **state)
{
	struct test_fs *t = *state;
	char hash[FILESTORE_HASH_LEN + 1], *cause = NULL;
	struct filestore_writer *w;

	test_fs_hash("abcdef", 6, hash);
	/* Short: refused at commit. */
	assert_non_null(w = filestore_begin(t->fs, hash, 6, &cause));
	assert_int_equal(filestore_write(w, "abc", 3, &cause), 0);
	assert_int_equal(filestore_commit(w, &cause), -1);
	assert_non_null(strstr(cause, "3 of 6 bytes"));
	free(cause);
	cause = NULL;
	/* Long: refused at the write, aborted after. */
	assert_non_null(w = filestore_begin(t->fs, hash, 6, &cause));
	assert_int_equal(filestore_write(w, "abcdefg", 7, &cause), -1);
	assert_non_null(strstr(cause, "more than"));
	free(cause);
	filestore_abort(w);
	filestore_abort(NULL);
	assert_false(filestore_has(t->fs, hash));
	assert_int_equal(test_fs_tmp_count(t), 0);
}

static void
test_bad_hashes_are_refused(void **state)
{
	struct test_fs *t = *state;
	static const char *const bad[] = { "", "abc", "../../etc/passwd",
		"ABCDEF0000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000000a",
		"000000000000000000000000000000000000000000000000000000000000000/",
		"tmp", NULL };
	char *cause = NULL;

	for (size_t i = 0; bad[i] != NULL; i++) {
		assert_false(filestore_hash_valid(bad[i]));
		assert_false(filestore_has(t->fs, bad[i]));
		assert_null(filestore_begin(t->fs, bad[i], 1, &cause));
		free(cause);
		cause = NULL;
		assert_int_equal(filestore_open_file(t->fs, bad[i], &cause), -1);
		free(cause);
		cause = NULL;
	}
	assert_true(filestore_hash_valid(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

static void
test_open_removes_leftovers(void **state)
{
	struct test_fs *t = *state;
	char *cause = NULL, path[512];
	int fd;

	/* As after a crash between a write and its rename. */
	snprintf(path, sizeof path, "%s/tmp/0123.half", t->dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "ha", 2), 2);
	close(fd);
	assert_int_equal(test_fs_tmp_count(t), 1);
	filestore_free(t->fs);
	assert_non_null(t->fs = filestore_open(t->dir, &cause));
	assert_int_equal(test_fs_tmp_count(t), 0);
}

static bool
test_fs_keep_first(const char *hash, void *arg)
{
	return strcmp(hash, arg) == 0;
}

static void
test_gc_removes_what_is_unused(void **state)
{
	struct test_fs *t = *state;
	char a[FILESTORE_HASH_LEN + 1], b[FILESTORE_HASH_LEN + 1];
	char *cause = NULL, path[512];
	int fd;

	test_fs_hash("aaa", 3, a);
	test_fs_hash("bbb", 3, b);
	assert_int_equal(test_fs_put(t, a, "aaa", 3, 3, &cause), 0);
	assert_int_equal(test_fs_put(t, b, "bbb", 3, 3, &cause), 0);
	/* A stranger in the directory is left alone. */
	snprintf(path, sizeof path, "%s/README", t->dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);

	assert_int_equal(filestore_gc(t->fs, test_fs_keep_first, a), 1);
	assert_true(filestore_has(t->fs, a));
	assert_false(filestore_has(t->fs, b));
	assert_int_equal(access(path, F_OK), 0);
	/* Listing twice works (the directory is read from its start). */
	assert_int_equal(filestore_gc(t->fs, test_fs_keep_first, b), 1);
	assert_false(filestore_has(t->fs, a));
	assert_int_equal(test_fs_count(t->dir), 2); /* tmp and README */
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_fs_setup, test_fs_teardown)
	const struct CMUnitTest tests[] = {
		T(test_write_then_read_back),
		T(test_empty_file),
		T(test_wrong_content_is_not_kept),
		T(test_short_or_long_is_refused),
		T(test_bad_hashes_are_refused),
		T(test_open_removes_leftovers),
		T(test_gc_removes_what_is_unused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
