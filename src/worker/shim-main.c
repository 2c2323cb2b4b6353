/*
 * drover-shim: the per-app supervisor the worker starts (see shim.h), a
 * program of its own rather than a role of `drover`. It is exec'd once per
 * launch, so it links only what it uses (libc, jansson, a few of drover's
 * own modules; never ZeroMQ, curl or SQLite) and, outside sanitizer builds,
 * statically: its exec costs a fraction of a millisecond where `drover`'s
 * ~60 shared libraries cost ~13 ms. containerd-shim and conmon stand beside
 * their daemons the same way.
 *
 * Started as `drover-shim zygote` with a socket on SHIM_SPEC_FD, where the
 * requests come (see shim_zygote), or as `drover-shim ID` with the request
 * on SHIM_SPEC_FD and the report pipe on SHIM_REPORT_FD.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/applog.h"
#include "worker/shim.h"
#include "worker/spawn.h"
#include "worker/workerstate.h"

struct shim {
	char *id;
	char *dir;
	char *path;
	char **argv;
	char **envp;
	char *cwd;
	long long log_max;
	int log_keep;
	struct applog *log;
	int out_fd; /* the read end of the app's output pipe, -1 at EOF */
	pid_t pid;
	unsigned long long start;
};

static char **
shim_strv(json_t *a)
{
	char **v;
	json_t *s;
	size_t i;

	if (!json_is_array(a))
		return NULL;
	v = xcalloc(json_array_size(a) + 1, sizeof *v);
	json_array_foreach(a, i, s) {
		if (!json_is_string(s)) {
			util_strv_free(v);
			return NULL;
		}
		v[i] = xstrdup(json_string_value(s));
	}
	return v;
}

/* The worker that a shim forked by the zygote is handed to; 0 otherwise. */
static pid_t shim_worker;

/* Put fds (the request, the report pipe) on SHIM_SPEC_FD, SHIM_REPORT_FD. */
static void
shim_take_fds(int fds[2])
{
	int spec, report;

	/* Above 4 first: either may be 3 or 4 now, the other's target. */
	spec = fcntl(fds[0], F_DUPFD_CLOEXEC, 10);
	report = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
	close(fds[0]);
	close(fds[1]);
	if (spec == -1 || report == -1 || dup2(spec, SHIM_SPEC_FD) == -1 ||
	    dup2(report, SHIM_REPORT_FD) == -1)
		fatal("cannot take the launch's descriptors");
	close(spec);
	close(report);
}

/*
 * Fork a shim as the zygote's sibling: CLONE_PARENT makes it the worker's
 * child from its first instruction, so that the worker reaps it (and with
 * it the rusage of the app, in its getrusage(RUSAGE_CHILDREN)). Like fork
 * otherwise (SIGCHLD to the parent at exit, memory copied on write). Not
 * glibc's fork, which takes no flags; the zygote is single threaded and
 * runs no atfork handlers, so nothing needs them, and glibc reads the
 * thread id it would have refreshed from the kernel (raise, since 2.34).
 * Where the kernel refuses it (EINVAL in a pid namespace's init), the
 * zygote forks twice and the middle process exits at once, so that the
 * shim is handed to the worker, a child subreaper.
 */
static pid_t
shim_fork_sibling(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL,
	    NULL, NULL, NULL);

	if (pid != -1 || errno != EINVAL)
		return pid;
	if ((pid = fork()) == 0) {
		if ((pid = fork()) != 0)
			_exit(pid == -1 ? 1 : 0);
		return 0;
	}
	/* The middle process's pid: the shim's is its own to learn. */
	return pid;
}

/*
 * The zygote, started once by the worker as `drover-shim zygote`: it waits
 * on its socket (SHIM_SPEC_FD) for a launch's request and report pipe and
 * forks the app's shim from itself, already started (shim_fork_sibling). A
 * fork of this small process costs a fraction of an exec of drover-shim,
 * whose C library start-up alone (CPUID queries, each a trap in a virtual
 * machine) took about a third of a millisecond of CPU. Returns 0 in the
 * zygote when the worker closed the socket, and in each shim, with its
 * descriptors in place, 1.
 */
static int
shim_zygote(void)
{
	pid_t worker = getppid(), pid;
	int fds[2], rc;

	/* Middle processes, if any, are reaped by the kernel. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		/* The request and the report pipe of one launch (shim.c). */
		if ((rc = util_recv_fds(SHIM_SPEC_FD, fds, 2)) == 0)
			return 0;
		if (rc == -1) {
			/* A socket that fails once fails again: stop. */
			if (errno != EBADMSG) {
				log_warn("recvmsg");
				return 0;
			}
			log_warnx("a message from the worker without two "
			    "descriptors");
			continue;
		}
		if ((pid = shim_fork_sibling()) == 0)
			break;
		if (pid == -1) {
			char line[128];
			int n = snprintf(line, sizeof line, "failed fork: %s\n",
			    strerror(errno));

			(void)!write(fds[1], line, (size_t)n);
		}
		close(fds[0]);
		close(fds[1]);
	}
	/* The shim. */
	signal(SIGCHLD, SIG_DFL);
	close(SHIM_SPEC_FD);
	shim_take_fds(fds);
	shim_worker = worker;
	return 1;
}

