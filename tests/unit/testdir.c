/* Temporary directories for unit tests: see testdir.h. */
#include "testdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
testdir_make(void)
{
	char *dir = strdup("/tmp/drover-test.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		free(dir);
		return NULL;
	}
	return dir;
}

int
testdir_remove(char *dir)
{
	char cmd[256];
	int rc;

	if (dir == NULL)
		return 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	rc = system(cmd);
	free(dir);
	return rc == 0 ? 0 : -1;
}

int
testdir_setup(void **state)
{
	if ((*state = testdir_make()) == NULL)
		return -1;
	return 0;
}

int
testdir_teardown(void **state)
{
	return testdir_remove(*state);
}
