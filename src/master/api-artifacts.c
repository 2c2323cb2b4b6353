/*
 * Artifacts: GET/POST /v1/artifacts, DELETE /v1/artifacts/NAME,
 * PUT /v1/uploads/ID/HASH and POST /v1/uploads/ID/commit.
 *
 * A copy is three steps, so that nothing is sent twice and nothing is half
 * installed: the client announces the files with their hashes (POST
 * /v1/artifacts) and the master asks every target node which it already
 * holds; the client uploads each file some node lacks (PUT), which the
 * master relays in 256 KiB chunks to exactly those nodes, pausing the
 * client whenever a node has no credit left; then the client commits, and
 * each node installs the artifact from its store at once.
 *
 * The relay itself is transfer.c. As a file goes by, the master also keeps
 * its own copy (filestore.h), so that it can later copy the artifact to a
 * node that lacks it when an app is rescheduled there; a file every node
 * holds but the master lacks is asked for too ("needed").
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/api.h"
#include "master/app.h"
#include "master/artifact.h"
#include "master/db.h"
#include "master/filestore.h"
#include "master/master.h"
#include "master/node.h"
#include "master/pending.h"
#include "master/transfer.h"

#define UPLOAD_TARGETS_MAX 4096
#define UPLOAD_FILES_MAX 256
#define UPLOAD_IDLE_MS (30 * 60 * 1000)
#define UPLOAD_REQUEST_TIMEOUT_MS 30000

/* One target node of an upload session. */
struct upload_node {
	char *node;
	json_t *present; /* hashes the node already held */
	json_t *needed;	 /* hashes it lacks */
	json_t *sent;	 /* hashes sent to it and stored */
	char *error;	 /* why this node failed, if it did */
	json_t *manifest; /* what it installed, after commit */
};

struct upload {
	char id[16];
	char *name;
	json_t *files; /* [{"name","hash","size","kind","mode"}] */
	struct upload_node *nodes;
	int nnodes;
	int waiting;	       /* node replies outstanding */
	struct api_request *req; /* the REST call waiting for them */
	int64_t touched;       /* monotonic ms of the last use */
	struct upload *next;
};

static struct upload *
upload_find(struct master *m, const char *id)
{
	for (struct upload *u = m->uploads; u != NULL; u = u->next)
		if (strcmp(u->id, id) == 0)
			return u;
	return NULL;
}

static void
upload_free(struct master *m, struct upload *u)
{
	for (struct upload **p = &m->uploads; *p != NULL; p = &(*p)->next) {
		if (*p == u) {
			*p = u->next;
			break;
		}
	}
	for (int i = 0; i < u->nnodes; i++) {
		free(u->nodes[i].node);
		json_decref(u->nodes[i].present);
		json_decref(u->nodes[i].needed);
		json_decref(u->nodes[i].sent);
		json_decref(u->nodes[i].manifest);
		free(u->nodes[i].error);
	}
	free(u->nodes);
	json_decref(u->files);
	free(u->name);
	free(u);
}

static struct upload_node *
upload_node_find(struct upload *u, const char *node)
{
	for (int i = 0; i < u->nnodes; i++)
		if (strcmp(u->nodes[i].node, node) == 0)
			return &u->nodes[i];
	return NULL;
}

