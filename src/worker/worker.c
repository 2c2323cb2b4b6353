#include "worker/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/token.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/app.h"
#include "worker/appdir.h"
#include "worker/artifacts.h"
#include "worker/store.h"
#include "worker/logstream.h"
#include "worker/rpc.h"
#include "worker/sampler.h"
#include "worker/supervisor.h"

#define WORKER_MONITOR_ENDPOINT "inproc://drover-dealer-monitor"
/* A HELLO unanswered this long is sent again. */
#define WORKER_HELLO_TIMEOUT_MS 5000
/* How often to repeat that the handshake does not complete. */
#define WORKER_HANDSHAKE_WARN_MS 30000
#define WORKER_TICK_MS 100
/*
 * Messages handled in one turn of the loop before it looks at its other
 * descriptors again. A launch costs the worker a fraction of a
 * millisecond or more (its start, a save of its state file), so a steady
 * stream of them must not keep the loop from hearing of ended apps: with
 * 1024, a worker under launch load saw no SIGCHLD for seconds, and each
 * save encoded every app it had started since, still "running".
 */
#define WORKER_DEALER_BATCH 16

static void
worker_usage(FILE *f)
{
	fprintf(f,
	    "usage: drover worker --join HOST:PORT --token TOKEN [--name NAME] "
	    "[--dir DIR] [--stop-apps-on-exit]\n"
	    "       [--sample-interval DURATION]\n"
	    "  --join HOST:PORT  the master's worker port\n"
	    "  --token TOKEN     the join token (the master's join.token)\n"
	    "  --name NAME       this node's name (default: the host name)\n"
	    "  --dir DIR         keys and app files (default: the state dir's "
	    "worker/)\n"
	    "  --stop-apps-on-exit  kill the apps when the worker stops (by "
	    "default\n"
	    "                    they run on, and the next worker adopts them)\n"
	    "  --sample-interval DURATION  how often each app's resources are "
	    "sampled\n"
	    "                    for its history (default 5s; 0 turns it off)\n");
}

int
worker_send(struct worker *w, struct msg *msg)
{
	if (msg_send(w->dealer, msg, false) == 0)
		return 0;
	log_debug("%s not sent now: %s", msg_type_name(msg->type),
	    zmq_strerror(errno));
	return -1;
}

/* The node's addresses as the worker sees them (not loopback, not link-local). */
static json_t *
worker_addresses(void)
{
	struct ifaddrs *ifs, *i;
	char buf[INET6_ADDRSTRLEN];
	json_t *list = json_array();

	if (getifaddrs(&ifs) == -1)
		return list;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)i->ifa_addr;

			inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)i->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
		} else
			continue;
		json_array_append_new(list, json_string(buf));
	}
	freeifaddrs(ifs);
	return list;
}

void
worker_send_after_save(struct worker *w, struct msg *msg)
{
	if (w->nheld == w->held_cap) {
		w->held_cap = w->held_cap == 0 ? 16 : w->held_cap * 2;
		w->held = xreallocarray(w->held, w->held_cap, sizeof *w->held);
	}
	w->held[w->nheld++] = msg;
}

void
worker_send_in_order(struct worker *w, struct msg *msg)
{
	if (w->nheld > 0) {
		worker_send_after_save(w, msg);
		return;
	}
	worker_send(w, msg);
	msg_free(msg);
}

/* The turn's state file is saved: what it acknowledges may go. */
static void
worker_release_held(struct worker *w)
{
	for (size_t i = 0; i < w->nheld; i++) {
		worker_send(w, w->held[i]);
		msg_free(w->held[i]);
	}
	w->nheld = 0;
}

static void
worker_send_hello(struct worker *w)
{
	char host[256] = "";
	struct msg *m;

	gethostname(host, sizeof host - 1);
	m = msg_new(MSG_HELLO, ++w->next_request_id,
	    jsonx_pack("{s:s, s:s, s:o, s:i, s:I, s:s, s:s, s:s, s:o, s:o}",
		"name", w->name, "secret", w->secret,
		"addresses", worker_addresses(),
		"cpus", nodeload_cpus(),
		"mem_total_kb", (json_int_t)nodeload_mem_total_kb(),
		"hostname", host, "version", DROVER_VERSION,
		"arch", artifacts_arch(), "artifacts", store_list(w->store),
		"apps", app_all_states(w)));
	if (worker_send(w, m) == 0) {
		w->hello_pending = false;
		w->hello_sent_at = util_now_ms();
		log_debug("HELLO sent as %s", w->name);
	}
	msg_free(m);
}

