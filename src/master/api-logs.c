/*
 * GET /v1/apps/ID/logs[?tail=N][&follow=1]: the app's log streamed from its
 * worker to the HTTP client as it arrives. The worker sends chunks only
 * while it has credit; the master grants one more each time the client has
 * taken a chunk, so a slow client slows the worker instead of filling the
 * master's memory. While no chunk is waiting the connection is suspended.
 * A stream that cannot reach the log's end ends with an error, not the end
 * of a chunked response, after a line saying why.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/xmem.h"
#include "master/api.h"
#include "master/app.h"
#include "master/logpipe.h"
#include "master/master.h"
#include "master/node.h"

struct logpipe_chunk {
	struct logpipe_chunk *next;
	size_t len;
	size_t off;
	char data[];
};

struct logpipe {
	char id[24];
	uint32_t request_id; /* of the LOGS message, which an ERROR would carry */
	char *node;
	struct master *master;
	struct MHD_Connection *conn;
	struct logpipe_chunk *head, *tail;
	bool eof;
	/*
	 * The stream ends before the log does (the worker could not send it,
	 * the node or the master went away): the response ends with an error
	 * after the last line that says why, so a client never takes the
	 * part it got for the whole log.
	 */
	bool cut;
	bool suspended;
	struct logpipe *next;
};

static void
logpipe_send(struct logpipe *lp, int type, json_t *body)
{
	struct node *n = node_find(lp->master->nodes, lp->node);
	struct msg *m = msg_new(type, 0, body);

	if (n != NULL && n->connected)
		master_send_to(lp->master, n, m);
	msg_free(m);
}

static void
logpipe_append(struct logpipe *lp, const void *data, size_t len)
{
	struct logpipe_chunk *c = xmalloc(sizeof *c + len);

	c->next = NULL;
	c->len = len;
	c->off = 0;
	memcpy(c->data, data, len);
	if (lp->tail != NULL)
		lp->tail->next = c;
	else
		lp->head = c;
	lp->tail = c;
}

static void
logpipe_wake(struct logpipe *lp)
{
	if (lp->suspended) {
		lp->suspended = false;
		MHD_resume_connection(lp->conn);
	}
}

static ssize_t
logpipe_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct logpipe *lp = cls;
	struct logpipe_chunk *c = lp->head;
	size_t n;

	(void)pos;
	if (c == NULL) {
		if (lp->eof)
			return lp->cut ? MHD_CONTENT_READER_END_WITH_ERROR :
			    MHD_CONTENT_READER_END_OF_STREAM;
		lp->suspended = true;
		MHD_suspend_connection(lp->conn);
		return 0;
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->data + c->off, n);
	c->off += n;
	if (c->off == c->len) {
		lp->head = c->next;
		if (lp->head == NULL)
			lp->tail = NULL;
		free(c);
		if (!lp->eof)
			logpipe_send(lp, MSG_LOG_CREDIT, jsonx_pack("{s:s, s:i}",
			    "stream", lp->id, "credit", 1));
	}
	return (ssize_t)n;
}

