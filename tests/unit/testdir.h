/*
 * Temporary directories for unit tests, all made the same way and removed
 * with their content. testdir_setup and testdir_teardown are cmocka's setup
 * and teardown for a test that needs only the directory: *state is its
 * path. A test whose fixture holds more calls testdir_make and
 * testdir_remove from its own.
 */
#ifndef DROVER_TESTDIR_H
#define DROVER_TESTDIR_H

/* A fresh directory under /tmp; its path (allocated), NULL on failure. */
char *testdir_make(void);
/* rm -rf dir, then frees the path (NULL does nothing); -1 if rm failed. */
int testdir_remove(char *dir);

int testdir_setup(void **state);
int testdir_teardown(void **state);

#endif
