/*
 * File transfers to workers. See transfer.h.
 *
 * A transfer is driven from both ends: the source gives bytes (a client's
 * upload as it arrives, or reads of the master's copy), which are sent one
 * chunk at a time to every target still taking it, and only when every
 * such target has credit left; the targets grant credit and finally answer
 * END. Whatever happens first (the last credit, the last byte, a node's
 * error or loss), the same steps run again: flush, END, and done once all
 * is settled.
 */
#include "master/transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/proto.h"
#include "common/xmem.h"
#include "master/api.h"
#include "master/filestore.h"
#include "master/master.h"
#include "master/node.h"

static void
transfer_fail_target(struct transfer *t, struct transfer_target *tt,
    const char *why)
{
	if (tt->state == TRANSFER_DONE || tt->state == TRANSFER_FAILED)
		return;
	tt->state = TRANSFER_FAILED;
	free(tt->error);
	tt->error = xstrdup(why);
	log_warnx("copy of %.12s to %s failed: %s", t->hash, tt->node, why);
}

struct transfer *
transfer_new(struct master *m, const char *hash, unsigned long long size,
    const char *const *nodes, int nnodes,
    void (*done)(struct transfer *, void *), void *arg)
{
	struct transfer *t = xcalloc(1, sizeof *t);

	snprintf(t->id, sizeof t->id, "t%u", ++m->next_upload_id);
	if (++m->next_request_id == 0)
		m->next_request_id = 1;
	t->request_id = m->next_request_id;
	t->m = m;
	snprintf(t->hash, sizeof t->hash, "%s", hash);
	t->size = size;
	t->fd = -1;
	t->done = done;
	t->arg = arg;
	t->buf = xmalloc(PROTO_CHUNK_SIZE);
	t->targets = xcalloc(nnodes > 0 ? (size_t)nnodes : 1,
	    sizeof *t->targets);
	for (int i = 0; i < nnodes; i++) {
		struct transfer_target *tt = &t->targets[t->ntargets++];

		tt->node = xstrdup(nodes[i]);
		tt->state = TRANSFER_BEGUN;
		if (!master_send_to_ready(m, tt->node, msg_new(MSG_FILE_BEGIN,
		    t->request_id, json_pack("{s:s, s:s, s:I}", "transfer",
		    t->id, "hash", hash, "size", (json_int_t)size))))
			transfer_fail_target(t, tt, "the node became unreachable");
	}
	t->next = m->transfers;
	m->transfers = t;
	return t;
}

/* Whether some target is still being sent to or finishing. */
static bool
transfer_busy(const struct transfer *t)
{
	for (int i = 0; i < t->ntargets; i++)
		if (t->targets[i].state == TRANSFER_BEGUN ||
		    t->targets[i].state == TRANSFER_ENDING)
			return true;
	return false;
}

static bool
transfer_sending(const struct transfer *t)
{
	for (int i = 0; i < t->ntargets; i++)
		if (t->targets[i].state == TRANSFER_BEGUN)
			return true;
	return false;
}

/* The master's copy failed: it is dropped, the nodes' copies go on. */
static void
transfer_keep_failed(struct transfer *t, char *cause)
{
	log_warnx("the master keeps no copy of %.12s: %s", t->hash, cause);
	free(t->keep_error);
	t->keep_error = cause;
	filestore_abort(t->keep);
	t->keep = NULL;
}

/*
 * Send the filled chunk to every target still taking it, and append it to
 * the master's copy. False when one of the targets has no credit: the
 * source must wait.
 */
static bool
transfer_flush(struct transfer *t)
{
	char *cause = NULL;
	struct msg *msg;

	if (t->buflen == 0)
		return true;
	for (int i = 0; i < t->ntargets; i++)
		if (t->targets[i].state == TRANSFER_BEGUN &&
		    t->targets[i].credit == 0)
			return false;
	for (int i = 0; i < t->ntargets; i++) {
		struct transfer_target *tt = &t->targets[i];

		if (tt->state != TRANSFER_BEGUN)
			continue;
		msg = msg_new(MSG_FILE_CHUNK, t->request_id, json_pack("{s:s}",
		    "transfer", t->id));
		msg_set_data(msg, t->buf, t->buflen);
		if (!master_send_to_ready(t->m, tt->node, msg))
			transfer_fail_target(t, tt, "the node became unreachable");
		else
			tt->credit--;
	}
	if (t->keep != NULL &&
	    filestore_write(t->keep, t->buf, t->buflen, &cause) == -1)
		transfer_keep_failed(t, cause);
	t->buflen = 0;
	return true;
}

