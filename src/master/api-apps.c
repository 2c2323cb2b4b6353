/*
 * Apps: POST /v1/apps, GET /v1/apps, GET /v1/apps/ID, POST /v1/apps/ID/stop,
 * POST /v1/apps/ID/signal, and GET /v1/nodes/NAME/usage. Each call that
 * needs a worker sends it a message and parks the HTTP request until the
 * reply (or the deadline) completes it.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/signame.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/api.h"
#include "master/app.h"
#include "master/artifact.h"
#include "master/db.h"
#include "master/master.h"
#include "master/metrics.h"
#include "master/node.h"
#include "master/pending.h"
#include "master/sched.h"

#define API_APPS_LAUNCH_TIMEOUT_MS 15000
#define API_APPS_SIGNAL_TIMEOUT_MS 10000
#define API_APPS_USAGE_TIMEOUT_MS 10000
/* A stop waits for the app's own timeout plus this, for the worker to answer. */
#define API_APPS_STOP_GRACE_MS 10000
/* Instances one POST /v1/apps may launch ("count"). */
#define API_APPS_COUNT_MAX 1000

/*
 * A launch as asked for, its fields checked: what each of its instances
 * is started with. Strings and JSON are borrowed from the request's body.
 */
struct launch_spec {
	const char *path, *artifact, *name, *cwd, *restart;
	json_t *args, *env, *check;
	long long log_max, log_keep, mem_mb, max_restarts;
	double cpu;
};

/*
 * The instances of a launch with a count. The HTTP request stays parked
 * until each has its outcome (a reply, its deadline, or its node lost),
 * then gets them all in one answer. Made by api_apps_create; freed with
 * that answer, by the last outcome (or at once when none was sent).
 */
struct launch_batch {
	struct api_request *req;
	size_t count;
	size_t left;  /* instances sent whose outcome is not known yet */
	int *status;  /* per instance: what a launch alone would answer */
	json_t *apps; /* per instance: its element of the answer */
	uint64_t txn; /* the database transaction holding their records */
};

/* The node must exist and be ready; otherwise *reply says why. */
static struct node *
api_apps_ready_node(struct api_request *req, const char *name, int *status,
    json_t **reply)
{
	struct node *n = node_find(req->master->nodes, name);

	if (n == NULL) {
		*status = api_error(reply, 404, "no such node: %s", name);
		return NULL;
	}
	if (n->state != NODE_READY || !n->connected) {
		*status = api_error(reply, 409, "node %s is %s", name,
		    node_state_name(n->state));
		return NULL;
	}
	return n;
}

/*
 * Send msg (freed here) to node n as request p. Returns 0, or -1 when it
 * could not go out, p freed.
 */
static int
api_apps_post(struct master *m, struct node *n, struct msg *msg,
    struct pending *p)
{
	int rc;

	msg->id = p->id;
	rc = master_send_to(m, n, msg);
	msg_free(msg);
	if (rc == -1)
		pending_free(m, p);
	return rc;
}

/* Send msg to node n for a parked request; fails the request if it can't go. */
static int
api_apps_send(struct api_request *req, struct node *n, struct msg *msg,
    struct pending *p, json_t **reply)
{
	if (api_apps_post(req->master, n, msg, p) == -1)
		return api_error(reply, 503, "cannot reach node %s now", n->name);
	api_suspend(req);
	return API_PENDING;
}

static bool
api_apps_state_is(const struct app_record *a, const char *state)
{
	const char *s = json_string_value(json_object_get(a->obj, "state"));

	return s != NULL && strcmp(s, state) == 0;
}

/* The worker's error text, or why there was no reply. */
static const char *
api_apps_failure(struct msg *reply, const char *why)
{
	const char *text = why;

	if (reply != NULL && reply->type == MSG_ERROR)
		text = json_string_value(json_object_get(reply->body, "error"));
	return text != NULL ? text : "the node answered something unexpected";
}

/*
 * The record of a launch sent to its worker: listed as starting from now,
 * and committed at the end of this loop turn, while the worker starts the
 * app, so that the 201 need not wait for a commit of its own. The launch
 * is on record (an event) with it.
 */
