/*
 * The master's own copies of artifacts to nodes. See artcopy.h.
 *
 * One copy runs per (node, artifact): apps that need the same artifact on
 * the same node (three instances moved off a lost node) wait on one copy.
 * Its files go one after the other, each a transfer with its own credit;
 * a failure at any step (the node's error, its loss, the master's copy
 * unreadable) ends the copy for every app waiting on it.
 */
#include "master/artcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/xmem.h"
#include "master/artifact.h"
#include "master/db.h"
#include "master/filestore.h"
#include "master/master.h"
#include "master/node.h"
#include "master/pending.h"
#include "master/transfer.h"

#define ARTCOPY_REQUEST_TIMEOUT_MS 30000
/* Apps waiting on one copy; more are refused (each app then moves on). */
#define ARTCOPY_WAITERS_MAX 4096

struct artcopy_waiter {
	artcopy_done_fn *done;
	char *app;
	json_t *extra;
};

struct artcopy {
	char id[16];
	char *node;
	char *why;
	json_t *manifest;
	json_t *needed; /* the file objects the node lacks, after HAVE */
	size_t next;	/* the index in needed of the file being sent */
	unsigned long long bytes;
	struct transfer *t; /* the file being sent, or NULL */
	struct artcopy_waiter *waiters;
	size_t nwaiters;
	struct artcopy *next_copy;
};

bool
artcopy_can_send(struct filestore *fs, json_t *manifest)
{
	json_t *files = json_object_get(manifest, "files"), *f;
	size_t i;

	if (fs == NULL || json_array_size(files) == 0)
		return false;
	json_array_foreach(files, i, f) {
		const char *h = json_string_value(json_object_get(f, "hash"));

		if (h == NULL || !filestore_has(fs, h))
			return false;
	}
	return true;
}

static const char *
artcopy_name(struct artcopy *c)
{
	const char *name = json_string_value(json_object_get(c->manifest,
	    "name"));

	return name != NULL ? name : "?";
}

