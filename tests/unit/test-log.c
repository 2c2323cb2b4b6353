/*
 * Unit tests for the log (log.c): every message is one line, tagged with
 * the role and level, whatever a name or cause from the network holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* What log_* wrote to stderr while fn ran. */
static char *
test_log_capture(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_int_not_equal(dup2(fileno(tmp), 2), -1);
	fn();
	fflush(stderr);
	assert_int_not_equal(dup2(saved, 2), -1);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof out - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
test_log_forged_line(void)
{
	/* A cause as a hostile worker could send it. */
	log_info("app %s on %s ended: %s", "web-1", "w1",
	    "exited 0\n00:00:00.000 master info: admin token reset\r\x1b[2K");
}

static void
test_a_message_is_one_line(void **state)
{
	char *out;

	(void)state;
	log_init("master");
	out = test_log_capture(test_log_forged_line);
	assert_non_null(strstr(out, " master info: app web-1 on w1 ended: "
	    "exited 0?00:00:00.000 master info: admin token reset??[2K\n"));
	/* One line: the only newline is the one that ends it. */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void
test_log_plain(void)
{
	log_warnx("node %s: %d apps", "w2", 3);
}

static void
test_plain_messages_are_unchanged(void **state)
{
	char *out;

	(void)state;
	log_init("worker w2");
	out = test_log_capture(test_log_plain);
	assert_non_null(strstr(out, " worker w2 warning: node w2: 3 apps\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_message_is_one_line),
		cmocka_unit_test(test_plain_messages_are_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
