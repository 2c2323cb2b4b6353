/* How an app ended, in words: real exits and signals, then built statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/cause.h"

/* Forks a child that runs body, then returns its wait status. */
static int
test_cause_status_of(void (*body)(void))
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		body();
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_cause_exit3_body(void)
{
	_exit(3);
}

static void
test_cause_kill_body(void)
{
	raise(SIGKILL);
}

static void
test_cause_segv_nocore_body(void)
{
	/* No core file on the test machine, whatever core_pattern says. */
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	/* cmocka catches SIGSEGV in the test process, and so in this fork. */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
}

static void
test_cause_real_processes(void **state)
{
	char buf[64];

	(void)state;
	cause_format(test_cause_status_of(test_cause_exit3_body), false, buf,
		     sizeof buf);
	assert_string_equal(buf, "exited 3");
	cause_format(test_cause_status_of(test_cause_kill_body), false, buf,
		     sizeof buf);
	assert_string_equal(buf, "killed by SIGKILL");
	cause_format(test_cause_status_of(test_cause_segv_nocore_body), false,
		     buf, sizeof buf);
	assert_string_equal(buf, "killed by SIGSEGV");
}

static void
test_cause_built_statuses(void **state)
{
	char buf[64];

	(void)state;
	cause_format(W_EXITCODE(0, 0), false, buf, sizeof buf);
	assert_string_equal(buf, "exited 0");
	cause_format(W_EXITCODE(255, 0), false, buf, sizeof buf);
	assert_string_equal(buf, "exited 255");
	cause_format(W_EXITCODE(0, SIGSEGV) | WCOREFLAG, false, buf,
		     sizeof buf);
	assert_string_equal(buf, "killed by SIGSEGV (core dumped)");
	cause_format(W_EXITCODE(0, SIGKILL), true, buf, sizeof buf);
	assert_string_equal(buf, "killed by SIGKILL (out of memory)");
	cause_format(W_EXITCODE(0, SIGRTMIN + 1), false, buf, sizeof buf);
	assert_string_equal(buf, "killed by SIGRTMIN+1");
	/* A child of the app was OOM-killed and the app gave up. */
	cause_format(W_EXITCODE(1, 0), true, buf, sizeof buf);
	assert_string_equal(buf, "exited 1 (out of memory)");
	cause_format(W_STOPCODE(SIGTSTP), false, buf, sizeof buf);
	assert_string_equal(buf, "stopped by SIGTSTP");
	cause_format(0xffff, false, buf, sizeof buf);
	assert_string_equal(buf, "continued");
}

static void
test_cause_truncates(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof buf);
	cause_format(W_EXITCODE(0, SIGKILL), false, buf, sizeof buf);
	assert_string_equal(buf, "killed ");
	memset(buf, 'x', sizeof buf);
	cause_format(W_EXITCODE(3, 0), false, buf, 0);
	assert_int_equal(buf[0], 'x');
	cause_exec_failed(ENOENT, buf, sizeof buf);
	assert_string_equal(buf, "exec fa");
}

static void
test_cause_exec_failed(void **state)
{
	char buf[128];

	(void)state;
	cause_exec_failed(ENOENT, buf, sizeof buf);
	assert_string_equal(buf, "exec failed: No such file or directory");
	cause_exec_failed(EACCES, buf, sizeof buf);
	assert_string_equal(buf, "exec failed: Permission denied");
	cause_exec_failed(ENOEXEC, buf, sizeof buf);
	assert_string_equal(buf, "exec failed: Exec format error");
	cause_exec_failed(123456, buf, sizeof buf);
	assert_string_equal(buf, "exec failed: Unknown error 123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cause_real_processes),
	    cmocka_unit_test(test_cause_built_statuses),
	    cmocka_unit_test(test_cause_truncates),
	    cmocka_unit_test(test_cause_exec_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
