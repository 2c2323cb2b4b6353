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

/* Send msg to node n for a parked request; fails the request if it can't go. */
static int
api_apps_send(struct api_request *req, struct node *n, struct msg *msg,
    struct pending *p, json_t **reply)
{
	msg->id = p->id;
	if (master_send_to(req->master, n, msg) == -1) {
		msg_free(msg);
		pending_free(req->master, p);
		return api_error(reply, 503, "cannot reach node %s now", n->name);
	}
	msg_free(msg);
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

static void
api_apps_launched(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct app_record *a = app_lookup(m->apps, p->app);
	const char *cause;
	json_t *obj;

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
		api_complete(p->req, status, jsonx_pack("{s:s, s:s}", "error",
		    text, "app", p->app));
		return;
	}
	obj = json_deep_copy(reply->body);
	if (a != NULL)
		app_update(a, obj);
	else {
		/* Its record went meanwhile (trimmed as lost): made again. */
		if (p->extra != NULL)
			json_object_update(obj, p->extra);
		a = app_add(m->apps, p->node, obj);
	}
	log_info("app %s launched on %s", a->id, p->node);
	master_app_changed(m, a);
	cause = json_string_value(json_object_get(a->obj, "cause"));
	if (!app_record_alive(a) && cause != NULL) {
		/* It never ran: the launch failed, and ps keeps the reason. */
		api_complete(p->req, 422, jsonx_pack("{s:s, s:O}", "error", cause,
		    "app", a->obj));
		return;
	}
	/*
	 * Its record was committed while the worker started it. What the
	 * reply adds (the pid, the state) the worker tells a restarted master
	 * again when it registers, so it waits for no commit.
	 */
	if (db_txn_committed(m->db, p->txn))
		api_complete_now(p->req, 201, json_incref(a->obj));
	else
		api_complete(p->req, 201, json_incref(a->obj));
}

