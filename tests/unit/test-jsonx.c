/*
 * Typed JSON getters: present, absent optional (1), absent required (-1
 * naming the field), wrong type, range and NUL checks, strict field lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"

static int
test_jsonx_setup(void **state)
{
	json_error_t err;

	*state = json_loads("{\"s\":\"text\", \"empty\":\"\", \"i\":42, "
			    "\"neg\":-7, \"big\":9223372036854775807, "
			    "\"r\":2.5, \"t\":true, \"f\":false, \"n\":null, "
			    "\"a\":[1,\"x\"], \"o\":{\"k\":1}}",
	    JSON_REJECT_DUPLICATES, &err);
	return *state != NULL ? 0 : -1;
}

static int
test_jsonx_teardown(void **state)
{
	json_decref(*state);
	return 0;
}

/* The last getter call failed: cause names want; free it. */
static void
test_jsonx_cause(char **cause, const char *want)
{
	assert_non_null(*cause);
	if (strstr(*cause, want) == NULL)
		fail_msg("cause '%s' does not contain '%s'", *cause, want);
	free(*cause);
	*cause = NULL;
}

static void
test_jsonx_str(void **state)
{
	json_t *o = *state;
	const char *s = "untouched";
	char *cause = NULL;

	assert_int_equal(jsonx_get_str(o, "s", true, &s, &cause), 0);
	assert_string_equal(s, "text");
	assert_int_equal(jsonx_get_str(o, "empty", true, &s, &cause), 0);
	assert_string_equal(s, "");
	s = "untouched";
	assert_int_equal(jsonx_get_str(o, "nope", false, &s, &cause), 1);
	assert_int_equal(jsonx_get_str(o, "n", false, &s, &cause), 1);
	assert_string_equal(s, "untouched");
	assert_null(cause);
	assert_int_equal(jsonx_get_str(o, "nope", true, &s, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	assert_int_equal(jsonx_get_str(o, "n", true, &s, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'n'");
	assert_int_equal(jsonx_get_str(o, "i", true, &s, &cause), -1);
	test_jsonx_cause(&cause, "field 'i' must be a string");
	assert_int_equal(jsonx_get_str(o, "a", false, &s, &cause), -1);
	test_jsonx_cause(&cause, "field 'a' must be a string");
	assert_string_equal(s, "untouched");
}

/* An embedded NUL would cut a string handed to C; it is refused. */
static void
test_jsonx_str_embedded_nul(void **state)
{
	json_t *o;
	const char *s = NULL;
	json_error_t err;
	char *cause = NULL;

	(void)state;
	o = json_object();
	json_object_set_new(o, "name", json_stringn("web\0../etc", 10));
	assert_int_equal(jsonx_get_str(o, "name", true, &s, &cause), -1);
	test_jsonx_cause(&cause, "field 'name' contains a NUL byte");
	assert_null(s);
	json_decref(o);

	/* The same from text: \u0000 is only loaded with JSON_ALLOW_NUL. */
	o = json_loads("{\"name\":\"a\\u0000b\"}", JSON_ALLOW_NUL, &err);
	assert_non_null(o);
	assert_int_equal(jsonx_get_str(o, "name", false, &s, &cause), -1);
	test_jsonx_cause(&cause, "NUL");
	json_decref(o);
}

static void
test_jsonx_int(void **state)
{
	json_t *o = *state;
	long long n = -1;
	char *cause = NULL;

	assert_int_equal(jsonx_get_int(o, "i", true, 0, 100, &n, &cause), 0);
	assert_int_equal(n, 42);
	assert_int_equal(jsonx_get_int(o, "neg", true, -7, -7, &n, &cause), 0);
	assert_int_equal(n, -7);
	assert_int_equal(jsonx_get_int(o, "big", true, 0, LLONG_MAX, &n,
	    &cause), 0);
	assert_true(n == LLONG_MAX);
	/* Bounds are inclusive. */
	assert_int_equal(jsonx_get_int(o, "i", true, 42, 42, &n, &cause), 0);
	n = 5;
	assert_int_equal(jsonx_get_int(o, "nope", false, 0, 1, &n, &cause), 1);
	assert_int_equal(jsonx_get_int(o, "n", false, 0, 1, &n, &cause), 1);
	assert_int_equal(n, 5);
	assert_null(cause);
	assert_int_equal(jsonx_get_int(o, "nope", true, 0, 1, &n, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	assert_int_equal(jsonx_get_int(o, "s", true, 0, 1, &n, &cause), -1);
	test_jsonx_cause(&cause, "field 's' must be an integer");
	/* 2.5 is a number, not an integer. */
	assert_int_equal(jsonx_get_int(o, "r", true, 0, 10, &n, &cause), -1);
	test_jsonx_cause(&cause, "field 'r' must be an integer");
	assert_int_equal(jsonx_get_int(o, "t", true, 0, 10, &n, &cause), -1);
	test_jsonx_cause(&cause, "must be an integer");
	assert_int_equal(n, 5);
}

static void
test_jsonx_int_range(void **state)
{
	json_t *o = *state;
	long long n = 5;
	char *cause = NULL;

	assert_int_equal(jsonx_get_int(o, "i", true, 43, 100, &n, &cause), -1);
	test_jsonx_cause(&cause, "field 'i' must be between 43 and 100");
	assert_int_equal(jsonx_get_int(o, "i", true, 0, 41, &n, &cause), -1);
	test_jsonx_cause(&cause, "field 'i' must be between 0 and 41");
	assert_int_equal(jsonx_get_int(o, "neg", false, 0, 10, &n, &cause), -1);
	test_jsonx_cause(&cause, "between 0 and 10");
	assert_int_equal(jsonx_get_int(o, "big", true, 0, INT_MAX, &n, &cause),
	    -1);
	test_jsonx_cause(&cause, "field 'big'");
	assert_int_equal(n, 5);
}

static void
test_jsonx_num(void **state)
{
	json_t *o = *state;
	double d = -1;
	char *cause = NULL;

	assert_int_equal(jsonx_get_num(o, "r", true, &d, &cause), 0);
	assert_true(d == 2.5);
	/* An integer is a number too. */
	assert_int_equal(jsonx_get_num(o, "i", true, &d, &cause), 0);
	assert_true(d == 42.0);
	d = 9;
	assert_int_equal(jsonx_get_num(o, "nope", false, &d, &cause), 1);
	assert_int_equal(jsonx_get_num(o, "n", false, &d, &cause), 1);
	assert_true(d == 9);
	assert_int_equal(jsonx_get_num(o, "nope", true, &d, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	assert_int_equal(jsonx_get_num(o, "s", true, &d, &cause), -1);
	test_jsonx_cause(&cause, "field 's' must be a number");
	assert_int_equal(jsonx_get_num(o, "t", false, &d, &cause), -1);
	test_jsonx_cause(&cause, "field 't' must be a number");
	assert_true(d == 9);
}

static void
test_jsonx_bool(void **state)
{
	json_t *o = *state;
	bool b = false;
	char *cause = NULL;

	assert_int_equal(jsonx_get_bool(o, "t", true, &b, &cause), 0);
	assert_true(b);
	assert_int_equal(jsonx_get_bool(o, "f", true, &b, &cause), 0);
	assert_false(b);
	b = true;
	assert_int_equal(jsonx_get_bool(o, "nope", false, &b, &cause), 1);
	assert_int_equal(jsonx_get_bool(o, "n", false, &b, &cause), 1);
	assert_true(b);
	assert_int_equal(jsonx_get_bool(o, "nope", true, &b, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	/* 0, 1 and "true" are not booleans. */
	assert_int_equal(jsonx_get_bool(o, "i", true, &b, &cause), -1);
	test_jsonx_cause(&cause, "field 'i' must be true or false");
	assert_int_equal(jsonx_get_bool(o, "s", true, &b, &cause), -1);
	test_jsonx_cause(&cause, "field 's' must be true or false");
	assert_true(b);
}

static void
test_jsonx_array(void **state)
{
	json_t *o = *state, *a = NULL, *none = o;
	char *cause = NULL;

	assert_int_equal(jsonx_get_array(o, "a", true, &a, &cause), 0);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(jsonx_get_array(o, "nope", false, &none, &cause), 1);
	assert_int_equal(jsonx_get_array(o, "n", false, &none, &cause), 1);
	assert_ptr_equal(none, o);
	assert_int_equal(jsonx_get_array(o, "nope", true, &a, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	assert_int_equal(jsonx_get_array(o, "o", true, &a, &cause), -1);
	test_jsonx_cause(&cause, "field 'o' must be an array");
	assert_int_equal(jsonx_get_array(o, "s", true, &a, &cause), -1);
	test_jsonx_cause(&cause, "field 's' must be an array");
}

static void
test_jsonx_object(void **state)
{
	json_t *o = *state, *v = NULL, *none = o;
	char *cause = NULL;

	assert_int_equal(jsonx_get_object(o, "o", true, &v, &cause), 0);
	assert_true(json_is_object(v));
	assert_non_null(json_object_get(v, "k"));
	assert_int_equal(jsonx_get_object(o, "nope", false, &none, &cause), 1);
	assert_int_equal(jsonx_get_object(o, "n", false, &none, &cause), 1);
	assert_ptr_equal(none, o);
	assert_int_equal(jsonx_get_object(o, "nope", true, &v, &cause), -1);
	test_jsonx_cause(&cause, "missing field 'nope'");
	assert_int_equal(jsonx_get_object(o, "a", true, &v, &cause), -1);
	test_jsonx_cause(&cause, "field 'a' must be an object");
	assert_int_equal(jsonx_get_object(o, "i", false, &v, &cause), -1);
	test_jsonx_cause(&cause, "field 'i' must be an object");
}

/* Every getter refuses something that is not an object, even optional. */
static void
test_jsonx_not_an_object(void **state)
{
	json_t *arr = json_array(), *v;
	const char *s;
	long long n;
	double d;
	bool b;
	char *cause = NULL;

	(void)state;
	assert_int_equal(jsonx_get_str(arr, "k", false, &s, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_get_int(arr, "k", false, 0, 1, &n, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_get_num(NULL, "k", false, &d, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_get_bool(NULL, "k", true, &b, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_get_array(arr, "k", true, &v, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_get_object(arr, "k", true, &v, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	json_decref(arr);
}

static void
test_jsonx_check_fields(void **state)
{
	static const char *const known[] = { "name", "path", "args", NULL };
	static const char *const nothing[] = { NULL };
	json_t *o = jsonx_pack("{s:s, s:[]}", "name", "web", "args");
	json_t *empty = json_object(), *arr = json_array();
	char *cause = NULL;

	(void)state;
	assert_int_equal(jsonx_check_fields(o, known, &cause), 0);
	assert_int_equal(jsonx_check_fields(empty, known, &cause), 0);
	assert_int_equal(jsonx_check_fields(empty, nothing, &cause), 0);
	assert_null(cause);

	json_object_set_new(o, "nmae", json_string("typo"));
	assert_int_equal(jsonx_check_fields(o, known, &cause), -1);
	test_jsonx_cause(&cause, "unknown field 'nmae'");
	assert_int_equal(jsonx_check_fields(o, nothing, &cause), -1);
	test_jsonx_cause(&cause, "unknown field");

	/* Matching is exact: no prefixes, no case folding. */
	json_object_del(o, "nmae");
	json_object_set_new(o, "Name", json_null());
	assert_int_equal(jsonx_check_fields(o, known, &cause), -1);
	test_jsonx_cause(&cause, "unknown field 'Name'");
	json_object_del(o, "Name");
	json_object_set_new(o, "pat", json_null());
	assert_int_equal(jsonx_check_fields(o, known, &cause), -1);
	test_jsonx_cause(&cause, "unknown field 'pat'");

	assert_int_equal(jsonx_check_fields(arr, known, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	assert_int_equal(jsonx_check_fields(NULL, known, &cause), -1);
	test_jsonx_cause(&cause, "expected a JSON object");
	json_decref(o);
	json_decref(empty);
	json_decref(arr);
}

static void
test_jsonx_pack(void **state)
{
	json_t *o;

	(void)state;
	o = jsonx_pack("{s:s, s:I, s:b, s:o}", "a", "x", "b", (json_int_t)7,
	    "c", 1, "d", json_array());
	assert_string_equal(json_string_value(json_object_get(o, "a")), "x");
	assert_int_equal(json_integer_value(json_object_get(o, "b")), 7);
	assert_true(json_is_true(json_object_get(o, "c")));
	assert_true(json_is_array(json_object_get(o, "d")));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jsonx_str,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test(test_jsonx_str_embedded_nul),
		cmocka_unit_test_setup_teardown(test_jsonx_int,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test_setup_teardown(test_jsonx_int_range,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test_setup_teardown(test_jsonx_num,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test_setup_teardown(test_jsonx_bool,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test_setup_teardown(test_jsonx_array,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test_setup_teardown(test_jsonx_object,
		    test_jsonx_setup, test_jsonx_teardown),
		cmocka_unit_test(test_jsonx_not_an_object),
		cmocka_unit_test(test_jsonx_check_fields),
		cmocka_unit_test(test_jsonx_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