static void
api_apps_record_launch(struct master *m, struct pending *p, json_t *record)
{
	struct app_record *a = app_add(m->apps, p->node, record);

	master_app_changed(m, a);
	master_event(m, "api", p->node, a->id, json_pack("{s:s, s:s, s:O, s:O}",
	    "event", "launched", "by", m->admin_token_id, "path",
	    json_object_get(a->obj, "path"), "artifact",
	    json_object_get(a->obj, "artifact")));
	p->txn = db_txn(m->db);
	db_commit_soon(m->db);
}

static struct launch_batch *
api_apps_batch_new(struct api_request *req, size_t count)
{
	struct launch_batch *b = xcalloc(1, sizeof *b);

	b->req = req;
	b->count = count;
	b->status = xcalloc(count, sizeof *b->status);
	b->apps = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(b->apps, json_null());
	return b;
}

static void
api_apps_batch_free(struct launch_batch *b)
{
	if (b == NULL)
		return;
	free(b->status);
	json_decref(b->apps);
	free(b);
}

/*
 * The answer to a launch with a count, once every instance has its
 * outcome: {"apps":[...]} in instance order; 201 if all started, else the
 * status of the first that did not, with "error" counting the failures.
 */
static int
api_apps_batch_answer(struct launch_batch *b, json_t **reply)
{
	size_t failed = 0, first = 0;
	const char *text;
	json_t *element;
	char *error;

	for (size_t i = 0; i < b->count; i++)
		if (b->status[i] != 201 && failed++ == 0)
			first = i;
	*reply = jsonx_pack("{s:O}", "apps", b->apps);
	if (failed == 0)
		return 201;
	/* A dead app (exec failed) says why in its cause. */
	element = json_array_get(b->apps, first);
	if ((text = json_string_value(json_object_get(element, "error"))) ==
	    NULL)
		text = json_string_value(json_object_get(element, "cause"));
	error = xasprintf("%zu of %zu launches failed: %s", failed, b->count,
	    text != NULL ? text : "no reason given");
	json_object_set_new(*reply, "error", json_string(error));
	free(error);
	return b->status[first];
}

/*
 * What became of one launch (the worker's reply, or why there is none):
 * counted, and its record updated, or forgotten if the worker refused it.
 * Returns the status a launch alone is answered with: *app is the app
 * object (a new reference; NULL when the worker refused it or did not
 * answer) and *error why it failed (borrowed until p and reply are freed;
 * NULL when it started).
 */
static int
api_apps_outcome(struct master *m, struct pending *p, struct msg *reply,
    const char *why, json_t **app, const char **error)
{
	struct app_record *a = app_lookup(m->apps, p->app);
	const char *cause;
	json_t *obj;

	*app = NULL;
	*error = NULL;
	/* Counted once per launch, whatever became of it. */
	metrics_count_launch(m->metrics, reply != NULL &&
	    reply->type == MSG_LAUNCHED && json_object_get(reply->body,
	    "cause") != NULL && json_is_null(json_object_get(reply->body,
	    "cause")));

	if (reply == NULL || reply->type != MSG_LAUNCHED) {
		const char *text = api_apps_failure(reply, why);
		int status = reply == NULL ? 504 : 400;

		if (reply == NULL && strstr(why, "unavailable") != NULL)
			status = 503;
		if (reply != NULL && a != NULL &&
		    strcmp(a->node, p->node) == 0 &&
		    api_apps_state_is(a, "starting")) {
			/* The worker refused it: nothing runs, none listed. */
			master_app_forget(m, p->app);
			master_event(m, "app", p->node, p->app, json_pack(
			    "{s:s, s:s}", "event", "launch-refused", "error",
			    text));
		}
		/*
		 * Without a reply the app may still start: it stays listed as
		 * starting until its node tells (a late reply, or the list of
		 * apps it registers with), or is lost.
		 */
		*error = text;
		return status;
	}
	obj = json_deep_copy(reply->body);
	if (a != NULL)
		app_update(a, obj);
	else {
		/* Its record went meanwhile (trimmed as lost): made again. */
		if (p->extra != NULL)
			json_object_update(obj, p->extra);
		json_object_set_new(obj, "id", json_string(p->app));
		a = app_add(m->apps, p->node, obj);
	}
	log_info("app %s launched on %s", a->id, p->node);
	master_app_changed(m, a);
	*app = json_incref(a->obj);
	cause = json_string_value(json_object_get(a->obj, "cause"));
	if (!app_record_alive(a) && cause != NULL) {
		/* It never ran: the launch failed, and ps keeps the reason. */
		*error = cause;
		return 422;
	}
	return 201;
}

