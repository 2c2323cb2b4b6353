#include "master/master.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/token.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/api.h"
#include "master/app.h"
#include "master/artcopy.h"
#include "master/artifact.h"
#include "master/db.h"
#include "master/filestore.h"
#include "master/history.h"
#include "master/transfer.h"
#include "master/logpipe.h"
#include "master/pending.h"
#include "master/node.h"
#include "master/rpc.h"
#include "master/sched.h"
#include "master/zap.h"

#define MASTER_MONITOR_ENDPOINT "inproc://drover-router-monitor"
/* Messages handled per loop turn before the API gets its turn again. */
#define MASTER_BATCH 2048
/*
 * How long writes that no reply waits for may stay uncommitted (db.h): a
 * commit waits for the disk, and without the delay each heartbeat and
 * each app's end cost one, on the loop that answers the next launch.
 */
#define MASTER_COMMIT_DELAY_MS 100
/*
 * How long a stopping master keeps serving the answers it holds, so that
 * no client is cut off without one; a slow reader is not waited for longer.
 */
#define MASTER_DRAIN_MS 2000

static void
master_usage(FILE *f)
{
	fprintf(f,
	    "usage: drover master [--bind HOST:PORT] [--api HOST:PORT] "
	    "[--state DIR]\n"
	    "                     [--heartbeat MS] [--join-token SECRET] "
	    "[--admin-token T] [--metrics-token T] [--shell]\n"
	    "                     [--unsafe-no-fsync]\n"
	    "  --bind HOST:PORT     where workers connect (default 0.0.0.0:7400)\n"
	    "  --api HOST:PORT      the REST API (default 127.0.0.1:7401)\n"
	    "  --state DIR          keys, tokens and state (default "
	    "/var/lib/drover as root)\n"
	    "  --heartbeat MS       heartbeat interval told to workers "
	    "(default 1000)\n"
	    "  --join-token SECRET  fix the secret part of the join token\n"
	    "  --admin-token T      the REST API's bearer token\n"
	    "  --metrics-token T    a token that may read /metrics only\n"
	    "  --shell              also run the interactive shell here\n"
	    "  --unsafe-no-fsync    do not wait for the disk at commits: for "
	    "benchmarks\n"
	    "                       only (a crash may lose acknowledged "
	    "changes)\n");
}

int
master_send(struct master *m, struct msg *msg)
{
	if (msg_send(m->router, msg, true) == 0)
		return 0;
	if (errno == EHOSTUNREACH)
		log_debug("%s not sent: the worker's connection is gone",
		    msg_type_name(msg->type));
	else
		log_warn("%s not sent", msg_type_name(msg->type));
	return -1;
}

int
master_send_to(struct master *m, struct node *n, struct msg *msg)
{
	memcpy(msg->peer, n->peer, n->peerlen);
	msg->peerlen = n->peerlen;
	return master_send(m, msg);
}

bool
master_send_to_ready(struct master *m, const char *node, struct msg *msg)
{
	struct node *n = node_find(m->nodes, node);
	bool ok = false;

	if (n != NULL && n->state == NODE_READY && n->connected)
		ok = master_send_to(m, n, msg) == 0;
	msg_free(msg);
	return ok;
}

/* Write a token file readable only by its owner. */
static void
master_write_secret_file(struct master *m, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", m->state_dir, name);
	char *line = xasprintf("%s\n", text);

	if (util_write_file_atomic(path, line, strlen(line), 0600) == -1)
		fatal("cannot write %s", path);
	free(line);
	free(path);
}

/* Read the first line of a token file, or NULL if there is none. */
static char *
master_read_secret_file(struct master *m, const char *name)
{
	char *path = xasprintf("%s/%s", m->state_dir, name), *text;

	text = util_read_file(path, 4096, NULL);
	free(path);
	if (text != NULL)
		util_chomp(text);
	return text;
}

/*
 * The join secret and admin token survive restarts (workers and scripts hold
 * them): reuse what the state dir has unless the command line says otherwise.
 */
