#include "master/rpc.h"

#include <czmq.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/master.h"
#include "master/app.h"
#include "master/artifact.h"
#include "master/db.h"
#include "master/history.h"
#include "master/metrics.h"
#include "master/transfer.h"
#include "master/logpipe.h"
#include "master/node.h"
#include "master/pending.h"
#include "master/sched.h"

/*
 * Each entry names the message, its handler, and whether the sender must be
 * a registered node. The dispatcher checks that once, so no handler repeats
 * it; a message not in the table is one only the master sends, and a worker
 * sending it is answered with an error.
 */
static void rpc_hello(struct master *, struct node *, struct msg *);
static void rpc_heartbeat(struct master *, struct node *, struct msg *);
static void rpc_bye(struct master *, struct node *, struct msg *);
static void rpc_reply(struct master *, struct node *, struct msg *);
static void rpc_app_state(struct master *, struct node *, struct msg *);

static const struct rpc_entry {
	int type;
	void (*handler)(struct master *, struct node *, struct msg *);
	bool needs_node;
} rpc_table[] = {
	{ MSG_HELLO, rpc_hello, false },
	{ MSG_HEARTBEAT, rpc_heartbeat, true },
	{ MSG_BYE, rpc_bye, true },
	{ MSG_LAUNCHED, rpc_reply, true },
	{ MSG_SIGNALED, rpc_reply, true },
	{ MSG_USAGE_REPLY, rpc_reply, true },
	{ MSG_ERROR, rpc_reply, true },
	{ MSG_APP_STATE, rpc_app_state, true },
	{ MSG_LOG_DATA, logpipe_data, true },
	{ MSG_ARTIFACT_HAVE_REPLY, rpc_reply, true },
	{ MSG_ARTIFACT_INSTALLED, rpc_reply, true },
	{ MSG_ARTIFACT_DELETED, rpc_reply, true },
	{ MSG_FILE_CREDIT, transfer_credit, true },
	{ MSG_FILE_DONE, transfer_done, true },
};

/* Compare secrets without leaking, through timing, how much matched. */
static bool
rpc_secret_matches(const char *given, const char *want)
{
	unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];

	crypto_generichash(a, sizeof a, (const unsigned char *)given,
	    strlen(given), NULL, 0);
	crypto_generichash(b, sizeof b, (const unsigned char *)want,
	    strlen(want), NULL, 0);
	return sodium_memcmp(a, b, sizeof a) == 0;
}

static void
rpc_refuse(struct master *m, struct msg *req, bool fatal, const char *why)
{
	struct msg *r;

	r = msg_reply(req, MSG_REFUSED,
	    jsonx_pack("{s:s, s:b}", "error", why, "fatal", fatal));
	master_send(m, r);
	msg_free(r);
}

/*
 * Whether id is one a worker could have made (the worker refuses others):
 * anything else a node reports is ignored, never listed.
 */
static bool
rpc_app_id_valid(struct node *n, const char *id)
{
	if (util_name_valid(id, PROTO_APP_ID_MAX, PROTO_APP_ID_ALSO))
		return true;
	log_warnx("node %s reports an app with an invalid id '%.64s': ignored",
	    n->name, id);
	return false;
}

/*
 * A worker registered and said which apps it has. Apps it runs that the
 * master has no record of become orphans (listed, never killed on their
 * own); apps the master thought alive that the worker no longer knows are
 * dead, with that cause; everything else takes the worker's word. Live
 * apps whose record is on another node (moved while this one was out of
 * reach) are stale copies, appended to stale to be killed.
 */
