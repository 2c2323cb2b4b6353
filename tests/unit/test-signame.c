/* Signal names both ways: every accepted spelling and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/signame.h"

static void
test_signame_spellings(void **state)
{
	(void)state;
	assert_int_equal(signame_to_number("SIGINT"), SIGINT);
	assert_int_equal(signame_to_number("INT"), SIGINT);
	assert_int_equal(signame_to_number("sigint"), SIGINT);
	assert_int_equal(signame_to_number("int"), SIGINT);
	assert_int_equal(signame_to_number("SigTerm"), SIGTERM);
	assert_int_equal(signame_to_number("KILL"), SIGKILL);
	assert_int_equal(signame_to_number("sys"), SIGSYS);
	assert_int_equal(signame_to_number("SIGSYS"), SIGSYS);
	assert_int_equal(signame_to_number("STKFLT"), 16);
	assert_int_equal(signame_to_number("PWR"), SIGPWR);
}

/* The numbers are those of x86, ARM and RISC-V, not of MIPS or SPARC. */
static void
test_signame_all_standard_names(void **state)
{
	static const struct {
		const char *name;
		int number;
	} usual[] = {
	    {"SIGHUP", 1},     {"SIGINT", 2},	  {"SIGQUIT", 3},
	    {"SIGILL", 4},     {"SIGTRAP", 5},	  {"SIGABRT", 6},
	    {"SIGBUS", 7},     {"SIGFPE", 8},	  {"SIGKILL", 9},
	    {"SIGUSR1", 10},   {"SIGSEGV", 11},	  {"SIGUSR2", 12},
	    {"SIGPIPE", 13},   {"SIGALRM", 14},	  {"SIGTERM", 15},
	    {"SIGSTKFLT", 16}, {"SIGCHLD", 17},	  {"SIGCONT", 18},
	    {"SIGSTOP", 19},   {"SIGTSTP", 20},	  {"SIGTTIN", 21},
	    {"SIGTTOU", 22},   {"SIGURG", 23},	  {"SIGXCPU", 24},
	    {"SIGXFSZ", 25},   {"SIGVTALRM", 26}, {"SIGPROF", 27},
	    {"SIGWINCH", 28},  {"SIGIO", 29},	  {"SIGPWR", 30},
	    {"SIGSYS", 31},
	};

	(void)state;
#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__) &&     \
    !defined(__arm__) && !defined(__riscv)
	skip();
#endif
	for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++) {
		assert_int_equal(signame_to_number(usual[i].name),
				 usual[i].number);
		assert_string_equal(signame_from_number(usual[i].number),
				    usual[i].name);
	}
}

static void
test_signame_aliases_read_not_printed(void **state)
{
	(void)state;
	assert_int_equal(signame_to_number("IOT"), SIGABRT);
	assert_int_equal(signame_to_number("SIGCLD"), SIGCHLD);
	assert_int_equal(signame_to_number("poll"), SIGIO);
	assert_string_equal(signame_from_number(SIGABRT), "SIGABRT");
	assert_string_equal(signame_from_number(SIGCHLD), "SIGCHLD");
	assert_string_equal(signame_from_number(SIGIO), "SIGIO");
}

static void
test_signame_numbers(void **state)
{
	(void)state;
	assert_int_equal(signame_to_number("1"), 1);
	assert_int_equal(signame_to_number("9"), SIGKILL);
	assert_int_equal(signame_to_number("09"), SIGKILL);
	assert_int_equal(signame_to_number("64"), 64);
	assert_int_equal(signame_to_number("SIG32"), 32);
	assert_int_equal(signame_to_number("sig15"), SIGTERM);
}

static void
test_signame_realtime(void **state)
{
	(void)state;
	assert_int_equal(signame_to_number("RTMIN"), SIGRTMIN);
	assert_int_equal(signame_to_number("SIGRTMIN+0"), SIGRTMIN);
	assert_int_equal(signame_to_number("sigrtmin+3"), SIGRTMIN + 3);
	assert_int_equal(signame_to_number("RTMAX"), SIGRTMAX);
	assert_int_equal(signame_to_number("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(signame_to_number("RTMAX-30"), SIGRTMIN);
	assert_int_equal(signame_to_number("RTMIN+30"), SIGRTMAX);
	assert_string_equal(signame_from_number(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(signame_from_number(SIGRTMIN + 2), "SIGRTMIN+2");
	assert_string_equal(signame_from_number(SIGRTMAX), "SIGRTMAX");
}

static void
test_signame_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "SIG",
	    "sig",
	    "0",
	    "SIG0",
	    "65",
	    "100",
	    "-1",
	    "+9",
	    " 9",
	    "9 ",
	    "9x",
	    "0x9",
	    "KILLX",
	    "SIGKILL ",
	    " SIGKILL",
	    "KILL\n",
	    "SIGSIGINT",
	    "SI",
	    "S",
	    "99999999999999999999999999",
	    "4294967305",
	    "RTMIN+",
	    "RTMIN-1",
	    "RTMIN+31",
	    "RTMIN++1",
	    "RTMIN+-1",
	    "RTMAX-",
	    "RTMAX+1",
	    "RTMAX-31",
	    "RTMAX-99999999999",
	    "RT",
	    "RTMINX",
	    "\xff\xfe",
	    "ＩＮＴ",
	};

	(void)state;
	assert_int_equal(signame_to_number(NULL), -1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (signame_to_number(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
test_signame_round_trip(void **state)
{
	(void)state;
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		assert_int_equal(signame_to_number(signame_from_number(sig)),
				 sig);
}

static void
test_signame_unnamed_numbers(void **state)
{
	char both[64];

	(void)state;
	assert_string_equal(signame_from_number(32), "SIG32");
	assert_string_equal(signame_from_number(0), "SIG0");
	assert_string_equal(signame_from_number(-1), "SIG-1");
	assert_string_equal(signame_from_number(65), "SIG65");
	/* One slot per number: two names in one call stay distinct. */
	snprintf(both, sizeof both, "%s %s", signame_from_number(32),
		 signame_from_number(33));
	assert_string_equal(both, "SIG32 SIG33");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signame_spellings),
	    cmocka_unit_test(test_signame_all_standard_names),
	    cmocka_unit_test(test_signame_aliases_read_not_printed),
	    cmocka_unit_test(test_signame_numbers),
	    cmocka_unit_test(test_signame_realtime),
	    cmocka_unit_test(test_signame_rejects),
	    cmocka_unit_test(test_signame_round_trip),
	    cmocka_unit_test(test_signame_unnamed_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
