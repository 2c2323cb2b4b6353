#include "worker/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmem.h"
#include "worker/cause.h"

/* The child's step that failed, sent back with its errno over the pipe. */
enum spawn_step {
	SPAWN_STEP_DESCRIPTORS = 1,
	SPAWN_STEP_SESSION,
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_EXEC,
};

/* Eight bytes, under PIPE_BUF: written and read whole or not at all. */
struct spawn_report {
	int step;
	int err;
};

static void spawn_child(const struct spawn_request *, int)
    __attribute__((noreturn));

/*
 * The vforked child, up to execve. Only system calls here (no malloc, no
 * stdio, no log_*): the child runs in its parent's memory until it execs.
 * Failures go back over report_fd, the close-on-exec pipe's write end,
 * whose closing by a successful exec is what tells the parent it worked.
 */
static void
spawn_child(const struct spawn_request *req, int report_fd)
{
	int pass[SPAWN_PASS_MAX], npass = req->npass;
	struct spawn_report report;
	struct sigaction sa;
	sigset_t empty;
	int fd;

	/*
	 * Every signal is still blocked (spawn_app). Reset dispositions before
	 * the mask is emptied, so no signal can run a parent's handler in this
	 * copy of the parent, and so none the parent ignores stays ignored in
	 * the app (SIG_IGN survives exec): every one, or those req->reset
	 * names. sigaction refuses SIGKILL, SIGSTOP and the two glibc keeps
	 * for itself; those need nothing.
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < _NSIG; sig++)
		if (req->reset == NULL || sigismember(req->reset, sig) == 1)
			(void)sigaction(sig, &sa, NULL);

	report.step = SPAWN_STEP_DESCRIPTORS;
	/*
	 * The pipe end may sit on 0, 1 or 2 if the worker runs with those
	 * closed, or where a passed descriptor goes; move it above them before
	 * they are replaced. The old copy is overwritten by the dup2s below.
	 */
	if (report_fd < 3 + npass) {
		if ((fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 3 + npass)) == -1)
			goto fail;
		report_fd = fd;
	}
	/*
	 * Passed descriptors are copied above their targets first, so that
	 * placing one cannot overwrite another (or the log) still to be placed.
	 */
	for (int i = 0; i < npass; i++)
		if ((pass[i] = fcntl(req->pass_fds[i], F_DUPFD_CLOEXEC,
			 3 + npass)) == -1)
			goto fail;
	/* Log first: a log_fd of 0 must be copied before /dev/null lands. */
	if (dup2(req->log_fd, STDOUT_FILENO) == -1 ||
	    dup2(req->log_fd, STDERR_FILENO) == -1)
		goto fail;
	/* dup2 onto itself keeps FD_CLOEXEC, as when log_fd is already 1. */
	if (fcntl(STDOUT_FILENO, F_SETFD, 0) == -1 ||
	    fcntl(STDERR_FILENO, F_SETFD, 0) == -1)
		goto fail;
	/* 1 and 2 are taken, so this is 0 or a descriptor close_range shuts. */
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		goto fail;
	if (fd != STDIN_FILENO && dup2(fd, STDIN_FILENO) == -1)
		goto fail;
	/* dup2 clears close-on-exec on the target: these survive exec. */
	for (int i = 0; i < npass; i++)
		if (dup2(pass[i], 3 + i) == -1)
			goto fail;
	/* Everything above the passed ones but the pipe end (exec closes it). */
	if (report_fd > 3 + npass &&
	    close_range(3 + (unsigned)npass, report_fd - 1, 0) == -1)
		goto fail;
	if (close_range(report_fd + 1, ~0U, 0) == -1)
		goto fail;

	report.step = SPAWN_STEP_SESSION;
	if (setsid() == -1)
		goto fail;
	if (req->cwd != NULL) {
		report.step = SPAWN_STEP_CHDIR;
		if (chdir(req->cwd) == -1)
			goto fail;
	}

	/*
	 * Unblock last: the mask survives exec, and a signal sent to the app
	 * before this point is still delivered now, with its default action.
	 */
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	report.step = SPAWN_STEP_EXEC;
	execve(req->path, req->argv, req->envp);

fail:
	report.err = errno;
	/* Should this fail too, the parent reads EOF, then reaps a 127. */
	(void)!write(report_fd, &report, sizeof report);
	_exit(127);
}

/* Reaps pid, a child that has exited or is about to. */
static void
spawn_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			log_warn("waitpid %ld", (long)pid);
			return;
		}
	}
}