static void
rpc_reconcile(struct master *m, struct node *n, json_t *apps, json_t *stale)
{
	struct app_record **alive, *a;
	zhashx_t *reported = zhashx_new();
	size_t count, i;
	const char *id;
	json_t *obj;

	/* What it reports, by id: a node may run thousands of apps. */
	json_array_foreach(apps, i, obj)
		if ((id = json_string_value(json_object_get(obj, "id"))) != NULL)
			zhashx_update(reported, id, obj);
	alive = app_alive_on(m->apps, n->name, &count);
	for (i = 0; i < count; i++) {
		if (zhashx_lookup(reported, alive[i]->id) != NULL)
			continue;
		json_object_set_new(alive[i]->obj, "state", json_string("dead"));
		json_object_set_new(alive[i]->obj, "cause", json_string(
		    "lost: the worker no longer knows it"));
		json_object_set_new(alive[i]->obj, "ended_at",
		    json_integer(util_wall_ms()));
		master_app_changed(m, alive[i]);
	}
	free(alive);
	zhashx_destroy(&reported);
	json_array_foreach(apps, i, obj) {
		if (!json_is_object(obj) ||
		    (id = json_string_value(json_object_get(obj, "id"))) == NULL)
			continue;
		if (!rpc_app_id_valid(n, id))
			continue;
		a = app_lookup(m->apps, id);
		if (a != NULL && strcmp(a->node, n->name) == 0) {
			bool was = app_record_alive(a);

			app_update(a, json_deep_copy(obj));
			if (was != app_record_alive(a) || !was)
				master_app_changed(m, a);
			continue;
		}
		if (a != NULL) {
			const char *st = json_string_value(json_object_get(obj,
			    "state"));

			/*
			 * The app was moved while this node was out of reach:
			 * its copy here is stale, and an app never runs twice.
			 */
			if (st != NULL && strcmp(st, "dead") != 0)
				json_array_append(stale, obj);
			continue;
		}
		const char *state = json_string_value(json_object_get(obj,
		    "state"));

		/*
		 * A dead one is not listed, but its worker keeps it for an
		 * hour: a new app must not get its id (a record lost in a
		 * crash between a launch and its commit leaves such apps).
		 */
		if (state == NULL || strcmp(state, "dead") == 0) {
			app_reserve_id(m->apps, id);
			continue;
		}
		a = app_add_orphan(m->apps, n->name, json_deep_copy(obj));
		master_app_changed(m, a);
		log_warnx("node %s runs app %s that this master has no record "
		    "of: listed as an orphan", n->name, a->id);
		master_event(m, "app", n->name, a->id, json_pack("{s:s}",
		    "event", "orphan"));
	}
}

static void
rpc_hello(struct master *m, struct node *old, struct msg *req)
{
	const char *name, *secret, *hostname = NULL, *version = NULL;
	const char *arch = NULL;
	json_t *artifacts = NULL, *none, *apps = NULL, *stale, *obj;
	size_t i;
	const char *addr = req->peer_addr != NULL ? req->peer_addr : "?";
	long long cpus, mem;
	json_t *addresses = NULL;
	char *cause = NULL;
	struct node *n;
	struct msg *r;

	(void)old;
	if (msg_get_str(req, "name", true, &name, &cause) == -1 ||
	    msg_get_str(req, "secret", true, &secret, &cause) == -1 ||
	    msg_get_int(req, "cpus", true, 1, 1 << 20, &cpus, &cause) == -1 ||
	    msg_get_int(req, "mem_total_kb", true, 0, 1LL << 50, &mem,
		&cause) == -1 ||
	    msg_get_str(req, "hostname", false, &hostname, &cause) == -1 ||
	    msg_get_str(req, "version", false, &version, &cause) == -1 ||
	    msg_get_str(req, "arch", false, &arch, &cause) == -1 ||
	    jsonx_get_array(req->body, "artifacts", false, &artifacts,
		&cause) == -1 ||
	    jsonx_get_array(req->body, "apps", false, &apps, &cause) == -1 ||
	    jsonx_get_array(req->body, "addresses", false, &addresses,
		&cause) == -1) {
		log_warnx("refused worker from %s: bad HELLO: %s", addr, cause);
		rpc_refuse(m, req, true, cause);
		free(cause);
		return;
	}
	if (!rpc_secret_matches(secret, m->join_secret)) {
		log_warnx("refused worker '%.64s' from %s: wrong join secret",
		    name, addr);
		rpc_refuse(m, req, true, "wrong join secret (check the token "
		    "in the master's join.token)");
		return;
	}
	if (!node_name_valid(name)) {
		log_warnx("refused worker from %s: bad name '%.64s'", addr, name);
		rpc_refuse(m, req, true, "bad node name: use 1 to 63 letters, "
		    "digits, '.', '_' or '-'");
		return;
	}
	n = node_register(m->nodes, name, req->peer_key != NULL ?
	    req->peer_key : "", req->peer, req->peerlen, util_now_ms(), &cause);
	if (n == NULL) {
		log_warnx("refused worker '%s' from %s: %s", name, addr, cause);
		rpc_refuse(m, req, true, cause);
		free(cause);
		return;
	}
	free(n->address);
	n->address = xstrdup(addr);
	free(n->hostname);
	n->hostname = hostname != NULL ? xstrdup(hostname) : NULL;
	free(n->version);
	n->version = version != NULL ? xstrdup(version) : NULL;
	json_decref(n->addresses);
	n->addresses = addresses != NULL ? json_incref(addresses) : NULL;
	free(n->arch);
	n->arch = arch != NULL ? xstrdup(arch) : NULL;
	n->cpus = (int)cpus;
	n->mem_total_kb = mem;
	/* What the node holds is what it says at each registration. */
	none = json_array();
	artifact_set_node(m->artifacts, name, artifacts != NULL ? artifacts :
	    none);
	db_put_node_artifacts(m->db, name, artifacts != NULL ? artifacts : none);
	stale = json_array();
	rpc_reconcile(m, n, apps != NULL ? apps : none, stale);
	json_decref(none);
	{
		json_t *record = node_record(n);

		db_put_node(m->db, name, record);
		json_decref(record);
	}
	master_event(m, "node", name, NULL, json_pack("{s:s, s:s}", "event",
	    "registered", "address", addr));
	log_info("node %s joined from %s (%d cpus, %lld MiB)", name, addr,
	    n->cpus, mem / 1024);

	r = msg_reply(req, MSG_WELCOME, jsonx_pack("{s:s, s:i}", "node", name,
	    "heartbeat_ms", m->heartbeat_ms));
	master_send(m, r);
	msg_free(r);
	/* After the WELCOME: the worker takes no request before it. */
	json_array_foreach(stale, i, obj)
		sched_stop_stale_copy(m, n, json_string_value(json_object_get(obj,
		    "id")), obj);
	json_decref(stale);
}