static bool
upload_json_has(json_t *list, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool
upload_name_valid(const char *s)
{
	return util_name_valid(s, 128, "._-+");
}

/* Check the announced files; returns 0 or -1 with *cause. */
static int
upload_check_files(json_t *files, char **cause)
{
	const char *name, *hash, *kind;
	long long size, mode;
	int exes = 0;
	json_t *f;
	size_t i;

	if (json_array_size(files) == 0 ||
	    json_array_size(files) > UPLOAD_FILES_MAX) {
		*cause = xasprintf("'files' must hold 1 to %d files",
		    UPLOAD_FILES_MAX);
		return -1;
	}
	static const char *const fields[] = { "name", "hash", "size", "kind",
		"mode", NULL };

	json_array_foreach(files, i, f) {
		if (jsonx_check_fields(f, fields, cause) == -1 ||
		    jsonx_get_str(f, "name", true, &name, cause) == -1 ||
		    jsonx_get_str(f, "hash", true, &hash, cause) == -1 ||
		    jsonx_get_str(f, "kind", true, &kind, cause) == -1 ||
		    jsonx_get_int(f, "size", true, 0, 1LL << 42, &size,
			cause) == -1 ||
		    jsonx_get_int(f, "mode", false, 0, 07777, &mode, cause) == -1)
			return -1;
		if (!upload_name_valid(name)) {
			*cause = xasprintf("files[%zu]: bad file name '%.64s'",
			    i, name);
			return -1;
		}
		if (!filestore_hash_valid(hash)) {
			*cause = xasprintf("files[%zu]: 'hash' must be 64 "
			    "lower-case hex digits (BLAKE2b-256)", i);
			return -1;
		}
		if (strcmp(kind, "exe") == 0)
			exes++;
		else if (strcmp(kind, "lib") != 0) {
			*cause = xasprintf("files[%zu]: 'kind' must be exe or "
			    "lib", i);
			return -1;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(files, k), "name")), name) == 0) {
				*cause = xasprintf("file name '%s' twice", name);
				return -1;
			}
		}
	}
	if (exes != 1) {
		*cause = xstrdup("'files' must hold exactly one exe");
		return -1;
	}
	return 0;
}

/*
 * The reply to POST /v1/artifacts, once every node said what it holds:
 * "needed" lists the files to upload, those some node lacks and, while a
 * node can take the copy, those the master keeps no copy of.
 */
static json_t *
upload_announce_json(struct master *m, struct upload *u)
{
	json_t *nodes = json_array(), *needed = json_array(), *h, *f;
	bool some_ok = false;
	size_t k;

	for (int i = 0; i < u->nnodes; i++) {
		struct upload_node *un = &u->nodes[i];

		json_array_append_new(nodes, json_pack("{s:s, s:O, s:O, s:s?}",
		    "node", un->node, "present", un->present, "needed",
		    un->needed, "error", un->error));
		json_array_foreach(un->needed, k, h)
			if (!upload_json_has(needed, json_string_value(h)))
				json_array_append(needed, h);
		if (un->error == NULL)
			some_ok = true;
	}
	json_array_foreach(u->files, k, f) {
		h = json_object_get(f, "hash");
		if (some_ok && !filestore_has(m->files, json_string_value(h)) &&
		    !upload_json_has(needed, json_string_value(h)))
			json_array_append(needed, h);
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "upload", u->id, "name",
	    u->name, "nodes", nodes, "needed", needed);
}

static void
upload_have_done(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct upload *u = upload_find(m, p->app);
	struct upload_node *un;
	json_t *present, *f;
	size_t i;

	if (u == NULL || (un = upload_node_find(u, p->node)) == NULL)
		return;
	if (reply == NULL || reply->type != MSG_ARTIFACT_HAVE_REPLY ||
	    !json_is_array(present = json_object_get(reply->body, "present"))) {
		const char *text = reply != NULL ? json_string_value(
		    json_object_get(reply->body, "error")) : why;

		un->error = xstrdup(text != NULL ? text : "bad reply");
	} else {
		json_array_foreach(u->files, i, f) {
			json_t *h = json_object_get(f, "hash");

			if (upload_json_has(present, json_string_value(h)))
				json_array_append(un->present, h);
			else if (!upload_json_has(un->needed,
			    json_string_value(h)))
				json_array_append(un->needed, h);
		}
	}
	u->touched = util_now_ms();
	if (--u->waiting == 0 && u->req != NULL) {
		api_complete(u->req, 200, upload_announce_json(m, u));
		u->req = NULL;
	}
}

