/* Join tokens: format/parse round trips and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/token.h"

/* A 64-digit hex key that decodes (all of it is valid hex). */
#define TEST_TOKEN_HEX                                                         \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* token_parse must refuse text, with a cause containing want. */
static void
test_token_refused(const char *text, const char *want)
{
	char key[41], *secret = (char *)"untouched", *cause = NULL;

	assert_int_equal(token_parse(text, key, &secret, &cause), -1);
	assert_null(secret);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': cause '%s' does not contain '%s'", text, cause,
		    want);
	free(cause);
}

static void
test_token_round_trip(void **state)
{
	char pub[41], sec[41], key[41], *token, *secret, *cause = NULL;

	(void)state;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(zmq_curve_keypair(pub, sec), 0);
		token = token_format(pub, "s3cret-JOIN_token");
		assert_int_equal(strncmp(token, TOKEN_PREFIX, 5), 0);
		assert_int_equal(strlen(token), 5 + TOKEN_KEY_HEX + 1 + 17);
		assert_int_equal(token[5 + TOKEN_KEY_HEX], '.');
		for (int j = 5; j < 5 + TOKEN_KEY_HEX; j++)
			assert_true(isxdigit((unsigned char)token[j]));
		assert_int_equal(token_parse(token, key, &secret, &cause), 0);
		assert_null(cause);
		assert_string_equal(key, pub);
		assert_string_equal(secret, "s3cret-JOIN_token");
		free(secret);
		free(token);
	}
}

/* Upper-case hex (someone retyped the token) names the same key. */
static void
test_token_upper_case_hex(void **state)
{
	char pub[41], sec[41], key[41], *token, *secret, *cause = NULL;

	(void)state;
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	token = token_format(pub, "abcdefgh");
	for (char *p = token + 5; *p != '.'; p++)
		*p = (char)toupper((unsigned char)*p);
	assert_int_equal(token_parse(token, key, &secret, &cause), 0);
	assert_string_equal(key, pub);
	assert_string_equal(secret, "abcdefgh");
	free(secret);
	free(token);
}

/* The longest and shortest secrets survive the round trip. */
static void
test_token_secret_lengths_round_trip(void **state)
{
	char pub[41], sec[41], key[41], *token, *secret, *cause = NULL;
	char longest[TOKEN_SECRET_MAX + 1];

	(void)state;
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	memset(longest, 'Z', TOKEN_SECRET_MAX);
	longest[TOKEN_SECRET_MAX] = '\0';
	token = token_format(pub, longest);
	assert_int_equal(token_parse(token, key, &secret, &cause), 0);
	assert_string_equal(secret, longest);
	free(secret);
	free(token);
	token = token_format(pub, "12345678");
	assert_int_equal(token_parse(token, key, &secret, &cause), 0);
	assert_string_equal(secret, "12345678");
	free(secret);
	free(token);
}

static void
test_token_wrong_prefix(void **state)
{
	(void)state;
	test_token_refused("", "does not start with 'drv1.'");
	test_token_refused("drv1", "does not start with");
	test_token_refused("drv2." TEST_TOKEN_HEX ".abcdefgh", "drv1.");
	test_token_refused("DRV1." TEST_TOKEN_HEX ".abcdefgh", "drv1.");
	test_token_refused(" drv1." TEST_TOKEN_HEX ".abcdefgh", "drv1.");
	test_token_refused(TEST_TOKEN_HEX ".abcdefgh", "drv1.");
}

static void
test_token_short_key(void **state)
{
	(void)state;
	test_token_refused("drv1.", "cut short");
	test_token_refused("drv1.0011.abcdefgh", "cut short");
	/* 65 digits, then 63: either way the 65th character is not a '.'. */
	test_token_refused("drv1.0" TEST_TOKEN_HEX ".abcdefgh", "cut short");
	test_token_refused("drv1.0112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccddeeff.abcdefgh", "cut short");
	/* The whole key but nothing after it. */
	test_token_refused("drv1." TEST_TOKEN_HEX, "cut short");
}

static void
test_token_missing_dot(void **state)
{
	(void)state;
	test_token_refused("drv1." TEST_TOKEN_HEX "abcdefgh", "cut short");
	test_token_refused("drv1." TEST_TOKEN_HEX "-abcdefgh", "cut short");
	test_token_refused("drv1." TEST_TOKEN_HEX ":abcdefgh", "cut short");
}

static void
test_token_non_hex_key(void **state)
{
	(void)state;
	test_token_refused("drv1.g0112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccddeeff.abcdefgh", "not 64 hex digits");
	test_token_refused("drv1.00112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccddeefz.abcdefgh", "not 64 hex digits");
	test_token_refused("drv1.0011223344556677 899aabbccddeeff0011223344556677"
	    "8899aabbccddeeff.abcdefgh", "not 64 hex digits");
	test_token_refused("drv1.00112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccdd.eff.abcdefgh", "not 64 hex digits");
}