/* A launch's outcome, after the count it was part of: its element. */
static void
api_apps_batch_done(struct master *m, struct pending *p, int status,
    json_t *app, const char *error)
{
	struct launch_batch *b = p->batch;
	json_t *element, *out;

	/*
	 * A copy: the record changes on with the app, and the answer says
	 * what the launch found, as a launch alone would have.
	 */
	if (app != NULL) {
		element = json_deep_copy(app);
		json_decref(app);
	} else
		element = jsonx_pack("{s:s, s:s}", "id", p->app, "error", error);
	json_array_set_new(b->apps, p->batch_slot, element);
	b->status[p->batch_slot] = status;
	if (--b->left > 0)
		return;
	/*
	 * The last one: the rules of a launch alone hold for the whole. If
	 * all started, their records were committed while the workers
	 * started them, or will be with the turn's commit; anything else
	 * (a refused launch forgotten, a dead app) waits for that commit.
	 */
	status = api_apps_batch_answer(b, &out);
	if (status == 201 && db_txn_committed(m->db, b->txn))
		api_complete_now(b->req, status, out);
	else
		api_complete(b->req, status, out);
	api_apps_batch_free(b);
}

static void
api_apps_launched(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	const char *error;
	json_t *app;
	int status;

	status = api_apps_outcome(m, p, reply, why, &app, &error);
	if (p->batch != NULL) {
		api_apps_batch_done(m, p, status, app, error);
		return;
	}
	if (status == 201) {
		/*
		 * Its record was committed while the worker started it. What
		 * the reply adds (the pid, the state) the worker tells a
		 * restarted master again when it registers, so it waits for
		 * no commit.
		 */
		if (db_txn_committed(m->db, p->txn))
			api_complete_now(p->req, 201, app);
		else
			api_complete(p->req, 201, app);
	} else if (app != NULL)
		api_complete(p->req, status, jsonx_pack("{s:s, s:o}", "error",
		    error, "app", app));
	else
		api_complete(p->req, status, jsonx_pack("{s:s, s:s}", "error",
		    error, "app", p->app));
}

/*
 * Send one instance of the launch ls, as app id, to node n (placed there
 * for the reason placement, or NULL when named): its pending request,
 * its record as starting. Returns API_PENDING, or 503 with *reply when the
 * launch could not go out (nothing recorded). b and slot: the count it is
 * part of, or NULL.
 */
static int
api_apps_launch_one(struct api_request *req, const struct launch_spec *ls,
    const char *id, struct node *n, const char *placement,
    struct launch_batch *b, size_t slot, json_t **reply)
{
	json_t *launch, *record;
	struct pending *p;

