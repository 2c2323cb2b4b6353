/* Command-line words: option parsing against a spec, and shell splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

#define TEST_ARGS_SPEC "all,json,tail=,env=*"
#define TEST_ARGS_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parsing words must fail with a cause containing want. */
static void
test_args_refused(int argc, char **argv, const char *want)
{
	struct args a;
	char *cause = NULL;

	assert_int_equal(args_parse(argc, argv, TEST_ARGS_SPEC, &a, &cause),
	    -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' does not contain '%s'", cause, want);
	free(cause);
	/* Already released by args_parse; a second free is harmless. */
	args_free(&a);
}

static void
test_args_switches(void **state)
{
	char *argv[] = { "ps", "--all", "web", "--json" };
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(4, argv, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_null(cause);
	assert_int_equal(a.argc, 2);
	assert_ptr_equal(a.argv[0], argv[0]); /* borrowed */
	assert_string_equal(a.argv[1], "web");
	assert_null(a.argv[2]);
	assert_int_equal(a.nflags, 2);
	assert_true(args_has(&a, "all"));
	assert_true(args_has(&a, "json"));
	assert_false(args_has(&a, "tail"));
	assert_null(args_get(&a, "all"));
	assert_null(args_get(&a, "tail"));
	assert_int_equal(a.nrest, 0);
	assert_null(a.rest);
	args_free(&a);
}

static void
test_args_values(void **state)
{
	char *eq[] = { "logs", "--tail=20", "web" };
	char *sep[] = { "logs", "--tail", "20", "web" };
	char *empty[] = { "--tail=" };
	char *dashes[] = { "--tail", "--all" };
	char *inner[] = { "--env=A=B=C" };
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(3, eq, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_string_equal(args_get(&a, "tail"), "20");
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "web");
	args_free(&a);

	assert_int_equal(args_parse(4, sep, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_string_equal(args_get(&a, "tail"), "20");
	assert_ptr_equal(args_get(&a, "tail"), sep[2]);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "logs");
	assert_string_equal(a.argv[1], "web");
	args_free(&a);

	assert_int_equal(args_parse(1, empty, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_true(args_has(&a, "tail"));
	assert_string_equal(args_get(&a, "tail"), "");
	args_free(&a);

	/* The word after a value option is its value, whatever it looks like. */
	assert_int_equal(args_parse(2, dashes, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_string_equal(args_get(&a, "tail"), "--all");
	assert_false(args_has(&a, "all"));
	args_free(&a);

	/* Only the first '=' separates. */
	assert_int_equal(args_parse(1, inner, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_string_equal(args_get(&a, "env"), "A=B=C");
	args_free(&a);
	assert_null(cause);
}

static void
test_args_repeatable(void **state)
{
	char *argv[] = { "run", "--env", "A=1", "app", "--env=B=2", "--all",
		"--env", "C=3" };
	const char *vals[4];
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(TEST_ARGS_N(argv), argv, TEST_ARGS_SPEC, &a,
	    &cause), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "app");
	assert_int_equal(args_get_all(&a, "env", vals, 4), 3);
	assert_string_equal(vals[0], "A=1");
	assert_string_equal(vals[1], "B=2");
	assert_string_equal(vals[2], "C=3");
	/* max bounds the output. */
	assert_int_equal(args_get_all(&a, "env", vals, 2), 2);
	assert_int_equal(args_get_all(&a, "env", vals, 0), 0);
	assert_int_equal(args_get_all(&a, "tail", vals, 4), 0);
	/* args_get gives the last. */
	assert_string_equal(args_get(&a, "env"), "C=3");
	args_free(&a);
}

static void
test_args_unknown_option(void **state)
{
	char *a1[] = { "ps", "--nope" };
	char *a2[] = { "--nope=3" };
	char *a3[] = { "--al" };	/* no prefix matching */
	char *a4[] = { "--tai=3" };
	char *a5[] = { "--tailx", "3" };
	char *a6[] = { "--ALL" };
	char *a7[] = { "--=x" };
	char *a8[] = { "--all,json" }; /* spec syntax is not an option */

	(void)state;
	test_args_refused(2, a1, "unknown option --nope");
	test_args_refused(1, a2, "unknown option --nope");
	test_args_refused(1, a3, "unknown option --al");
	test_args_refused(1, a4, "unknown option --tai");
	test_args_refused(2, a5, "unknown option --tailx");
	test_args_refused(1, a6, "unknown option --ALL");
	test_args_refused(1, a7, "unknown option --");
	test_args_refused(1, a8, "unknown option --all,json");
}

static void
test_args_missing_value(void **state)
{
	char *a1[] = { "logs", "web", "--tail" };
	char *a2[] = { "--env" };

	(void)state;
	test_args_refused(3, a1, "option --tail needs a value");
	test_args_refused(1, a2, "option --env needs a value");
}

static void
test_args_value_to_switch(void **state)
{
	char *a1[] = { "--all=1" };
	char *a2[] = { "--json=" };

	(void)state;
	test_args_refused(1, a1, "option --all takes no value");
	test_args_refused(1, a2, "option --json takes no value");
}

static void
test_args_repeated(void **state)
{
	char *a1[] = { "--tail", "1", "--tail=2" };
	char *a2[] = { "--all", "x", "--all" };

	(void)state;
	test_args_refused(3, a1, "option --tail given twice");
	test_args_refused(3, a2, "option --all given twice");
}

static void
test_args_too_many_options(void **state)
{
	char *argv[ARGS_MAX_FLAGS + 1];
	struct args a;
	char *cause = NULL;

	(void)state;
	for (int i = 0; i < ARGS_MAX_FLAGS + 1; i++)
		argv[i] = "--env=x";
	assert_int_equal(args_parse(ARGS_MAX_FLAGS, argv, TEST_ARGS_SPEC, &a,
	    &cause), 0);
	assert_int_equal(a.nflags, ARGS_MAX_FLAGS);
	args_free(&a);
	test_args_refused(ARGS_MAX_FLAGS + 1, argv, "too many options");
}

static void
test_args_rest(void **state)
{
	char *argv[] = { "run", "--all", "app", "--", "--json", "x", "--" };
	char *end[] = { "run", "--" };
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(TEST_ARGS_N(argv), argv, TEST_ARGS_SPEC, &a,
	    &cause), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "app");
	assert_true(args_has(&a, "all"));
	assert_false(args_has(&a, "json"));
	assert_int_equal(a.nrest, 3);
	assert_ptr_equal(a.rest, argv + 4);
	assert_string_equal(a.rest[0], "--json");
	assert_string_equal(a.rest[2], "--");
	args_free(&a);

	assert_int_equal(args_parse(2, end, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_int_equal(a.argc, 1);
	assert_int_equal(a.nrest, 0);
	args_free(&a);
}

/* Single dashes are not options: "-" and "-x" are positional. */
static void
test_args_single_dash(void **state)
{
	char *argv[] = { "-", "-x", "--all", "-10" };
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(4, argv, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "-");
	assert_string_equal(a.argv[1], "-x");
	assert_string_equal(a.argv[2], "-10");
	args_free(&a);
}

static void
test_args_nothing(void **state)
{
	struct args a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(args_parse(0, NULL, TEST_ARGS_SPEC, &a, &cause), 0);
	assert_int_equal(a.argc, 0);
	assert_int_equal(a.nflags, 0);
	args_free(&a);
	/* An empty spec knows no option. */
	assert_int_equal(args_parse(1, (char *[]){ "--all" }, "", &a, &cause),
	    -1);
	assert_non_null(strstr(cause, "unknown option --all"));
	free(cause);
}

/* Split line and compare with the expected words. */
static void
test_args_split_is(const char *line, int n, const char *const *want)
{
	char **words, *cause = NULL;
	int argc = -1;

	words = args_split(line, &argc, &cause);
	if (words == NULL)
		fail_msg("'%s' refused: %s", line, cause);
	assert_null(cause);
	assert_int_equal(argc, n);
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], want[i]) != 0)
			fail_msg("'%s': word %d is '%s', expected '%s'", line,
			    i, words[i], want[i]);
	assert_null(words[n]);
	args_split_free(words);
}

#define TEST_ARGS_SPLIT(line, ...)                                             \
	test_args_split_is(line,                                               \
	    TEST_ARGS_N(((const char *const[]){ __VA_ARGS__ })),               \
	    (const char *const[]){ __VA_ARGS__ })

static void
test_args_split_refused(const char *line, const char *want)
{
	char **words, *cause = NULL;
	int argc = -1;

	words = args_split(line, &argc, &cause);
	assert_null(words);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': cause '%s' does not contain '%s'", line, cause,
		    want);
	free(cause);
}

static void
test_args_split_blanks(void **state)
{
	char **words, *cause = NULL;
	int argc = -1;

	(void)state;
	TEST_ARGS_SPLIT("ps --all web", "ps", "--all", "web");
	TEST_ARGS_SPLIT("   ps \t\t --all  \r\n web   ", "ps", "--all", "web");
	TEST_ARGS_SPLIT("one", "one");
	words = args_split("", &argc, &cause);
	assert_int_equal(argc, 0);
	assert_null(words[0]);
	args_split_free(words);
	words = args_split(" \t \n \r  ", &argc, &cause);
	assert_non_null(words);
	assert_int_equal(argc, 0);
	assert_null(words[0]);
	args_split_free(words);
	args_split_free(NULL);
	assert_null(cause);
}

static void
test_args_split_quotes(void **state)
{
	(void)state;
	TEST_ARGS_SPLIT("echo 'a b' \"c d\"", "echo", "a b", "c d");
	TEST_ARGS_SPLIT("a'b c'd", "ab cd");
	TEST_ARGS_SPLIT("\"it's\" 'say \"hi\"'", "it's", "say \"hi\"");
	TEST_ARGS_SPLIT("--env='A=1 2'", "--env=A=1 2");
	TEST_ARGS_SPLIT("'\t\n'", "\t\n");
}

static void
test_args_split_escapes(void **state)
{
	(void)state;
	TEST_ARGS_SPLIT("a\\ b c", "a b", "c");
	TEST_ARGS_SPLIT("\"a\\\"b\"", "a\"b");
	TEST_ARGS_SPLIT("\\'x\\'", "'x'");
	/* No escapes inside single quotes. */
	TEST_ARGS_SPLIT("'a\\b' 'c\\'", "a\\b", "c\\");
	TEST_ARGS_SPLIT("\\\\", "\\");
	/* A backslash at the very end stays. */
	TEST_ARGS_SPLIT("abc\\", "abc\\");
	TEST_ARGS_SPLIT("\\", "\\");
}

static void
test_args_split_empty_quotes(void **state)
{
	(void)state;
	TEST_ARGS_SPLIT("\"\"", "");
	TEST_ARGS_SPLIT("''", "");
	TEST_ARGS_SPLIT("set \"\" x", "set", "", "x");
	TEST_ARGS_SPLIT("'' ''", "", "");
	TEST_ARGS_SPLIT("a\"\"b", "ab");
}

static void
test_args_split_unterminated(void **state)
{
	(void)state;
	test_args_split_refused("echo \"abc", "unterminated \" quote");
	test_args_split_refused("echo 'abc", "unterminated ' quote");
	test_args_split_refused("'", "unterminated");
	test_args_split_refused("ok \"a\" 'b", "unterminated ' quote");
	test_args_split_refused("\"a\\\"", "unterminated \" quote");
}

static void
test_args_split_word_limit(void **state)
{
	size_t n = ARGS_MAX_WORDS + 1;
	char *line = malloc(2 * n + 1), **words, *cause = NULL;
	int argc = 0;

	(void)state;
	assert_non_null(line);
	for (size_t i = 0; i < n; i++)
		memcpy(line + 2 * i, "w ", 2);
	line[2 * n] = '\0';
	test_args_split_refused(line, "more than 1024 words");
	line[2 * (n - 1)] = '\0';
	words = args_split(line, &argc, &cause);
	assert_non_null(words);
	assert_int_equal(argc, ARGS_MAX_WORDS);
	args_split_free(words);
	free(line);
}

/* The shell's path: split a line, then parse the words. */
static void
test_args_split_then_parse(void **state)
{
	char **words, *cause = NULL;
	struct args a;
	int argc;

	(void)state;
	words = args_split("logs web --tail 50 --env 'K=a b' -- cat \"x y\"",
	    &argc, &cause);
	assert_non_null(words);
	assert_int_equal(args_parse(argc, words, TEST_ARGS_SPEC, &a, &cause),
	    0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(args_get(&a, "tail"), "50");
	assert_string_equal(args_get(&a, "env"), "K=a b");
	assert_int_equal(a.nrest, 2);
	assert_string_equal(a.rest[1], "x y");
	args_free(&a);
	args_split_free(words);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_switches),
		cmocka_unit_test(test_args_values),
		cmocka_unit_test(test_args_repeatable),
		cmocka_unit_test(test_args_unknown_option),
		cmocka_unit_test(test_args_missing_value),
		cmocka_unit_test(test_args_value_to_switch),
		cmocka_unit_test(test_args_repeated),
		cmocka_unit_test(test_args_too_many_options),
		cmocka_unit_test(test_args_rest),
		cmocka_unit_test(test_args_single_dash),
		cmocka_unit_test(test_args_nothing),
		cmocka_unit_test(test_args_split_blanks),
		cmocka_unit_test(test_args_split_quotes),
		cmocka_unit_test(test_args_split_escapes),
		cmocka_unit_test(test_args_split_empty_quotes),
		cmocka_unit_test(test_args_split_unterminated),
		cmocka_unit_test(test_args_split_word_limit),
		cmocka_unit_test(test_args_split_then_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
