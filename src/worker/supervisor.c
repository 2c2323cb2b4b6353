/*
 * The worker's side of the node's supervisor (supervisor.h): find it or
 * start it, send it launches, read what it tells. The supervisor's own side
 * is supervisor-main.c, a separate executable.
 */
#include "worker/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/spawn.h"

extern char **environ;

/* A launch the supervisor has not answered by then failed. */
#define SUPERVISOR_ANSWER_TIMEOUT_MS 10000
/* How long the worker waits between its own chores. */
#define SUPERVISOR_WAIT_SLICE_MS 50
/* A supervisor that does not say hello by then is taken for none. */
#define SUPERVISOR_HELLO_TIMEOUT_MS 5000

void (*supervisor_on_wait)(void *);
void *supervisor_on_wait_arg;

/* SUPERVISOR_PROGRAM's absolute path (supervisor_init); empty if unknown. */
static char supervisor_path[PATH_MAX];

/* A message read while a launch's answer was awaited, for later. */
struct supervisor_inbox {
	struct supmsg m;
	struct supervisor_inbox *next;
};

static struct {
	int fd; /* the connection, -1: none */
	pid_t pid;
	unsigned long long start;
	struct supmsg_usage children;
	const struct supervisor_hooks *hooks;
	void *arg;
	struct supervisor_inbox *inbox, **inbox_tail;
	/* Forget messages queued until the worker's next save. */
	struct supmsg *forgets;
	size_t nforgets;
} sup = { .fd = -1 };

int
supervisor_init(char **cause)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	/*
	 * The directory of the executable this worker runs from, so that a
	 * build tree, an install and `drover dev` each find their own.
	 * Read at start: an upgrade in place replaces the files later.
	 */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1) {
		*cause = xasprintf("cannot find %s: readlink /proc/self/exe: %s",
		    SUPERVISOR_PROGRAM, strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL ||
	    (size_t)snprintf(supervisor_path, sizeof supervisor_path, "%.*s/%s",
		(int)(slash - self), self, SUPERVISOR_PROGRAM) >=
		sizeof supervisor_path) {
		supervisor_path[0] = '\0';
		*cause = xasprintf("cannot find %s beside %s",
		    SUPERVISOR_PROGRAM, self);
		return -1;
	}
	if (access(supervisor_path, X_OK) == -1) {
		*cause = xasprintf("%s: %s", supervisor_path, strerror(errno));
		return -1;
	}
	return 0;
}

bool
supervisor_connected(void)
{
	return sup.fd != -1;
}

pid_t
supervisor_pid(void)
{
	return sup.fd != -1 ? sup.pid : 0;
}

unsigned long long
supervisor_start(void)
{
	return sup.fd != -1 ? sup.start : 0;
}

const struct supmsg_usage *
supervisor_children(void)
{
	return &sup.children;
}

int
supervisor_fd(void)
{
	return sup.fd;
}

bool
supervisor_input_waiting(void)
{
	return sup.inbox != NULL;
}

/*
 * Read one message, waiting up to timeout_ms (0: only what is there).
 * Returns 1 with *m split and *fd (a descriptor passed with it, or -1), 0
 * when none came, -1 when the connection is gone, with *why (caller frees).
 */
static int
supervisor_recv(struct supmsg *m, int *fd, int timeout_ms, char **why)
{
	struct pollfd p = { sup.fd, POLLIN, 0 };
	char *cause = NULL;
	int rc;

	*fd = -1;
	if (timeout_ms > 0 && poll(&p, 1, timeout_ms) == 0)
		return 0;
	if ((rc = supmsg_recv(sup.fd, m, fd, MSG_DONTWAIT, &cause)) == 1)
		return 1;
	if (rc == -1 && errno == EAGAIN)
		return 0;
	if (rc == 0)
		*why = xstrdup("it closed the connection");
	else if (errno == EBADMSG)
		*why = cause;
	else
		*why = xasprintf("reading from it failed: %s",
		    strerror(errno));
	return -1;
}