/* The kernel states of a node's live apps, as its heartbeat reports them. */
static void
rpc_merge_states(struct master *m, struct node *n, json_t *states)
{
	struct app_record *a;
	const char *id;
	json_t *st;
	size_t i;

	if (!json_is_array(states))
		return;
	json_array_foreach(states, i, st) {
		bool was;

		if ((id = json_string_value(json_object_get(st, "id"))) == NULL ||
		    (a = app_lookup(m->apps, id)) == NULL)
			continue;
		if (strcmp(a->node, n->name) != 0) {
			/*
			 * Moved away while this node was out of reach, and the
			 * node came back on the same connection (no HELLO).
			 */
			sched_stop_stale_copy(m, n, id, st);
			continue;
		}
		/*
		 * A heartbeat samples /proc: a leader that just exited and is
		 * not reaped yet reads as "dead", without a cause. The worker's
		 * APP_STATE that follows is the word on its end.
		 */
		if (json_is_string(json_object_get(st, "state")) &&
		    strcmp(json_string_value(json_object_get(st, "state")),
		    "dead") == 0)
			continue;
		was = app_record_alive(a);
		app_update(a, json_deep_copy(st));
		/* Only a change of life is worth a write, not each sample. */
		if (was != app_record_alive(a))
			master_app_changed(m, a);
	}
}

static void
rpc_heartbeat(struct master *m, struct node *n, struct msg *req)
{
	double cpu = 0, mem = 0;
	long long apps = 0;
	char *cause = NULL;

	(void)m;
	if (jsonx_get_num(req->body, "cpu_pct", false, &cpu, &cause) == -1 ||
	    jsonx_get_num(req->body, "mem_pct", false, &mem, &cause) == -1 ||
	    msg_get_int(req, "apps", false, 0, 1 << 30, &apps, &cause) == -1) {
		log_warnx("node %s: bad HEARTBEAT: %s", n->name, cause);
		free(cause);
		return;
	}
	n->cpu_pct = cpu < 0 ? 0 : cpu > 100 ? 100 : cpu;
	n->mem_pct = mem < 0 ? 0 : mem > 100 ? 100 : mem;
	n->apps = (int)apps;
	metrics_count_heartbeat(m->metrics);
	if (node_seen(n, util_now_ms())) {
		log_info("node %s is ready again", n->name);
		master_event(m, "node", n->name, NULL, json_pack("{s:s}",
		    "event", "ready"));
	}
	rpc_merge_states(m, n, json_object_get(req->body, "app_states"));
	history_store(m, n, json_object_get(req->body, "samples"));
}