int
api_artifacts_create(struct api_request *req, json_t **reply)
{
	static const char *const fields[] = { "name", "node", "arch", "files",
		NULL };
	struct master *m = req->master;
	const char *name, *node, *arch = NULL;
	json_t *body, *files, *hashes, *f;
	struct node **list = NULL;
	char *cause = NULL;
	struct upload *u;
	size_t count = 0, i;
	int status;

	if (api_body_object(req, fields, &body, reply) == -1)
		return 400;
	if (jsonx_get_str(body, "name", true, &name, &cause) == -1 ||
	    jsonx_get_str(body, "node", true, &node, &cause) == -1 ||
	    jsonx_get_str(body, "arch", false, &arch, &cause) == -1 ||
	    jsonx_get_array(body, "files", true, &files, &cause) == -1 ||
	    upload_check_files(files, &cause) == -1) {
		status = api_error(reply, 400, "%s", cause);
		goto out;
	}
	if (!upload_name_valid(name)) {
		status = api_error(reply, 400, "bad artifact name '%.64s': use "
		    "letters, digits, '.', '_', '+' or '-'", name);
		goto out;
	}
	if (strcmp(node, "all") == 0) {
		struct node **all = node_list(m->nodes, &count);
		size_t n = 0;

		for (i = 0; i < count; i++)
			if (all[i]->state == NODE_READY && all[i]->connected)
				all[n++] = all[i];
		list = all;
		count = n;
		if (count == 0) {
			status = api_error(reply, 409, "no node is ready");
			goto out;
		}
	} else {
		struct node *n = node_find(m->nodes, node);

		if (n == NULL) {
			status = api_error(reply, 404, "no such node: %s", node);
			goto out;
		}
		if (n->state != NODE_READY || !n->connected) {
			status = api_error(reply, 409, "node %s is %s", node,
			    node_state_name(n->state));
			goto out;
		}
		list = xcalloc(1, sizeof *list);
		list[0] = n;
		count = 1;
	}
	if (count > UPLOAD_TARGETS_MAX) {
		status = api_error(reply, 409, "more than %d nodes at once",
		    UPLOAD_TARGETS_MAX);
		goto out;
	}
	/* An ELF for another machine is refused before anything moves. */
	for (i = 0; arch != NULL && i < count; i++) {
		if (list[i]->arch != NULL && strcmp(list[i]->arch, arch) != 0) {
			status = api_error(reply, 422, "%s is built for %s, but "
			    "node %s is %s", name, arch, list[i]->name,
			    list[i]->arch);
			goto out;
		}
	}

	u = xcalloc(1, sizeof *u);
	snprintf(u->id, sizeof u->id, "u%u", ++m->next_upload_id);
	u->name = xstrdup(name);
	u->files = json_deep_copy(files);
	u->nodes = xcalloc(count, sizeof *u->nodes);
	u->nnodes = (int)count;
	u->touched = util_now_ms();
	u->req = req;
	u->next = m->uploads;
	m->uploads = u;
	hashes = json_array();
	json_array_foreach(files, i, f)
		json_array_append(hashes, json_object_get(f, "hash"));
	for (i = 0; i < count; i++) {
		struct upload_node *un = &u->nodes[i];
		struct pending *p;
		struct msg *msg;

		un->node = xstrdup(list[i]->name);
		un->present = json_array();
		un->needed = json_array();
		un->sent = json_array();
		p = pending_new(m, un->node, UPLOAD_REQUEST_TIMEOUT_MS,
		    upload_have_done, req, u->id);
		msg = msg_new(MSG_ARTIFACT_HAVE, p->id, json_pack("{s:O}",
		    "hashes", hashes));
		u->waiting++;
		if (!master_send_to_ready(m, un->node, msg)) {
			pending_free(m, p);
			un->error = xstrdup("cannot reach the node");
			u->waiting--;
		}
	}
	json_decref(hashes);
	if (u->waiting == 0) {
		/* No node could be asked: answer now, with each one's error. */
		u->req = NULL;
		*reply = upload_announce_json(m, u);
		status = 200;
	} else {
		api_suspend(req);
		status = API_PENDING;
	}
out:
	free(list);
	free(cause);
	json_decref(body);
	return status;
}

/*
 * The PUT's transfer is over: each node stored the file or failed. Record
 * it in the session (which may have expired meanwhile) and answer.
 */
