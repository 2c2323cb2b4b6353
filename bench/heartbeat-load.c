/*
 * heartbeat-load: N simulated workers against one real master, and the
 * figures that say whether the master keeps up: its CPU and memory, how long
 * a heartbeat takes to show in the REST API, and whether every node stays
 * ready.
 *
 * The program starts its own master, then forks simulator processes that
 * each own a slice of the workers (one DEALER socket with its own CURVE
 * keypair per worker, all in one epoll loop), while this process samples
 * /proc/<master>/ and probes the API. Several processes rather than one
 * because every DEALER costs two descriptors here (its TCP connection and
 * its ZeroMQ mailbox), and 10,000 workers would need more than a typical
 * RLIMIT_NOFILE hard limit allows one process. epoll on each socket's ZMQ_FD
 * rather than zmq_poll because zmq_poll walks every socket on every wake-up,
 * and the loop wakes about once a millisecond.
 *
 * Exit status: 0 when the benchmark ran (missed targets are reported, not
 * failed), 1 when it could not be set up or the master died, 2 on a usage
 * error, 130 when interrupted.
 */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#include "common/jsonx.h"
#include "common/msg.h"
#include "common/proto.h"
#include "common/token.h"
#include "common/util.h"
#include "common/xmem.h"

#include "benchlib.h"

#define HBLOAD_WORKERS_MAX 10000
/* Workers per simulator process: two descriptors each, well under 20,000. */
#define HBLOAD_SHARD_MAX 5000
/* Descriptors a process needs besides the per-worker ones. */
#define HBLOAD_FD_SPARE 128
#define HBLOAD_SECRET "benchsecret1"
#define HBLOAD_PROBE_EVERY_MS 3000
#define HBLOAD_PROBES_PER_ROUND 6
#define HBLOAD_PROBES_MAX 10000
#define HBLOAD_STATS_EVERY_MS 250
/* Targets the summary checks (the master's design budget at 10,000 nodes). */
#define HBLOAD_CPU_TARGET_PCT 25.0
#define HBLOAD_RSS_TARGET_MIB 200.0

struct hbload_opts {
	int workers;
	int seconds;
	int heartbeat_ms;
	int ramp_per_sec;
	const char *drover;
};

/* What a simulator process reports, cumulative since it started. */
struct hbload_stats {
	long created;		/* sockets opened and HELLO sent */
	long ready;		/* currently registered (WELCOME seen) */
	long refused;		/* REFUSED seen */
	long welcomes;		/* WELCOMEs, re-registrations included */
	long hb_sent;		/* heartbeats queued */
	long send_fail;		/* msg_send failures (EAGAIN at the mark) */
	long rereg;		/* REREGISTER received */
	long errors;		/* ERROR received */
	long bad;		/* malformed or unexpected messages */
	int64_t welcome_us_max; /* HELLO to WELCOME */
	int64_t welcome_us_sum;
	char refused_error[160]; /* the first REFUSED's text */
};

/* Control messages between this process and a simulator (SOCK_SEQPACKET). */
enum hbload_ctl_type {
	HBLOAD_CTL_STATS, /* both ways: stats now, answered with idx echoed */
	HBLOAD_CTL_PROBE, /* coordinator -> simulator: heartbeat idx now */
	HBLOAD_CTL_SENT,  /* simulator -> coordinator: done, at t_us (ok) */
	HBLOAD_CTL_STOP,  /* coordinator -> simulator: close and exit */
};

struct hbload_ctl {
	int type;
	int idx;      /* PROBE, SENT: global worker index; STATS: request */
	int ok;	      /* SENT: the worker was registered and the send worked */
	int64_t t_us; /* SENT: monotonic time just before the send */
	struct hbload_stats stats;
};

/* ---- simulator side ---------------------------------------------------- */

enum hbload_sim_state {
	HBLOAD_SIM_IDLE,
	HBLOAD_SIM_HELLO,
	HBLOAD_SIM_READY,
	HBLOAD_SIM_REFUSED,
};

/* One simulated worker. */
struct hbload_sim {
	void *sock;
	enum hbload_sim_state state;
	int64_t hello_us;
	int64_t next_hb_us;
	int64_t hb_us;
	unsigned gen; /* heap entries of an older generation are stale */
};

struct hbload_heap_entry {
	int64_t due_us;
	int idx;
	unsigned gen;
};

/* One simulator process: workers lo .. lo+n-1 of total. */
struct hbload_shard {
	int lo, n, total;
	int ctl;
	int epfd;
	void *ctx;
	char endpoint[64];
	const char *server_key;
	const char *secret;
	int64_t hb_us;	  /* from the options, for the stagger */
	int64_t epoch_us; /* shared by every simulator: slot 0 of the stagger */
	double rate;	  /* connections per second for this slice */
	uint32_t next_id;
	struct hbload_sim *sims;
	struct hbload_heap_entry *heap;
	size_t heaplen, heapcap;
	struct hbload_stats st;
};

/* ---- coordinator side -------------------------------------------------- */

/* A simulator process as the coordinator sees it. */
struct hbload_proc {
	pid_t pid;
	int fd;
	int lo, n;
	bool dead;
	struct hbload_stats st;
	int st_request; /* the last request these stats answer */
	bool have_sent;
	struct hbload_ctl sent;
};

/* CPU ticks of each of the master's threads, to say which one is busy. */
#define HBLOAD_THREADS_MAX 32
struct hbload_threads {
	int n;
	int tid[HBLOAD_THREADS_MAX];
	char comm[HBLOAD_THREADS_MAX][32];
	unsigned long long ticks[HBLOAD_THREADS_MAX];
};

struct hbload {
	struct hbload_opts o;
	char *tmpdir;
	char *logpath;
	struct benchlib_cluster cl; /* just the master */
	char key[41];
	char *secret;
	struct hbload_proc *procs;
	int nprocs, shard_size;
	struct benchlib_http *api;
	long clk_tck;
};