	launch = jsonx_pack("{s:s, s:s?, s:s?, s:O?, s:O?, s:s?, s:s}", "app",
	    id, "path", ls->path, "artifact", ls->artifact, "args", ls->args,
	    "env", ls->env, "cwd", ls->cwd, "name", ls->name);
	record = jsonx_pack("{s:s, s:s, s:s?, s:s?, s:o, s:s, s:n, s:n, s:n, "
	    "s:n, s:I, s:n}", "id", id, "name", ls->name, "path", ls->path,
	    "artifact", ls->artifact, "args", ls->args != NULL ?
	    json_incref(ls->args) : json_array(), "state", "starting", "pid",
	    "cause", "exit_code", "signal", "started_at",
	    (json_int_t)util_wall_ms(), "ended_at");
	if (ls->log_max > 0)
		json_object_set_new(launch, "log_max", json_integer(ls->log_max));
	if (ls->log_keep >= 0)
		json_object_set_new(launch, "log_keep",
		    json_integer(ls->log_keep));
	if (ls->restart != NULL)
		json_object_set_new(launch, "restart", json_string(ls->restart));
	if (ls->max_restarts >= 0)
		json_object_set_new(launch, "max_restarts",
		    json_integer(ls->max_restarts));
	if (ls->check != NULL)
		json_object_set(launch, "check", ls->check);
	p = pending_new(req->master, n->name, API_APPS_LAUNCH_TIMEOUT_MS,
	    api_apps_launched, req, id);
	p->batch = b;
	p->batch_slot = slot;
	/*
	 * What the record keeps beside the worker's report: the reservations,
	 * and how it was launched, to start it again on another node should
	 * this one be lost.
	 */
	p->extra = json_pack("{s:f, s:I, s:s?, s:s, s:O*, s:O*, s:s*, s:O*}",
	    "cpu", ls->cpu, "mem_mb", (json_int_t)ls->mem_mb, "placement",
	    placement, "restart", ls->restart != NULL ? ls->restart : "never",
	    "max_restarts", json_object_get(launch, "max_restarts"), "check",
	    ls->check, "cwd", ls->cwd, "env", ls->env);
	if (ls->log_max > 0)
		json_object_set_new(p->extra, "log_max",
		    json_integer(ls->log_max));
	if (ls->log_keep >= 0)
		json_object_set_new(p->extra, "log_keep",
		    json_integer(ls->log_keep));
	json_object_update(record, p->extra);
	if (api_apps_post(req->master, n, msg_new(MSG_LAUNCH, 0, launch),
	    p) == -1) {
		json_decref(record);
		return api_error(reply, 503, "cannot reach node %s now",
		    n->name);
	}
	api_apps_record_launch(req->master, p, record);
	if (b != NULL && p->txn > b->txn)
		b->txn = p->txn;
	return API_PENDING;
}

/*
 * The nodes for count instances of ls, in nodes[] (and why each was
 * chosen, allocated, in placements[]): the named node for all, or with
 * "auto" each placed in turn, seeing the instances placed before it.
 * Returns 0, or the status with *reply when the launch is refused: the
 * node is unknown or not ready, or some instance fits nowhere. batched:
 * a count was asked for, which the refusal then speaks of.
 */
static int
api_apps_place(struct api_request *req, const struct launch_spec *ls,
    const char *node, size_t count, bool batched, struct node **nodes,
    char **placements, json_t **reply)
{
	const char *src = ls->artifact != NULL ? ls->artifact : ls->path;
	struct sched_usage *usage;
	const char *name;
	struct node *n;
	char *why = NULL;
	bool never;
	int status;

	if (strcmp(node, "auto") != 0) {
		if ((n = api_apps_ready_node(req, node, &status, reply)) == NULL)
			return status;
		for (size_t k = 0; k < count; k++)
			nodes[k] = n;
		return 0;
	}
	name = ls->name != NULL ? ls->name : strrchr(src, '/') != NULL ?
	    strrchr(src, '/') + 1 : src;
	usage = sched_usage_new(req->master, name);
	for (size_t k = 0; k < count; k++) {
		struct sched_want want = {
			.name = name,
			.artifact = ls->artifact,
			.cpu = ls->cpu,
			.mem_mb = ls->mem_mb,
			.usage = usage,
		};

		if ((nodes[k] = sched_place(req->master, &want, &placements[k],
		    &why, &never)) != NULL) {
			sched_usage_add(usage, nodes[k]->name, ls->cpu,
			    ls->mem_mb);
			continue;
		}
		sched_usage_free(usage);
		/* Nothing is sent unless every instance has its place. */
		if (batched)
			status = api_error(reply, never ? 422 : 409, "%s: %zu of "
			    "%zu instances could be placed; %s", never ?
			    "no node could ever hold it" : "no node fits", k,
			    count, why);
		else
			status = api_error(reply, never ? 422 : 409, "%s: %s",
			    never ? "no node could ever hold it" :
			    "no node fits", why);
		free(why);
		return status;
	}
	sched_usage_free(usage);
	return 0;
}