static void
supervisor_inbox_free(void)
{
	struct supervisor_inbox *in, *next;

	for (in = sup.inbox; in != NULL; in = next) {
		next = in->next;
		supmsg_clear(&in->m);
		free(in);
	}
	sup.inbox = NULL;
	sup.inbox_tail = &sup.inbox;
}

static void
supervisor_forgets_free(void)
{
	for (size_t i = 0; i < sup.nforgets; i++)
		supmsg_clear(&sup.forgets[i]);
	free(sup.forgets);
	sup.forgets = NULL;
	sup.nforgets = 0;
}

/* How long a stopping worker waits for the supervisor it leaves to exit. */
#define SUPERVISOR_EXIT_WAIT_MS 2000

void
supervisor_disconnect(bool wait_exit)
{
	int64_t deadline = util_now_ms() + SUPERVISOR_EXIT_WAIT_MS;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	bool connected = sup.fd != -1;
	pid_t pid = sup.pid;

	if (connected)
		close(sup.fd);
	sup.fd = -1;
	/* Only ours to reap: an adopted one is init's child (ECHILD). */
	while (wait_exit && connected && pid > 1 &&
	    waitpid(pid, NULL, WNOHANG) == 0 && util_now_ms() < deadline)
		nanosleep(&ts, NULL);
	sup.pid = 0;
	sup.start = 0;
	supervisor_inbox_free();
	supervisor_forgets_free();
}

static void supervisor_dispatch(struct supmsg *);

/* Hand what came while a launch's answer was awaited to the hooks. */
static void
supervisor_inbox_deliver(void)
{
	struct supervisor_inbox *in;

	while ((in = sup.inbox) != NULL) {
		sup.inbox = in->next;
		supervisor_dispatch(&in->m);
		supmsg_clear(&in->m);
		free(in);
	}
	sup.inbox_tail = &sup.inbox;
}

/*
 * The connection is gone: say so, once, to the hooks, after what it said
 * before (the ends it told are still true).
 */
static void
supervisor_lost(const char *why)
{
	pid_t pid = sup.pid;

	supervisor_inbox_deliver();
	supervisor_disconnect(false);
	log_warnx("the supervisor (pid %d) is gone: %s", (int)pid, why);
	if (sup.hooks != NULL && sup.hooks->lost != NULL)
		sup.hooks->lost(sup.arg, why);
}

/* Read the supervisor's hello: 0, or -1 with *cause. */
static int
supervisor_hello(char **cause)
{
	int64_t deadline = util_now_ms() + SUPERVISOR_HELLO_TIMEOUT_MS;
	struct supmsg m = { 0 };
	long long pid;
	char *why = NULL;
	int fd, rc;

	do {
		int64_t left = deadline - util_now_ms();

		rc = supervisor_recv(&m, &fd, left > 0 ? (int)left : 1, &why);
	} while (rc == 0 && util_now_ms() < deadline);
	if (rc != 1) {
		*cause = xasprintf("no hello from it: %s", rc == 0 ?
		    "no answer" : why);
		free(why);
		return -1;
	}
	if (fd != -1)
		close(fd);
	rc = -1;
	if (strcmp(supmsg_name(&m), "hello") != 0 || m.nfields != 6)
		*cause = xasprintf("it said '%.32s', not hello",
		    supmsg_name(&m));
	else if (supmsg_get_ll(&m, 1, 2, INT_MAX, &pid, cause) == 0 &&
	    supmsg_get_ull(&m, 2, &sup.start, cause) == 0 &&
	    supmsg_get_usage(&m, 3, &sup.children, cause) == 0) {
		sup.pid = (pid_t)pid;
		rc = 0;
	}
	supmsg_clear(&m);
	return rc;
}

