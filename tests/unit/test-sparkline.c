/* Unit tests for the sparklines of `usage APP --history`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/sparkline.h"

static void
test_sparkline_scales_to_the_largest(void **state)
{
	const double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	char buf[64];

	(void)state;
	assert_int_equal(sparkline_render(v, NULL, 8, 80, buf, sizeof buf), 8);
	assert_string_equal(buf, "▁▂▃▄▅▆▇█");
}

static void
test_sparkline_keeps_spikes_when_squeezed(void **state)
{
	double v[100] = { 0 };
	char buf[64];

	(void)state;
	v[57] = 10;
	/* 100 values in 10 columns: the spike's column is full height. */
	assert_int_equal(sparkline_render(v, NULL, 100, 10, buf, sizeof buf),
	    10);
	assert_string_equal(buf, "▁▁▁▁▁█▁▁▁▁");
}

static void
test_sparkline_unknown_values_are_blank(void **state)
{
	const double v[] = { 4, 0, 8 };
	const bool known[] = { true, false, true };
	char buf[64];

	(void)state;
	assert_int_equal(sparkline_render(v, known, 3, 80, buf, sizeof buf), 3);
	assert_string_equal(buf, "▅ █");
}

static void
test_sparkline_all_zero_and_empty(void **state)
{
	const double v[] = { 0, 0 };
	char buf[64];

	(void)state;
	assert_int_equal(sparkline_render(v, NULL, 2, 80, buf, sizeof buf), 2);
	assert_string_equal(buf, "▁▁");
	assert_int_equal(sparkline_render(v, NULL, 0, 80, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void
test_sparkline_respects_the_buffer(void **state)
{
	const double v[] = { 1, 2, 3, 4, 5 };
	char buf[8];

	(void)state;
	/* Two blocks of three bytes and the NUL fit; a third does not. */
	assert_int_equal(sparkline_render(v, NULL, 5, 80, buf, sizeof buf), 2);
	assert_int_equal(strlen(buf), 6);
	assert_int_equal(sparkline_render(v, NULL, 5, 80, buf, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparkline_scales_to_the_largest),
		cmocka_unit_test(test_sparkline_keeps_spikes_when_squeezed),
		cmocka_unit_test(test_sparkline_unknown_values_are_blank),
		cmocka_unit_test(test_sparkline_all_zero_and_empty),
		cmocka_unit_test(test_sparkline_respects_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
