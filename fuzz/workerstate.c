/*
 * libFuzzer target for the worker's state file and the apps' exit files
 * (workerstate.c): both are read back from disk at start-up, so a damaged
 * file must be refused, never crash the worker. The input is also read as
 * the state file's journal (after an empty state file of generation 0),
 * whose lines are applied one by one. Each parser gets an exact-size copy
 * of the input, so a read past len is caught by ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/workerstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parser accepted holds together. */
static void
check_apps(struct workerstate_app *apps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* What may run again has what to run with. */
		if ((apps[i].phase == APP_RUNNING ||
		    apps[i].phase == APP_STOPPING ||
		    apps[i].phase == APP_WAITING) &&
		    (apps[i].argv == NULL || apps[i].argv[0] == NULL ||
		    apps[i].envp == NULL))
			abort();
		if (apps[i].id == NULL || apps[i].path[0] != '/' ||
		    strchr(apps[i].id, '/') != NULL)
			abort();
		/* No app twice, whatever the journal repeats. */
		for (size_t k = 0; k < i; k++)
			if (strcmp(apps[k].id, apps[i].id) == 0)
				abort();
		/* And it writes back. */
		json_decref(workerstate_app_to_json(&apps[i]));
	}
	workerstate_apps_free(apps, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char empty[] = "{\"version\":1,\"apps\":[]}";
	struct workerstate_app *apps;
	struct workerstate_exit e;
	char *text, *cause = NULL;
	uint64_t generation;
	size_t n, skipped;

	if ((text = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(text, data, size);

	if (workerstate_parse(text, size, NULL, 0, &apps, &n, &generation,
	    &skipped, &cause) == 0)
		check_apps(apps, n);
	else
		free(cause);
	cause = NULL;
	if (workerstate_parse(empty, strlen(empty), text, size, &apps, &n,
	    &generation, &skipped, &cause) == 0)
		check_apps(apps, n);
	else
		abort(); /* the state file is valid: a journal never fails it */
	if (workerstate_parse_exit(text, size, &e, &cause) == 0) {
		if (e.pid <= 0)
			abort();
	} else
		free(cause);
	free(text);
	return 0;
}
