/*
 * Command-line parsing shared by the one-shot CLI and the shell: splitting a
 * typed line into words, and parsing words against a command's option spec.
 */
#ifndef DROVER_ARGS_H
#define DROVER_ARGS_H

#include <stdbool.h>

#define ARGS_MAX_FLAGS 64
#define ARGS_MAX_WORDS 1024

struct args_flag {
	const char *name;  /* without the leading "--" (borrowed from spec words) */
	const char *value; /* NULL for a switch */
};

struct args {
	int argc;	/* positional arguments before "--" */
	char **argv;	/* borrowed from the input */
	int nflags;
	struct args_flag flags[ARGS_MAX_FLAGS];
	int nrest;	/* words after "--", passed through untouched */
	char **rest;
	char **owned;	/* internal: the positional array */
	char *names;	/* internal: flag names */
};

/*
 * Parse words against spec, a comma-separated list of long options: "all"
 * is a switch, "tail=" takes a value, "env=*" takes a value and may repeat.
 * "--name=value" and "--name value" both work; options may stand anywhere
 * before "--". Returns 0, or -1 with *cause (caller frees) for an unknown
 * option, a missing value or a repeated one. Free with args_free.
 */
int args_parse(int argc, char **argv, const char *spec, struct args *out,
    char **cause);
void args_free(struct args *);

/* Whether the option was given, and its (last) value or NULL. */
bool args_has(const struct args *, const char *name);
const char *args_get(const struct args *, const char *name);
/* Every value of a repeatable option, in order; returns the count. */
int args_get_all(const struct args *, const char *name, const char **vals,
    int max);

/*
 * Split a line typed at the shell into words: blanks separate, '...' and
 * "..." quote, backslash escapes outside single quotes. Returns a
 * NULL-terminated array (free with args_split_free), or NULL with *cause for
 * an unterminated quote or too many words.
 */
char **args_split(const char *line, int *argc, char **cause);
void args_split_free(char **words);

#endif
