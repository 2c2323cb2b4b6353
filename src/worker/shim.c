/*
 * The worker's side of the shim: start one and hear how the app's start
 * went. The shim's own side is shim-main.c, a separate executable.
 */
#include "worker/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/procfs.h"
#include "worker/spawn.h"

extern char **environ;

/* A shim that has not said how the start went by then is killed. */
#define SHIM_REPORT_TIMEOUT_MS 10000
/* How long the worker waits for a shim between its own chores. */
#define SHIM_WAIT_SLICE_MS 50

/* SHIM_PROGRAM's absolute path (shim_init); empty until it is known. */
static char shim_path[PATH_MAX];

/*
 * The zygote (see shim_prepare_zygote): started once, it forks each app's
 * shim from itself when a request comes on its socket.
 */
static struct {
	pid_t pid; /* 0: none */
	int sock;  /* our end of its socket: the requests go there */
	/* The last start failed: none until a launch starts one again. */
	bool failed;
} shim_zygote = { 0, -1, false };

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
	char *text = jsonx_dumps(j);
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd;

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

int
shim_init(char **cause)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	/*
	 * The directory of the executable this worker runs from, so that a
	 * build tree, an install and `drover dev` each find their own shim.
	 * Read at start: an upgrade in place replaces the files later.
	 */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1) {
		*cause = xasprintf("cannot find %s: readlink /proc/self/exe: %s",
		    SHIM_PROGRAM, strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL ||
	    (size_t)snprintf(shim_path, sizeof shim_path, "%.*s/%s",
		(int)(slash - self), self, SHIM_PROGRAM) >= sizeof shim_path) {
		shim_path[0] = '\0';
		*cause = xasprintf("cannot find %s beside %s", SHIM_PROGRAM,
		    self);
		return -1;
	}
	if (access(shim_path, X_OK) == -1) {
		*cause = xasprintf("%s: %s", shim_path, strerror(errno));
		return -1;
	}
	return 0;
}

void
shim_discard_zygote(void)
{
	if (shim_zygote.pid == 0)
		return;
	close(shim_zygote.sock);
	/* Reaped with the worker's other children, as a pid no app has. */
	shim_zygote.pid = 0;
	shim_zygote.sock = -1;
}

/* Start the zygote. 0, or -1 with *cause ("cannot start the shim ..."). */
static int
shim_zygote_start(char **cause)
{
	char *argv[] = { (char *)SHIM_PROGRAM, (char *)SHIM_ZYGOTE_ARG, NULL };
	struct spawn_request sr = { 0 };
	struct spawn_result sres;
	char *why = NULL;
	int sv[2], devnull = -1;

	if (shim_path[0] == '\0') {
		/* A missing file is left to exec, which names it below. */
		if (shim_init(&why) == -1 && shim_path[0] == '\0') {
			*cause = xasprintf("cannot start the app's shim: %s",
			    why);
			free(why);
			return -1;
		}
		free(why);
		why = NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		*cause = xasprintf("socketpair: %s", strerror(errno));
		return -1;
	}
	sr.path = shim_path;
	/*
	 * Exec'd, not merely forked: the worker has libzmq's threads, and a
	 * child forked from a threaded process may only make async-signal-safe
	 * calls until it execs (a lock another thread held at the fork stays
	 * held forever in the child: seen as shims hanging under ASan). A
	 * program of its own, not `drover` again, because exec'ing drover
	 * loads its ~60 shared libraries (~13 ms); drover-shim links libc and
	 * jansson alone, statically outside sanitizer builds. The zygote is
	 * single-threaded, so the shims it forks may do anything.
	 */
	sr.argv = argv;
	/* The worker's own environment (the app's goes in the request). */
	sr.envp = environ;
	/* No app's: each shim enters its app's directory. */
	sr.cwd = "/";
	/* The shims' own complaints go where the worker's go. */
	sr.log_fd = STDERR_FILENO;
	if (fcntl(STDERR_FILENO, F_GETFD) == -1) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		sr.log_fd = devnull;
	}
	sr.pass_fds = &sv[1];
	sr.npass = 1;
	if (spawn_app(&sr, &sres, &why) == -1) {
		/* "cannot start the shim /x/drover-shim: exec failed: ..." */
		*cause = xasprintf("cannot start the shim %s: %s", shim_path,
		    why);
		free(why);
		close(sv[0]);
		close(sv[1]);
		if (devnull != -1)
			close(devnull);
		return -1;
	}
	close(sv[1]);
	if (devnull != -1)
		close(devnull);
	if (sres.pidfd != -1)
		close(sres.pidfd);
	shim_zygote.pid = sres.pid;
	shim_zygote.sock = sv[0];
	return 0;
}