int
api_apps_create(struct api_request *req, json_t **reply)
{
	static const char *const fields[] = { "node", "artifact", "path",
		"args", "env", "cwd", "name", "log_max", "log_keep", "cpu",
		"mem_mb", "restart", "max_restarts", "check", NULL };
	const char *node, *path = NULL, *artifact = NULL, *name = NULL;
	const char *cwd = NULL;
	json_t *body, *args = NULL, *env = NULL, *v, *launch, *record;
	long long log_max = -1, log_keep = -1, mem_mb = 0, max_restarts = -1;
	double cpu = 0;
	const char *restart = NULL;
	json_t *check = NULL;
	char *cause = NULL, *id, *base, *placement = NULL;
	struct pending *p;
	struct node *n;
	const char *key;
	size_t i;
	int status;

	if (api_body_object(req, fields, &body, reply) == -1)
		return 400;
	if (jsonx_get_str(body, "node", true, &node, &cause) == -1 ||
	    jsonx_get_str(body, "path", false, &path, &cause) == -1 ||
	    jsonx_get_str(body, "artifact", false, &artifact, &cause) == -1 ||
	    jsonx_get_str(body, "name", false, &name, &cause) == -1 ||
	    jsonx_get_str(body, "cwd", false, &cwd, &cause) == -1 ||
	    jsonx_get_array(body, "args", false, &args, &cause) == -1 ||
	    jsonx_get_object(body, "env", false, &env, &cause) == -1 ||
	    jsonx_get_int(body, "log_max", false, 4096, 1LL << 40, &log_max,
		&cause) == -1 ||
	    jsonx_get_int(body, "log_keep", false, 0, 16, &log_keep,
		&cause) == -1 ||
	    jsonx_get_num(body, "cpu", false, &cpu, &cause) == -1 ||
	    jsonx_get_int(body, "mem_mb", false, 0, 1LL << 40, &mem_mb,
		&cause) == -1 ||
	    jsonx_get_str(body, "restart", false, &restart, &cause) == -1 ||
	    jsonx_get_int(body, "max_restarts", false, 0, 1000000,
		&max_restarts, &cause) == -1 ||
	    jsonx_get_object(body, "check", false, &check, &cause) == -1) {
		status = api_error(reply, 400, "%s", cause);
		goto out;
	}
	json_array_foreach(args, i, v) {
		if (!json_is_string(v)) {
			status = api_error(reply, 400, "args[%zu] must be a "
			    "string", i);
			goto out;
		}
	}
	json_object_foreach(env, key, v) {
		if (!json_is_string(v) || key[0] == '\0' ||
		    strchr(key, '=') != NULL) {
			status = api_error(reply, 400, "env '%s' must be a "
			    "string, with a name without '='", key);
			goto out;
		}
	}
	if ((path == NULL) == (artifact == NULL)) {
		status = api_error(reply, 400, "give exactly one of 'path' "
		    "(absolute, on the node) or 'artifact'");
		goto out;
	}
	if (artifact == NULL && path[0] != '/') {
		status = api_error(reply, 400, "'path' must be absolute: %s", path);
		goto out;
	}
	if (cwd != NULL && cwd[0] != '/') {
		status = api_error(reply, 400, "'cwd' must be absolute: %s", cwd);
		goto out;
	}
	if (cpu < 0 || cpu > 1e6) {
		status = api_error(reply, 400, "'cpu' must be 0 to 1000000 cores");
		goto out;
	}
	if (restart != NULL && strcmp(restart, "never") != 0 &&
	    strcmp(restart, "on-failure") != 0 && strcmp(restart, "always") != 0) {
		status = api_error(reply, 400, "'restart' must be never, "
		    "on-failure or always");
		goto out;
	}
	if (strcmp(node, "auto") == 0) {
		const char *src = artifact != NULL ? artifact : path;
		const char *base_name = name;

		if (base_name == NULL)
			base_name = strrchr(src, '/') != NULL ?
			    strrchr(src, '/') + 1 : src;
		struct sched_want want = { .name = base_name,
			.artifact = artifact, .cpu = cpu, .mem_mb = mem_mb };
		char *why = NULL;
		bool never;

		if ((n = sched_place(req->master, &want, &placement, &why,
		    &never)) == NULL) {
			status = api_error(reply, never ? 422 : 409, "%s: %s",
			    never ? "no node could ever hold it" : "no node fits",
			    why);
			free(why);
			goto out;
		}
		node = n->name;
	} else if ((n = api_apps_ready_node(req, node, &status, reply)) == NULL)
		goto out;
	if (artifact != NULL &&
	    artifact_find(req->master->artifacts, node, artifact) == NULL) {
		status = api_error(reply, 404, "no artifact named '%s' on %s "
		    "(copy it there first)", artifact, node);
		goto out;
	}

	base = xstrdup(artifact != NULL ? artifact : path);
	if (name == NULL)
		name = basename(base);
	id = app_new_id(req->master->apps, name);
	launch = jsonx_pack("{s:s, s:s?, s:s?, s:O?, s:O?, s:s?, s:s}", "app",
	    id, "path", path, "artifact", artifact, "args", args, "env", env,
	    "cwd", cwd, "name", name);
	record = jsonx_pack("{s:s, s:s, s:s?, s:s?, s:o, s:s, s:n, s:n, s:n, "
	    "s:n, s:I, s:n}", "id", id, "name", name, "path", path, "artifact",
	    artifact, "args", args != NULL ? json_incref(args) : json_array(),
	    "state", "starting", "pid", "cause", "exit_code", "signal",
	    "started_at", (json_int_t)util_wall_ms(), "ended_at");
	free(base);
	if (log_max > 0)
		json_object_set_new(launch, "log_max", json_integer(log_max));
	if (log_keep >= 0)
		json_object_set_new(launch, "log_keep", json_integer(log_keep));
	if (restart != NULL)
		json_object_set_new(launch, "restart", json_string(restart));
	if (max_restarts >= 0)
		json_object_set_new(launch, "max_restarts",
		    json_integer(max_restarts));
	if (check != NULL)
		json_object_set(launch, "check", check);
	p = pending_new(req->master, node, API_APPS_LAUNCH_TIMEOUT_MS,
	    api_apps_launched, req, id);
	/*
	 * What the record keeps beside the worker's report: the reservations,
	 * and how it was launched, to start it again on another node should
	 * this one be lost.
	 */
	p->extra = json_pack("{s:f, s:I, s:s?, s:s, s:O*, s:O*, s:s*, s:O*}",
	    "cpu", cpu, "mem_mb", (json_int_t)mem_mb, "placement", placement,
	    "restart", restart != NULL ? restart : "never", "max_restarts",
	    json_object_get(launch, "max_restarts"), "check", check, "cwd", cwd,
	    "env", env);
	if (log_max > 0)
		json_object_set_new(p->extra, "log_max", json_integer(log_max));
	if (log_keep >= 0)
		json_object_set_new(p->extra, "log_keep", json_integer(log_keep));
	json_object_update(record, p->extra);
	free(id);
	status = api_apps_send(req, n, msg_new(MSG_LAUNCH, 0, launch), p, reply);
	if (status == API_PENDING)
		api_apps_record_launch(req->master, p, record);
	else
		json_decref(record);
out:
	free(cause);
	free(placement);
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
