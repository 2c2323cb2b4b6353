/*
 * spawn.c and reap.c with real processes: what the child gets (log, stdin,
 * descriptors, session, signals), what the caller gets back on failure, and
 * signalling and reaping afterwards. Every test reaps all it starts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "worker/reap.h"
#include "worker/spawn.h"

/* A small fixed environment: ls and sh output do not depend on the locale. */
static char *test_spawn_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

/* Whether pidfd_open works here (valgrind 3.19 does not know it). */
static bool test_spawn_have_pidfd;

struct test_spawn_log {
	char path[64];
	int fd;
};

/* A fresh log file, close-on-exec as the worker opens its logs. */
static void
test_spawn_log_open(struct test_spawn_log *log)
{
	snprintf(log->path, sizeof log->path, "/tmp/drover-test-spawn.XXXXXX");
	log->fd = mkostemp(log->path, O_CLOEXEC);
	assert_true(log->fd >= 0);
}

static void
test_spawn_log_close(struct test_spawn_log *log)
{
	close(log->fd);
	unlink(log->path);
}

/* The whole log so far, NUL-terminated. */
static void
test_spawn_log_read(const struct test_spawn_log *log, char *buf, size_t len)
{
	ssize_t n;

	n = pread(log->fd, buf, len - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void
test_spawn_start(const char *path, char *const *argv, const char *cwd,
		 int log_fd, struct spawn_result *res)
{
	struct spawn_request req = {
	    .path = path,
	    .argv = argv,
	    .envp = test_spawn_env,
	    .cwd = cwd,
	    .log_fd = log_fd,
	};
	char *cause = NULL;

	if (spawn_app(&req, res, &cause) != 0)
		fail_msg("spawn %s: %s", path, cause);
	assert_null(cause);
	assert_true(res->pid > 0);
	assert_int_equal(res->pidfd >= 0, test_spawn_have_pidfd);
}

/* Reaps the app, closes its pidfd and returns its wait status. */
static int
test_spawn_finish(struct spawn_result *res)
{
	int status;

	assert_int_equal(waitpid(res->pid, &status, 0), res->pid);
	if (res->pidfd >= 0)
		close(res->pidfd);
	return status;
}

/* Runs a program to its end and returns its wait status. */
static int
test_spawn_run(const char *path, char *const *argv, const char *cwd, int log_fd)
{
	struct spawn_result res;

	test_spawn_start(path, argv, cwd, log_fd, &res);
	return test_spawn_finish(&res);
}

/* Blocks until pid has exited, without reaping it. */
static void
test_spawn_wait_exited(pid_t pid)
{
	siginfo_t info;

	assert_int_equal(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
}

static void
test_spawn_assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static int
test_spawn_count_fds(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Expects spawn_app to fail with err and exactly the message want. */
static void
test_spawn_expect_failure(const struct spawn_request *req, int err,
			  const char *want)
{
	struct spawn_result res;
	char *cause = NULL;

	assert_int_equal(spawn_app(req, &res, &cause), -1);
	assert_int_equal(errno, err);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	assert_int_equal(res.pid, -1);
	assert_int_equal(res.pidfd, -1);
	free(cause);
	test_spawn_assert_no_children();
}

static void
test_spawn_echo_writes_log(void **state)
{
	char *argv[] = {"echo", "hello", "world", NULL};
	struct test_spawn_log log;
	char buf[256];
	int status;

	(void)state;
	test_spawn_log_open(&log);
	status = test_spawn_run("/bin/echo", argv, NULL, log.fd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "hello world\n");
	test_spawn_log_close(&log);
	test_spawn_assert_no_children();
}

static void
test_spawn_stdout_and_stderr_share_log(void **state)
{
	char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 4", NULL};
	struct test_spawn_log log;
	char buf[256];
	int status;

	(void)state;
	test_spawn_log_open(&log);
	status = test_spawn_run("/bin/sh", argv, NULL, log.fd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 4);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "out\nerr\n");
	test_spawn_log_close(&log);
}

static void
test_spawn_passes_exact_environment(void **state)
{
	char *argv[] = {"env", NULL};
	char *envp[] = {"A=1", "B=two words", NULL};
	struct spawn_request req = {
	    .path = "/usr/bin/env",
	    .argv = argv,
	    .envp = envp,
	    .log_fd = -1,
	};
	struct spawn_result res;
	struct test_spawn_log log;
	char *cause = NULL, buf[256];

	(void)state;
	test_spawn_log_open(&log);
	req.log_fd = log.fd;
	assert_int_equal(spawn_app(&req, &res, &cause), 0);
	test_spawn_finish(&res);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "A=1\nB=two words\n");
	test_spawn_log_close(&log);
}

static void
test_spawn_missing_path_fails(void **state)
{
	char *argv[] = {"missing", NULL};
	struct spawn_request req = {
	    .path = "/nonexistent/drover-missing",
	    .argv = argv,
	    .envp = test_spawn_env,
	    .log_fd = STDERR_FILENO,
	};

	(void)state;
	test_spawn_expect_failure(&req, ENOENT,
				  "exec failed: No such file or directory");
}

static void
test_spawn_not_executable_fails(void **state)
{
	char *argv[] = {"script", NULL};
	char path[] = "/tmp/drover-test-noexec.XXXXXX";
	struct spawn_request req = {
	    .path = path,
	    .argv = argv,
	    .envp = test_spawn_env,
	    .log_fd = STDERR_FILENO,
	};
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	/* No x bit at all: even root gets EACCES. */
	assert_int_equal(chmod(path, 0644), 0);
	test_spawn_expect_failure(&req, EACCES,
				  "exec failed: Permission denied");
	unlink(path);
}

static void
test_spawn_refuses_path_search(void **state)
{
	char *argv[] = {"echo", "hi", NULL};
	struct spawn_request req = {
	    .path = "echo",
	    .argv = argv,
	    .envp = test_spawn_env,
	    .log_fd = STDERR_FILENO,
	};

	(void)state;
	test_spawn_expect_failure(&req, EINVAL,
				  "program path must contain a '/': echo");
}

static void
test_spawn_refuses_bad_requests(void **state)
{
	char *argv[] = {"echo", NULL}, *noargv[] = {NULL};
	struct spawn_request req = {
	    .path = "/bin/echo",
	    .argv = noargv,
	    .envp = test_spawn_env,
	    .log_fd = STDERR_FILENO,
	};

	(void)state;
	test_spawn_expect_failure(&req, EINVAL,
				  "no argv[0] or no environment to run with");
	req.argv = argv;
	req.envp = NULL;
	test_spawn_expect_failure(&req, EINVAL,
				  "no argv[0] or no environment to run with");
	req.envp = test_spawn_env;
	req.log_fd = -1;
	test_spawn_expect_failure(&req, EBADF, "bad log descriptor -1");
	req.log_fd = 999;
	test_spawn_expect_failure(&req, EBADF, "bad log descriptor 999");
}

static void
test_spawn_changes_directory(void **state)
{
	char *argv[] = {"pwd", NULL};
	struct test_spawn_log log;
	char buf[256];

	(void)state;
	test_spawn_log_open(&log);
	test_spawn_run("/bin/pwd", argv, "/proc/self/..", log.fd);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "/proc\n");
	test_spawn_log_close(&log);
}

static void
test_spawn_missing_directory_fails(void **state)
{
	char *argv[] = {"pwd", NULL};
	struct spawn_request req = {
	    .path = "/bin/pwd",
	    .argv = argv,
	    .envp = test_spawn_env,
	    .cwd = "/nonexistent/drover-dir",
	    .log_fd = STDERR_FILENO,
	};

	(void)state;
	test_spawn_expect_failure(
	    &req, ENOENT,
	    "cannot change directory to /nonexistent/drover-dir: "
	    "No such file or directory");
}

static void
test_spawn_own_session(void **state)
{
	char *argv[] = {"sleep", "100", NULL};
	struct spawn_result res;
	int status;

	(void)state;
	test_spawn_start("/bin/sleep", argv, NULL, STDERR_FILENO, &res);
	assert_int_equal(getsid(res.pid), res.pid);
	assert_int_equal(getpgid(res.pid), res.pid);
	assert_int_not_equal(getsid(0), res.pid);
	assert_int_equal(spawn_signal_group(res.pid, res.pidfd, SIGKILL), 0);
	status = test_spawn_finish(&res);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void
test_spawn_closes_other_descriptors(void **state)
{
	char *ls[] = {"ls", "/proc/self/fd", NULL};
	char *links[] = {"readlink", "/proc/self/fd/0", "/proc/self/fd/1",
			 "/proc/self/fd/2", NULL};
	struct test_spawn_log log;
	char buf[512], want[512];
	int leaked_low, leaked_high;

	(void)state;
	test_spawn_log_open(&log);
	/* Two descriptors without close-on-exec that the app must not get. */
	assert_true((leaked_low = open("/dev/null", O_RDONLY)) >= 0);
	assert_int_equal(dup2(leaked_low, 200), 200);
	leaked_high = 200;

	/* ls's own descriptor for the directory it lists is the 3. */
	test_spawn_run("/bin/ls", ls, NULL, log.fd);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "0\n1\n2\n3\n");

	assert_int_equal(ftruncate(log.fd, 0), 0);
	assert_int_equal(lseek(log.fd, 0, SEEK_SET), 0);
	test_spawn_run("/bin/readlink", links, NULL, log.fd);
	test_spawn_log_read(&log, buf, sizeof buf);
	snprintf(want, sizeof want, "/dev/null\n%s\n%s\n", log.path, log.path);
	assert_string_equal(buf, want);

	close(leaked_low);
	close(leaked_high);
	test_spawn_log_close(&log);
}

static void
test_spawn_leaves_no_descriptor_behind(void **state)
{
	char *argv[] = {"true", NULL};
	struct spawn_request req = {
	    .path = "/nonexistent/x",
	    .argv = argv,
	    .envp = test_spawn_env,
	    .log_fd = STDERR_FILENO,
	};
	struct spawn_result res;
	char *cause = NULL;
	int before;

	(void)state;
	before = test_spawn_count_fds();
	assert_int_equal(spawn_app(&req, &res, &cause), -1);
	free(cause);
	assert_int_equal(test_spawn_count_fds(), before);
	test_spawn_start("/bin/true", argv, NULL, STDERR_FILENO, &res);
	/* Only the pidfd, which is the caller's. */
	if (test_spawn_have_pidfd) {
		assert_int_equal(test_spawn_count_fds(), before + 1);
		assert_int_equal(fcntl(res.pidfd, F_GETFD), FD_CLOEXEC);
	} else {
		assert_int_equal(test_spawn_count_fds(), before);
	}
	test_spawn_finish(&res);
	assert_int_equal(test_spawn_count_fds(), before);
}

/* The app must die of SIGINT it sends itself, whatever the worker does. */
static void
test_spawn_expect_self_sigint(void)
{
	char *argv[] = {"sh", "-c", "kill -INT $$; echo alive", NULL};
	struct test_spawn_log log;
	struct spawn_result res;
	struct rusage ru;
	char buf[256];
	int status;

	test_spawn_log_open(&log);
	test_spawn_start("/bin/sh", argv, NULL, log.fd, &res);
	assert_int_equal(wait4(res.pid, &status, 0, &ru), res.pid);
	if (res.pidfd >= 0)
		close(res.pidfd);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "");
	test_spawn_log_close(&log);
}