static void
upload_put_done(struct transfer *t, void *arg)
{
	struct api_request *req = arg;
	struct upload *u = upload_find(t->m, req->params[0]);
	json_t *nodes = json_array(), *failed = json_array(), *first;
	bool kept = t->kept || filestore_has(t->m->files, t->hash);

	for (int i = 0; i < t->ntargets; i++) {
		struct transfer_target *tt = &t->targets[i];
		struct upload_node *un = u != NULL ? upload_node_find(u,
		    tt->node) : NULL;
		const char *why = tt->error != NULL ? tt->error : "failed";

		if (tt->state == TRANSFER_DONE) {
			json_array_append_new(nodes, json_string(tt->node));
			if (un != NULL)
				json_array_append_new(un->sent,
				    json_string(t->hash));
			continue;
		}
		json_array_append_new(failed, json_pack("{s:s, s:s}", "node",
		    tt->node, "error", why));
		if (un != NULL && un->error == NULL)
			un->error = xstrdup(why);
	}
	if (json_array_size(failed) > 0) {
		first = json_array_get(failed, 0);
		api_complete(req, 422, json_pack("{s:s++, s:o, s:o, s:b}",
		    "error", json_string_value(json_object_get(first, "node")),
		    ": ", json_string_value(json_object_get(first, "error")),
		    "stored_on", nodes, "failed", failed, "kept", kept));
		return;
	}
	json_decref(failed);
	/* Sent for the master alone, and it could not keep it. */
	if (t->ntargets == 0 && !kept) {
		json_decref(nodes);
		api_complete(req, 422, json_pack("{s:s+, s:b}", "error",
		    "the master cannot keep a copy: ", t->keep_error != NULL ?
		    t->keep_error : "failed", "kept", 0));
		return;
	}
	api_complete(req, 200, json_pack("{s:s, s:I, s:o, s:b, s:s?}", "hash",
	    t->hash, "size", (json_int_t)t->size, "stored_on", nodes, "kept",
	    kept, "keep_error", kept ? NULL : t->keep_error));
}

static void
upload_put_free(void *arg)
{
	transfer_free(arg);
}

/*
 * The transfer for a PUT, made on its first byte (or at its end if empty):
 * to every node of the session that lacks the file, and into the master's
 * store when it lacks it too.
 */
static struct transfer *
upload_put_start(struct api_request *req, char **cause)
{
	struct master *m = req->master;
	struct upload *u = upload_find(m, req->params[0]);
	const char *hash = req->params[1];
	unsigned long long size = 0;
	const char **targets;
	struct transfer *t;
	bool known = false;
	int ntargets = 0;
	json_t *f;
	size_t i;

	if (u == NULL) {
		*cause = xasprintf("no such upload: %s (it expires after %d "
		    "minutes)", req->params[0], UPLOAD_IDLE_MS / 60000);
		return NULL;
	}
	json_array_foreach(u->files, i, f) {
		if (strcmp(json_string_value(json_object_get(f, "hash")),
		    hash) == 0) {
			known = true;
			size = (unsigned long long)json_integer_value(
			    json_object_get(f, "size"));
		}
	}
	if (!known) {
		*cause = xasprintf("file %.64s is not part of upload %s", hash,
		    u->id);
		return NULL;
	}
	targets = xcalloc((size_t)u->nnodes + 1, sizeof *targets);
	for (int k = 0; k < u->nnodes; k++) {
		struct upload_node *un = &u->nodes[k];

		if (un->error == NULL && upload_json_has(un->needed, hash) &&
		    !upload_json_has(un->sent, hash))
			targets[ntargets++] = un->node;
	}
	t = transfer_new(m, hash, size, targets, ntargets, upload_put_done, req);
	free(targets);
	t->req = req;
	/* The master's copy, written as the file goes by (see filestore.h). */
	if (!filestore_has(m->files, hash) &&
	    (t->keep = filestore_begin(m->files, hash, size,
	    &t->keep_error)) == NULL)
		log_warnx("the master keeps no copy of %.12s: %s", hash,
		    t->keep_error);
	u->touched = util_now_ms();
	req->ctx = t;
	req->ctx_free = upload_put_free;
	return t;
}

long
api_uploads_data(struct api_request *req, const char *data, size_t len)
{
	struct transfer *t = req->ctx;
	char *cause = NULL;

	if (t == NULL && (t = upload_put_start(req, &cause)) == NULL) {
		/* Remembered for the reply; the rest of the body is dropped. */
		req->reply = json_pack("{s:s}", "error", cause);
		req->status = 404;
		free(cause);
		return -1;
	}
	return (long)transfer_feed(t, data, len);
}