static void
master_load_tokens(struct master *m, const char *join_secret,
    const char *admin_token)
{
	char *old, *key = NULL, *cause = NULL;
	char hex[65], keybuf[41];

	if (join_secret != NULL)
		m->join_secret = xstrdup(join_secret);
	else if ((old = master_read_secret_file(m, "join.token")) != NULL &&
	    token_parse(old, keybuf, &key, &cause) == 0 &&
	    strcmp(keybuf, m->keys.public_z85) == 0) {
		m->join_secret = key;
		key = NULL;
	} else {
		util_random_hex(hex, 16);
		m->join_secret = xstrdup(hex);
	}
	if (old != NULL)
		free(old);
	free(key);
	free(cause);
	m->join_token = token_format(m->keys.public_z85, m->join_secret);
	master_write_secret_file(m, "join.token", m->join_token);

	if (admin_token != NULL)
		m->admin_token = xstrdup(admin_token);
	else if ((m->admin_token = master_read_secret_file(m,
		 "admin.token")) == NULL || strlen(m->admin_token) < 16) {
		free(m->admin_token);
		util_random_hex(hex, 32);
		m->admin_token = xstrdup(hex);
	}
	master_write_secret_file(m, "admin.token", m->admin_token);
	m->admin_token_id = token_id("admin", m->admin_token);
}

/* The host to print in the join line: a reachable address, not 0.0.0.0. */
static char *
master_join_host(const char *bind_host)
{
	struct ifaddrs *ifs, *i;
	char buf[INET6_ADDRSTRLEN];
	char *best = NULL;

	if (strcmp(bind_host, "0.0.0.0") != 0 && strcmp(bind_host, "*") != 0)
		return xstrdup(bind_host);
	if (getifaddrs(&ifs) == -1)
		return xstrdup("127.0.0.1");
	for (i = ifs; i != NULL && best == NULL; i = i->ifa_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;

		if (sin == NULL || sin->sin_family != AF_INET ||
		    ntohl(sin->sin_addr.s_addr) >> 24 == 127)
			continue;
		if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) != NULL)
			best = xstrdup(buf);
	}
	freeifaddrs(ifs);
	return best != NULL ? best : xstrdup("127.0.0.1");
}

static void
master_restore_node(const char *name, json_t *record, void *arg)
{
	node_restore(((struct master *)arg)->nodes, name, record);
}

static void
master_restore_app(const char *id, const char *node, json_t *obj, void *arg)
{
	(void)id;
	app_restore(((struct master *)arg)->apps, node, json_incref(obj));
}

static void
master_restore_artifact(const char *node, const char *name, json_t *manifest,
    void *arg)
{
	(void)name;
	artifact_put(((struct master *)arg)->artifacts, node,
	    json_incref(manifest));
}

/*
 * Open the state database and bring back what it holds. Nodes come back
 * unavailable until their workers register again; apps as last seen, to
 * be reconciled with what each worker reports when it does.
 */
static void
master_open_db(struct master *m)
{
	char *path = xasprintf("%s/state.db", m->state_dir), *cause = NULL;
	char *files;
	size_t napps = 0, nnodes;

	if ((m->db = db_open(path, &cause)) == NULL)
		fatalx("%s", cause);
	if (m->unsafe_no_fsync) {
		log_warnx("--unsafe-no-fsync: commits do not wait for the disk; "
		    "a crash may lose acknowledged changes");
		db_unsafe_no_fsync(m->db);
	}
	m->nodes = node_table_new();
	m->apps = app_registry_new();
	m->artifacts = artifact_registry_new();
	if (db_load_nodes(m->db, master_restore_node, m) == -1 ||
	    db_load_apps(m->db, master_restore_app, m) == -1 ||
	    db_load_artifacts(m->db, master_restore_artifact, m) == -1)
		fatalx("cannot read the state database %s", path);
	/* The master's copy of artifact files, for rescheduling (filestore.h). */
	files = xasprintf("%s/artifacts", m->state_dir);
	if ((m->files = filestore_open(files, &cause)) == NULL)
		fatalx("%s", cause);
	free(files);
	api_artifacts_gc(m);
	nnodes = node_count(m->nodes);
	{
		json_t *all = app_list(m->apps, NULL, true, util_wall_ms());

		napps = json_array_size(all);
		json_decref(all);
	}
	if (nnodes > 0 || napps > 0)
		log_info("state %s: %zu nodes and %zu apps restored", path,
		    nnodes, napps);
	free(path);
}

