#include "worker/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/applog.h"
#include "worker/spawn.h"
#include "worker/workerstate.h"

extern char **environ;

/* Where the shim finds its request and its report pipe (spawn pass_fds). */
#define SHIM_SPEC_FD 3
#define SHIM_REPORT_FD 4
#define SHIM_SPEC_MAX (64 * 1024 * 1024)
/* A shim that has not said how the start went by then is killed. */
#define SHIM_REPORT_TIMEOUT_MS 10000
/* How long the worker waits for a shim between its own chores. */
#define SHIM_WAIT_SLICE_MS 50
#define SHIM_REPORT_MAX 512

/* ---- the worker's side ---------------------------------------------------- */

static json_t *
shim_strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* The request in a memfd: no size limit a pipe would impose, read at will. */
static int
shim_spec_fd(const struct shim_request *req, char **cause)
{
	json_t *j = jsonx_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:I, s:i}",
	    "id", req->id, "dir", req->dir, "path", req->path,
	    "argv", shim_strv_json(req->argv), "envp", shim_strv_json(req->envp),
	    "cwd", req->cwd, "log_max", (json_int_t)req->log_max,
	    "log_keep", req->log_keep);
	char *text = json_dumps(j, JSON_COMPACT);
	size_t len = text != NULL ? strlen(text) : 0, off = 0;
	ssize_t n;
	int fd;

	json_decref(j);
	if (text == NULL)
		fatalx("json_dumps");
	if ((fd = memfd_create("drover-shim", MFD_CLOEXEC)) == -1) {
		*cause = xasprintf("memfd_create: %s", strerror(errno));
		free(text);
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf("memfd write: %s", strerror(errno));
			free(text);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	free(text);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

void (*shim_on_wait)(void *);
void *shim_on_wait_arg;

/* Read the shim's one line: "started PID START" or "failed CAUSE". */
static ssize_t
shim_read_report(int fd, char *buf, size_t len)
{
	int64_t deadline = util_now_ms() + SHIM_REPORT_TIMEOUT_MS;
	size_t got = 0;
	ssize_t n;

	while (got < len - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - util_now_ms();

		if (left <= 0)
			return -1;
		/*
		 * In short slices, with the worker's chores between them: a
		 * shim's start (an exec, slow on a busy machine) must not keep
		 * the worker from its heartbeats.
		 */
		if (left > SHIM_WAIT_SLICE_MS)
			left = SHIM_WAIT_SLICE_MS;
		if (shim_on_wait != NULL)
			shim_on_wait(shim_on_wait_arg);
		if (poll(&p, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p.revents == 0)
			continue;
		if ((n = read(fd, buf + got, len - 1 - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void
shim_wait_pid(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

int
shim_start(const struct shim_request *req, struct shim_result *res,
    char **cause)
{
	char *argv[] = { (char *)"drover", (char *)"shim", (char *)req->id,
		NULL };
	struct spawn_request sr = { 0 };
	struct spawn_result sres;
	char report[SHIM_REPORT_MAX];
	int rep[2], spec, pass[2], devnull = -1;
	long long pid;
	unsigned long long start;
	ssize_t n;

	memset(res, 0, sizeof *res);
	res->shim_pidfd = -1;
	if ((spec = shim_spec_fd(req, cause)) == -1)
		return -1;
	if (pipe2(rep, O_CLOEXEC) == -1) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		close(spec);
		return -1;
	}
	pass[0] = spec;
	pass[1] = rep[1];
	sr.path = "/proc/self/exe";
	/*
	 * Exec'd, not merely forked: the worker has libzmq's threads, and a
	 * child forked from a threaded process may only make async-signal-safe
	 * calls until it execs (a lock another thread held at the fork stays
	 * held forever in the child: seen as shims hanging under ASan). The
	 * price is loading the binary's libraries again, ~13 ms a launch here.
	 */
	sr.argv = argv;
	/* The worker's own environment (the app's goes in the request). */
	sr.envp = environ;
	sr.cwd = req->dir;
	/* The shim's own complaints go where the worker's go. */
	sr.log_fd = STDERR_FILENO;
	if (fcntl(STDERR_FILENO, F_GETFD) == -1) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		sr.log_fd = devnull;
	}
	sr.pass_fds = pass;
	sr.npass = 2;
	if (spawn_app(&sr, &sres, cause) == -1) {
		close(spec);
		close(rep[0]);
		close(rep[1]);
		if (devnull != -1)
			close(devnull);
		return -1;
	}
	close(spec);
	close(rep[1]);
	if (devnull != -1)
		close(devnull);
	res->shim_pid = sres.pid;
	res->shim_pidfd = sres.pidfd;
	n = shim_read_report(rep[0], report, sizeof report);
	close(rep[0]);
	if (n > 0 && strncmp(report, "started ", 8) == 0 &&
	    sscanf(report + 8, "%lld %llu", &pid, &start) == 2 && pid > 1) {
		res->pid = (pid_t)pid;
		res->start = start;
		/* Our child, not reaped yet: its start time is its own. */
		if (workerstate_read_start(res->shim_pid, &res->shim_start) == -1)
			res->shim_start = 0;
		return 0;
	}
	if (n > 0 && strncmp(report, "failed ", 7) == 0) {
		util_chomp(report);
		*cause = xstrdup(report + 7);
	} else {
		*cause = xstrdup("the app's shim ended without saying how its "
		    "start went");
		kill(res->shim_pid, SIGKILL);
	}
	/* It exits right after its report: leave no zombie. */
	shim_wait_pid(res->shim_pid);
	if (res->shim_pidfd != -1)
		close(res->shim_pidfd);
	res->shim_pidfd = -1;
	res->shim_pid = 0;
	return -1;
}

/* ---- the shim's side ------------------------------------------------------ */

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

/* Read the worker's request from SHIM_SPEC_FD. */
static int
shim_read_spec(struct shim *s, char **cause)
{
	const char *id, *dir, *path, *cwd = NULL;
	long long max, keep;
	json_error_t err;
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
	if (util_write_file_atomic(path, text, strlen(text), 0600) == -1)
		log_warn("app %s: cannot write %s", s->id, path);
	free(path);
	free(text);
}

int
shim_main(int argc, char **argv)
{
	struct shim s = { 0 };
	struct rusage ru;
	char *cause = NULL, *role;
	bool ended = false;
	int sigfd, status = 0, rc = 1;

	s.out_fd = -1;
	log_init("shim");
	if (argc != 2) {
		fprintf(stderr, "drover shim: started by the worker only\n");
		return 2;
	}
	role = xasprintf("shim %s", argv[1]);
	log_set_role(role);
	free(role);
	/* Name it for ps and top: every shim's command line is much alike. */
	prctl(PR_SET_NAME, "drover-shim");
	/* No terminal, no user: stray hangups and interrupts are not for us. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigfd = util_signalfd((const int[]){ SIGCHLD }, 1);
	/* Orphans of the app's tree come to us, not to init: we reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	if (shim_read_spec(&s, &cause) == -1 || shim_spawn(&s, &cause) == -1) {
		shim_report("failed %s", cause);
		free(cause);
		shim_free(&s);
		close(sigfd);
		return 127;
	}
	shim_report("started %d %llu", (int)s.pid, s.start);

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
