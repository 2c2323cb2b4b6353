/* Temporary directories for unit tests: see testdir.h. */
#include "testdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
testdir_setup(void **state)
{
	char *dir = strdup("/tmp/drover-test.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

int
testdir_teardown(void **state)
{
	char *dir = *state, cmd[256];
	int rc;

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	rc = system(cmd);
	free(dir);
	return rc == 0 ? 0 : -1;
}