static void
test_spawn_resets_ignored_signals(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;

	(void)state;
	assert_int_equal(sigaction(SIGINT, &ign, &old), 0);
	test_spawn_expect_self_sigint();
	assert_int_equal(sigaction(SIGINT, &old, NULL), 0);
}

/*
 * With a reset set, only its signals go back to the default: the
 * supervisor names those it ignores rather than paying 64 system calls.
 */
static void
test_spawn_resets_only_the_signals_named(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	char *argv[] = {"sh", "-c", "kill -INT $$; echo alive", NULL};
	struct spawn_request req = {
	    .path = "/bin/sh",
	    .argv = argv,
	    .envp = test_spawn_env,
	};
	struct test_spawn_log log;
	struct spawn_result res;
	sigset_t others;
	char buf[256], *cause = NULL;
	int status;

	(void)state;
	assert_int_equal(sigaction(SIGINT, &ign, &old), 0);
	sigemptyset(&others);
	sigaddset(&others, SIGUSR1);
	req.reset = &others;
	test_spawn_log_open(&log);
	req.log_fd = log.fd;
	assert_int_equal(spawn_app(&req, &res, &cause), 0);
	status = test_spawn_finish(&res);
	/* SIGINT was not named: still ignored, the shell goes on. */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "alive\n");
	test_spawn_log_close(&log);

	/* Named, it is the default again: the shell dies of it. */
	sigaddset(&others, SIGINT);
	test_spawn_log_open(&log);
	req.log_fd = log.fd;
	assert_int_equal(spawn_app(&req, &res, &cause), 0);
	status = test_spawn_finish(&res);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	test_spawn_log_close(&log);
	assert_int_equal(sigaction(SIGINT, &old, NULL), 0);
}

