#include "master/pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/master.h"

/* The index key of id: its decimal digits. */
static const char *
pending_key(uint32_t id, char buf[static 12])
{
	snprintf(buf, 12, "%u", (unsigned)id);
	return buf;
}

struct pending *
pending_new(struct master *m, const char *node, int timeout_ms,
    void (*done)(struct master *, struct pending *, struct msg *, const char *),
    struct api_request *req, const char *app)
{
	struct pending *p = xcalloc(1, sizeof *p);
	char key[12];

	/* Id 0 means "unsolicited" on the wire; never hand it out. */
	if (++m->next_request_id == 0)
		m->next_request_id = 1;
	p->id = m->next_request_id;
	p->node = xstrdup(node);
	p->deadline = util_now_ms() + timeout_ms;
	p->done = done;
	p->req = req;
	p->app = app != NULL ? xstrdup(app) : NULL;
	p->next = m->pending;
	if (p->next != NULL)
		p->next->prev = p;
	m->pending = p;
	/* Found by id at each reply, however many a batch has in flight. */
	if (m->pending_by_id == NULL)
		m->pending_by_id = zhashx_new();
	zhashx_update(m->pending_by_id, pending_key(p->id, key), p);
	return p;
}

void
pending_free(struct master *m, struct pending *p)
{
	char key[12];

	if (p->prev != NULL)
		p->prev->next = p->next;
	else if (m->pending == p)
		m->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	if (m->pending_by_id != NULL &&
	    zhashx_lookup(m->pending_by_id, pending_key(p->id, key)) == p)
		zhashx_delete(m->pending_by_id, key);
	free(p->node);
	free(p->app);
	json_decref(p->extra);
	free(p);
}

void
pending_fini(struct master *m)
{
	zhashx_t *by_id = m->pending_by_id;

	zhashx_destroy(&by_id);
	m->pending_by_id = NULL;
}

int
pending_reply(struct master *m, const char *node, struct msg *reply)
{
	struct pending *p;
	char key[12];

	if (m->pending_by_id == NULL || (p = zhashx_lookup(m->pending_by_id,
	    pending_key(reply->id, key))) == NULL)
		return 0;
	if (strcmp(p->node, node) != 0) {
		log_warnx("node %s answered request %u, which was sent to %s: "
		    "ignored", node, (unsigned)reply->id, p->node);
		return 0;
	}
	p->done(m, p, reply, NULL);
	pending_free(m, p);
	return 1;
}

/* Complete, with no reply, every request for which match says so. */
static void
pending_fail_matching(struct master *m, const char *node, int64_t now,
    const char *why)
{
	struct pending *p = m->pending, *next;

	for (; p != NULL; p = next) {
		next = p->next;
		if (node != NULL && strcmp(p->node, node) != 0)
			continue;
		if (now != 0 && p->deadline > now)
			continue;
		p->done(m, p, NULL, why);
		pending_free(m, p);
	}
}

void
pending_expire(struct master *m, int64_t now)
{
	pending_fail_matching(m, NULL, now, "the node did not answer in time");
}

void
pending_node_lost(struct master *m, const char *node)
{
	pending_fail_matching(m, node, 0, "the node became unavailable");
}

void
pending_fail_all(struct master *m, const char *why)
{
	pending_fail_matching(m, NULL, 0, why);
}
