/*
 * libFuzzer target for the messages between a worker and its supervisor
 * (supmsg.c): supmsg_split, then each parser over the fields. Beyond not
 * crashing: a launch that parses must format and parse back to the same
 * fields, and so must an end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"
#include "worker/supmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_same_strings(char **a, char **b)
{
	for (; *a != NULL || *b != NULL; a++, b++)
		if (*a == NULL || *b == NULL || strcmp(*a, *b) != 0)
			abort();
}

static void
fuzz_launch(struct supmsg *m)
{
	struct supmsg_launch l, back;
	struct supmsg f = { 0 }, r = { 0 };
	char *cause = NULL;

	if (supmsg_parse_launch(m, &l, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	supmsg_format_launch(&f, &l);
	if (supmsg_split(&r, xmemdup(f.data, f.len), f.len, &cause) == -1 ||
	    supmsg_parse_launch(&r, &back, &cause) == -1)
		abort();
	if (strcmp(l.id, back.id) != 0 || strcmp(l.dir, back.dir) != 0 ||
	    strcmp(l.path, back.path) != 0 || strcmp(l.cwd, back.cwd) != 0)
		abort();
	fuzz_same_strings(l.argv, back.argv);
	fuzz_same_strings(l.envp, back.envp);
	supmsg_launch_clear(&back);
	supmsg_launch_clear(&l);
	supmsg_clear(&r);
	supmsg_clear(&f);
}

static void
fuzz_end(struct supmsg *m)
{
	struct supmsg_end e, back;
	struct supmsg f = { 0 }, r = { 0 };
	char *cause = NULL;

	if (supmsg_parse_end(m, &e, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	supmsg_format_end(&f, &e);
	if (supmsg_split(&r, xmemdup(f.data, f.len), f.len, &cause) == -1 ||
	    supmsg_parse_end(&r, &back, &cause) == -1)
		abort();
	if (strcmp(e.id, back.id) != 0 || e.pid != back.pid ||
	    e.status != back.status || e.ended_at != back.ended_at ||
	    memcmp(&e.usage, &back.usage, sizeof e.usage) != 0 ||
	    memcmp(&e.children, &back.children, sizeof e.children) != 0)
		abort();
	supmsg_clear(&r);
	supmsg_clear(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct supmsg m = { 0 };
	char *cause = NULL;

	if (supmsg_split(&m, xmemdup(data, size), size, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		supmsg_clear(&m);
		return 0;
	}
	if (m.nfields < 1)
		abort();
	fuzz_launch(&m);
	fuzz_end(&m);
	supmsg_clear(&m);
	return 0;
}