int
api_apps_create(struct api_request *req, json_t **reply)
{
	static const char *const fields[] = { "node", "artifact", "path",
		"args", "env", "cwd", "name", "log_max", "log_keep", "cpu",
		"mem_mb", "restart", "max_restarts", "check", "count", NULL };
	struct launch_spec ls = { .log_max = -1, .log_keep = -1,
		.max_restarts = -1 };
	struct launch_batch *b = NULL;
	struct node **nodes = NULL;
	char **placements = NULL;
	const char *node, *key;
	json_t *body, *v, *count_field;
	char *cause = NULL, *id, *base = NULL;
	size_t i, count = 1;
	int status;

	if (api_body_object(req, fields, &body, reply) == -1)
		return 400;
	if (jsonx_get_str(body, "node", true, &node, &cause) == -1 ||
	    jsonx_get_str(body, "path", false, &ls.path, &cause) == -1 ||
	    jsonx_get_str(body, "artifact", false, &ls.artifact, &cause) == -1 ||
	    jsonx_get_str(body, "name", false, &ls.name, &cause) == -1 ||
	    jsonx_get_str(body, "cwd", false, &ls.cwd, &cause) == -1 ||
	    jsonx_get_array(body, "args", false, &ls.args, &cause) == -1 ||
	    jsonx_get_object(body, "env", false, &ls.env, &cause) == -1 ||
	    jsonx_get_int(body, "log_max", false, 4096, 1LL << 40, &ls.log_max,
		&cause) == -1 ||
	    jsonx_get_int(body, "log_keep", false, 0, 16, &ls.log_keep,
		&cause) == -1 ||
	    jsonx_get_num(body, "cpu", false, &ls.cpu, &cause) == -1 ||
	    jsonx_get_int(body, "mem_mb", false, 0, 1LL << 40, &ls.mem_mb,
		&cause) == -1 ||
	    jsonx_get_str(body, "restart", false, &ls.restart, &cause) == -1 ||
	    jsonx_get_int(body, "max_restarts", false, 0, 1000000,
		&ls.max_restarts, &cause) == -1 ||
	    jsonx_get_object(body, "check", false, &ls.check, &cause) == -1) {
		status = api_error(reply, 400, "%s", cause);
		goto out;
	}
	/*
	 * Present, even null, it changes the answer's shape ({"apps":[...]}),
	 * so only a plain integer in range will do.
	 */
	if ((count_field = json_object_get(body, "count")) != NULL) {
		if (!json_is_integer(count_field) ||
		    json_integer_value(count_field) < 1 ||
		    json_integer_value(count_field) > API_APPS_COUNT_MAX) {
			status = api_error(reply, 400, "field 'count' must be an "
			    "integer from 1 to %d", API_APPS_COUNT_MAX);
			goto out;
		}
		count = (size_t)json_integer_value(count_field);
	}
	json_array_foreach(ls.args, i, v) {
		if (!json_is_string(v)) {
			status = api_error(reply, 400, "args[%zu] must be a "
			    "string", i);
			goto out;
		}
	}
	json_object_foreach(ls.env, key, v) {
		if (!json_is_string(v) || key[0] == '\0' ||
		    strchr(key, '=') != NULL) {
			status = api_error(reply, 400, "env '%s' must be a "
			    "string, with a name without '='", key);
			goto out;
		}
	}
	if ((ls.path == NULL) == (ls.artifact == NULL)) {
		status = api_error(reply, 400, "give exactly one of 'path' "
		    "(absolute, on the node) or 'artifact'");
		goto out;
	}
	if (ls.artifact == NULL && ls.path[0] != '/') {
		status = api_error(reply, 400, "'path' must be absolute: %s",
		    ls.path);
		goto out;
	}
	if (ls.cwd != NULL && ls.cwd[0] != '/') {
		status = api_error(reply, 400, "'cwd' must be absolute: %s",
		    ls.cwd);
		goto out;
	}
	if (ls.cpu < 0 || ls.cpu > 1e6) {
		status = api_error(reply, 400, "'cpu' must be 0 to 1000000 cores");
		goto out;
	}
	if (ls.restart != NULL && strcmp(ls.restart, "never") != 0 &&
	    strcmp(ls.restart, "on-failure") != 0 &&
	    strcmp(ls.restart, "always") != 0) {
		status = api_error(reply, 400, "'restart' must be never, "
		    "on-failure or always");
		goto out;
	}
	nodes = xcalloc(count, sizeof *nodes);
	placements = xcalloc(count, sizeof *placements);
	if ((status = api_apps_place(req, &ls, node, count, count_field !=
	    NULL, nodes, placements, reply)) != 0)
		goto out;
	for (i = 0; ls.artifact != NULL && i < count; i++) {
		if (artifact_find(req->master->artifacts, nodes[i]->name,
		    ls.artifact) != NULL)
			continue;
		status = api_error(reply, 404, "no artifact named '%s' on %s "
		    "(copy it there first)", ls.artifact, nodes[i]->name);
		goto out;
	}

	/* Everything that can be refused was: from here, each is sent. */
	base = xstrdup(ls.artifact != NULL ? ls.artifact : ls.path);
	if (ls.name == NULL)
		ls.name = basename(base);
	if (count_field == NULL) {
		id = app_new_id(req->master->apps, ls.name);
		status = api_apps_launch_one(req, &ls, id, nodes[0],
		    placements[0], NULL, 0, reply);
		free(id);
		if (status == API_PENDING)
			api_suspend(req);
		goto out;
	}
	/*
	 * All sent in this turn, each with its own pending request: the
	 * workers start them side by side, and their records go into one
	 * commit, made while they start.
	 */
	b = api_apps_batch_new(req, count);
	for (i = 0; i < count; i++) {
		json_t *error = NULL;

		id = app_new_id(req->master->apps, ls.name);
		b->left++;
		status = api_apps_launch_one(req, &ls, id, nodes[i],
		    placements[i], b, i, &error);
		if (status != API_PENDING) {
			/* Not sent, nothing recorded, as a launch alone. */
			b->left--;
			b->status[i] = status;
			json_array_set_new(b->apps, i, jsonx_pack("{s:s, s:O}",
			    "id", id, "error", json_object_get(error, "error")));
			json_decref(error);
		}
		free(id);
	}
	if (b->left > 0) {
		api_suspend(req);
		status = API_PENDING;
	} else {
		/* None could go out: answered now, as nothing was recorded. */
		status = api_apps_batch_answer(b, reply);
		api_apps_batch_free(b);
	}
out:
	for (i = 0; placements != NULL && i < count; i++)
		free(placements[i]);
	free(placements);
	free(nodes);
	free(base);
	free(cause);
	json_decref(body);
	return status;
}