void
shim_prepare_zygote(void)
{
	char *cause = NULL;

	if (shim_zygote.pid != 0 || shim_zygote.failed)
		return;
	if (shim_zygote_start(&cause) == -1) {
		log_warnx("%s; each launch will try again", cause);
		free(cause);
		shim_zygote.failed = true;
	}
}

int
shim_start_begin(const struct shim_request *req, int *report, char **cause)
{
	int spec, rep[2];

	if ((spec = shim_spec_fd(req, cause)) == -1)
		return -1;
	if (pipe2(rep, O_CLOEXEC) == -1) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		close(spec);
		return -1;
	}
	/*
	 * To the zygote, started now if there is none. One that died (killed
	 * by hand, say) has closed its socket: start another.
	 */
	for (int tries = 0;; tries++) {
		if (shim_zygote.pid == 0 && shim_zygote_start(cause) == -1)
			goto fail;
		shim_zygote.failed = false;
		/* The request, then the report pipe (shim-main.c). */
		if (util_send_fds(shim_zygote.sock, (int[]){ spec, rep[1] },
		    2) == 0)
			break;
		shim_discard_zygote();
		if (tries == 1) {
			*cause = xasprintf("the shims' zygote did not take the "
			    "request: %s", strerror(errno));
			goto fail;
		}
	}
	close(spec);
	close(rep[1]);
	*report = rep[0];
	return 0;

fail:
	close(spec);
	close(rep[0]);
	close(rep[1]);
	return -1;
}

int
shim_start_finish(int report, struct shim_result *res, char **cause)
{
	char line[SHIM_REPORT_MAX];
	struct procfs_stat st;
	long long pid, shim_pid;
	unsigned long long start;
	ssize_t n;

	memset(res, 0, sizeof *res);
	res->shim_pidfd = -1;
	n = shim_read_report(report, line, sizeof line);
	close(report);
	if (n > 0 && strncmp(line, "started ", 8) == 0 &&
	    sscanf(line + 8, "%lld %llu %lld", &pid, &start, &shim_pid) == 3 &&
	    pid > 1 && shim_pid > 1) {
		res->pid = (pid_t)pid;
		res->start = start;
		res->shim_pid = (pid_t)shim_pid;
		/*
		 * Handed to us by the zygote (see shim-main.c) and not reaped
		 * before we reap it: its pid and start time are its own.
		 */
		if (procfs_read_stat(res->shim_pid, &st) == 0) {
			res->shim_is_child = st.ppid == getpid();
			res->shim_start = st.starttime;
		}
		res->shim_pidfd = (int)syscall(SYS_pidfd_open, res->shim_pid, 0);
		if (res->shim_pidfd != -1)
			fcntl(res->shim_pidfd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	if (n > 0 && strncmp(line, "failed ", 7) == 0) {
		util_chomp(line);
		*cause = xstrdup(line + 7);
	} else
		*cause = xstrdup("the app's shim ended without saying how its "
		    "start went");
	/* A shim that failed exits; the worker reaps it as no app's. */
	return -1;
}
