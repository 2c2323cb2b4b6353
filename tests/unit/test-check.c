/*
 * Health checks: the "check" object's parsing (defaults and every
 * rejection), the HTTP status line reader, and the restart backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "worker/app.h"
#include "worker/check.h"

static int
test_check_parse_text(const char *text, struct check_spec *spec,
    char **cause)
{
	json_error_t err;
	json_t *obj = json_loads(text, JSON_ALLOW_NUL, &err);
	int rc;

	assert_non_null(obj);
	rc = check_spec_parse(obj, spec, cause);
	json_decref(obj);
	return rc;
}

static void
test_check_parse_defaults(void **state)
{
	struct check_spec spec;
	char *cause = NULL;

	(void)state;
	assert_int_equal(test_check_parse_text("{\"kind\":\"http\",\"port\":8080}",
	    &spec, &cause), 0);
	assert_int_equal(spec.kind, CHECK_HTTP);
	assert_int_equal(spec.port, 8080);
	assert_string_equal(spec.path, "/");
	assert_null(spec.cmd);
	assert_int_equal(spec.interval_ms, CHECK_INTERVAL_DEFAULT);
	assert_int_equal(spec.timeout_ms, CHECK_TIMEOUT_DEFAULT);
	assert_int_equal(spec.failures, CHECK_FAILURES_DEFAULT);
	check_spec_clear(&spec);

	assert_int_equal(test_check_parse_text("{\"kind\":\"tcp\",\"port\":1,"
	    "\"interval_ms\":200,\"timeout_ms\":500,\"failures\":2}", &spec,
	    &cause), 0);
	assert_int_equal(spec.kind, CHECK_TCP);
	assert_null(spec.path);
	assert_int_equal(spec.interval_ms, 200);
	assert_int_equal(spec.timeout_ms, 500);
	assert_int_equal(spec.failures, 2);
	check_spec_clear(&spec);

	assert_int_equal(test_check_parse_text("{\"kind\":\"exec\","
	    "\"cmd\":\"exit 1\"}", &spec, &cause), 0);
	assert_int_equal(spec.kind, CHECK_EXEC);
	assert_string_equal(spec.cmd, "exit 1");
	check_spec_clear(&spec);

	assert_int_equal(test_check_parse_text("{\"kind\":\"http\",\"port\":80,"
	    "\"path\":\"/healthz?x=1\"}", &spec, &cause), 0);
	assert_string_equal(spec.path, "/healthz?x=1");
	check_spec_clear(&spec);
}

static void
test_check_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"kind\":\"udp\",\"port\":1}",
		"{\"kind\":7}",
		"{\"kind\":\"http\"}",
		"{\"kind\":\"tcp\",\"port\":0}",
		"{\"kind\":\"tcp\",\"port\":65536}",
		"{\"kind\":\"tcp\",\"port\":\"80\"}",
		"{\"kind\":\"tcp\",\"port\":80,\"path\":\"/\"}",
		"{\"kind\":\"tcp\",\"port\":80,\"cmd\":\"true\"}",
		"{\"kind\":\"http\",\"port\":80,\"path\":\"x\"}",
		"{\"kind\":\"http\",\"port\":80,\"path\":\"/a b\"}",
		"{\"kind\":\"http\",\"port\":80,\"path\":\"/a\\r\\nX: y\"}",
		"{\"kind\":\"exec\"}",
		"{\"kind\":\"exec\",\"cmd\":\"\"}",
		"{\"kind\":\"exec\",\"cmd\":\"a\\u0000b\"}",
		"{\"kind\":\"exec\",\"cmd\":\"true\",\"port\":80}",
		"{\"kind\":\"tcp\",\"port\":80,\"interval_ms\":5}",
		"{\"kind\":\"tcp\",\"port\":80,\"timeout_ms\":0}",
		"{\"kind\":\"tcp\",\"port\":80,\"failures\":0}",
		"{\"kind\":\"tcp\",\"port\":80,\"colour\":\"blue\"}",
	};
	struct check_spec spec;
	char *cause;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (test_check_parse_text(bad[i], &spec, &cause) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(cause);
		assert_true(strncmp(cause, "check: ", 7) == 0);
		free(cause);
	}
}

static void
test_check_http_status(void **state)
{
	(void)state;
	assert_int_equal(check_http_status("HTTP/1.0 200 OK\r\n", 17), 200);
	assert_int_equal(check_http_status("HTTP/1.1 404 Not Found\r\n", 24), 404);
	assert_int_equal(check_http_status("HTTP/1.1 301\r\n", 14), 301);
	assert_int_equal(check_http_status("HTTP/2 503 x", 12), 503);
	/* Not enough yet. */
	assert_int_equal(check_http_status("", 0), 0);
	assert_int_equal(check_http_status("HTT", 3), 0);
	assert_int_equal(check_http_status("HTTP/1.", 7), 0);
	assert_int_equal(check_http_status("HTTP/1.0 20", 11), 0);
	assert_int_equal(check_http_status("HTTP/1.0 200", 12), 0);
	/* Not a status line. */
	assert_int_equal(check_http_status("SSH-2.0-OpenSSH", 15), -1);
	assert_int_equal(check_http_status("HTTP/x.0 200 OK", 15), -1);
	assert_int_equal(check_http_status("HTTP/1.0 2000 OK", 16), -1);
	assert_int_equal(check_http_status("HTTP/1.0 20x OK", 15), -1);
	assert_int_equal(check_http_status("HTTP/1.0 099 OK", 15), -1);
	assert_int_equal(check_http_status("HTTP/1.0200 OK", 14), -1);
}

static void
test_check_backoff(void **state)
{
	int ms = APP_BACKOFF_FIRST_MS;
	int seen[10];

	(void)state;
	for (int i = 0; i < 10; i++) {
		seen[i] = ms;
		ms = app_backoff_next(ms);
	}
	assert_int_equal(seen[0], 1000);
	assert_int_equal(seen[1], 2000);
	assert_int_equal(seen[2], 4000);
	assert_int_equal(seen[5], 32000);
	assert_int_equal(seen[6], 60000);
	assert_int_equal(seen[9], 60000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_parse_defaults),
		cmocka_unit_test(test_check_parse_rejects),
		cmocka_unit_test(test_check_http_status),
		cmocka_unit_test(test_check_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