int
api_uploads_put(struct api_request *req, json_t **reply)
{
	struct transfer *t = req->ctx;
	char *cause = NULL;

	if (t == NULL && req->reply != NULL) {
		*reply = req->reply;
		req->reply = NULL;
		return req->status;
	}
	if (t == NULL && (t = upload_put_start(req, &cause)) == NULL) {
		api_error(reply, 404, "%s", cause);
		free(cause);
		return 404;
	}
	if (t->error != NULL || t->taken != t->size) {
		api_error(reply, 400, "upload of %.12s: %s", t->hash,
		    t->error != NULL ? t->error : "fewer bytes than announced");
		/* The nodes drop what they received; nothing is kept. */
		req->ctx = NULL;
		req->ctx_free = NULL;
		transfer_free(t);
		return 400;
	}
	api_suspend(req);
	transfer_end_input(t); /* may answer at once */
	return API_PENDING;
}

/* What the master's copies are checked against before removal. */
struct upload_gc {
	struct master *m;
	json_t *used; /* {hash: true} of every recorded manifest */
};

/* Whether a manifest or an upload session still uses the file. */
static bool
upload_file_used(const char *hash, void *arg)
{
	struct upload_gc *gc = arg;
	json_t *f;
	size_t i;

	if (json_object_get(gc->used, hash) != NULL)
		return true;
	for (struct upload *u = gc->m->uploads; u != NULL; u = u->next)
		json_array_foreach(u->files, i, f)
			if (strcmp(json_string_value(json_object_get(f, "hash")),
			    hash) == 0)
				return true;
	return false;
}

void
api_artifacts_gc(struct master *m)
{
	struct upload_gc gc = { m, artifact_file_hashes(m->artifacts) };
	size_t n;

	if ((n = filestore_gc(m->files, upload_file_used, &gc)) > 0)
		log_info("removed %zu files of the master's artifact copies that "
		    "no artifact uses any more", n);
	json_decref(gc.used);
}

void
api_uploads_expire(struct master *m, int64_t now)
{
	struct upload *u, *next;
	size_t freed = 0;

	for (u = m->uploads; u != NULL; u = next) {
		next = u->next;
		if (u->req == NULL && u->waiting == 0 &&
		    now - u->touched > UPLOAD_IDLE_MS) {
			upload_free(m, u);
			freed++;
		}
	}
	/* Files uploaded for a copy never committed are of no use. */
	if (freed > 0)
		api_artifacts_gc(m);
}

void
api_uploads_free_all(struct master *m)
{
	while (m->uploads != NULL)
		upload_free(m, m->uploads);
}

static void
upload_install_done(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct upload *u = upload_find(m, p->app);
	struct upload_node *un;
	json_t *nodes, *f;
	bool failed = false;
	size_t i;

	if (u == NULL || (un = upload_node_find(u, p->node)) == NULL)
		return;
	if (reply != NULL && reply->type == MSG_ARTIFACT_INSTALLED) {
		un->manifest = json_incref(reply->body);
		artifact_put(m->artifacts, un->node, json_incref(reply->body));
		db_put_artifact(m->db, un->node, u->name, reply->body);
		master_event(m, "api", un->node, NULL, json_pack("{s:s, s:s, "
		    "s:s}", "event", "artifact-installed", "by", m->admin_token_id, "name",
		    u->name));
		log_info("artifact %s installed on %s", u->name, un->node);
	} else if (un->error == NULL) {
		const char *text = reply != NULL ? json_string_value(
		    json_object_get(reply->body, "error")) : why;

		un->error = xstrdup(text != NULL ? text : "bad reply");
	}
	if (--u->waiting > 0 || u->req == NULL)
		return;

	nodes = json_array();
	for (int k = 0; k < u->nnodes; k++) {
		struct upload_node *x = &u->nodes[k];
		json_t *list = json_array();

		json_array_foreach(u->files, i, f) {
			const char *h = json_string_value(json_object_get(f,
			    "hash"));

			json_array_append_new(list, json_pack("{s:O, s:s, s:O, "
			    "s:s}", "name", json_object_get(f, "name"), "hash",
			    h, "size", json_object_get(f, "size"), "status",
			    upload_json_has(x->sent, h) ? "sent" :
			    upload_json_has(x->present, h) ? "present" :
			    "missing"));
		}
		if (x->error != NULL)
			failed = true;
		json_array_append_new(nodes, json_pack("{s:s, s:b, s:s?, s:o}",
		    "node", x->node, "ok", x->error == NULL, "error", x->error,
		    "files", list));
	}
	api_complete(u->req, failed ? 502 : 201, json_pack("{s:s, s:s?, s:o}",
	    "name", u->name, "error", failed ? "the copy failed on some nodes" :
	    NULL, "nodes", nodes));
	u->req = NULL;
	upload_free(m, u);
	/* The master's copies of files no install took are of no use. */
	api_artifacts_gc(m);
}