static void
test_spawn_empties_signal_mask(void **state)
{
	sigset_t block, before, after;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &before), 0);
	sigprocmask(SIG_SETMASK, NULL, &before);
	test_spawn_expect_self_sigint();
	/* And the caller's own mask is back as it was. */
	sigprocmask(SIG_SETMASK, NULL, &after);
	for (int sig = 1; sig < _NSIG; sig++)
		assert_int_equal(sigismember(&after, sig),
				 sigismember(&before, sig));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

/* Descriptors 0 and 2 closed: the pipe's write end lands on 2. */
static void
test_spawn_works_with_standard_descriptors_closed(void **state)
{
	char *echo[] = {"echo", "fine", NULL};
	char *missing[] = {"missing", NULL};
	struct spawn_request req = {
	    .path = "/nonexistent/x",
	    .argv = missing,
	    .envp = test_spawn_env,
	};
	struct spawn_result res;
	struct test_spawn_log log;
	int saved_in, saved_err, rc_missing, err_missing, rc_echo, status = -1;
	char *cause = NULL, buf[256];

	(void)state;
	test_spawn_log_open(&log);
	req.log_fd = log.fd;
	saved_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 10);
	saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
	assert_true(saved_in >= 0 && saved_err >= 0);

	/* No asserts until stderr is back: cmocka reports on it. */
	close(STDIN_FILENO);
	close(STDERR_FILENO);
	rc_missing = spawn_app(&req, &res, &cause);
	err_missing = errno;
	req.path = "/bin/echo";
	req.argv = echo;
	rc_echo = spawn_app(&req, &res, &cause);
	if (rc_echo == 0) {
		/* Its pidfd took the free 0: done with it before 0 is restored.
		 */
		waitpid(res.pid, &status, 0);
		if (res.pidfd >= 0)
			close(res.pidfd);
	}
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_in);
	close(saved_err);

	assert_int_equal(rc_missing, -1);
	assert_int_equal(err_missing, ENOENT);
	assert_int_equal(rc_echo, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_spawn_log_read(&log, buf, sizeof buf);
	assert_string_equal(buf, "fine\n");
	test_spawn_log_close(&log);
	/* Only the first call filled it; the second succeeded. */
	assert_string_equal(cause, "exec failed: No such file or directory");
	free(cause);
}