/* Everything is settled: done, once. */
static void
transfer_maybe_done(struct transfer *t)
{
	if (t->finished || !t->input_done || transfer_busy(t))
		return;
	t->finished = true;
	if (t->done != NULL)
		t->done(t, t->arg); /* may free t */
}

/*
 * After the last byte: flush, make the master's copy durable, then END to
 * each target. May call done.
 *
 * The master's fsync comes before the ENDs, not while the nodes fsync
 * theirs: where they share a disk (a test, a small cluster), a journal
 * commit can tie one fsync to the others' data, and the loop would wait
 * for all of it. Its data went out as it came (filestore_write), so this
 * fsync is short.
 */
static void
transfer_finish(struct transfer *t)
{
	char *cause = NULL;

	if (!transfer_flush(t))
		return; /* resumed by the next credit */
	if (t->keep != NULL && t->error == NULL) {
		struct filestore_writer *w = t->keep;

		t->keep = NULL;
		if (filestore_commit(w, &cause) == -1)
			transfer_keep_failed(t, cause);
		else {
			t->kept = true;
			log_debug("the master keeps a copy of %.12s", t->hash);
		}
	}
	for (int i = 0; i < t->ntargets; i++) {
		struct transfer_target *tt = &t->targets[i];

		if (tt->state != TRANSFER_BEGUN)
			continue;
		if (master_send_to_ready(t->m, tt->node, msg_new(MSG_FILE_END,
		    t->request_id, json_pack("{s:s}", "transfer", t->id))))
			tt->state = TRANSFER_ENDING;
		else
			transfer_fail_target(t, tt, "the node became unreachable");
	}
	transfer_maybe_done(t);
}

size_t
transfer_feed(struct transfer *t, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t took = 0;

	if (t->error != NULL)
		return len;
	if (len > t->size - t->taken) {
		t->error = xasprintf("more than the announced %llu bytes",
		    t->size);
		filestore_abort(t->keep);
		t->keep = NULL;
		return len;
	}
	while (took < len) {
		size_t n;

		if (t->buflen == PROTO_CHUNK_SIZE && !transfer_flush(t))
			break;
		n = PROTO_CHUNK_SIZE - t->buflen;
		if (n > len - took)
			n = len - took;
		memcpy(t->buf + t->buflen, p + took, n);
		t->buflen += n;
		t->taken += n;
		took += n;
	}
	return took;
}

void
transfer_end_input(struct transfer *t)
{
	t->input_done = true;
	transfer_finish(t);
}

/* The master's copy cannot be read: every target fails. */
static void
transfer_source_failed(struct transfer *t, const char *why)
{
	free(t->error);
	t->error = xstrdup(why);
	for (int i = 0; i < t->ntargets; i++) {
		struct transfer_target *tt = &t->targets[i];

		if (tt->state == TRANSFER_BEGUN)
			master_send_to_ready(t->m, tt->node, msg_new(MSG_FILE_ABORT,
			    t->request_id, json_pack("{s:s}", "transfer",
			    t->id)));
		transfer_fail_target(t, tt, why);
	}
	t->buflen = 0;
	t->input_done = true;
}

/* File source: read and send as many chunks as every target has credit for. */
static void
transfer_pump(struct transfer *t)
{
	while (!t->input_done) {
		size_t n;
		ssize_t r;

		if (!transfer_flush(t))
			return; /* resumed by the next credit */
		if (t->taken == t->size || !transfer_sending(t)) {
			t->input_done = true;
			break;
		}
		n = t->size - t->taken < PROTO_CHUNK_SIZE ?
		    (size_t)(t->size - t->taken) : PROTO_CHUNK_SIZE;
		r = pread(t->fd, t->buf, n, (off_t)t->taken);
		if (r <= 0) {
			char *why = xasprintf("reading the master's copy of "
			    "%.12s: %s", t->hash, r == 0 ? "it is shorter than "
			    "its manifest says" : strerror(errno));

			transfer_source_failed(t, why);
			free(why);
			break;
		}
		t->buflen = (size_t)r;
		t->taken += (unsigned long long)r;
	}
	transfer_finish(t);
}

void
transfer_send_fd(struct transfer *t, int fd)
{
	t->fd = fd;
}

/* Something changed (credit, a target's end): move the transfer on. */
static void
transfer_continue(struct transfer *t)
{
	if (t->finished)
		return;
	if (t->fd != -1 && !t->input_done)
		transfer_pump(t);
	else if (t->input_done)
		transfer_finish(t);
	else if (t->req != NULL && t->req->paused)
		api_unpause(t->req);
}