int
api_uploads_commit(struct api_request *req, json_t **reply)
{
	struct master *m = req->master;
	struct upload *u = upload_find(m, req->params[0]);
	json_t *f;
	size_t i;

	if (u == NULL)
		return api_error(reply, 404, "no such upload: %s", req->params[0]);
	if (u->req != NULL || u->waiting > 0)
		return api_error(reply, 409, "upload %s is busy", u->id);
	for (int k = 0; k < u->nnodes; k++) {
		struct upload_node *un = &u->nodes[k];
		struct pending *p;

		if (un->error != NULL)
			continue;
		json_array_foreach(u->files, i, f) {
			const char *h = json_string_value(json_object_get(f,
			    "hash"));

			if (!upload_json_has(un->present, h) &&
			    !upload_json_has(un->sent, h) && un->error == NULL)
				un->error = xasprintf("file %s was not uploaded",
				    json_string_value(json_object_get(f, "name")));
		}
		if (un->error != NULL)
			continue;
		p = pending_new(m, un->node, UPLOAD_REQUEST_TIMEOUT_MS,
		    upload_install_done, req, u->id);
		u->waiting++;
		if (!master_send_to_ready(m, un->node, msg_new(MSG_ARTIFACT_INSTALL, p->id,
		    json_pack("{s:s, s:O}", "name", u->name, "files",
		    u->files)))) {
			pending_free(m, p);
			u->waiting--;
			un->error = xstrdup("the node became unreachable");
		}
	}
	if (u->waiting == 0) {
		json_t *nodes = json_array();

		for (int k = 0; k < u->nnodes; k++)
			json_array_append_new(nodes, json_pack("{s:s, s:b, s:s?}",
			    "node", u->nodes[k].node, "ok", 0, "error",
			    u->nodes[k].error));
		*reply = json_pack("{s:s, s:s, s:o}", "name", u->name, "error",
		    "the copy failed on every node", "nodes", nodes);
		upload_free(m, u);
		api_artifacts_gc(m);
		return 409;
	}
	u->req = req;
	api_suspend(req);
	return API_PENDING;
}

int
api_artifacts_list(struct api_request *req, json_t **reply)
{
	const char *node = api_query(req, "node");

	if (node != NULL && node_find(req->master->nodes, node) == NULL)
		return api_error(reply, 404, "no such node: %s", node);
	*reply = artifact_list(req->master->artifacts, node);
	return 200;
}

struct delete_ctx {
	char *name;
	int waiting;
	json_t *nodes;
	bool failed;
};

static void
delete_ctx_free(void *arg)
{
	struct delete_ctx *d = arg;

	free(d->name);
	json_decref(d->nodes);
	free(d);
}