/* Send a control message; a simulator that is gone shows up as EOF later. */
static void
hbload_ctl_send(int fd, const struct hbload_ctl *c)
{
	while (send(fd, c, sizeof *c, MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

/* ---- simulator: the heap of due heartbeats ------------------------------ */

static void
hbload_heap_push(struct hbload_shard *sh, int idx)
{
	struct hbload_sim *w = &sh->sims[idx];
	struct hbload_heap_entry e = {w->next_hb_us, idx, ++w->gen};
	size_t i;

	if (sh->heaplen == sh->heapcap) {
		sh->heapcap = sh->heapcap == 0 ? 1024 : sh->heapcap * 2;
		sh->heap =
		    xreallocarray(sh->heap, sh->heapcap, sizeof *sh->heap);
	}
	i = sh->heaplen++;
	while (i > 0 && sh->heap[(i - 1) / 2].due_us > e.due_us) {
		sh->heap[i] = sh->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sh->heap[i] = e;
}

static struct hbload_heap_entry
hbload_heap_pop(struct hbload_shard *sh)
{
	struct hbload_heap_entry top = sh->heap[0], last;
	size_t i = 0, c;

	last = sh->heap[--sh->heaplen];
	while ((c = 2 * i + 1) < sh->heaplen) {
		if (c + 1 < sh->heaplen &&
		    sh->heap[c + 1].due_us < sh->heap[c].due_us)
			c++;
		if (sh->heap[c].due_us >= last.due_us)
			break;
		sh->heap[i] = sh->heap[c];
		i = c;
	}
	if (sh->heaplen > 0)
		sh->heap[i] = last;
	return top;
}

/* ---- simulator: messages ------------------------------------------------ */

static int
hbload_sim_send_hello(struct hbload_shard *sh, int idx)
{
	struct hbload_sim *w = &sh->sims[idx];
	char name[32];
	struct msg *m;
	int rc;

	snprintf(name, sizeof name, "sim-%d", sh->lo + idx);
	m = msg_new(MSG_HELLO, ++sh->next_id,
		    jsonx_pack("{s:s, s:s, s:[s], s:i, s:i, s:s, s:s}", "name",
			       name, "secret", sh->secret, "addresses",
			       "127.0.0.1", "cpus", 1, "mem_total_kb", 1048576,
			       "hostname", name, "version", "bench"));
	w->hello_us = util_now_us();
	if ((rc = msg_send(w->sock, m, false)) == -1)
		sh->st.send_fail++;
	msg_free(m);
	w->state = HBLOAD_SIM_HELLO;
	return rc;
}

static int
hbload_sim_send_heartbeat(struct hbload_shard *sh, int idx)
{
	struct msg *m;
	int rc;

	m = msg_new(MSG_HEARTBEAT, 0,
		    jsonx_pack("{s:f, s:f, s:i}", "cpu_pct", 0.0, "mem_pct",
			       0.0, "apps", 0));
	if ((rc = msg_send(sh->sims[idx].sock, m, false)) == -1)
		sh->st.send_fail++;
	else
		sh->st.hb_sent++;
	msg_free(m);
	return rc;
}

/*
 * The first heartbeat after registration goes at this worker's slot of the
 * stagger: worker i of N beats at epoch + i*hb/N + k*hb, so N workers spread
 * evenly over the interval whenever they registered.
 */
static void
hbload_sim_schedule_first(struct hbload_shard *sh, int idx, int64_t now)
{
	struct hbload_sim *w = &sh->sims[idx];
	int64_t phase = (int64_t)(sh->lo + idx) * sh->hb_us / sh->total;
	int64_t base = sh->epoch_us + phase, k = 0;

	if (now > base)
		k = (now - base + w->hb_us - 1) / w->hb_us;
	w->next_hb_us = base + k * w->hb_us;
	hbload_heap_push(sh, idx);
}

static void
hbload_sim_handle(struct hbload_shard *sh, int idx, struct msg *m)
{
	struct hbload_sim *w = &sh->sims[idx];
	int64_t now = util_now_us();
	const char *error;
	long long hb;
	char *cause = NULL;

	switch (m->type) {
	case MSG_WELCOME:
		if (w->state != HBLOAD_SIM_HELLO) {
			sh->st.bad++;
			break;
		}
		if (msg_get_int(m, "heartbeat_ms", true, 10, 3600000, &hb,
				&cause) != 0) {
			free(cause);
			hb = sh->hb_us / 1000;
			sh->st.bad++;
		}
		w->hb_us = hb * 1000;
		w->state = HBLOAD_SIM_READY;
		sh->st.ready++;
		sh->st.welcomes++;
		sh->st.welcome_us_sum += now - w->hello_us;
		if (now - w->hello_us > sh->st.welcome_us_max)
			sh->st.welcome_us_max = now - w->hello_us;
		hbload_sim_schedule_first(sh, idx, now);
		break;
	case MSG_REFUSED:
		if (w->state == HBLOAD_SIM_READY)
			sh->st.ready--;
		w->state = HBLOAD_SIM_REFUSED;
		sh->st.refused++;
		if (sh->st.refused_error[0] == '\0') {
			if (msg_get_str(m, "error", true, &error, &cause) !=
			    0) {
				free(cause);
				error = "(no error text)";
			}
			snprintf(sh->st.refused_error,
				 sizeof sh->st.refused_error, "%s", error);
		}
		break;
	case MSG_REREGISTER:
		/* The master forgot this connection: say HELLO again. */
		sh->st.rereg++;
		if (w->state == HBLOAD_SIM_READY)
			sh->st.ready--;
		hbload_sim_send_hello(sh, idx);
		break;
	case MSG_ERROR:
		sh->st.errors++;
		break;
	default:
		sh->st.bad++;
		break;
	}
}

/* Read every message waiting on one worker's socket. */
static void
hbload_sim_drain(struct hbload_shard *sh, int idx)
{
	struct msg *m;
	char *cause;
	int rc;

	for (;;) {
		rc = msg_recv(sh->sims[idx].sock, false, &m, &cause);
		if (rc == 0)
			break;
		if (rc == -1) {
			sh->st.bad++;
			free(cause);
			if (m == NULL && cause == NULL)
				break; /* a socket error, not a message */
			msg_free(m);
			continue;
		}
		hbload_sim_handle(sh, idx, m);
		msg_free(m);
	}
}

static int
hbload_sim_open(struct hbload_shard *sh, int idx)
{
	struct hbload_sim *w = &sh->sims[idx];
	char pub[41], sec[41];
	struct epoll_event ev = {.events = EPOLLIN};
	int linger = 0, fd;
	size_t fdlen = sizeof fd;

	if ((w->sock = zmq_socket(sh->ctx, ZMQ_DEALER)) == NULL) {
		fprintf(stderr,
			"heartbeat-load: simulator: zmq_socket for "
			"worker %d: %s\n",
			sh->lo + idx, zmq_strerror(errno));
		return -1;
	}
	if (zmq_curve_keypair(pub, sec) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_CURVE_SERVERKEY, sh->server_key, 40) ==
		-1 ||
	    zmq_setsockopt(w->sock, ZMQ_CURVE_PUBLICKEY, pub, 40) == -1 ||
	    zmq_setsockopt(w->sock, ZMQ_CURVE_SECRETKEY, sec, 40) == -1 ||
	    zmq_connect(w->sock, sh->endpoint) == -1 ||
	    zmq_getsockopt(w->sock, ZMQ_FD, &fd, &fdlen) == -1) {
		fprintf(stderr,
			"heartbeat-load: simulator: setting up worker "
			"%d: %s\n",
			sh->lo + idx, zmq_strerror(errno));
		return -1;
	}
	ev.data.u32 = (uint32_t)idx;
	if (epoll_ctl(sh->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		fprintf(stderr, "heartbeat-load: simulator: epoll_ctl: %s\n",
			strerror(errno));
		return -1;
	}
	sh->st.created++;
	hbload_sim_send_hello(sh, idx);
	hbload_sim_drain(sh, idx);
	return 0;
}

/* The coordinator asks for a heartbeat now, to time its reflection. */
static void
hbload_sim_probe(struct hbload_shard *sh, int gidx)
{
	struct hbload_ctl c = {.type = HBLOAD_CTL_SENT, .idx = gidx};
	int idx = gidx - sh->lo;
	struct hbload_sim *w;

	if (idx >= 0 && idx < sh->n &&
	    sh->sims[idx].state == HBLOAD_SIM_READY) {
		w = &sh->sims[idx];
		c.t_us = util_now_us();
		c.ok = hbload_sim_send_heartbeat(sh, idx) == 0;
		/*
		 * Move the next beat a full interval on, so the coordinator
		 * knows any heartbeat the master reports before then is this
		 * one.
		 */
		w->next_hb_us = c.t_us + w->hb_us;
		hbload_heap_push(sh, idx);
		hbload_sim_drain(sh, idx);
	}
	hbload_ctl_send(sh->ctl, &c);
}

static void
hbload_sim_report(struct hbload_shard *sh, int request)
{
	struct hbload_ctl c = {.type = HBLOAD_CTL_STATS, .idx = request};

	c.stats = sh->st;
	hbload_ctl_send(sh->ctl, &c);
}

/* Handle control messages; returns -1 when told to stop (or orphaned). */
static int
hbload_sim_control(struct hbload_shard *sh)
{
	struct hbload_ctl c;
	ssize_t r;

	for (;;) {
		r = recv(sh->ctl, &c, sizeof c, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return -1;
		if ((size_t)r != sizeof c)
			continue;
		if (c.type == HBLOAD_CTL_STOP)
			return -1;
		if (c.type == HBLOAD_CTL_PROBE)
			hbload_sim_probe(sh, c.idx);
		if (c.type == HBLOAD_CTL_STATS)
			hbload_sim_report(sh, c.idx);
	}
}

/* Send every heartbeat that is due; returns when the next one is. */
static int64_t
hbload_sim_beat(struct hbload_shard *sh, int64_t now)
{
	struct hbload_heap_entry e;
	struct hbload_sim *w;

	while (sh->heaplen > 0 && sh->heap[0].due_us <= now) {
		e = hbload_heap_pop(sh);
		w = &sh->sims[e.idx];
		if (e.gen != w->gen || w->state != HBLOAD_SIM_READY)
			continue; /* rescheduled or no longer registered */
		hbload_sim_send_heartbeat(sh, e.idx);
		hbload_sim_drain(sh, e.idx);
		/* Late by more than an interval: skip slots, keep the phase. */
		w->next_hb_us += w->hb_us;
		if (w->next_hb_us <= now)
			w->next_hb_us +=
			    ((now - w->next_hb_us) / w->hb_us + 1) * w->hb_us;
		hbload_heap_push(sh, e.idx);
	}
	return sh->heaplen > 0 ? sh->heap[0].due_us : INT64_MAX;
}

/*
 * The simulator process: open this slice's sockets at the ramp rate, answer
 * the master, beat on schedule, report stats, until told to stop.
 */
static int
hbload_sim_run(struct hbload_shard *sh)
{
	struct epoll_event evs[256];
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
	int64_t now, start, next_stats, next_open, wake;
	int nev, timeout, opened = 0, rc = 1;

	sh->sims = xcalloc((size_t)sh->n, sizeof *sh->sims);
	for (int i = 0; i < sh->n; i++)
		sh->sims[i].hb_us = sh->hb_us;
	if ((sh->ctx = zmq_ctx_new()) == NULL ||
	    zmq_ctx_set(sh->ctx, ZMQ_MAX_SOCKETS, sh->n + 100) == -1 ||
	    zmq_ctx_set(sh->ctx, ZMQ_IO_THREADS, 1) == -1) {
		fprintf(stderr, "heartbeat-load: simulator: zmq context: %s\n",
			zmq_strerror(errno));
		return 1;
	}
	if ((sh->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(sh->epfd, EPOLL_CTL_ADD, sh->ctl, &ev) == -1) {
		fprintf(stderr, "heartbeat-load: simulator: epoll: %s\n",
			strerror(errno));
		goto out;
	}

	start = util_now_us();
	next_stats = start;
	for (;;) {
		now = util_now_us();
		/* Ramp: connection k opens at start + k/rate. */
		while (opened < sh->n &&
		       now >= start + (int64_t)(opened * 1e6 / sh->rate)) {
			if (hbload_sim_open(sh, opened) == -1)
				goto out;
			opened++;
		}
		next_open = opened < sh->n
				? start + (int64_t)(opened * 1e6 / sh->rate)
				: INT64_MAX;
		wake = hbload_sim_beat(sh, now);
		if (now >= next_stats) {
			hbload_sim_report(sh, 0);
			next_stats = now + HBLOAD_STATS_EVERY_MS * 1000;
		}
		if (next_open < wake)
			wake = next_open;
		if (next_stats < wake)
			wake = next_stats;
		now = util_now_us();
		timeout = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
		nev = epoll_wait(sh->epfd, evs, 256, timeout);
		if (nev == -1 && errno != EINTR) {
			fprintf(stderr,
				"heartbeat-load: simulator: epoll_wait: "
				"%s\n",
				strerror(errno));
			goto out;
		}
		for (int i = 0; i < nev; i++) {
			if (evs[i].data.u32 == UINT32_MAX) {
				if (hbload_sim_control(sh) == -1) {
					rc = 0;
					goto out;
				}
			} else
				hbload_sim_drain(sh, (int)evs[i].data.u32);
		}
	}
out:
	for (int i = 0; i < sh->n; i++)
		if (sh->sims[i].sock != NULL)
			zmq_close(sh->sims[i].sock);
	zmq_ctx_term(sh->ctx);
	return rc;
}

/* ---- coordinator: the master process ------------------------------------ */

/* Whether the master is still running; records its status when not. */
static bool
hbload_master_alive(struct hbload *h)
{
	return benchlib_child_alive(&h->cl.kids[0]);
}

/* Start the master, wait for its tokens, take the key and secret. */
static int
hbload_start_master(struct hbload *h)
{
	char hb[16], *cause = NULL;
	const char *const extra[] = {"--heartbeat", hb, "--join-token",
				     HBLOAD_SECRET, NULL};

	snprintf(hb, sizeof hb, "%d", h->o.heartbeat_ms);
	if (benchlib_cluster_start_master(&h->cl, extra) == -1)
		return -1;
	if (token_parse(h->cl.join, h->key, &h->secret, &cause) == -1) {
		fprintf(stderr, "heartbeat-load: %s/join.token: %s\n",
			h->cl.state, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Read utime + stime and the name of every thread of the master. */
static void
hbload_sample_threads(struct hbload *h, struct hbload_threads *t)
{
	char path[96], *text, *open, *close;
	unsigned long long ut, st;
	struct dirent *de;
	DIR *d;

	t->n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)h->cl.kids[0].pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && t->n < HBLOAD_THREADS_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat",
			 (int)h->cl.kids[0].pid, de->d_name);
		if ((text = util_read_file(path, 4096, NULL)) == NULL)
			continue;
		if ((open = strchr(text, '(')) != NULL &&
		    (close = strrchr(text, ')')) != NULL && close > open &&
		    sscanf(close + 1,
			   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
			   "%llu",
			   &ut, &st) == 2) {
			*close = '\0';
			t->tid[t->n] = atoi(de->d_name);
			snprintf(t->comm[t->n], sizeof t->comm[t->n], "%s",
				 open + 1);
			t->ticks[t->n++] = ut + st;
		}
		free(text);
	}
	closedir(d);
}

/*
 * The kernel's count of connections dropped because a listen queue was full
 * (TcpExt ListenOverflows): during the ramp, that is the master's accept
 * backlog. It counts every listener in the network namespace. -1 if unknown.
 */
static long long
hbload_listen_overflows(void)
{
	char *text, *names, *values, *save1, *save2, *n, *v;
	long long found = -1;

	if ((text = util_read_file("/proc/net/netstat", 1 << 20, NULL)) == NULL)
		return -1;
	/* Pairs of lines: "TcpExt: Name Name ..." then "TcpExt: 1 2 ...". */
	if ((names = strstr(text, "TcpExt:")) != NULL &&
	    (values = strchr(names, '\n')) != NULL) {
		*values++ = '\0';
		if ((v = strchr(values, '\n')) != NULL)
			*v = '\0';
		n = strtok_r(names, " ", &save1);
		v = strtok_r(values, " ", &save2);
		while (n != NULL && v != NULL) {
			if (strcmp(n, "ListenOverflows") == 0) {
				found = strtoll(v, NULL, 10);
				break;
			}
			n = strtok_r(NULL, " ", &save1);
			v = strtok_r(NULL, " ", &save2);
		}
	}
	free(text);
	return found;
}

/* The node object of GET /v1/nodes/NAME, bare or under "node". */
static json_t *
hbload_node_object(json_t *j)
{
	json_t *inner = json_object_get(j, "node");

	return json_is_object(inner) ? inner : j;
}

/* The node array of GET /v1/nodes, bare or under "nodes". */
static json_t *
hbload_nodes_array(json_t *j)
{
	return json_is_array(j) ? j : json_object_get(j, "nodes");
}

/* ---- coordinator: the simulators --------------------------------------- */

static int
hbload_start_sims(struct hbload *h)
{
	int64_t epoch = util_now_us();
	int sv[2];

	h->procs = xcalloc((size_t)h->nprocs, sizeof *h->procs);
	for (int i = 0; i < h->nprocs; i++) {
		struct hbload_proc *p = &h->procs[i];

		p->fd = -1;
		p->lo = i * h->shard_size;
		p->n = h->o.workers - p->lo < h->shard_size
			   ? h->o.workers - p->lo
			   : h->shard_size;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ==
		    -1) {
			fprintf(stderr, "heartbeat-load: socketpair: %s\n",
				strerror(errno));
			return -1;
		}
		fflush(NULL);
		if ((p->pid = fork()) == -1) {
			fprintf(stderr, "heartbeat-load: fork: %s\n",
				strerror(errno));
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		if (p->pid == 0) {
			struct hbload_shard sh = {
			    .lo = p->lo,
			    .n = p->n,
			    .total = h->o.workers,
			    .ctl = sv[1],
			    .server_key = h->key,
			    .secret = h->secret,
			    .hb_us = (int64_t)h->o.heartbeat_ms * 1000,
			    .epoch_us = epoch,
			    .rate = (double)h->o.ramp_per_sec / h->nprocs,
			};

			/* The coordinator stops us; ^C is its business. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			signal(SIGINT, SIG_IGN);
			signal(SIGTERM, SIG_DFL);
			close(sv[0]);
			for (int k = 0; k < i; k++)
				close(h->procs[k].fd);
			snprintf(sh.endpoint, sizeof sh.endpoint,
				 "tcp://127.0.0.1:%d", h->cl.port);
			_exit(hbload_sim_run(&sh));
		}
		close(sv[1]);
		p->fd = sv[0];
	}
	return 0;
}

static void
hbload_proc_read(struct hbload *h, struct hbload_proc *p)
{
	struct hbload_ctl c;
	ssize_t r;

	(void)h;
	for (;;) {
		r = recv(p->fd, &c, sizeof c, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			if (!p->dead)
				fprintf(stderr,
					"heartbeat-load: simulator %d "
					"(workers %d-%d) exited\n",
					(int)p->pid, p->lo, p->lo + p->n - 1);
			p->dead = true;
			return;
		}
		if ((size_t)r != sizeof c)
			continue;
		if (c.type == HBLOAD_CTL_STATS) {
			p->st = c.stats;
			if (c.idx != 0)
				p->st_request = c.idx;
		} else if (c.type == HBLOAD_CTL_SENT) {
			p->sent = c;
			p->have_sent = true;
		}
	}
}

/*
 * Wait up to ms for simulator reports. Returns -1 when interrupted, when the
 * master died or when a simulator did.
 */
static int
hbload_pump(struct hbload *h, int ms)
{
	struct pollfd pfds[8];
	int n = 0;

	for (int i = 0; i < h->nprocs && n < 8; i++) {
		pfds[n].fd = h->procs[i].dead ? -1 : h->procs[i].fd;
		pfds[n++].events = POLLIN;
	}
	if (poll(pfds, (nfds_t)n, ms < 0 ? 0 : ms) > 0)
		for (int i = 0; i < n; i++)
			if (pfds[i].revents != 0)
				hbload_proc_read(h, &h->procs[i]);
	if (atomic_load(&benchlib_interrupted) || !hbload_master_alive(h))
		return -1;
	for (int i = 0; i < h->nprocs; i++)
		if (h->procs[i].dead)
			return -1;
	return 0;
}

/* Wait until ms on the monotonic clock, reading reports meanwhile. */
static int
hbload_pump_until(struct hbload *h, int64_t until_ms)
{
	int64_t now;

	while ((now = util_now_ms()) < until_ms)
		if (hbload_pump(h, (int)(until_ms - now)) == -1)
			return -1;
	return hbload_pump(h, 0);
}

static void
hbload_stats_sum(struct hbload *h, struct hbload_stats *s)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < h->nprocs; i++) {
		const struct hbload_stats *p = &h->procs[i].st;

		s->created += p->created;
		s->ready += p->ready;
		s->refused += p->refused;
		s->welcomes += p->welcomes;
		s->hb_sent += p->hb_sent;
		s->send_fail += p->send_fail;
		s->rereg += p->rereg;
		s->errors += p->errors;
		s->bad += p->bad;
		s->welcome_us_sum += p->welcome_us_sum;
		if (p->welcome_us_max > s->welcome_us_max)
			s->welcome_us_max = p->welcome_us_max;
		if (s->refused_error[0] == '\0')
			memcpy(s->refused_error, p->refused_error,
			       sizeof s->refused_error);
	}
}

/* Stats as of now rather than of the last periodic report. */
static int
hbload_stats_now(struct hbload *h, struct hbload_stats *s)
{
	static int request;
	struct hbload_ctl c = {.type = HBLOAD_CTL_STATS, .idx = ++request};
	int64_t deadline = util_now_ms() + 5000;
	bool all;

	for (int i = 0; i < h->nprocs; i++)
		hbload_ctl_send(h->procs[i].fd, &c);
	do {
		if (hbload_pump(h, 10) == -1)
			return -1;
		all = true;
		for (int i = 0; i < h->nprocs; i++)
			if (h->procs[i].st_request != request)
				all = false;
		if (!all && util_now_ms() > deadline) {
			fprintf(stderr, "heartbeat-load: a simulator does not "
					"answer\n");
			return -1;
		}
	} while (!all);
	hbload_stats_sum(h, s);
	return 0;
}

static void
hbload_stop_sims(struct hbload *h)
{
	struct hbload_ctl c = {.type = HBLOAD_CTL_STOP};
	int64_t deadline = util_now_ms() + 10000;
	int status;

	if (h->procs == NULL)
		return;
	for (int i = 0; i < h->nprocs; i++)
		if (h->procs[i].fd != -1)
			hbload_ctl_send(h->procs[i].fd, &c);
	for (int i = 0; i < h->nprocs; i++) {
		struct hbload_proc *p = &h->procs[i];

		if (p->pid <= 0)
			continue;
		while (waitpid(p->pid, &status, WNOHANG) == 0) {
			if (util_now_ms() > deadline) {
				kill(p->pid, SIGKILL);
				waitpid(p->pid, &status, 0);
				break;
			}
			benchlib_sleep_ms(10);
		}
		if (p->fd != -1)
			close(p->fd);
		p->fd = -1;
		p->pid = 0;
	}
}

/* ---- coordinator: measurements ----------------------------------------- */

struct hbload_probes {
	double *lag_ms;
	int n;
	int unseen;  /* not reflected within the interval */
	int skipped; /* the chosen worker was not registered */
	int failed;  /* the API did not answer */
	char last_error[512];
};

/*
 * Heartbeat reflection lag of one worker: have its simulator send a
 * heartbeat, then poll the API until the node's age ("last_seen_ms") says
 * the master received a heartbeat after that send. The master saw it at
 * (time of the poll) - last_seen_ms, taking the poll's time as the middle of
 * the request, so the lag is that minus the send time. The simulator holds
 * the worker's next beat a full interval back, so a match found before then
 * can only be this heartbeat.
 */
static int
hbload_probe(struct hbload *h, int gidx, struct hbload_probes *pr)
{
	struct hbload_proc *p = &h->procs[gidx / h->shard_size];
	struct hbload_ctl c = {.type = HBLOAD_CTL_PROBE, .idx = gidx};
	int64_t t_send, t0, t1, deadline, hb_us;
	char path[64], err[256];
	long long age;
	json_t *j, *node;
	bool answered;
	double seen;
	char *cause;

	p->have_sent = false;
	hbload_ctl_send(p->fd, &c);
	deadline = util_now_ms() + 5000;
	while (!p->have_sent || p->sent.idx != gidx) {
		if (util_now_ms() > deadline) {
			fprintf(stderr,
				"heartbeat-load: simulator %d does "
				"not answer\n",
				(int)p->pid);
			return -1;
		}
		if (hbload_pump(h, 100) == -1)
			return -1;
	}
	if (!p->sent.ok) {
		pr->skipped++;
		return 0;
	}
	t_send = p->sent.t_us;
	hb_us = (int64_t)h->o.heartbeat_ms * 1000;
	deadline = t_send + hb_us - 20000;
	snprintf(path, sizeof path, "/v1/nodes/sim-%d", gidx);
	for (;;) {
		t0 = util_now_us();
		j = benchlib_http_get(h->api, path, err, sizeof err);
		t1 = util_now_us();
		answered = j != NULL;
		if (j == NULL) {
			snprintf(pr->last_error, sizeof pr->last_error,
				 "GET %s: %s", path, err);
		} else {
			node = hbload_node_object(j);
			cause = NULL;
			if (jsonx_get_int(node, "last_seen_ms", true, 0,
					  LLONG_MAX, &age, &cause) == 0) {
				seen =
				    (double)(t0 + t1) / 2 - (double)age * 1000;
				/*
				 * The previous beat was an interval earlier;
				 * anything later than half of one is ours.
				 */
				if (seen >= (double)(t_send - hb_us / 2)) {
					json_decref(j);
					if (pr->n < HBLOAD_PROBES_MAX)
						pr->lag_ms[pr->n++] =
						    seen > (double)t_send
							? (seen -
							   (double)t_send) /
							      1000
							: 0;
					return 0;
				}
			} else {
				snprintf(pr->last_error, sizeof pr->last_error,
					 "GET %s: %s", path, cause);
				free(cause);
			}
			json_decref(j);
		}
		if (util_now_us() > deadline) {
			if (!answered)
				pr->failed++;
			else
				pr->unseen++;
			return 0;
		}
		if (atomic_load(&benchlib_interrupted) || !hbload_master_alive(h))
			return -1;
		benchlib_sleep_ms(1);
	}
}

/* Count the nodes the API lists and those not "ready". */
static int
hbload_count_not_ready(struct hbload *h, long *listed, long *not_ready,
		       char *example, size_t len)
{
	char err[256];
	json_t *j, *arr, *node;
	const char *state, *name;
	size_t i;

	*listed = *not_ready = 0;
	example[0] = '\0';
	if ((j = benchlib_http_get(h->api, "/v1/nodes", err, sizeof err)) ==
	    NULL) {
		fprintf(stderr, "heartbeat-load: GET /v1/nodes: %s\n", err);
		return -1;
	}
	if (!json_is_array(arr = hbload_nodes_array(j))) {
		fprintf(stderr, "heartbeat-load: GET /v1/nodes: no node "
				"array in the reply\n");
		json_decref(j);
		return -1;
	}
	json_array_foreach(arr, i, node)
	{
		(*listed)++;
		state = json_string_value(json_object_get(node, "state"));
		name = json_string_value(json_object_get(node, "name"));
		if (state != NULL && strcmp(state, "ready") == 0)
			continue;
		(*not_ready)++;
		if (example[0] == '\0')
			snprintf(example, len, "%s is %s",
				 name != NULL ? name : "?",
				 state != NULL ? state : "(no state)");
	}
	json_decref(j);
	return 0;
}

static void
hbload_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: heartbeat-load [--workers N] [--seconds S] "
	    "[--heartbeat MS]\n"
	    "                      [--drover PATH] [--ramp-per-sec R]\n"
	    "  --workers N       simulated workers (default 1000, at most "
	    "%d)\n"
	    "  --seconds S       measurement window (default 30)\n"
	    "  --heartbeat MS    heartbeat interval (default 1000)\n"
	    "  --drover PATH     the drover binary (default ./build/drover)\n"
	    "  --ramp-per-sec R  new connections per second while ramping "
	    "(default 2000)\n",
	    HBLOAD_WORKERS_MAX);
}

static int
hbload_parse_args(int argc, char **argv, struct hbload_opts *o)
{
	const struct benchlib_opt opts[] = {
	    {"workers", &o->workers, 1, HBLOAD_WORKERS_MAX},
	    {"seconds", &o->seconds, 1, 86400},
	    {"heartbeat", &o->heartbeat_ms, 100, 3600000},
	    {"ramp-per-sec", &o->ramp_per_sec, 1, 1000000},
	    {NULL, NULL, 0, 0},
	};

	o->workers = 1000;
	o->seconds = 30;
	o->heartbeat_ms = 1000;
	o->ramp_per_sec = 2000;
	o->drover = "./build/drover";
	return benchlib_parse_args(argc, argv, opts, &o->drover, hbload_usage);
}

/*
 * Raise RLIMIT_NOFILE to its hard limit (the master and the simulators
 * inherit it) and size the simulator slices to fit it.
 */
static int
hbload_plan_fds(struct hbload *h)
{
	struct rlimit rl;
	long per;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "heartbeat-load: getrlimit: %s\n",
			strerror(errno));
		return -1;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "heartbeat-load: setrlimit: %s\n",
			strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)h->o.workers + HBLOAD_FD_SPARE) {
		fprintf(stderr,
			"heartbeat-load: RLIMIT_NOFILE is %llu, the "
			"master needs about %d descriptors for %d "
			"workers (raise it with ulimit -Hn)\n",
			(unsigned long long)rl.rlim_cur,
			h->o.workers + HBLOAD_FD_SPARE, h->o.workers);
		return -1;
	}
	per = rl.rlim_cur == RLIM_INFINITY
		  ? HBLOAD_SHARD_MAX
		  : ((long)rl.rlim_cur - HBLOAD_FD_SPARE) / 2;
	if (per > HBLOAD_SHARD_MAX)
		per = HBLOAD_SHARD_MAX;
	if (per < 1) {
		fprintf(stderr,
			"heartbeat-load: RLIMIT_NOFILE %llu is too "
			"low\n",
			(unsigned long long)rl.rlim_cur);
		return -1;
	}
	h->nprocs = (int)((h->o.workers + per - 1) / per);
	/* Even slices: 10,000 workers become 2 x 5,000, not 5,000 + ... */
	h->shard_size = (h->o.workers + h->nprocs - 1) / h->nprocs;
	if (h->nprocs > 8) {
		fprintf(stderr,
			"heartbeat-load: RLIMIT_NOFILE %llu would need "
			"%d simulator processes (at most 8)\n",
			(unsigned long long)rl.rlim_cur, h->nprocs);
		return -1;
	}
	return 0;
}

static int
hbload_setup(struct hbload *h)
{
	static const char *const names[] = {"master"};
	char err[256];
	int64_t deadline;
	json_t *j;

	if (hbload_plan_fds(h) == -1 ||
	    benchlib_cluster_init(&h->cl, "heartbeat-load", h->o.drover, names,
				  1) == -1 ||
	    hbload_start_master(h) == -1 ||
	    (h->api = benchlib_http_new(&h->cl)) == NULL)
		return -1;
	curl_easy_setopt(h->api->curl, CURLOPT_TIMEOUT_MS, 5000L);
	/* The API may come up just after the tokens are written. */
	deadline = util_now_ms() + 10000;
	while ((j = benchlib_http_get(h->api, "/v1/nodes", err, sizeof err)) ==
	       NULL) {
		if (util_now_ms() > deadline || !hbload_master_alive(h) ||
		    atomic_load(&benchlib_interrupted)) {
			fprintf(stderr,
				"heartbeat-load: the master's API at "
				"%s does not answer: %s\n",
				h->cl.api_base, err);
			return -1;
		}
		benchlib_sleep_ms(100);
	}
	json_decref(j);
	return hbload_start_sims(h);
}

/* ---- coordinator: the run ----------------------------------------------- */

static void
hbload_print_progress(struct hbload *h, const char *what)
{
	struct hbload_stats s;

	hbload_stats_sum(h, &s);
	fprintf(stderr,
		"heartbeat-load: %s: %ld/%d connected, %ld registered, "
		"%ld refused\n",
		what, s.created, h->o.workers, s.ready, s.refused);
}

/* Everything the summary prints. */
struct hbload_result {
	double ramp_s;
	bool ramp_complete;
	long long overflows; /* -1 when unknown */
	struct hbload_stats at_ramp, w0, w1;
	double ramp_cpu;
	double window_s; /* as measured: the last probe may overrun a little */
	double cpu_mean, cpu_max;
	long rss_start_kb, rss_kb, rss_max_kb, hwm_kb;
	int samples;
	struct hbload_threads th0, th1;
	struct hbload_probes pr;
	long listed, not_ready;
	bool counted;
	char not_ready_example[128];
};

/* Fold one interval of the window into the maxima. */
static void
hbload_window_sample(struct hbload_result *r,
		     const struct benchlib_sample *prev,
		     const struct benchlib_sample *cur)
{
	double cpu = benchlib_cpu_pct(prev, cur);

	if (cpu > r->cpu_max)
		r->cpu_max = cpu;
	if (cur->rss_kb > r->rss_max_kb)
		r->rss_max_kb = cur->rss_kb;
	r->samples++;
}

static int
hbload_run(struct hbload *h, struct hbload_result *r)
{
	struct benchlib_sample ramp0, s0, prev, cur;
	struct hbload_stats s;
	int64_t start, deadline, next_progress, next_sample, next_probe, end;

	/* Ramp: until every worker is registered or refused. */
	start = util_now_ms();
	benchlib_sample(h->cl.kids[0].pid, &ramp0);
	r->overflows = hbload_listen_overflows();
	deadline =
	    start + 60000 + (int64_t)h->o.workers * 2000 / h->o.ramp_per_sec;
	next_progress = start + 1000;
	for (;;) {
		if (hbload_pump(h, 100) == -1)
			return -1;
		hbload_stats_sum(h, &s);
		if (s.ready + s.refused >= h->o.workers) {
			r->ramp_complete = true;
			break;
		}
		if (util_now_ms() > deadline) {
			hbload_print_progress(h, "ramp timed out");
			break;
		}
		if (util_now_ms() >= next_progress) {
			hbload_print_progress(h, "ramp");
			next_progress += 1000;
		}
	}
	r->ramp_s = (double)(util_now_ms() - start) / 1000;
	if (r->overflows != -1 && hbload_listen_overflows() != -1)
		r->overflows = hbload_listen_overflows() - r->overflows;
	else
		r->overflows = -1;
	benchlib_sample(h->cl.kids[0].pid, &cur);
	r->ramp_cpu = benchlib_cpu_pct(&ramp0, &cur);
	hbload_stats_sum(h, &r->at_ramp);
	hbload_print_progress(h, "ramp done");
	if (r->at_ramp.ready == 0) {
		fprintf(stderr,
			"heartbeat-load: no worker could register%s%s\n",
			r->at_ramp.refused_error[0] != '\0' ? ": " : "",
			r->at_ramp.refused_error);
		return -1;
	}

	/* Settle: one interval, so every worker has beaten at least once. */
	if (hbload_pump_until(h, util_now_ms() + h->o.heartbeat_ms + 1000) ==
	    -1)
		return -1;

	fprintf(stderr, "heartbeat-load: measuring for %d s\n", h->o.seconds);
	r->pr.lag_ms = xcalloc(HBLOAD_PROBES_MAX, sizeof *r->pr.lag_ms);
	if (hbload_stats_now(h, &r->w0) == -1 || benchlib_sample(h->cl.kids[0].pid, &s0) == -1)
		return -1;
	hbload_sample_threads(h, &r->th0);
	prev = s0;
	r->rss_start_kb = r->rss_max_kb = s0.rss_kb;
	start = util_now_ms();
	end = start + (int64_t)h->o.seconds * 1000;
	next_sample = start + 1000;
	next_probe = start + HBLOAD_PROBE_EVERY_MS / 2;
	while (util_now_ms() < end) {
		int64_t wake =
		    next_sample < next_probe ? next_sample : next_probe;

		if (wake > end)
			wake = end;
		if (hbload_pump_until(h, wake) == -1)
			return -1;
		if (util_now_ms() >= next_sample) {
			if (benchlib_sample(h->cl.kids[0].pid, &cur) == -1)
				return -1;
			hbload_window_sample(r, &prev, &cur);
			prev = cur;
			next_sample += 1000;
		}
		/* A probe takes at most an interval; none starts after the end.
		 */
		for (int i = 0, tries = 0;
		     util_now_ms() >= next_probe &&
		     i < HBLOAD_PROBES_PER_ROUND && util_now_ms() < end &&
		     tries < 20 * HBLOAD_PROBES_PER_ROUND;
		     tries++) {
			int skipped = r->pr.skipped;

			if (hbload_probe(h, (int)(random() % h->o.workers),
					 &r->pr) == -1)
				return -1;
			/* An unregistered worker does not count: pick again. */
			if (r->pr.skipped == skipped)
				i++;
		}
		if (util_now_ms() >= next_probe)
			next_probe += HBLOAD_PROBE_EVERY_MS;
	}
	if (benchlib_sample(h->cl.kids[0].pid, &cur) == -1 || hbload_stats_now(h, &r->w1) == -1)
		return -1;
	hbload_sample_threads(h, &r->th1);
	/* The last, shorter interval counts for the maximum if it is fair. */
	if (cur.t_us - prev.t_us >= 500000)
		hbload_window_sample(r, &prev, &cur);
	r->window_s = (double)(cur.t_us - s0.t_us) / 1e6;
	r->cpu_mean = benchlib_cpu_pct(&s0, &cur);
	r->rss_kb = cur.rss_kb;
	r->hwm_kb = cur.hwm_kb;

	/* While the simulated workers are still connected. */
	r->counted = hbload_count_not_ready(h, &r->listed, &r->not_ready,
					    r->not_ready_example,
					    sizeof r->not_ready_example) == 0;
	return 0;
}

/* "main 80.1 %, ZMQbg/IO/0 30.2 %": the busy threads over the window. */
static void
hbload_print_threads(struct hbload *h, struct hbload_result *r)
{
	const char *sep = "";

	printf("  by thread:");
	for (int i = 0; i < r->th1.n; i++) {
		for (int k = 0; k < r->th0.n; k++) {
			double pct;

			if (r->th0.tid[k] != r->th1.tid[i])
				continue;
			pct = (double)(r->th1.ticks[i] - r->th0.ticks[k]) /
			      (double)h->clk_tck * 100.0 / r->window_s;
			if (pct < 0.5)
				break;
			printf("%s %s%s %.1f %%", sep,
			       r->th1.tid[i] == (int)h->cl.kids[0].pid ? "main " : "",
			       r->th1.comm[i], pct);
			sep = ",";
			break;
		}
	}
	printf("%s\n", sep[0] == '\0' ? " all idle" : "");
}

static void
hbload_print(struct hbload *h, struct hbload_result *r)
{
	struct hbload_probes *pr = &r->pr;
	double window = r->window_s, hwm_mib = (double)r->hwm_kb / 1024;
	long hb = r->w1.hb_sent - r->w0.hb_sent;
	bool cpu_ok = r->cpu_mean < HBLOAD_CPU_TARGET_PCT;
	bool rss_ok = hwm_mib < HBLOAD_RSS_TARGET_MIB;

	printf("heartbeat-load: %d workers, %d ms heartbeats, %d s window\n",
	       h->o.workers, h->o.heartbeat_ms, h->o.seconds);
	printf("ramp: %ld registered in %.1f s at %d/s (HELLO to WELCOME "
	       "mean %.1f ms, max %.1f ms), %ld refused%s%s%s\n",
	       r->at_ramp.ready, r->ramp_s, h->o.ramp_per_sec,
	       r->at_ramp.welcomes > 0 ? (double)r->at_ramp.welcome_us_sum /
					     r->at_ramp.welcomes / 1000
				       : 0.0,
	       (double)r->at_ramp.welcome_us_max / 1000, r->at_ramp.refused,
	       r->at_ramp.refused_error[0] != '\0' ? " (" : "",
	       r->at_ramp.refused_error,
	       r->at_ramp.refused_error[0] != '\0' ? ")" : "");
	if (r->overflows > 0)
		printf(
		    "ramp: %lld connection attempts dropped by a full listen "
		    "queue (TcpExt ListenOverflows; the clients retry)\n",
		    r->overflows);
	if (!r->ramp_complete)
		printf("ramp: INCOMPLETE: %ld of %d workers never got an "
		       "answer\n",
		       h->o.workers - r->at_ramp.ready - r->at_ramp.refused,
		       h->o.workers);
	printf("heartbeats: %ld sent in %.1f s (%.0f/s), %ld send "
	       "failures, %ld re-registrations, %ld errors, %ld bad replies\n",
	       hb, window, (double)hb / window,
	       r->w1.send_fail - r->w0.send_fail, r->w1.rereg - r->w0.rereg,
	       r->w1.errors - r->w0.errors, r->w1.bad - r->w0.bad);
	printf("master CPU: mean %.1f %% of one core, max %.1f %% "
	       "(1 s samples; during the ramp %.1f %%)\n",
	       r->cpu_mean, r->cpu_max, r->ramp_cpu);
	hbload_print_threads(h, r);
	printf("master RSS: %.1f MiB at the end (%.1f MiB at the start of "
	       "the window, max sampled %.1f MiB; peak VmHWM %.1f MiB)\n",
	       (double)r->rss_kb / 1024, (double)r->rss_start_kb / 1024,
	       (double)r->rss_max_kb / 1024, hwm_mib);
	if (r->rss_start_kb > 0 && r->rss_kb > r->rss_start_kb * 21 / 20)
		printf("  note: RSS grew %.1f MiB in the window. ZeroMQ fills "
		       "each pipe's 256-message chunk\n  page by page, so RSS "
		       "settles only after ~256 heartbeats per worker (%.0f s "
		       "here).\n",
		       (double)(r->rss_kb - r->rss_start_kb) / 1024,
		       256.0 * h->o.heartbeat_ms / 1000);
	if (pr->n > 0) {
		qsort(pr->lag_ms, (size_t)pr->n, sizeof *pr->lag_ms,
		      benchlib_cmp_double);
		printf("heartbeat reflection lag: p50 %.1f ms, max %.1f ms "
		       "over %d probes",
		       pr->lag_ms[(pr->n - 1) / 2], pr->lag_ms[pr->n - 1],
		       pr->n);
	} else
		printf("heartbeat reflection lag: no probe succeeded");
	if (pr->unseen > 0 || pr->failed > 0 || pr->skipped > 0)
		printf(" (%d not reflected within %d ms, %d API failures, %d "
		       "skipped as unregistered)",
		       pr->unseen, h->o.heartbeat_ms, pr->failed, pr->skipped);
	printf("\n");
	if (pr->last_error[0] != '\0' && (pr->unseen > 0 || pr->failed > 0))
		printf("  last API problem: %s\n", pr->last_error);
	if (r->counted)
		printf("nodes not ready at end: %ld (of %ld listed, %d "
		       "simulated)%s%s\n",
		       r->not_ready, r->listed, h->o.workers,
		       r->not_ready > 0 ? "; e.g. " : "", r->not_ready_example);
	else
		printf("nodes not ready at end: unknown (GET /v1/nodes "
		       "failed)\n");
	printf("targets: CPU < %.0f %% of one core: %s; RSS < %.0f MiB: %s\n",
	       HBLOAD_CPU_TARGET_PCT, cpu_ok ? "PASS" : "FAIL",
	       HBLOAD_RSS_TARGET_MIB, rss_ok ? "PASS" : "FAIL");
	fflush(stdout);
}

/* Stop the simulators, then the master; keep its log; remove TMP. */
static void
hbload_cleanup(struct hbload *h)
{
	hbload_stop_sims(h);
	benchlib_http_free(h->api);
	benchlib_cluster_free(&h->cl);
	free(h->procs);
	free(h->secret);
}

int
main(int argc, char **argv)
{
	struct hbload h = {0};
	struct hbload_result r = {0};
	char status[128];
	bool set_up;
	int rc = 1;

	benchlib_init("heartbeat-load");
	if (hbload_parse_args(argc, argv, &h.o) == -1)
		return 2;
	h.clk_tck = sysconf(_SC_CLK_TCK);
	srandom((unsigned)getpid());
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "heartbeat-load: curl_global_init failed\n");
		return 1;
	}

	set_up = hbload_setup(&h) == 0;
	if (!set_up || hbload_run(&h, &r) == -1) {
		/* The step that failed has said why, except when it is this. */
		if (atomic_load(&benchlib_interrupted))
			fprintf(stderr, "heartbeat-load: interrupted\n");
		else if (set_up && !hbload_master_alive(&h)) {
			benchlib_describe_status(h.cl.kids[0].status, status,
						 sizeof status);
			fprintf(stderr,
				"heartbeat-load: the master %s during "
				"the run\n",
				status);
		}
		/* The cleanup shows the end of the master's log. */
		if (!atomic_load(&benchlib_interrupted))
			h.cl.drover_failed = true;
		goto out;
	}
	hbload_print(&h, &r);
	rc = 0;
out:
	hbload_cleanup(&h);
	free(r.pr.lag_ms);
	curl_global_cleanup();
	if (atomic_load(&benchlib_interrupted))
		return 130;
	return rc;
}