/* The Z85 key itself, padded to 64 characters, where hex belongs. */
static void
test_token_z85_key(void **state)
{
	char pub[41], sec[41], text[128];

	(void)state;
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	snprintf(text, sizeof text, "drv1.%s%.24s.abcdefgh", pub,
	    "zzzzzzzzzzzzzzzzzzzzzzzz");
	test_token_refused(text, "not 64 hex digits");
}

static void
test_token_bad_secret(void **state)
{
	(void)state;
	test_token_refused("drv1." TEST_TOKEN_HEX ".abc defgh", "may only hold");
	test_token_refused("drv1." TEST_TOKEN_HEX ".abcdefgh\n", "may only hold");
	test_token_refused("drv1." TEST_TOKEN_HEX ".abcd.efgh", "may only hold");
	test_token_refused("drv1." TEST_TOKEN_HEX ".abc$defgh", "may only hold");
	test_token_refused("drv1." TEST_TOKEN_HEX ".abcdefg\xc3\xa9",
	    "may only hold");
	test_token_refused("drv1." TEST_TOKEN_HEX ".", "8 to 128");
	test_token_refused("drv1." TEST_TOKEN_HEX ".abcdefg", "8 to 128");
}

static void
test_token_secret_too_long(void **state)
{
	char text[5 + TOKEN_KEY_HEX + 1 + TOKEN_SECRET_MAX + 2];
	char key[41], *secret, *cause = NULL;

	(void)state;
	memcpy(text, "drv1." TEST_TOKEN_HEX ".", 5 + TOKEN_KEY_HEX + 1);
	memset(text + 5 + TOKEN_KEY_HEX + 1, 'a', TOKEN_SECRET_MAX + 1);
	text[sizeof text - 1] = '\0';
	test_token_refused(text, "8 to 128");
	text[sizeof text - 2] = '\0';
	assert_int_equal(token_parse(text, key, &secret, &cause), 0);
	assert_int_equal(strlen(secret), TOKEN_SECRET_MAX);
	free(secret);
}

static void
test_token_check_secret_bounds(void **state)
{
	char buf[TOKEN_SECRET_MAX + 2], *cause = NULL;

	(void)state;
	memset(buf, 'x', sizeof buf);
	buf[TOKEN_SECRET_MIN - 1] = '\0';
	assert_int_equal(token_check_secret(buf, &cause), -1);
	assert_non_null(strstr(cause, "8 to 128"));
	free(cause);
	cause = NULL;
	buf[TOKEN_SECRET_MIN - 1] = 'x';
	buf[TOKEN_SECRET_MIN] = '\0';
	assert_int_equal(token_check_secret(buf, &cause), 0);
	assert_null(cause);
	buf[TOKEN_SECRET_MIN] = 'x';
	buf[TOKEN_SECRET_MAX] = '\0';
	assert_int_equal(token_check_secret(buf, &cause), 0);
	buf[TOKEN_SECRET_MAX] = 'x';
	buf[TOKEN_SECRET_MAX + 1] = '\0';
	assert_int_equal(token_check_secret(buf, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(token_check_secret("", &cause), -1);
	free(cause);
}

static void
test_token_check_secret_chars(void **state)
{
	static const char *const good[] = {
		"abcdefgh", "ABCDEFGH", "01234567", "a-b_c-d_e", "--------",
		"________",
	};
	static const char *const bad[] = {
		"abcdefg+", "abcd/efg", "abcd.efg", "abcd efg", "abcd\tefg",
		"abcdefg=", "abcd'efg", "abcd\"efg", "abcd\\efg", "abcdefg\x7f",
		"abcdefg\xff", "abcd;efg",
	};
	char *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(token_check_secret(good[i], &cause), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(token_check_secret(bad[i], &cause), -1);
		assert_non_null(strstr(cause, "may only hold"));
		free(cause);
		cause = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_token_upper_case_hex),
		cmocka_unit_test(test_token_secret_lengths_round_trip),
		cmocka_unit_test(test_token_wrong_prefix),
		cmocka_unit_test(test_token_short_key),
		cmocka_unit_test(test_token_missing_dot),
		cmocka_unit_test(test_token_non_hex_key),
		cmocka_unit_test(test_token_z85_key),
		cmocka_unit_test(test_token_bad_secret),
		cmocka_unit_test(test_token_secret_too_long),
		cmocka_unit_test(test_token_check_secret_bounds),
		cmocka_unit_test(test_token_check_secret_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