/* The log on 0 itself: copied to 1 and 2 before /dev/null replaces it. */
static void
test_spawn_log_on_descriptor_zero(void **state)
{
	char *argv[] = {"readlink", "/proc/self/fd/0", "/proc/self/fd/1", NULL};
	struct test_spawn_log log;
	char buf[512], want[512];
	int saved_in, status;

	(void)state;
	test_spawn_log_open(&log);
	assert_true((saved_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 10)) >= 0);
	assert_int_equal(dup3(log.fd, STDIN_FILENO, O_CLOEXEC), STDIN_FILENO);
	status = test_spawn_run("/bin/readlink", argv, NULL, STDIN_FILENO);
	dup2(saved_in, STDIN_FILENO);
	close(saved_in);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_spawn_log_read(&log, buf, sizeof buf);
	snprintf(want, sizeof want, "/dev/null\n%s\n", log.path);
	assert_string_equal(buf, want);
	test_spawn_log_close(&log);
}

struct test_reap_seen {
	int count;
	pid_t pid[4];
	int status[4];
	long maxrss[4];
};

static void
test_reap_record(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	struct test_reap_seen *seen = arg;

	assert_true(seen->count < 4);
	seen->pid[seen->count] = pid;
	seen->status[seen->count] = status;
	seen->maxrss[seen->count] = ru->ru_maxrss;
	seen->count++;
}

