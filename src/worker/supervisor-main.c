/*
 * drover-supervisor: the parent of every app on a node (see supervisor.h).
 * A program of its own beside `drover`, as containerd-shim and conmon stand
 * beside theirs: it must outlive the worker, so it is not one of the
 * worker's threads, and the worker (which has libzmq's threads) may not
 * fork a copy of itself that does anything but exec. It links only what it
 * uses (libc, jansson, a few of drover's own modules; never ZeroMQ, curl or
 * SQLite), statically outside sanitizer builds.
 *
 * Started as `drover-supervisor DIR` (DIR for ps to show) with its
 * listening socket,
 * DIR/supervisor.sock, on SUPERVISOR_LISTEN_FD. One single-threaded loop
 * over that socket, the connection of the worker of the moment, and a
 * signalfd for SIGCHLD.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/spawn.h"
#include "worker/supmsg.h"
#include "worker/workerstate.h"

/* With no worker yet connected after this long, and nothing to run: exit. */
#define SUPERVISOR_FIRST_CONNECT_MS 30000

/* One run of an app: from its spawn until the worker forgets its end. */
struct run {
	char *id;
	char *dir; /* DIR/apps/ID: the exit file */
	pid_t pid;
	unsigned long long start;
	bool ended;
	bool exit_written; /* its exit file holds the end */
	int status;
	struct supmsg_usage usage;
	int64_t ended_at;
	struct run *next;
};

/* A message the worker's socket could not take yet, and its descriptor. */
struct outgoing {
	struct supmsg m;
	int fd; /* passed with it (SCM_RIGHTS), closed once sent; -1: none */
	struct outgoing *next;
};

static struct {
	int listen_fd;
	int conn; /* the worker's connection, -1: none */
	bool had_worker;
	int sigfd;
	struct run *runs; /* newest first */
	int live;	  /* runs not ended */
	struct outgoing *out, **out_tail;
	/* What SIG_IGN we hold, for the child to undo (spawn.c's reset). */
	sigset_t ignored;
	struct supmsg_usage children;
} sv;

static void supervisor_send(struct supmsg *m, int fd);
static void supervisor_disconnect(void);

/* Send queued messages until the socket is full. */
static void
supervisor_flush_out(void)
{
	struct outgoing *o;

	while ((o = sv.out) != NULL && sv.conn != -1) {
		if (util_send_msg(sv.conn, o->m.data, o->m.len, o->fd,
		    MSG_DONTWAIT) == -1) {
			if (errno == EAGAIN)
				return;
			/* The worker went: what it had not read, a next one gets. */
			log_warn("send to the worker");
			supervisor_disconnect();
			return;
		}
		sv.out = o->next;
		if (sv.out == NULL)
			sv.out_tail = &sv.out;
		if (o->fd != -1)
			close(o->fd);
		supmsg_clear(&o->m);
		free(o);
	}
}

/*
 * Queue m (taken) with fd (taken; -1: none) for the worker and send what
 * the socket takes: a worker slow to read (stopped, say) must not stop us
 * from reaping and starting.
 */
static void
supervisor_send(struct supmsg *m, int fd)
{
	struct outgoing *o = xcalloc(1, sizeof *o);

	o->m = *m;
	memset(m, 0, sizeof *m);
	o->fd = fd;
	*sv.out_tail = o;
	sv.out_tail = &o->next;
	supervisor_flush_out();
}

/* Drop what was queued for a worker that went (a next one hears anew). */
static void
supervisor_drop_out(void)
{
	struct outgoing *o, *next;

	for (o = sv.out; o != NULL; o = next) {
		next = o->next;
		if (o->fd != -1)
			close(o->fd);
		supmsg_clear(&o->m);
		free(o);
	}
	sv.out = NULL;
	sv.out_tail = &sv.out;
}

static struct supmsg_end
supervisor_end_of(const struct run *r)
{
	struct supmsg_end e = { 0 };

	e.id = r->id;
	e.pid = r->pid;
	e.status = r->status;
	e.usage = r->usage;
	e.ended_at = r->ended_at;
	e.children = sv.children;
	return e;
}