/* A new socket connected to addr: the descriptor, or -1 with errno. */
static int
supervisor_dial(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct timeval tv = { SUPERVISOR_ANSWER_TIMEOUT_MS / 1000, 0 };

	if (fd == -1)
		return -1;
	/* A supervisor that stopped reading must not hang the worker. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == -1)
		return util_close_failed(fd);
	return fd;
}

/*
 * Start a supervisor for dir, listening at addr (dirfd's SUPERVISOR_SOCKET),
 * and connect to it. 0, or -1 with *cause.
 */
static int
supervisor_start_one(const char *dir, int dirfd, const struct sockaddr_un *addr,
    char **cause)
{
	char *argv[] = { (char *)SUPERVISOR_PROGRAM, (char *)dir, NULL };
	struct spawn_request sr = { 0 };
	struct spawn_result res;
	char *why = NULL;
	int l, devnull = -1, rc = -1;

	if (supervisor_path[0] == '\0') {
		/* A missing file is left to exec, which names it below. */
		if (supervisor_init(&why) == -1 && supervisor_path[0] == '\0') {
			*cause = xasprintf("cannot start the supervisor: %s",
			    why);
			free(why);
			return -1;
		}
		free(why);
		why = NULL;
	}
	/* One left by a supervisor that died is in the way. */
	if (unlinkat(dirfd, SUPERVISOR_SOCKET, 0) == -1 && errno != ENOENT) {
		*cause = xasprintf("cannot remove %s/%s: %s", dir,
		    SUPERVISOR_SOCKET, strerror(errno));
		return -1;
	}
	/*
	 * Whoever can connect can start any program as the worker's user:
	 * only that user, whatever the umask or the dir's mode.
	 */
	if ((l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(l, (const struct sockaddr *)addr, sizeof *addr) == -1 ||
	    fchmodat(dirfd, SUPERVISOR_SOCKET, 0600, 0) == -1 ||
	    listen(l, 8) == -1) {
		*cause = xasprintf("cannot listen on %s/%s: %s", dir,
		    SUPERVISOR_SOCKET, strerror(errno));
		if (l != -1)
			close(l);
		return -1;
	}
	/*
	 * Exec'd, not merely forked: the worker has libzmq's threads, and a
	 * child forked from a threaded process may only make async-signal-safe
	 * calls until it execs. A program of its own, not `drover` again,
	 * whose exec loads ~60 shared libraries.
	 */
	sr.path = supervisor_path;
	sr.argv = argv;
	/* The worker's own environment; each app's goes with its launch. */
	sr.envp = environ;
	sr.cwd = "/";
	/* Its complaints go where the worker's go. */
	sr.log_fd = STDERR_FILENO;
	if (fcntl(STDERR_FILENO, F_GETFD) == -1) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		sr.log_fd = devnull;
	}
	sr.pass_fds = &l;
	sr.npass = 1;
	if (spawn_app(&sr, &res, &why) == -1) {
		/* "cannot start the supervisor /x/drover-supervisor: exec failed: ..." */
		*cause = xasprintf("cannot start the supervisor %s: %s",
		    supervisor_path, why);
		free(why);
		goto out;
	}
	/* Reaped as no app's child, should it end; its socket tells us first. */
	if (res.pidfd != -1)
		close(res.pidfd);
	if ((sup.fd = supervisor_dial(addr)) == -1) {
		*cause = xasprintf("cannot connect to the supervisor: %s",
		    strerror(errno));
		goto out;
	}
	if (supervisor_hello(&why) == -1) {
		*cause = xasprintf("the supervisor started, but %s", why);
		free(why);
		close(sup.fd);
		sup.fd = -1;
		goto out;
	}
	log_info("started the supervisor, pid %d", (int)sup.pid);
	rc = 0;
out:
	close(l);
	if (devnull != -1)
		close(devnull);
	return rc;
}

int
supervisor_connect(const char *dir, const struct supervisor_hooks *hooks,
    void *arg, char **cause)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *why = NULL;
	int dirfd, rc;

	supervisor_disconnect(false);
	sup.hooks = hooks;
	sup.arg = arg;
	if ((dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Through the descriptor: a long dir would not fit in sun_path. */
	snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s",
	    dirfd, SUPERVISOR_SOCKET);
	/* The one a worker before us started, if it still runs. */
	if ((sup.fd = supervisor_dial(&addr)) != -1) {
		if (supervisor_hello(&why) == 0) {
			log_info("the supervisor (pid %d) runs on: taking it "
			    "back", (int)sup.pid);
			close(dirfd);
			return 0;
		}
		/* It was exiting, with nothing left to run: start another. */
		log_info("the last supervisor is going (%s); starting another",
		    why);
		free(why);
		close(sup.fd);
		sup.fd = -1;
	}
	rc = supervisor_start_one(dir, dirfd, &addr, cause);
	close(dirfd);
	return rc;
}

int
supervisor_launch(const struct supmsg_launch *l, char **cause)
{
	struct supmsg m = { 0 };
	int rc = -1, memfd = -1;

	if (sup.fd == -1) {
		*cause = xstrdup("no supervisor runs");
		return -1;
	}
	supmsg_format_launch(&m, l);
	if (m.len > SUPMSG_MAX) {
		/* Too large for a datagram: the message goes in a memfd. */
		if ((memfd = memfd_create("drover-launch", MFD_CLOEXEC)) == -1 ||
		    util_write_all(memfd, m.data, m.len) == -1) {
			*cause = xasprintf("memfd: %s", strerror(errno));
			goto out;
		}
		supmsg_clear(&m);
		supmsg_add(&m, "launch-memfd");
	}
	rc = util_send_msg(sup.fd, m.data, m.len, memfd, 0);
	if (rc == -1) {
		char *why = xasprintf("sending a launch to it failed: %s",
		    strerror(errno));

		*cause = xasprintf("the supervisor is gone: %s", why);
		supervisor_lost(why);
		free(why);
	}
out:
	if (memfd != -1)
		close(memfd);
	supmsg_clear(&m);
	return rc;
}

int
supervisor_launch_wait(const char *id, struct supervisor_started *out,
    char **cause)
{
	int64_t deadline = util_now_ms() + SUPERVISOR_ANSWER_TIMEOUT_MS;
	long long pid;
	char *why = NULL;
	int fd, rc;

	memset(out, 0, sizeof *out);
	out->pidfd = -1;
	for (;;) {
		struct supmsg m = { 0 };
		int64_t left = deadline - util_now_ms();

		if (sup.fd == -1) {
			*cause = xstrdup("the supervisor is gone");
			return -1;
		}
		if (left <= 0) {
			why = xstrdup("it did not answer a launch in 10 s");
			*cause = xasprintf("the supervisor is stuck: %s", why);
			supervisor_lost(why);
			free(why);
			return -1;
		}
		/*
		 * In short slices, with the worker's chores between them: a
		 * start (an exec, slow on a busy machine) must not keep the
		 * worker from its heartbeats.
		 */
		if (supervisor_on_wait != NULL)
			supervisor_on_wait(supervisor_on_wait_arg);
		rc = supervisor_recv(&m, &fd, left > SUPERVISOR_WAIT_SLICE_MS ?
		    SUPERVISOR_WAIT_SLICE_MS : (int)left, &why);
		if (rc == 0)
			continue;
		if (rc == -1) {
			*cause = xasprintf("the supervisor is gone: %s", why);
			supervisor_lost(why);
			free(why);
			return -1;
		}
		if (strcmp(supmsg_name(&m), "started") != 0 &&
		    strcmp(supmsg_name(&m), "failed") != 0) {
			/* Not an answer: for supervisor_input, in order. */
			struct supervisor_inbox *in = xcalloc(1, sizeof *in);

			if (fd != -1)
				close(fd);
			in->m = m;
			if (sup.inbox == NULL)
				sup.inbox_tail = &sup.inbox;
			*sup.inbox_tail = in;
			sup.inbox_tail = &in->next;
			continue;
		}
		rc = -1;
		if (m.nfields < 3 || strcmp(m.fields[1], id) != 0) {
			why = xasprintf("it answered a launch of '%.64s' "
			    "where %s was due", m.nfields > 1 ? m.fields[1] :
			    "", id);
			*cause = xasprintf("the supervisor is confused: %s",
			    why);
			supervisor_lost(why);
			free(why);
		} else if (strcmp(supmsg_name(&m), "failed") == 0)
			*cause = xstrdup(m.fields[2]);
		else if (m.nfields != 4 ||
		    supmsg_get_ll(&m, 2, 2, INT_MAX, &pid, cause) == -1 ||
		    supmsg_get_ull(&m, 3, &out->start, cause) == -1)
			log_warnx("supervisor: %s", *cause);
		else {
			out->pid = (pid_t)pid;
			out->pidfd = fd;
			fd = -1;
			rc = 0;
		}
		if (fd != -1)
			close(fd);
		supmsg_clear(&m);
		return rc;
	}
}

/* Hand one message to the hooks. */
static void
supervisor_dispatch(struct supmsg *m)
{
	const char *name = supmsg_name(m);
	char *cause = NULL;

	if (strcmp(name, "ended") == 0) {
		struct supmsg_end e;

		if (supmsg_parse_end(m, &e, &cause) == -1)
			goto bad;
		sup.children = e.children;
		if (sup.hooks != NULL && sup.hooks->ended != NULL)
			sup.hooks->ended(sup.arg, &e);
		return;
	}
	if (strcmp(name, "live") == 0) {
		unsigned long long start;
		long long pid;

		if (m->nfields != 4 ||
		    supmsg_get_ll(m, 2, 2, INT_MAX, &pid, &cause) == -1 ||
		    supmsg_get_ull(m, 3, &start, &cause) == -1)
			goto bad;
		if (sup.hooks != NULL && sup.hooks->live != NULL)
			sup.hooks->live(sup.arg, m->fields[1], (pid_t)pid, start);
		return;
	}
	cause = xasprintf("an unexpected '%.32s' message", name);
bad:
	log_warnx("supervisor: %s", cause != NULL ? cause : "a bad message");
	free(cause);
}

void
supervisor_input(void)
{
	char *why = NULL;
	int fd, rc;

	/* What came while a launch was awaited goes first, in order. */
	supervisor_inbox_deliver();
	while (sup.fd != -1) {
		struct supmsg m = { 0 };

		if ((rc = supervisor_recv(&m, &fd, 0, &why)) == 0)
			return;
		if (rc == -1) {
			supervisor_lost(why);
			free(why);
			return;
		}
		if (fd != -1)
			close(fd);
		supervisor_dispatch(&m);
		supmsg_clear(&m);
	}
}

void
supervisor_forget(const char *id, pid_t pid)
{
	struct supmsg *m;

	if (sup.fd == -1)
		return;
	m = sup.nforgets > 0 ? &sup.forgets[sup.nforgets - 1] : NULL;
	/* A datagram at most: another message past that. */
	if (m == NULL || m->len + strlen(id) + 16 > SUPMSG_MAX) {
		sup.forgets = xreallocarray(sup.forgets, sup.nforgets + 1,
		    sizeof *sup.forgets);
		m = &sup.forgets[sup.nforgets++];
		memset(m, 0, sizeof *m);
		supmsg_add(m, "forget");
	}
	supmsg_add(m, id);
	supmsg_addf(m, "%d", (int)pid);
}

void
supervisor_flush(void)
{
	for (size_t i = 0; i < sup.nforgets && sup.fd != -1; i++) {
		struct supmsg *m = &sup.forgets[i];

		/* Lost, the supervisor tells them again: no harm. */
		if (util_send_msg(sup.fd, m->data, m->len, -1, 0) == -1)
			log_warn("cannot tell the supervisor what was recorded");
	}
	supervisor_forgets_free();
}