static void
master_raise_fd_limit(void)
{
	struct rlimit rl;

	/* Each worker is a descriptor: take all the kernel allows us. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
master_open_router(struct master *m)
{
	char *host = NULL, *cause = NULL, *endpoint;
	int one = 1, linger = 100, handshake = 5000, backlog = 4096;
	int ka_idle = 60, ka_intvl = 10, ka_cnt = 3;
	int hwm = 100000;
	int64_t maxmsg = PROTO_JSON_MAX + PROTO_DATA_MAX;
	int port;

	if (util_parse_hostport(m->bind, &host, &port, &cause) == -1)
		fatalx("--bind: %s", cause);
	m->zap = zap_open(m->zctx);
	if ((m->router = zmq_socket(m->zctx, ZMQ_ROUTER)) == NULL)
		fatal("zmq_socket");
	zmq_setsockopt(m->router, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(m->router, ZMQ_CURVE_SECRETKEY, m->keys.secret_z85, 40);
	zmq_setsockopt(m->router, ZMQ_ZAP_DOMAIN, "drover", 6);
	/* Unroutable replies must fail loudly, not vanish. */
	zmq_setsockopt(m->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(m->router, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(m->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(m->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(m->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
	/*
	 * drover's own heartbeats decide whether a node is available; dead
	 * TCP connections (a worker host gone without a reset) are pruned by
	 * the kernel's keepalive. Not by ZMTP heartbeats: libzmq 4.3 keeps
	 * their timers in one tree per I/O thread and cancels them by walking
	 * it, which at 10,000 workers made the master's I/O thread busy with
	 * nothing but timers (cost growing with the square of the workers).
	 */
	zmq_setsockopt(m->router, ZMQ_TCP_KEEPALIVE, &one, sizeof one);
	zmq_setsockopt(m->router, ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof ka_idle);
	zmq_setsockopt(m->router, ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl,
	    sizeof ka_intvl);
	zmq_setsockopt(m->router, ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof ka_cnt);
	/* Thousands of workers reconnect at once after a master restart. */
	zmq_setsockopt(m->router, ZMQ_BACKLOG, &backlog, sizeof backlog);
	/* A peer that connects and never finishes the handshake is dropped. */
	zmq_setsockopt(m->router, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake);

	if (zmq_socket_monitor(m->router, MASTER_MONITOR_ENDPOINT,
		ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == -1)
		fatal("zmq_socket_monitor");
	m->monitor = zmq_socket(m->zctx, ZMQ_PAIR);
	zmq_setsockopt(m->monitor, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(m->monitor, MASTER_MONITOR_ENDPOINT) == -1)
		fatal("monitor connect");

	endpoint = xasprintf("tcp://%s:%d", strcmp(host, "0.0.0.0") == 0 ?
	    "*" : host, port);
	if (zmq_bind(m->router, endpoint) == -1)
		fatalx("cannot listen for workers on %s: %s", m->bind,
		    zmq_strerror(errno));
	free(endpoint);
	free(host);
}

/*
 * Log a failed handshake. A scanner or a worker holding a token for another
 * master produces these; rate-limit so a flood cannot fill the log.
 */
static void
master_handle_monitor(struct master *m)
{
	static int64_t window_start;
	static int in_window, suppressed;
	zmq_msg_t ev, addr;
	uint16_t event;
	int64_t now;

	for (;;) {
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, m->monitor, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			return;
		}
		zmq_msg_init(&addr);
		if (!zmq_msg_more(&ev) ||
		    zmq_msg_recv(&addr, m->monitor, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			zmq_msg_close(&addr);
			continue;
		}
		memcpy(&event, zmq_msg_data(&ev), sizeof event);
		now = util_now_ms();
		if (now - window_start > 10000) {
			if (suppressed > 0)
				log_warnx("%d more failed worker handshakes "
				    "not logged", suppressed);
			window_start = now;
			in_window = suppressed = 0;
		}
		if (++in_window <= 10)
			log_warnx("a worker handshake on %.*s failed (%s): not a "
			    "drover worker, or it holds another master's key",
			    (int)zmq_msg_size(&addr), (char *)zmq_msg_data(&addr),
			    event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "refused" :
			    event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ?
			    "protocol error" : "no detail");
		else
			suppressed++;
		zmq_msg_close(&ev);
		zmq_msg_close(&addr);
	}
}

static void
master_handle_router(struct master *m)
{
	struct msg *msg;
	char *cause;
	int rc;

	for (int i = 0; i < MASTER_BATCH; i++) {
		rc = msg_recv(m->router, true, &msg, &cause);
		if (rc == 0)
			return;
		if (rc == -1) {
			struct node *n = msg != NULL ? node_find_by_peer(m->nodes,
			    msg->peer, msg->peerlen) : NULL;

			log_warnx("malformed message from %s: %s",
			    n != NULL ? n->name : msg != NULL &&
			    msg->peer_addr != NULL ? msg->peer_addr : "unknown peer",
			    cause != NULL ? cause : "unreadable");
			if (msg != NULL && msg->peerlen > 0) {
				struct msg *r = msg_error_reply(msg, "%s",
				    cause != NULL ? cause : "malformed message");

				master_send(m, r);
				msg_free(r);
			}
			free(cause);
			msg_free(msg);
			continue;
		}
		rpc_master_dispatch(m, msg);
	}
}

void
master_app_changed(struct master *m, struct app_record *a)
{
	db_put_app(m->db, a->id, a->node, a->obj);
}

void
master_app_forget(struct master *m, const char *id)
{
	db_delete_app(m->db, id);
	app_remove(m->apps, id);
}

void
master_event(struct master *m, const char *kind, const char *node,
    const char *app, json_t *detail)
{
	db_add_event(m->db, kind, node, app, detail);
	json_decref(detail);
}

/* The apps of a node being lost, gathered to be moved once all are marked. */
struct master_lost {
	struct master *m;
	struct app_record **v;
	size_t n, cap;
};

static void
master_on_app_lost(struct app_record *a, void *arg)
{
	struct master_lost *l = arg;

	master_app_changed(l->m, a);
	master_event(l->m, "app", a->node, a->id, json_pack("{s:s, s:s}",
	    "event", "lost", "cause", "lost: node unavailable"));
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = a;
}

void
master_node_lost(struct master *m, struct node *n)
{
	struct master_lost l = { m, NULL, 0, 0 };
	size_t lost = app_mark_lost(m->apps, n->name, util_wall_ms(),
	    "lost: node unavailable", master_on_app_lost, &l);

	master_event(m, "node", n->name, NULL, json_pack("{s:s, s:s}", "event",
	    "unavailable", "address", n->address != NULL ? n->address : ""));

	n->apps = 0; /* its apps are counted again when it heartbeats */
	if (lost > 0)
		log_warnx("%zu apps on %s are lost", lost, n->name);
	pending_node_lost(m, n->name);
	logpipe_node_lost(m, n->name);
	transfer_node_lost(m, n->name);
	/*
	 * Right away, not at a later tick: apps that should keep running are
	 * started on other nodes within this loop turn.
	 */
	sched_node_lost(m, n->name, l.v, l.n);
	free(l.v);
}

static void
master_on_node_lost(struct node *n, void *arg)
{
	log_warnx("node %s is unavailable: two heartbeats missed", n->name);
	master_node_lost(arg, n);
}

static void
master_handle_signals(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGHUP)
			continue;
		log_info("stopping on %s", strsignal((int)si.ssi_signo));
		m->stopping = true;
	}
}

/*
 * The error for REST calls answered as the master stops after a failed
 * write (db_failure); empty while writes reach the file.
 */
static void
master_refusal(struct master *m, char *buf, size_t len)
{
	const char *failure = db_failure(m->db);

	if (failure != NULL)
		snprintf(buf, len, "not recorded: %s; the master stops",
		    failure);
	else
		*buf = '\0';
}

static void
master_loop(struct master *m)
{
	int tick_ms = m->heartbeat_ms / 4 < 25 ? 25 : m->heartbeat_ms / 4;
	int64_t next_tick = util_now_ms() + tick_ms;

	/* A write that failed anywhere in a turn ends the loop too (db.h). */
	while (!m->stopping && db_failure(m->db) == NULL) {
		zmq_pollitem_t items[] = {
			{ m->router, 0, ZMQ_POLLIN, 0 },
			{ m->zap, 0, ZMQ_POLLIN, 0 },
			{ m->monitor, 0, ZMQ_POLLIN, 0 },
			{ NULL, api_fd(m->api), ZMQ_POLLIN, 0 },
			{ NULL, m->sigfd, ZMQ_POLLIN, 0 },
		};
		int64_t now = util_now_ms();
		long timeout = next_tick > now ? (long)(next_tick - now) : 0;
		long api_to = api_timeout_ms(m->api);

		if (api_to >= 0 && api_to < timeout)
			timeout = api_to;
		if (db_dirty(m->db)) {
			int64_t due = db_dirty_since(m->db) +
			    MASTER_COMMIT_DELAY_MS;

			if (due - now < timeout)
				timeout = due > now ? (long)(due - now) : 0;
		}
		if (zmq_poll(items, 5, timeout) == -1 && errno != EINTR)
			fatal("zmq_poll");
		if (items[4].revents & ZMQ_POLLIN)
			master_handle_signals(m);
		if (items[1].revents & ZMQ_POLLIN)
			zap_handle(m->zap);
		if (items[2].revents & ZMQ_POLLIN)
			master_handle_monitor(m);
		if (items[0].revents & ZMQ_POLLIN)
			master_handle_router(m);
		api_run(m->api);

		/*
		 * Group commit: every change since the last commit in one
		 * transaction, then the answers that acknowledge them. If it
		 * fails they never go out as they are: the master stops, and
		 * master_main turns each into an error.
		 */
		if (api_pending_releases(m->api) > 0 ||
		    db_commit_wanted(m->db) || (db_dirty(m->db) &&
		    util_now_ms() - db_dirty_since(m->db) >=
		    MASTER_COMMIT_DELAY_MS)) {
			if (db_commit(m->db) == -1)
				break;
			api_release(m->api);
			/* Send the released answers now, not at the next wake-up. */
			api_run(m->api);
		}

		now = util_now_ms();
		if (now >= next_tick) {
			/*
			 * Heartbeats that came in during a long turn (a slow
			 * commit on a busy disk) first: a node is judged by
			 * what it sent, not by when the loop got to read it.
			 */
			master_handle_router(m);
			node_sweep(m->nodes, now, m->heartbeat_ms,
			    master_on_node_lost, m);
			pending_expire(m, now);
			api_uploads_expire(m, now);
			history_tick(m, now);
			next_tick = now + tick_ms;
		}
	}
}

int
master_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "api", required_argument, NULL, 'a' },
		{ "state", required_argument, NULL, 's' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "join-token", required_argument, NULL, 'j' },
		{ "admin-token", required_argument, NULL, 't' },
		{ "metrics-token", required_argument, NULL, 'M' },
		{ "unsafe-no-fsync", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *join_secret = NULL, *admin_token = NULL;
	char failure[1024] = "", refusal[1200];
	struct master m = { 0 };
	char *cause = NULL, *keypath, *host, *jhost;
	long hb = 1000;
	int c, port;
	char *end;

	log_init("master");
	m.bind = xstrdup("0.0.0.0:7400");
	m.api_addr = xstrdup("127.0.0.1:7401");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			free(m.bind);
			m.bind = xstrdup(optarg);
			break;
		case 'a':
			free(m.api_addr);
			m.api_addr = xstrdup(optarg);
			break;
		case 's':
			free(m.state_dir);
			m.state_dir = xstrdup(optarg);
			break;
		case 'H':
			errno = 0;
			hb = strtol(optarg, &end, 10);
			if (*end != '\0' || errno != 0 || hb < 10 || hb > 600000) {
				fprintf(stderr, "drover master: --heartbeat must be "
				    "10 to 600000 milliseconds\n");
				return 2;
			}
			break;
		case 'j':
			join_secret = optarg;
			break;
		case 't':
			admin_token = optarg;
			break;
		case 'U':
			m.unsafe_no_fsync = true;
			break;
		case 'M':
			if (strlen(optarg) < 16 || strpbrk(optarg, " \t\r\n")) {
				fprintf(stderr, "drover master: --metrics-token "
				    "must be 16 or more characters without "
				    "spaces\n");
				return 2;
			}
			free(m.metrics_token);
			m.metrics_token = xstrdup(optarg);
			break;
		case 'h':
			master_usage(stdout);
			return 0;
		default:
			master_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "drover master: unexpected argument '%s'\n",
		    argv[optind]);
		master_usage(stderr);
		return 2;
	}
	if (join_secret != NULL && token_check_secret(join_secret, &cause) == -1) {
		fprintf(stderr, "drover master: --join-token: %s\n", cause);
		return 2;
	}
	if (admin_token != NULL && (strlen(admin_token) < 16 ||
	    strlen(admin_token) > 256 || strpbrk(admin_token, " \t\r\n") != NULL)) {
		fprintf(stderr, "drover master: --admin-token must be 16 to 256 "
		    "characters without spaces\n");
		return 2;
	}
	if (util_parse_hostport(m.api_addr, &host, &port, &cause) == -1) {
		fprintf(stderr, "drover master: --api: %s\n", cause);
		return 2;
	}
	free(host);
	if (util_parse_hostport(m.bind, &host, &port, &cause) == -1) {
		fprintf(stderr, "drover master: --bind: %s\n", cause);
		return 2;
	}
	m.heartbeat_ms = (int)hb;
	if (m.state_dir == NULL)
		m.state_dir = util_default_state_dir();
	if (util_mkdir_p(m.state_dir, 0700) == -1)
		fatal("cannot create state dir %s", m.state_dir);
	chmod(m.state_dir, 0700);

	keypath = xasprintf("%s/master.key", m.state_dir);
	if (keys_load_or_create(keypath, &m.keys, &cause) == -1)
		fatalx("%s", cause);
	free(keypath);
	master_load_tokens(&m, join_secret, admin_token);

	master_open_db(&m);
	master_raise_fd_limit();
	m.sigfd = util_signalfd((const int[]){ SIGINT, SIGTERM, SIGHUP }, 3);
	m.zctx = zmq_ctx_new();
	zmq_ctx_set(m.zctx, ZMQ_MAX_SOCKETS, 1024);
	master_open_router(&m);
	if ((m.api = api_start(&m, m.api_addr, &cause)) == NULL)
		fatalx("%s", cause);
	m.started_at = util_wall_ms();

	jhost = master_join_host(host);
	log_info("listening for workers on %s, REST API on http://%s, state in %s",
	    m.bind, m.api_addr, m.state_dir);
	printf("drover worker --join %s:%d --token %s\n", jhost, port,
	    m.join_token);
	fflush(stdout);
	free(jhost);
	free(host);

	master_loop(&m);

	/* No REST call may stay parked: libmicrohttpd cannot stop with one. */
	master_refusal(&m, refusal, sizeof refusal);
	pending_fail_all(&m, *refusal != '\0' ? refusal :
	    "the master is shutting down");
	logpipe_end_all(&m);
	transfer_shutdown(&m);
	/*
	 * What stopping wrote is committed before the answers go, as in the
	 * loop. Once writing failed, now or before, what the master holds is
	 * not what the file holds: no held answer may say a change was made
	 * (db.h), and each gets an error naming the cause instead.
	 */
	if (db_commit(m.db) == -1) {
		master_refusal(&m, refusal, sizeof refusal);
		snprintf(failure, sizeof failure, "%s", db_failure(m.db));
		api_refuse_held(m.api, 503, refusal);
	}
	/* The answers go out before the API closes, not into closed sockets. */
	api_drain(m.api, MASTER_DRAIN_MS);
	api_stop(m.api);
	/* Empty since pending_fail_all: the drain reads no worker. */
	pending_fini(&m);
	app_registry_free(m.apps);
	api_uploads_free_all(&m);
	artcopy_free_all(&m);
	transfer_free_all(&m);
	filestore_free(m.files);
	artifact_registry_free(m.artifacts);
	db_close(m.db);
	zmq_socket_monitor(m.router, NULL, 0);
	zmq_close(m.monitor);
	zmq_close(m.router);
	zap_close(m.zap);
	zmq_ctx_term(m.zctx);
	node_table_free(m.nodes);
	close(m.sigfd);
	free(m.join_secret);
	free(m.join_token);
	free(m.admin_token);
	free(m.admin_token_id);
	free(m.metrics_token);
	free(m.state_dir);
	free(m.bind);
	free(m.api_addr);
	/*
	 * Not started again in-process: a restart reads the file, which is
	 * what makes memory and disk agree, and the workers report their
	 * apps to it as after any restart.
	 */
	if (*failure != '\0')
		fatalx("%s: stopped, so that no change it lost is acknowledged; "
		    "start the master again once the disk takes writes: it "
		    "resumes from the last commit", failure);
	log_info("stopped");
	return 0;
}
