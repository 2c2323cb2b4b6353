#include "master/pending.h"

#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/master.h"

struct pending *
pending_new(struct master *m, const char *node, int timeout_ms,
    void (*done)(struct master *, struct pending *, struct msg *, const char *),
    struct api_request *req, const char *app)
{
	struct pending *p = xcalloc(1, sizeof *p);

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
	m->pending = p;
	return p;
}

void
pending_free(struct master *m, struct pending *p)
{
	for (struct pending **q = &m->pending; *q != NULL; q = &(*q)->next) {
		if (*q == p) {
			*q = p->next;
			break;
		}
	}
	free(p->node);
	free(p->app);
	json_decref(p->extra);
	free(p);
}

int
pending_reply(struct master *m, struct msg *reply)
{
	for (struct pending *p = m->pending; p != NULL; p = p->next) {
		if (p->id != reply->id)
			continue;
		p->done(m, p, reply, NULL);
		pending_free(m, p);
		return 1;
	}
	return 0;
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