void
transfer_free(struct transfer *t)
{
	struct master *m;

	if (t == NULL)
		return;
	m = t->m;
	for (struct transfer **p = &m->transfers; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	/* A source that went away mid-file: the nodes drop what they have. */
	for (int i = 0; i < t->ntargets; i++) {
		if (t->targets[i].state == TRANSFER_BEGUN)
			master_send_to_ready(m, t->targets[i].node, msg_new(
			    MSG_FILE_ABORT, t->request_id, json_pack("{s:s}",
			    "transfer", t->id)));
		free(t->targets[i].node);
		free(t->targets[i].error);
	}
	filestore_abort(t->keep);
	if (t->fd != -1)
		close(t->fd);
	free(t->targets);
	free(t->buf);
	free(t->keep_error);
	free(t->error);
	free(t);
}

static struct transfer *
transfer_find(struct master *m, const char *id)
{
	for (struct transfer *t = m->transfers; t != NULL; t = t->next)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static struct transfer_target *
transfer_target_of(struct transfer *t, const char *node)
{
	for (int i = 0; i < t->ntargets; i++)
		if (strcmp(t->targets[i].node, node) == 0)
			return &t->targets[i];
	return NULL;
}

/* Find the transfer and target a worker's message is about. */
static struct transfer_target *
transfer_lookup(struct master *m, struct node *n, struct msg *msg,
    struct transfer **tp)
{
	const char *id = json_string_value(json_object_get(msg->body,
	    "transfer"));
	struct transfer *t;

	if (id == NULL || (t = transfer_find(m, id)) == NULL)
		return NULL;
	*tp = t;
	return transfer_target_of(t, n->name);
}

void
transfer_credit(struct master *m, struct node *n, struct msg *msg)
{
	struct transfer_target *tt;
	struct transfer *t;
	long long credit;
	char *cause = NULL;

	if (msg_get_int(msg, "credit", true, 1, 64, &credit, &cause) == -1) {
		log_warnx("node %s: bad FILE_CREDIT: %s", n->name, cause);
		free(cause);
		return;
	}
	if ((tt = transfer_lookup(m, n, msg, &t)) == NULL ||
	    tt->state != TRANSFER_BEGUN)
		return;
	tt->credit += (int)credit;
	transfer_continue(t);
}

void
transfer_done(struct master *m, struct node *n, struct msg *msg)
{
	struct transfer_target *tt;
	struct transfer *t;

	if ((tt = transfer_lookup(m, n, msg, &t)) == NULL)
		return;
	if (tt->state == TRANSFER_ENDING)
		tt->state = TRANSFER_DONE;
	transfer_maybe_done(t);
}

int
transfer_error(struct master *m, struct node *n, struct msg *msg)
{
	const char *text = json_string_value(json_object_get(msg->body, "error"));

	for (struct transfer *t = m->transfers; t != NULL; t = t->next) {
		struct transfer_target *tt;

		if (t->request_id != msg->id ||
		    (tt = transfer_target_of(t, n->name)) == NULL)
			continue;
		transfer_fail_target(t, tt, text != NULL ? text : "failed");
		/* The others may go on: the source was perhaps waiting on it. */
		transfer_continue(t);
		return 1;
	}
	return 0;
}

void
transfer_node_lost(struct master *m, const char *node)
{
	struct transfer *t, *next;

	/*
	 * done may free the transfer it is called for (and start others,
	 * which go first in the list): the next one is taken beforehand.
	 */
	for (t = m->transfers; t != NULL; t = next) {
		struct transfer_target *tt = transfer_target_of(t, node);

		next = t->next;
		if (tt == NULL || tt->state == TRANSFER_DONE ||
		    tt->state == TRANSFER_FAILED)
			continue;
		transfer_fail_target(t, tt, "the node became unavailable");
		transfer_continue(t);
	}
}

void
transfer_shutdown(struct master *m)
{
	for (struct transfer *t = m->transfers; t != NULL; t = t->next) {
		if (t->req == NULL)
			continue;
		if (t->input_done && !t->finished) {
			t->finished = true;
			api_complete(t->req, 503, json_pack("{s:s}", "error",
			    "the master is shutting down"));
		} else if (t->req->paused)
			api_unpause(t->req);
	}
}

void
transfer_free_all(struct master *m)
{
	struct transfer *t, *next;

	for (t = m->transfers; t != NULL; t = next) {
		next = t->next;
		if (t->req == NULL)
			transfer_free(t);
	}
}