/*
 * A shim forked by the zygote reports once it is the worker's child, so
 * that the worker can take it for one (and reap it). It is from the start
 * unless the zygote had to fork twice; then its middle parent exited right
 * after the fork, and by the time the app has started it is gone.
 */
static void
shim_await_handover(void)
{
	if (shim_worker == 0)
		return;
	for (int i = 0; i < 20000 && getppid() != shim_worker; i++)
		usleep(50);
}

/* Read the worker's request from SHIM_SPEC_FD. */
static int
shim_read_spec(struct shim *s, char **cause)
{
	const char *id, *dir, *path, *cwd = NULL;
	long long max, keep;
	json_error_t err;
	char *role;
	json_t *j;
	int rc = -1;

	/*
	 * Read it whole, then parse: json_loadfd reads one byte per system
	 * call, thousands of them for an app with a large environment.
	 */
	char *text = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len + 65536 > cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > SHIM_SPEC_MAX)
				break;
			text = xrealloc(text, cap);
		}
		n = read(SHIM_SPEC_FD, text + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(SHIM_SPEC_FD);
	j = text != NULL ? json_loadb(text, len, 0, &err) : NULL;
	if (text == NULL)
		snprintf(err.text, sizeof err.text, "empty or too large");
	free(text);
	if (j == NULL) {
		*cause = xasprintf("cannot read the shim's request: %s",
		    err.text);
		return -1;
	}
	if (jsonx_get_str(j, "id", true, &id, cause) == -1 ||
	    jsonx_get_str(j, "dir", true, &dir, cause) == -1 ||
	    jsonx_get_str(j, "path", true, &path, cause) == -1 ||
	    jsonx_get_str(j, "cwd", false, &cwd, cause) == -1 ||
	    jsonx_get_int(j, "log_max", true, 1, 1LL << 40, &max, cause) == -1 ||
	    jsonx_get_int(j, "log_keep", true, 0, APPLOG_MAX_KEEP, &keep,
		cause) == -1)
		goto out;
	s->argv = shim_strv(json_object_get(j, "argv"));
	s->envp = shim_strv(json_object_get(j, "envp"));
	if (s->argv == NULL || s->envp == NULL) {
		*cause = xstrdup("the shim's request has no argv or envp");
		goto out;
	}
	s->id = xstrdup(id);
	s->dir = xstrdup(dir);
	s->path = xstrdup(path);
	s->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	s->log_max = max;
	s->log_keep = (int)keep;
	role = xasprintf("shim %s", s->id);
	log_set_role(role);
	free(role);
	/* Where the zygote was started is no app's: move to ours. */
	if (chdir(s->dir) == -1) {
		*cause = xasprintf("cannot enter %s: %s", s->dir,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static void
shim_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line to the worker, then the pipe is closed: it waits for nothing else. */
static void
shim_report(const char *fmt, ...)
{
	char buf[SHIM_REPORT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	/* Under PIPE_BUF: one write, whole. */
	(void)!write(SHIM_REPORT_FD, buf, (size_t)n);
	close(SHIM_REPORT_FD);
}

/* Move what the app wrote into its log; at EOF close the pipe. */
static void
shim_drain(struct shim *s)
{
	char buf[65536];
	ssize_t n;

	while (s->out_fd != -1) {
		n = read(s->out_fd, buf, sizeof buf);
		if (n > 0) {
			if (applog_write(s->log, buf, (size_t)n) == -1)
				log_warn("app %s: log write", s->id);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		close(s->out_fd);
		s->out_fd = -1;
	}
}

static void
shim_free(struct shim *s)
{
	applog_close(s->log);
	if (s->out_fd != -1)
		close(s->out_fd);
	util_strv_free(s->argv);
	util_strv_free(s->envp);
	free(s->id);
	free(s->dir);
	free(s->path);
	free(s->cwd);
}

/* Start the app with the one recipe (spawn.c), its output into our pipe. */
static int
shim_spawn(struct shim *s, char **cause)
{
	struct spawn_request sr = { 0 };
	struct spawn_result res;
	char *logpath = xasprintf("%s/output.log", s->dir);
	int pipefd[2];

	s->log = applog_open(logpath, (off_t)s->log_max, s->log_keep, cause);
	free(logpath);
	if (s->log == NULL)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	/* A larger pipe lets a burst of output wait without blocking. */
	fcntl(pipefd[0], F_SETPIPE_SZ, 1024 * 1024);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	s->out_fd = pipefd[0];
	sr.path = s->path;
	sr.argv = s->argv;
	sr.envp = s->envp;
	sr.cwd = s->cwd != NULL ? s->cwd : s->dir;
	sr.log_fd = pipefd[1];
	if (spawn_app(&sr, &res, cause) == -1) {
		close(pipefd[1]);
		return -1;
	}
	/* Only the app holds the write end now: EOF when its group is gone. */
	close(pipefd[1]);
	if (res.pidfd != -1)
		close(res.pidfd);
	s->pid = res.pid;
	/* Not reaped before we do it: the start time is the app's. */
	if (workerstate_read_start(s->pid, &s->start) == -1)
		s->start = 0;
	return 0;
}

/* Record how the app ended, for the worker (running or restarted later). */
static void
shim_write_exit(struct shim *s, int status, const struct rusage *ru)
{
	struct workerstate_exit e = { 0 };
	char *text, *path;

	e.pid = s->pid;
	e.start = s->start;
	e.status = status;
	e.user_us = (long long)ru->ru_utime.tv_sec * 1000000 +
	    ru->ru_utime.tv_usec;
	e.sys_us = (long long)ru->ru_stime.tv_sec * 1000000 +
	    ru->ru_stime.tv_usec;
	e.maxrss_kb = ru->ru_maxrss;
	e.ended_at = util_wall_ms();
	text = workerstate_format_exit(&e);
	path = xasprintf("%s/exit", s->dir);
	/*
	 * In place: the worker reads it only once we are gone, and a new
	 * inode per run cost this machine's ext4 (no journal) a scan past the
	 * recently deleted ones, more CPU than the rest of the shim.
	 */
	if (util_write_file_in_place(path, text, strlen(text), 0600) == -1)
		log_warn("app %s: cannot write %s", s->id, path);
	free(path);
	free(text);
}

/*
 * Show the app's id where `ps` shows our arguments: the zygote was started
 * as `drover-shim zygote` padded with spaces (SHIM_ZYGOTE_ARG), room that
 * the id now takes in its shim (cut to fit).
 */
static void
shim_set_title(char *arg, const char *id)
{
	size_t room = strlen(arg), len = strlen(id);

	if (strncmp(arg, "zygote", 6) != 0)
		return;
	memset(arg, '\0', room);
	memcpy(arg, id, len < room ? len : room);
}

int
main(int argc, char **argv)
{
	struct shim s = { 0 };
	struct rusage ru;
	char *cause = NULL, *role;
	bool ended = false, have_spec;
	int sigfd, status = 0, rc = 1;

	s.out_fd = -1;
	log_init("shim");
	if (argc != 2) {
		fprintf(stderr, "%s: started by the worker only\n",
		    SHIM_PROGRAM);
		return 2;
	}
	/* "shim zygote" until the request names the app. */
	role = xasprintf("shim %.*s", (int)strcspn(argv[1], " "), argv[1]);
	log_set_role(role);
	free(role);
	/* No terminal, no user: stray hangups and interrupts are not for us. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (strncmp(argv[1], "zygote", 6) == 0 && shim_zygote() == 0)
		return 0;
	sigfd = util_signalfd((const int[]){ SIGCHLD }, 1);
	/* Orphans of the app's tree come to us, not to init: we reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	have_spec = shim_read_spec(&s, &cause) == 0;
	if (have_spec)
		shim_set_title(argv[1], s.id);
	if (!have_spec || shim_spawn(&s, &cause) == -1) {
		shim_await_handover();
		shim_report("failed %s", cause);
		free(cause);
		shim_free(&s);
		close(sigfd);
		return 127;
	}
	shim_await_handover();
	shim_report("started %d %llu %d", (int)s.pid, s.start, (int)getpid());

	while (!ended) {
		struct pollfd p[2] = { { sigfd, POLLIN, 0 },
			{ s.out_fd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		pid_t pid;

		if (poll(p, s.out_fd != -1 ? 2 : 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		if (s.out_fd != -1 && p[1].revents != 0)
			shim_drain(&s);
		if (!(p[0].revents & POLLIN))
			continue;
		while (read(sigfd, &si, sizeof si) == sizeof si)
			;
		/* Every child that ended: the app, or an orphan of its tree. */
		while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
			if (pid != s.pid)
				continue;
			/* Its last words are in the pipe: into the log first. */
			if (s.out_fd != -1)
				shim_drain(&s);
			shim_write_exit(&s, status, &ru);
			ended = true;
			rc = 0;
			break;
		}
	}
	/*
	 * What the app left running in its group may still write; without us
	 * it gets EPIPE. The worker decides its fate (a restart kills the
	 * group; a kill of the dead app does too).
	 */
	shim_free(&s);
	close(sigfd);
	return rc;
}