static void
upload_delete_done(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct delete_ctx *d = p->req->ctx;

	if (reply != NULL && reply->type == MSG_ARTIFACT_DELETED) {
		artifact_remove(m->artifacts, p->node, d->name);
		db_delete_artifact(m->db, p->node, d->name);
		master_event(m, "api", p->node, NULL, json_pack("{s:s, s:s, s:s}",
		    "event", "artifact-deleted", "by", m->admin_token_id, "name", d->name));
		json_array_append_new(d->nodes, json_pack("{s:s, s:b}", "node",
		    p->node, "ok", 1));
		log_info("artifact %s deleted on %s", d->name, p->node);
	} else {
		const char *text = reply != NULL ? json_string_value(
		    json_object_get(reply->body, "error")) : why;

		d->failed = true;
		json_array_append_new(d->nodes, json_pack("{s:s, s:b, s:s}",
		    "node", p->node, "ok", 0, "error", text != NULL ? text :
		    "failed"));
	}
	if (--d->waiting > 0)
		return;
	/* Gone from every node: the master's copies of its files go too. */
	api_artifacts_gc(m);
	api_complete(p->req, d->failed ? 409 : 200, json_pack(
	    "{s:s, s:s?, s:O}", "name", d->name, "error", d->failed ?
	    json_string_value(json_object_get(json_array_get(d->nodes, 0),
	    "error")) : NULL, "nodes", d->nodes));
}

int
api_artifacts_delete(struct api_request *req, json_t **reply)
{
	struct master *m = req->master;
	const char *name = req->params[0], *node = api_query(req, "node");
	const char *force_s = api_query(req, "force");
	bool force = force_s != NULL && (strcmp(force_s, "1") == 0 ||
	    strcmp(force_s, "true") == 0);
	json_t *list, *item, *busy = json_array();
	struct delete_ctx *d;
	size_t i;

	if (node == NULL)
		node = "all";
	if (strcmp(node, "all") != 0 && node_find(m->nodes, node) == NULL) {
		json_decref(busy);
		return api_error(reply, 404, "no such node: %s", node);
	}
	list = artifact_list(m->artifacts, strcmp(node, "all") == 0 ? NULL :
	    node);
	/* Only the nodes holding it, and only the ready ones can act. */
	for (i = 0; i < json_array_size(list);) {
		item = json_array_get(list, i);
		if (strcmp(json_string_value(json_object_get(item, "name")),
		    name) != 0)
			json_array_remove(list, i);
		else
			i++;
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		json_decref(busy);
		return api_error(reply, 404, "no artifact named %s on %s", name,
		    node);
	}
	/* Refused while an app launched from it runs, unless forced. */
	json_array_foreach(list, i, item) {
		json_t *apps = app_list(m->apps, json_string_value(
		    json_object_get(item, "node")), false, util_wall_ms()), *a;
		size_t k;

		json_array_foreach(apps, k, a) {
			const char *art = json_string_value(json_object_get(a,
			    "artifact"));
			const char *st = json_string_value(json_object_get(a,
			    "state"));

			if (art != NULL && strcmp(art, name) == 0 && st != NULL &&
			    strcmp(st, "dead") != 0)
				json_array_append(busy, json_object_get(a, "id"));
		}
		json_decref(apps);
	}
	if (json_array_size(busy) > 0 && !force) {
		json_decref(list);
		*reply = json_pack("{s:s, s:o}", "error", "the artifact is in use "
		    "by running apps (stop them, or delete with --force)",
		    "apps", busy);
		return 409;
	}
	json_decref(busy);
	d = xcalloc(1, sizeof *d);
	d->name = xstrdup(name);
	d->nodes = json_array();
	req->ctx = d;
	req->ctx_free = delete_ctx_free;
	json_array_foreach(list, i, item) {
		const char *nn = json_string_value(json_object_get(item, "node"));
		struct pending *p = pending_new(m, nn, UPLOAD_REQUEST_TIMEOUT_MS,
		    upload_delete_done, req, NULL);

		d->waiting++;
		if (!master_send_to_ready(m, nn, msg_new(MSG_ARTIFACT_DELETE, p->id,
		    json_pack("{s:s, s:b}", "name", name, "force", force)))) {
			pending_free(m, p);
			d->waiting--;
			d->failed = true;
			json_array_append_new(d->nodes, json_pack("{s:s, s:b, s:s}",
			    "node", nn, "ok", 0, "error", "the node is not ready"));
		}
	}
	json_decref(list);
	if (d->waiting == 0) {
		*reply = json_pack("{s:s, s:s, s:O}", "name", name, "error",
		    "no node holding it is ready", "nodes", d->nodes);
		return 409;
	}
	api_suspend(req);
	return API_PENDING;
}