/* MHD is done with the response: the client finished or went away. */
static void
logpipe_on_free(void *cls)
{
	struct logpipe *lp = cls;
	struct logpipe_chunk *c, *next;

	if (!lp->eof)
		logpipe_send(lp, MSG_LOG_CANCEL, jsonx_pack("{s:s}", "stream",
		    lp->id));
	for (struct logpipe **p = &lp->master->logpipes; *p != NULL;
	     p = &(*p)->next) {
		if (*p == lp) {
			*p = lp->next;
			break;
		}
	}
	for (c = lp->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(lp->node);
	free(lp);
}

int
api_apps_logs(struct api_request *req, json_t **reply)
{
	struct master *m = req->master;
	struct app_record *a = app_lookup(m->apps, req->params[0]);
	const char *tail_s = api_query(req, "tail"), *follow_s =
	    api_query(req, "follow");
	bool follow = follow_s != NULL && (strcmp(follow_s, "1") == 0 ||
	    strcmp(follow_s, "true") == 0);
	long long tail = -1;
	struct logpipe *lp;
	struct node *n;
	struct msg *msg;
	char *end;

	if (a == NULL)
		return api_error(reply, 404, "no such app: %s", req->params[0]);
	if (tail_s != NULL) {
		tail = strtoll(tail_s, &end, 10);
		if (*tail_s == '\0' || *end != '\0' || tail < 0 ||
		    tail > 100000000)
			return api_error(reply, 400, "'tail' must be a number of "
			    "lines from 0 to 100000000");
	}
	n = node_find(m->nodes, a->node);
	if (n == NULL || n->state != NODE_READY || !n->connected)
		return api_error(reply, 409, "node %s, which holds the log of "
		    "%s, is unavailable", a->node, a->id);

	lp = xcalloc(1, sizeof *lp);
	snprintf(lp->id, sizeof lp->id, "s%u", ++m->next_stream_id);
	lp->node = xstrdup(a->node);
	lp->master = m;
	lp->conn = req->conn;
	if (++m->next_request_id == 0)
		m->next_request_id = 1;
	lp->request_id = m->next_request_id;
	lp->next = m->logpipes;
	m->logpipes = lp;

	msg = msg_new(MSG_LOGS, lp->request_id, jsonx_pack("{s:s, s:s, s:I, s:b}",
	    "app", a->id, "stream", lp->id, "tail", (json_int_t)tail,
	    "follow", follow));
	master_send_to(m, n, msg);
	msg_free(msg);

	req->response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    64 * 1024, logpipe_read, lp, logpipe_on_free);
	MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	return 200;
}

void
logpipe_data(struct master *m, struct node *n, struct msg *msg)
{
	const char *stream;
	bool eof = false;
	char *cause = NULL;

	if (msg_get_str(msg, "stream", true, &stream, &cause) == -1 ||
	    jsonx_get_bool(msg->body, "eof", false, &eof, &cause) == -1) {
		log_warnx("node %s: bad LOG_DATA: %s", n->name, cause);
		free(cause);
		return;
	}
	for (struct logpipe *lp = m->logpipes; lp != NULL; lp = lp->next) {
		if (strcmp(lp->id, stream) != 0 || strcmp(lp->node, n->name) != 0)
			continue;
		if (msg->len > 0)
			logpipe_append(lp, msg->data, msg->len);
		if (eof)
			lp->eof = true;
		logpipe_wake(lp);
		return;
	}
	/* The reader left; tell the worker to stop sending. */
	msg = msg_reply(msg, MSG_LOG_CANCEL, jsonx_pack("{s:s}", "stream", stream));
	master_send(m, msg);
	msg_free(msg);
}

/* Cut lp short: a last line saying why, then the error (see cut). */
static void
logpipe_cut(struct logpipe *lp, const char *line)
{
	logpipe_append(lp, line, strlen(line));
	lp->eof = true;
	lp->cut = true;
	logpipe_wake(lp);
}

/* Cut every stream matching (node NULL: all) short. */
static void
logpipe_end(struct master *m, const char *node, const char *why)
{
	char line[256];

	snprintf(line, sizeof line, "\ndrover: %s\n", why);
	for (struct logpipe *lp = m->logpipes; lp != NULL; lp = lp->next) {
		if (lp->eof || (node != NULL && strcmp(lp->node, node) != 0))
			continue;
		logpipe_cut(lp, line);
	}
}

int
logpipe_error(struct master *m, struct msg *msg)
{
	const char *text = json_string_value(json_object_get(msg->body, "error"));

	for (struct logpipe *lp = m->logpipes; lp != NULL; lp = lp->next) {
		if (lp->request_id != msg->id || lp->eof)
			continue;
		char line[512];

		snprintf(line, sizeof line, "drover: %s\n", text != NULL ? text :
		    "the node could not send the log");
		logpipe_cut(lp, line);
		return 1;
	}
	return 0;
}

void
logpipe_node_lost(struct master *m, const char *node)
{
	logpipe_end(m, node, "the node became unavailable");
}

void
logpipe_end_all(struct master *m)
{
	logpipe_end(m, NULL, "the master is shutting down");
}