/* The message for a failure the child reported. */
static char *
spawn_report_cause(const struct spawn_request *req,
		   const struct spawn_report *report)
{
	char text[256];

	switch (report->step) {
	case SPAWN_STEP_EXEC:
		cause_exec_failed(report->err, text, sizeof text);
		return xstrdup(text);
	case SPAWN_STEP_CHDIR:
		return xasprintf("cannot change directory to %s: %s", req->cwd,
				 strerror(report->err));
	case SPAWN_STEP_SESSION:
		return xasprintf("setsid failed: %s", strerror(report->err));
	default:
		return xasprintf("cannot set up descriptors: %s",
				 strerror(report->err));
	}
}

int
spawn_app(const struct spawn_request *req, struct spawn_result *res,
	  char **cause)
{
	struct spawn_report report;
	sigset_t all, old;
	ssize_t n;
	pid_t pid;
	int pipefd[2], saved;

	res->pid = -1;
	res->pidfd = -1;
	/* The worker runs exactly what it is told, never a PATH match. */
	if (req->path == NULL || strchr(req->path, '/') == NULL) {
		*cause = xasprintf("program path must contain a '/': %s",
				   req->path != NULL ? req->path : "(none)");
		errno = EINVAL;
		return -1;
	}
	if (req->argv == NULL || req->argv[0] == NULL || req->envp == NULL) {
		*cause = xstrdup("no argv[0] or no environment to run with");
		errno = EINVAL;
		return -1;
	}
	if (req->npass < 0 || req->npass > SPAWN_PASS_MAX) {
		*cause = xasprintf("cannot pass %d descriptors", req->npass);
		errno = EINVAL;
		return -1;
	}
	if (req->log_fd < 0 || fcntl(req->log_fd, F_GETFD) == -1) {
		*cause = xasprintf("bad log descriptor %d", req->log_fd);
		errno = EBADF;
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		saved = errno;
		*cause = xasprintf("pipe: %s", strerror(saved));
		errno = saved;
		return -1;
	}

	/*
	 * vfork, as glibc's posix_spawn does: the child borrows our memory
	 * until it execs, so no page tables are copied and a launch costs what
	 * a raw spawn costs. That is safe because spawn_child only makes
	 * system calls on its own stack frame, and dispositions and the
	 * descriptor table are the child's own (no CLONE_SIGHAND, CLONE_FILES).
	 * We are suspended until the exec or the _exit, so the pipe read below
	 * returns at once.
	 *
	 * Block every signal across it, so the child cannot run one of our
	 * handlers before spawn_child has reset them; the parent gets its own
	 * mask back as soon as vfork returns.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0)
		spawn_child(req, pipefd[1]);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (pid == -1) {
		close(pipefd[0]);
		*cause = xasprintf("vfork: %s", strerror(saved));
		errno = saved;
		return -1;
	}

	/*
	 * Blocks until exec closes the child's end (EOF: success) or the child
	 * reports a failure. Single-threaded, so no other fork can hold a copy
	 * of the write end and delay the EOF.
	 */
	do
		n = read(pipefd[0], &report, sizeof report);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(pipefd[0]);

	if (n == (ssize_t)sizeof report) {
		/* The child has _exit'ed or is about to: leave no zombie. */
		spawn_wait(pid);
		*cause = spawn_report_cause(req, &report);
		errno = report.err;
		return -1;
	}
	if (n != 0) {
		/* No telling how far it got: make sure it runs nothing. */
		kill(pid, SIGKILL);
		spawn_wait(pid);
		*cause = xasprintf("cannot read the child's report: %s",
				   n == -1 ? strerror(saved) : "short read");
		errno = n == -1 ? saved : EIO;
		return -1;
	}

	/*
	 * Only the worker's loop reaps, and it has not run since fork, so pid
	 * is still this child, possibly as a zombie, which pidfd_open accepts.
	 */
	res->pid = pid;
	res->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (res->pidfd == -1 && errno != ENOSYS)
		log_warn("pidfd_open %ld", (long)pid);
	log_trace(TRACE_SPAWN, "spawned %s as %ld", req->path, (long)pid);
	return 0;
}

int
spawn_signal_group(pid_t pgid, int pidfd, int sig)
{
	/* kill(0) would hit the worker's own group, kill(-1) every process. */
	if (pgid <= 1) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Signal 0 through the pidfd fails with ESRCH once the leader has been
	 * reaped, when pgid may already belong to someone else. A leader that
	 * is the caller's child cannot be reaped between this check and kill
	 * (only the caller's loop reaps); the supervisor may reap an app then,
	 * but its pid would also have to be reused within those microseconds.
	 */
	if (pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1)
		return -1;
	return kill(-pgid, sig);
}