static void
worker_send_heartbeat(struct worker *w)
{
	double cpu = 0, mem = 0;
	json_t *states, *samples;
	struct msg *m;
	size_t nsamples;
	int alive;

	nodeload_sample(&w->load, &cpu, &mem);
	/*
	 * The live apps' kernel states ride on the heartbeat, so `ps` on the
	 * master is never older than one heartbeat and needs no round trip.
	 */
	states = app_live_states(w, &alive);
	/* The resource history so far, a bounded batch per heartbeat. */
	samples = sampler_peek(w->sampler, SAMPLER_BATCH_MAX, &nsamples);
	m = msg_new(MSG_HEARTBEAT, 0, jsonx_pack("{s:f, s:f, s:i, s:o, s:o}",
	    "cpu_pct", cpu, "mem_pct", mem, "apps", alive, "app_states", states,
	    "samples", samples));
	if (worker_send(w, m) == 0)
		sampler_drop(w->sampler, nsamples);
	msg_free(m);
}

static void
worker_open_socket(struct worker *w)
{
	int linger = 200, one = 1, ivl = 200, ivl_max = 5000, hb = 5000;
	int hbto = 15000;
	int64_t maxmsg = PROTO_JSON_MAX + PROTO_DATA_MAX;
	char *endpoint;

	if ((w->dealer = zmq_socket(w->zctx, ZMQ_DEALER)) == NULL)
		fatal("zmq_socket");
	zmq_setsockopt(w->dealer, ZMQ_CURVE_SERVERKEY, w->master_key, 40);
	zmq_setsockopt(w->dealer, ZMQ_CURVE_PUBLICKEY, w->keys.public_z85, 40);
	zmq_setsockopt(w->dealer, ZMQ_CURVE_SECRETKEY, w->keys.secret_z85, 40);
	zmq_setsockopt(w->dealer, ZMQ_LINGER, &linger, sizeof linger);
	/*
	 * Queue nothing while there is no connection: heartbeats from an
	 * outage are stale, and a fresh HELLO follows every new handshake.
	 */
	zmq_setsockopt(w->dealer, ZMQ_IMMEDIATE, &one, sizeof one);
	/* libzmq's own reconnect backoff: 200 ms doubling up to 5 s. */
	zmq_setsockopt(w->dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(w->dealer, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
	zmq_setsockopt(w->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	/*
	 * Notice a dead master connection (a host gone without a reset) and
	 * reconnect; a restarted master resets the connection at once anyway.
	 */
	zmq_setsockopt(w->dealer, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
	zmq_setsockopt(w->dealer, ZMQ_HEARTBEAT_TIMEOUT, &hbto, sizeof hbto);
	if (zmq_socket_monitor(w->dealer, WORKER_MONITOR_ENDPOINT,
		ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
		ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
		ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == -1)
		fatal("zmq_socket_monitor");
	w->monitor = zmq_socket(w->zctx, ZMQ_PAIR);
	zmq_setsockopt(w->monitor, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(w->monitor, WORKER_MONITOR_ENDPOINT) == -1)
		fatal("monitor connect");
	endpoint = xasprintf("tcp://%s", w->master_addr);
	if (zmq_connect(w->dealer, endpoint) == -1)
		fatalx("cannot connect to %s: %s", endpoint, zmq_strerror(errno));
	free(endpoint);
}

static void
worker_handshake_failed(struct worker *w, const char *how)
{
	int64_t now = util_now_ms();

	w->handshake_failures++;
	w->connected_at = 0;
	if (w->handshake_warned == 0 ||
	    now - w->handshake_warned >= WORKER_HANDSHAKE_WARN_MS) {
		log_warnx("the CURVE handshake with the master at %s failed (%s): "
		    "the master there does not hold the key named in the token, "
		    "or is not a drover master; retrying", w->master_addr, how);
		w->handshake_warned = now;
	}
}

static void
worker_handle_monitor(struct worker *w)
{
	zmq_msg_t ev, addr;
	uint16_t event;

	for (;;) {
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, w->monitor, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			return;
		}
		zmq_msg_init(&addr);
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&addr, w->monitor, ZMQ_DONTWAIT);
		memcpy(&event, zmq_msg_data(&ev), sizeof event);
		zmq_msg_close(&ev);
		zmq_msg_close(&addr);

		switch (event) {
		case ZMQ_EVENT_CONNECTED:
			w->connected_at = util_now_ms();
			break;
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			/* Every new connection starts with a HELLO. */
			w->connected_at = 0;
			w->handshake_warned = 0;
			w->state = WORKER_REGISTERING;
			w->hello_pending = true;
			w->hello_sent_at = 0;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			worker_handshake_failed(w, "no detail");
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			worker_handshake_failed(w, "protocol error");
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			worker_handshake_failed(w, "refused");
			break;
		case ZMQ_EVENT_DISCONNECTED:
			if (w->connected_at != 0)
				worker_handshake_failed(w, "connection closed "
				    "during the handshake");
			else if (w->state == WORKER_READY)
				log_warnx("lost the connection to the master at "
				    "%s; reconnecting", w->master_addr);
			w->state = WORKER_CONNECTING;
			w->hello_pending = false;
			/* The master's side of any transfer died with the link. */
			artifacts_abort_all(w);
			break;
		}
	}
}

/*
 * Send the heartbeat when it is due. Called between messages too: a burst
 * of launches keeps the loop busy for a while, and the master must not take
 * a busy node for a lost one.
 */
static void
worker_heartbeat_if_due(struct worker *w)
{
	int64_t now = util_now_ms();

	if (w->state == WORKER_READY && now >= w->next_heartbeat) {
		worker_send_heartbeat(w);
		w->next_heartbeat = now + w->heartbeat_ms;
	}
}

/* For supervisor_on_wait: a slow start must not cost a heartbeat. */
static void
worker_heartbeat_while_waiting(void *arg)
{
	worker_heartbeat_if_due(arg);
}

static void
worker_handle_dealer(struct worker *w)
{
	struct msg *m;
	char *cause;
	int rc;

	for (int i = 0; i < WORKER_DEALER_BATCH; i++) {
		worker_heartbeat_if_due(w);
		if ((rc = msg_recv(w->dealer, false, &m, &cause)) == 0)
			break;
		if (rc == -1) {
			log_warnx("malformed message from the master: %s",
			    cause != NULL ? cause : "unreadable");
			free(cause);
			msg_free(m);
			continue;
		}
		/* Launches in a row start side by side; others see them done. */
		if (m->type != MSG_LAUNCH)
			app_finish_starts(w);
		rpc_worker_dispatch(w, m);
	}
	app_finish_starts(w);
}

static void
worker_tick(struct worker *w)
{
	int64_t now = util_now_ms();

	if (w->connected_at != 0 && now - w->connected_at > 3000) {
		/* Connected but the handshake never ends: a master without our key. */
		worker_handshake_failed(w, "no answer to the handshake");
	}
	if (w->state == WORKER_REGISTERING && w->hello_sent_at != 0 &&
	    now - w->hello_sent_at > WORKER_HELLO_TIMEOUT_MS)
		w->hello_pending = true;
	if (w->state == WORKER_REGISTERING && w->hello_pending)
		worker_send_hello(w);
	worker_heartbeat_if_due(w);
}

/* Sample every live app's resources when a round is due. */
static void
worker_sample_if_due(struct worker *w)
{
	struct sampler_target *targets;
	int64_t now = util_now_ms();
	size_t n = 0, cap = 0;

	if (now < sampler_due(w->sampler))
		return;
	for (struct app *a = w->apps; a != NULL; a = a->next)
		cap++;
	targets = xcalloc(cap + 1, sizeof *targets);
	for (struct app *a = w->apps; a != NULL; a = a->next)
		if (app_is_alive(a) && a->pid > 1)
			targets[n++] = (struct sampler_target){ a->id, a->pid };
	sampler_run(w->sampler, targets, n, now);
	free(targets);
}

static void
worker_handle_signals(struct worker *w)
{
	struct signalfd_siginfo si;

	while (read(w->sigfd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			app_reap(w);
			break;
		case SIGINT:
		case SIGTERM:
			log_info("stopping on %s", strsignal((int)si.ssi_signo));
			w->stopping = true;
			break;
		default:
			break;
		}
	}
}

/*
 * A turn of the loop long enough to delay a heartbeat is worth a line in
 * the log (at most one a minute): the master may take the node for lost.
 */
static void
worker_note_slow_turn(struct worker *w, int64_t start, int64_t save_start)
{
	int64_t now = util_now_ms();

	if (now - start < w->heartbeat_ms / 2 ||
	    now - w->slow_turn_warned < 60000)
		return;
	w->slow_turn_warned = now;
	log_warnx("a turn of the loop took %lld ms (%lld ms of it saving the "
	    "state file): heartbeats were late", (long long)(now - start),
	    (long long)(now - save_start));
}

/*
 * Descriptors polled besides the sockets: the inotify descriptor, the
 * supervisor's socket, a pidfd per app whose end no supervisor will tell,
 * and one socket per health check probe under way.
 */
#define WORKER_POLL_MAX 8192
/* dealer, monitor, signalfd, inotify, supervisor */
#define WORKER_POLL_FIXED 5

static void
worker_loop(struct worker *w)
{
	static zmq_pollitem_t items[WORKER_POLL_MAX];
	static struct app *owners[WORKER_POLL_MAX];
	static int fds[WORKER_POLL_MAX];
	static bool want_write[WORKER_POLL_MAX];
	const int base = WORKER_POLL_FIXED;
	int64_t turn_start, save_start;
	bool answered;

	while (!w->stopping) {
		int64_t now = util_now_ms();
		long timeout = WORKER_TICK_MS;
		int n, nends, nchecks;

		items[0] = (zmq_pollitem_t){ w->dealer, 0, ZMQ_POLLIN, 0 };
		items[1] = (zmq_pollitem_t){ w->monitor, 0, ZMQ_POLLIN, 0 };
		items[2] = (zmq_pollitem_t){ NULL, w->sigfd, ZMQ_POLLIN, 0 };
		items[3] = (zmq_pollitem_t){ NULL, w->inotify_fd, ZMQ_POLLIN, 0 };
		items[4] = (zmq_pollitem_t){ NULL, supervisor_fd(), ZMQ_POLLIN,
			0 };
		nends = app_end_fds(w, fds, owners, WORKER_POLL_MAX - base);
		for (int i = 0; i < nends; i++)
			items[base + i] = (zmq_pollitem_t){ NULL, fds[i],
			    ZMQ_POLLIN, 0 };
		n = base + nends;
		nchecks = app_check_fds(w, fds + nends, want_write,
		    owners + nends, WORKER_POLL_MAX - n);
		for (int i = 0; i < nchecks; i++)
			items[n + i] = (zmq_pollitem_t){ NULL, fds[nends + i],
			    want_write[i] ? ZMQ_POLLOUT : ZMQ_POLLIN, 0 };
		n += nchecks;
		if (w->state == WORKER_READY && w->next_heartbeat - now < timeout)
			timeout = w->next_heartbeat > now ?
			    (long)(w->next_heartbeat - now) : 0;
		if (sampler_due(w->sampler) - now < timeout)
			timeout = sampler_due(w->sampler) > now ?
			    (long)(sampler_due(w->sampler) - now) : 0;
		/* Read while a launch's answer was awaited: handle it now. */
		if (supervisor_input_waiting())
			timeout = 0;
		if (zmq_poll(items, n, timeout) == -1 && errno != EINTR)
			fatal("zmq_poll");
		turn_start = util_now_ms();
		/* New output first: followers get it before an end is told. */
		if (items[3].revents & ZMQ_POLLIN)
			app_watch_events(w);
		/*
		 * Checks before ends: a probe's socket belongs to the run
		 * that was polled, and an end below may finish that run.
		 */
		for (int i = 0; i < nchecks; i++)
			if (items[base + nends + i].revents != 0)
				app_check_io(w, owners[nends + i]);
		/* What the supervisor tells: ends, mostly. */
		if ((items[4].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) ||
		    supervisor_input_waiting())
			supervisor_input();
		/* Apps whose supervisor died, ended (our children: SIGCHLD). */
		for (int i = 0; i < nends; i++)
			if (items[base + i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))
				app_end_seen(w, owners[i]);
		if (items[2].revents & ZMQ_POLLIN)
			worker_handle_signals(w);
		if (items[1].revents & ZMQ_POLLIN)
			worker_handle_monitor(w);
		if (items[0].revents & ZMQ_POLLIN)
			worker_handle_dealer(w);
		if (!w->stopping) {
			app_tick(w, util_now_ms());
			worker_sample_if_due(w);
			worker_tick(w);
		}
		/* One save per turn (a journal append), whatever changed. */
		save_start = util_now_ms();
		app_save_state(w, false);
		answered = w->nheld > 0;
		worker_release_held(w);
		/* After the answers: the next launches find their directories made. */
		if (!w->stopping) {
			/*
			 * ZeroMQ's I/O thread sends the answers. On a busy
			 * machine (the app just launched has a CPU) it waits
			 * for this thread's CPU, and the scheduler does not
			 * preempt for it: in a scheduler trace of a launch,
			 * the answer waited 0.13 ms for the directories made
			 * below. Its turn first.
			 */
			if (answered && appdirs_short(w->appdirs))
				sched_yield();
			appdirs_fill(w->appdirs);
		}
		worker_note_slow_turn(w, turn_start, save_start);
	}
}

/* Before anything started: free what the options allocated; return rc. */
static int
worker_quit_early(struct worker *w, char *cause, int rc)
{
	free(cause);
	free(w->master_addr);
	free(w->name);
	free(w->dir);
	free(w->secret);
	return rc;
}

int
worker_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "join", required_argument, NULL, 'j' },
		{ "token", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "stop-apps-on-exit", no_argument, NULL, 'S' },
		{ "sample-interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker w = { 0 };
	int64_t sample_ms = SAMPLER_INTERVAL_DEFAULT_MS;
	const char *token = NULL;
	char host[256] = "", *cause = NULL, *keypath, *role, *h;
	int c, port;

	w.journal_fd = -1;
	log_init("worker");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			free(w.master_addr);
			w.master_addr = xstrdup(optarg);
			break;
		case 't':
			token = optarg;
			break;
		case 'n':
			free(w.name);
			w.name = xstrdup(optarg);
			break;
		case 'd':
			free(w.dir);
			w.dir = xstrdup(optarg);
			break;
		case 'S':
			w.stop_apps_on_exit = true;
			break;
		case 'i':
			sample_ms = util_parse_duration_ms(optarg);
			if (sample_ms != 0 && (sample_ms < SAMPLER_INTERVAL_MIN_MS ||
			    sample_ms > 3600000)) {
				fprintf(stderr, "drover worker: --sample-interval "
				    "takes a duration from 100ms to 1h (or 0 for "
				    "none), not %s\n", optarg);
				return worker_quit_early(&w, cause, 2);
			}
			break;
		case 'h':
			worker_usage(stdout);
			return worker_quit_early(&w, cause, 0);
		default:
			worker_usage(stderr);
			return worker_quit_early(&w, cause, 2);
		}
	}
	if (optind != argc || w.master_addr == NULL || token == NULL) {
		fprintf(stderr, "drover worker: %s\n", optind != argc ?
		    "unexpected argument" : "--join and --token are required");
		worker_usage(stderr);
		return worker_quit_early(&w, cause, 2);
	}
	if (util_parse_hostport(w.master_addr, &h, &port, &cause) == -1) {
		fprintf(stderr, "drover worker: --join: %s\n", cause);
		return worker_quit_early(&w, cause, 2);
	}
	free(h);
	if (token_parse(token, w.master_key, &w.secret, &cause) == -1) {
		fprintf(stderr, "drover worker: --token: %s\n", cause);
		return worker_quit_early(&w, cause, 2);
	}

	if (w.name == NULL) {
		gethostname(host, sizeof host - 1);
		w.name = xstrdup(host);
	}
	if (w.dir == NULL) {
		char *state = util_default_state_dir();

		w.dir = xasprintf("%s/worker", state);
		free(state);
	}
	role = xasprintf("worker %s", w.name);
	log_set_role(role);
	free(role);
	if (util_mkdir_p(w.dir, 0700) == -1)
		fatal("cannot create %s", w.dir);
	/* Apps and artifacts get absolute paths, whatever the cwd was. */
	{
		char *abs = realpath(w.dir, NULL);

		if (abs == NULL)
			fatal("realpath %s", w.dir);
		free(w.dir);
		w.dir = abs;
	}
	if ((w.store = store_open(w.dir, &cause)) == NULL)
		fatalx("%s", cause);
	keypath = xasprintf("%s/worker.key", w.dir);
	if (keys_load_or_create(keypath, &w.keys, &cause) == -1)
		fatalx("%s", cause);
	free(keypath);

	w.sigfd = util_signalfd((const int[]){ SIGINT, SIGTERM, SIGHUP, SIGCHLD }, 4);
	if ((w.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		log_warn("inotify_init1: log followers wait for the next tick");
	w.zctx = zmq_ctx_new();
	w.state = WORKER_CONNECTING;
	w.heartbeat_ms = 1000;
	w.sampler = sampler_new(sample_ms);
	worker_open_socket(&w);
	/*
	 * The apps of the last worker on this dir run on: take them back
	 * before the first HELLO, which lists them.
	 */
	app_on_output = logstream_on_output;
	app_on_rotate = logstream_on_rotate;
	app_on_forget = logstream_on_forget;
	supervisor_on_wait = worker_heartbeat_while_waiting;
	supervisor_on_wait_arg = &w;
	if (supervisor_init(&cause) == -1) {
		log_warnx("%s: launches will fail", cause);
		free(cause);
		cause = NULL;
	}
	/*
	 * Should the supervisor die, its apps are handed to us, as are the
	 * orphans of what they started: we reap them.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	/*
	 * Before the state file is read: the ends it tells from then on
	 * (again, should we have heard them before a restart) are not missed.
	 */
	if (app_supervisor_connect(&w, &cause) == -1) {
		log_warnx("%s; each launch will try again", cause);
		free(cause);
		cause = NULL;
	}
	w.appdirs = appdirs_open(w.dir);
	app_adopt_all(&w);
	log_info("joining the master at %s (dir %s)", w.master_addr, w.dir);

	worker_loop(&w);
	app_save_state(&w, false);
	worker_release_held(&w);
	free(w.held);

	/*
	 * The apps run on under the supervisor, writing their logs, and the
	 * next worker on this dir adopts them (the state file is written
	 * last thing); with --stop-apps-on-exit they are killed instead.
	 */
	logstream_free_all(&w);
	app_free_all(&w, w.stop_apps_on_exit);
	artifacts_abort_all(&w);
	store_free(w.store);
	sampler_free(w.sampler);
	appdirs_free(w.appdirs);

	if (w.state == WORKER_READY) {
		/*
		 * Say whether the apps go on without us: if they do, the
		 * master must not take them for lost (and move them) just
		 * because this worker restarts.
		 */
		struct msg *bye = msg_new(MSG_BYE, 0, jsonx_pack("{s:b}",
		    "apps_keep_running", !w.stop_apps_on_exit));

		worker_send(&w, bye);
		msg_free(bye);
	}
	zmq_socket_monitor(w.dealer, NULL, 0);
	zmq_close(w.monitor);
	zmq_close(w.dealer);
	zmq_ctx_term(w.zctx);
	close(w.sigfd);
	if (w.inotify_fd != -1)
		close(w.inotify_fd);
	free(w.name);
	free(w.dir);
	free(w.master_addr);
	free(w.secret);
	return w.exit_status;
}