/*
 * The end in DIR/apps/ID/exit, for a worker to read when it starts (none
 * runs now to be told). Written over in place: no new inode per run.
 */
static void
supervisor_write_exit(struct run *r)
{
	struct workerstate_exit e = { 0 };
	char *text, *path;

	if (r->exit_written)
		return;
	e.pid = r->pid;
	e.start = r->start;
	e.status = r->status;
	e.user_us = r->usage.user_us;
	e.sys_us = r->usage.sys_us;
	e.maxrss_kb = r->usage.maxrss_kb;
	e.ended_at = r->ended_at;
	text = workerstate_format_exit(&e);
	path = xasprintf("%s/exit", r->dir);
	if (util_write_file_in_place(path, text, strlen(text), 0600) == -1)
		log_warn("app %s: cannot write %s", r->id, path);
	else
		r->exit_written = true;
	free(path);
	free(text);
}

/* Tell the worker of an end, or, with none there, write it down. */
static void
supervisor_report_end(struct run *r)
{
	struct supmsg m = { 0 };
	struct supmsg_end e = supervisor_end_of(r);

	if (sv.conn == -1) {
		supervisor_write_exit(r);
		return;
	}
	supmsg_format_end(&m, &e);
	supervisor_send(&m, -1);
}

static void
supervisor_reap(void)
{
	struct signalfd_siginfo si;
	struct rusage ru, ch;
	struct run *ended[64];
	int status, n = 0;
	pid_t pid;

	while (read(sv.sigfd, &si, sizeof si) == sizeof si)
		;
	for (;;) {
		/* Every child that ended: an app, or an orphan of its tree. */
		while (n < 64 && (pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
			for (struct run *r = sv.runs; r != NULL; r = r->next) {
				if (r->pid != pid || r->ended)
					continue;
				r->ended = true;
				r->status = status;
				supmsg_usage_from_rusage(&r->usage, &ru);
				r->ended_at = util_wall_ms();
				sv.live--;
				ended[n++] = r;
				break;
			}
		}
		if (n == 0)
			return;
		/* What every child reaped so far used, as of these ends. */
		if (getrusage(RUSAGE_CHILDREN, &ch) == 0)
			supmsg_usage_from_rusage(&sv.children, &ch);
		for (int i = 0; i < n; i++)
			supervisor_report_end(ended[i]);
		if (n < 64)
			return;
		n = 0;
	}
}

/* Start the program of a launch message and answer the worker. */
static void
supervisor_launch(struct supmsg *msg)
{
	struct supmsg_launch l;
	struct spawn_request req = { 0 };
	struct spawn_result res;
	struct supmsg m = { 0 };
	char *cause = NULL, *logpath = NULL;
	struct run *r;
	int log_fd = -1;

	if (supmsg_parse_launch(msg, &l, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		return;
	}
	/* The app writes its log itself: its stdout and stderr are the file. */
	logpath = xasprintf("%s/output.log", l.dir);
	if ((log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) == -1) {
		cause = xasprintf("cannot open log %s: %s", logpath,
		    strerror(errno));
		goto failed;
	}
	req.path = l.path;
	req.argv = l.argv;
	req.envp = l.envp;
	req.cwd = l.cwd[0] != '\0' ? l.cwd : l.dir;
	req.log_fd = log_fd;
	req.reset = &sv.ignored;
	if (spawn_app(&req, &res, &cause) == -1)
		goto failed;
	close(log_fd);
	r = xcalloc(1, sizeof *r);
	r->id = xstrdup(l.id);
	r->dir = xstrdup(l.dir);
	r->pid = res.pid;
	/* Not reaped before we do it: the start time is the app's. */
	if (workerstate_read_start(r->pid, &r->start) == -1)
		r->start = 0;
	r->next = sv.runs;
	sv.runs = r;
	sv.live++;
	supmsg_add(&m, "started");
	supmsg_add(&m, l.id);
	supmsg_addf(&m, "%d", (int)r->pid);
	supmsg_addf(&m, "%llu", r->start);
	/* The worker signals through it: a reused pid is never hit. */
	supervisor_send(&m, res.pidfd);
	goto out;

failed:
	if (log_fd != -1)
		close(log_fd);
	supmsg_add(&m, "failed");
	supmsg_add(&m, l.id);
	supmsg_add(&m, cause);
	supervisor_send(&m, -1);
	free(cause);
out:
	free(logpath);
	supmsg_launch_clear(&l);
}

/* A launch too large for a datagram: its message is in the memfd fd. */
static void
supervisor_launch_memfd(int fd)
{
	struct supmsg m = { 0 };
	struct stat st;
	char *data, *cause = NULL;
	ssize_t n;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > SUPMSG_MEMFD_MAX) {
		log_warnx("a launch in a memfd of a bad size");
		return;
	}
	data = xmalloc((size_t)st.st_size);
	if ((n = pread(fd, data, (size_t)st.st_size, 0)) != st.st_size) {
		log_warn("cannot read a launch's memfd");
		free(data);
		return;
	}
	if (supmsg_split(&m, data, (size_t)n, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
	} else
		supervisor_launch(&m);
	supmsg_clear(&m);
}

/* The worker recorded these ends (forget ID PID ...): drop them. */
static void
supervisor_forget(const struct supmsg *m)
{
	for (int i = 1; i + 1 < m->nfields; i += 2) {
		long long pid;
		char *cause = NULL;

		if (supmsg_get_ll(m, i + 1, 2, 1 << 30, &pid, &cause) == -1) {
			log_warnx("%s", cause);
			free(cause);
			continue;
		}
		for (struct run **p = &sv.runs; *p != NULL; p = &(*p)->next) {
			struct run *r = *p;

			if (!r->ended || r->pid != (pid_t)pid ||
			    strcmp(r->id, m->fields[i]) != 0)
				continue;
			*p = r->next;
			free(r->id);
			free(r->dir);
			free(r);
			break;
		}
	}
}

/*
 * The worker went (stopped, killed, upgraded): the ends it had not
 * recorded are written down, and so is every end until the next comes.
 */
static void
supervisor_disconnect(void)
{
	close(sv.conn);
	sv.conn = -1;
	supervisor_drop_out();
	for (struct run *r = sv.runs; r != NULL; r = r->next)
		if (r->ended)
			supervisor_write_exit(r);
}

/* Read what the worker sent, until it has no more for now. */
static void
supervisor_read_worker(void)
{
	while (sv.conn != -1) {
		struct supmsg m = { 0 };
		char *cause = NULL;
		int fd = -1, rc;

		rc = supmsg_recv(sv.conn, &m, &fd, MSG_DONTWAIT, &cause);
		if (rc == -1 && errno == EAGAIN)
			return;
		if (rc == -1 && (errno == EMSGSIZE || errno == EBADMSG)) {
			log_warnx("a message from the worker dropped: %s",
			    cause != NULL ? cause : "over the size limit");
			free(cause);
			continue;
		}
		if (rc <= 0) {
			if (rc == -1)
				log_warn("read from the worker");
			supervisor_disconnect();
			return;
		}
		if (strcmp(supmsg_name(&m), "launch") == 0)
			supervisor_launch(&m);
		else if (strcmp(supmsg_name(&m), "launch-memfd") == 0 &&
		    fd != -1)
			supervisor_launch_memfd(fd);
		else if (strcmp(supmsg_name(&m), "forget") == 0)
			supervisor_forget(&m);
		else
			log_warnx("an unknown message from the worker: '%.32s'",
			    supmsg_name(&m));
		supmsg_clear(&m);
		if (fd != -1)
			close(fd);
	}
}

/*
 * A worker connected (the first, or one started again): it takes over from
 * any other. It hears who we are, which apps run, and each end it has not
 * recorded yet (again, if an earlier worker heard it and went before it
 * recorded it).
 */
static void
supervisor_accept(void)
{
	struct supmsg m = { 0 };
	unsigned long long start = 0;
	struct run **v;
	size_t n = 0, k = 0;
	int fd;

	if ((fd = accept4(sv.listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if (sv.conn != -1) {
		log_warnx("a new worker connected: the connection of the last "
		    "one is closed");
		supervisor_disconnect();
	}
	sv.conn = fd;
	sv.had_worker = true;
	(void)workerstate_read_start(getpid(), &start);
	supmsg_add(&m, "hello");
	supmsg_addf(&m, "%d", (int)getpid());
	supmsg_addf(&m, "%llu", start);
	supmsg_add_usage(&m, &sv.children);
	supervisor_send(&m, -1);
	/* Oldest first, as they happened: the apps that run, then the ends. */
	for (struct run *r = sv.runs; r != NULL; r = r->next)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	for (struct run *r = sv.runs; r != NULL; r = r->next)
		v[n - 1 - k++] = r;
	for (size_t i = 0; i < n; i++) {
		if (v[i]->ended)
			continue;
		supmsg_add(&m, "live");
		supmsg_add(&m, v[i]->id);
		supmsg_addf(&m, "%d", (int)v[i]->pid);
		supmsg_addf(&m, "%llu", v[i]->start);
		supervisor_send(&m, -1);
	}
	for (size_t i = 0; i < n; i++) {
		struct supmsg_end e;

		if (!v[i]->ended)
			continue;
		e = supervisor_end_of(v[i]);
		supmsg_format_end(&m, &e);
		supervisor_send(&m, -1);
	}
	free(v);
}

int
main(int argc, char **argv)
{
	int64_t started = util_now_ms();

	log_init("supervisor");
	/* DIR is for ps to show whose apps these are. */
	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "%s: started by the worker only\n",
		    SUPERVISOR_PROGRAM);
		return 2;
	}
	sv.listen_fd = SUPERVISOR_LISTEN_FD;
	sv.conn = -1;
	sv.out_tail = &sv.out;
	if (fcntl(sv.listen_fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(sv.listen_fd, F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "%s: no listening socket on descriptor %d\n",
		    SUPERVISOR_PROGRAM, SUPERVISOR_LISTEN_FD);
		return 2;
	}
	/*
	 * No terminal, no user: stray hangups and interrupts are not for us,
	 * and a worker gone mid-send is a failed send, not a signal. The apps
	 * get these back as they were (spawn.c resets what we ignore).
	 */
	sigemptyset(&sv.ignored);
	sigaddset(&sv.ignored, SIGHUP);
	sigaddset(&sv.ignored, SIGINT);
	sigaddset(&sv.ignored, SIGPIPE);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sv.sigfd = util_signalfd((const int[]){ SIGCHLD }, 1);
	/* Orphans of the apps' trees come to us, not to init: we reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	/* No app's directory: each starts in its own. */
	if (chdir("/") == -1)
		log_warn("chdir /");

	for (;;) {
		struct pollfd p[3] = {
			{ sv.listen_fd, POLLIN, 0 },
			{ sv.sigfd, POLLIN, 0 },
			{ sv.conn, POLLIN | (sv.out != NULL ? POLLOUT : 0), 0 },
		};
		int timeout = -1;

		/*
		 * Nothing to run and nobody to tell: done. A next worker
		 * starts another, and the ends it would ask for are in the
		 * apps' exit files.
		 */
		if (sv.conn == -1 && sv.live == 0) {
			int64_t waited = util_now_ms() - started;

			if (sv.had_worker ||
			    waited >= SUPERVISOR_FIRST_CONNECT_MS)
				break;
			timeout = (int)(SUPERVISOR_FIRST_CONNECT_MS - waited);
		}
		if (poll(p, sv.conn != -1 ? 3 : 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/* Ends first: a worker that connects now hears of them. */
		if (p[1].revents & POLLIN)
			supervisor_reap();
		if (sv.conn != -1 && (p[2].revents & POLLOUT))
			supervisor_flush_out();
		if (sv.conn != -1 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			supervisor_read_worker();
		if (p[0].revents & POLLIN)
			supervisor_accept();
	}
	return 0;
}