static void
rpc_bye(struct master *m, struct node *n, struct msg *req)
{
	bool keep = false;
	char *cause = NULL;

	if (jsonx_get_bool(req->body, "apps_keep_running", false, &keep,
	    &cause) == -1)
		free(cause);
	if (keep) {
		/*
		 * A worker restart or upgrade: its apps run on under the
		 * node's supervisor. Whether the node is lost is the
		 * heartbeats' call, as
		 * for any silence: back in time, nothing happened.
		 */
		log_info("node %s is restarting; its apps keep running", n->name);
		return;
	}
	log_info("node %s is shutting down", n->name);
	node_disconnect(m->nodes, n);
	master_node_lost(m, n);
}

/* A reply to a request some REST call waits on. */
static void
rpc_reply(struct master *m, struct node *n, struct msg *req)
{
	if (pending_reply(m, n->name, req))
		return;
	if (req->type == MSG_ERROR) {
		if (logpipe_error(m, req) || transfer_error(m, n, req))
			return;
		log_warnx("node %s reports an error: %s", n->name,
		    json_string_value(json_object_get(req->body, "error")));
		return;
	}
	if (req->type == MSG_LAUNCHED) {
		/*
		 * The REST call gave up (deadline, or the node looked lost)
		 * but the app did start: record it, so no process runs that
		 * the master does not show.
		 */
		const char *id = json_string_value(json_object_get(req->body,
		    "id"));
		struct app_record *a;

		if (id == NULL || !rpc_app_id_valid(n, id))
			return;
		a = app_lookup(m->apps, id);
		if (a != NULL && strcmp(a->node, n->name) != 0) {
			/* Given up on here and started elsewhere meanwhile. */
			sched_stop_stale_copy(m, n, id, req->body);
			return;
		}
		if (a != NULL) {
			app_update(a, json_incref(req->body));
			log_warnx("app %s on %s started after its launch request "
			    "had given up", a->id, n->name);
		} else {
			a = app_add(m->apps, n->name, json_incref(req->body));
			log_warnx("app %s on %s started after its launch request had "
			    "given up; it is listed", a->id, n->name);
		}
		master_app_changed(m, a);
		master_event(m, "app", n->name, a->id, json_pack("{s:s}",
		    "event", "started-late"));
		return;
	}
	log_debug("node %s: late %s (id %u) after its request timed out",
	    n->name, msg_type_name(req->type), req->id);
}

/* An app changed (it ended): the worker tells without being asked. */
static void
rpc_app_state(struct master *m, struct node *n, struct msg *req)
{
	const char *id = json_string_value(json_object_get(req->body, "id"));
	struct app_record *a;

	if (id == NULL || (a = app_lookup(m->apps, id)) == NULL ||
	    strcmp(a->node, n->name) != 0) {
		log_debug("node %s: state of an app this master does not know: "
		    "%s", n->name, id != NULL ? id : "?");
		return;
	}
	app_update(a, json_incref(req->body));
	master_app_changed(m, a);
	if (!app_record_alive(a)) {
		log_info("app %s on %s ended: %s", a->id, n->name,
		    json_string_value(json_object_get(a->obj, "cause")));
		master_event(m, "app", n->name, a->id, json_pack("{s:s, s:O}",
		    "event", "ended", "cause", json_object_get(a->obj, "cause")));
	}
}

void
rpc_master_dispatch(struct master *m, struct msg *msg)
{
	const struct rpc_entry *e = NULL;
	struct node *n;
	struct msg *r;

	for (size_t i = 0; i < sizeof rpc_table / sizeof rpc_table[0]; i++)
		if (rpc_table[i].type == msg->type)
			e = &rpc_table[i];
	n = node_find_by_peer(m->nodes, msg->peer, msg->peerlen);
	if (e == NULL) {
		log_warnx("%s from %s: not a message a worker sends",
		    msg_type_name(msg->type), n != NULL ? n->name : "unknown peer");
		r = msg_error_reply(msg, "%s is not a message a worker sends",
		    msg_type_name(msg->type));
		master_send(m, r);
		msg_free(r);
		goto out;
	}
	if (e->needs_node && n == NULL) {
		/* The master restarted, or the node was taken over: join again. */
		log_debug("%s from an unregistered connection: asking it to "
		    "register", msg_type_name(msg->type));
		r = msg_reply(msg, MSG_REREGISTER,
		    jsonx_pack("{s:s}", "error", "not registered"));
		master_send(m, r);
		msg_free(r);
		goto out;
	}
	e->handler(m, n, msg);
out:
	msg_free(msg);
}