int
api_apps_list(struct api_request *req, json_t **reply)
{
	const char *node = api_query(req, "node"), *all = api_query(req, "all");
	bool want_all = all != NULL && (strcmp(all, "1") == 0 ||
	    strcmp(all, "true") == 0);

	if (node != NULL && node_find(req->master->nodes, node) == NULL)
		return api_error(reply, 404, "no such node: %s", node);
	*reply = app_list(req->master->apps, node, want_all, util_wall_ms());
	return 200;
}

int
api_apps_get(struct api_request *req, json_t **reply)
{
	struct app_record *a = app_lookup(req->master->apps, req->params[0]);

	if (a == NULL)
		return api_error(reply, 404, "no such app: %s", req->params[0]);
	*reply = json_incref(a->obj);
	return 200;
}

static void
api_apps_signaled(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct app_record *a = app_lookup(m->apps, p->app);
	json_t *state, *out;

	if (reply == NULL || reply->type != MSG_SIGNALED) {
		api_complete(p->req, reply == NULL ? 504 : 409, jsonx_pack("{s:s}",
		    "error", api_apps_failure(reply, why)));
		return;
	}
	state = json_object_get(reply->body, "app_state");
	if (a != NULL && json_is_object(state)) {
		app_update(a, json_incref(state));
		master_app_changed(m, a);
	}
	master_event(m, "api", p->node, p->app, json_pack("{s:s, s:s, s:O?, "
	    "s:O?}", "event", "signalled", "by", m->admin_token_id, "ended_by",
	    json_object_get(reply->body, "ended_by"), "signal",
	    json_object_get(reply->body, "signal")));
	out = json_deep_copy(reply->body);
	json_object_del(out, "app_state");
	json_object_del(out, "app");
	json_object_set_new(out, "id", json_string(p->app));
	if (json_object_get(out, "ended_by") == NULL &&
	    json_object_get(out, "signal") == NULL)
		json_object_set_new(out, "ended_by", json_null());
	json_object_set(out, "app", a != NULL ? a->obj : json_null());
	api_complete(p->req, 200, out);
}

