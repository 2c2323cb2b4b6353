/*
 * A fresh temporary directory per test, for cmocka's setup and teardown:
 * *state is its path (allocated), removed with its content after the test.
 */
#ifndef DROVER_TESTDIR_H
#define DROVER_TESTDIR_H

int testdir_setup(void **state);
int testdir_teardown(void **state);

#endif
