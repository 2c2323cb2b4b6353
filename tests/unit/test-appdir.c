/* Apps' directories made ahead: taken, recycled, and found again at start. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmem.h"
#include "worker/appdir.h"
#include "testdir.h"

/* Entries in path, . and .. left out; -1 when it cannot be read. */
static int
count_entries(const char *path)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_take_fill_recycle(void **state)
{
	const char *dir = *state;
	char *pool = xasprintf("%s/spare-dirs", dir);
	char *app = xasprintf("%s/apps/web-1", dir);
	char *log = xasprintf("%s/output.log", app);
	char *exitfile = xasprintf("%s/exit", app);
	char *rotated = xasprintf("%s/output.log.1", app);
	char *sub = xasprintf("%s/data", app);
	char *deep = xasprintf("%s/data/deep", app);
	char *link = xasprintf("%s/link", app);
	struct appdirs *d = appdirs_open(dir);
	struct stat before, after;

	/* None made yet: the launch makes its own. */
	assert_int_equal(appdirs_take(d, app), -1);
	appdirs_fill(d);
	assert_int_equal(count_entries(pool), APPDIR_SPARES);

	/* DIR/apps does not exist yet: take creates it. */
	assert_int_equal(appdirs_take(d, app), 0);
	assert_int_equal(count_entries(pool), APPDIR_SPARES - 1);
	/* The log alone, empty. */
	assert_int_equal(file_size(log), 0);
	assert_int_equal(count_entries(app), 1);
	assert_int_equal(util_write_file_in_place(log, "hello\n", 6, 0640), 0);
	assert_int_equal(stat(log, &before), 0);
	/* What a run leaves: an exit file, a rotated log, its own files. */
	assert_int_equal(util_write_file_in_place(exitfile, "exited 0\n", 9,
	    0600), 0);
	assert_int_equal(util_write_file_atomic(rotated, "old\n", 4, 0640), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(util_write_file_atomic(deep, "secret\n", 7, 0600), 0);
	assert_int_equal(symlink("/etc/passwd", link), 0);

	/* Forgotten: back in the pool with its log emptied, nothing else. */
	assert_int_equal(appdirs_recycle(d, app), 0);
	assert_int_equal(access(app, F_OK), -1);
	assert_int_equal(count_entries(pool), APPDIR_SPARES);
	assert_int_equal(appdirs_take(d, app), 0);
	assert_int_equal(file_size(log), 0);
	assert_int_equal(count_entries(app), 1);
	/* The same log, not a new one; what a link pointed to is untouched. */
	assert_int_equal(stat(log, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(access("/etc/passwd", F_OK), 0);

	/*
	 * Past the spares made ahead, what comes back is kept too (a
	 * second's forgotten apps come back at once), up to APPDIR_KEEP_MAX;
	 * beyond that it is removed.
	 */
	appdirs_fill(d);
	assert_int_equal(appdirs_recycle(d, app), 0);
	assert_int_equal(access(app, F_OK), -1);
	assert_int_equal(count_entries(pool), APPDIR_SPARES + 1);
	for (int i = APPDIR_SPARES + 1; i <= APPDIR_KEEP_MAX; i++) {
		assert_int_equal(mkdir(app, 0750), 0);
		assert_int_equal(appdirs_recycle(d, app), 0);
	}
	assert_int_equal(count_entries(pool), APPDIR_KEEP_MAX);
	assert_int_equal(mkdir(app, 0750), 0);
	assert_int_equal(appdirs_recycle(d, app), 0);
	assert_int_equal(access(app, F_OK), -1);
	assert_int_equal(count_entries(pool), APPDIR_KEEP_MAX);

	/* A target that exists already: refused, the directory kept. */
	assert_int_equal(mkdir(app, 0750), 0);
	assert_int_equal(util_write_file_atomic(log, "x", 1, 0640), 0);
	assert_int_equal(appdirs_take(d, app), -1);
	assert_int_equal(count_entries(pool), APPDIR_KEEP_MAX);
	appdirs_free(d);

	/* A new worker on the same dir takes up what was left ready. */
	d = appdirs_open(dir);
	unlink(log);
	rmdir(app);
	assert_int_equal(appdirs_take(d, app), 0);
	assert_int_equal(file_size(log), 0);
	assert_int_equal(count_entries(pool), APPDIR_KEEP_MAX - 1);
	appdirs_free(d);
	free(pool);
	free(app);
	free(log);
	free(exitfile);
	free(rotated);
	free(sub);
	free(deep);
	free(link);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_fill_recycle,
		    testdir_setup, testdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