static void
test_reap_collects_exits_with_usage(void **state)
{
	char *three[] = {"sh", "-c", "exit 3", NULL};
	char *five[] = {"sh", "-c", "exit 5", NULL};
	struct spawn_result a, b;
	struct test_reap_seen seen = {0};
	int i;

	(void)state;
	reap_children(test_reap_record, &seen);
	assert_int_equal(seen.count, 0);

	test_spawn_start("/bin/sh", three, NULL, STDERR_FILENO, &a);
	test_spawn_start("/bin/sh", five, NULL, STDERR_FILENO, &b);
	test_spawn_wait_exited(a.pid);
	test_spawn_wait_exited(b.pid);
	/* One call collects both, as after one coalesced SIGCHLD. */
	reap_children(test_reap_record, &seen);
	assert_int_equal(seen.count, 2);
	i = seen.pid[0] == a.pid ? 0 : 1;
	assert_int_equal(seen.pid[i], a.pid);
	assert_int_equal(seen.pid[1 - i], b.pid);
	assert_true(WIFEXITED(seen.status[i]));
	assert_int_equal(WEXITSTATUS(seen.status[i]), 3);
	assert_true(WIFEXITED(seen.status[1 - i]));
	assert_int_equal(WEXITSTATUS(seen.status[1 - i]), 5);
	/* A shell that ran at all had some memory. */
	assert_true(seen.maxrss[0] > 0 && seen.maxrss[1] > 0);
	if (a.pidfd >= 0)
		close(a.pidfd);
	if (b.pidfd >= 0)
		close(b.pidfd);

	reap_children(test_reap_record, &seen);
	assert_int_equal(seen.count, 2);
	test_spawn_assert_no_children();
}

static void
test_reap_leaves_running_children(void **state)
{
	char *argv[] = {"sleep", "100", NULL};
	struct test_reap_seen seen = {0};
	struct spawn_result res;

	(void)state;
	test_spawn_start("/bin/sleep", argv, NULL, STDERR_FILENO, &res);
	reap_children(test_reap_record, &seen);
	assert_int_equal(seen.count, 0);
	assert_int_equal(spawn_signal_group(res.pid, res.pidfd, SIGKILL), 0);
	test_spawn_wait_exited(res.pid);
	reap_children(NULL, NULL);
	test_spawn_assert_no_children();
	if (res.pidfd >= 0)
		close(res.pidfd);
}

/*
 * Reaps pid, polling for up to 10 s, and returns its wait status. Past the
 * deadline it kills pid (so no stray process outlives the test) and fails.
 */
static int
test_spawn_reap_within_deadline(pid_t pid)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int status;
	pid_t got;

	for (int tries = 0; tries < 1000; tries++) {
		got = waitpid(pid, &status, WNOHANG);
		assert_int_not_equal(got, -1);
		if (got == pid)
			return status;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("%ld still running after 10 s", (long)pid);
	return -1;
}