/* Start a SIGNAL to the app's node; a dead app on a lost node is answered here. */
static int
api_apps_signal_app(struct api_request *req, struct app_record *a,
    json_t *msgbody, int timeout_ms, json_t **reply)
{
	struct node *n = node_find(req->master->nodes, a->node);
	struct pending *p;
	int status;

	if (n == NULL || n->state != NODE_READY || !n->connected) {
		if (!app_record_alive(a)) {
			json_decref(msgbody);
			*reply = jsonx_pack("{s:s, s:n, s:b, s:O}", "id", a->id,
			    "ended_by", "was_dead", 1, "app", a->obj);
			return 200;
		}
		json_decref(msgbody);
		return api_error(reply, 409, "node %s is unavailable", a->node);
	}
	json_object_set_new(msgbody, "app", json_string(a->id));
	p = pending_new(req->master, a->node, timeout_ms, api_apps_signaled, req,
	    a->id);
	status = api_apps_send(req, n, msg_new(MSG_SIGNAL, 0, msgbody), p, reply);
	return status;
}

int
api_apps_stop(struct api_request *req, json_t **reply)
{
	static const char *const fields[] = { "timeout_s", NULL };
	struct app_record *a = app_lookup(req->master->apps, req->params[0]);
	long long timeout = 10;
	json_t *body = NULL;
	char *cause = NULL;

	if (a == NULL)
		return api_error(reply, 404, "no such app: %s", req->params[0]);
	if (req->body_len > 0) {
		if (api_body_object(req, fields, &body, reply) == -1)
			return 400;
		if (jsonx_get_int(body, "timeout_s", false, 0, 3600, &timeout,
			&cause) == -1) {
			json_decref(body);
			api_error(reply, 400, "%s", cause);
			free(cause);
			return 400;
		}
		json_decref(body);
	}
	return api_apps_signal_app(req, a, jsonx_pack("{s:s, s:I}", "signal",
	    "SIGINT", "timeout_ms", (json_int_t)timeout * 1000),
	    (int)timeout * 1000 + API_APPS_STOP_GRACE_MS, reply);
}

int
api_apps_signal(struct api_request *req, json_t **reply)
{
	static const char *const fields[] = { "signal", NULL };
	struct app_record *a = app_lookup(req->master->apps, req->params[0]);
	const char *name = "SIGKILL";
	json_t *body = NULL;
	char *cause = NULL;
	int sig;

	if (a == NULL)
		return api_error(reply, 404, "no such app: %s", req->params[0]);
	if (req->body_len > 0) {
		if (api_body_object(req, fields, &body, reply) == -1)
			return 400;
		if (jsonx_get_str(body, "signal", false, &name, &cause) == -1) {
			json_decref(body);
			api_error(reply, 400, "%s", cause);
			free(cause);
			return 400;
		}
	}
	/* Refused before anything is sent: a typo must not reach a process. */
	if ((sig = signame_to_number(name)) <= 0) {
		api_error(reply, 400, "unknown signal '%s'", name);
		json_decref(body);
		return 400;
	}
	name = signame_from_number(sig);
	json_decref(body);
	return api_apps_signal_app(req, a, jsonx_pack("{s:s}", "signal", name),
	    API_APPS_SIGNAL_TIMEOUT_MS, reply);
}

static void
api_apps_usage_done(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	json_t *out;

	(void)m;
	if (reply == NULL || reply->type != MSG_USAGE_REPLY) {
		api_complete(p->req, reply == NULL ? 504 : 502, jsonx_pack(
		    "{s:s}", "error", api_apps_failure(reply, why)));
		return;
	}
	out = json_deep_copy(reply->body);
	json_object_set_new(out, "node", json_string(p->node));
	api_complete(p->req, 200, out);
}

int
api_nodes_usage(struct api_request *req, json_t **reply)
{
	struct pending *p;
	struct node *n;
	int status;

	if ((n = api_apps_ready_node(req, req->params[0], &status, reply)) == NULL)
		return status;
	p = pending_new(req->master, n->name, API_APPS_USAGE_TIMEOUT_MS,
	    api_apps_usage_done, req, NULL);
	return api_apps_send(req, n, msg_new(MSG_USAGE, 0, NULL), p, reply);
}