static struct artcopy *
artcopy_find(struct master *m, const char *id)
{
	for (struct artcopy *c = m->artcopies; c != NULL; c = c->next_copy)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* The copy of the same artifact (name and content) to node under way. */
static struct artcopy *
artcopy_find_same(struct master *m, const char *node, json_t *manifest)
{
	const char *name = json_string_value(json_object_get(manifest, "name"));
	json_t *hash = json_object_get(manifest, "hash");

	for (struct artcopy *c = m->artcopies; c != NULL; c = c->next_copy) {
		if (strcmp(c->node, node) == 0 && name != NULL &&
		    strcmp(artcopy_name(c), name) == 0 &&
		    json_equal(json_object_get(c->manifest, "hash"), hash) &&
		    json_equal(json_object_get(c->manifest, "files"),
		    json_object_get(manifest, "files")))
			return c;
	}
	return NULL;
}

static void
artcopy_free(struct artcopy *c)
{
	for (size_t i = 0; i < c->nwaiters; i++) {
		free(c->waiters[i].app);
		json_decref(c->waiters[i].extra);
	}
	free(c->waiters);
	transfer_free(c->t);
	json_decref(c->manifest);
	json_decref(c->needed);
	free(c->node);
	free(c->why);
	free(c);
}

/* The copy is over (error NULL: installed): tell every app, then free it. */
static void
artcopy_end(struct master *m, struct artcopy *c, const char *error)
{
	for (struct artcopy **p = &m->artcopies; *p != NULL;
	     p = &(*p)->next_copy) {
		if (*p == c) {
			*p = c->next_copy;
			break;
		}
	}
	if (error != NULL)
		log_warnx("copying artifact %s to %s failed: %s", artcopy_name(c),
		    c->node, error);
	/* Unlinked first: a waiter may start another copy. */
	for (size_t i = 0; i < c->nwaiters; i++)
		c->waiters[i].done(m, c->node, c->waiters[i].app,
		    c->waiters[i].extra, error);
	artcopy_free(c);
}

/* Send msg to c's node with a pending request; false if it cannot go out. */
static bool
artcopy_request(struct master *m, struct artcopy *c, int type, json_t *body,
    void (*done)(struct master *, struct pending *, struct msg *,
    const char *))
{
	struct node *n = node_find(m->nodes, c->node);
	struct pending *p;
	struct msg *msg;

	if (n == NULL || n->state != NODE_READY || !n->connected) {
		json_decref(body);
		return false;
	}
	p = pending_new(m, c->node, ARTCOPY_REQUEST_TIMEOUT_MS, done, NULL,
	    c->id);
	msg = msg_new(type, p->id, body);
	if (master_send_to(m, n, msg) == -1) {
		msg_free(msg);
		pending_free(m, p);
		return false;
	}
	msg_free(msg);
	return true;
}

/* A reply's error text, or why there was none. */
static const char *
artcopy_reply_error(struct msg *reply, const char *why)
{
	const char *text = reply != NULL ? json_string_value(json_object_get(
	    reply->body, "error")) : why;

	return text != NULL ? text : "the node answered something unexpected";
}

static void
artcopy_installed(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct artcopy *c = artcopy_find(m, p->app);
	const char *name;

	if (c == NULL)
		return;
	if (reply == NULL || reply->type != MSG_ARTIFACT_INSTALLED) {
		artcopy_end(m, c, artcopy_reply_error(reply, why));
		return;
	}
	name = artcopy_name(c);
	artifact_put(m->artifacts, c->node, json_incref(reply->body));
	db_put_artifact(m->db, c->node, name, reply->body);
	for (size_t i = 0; i < c->nwaiters; i++)
		master_event(m, "app", c->node, c->waiters[i].app, json_pack(
		    "{s:s, s:s, s:s, s:s, s:I, s:I}", "event",
		    "artifact-copied", "name", name, "node", c->node, "for",
		    c->why, "files_sent", (json_int_t)json_array_size(c->needed),
		    "bytes_sent", (json_int_t)c->bytes));
	log_info("artifact %s copied to %s for %s (%zu files, %llu bytes sent)",
	    name, c->node, c->why, json_array_size(c->needed), c->bytes);
	artcopy_end(m, c, NULL);
}

static void artcopy_file_sent(struct transfer *, void *);

/* Send the next file the node lacks, or install once none is left. */
static void
artcopy_next(struct master *m, struct artcopy *c)
{
	const char *node = c->node, *hash;
	json_t *f;
	char *cause = NULL;
	int fd;

	if (c->next == json_array_size(c->needed)) {
		if (!artcopy_request(m, c, MSG_ARTIFACT_INSTALL, json_pack(
		    "{s:s, s:O}", "name", artcopy_name(c), "files",
		    json_object_get(c->manifest, "files")), artcopy_installed))
			artcopy_end(m, c, "the node became unreachable");
		return;
	}
	f = json_array_get(c->needed, c->next);
	hash = json_string_value(json_object_get(f, "hash"));
	if ((fd = filestore_open_file(m->files, hash, &cause)) == -1) {
		artcopy_end(m, c, cause);
		free(cause);
		return;
	}
	c->t = transfer_new(m, hash, (unsigned long long)json_integer_value(
	    json_object_get(f, "size")), &node, 1, artcopy_file_sent, c);
	transfer_send_fd(c->t, fd);
	if (c->t->targets[0].state == TRANSFER_FAILED) {
		char *err = xstrdup(c->t->targets[0].error);

		artcopy_end(m, c, err); /* frees the transfer */
		free(err);
	}
}

static void
artcopy_file_sent(struct transfer *t, void *arg)
{
	struct artcopy *c = arg;
	struct master *m = t->m;
	char *err;

	if (t->targets[0].state == TRANSFER_DONE) {
		c->bytes += t->size;
		c->next++;
		c->t = NULL;
		transfer_free(t);
		artcopy_next(m, c);
		return;
	}
	err = xasprintf("sending %.12s: %s", t->hash, t->targets[0].error !=
	    NULL ? t->targets[0].error : t->error != NULL ? t->error :
	    "failed");
	artcopy_end(m, c, err); /* frees the transfer */
	free(err);
}

static void
artcopy_have(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct artcopy *c = artcopy_find(m, p->app);
	json_t *present, *f;
	size_t i;

	if (c == NULL)
		return;
	if (reply == NULL || reply->type != MSG_ARTIFACT_HAVE_REPLY ||
	    !json_is_array(present = json_object_get(reply->body, "present"))) {
		artcopy_end(m, c, artcopy_reply_error(reply, why));
		return;
	}
	c->needed = json_array();
	json_array_foreach(json_object_get(c->manifest, "files"), i, f) {
		json_t *h = json_object_get(f, "hash"), *v;
		bool have = false;
		size_t k;

		json_array_foreach(present, k, v)
			if (json_equal(v, h))
				have = true;
		if (!have)
			json_array_append(c->needed, f);
	}
	artcopy_next(m, c);
}

int
artcopy_start(struct master *m, const char *node, json_t *manifest,
    const char *why, artcopy_done_fn *done, const char *app, json_t *extra,
    char **cause)
{
	struct artcopy *c = artcopy_find_same(m, node, manifest);
	json_t *hashes, *f;
	struct artcopy_waiter *w;
	size_t i;

	if (c == NULL) {
		if (!artcopy_can_send(m->files, manifest)) {
			*cause = xstrdup("the master has no copy of its files");
			json_decref(extra);
			return -1;
		}
		c = xcalloc(1, sizeof *c);
		snprintf(c->id, sizeof c->id, "c%u", ++m->next_upload_id);
		c->node = xstrdup(node);
		c->why = xstrdup(why);
		c->manifest = json_deep_copy(manifest);
		hashes = json_array();
		json_array_foreach(json_object_get(manifest, "files"), i, f)
			json_array_append(hashes, json_object_get(f, "hash"));
		if (!artcopy_request(m, c, MSG_ARTIFACT_HAVE, json_pack("{s:o}",
		    "hashes", hashes), artcopy_have)) {
			*cause = xasprintf("cannot reach %s", node);
			artcopy_free(c);
			json_decref(extra);
			return -1;
		}
		c->next_copy = m->artcopies;
		m->artcopies = c;
		log_info("copying artifact %s to %s for %s", artcopy_name(c),
		    node, why);
	} else if (c->nwaiters >= ARTCOPY_WAITERS_MAX) {
		*cause = xasprintf("%d apps already wait on this copy",
		    ARTCOPY_WAITERS_MAX);
		json_decref(extra);
		return -1;
	}
	c->waiters = xreallocarray(c->waiters, c->nwaiters + 1,
	    sizeof *c->waiters);
	w = &c->waiters[c->nwaiters++];
	w->done = done;
	w->app = xstrdup(app);
	w->extra = extra;
	return 0;
}

void
artcopy_free_all(struct master *m)
{
	while (m->artcopies != NULL) {
		struct artcopy *c = m->artcopies;

		m->artcopies = c->next_copy;
		artcopy_free(c);
	}
}