static void
test_spawn_signal_group_reaches_grandchild(void **state)
{
	/*
	 * exec: the leader becomes a sleep that never reaps, so the background
	 * sleep is surely orphaned to this process rather than reaped by sh.
	 */
	char *argv[] = {"sh", "-c", "sleep 100 & echo $!; exec sleep 100",
			NULL};
	struct test_spawn_log log;
	struct spawn_result res;
	struct timespec tick = {0, 10 * 1000 * 1000};
	char buf[64];
	pid_t grandchild;
	int status, tries;

	(void)state;
	test_spawn_log_open(&log);
	test_spawn_start("/bin/sh", argv, NULL, log.fd, &res);
	/* Poll for the grandchild's pid, with a deadline of 10 s. */
	for (tries = 0; tries < 1000; tries++) {
		test_spawn_log_read(&log, buf, sizeof buf);
		if (strchr(buf, '\n') != NULL)
			break;
		nanosleep(&tick, NULL);
	}
	grandchild = (pid_t)atol(buf);
	assert_true(grandchild > 1);
	assert_int_equal(getpgid(grandchild), res.pid);

	assert_int_equal(spawn_signal_group(res.pid, res.pidfd, SIGTERM), 0);
	status = test_spawn_finish(&res);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* Orphaned, it came back to this process, the subreaper. */
	status = test_spawn_reap_within_deadline(grandchild);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	test_spawn_log_close(&log);
	test_spawn_assert_no_children();
}

static void
test_spawn_signal_group_refuses_reaped_app(void **state)
{
	char *argv[] = {"true", NULL};
	struct spawn_result res;

	(void)state;
	if (!test_spawn_have_pidfd)
		skip();
	test_spawn_start("/bin/true", argv, NULL, STDERR_FILENO, &res);
	assert_int_equal(waitpid(res.pid, NULL, 0), res.pid);
	errno = 0;
	assert_int_equal(spawn_signal_group(res.pid, res.pidfd, SIGKILL), -1);
	assert_int_equal(errno, ESRCH);
	if (res.pidfd >= 0)
		close(res.pidfd);
}

static void
test_spawn_signal_group_accepts_zombie_leader(void **state)
{
	char *argv[] = {"true", NULL};
	struct spawn_result res;

	(void)state;
	test_spawn_start("/bin/true", argv, NULL, STDERR_FILENO, &res);
	test_spawn_wait_exited(res.pid);
	assert_int_equal(spawn_signal_group(res.pid, res.pidfd, SIGTERM), 0);
	test_spawn_finish(&res);
}

static void
test_spawn_signal_group_refuses_low_pgid(void **state)
{
	(void)state;
	/* Signal 0: were the check missing, kill(-1, 0) would harm nothing. */
	errno = 0;
	assert_int_equal(spawn_signal_group(1, -1, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(spawn_signal_group(0, -1, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(spawn_signal_group(-5, -1, 0), -1);
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spawn_echo_writes_log),
	    cmocka_unit_test(test_spawn_stdout_and_stderr_share_log),
	    cmocka_unit_test(test_spawn_passes_exact_environment),
	    cmocka_unit_test(test_spawn_missing_path_fails),
	    cmocka_unit_test(test_spawn_not_executable_fails),
	    cmocka_unit_test(test_spawn_refuses_path_search),
	    cmocka_unit_test(test_spawn_refuses_bad_requests),
	    cmocka_unit_test(test_spawn_changes_directory),
	    cmocka_unit_test(test_spawn_missing_directory_fails),
	    cmocka_unit_test(test_spawn_own_session),
	    cmocka_unit_test(test_spawn_closes_other_descriptors),
	    cmocka_unit_test(test_spawn_leaves_no_descriptor_behind),
	    cmocka_unit_test(test_spawn_resets_ignored_signals),
	    cmocka_unit_test(test_spawn_resets_only_the_signals_named),
	    cmocka_unit_test(test_spawn_empties_signal_mask),
	    cmocka_unit_test(test_spawn_works_with_standard_descriptors_closed),
	    cmocka_unit_test(test_spawn_log_on_descriptor_zero),
	    cmocka_unit_test(test_reap_collects_exits_with_usage),
	    cmocka_unit_test(test_reap_leaves_running_children),
	    cmocka_unit_test(test_spawn_signal_group_reaches_grandchild),
	    cmocka_unit_test(test_spawn_signal_group_refuses_reaped_app),
	    cmocka_unit_test(test_spawn_signal_group_accepts_zombie_leader),
	    cmocka_unit_test(test_spawn_signal_group_refuses_low_pgid),
	};
	int fd;

	if ((fd = (int)syscall(SYS_pidfd_open, getpid(), 0)) >= 0) {
		test_spawn_have_pidfd = true;
		close(fd);
	}
	/* So an app's orphaned descendants come back here to be checked. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("prctl PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
