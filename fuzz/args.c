/*
 * libFuzzer target for the command line: args_split on a line typed at the
 * shell, then args_parse of its words against a spec with every kind of
 * option (switch, value, repeatable value).
 *
 * Beyond not crashing: every word and value handed back points into the
 * split words, and the counts add up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

#define FUZZ_ARGS_SPEC "all,json,tail=,env=*"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether p is one of the n words. */
static int
fuzz_args_is_word(char **words, int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (p >= words[i] && p <= words[i] + strlen(words[i]))
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *vals[ARGS_MAX_FLAGS];
	char *line, **words, *cause = NULL;
	struct args a;
	int argc = -1, n;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';

	words = args_split(line, &argc, &cause);
	if (words == NULL) {
		if (cause == NULL)
			abort();
		goto out;
	}
	if (cause != NULL || argc < 0 || argc > ARGS_MAX_WORDS ||
	    words[argc] != NULL)
		abort();

	if (args_parse(argc, words, FUZZ_ARGS_SPEC, &a, &cause) == -1) {
		if (cause == NULL)
			abort();
		goto out;
	}
	if (a.argc < 0 || a.nrest < 0 || a.nflags < 0 ||
	    a.nflags > ARGS_MAX_FLAGS || a.argc + a.nrest > argc)
		abort();
	for (int i = 0; i < a.argc; i++)
		if (!fuzz_args_is_word(words, argc, a.argv[i]))
			abort();
	for (int i = 0; i < a.nrest; i++)
		if (!fuzz_args_is_word(words, argc, a.rest[i]))
			abort();
	for (int i = 0; i < a.nflags; i++) {
		if (!args_has(&a, a.flags[i].name))
			abort();
		if (a.flags[i].value != NULL &&
		    !fuzz_args_is_word(words, argc, a.flags[i].value))
			abort();
	}
	/* Switches carry no value; only "env" may repeat. */
	if (args_has(&a, "all") && args_get(&a, "all") != NULL)
		abort();
	if (args_has(&a, "tail") && args_get(&a, "tail") == NULL)
		abort();
	n = args_get_all(&a, "env", vals, ARGS_MAX_FLAGS);
	if (n < 0 || n > a.nflags || args_get_all(&a, "json", vals, 4) > 1 ||
	    args_get_all(&a, "tail", vals, 4) > 1)
		abort();
	args_free(&a);
out:
	free(cause);
	args_split_free(words);
	free(line);
	return 0;
}
