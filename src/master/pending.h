/*
 * Requests sent to a worker that a REST call is waiting on. Each has a
 * deadline; a reply, the deadline or the loss of the node completes it
 * exactly once, so no REST call ever hangs on a worker.
 */
#ifndef DROVER_PENDING_H
#define DROVER_PENDING_H

#include <jansson.h>
#include <stdint.h>

struct master;
struct msg;
struct api_request;
struct launch_batch;

struct pending {
	uint32_t id; /* the request id the reply will carry */
	char *node;
	int64_t deadline; /* monotonic ms */
	/* reply is NULL on timeout or when the node was lost (why says which). */
	void (*done)(struct master *, struct pending *, struct msg *reply,
	    const char *why);
	struct api_request *req;
	char *app; /* context for done: the app concerned */
	json_t *extra; /* context for done, freed with the request */
	/*
	 * The database transaction (db_txn) that holds what the request wrote
	 * before it was sent; 0 when it wrote nothing.
	 */
	uint64_t txn;
	/*
	 * Context for done: the launches made by the same request (one with a
	 * count, api-apps.c), which answers once all have their outcome, and
	 * this one's place among them; NULL for a launch alone.
	 */
	struct launch_batch *batch;
	size_t batch_slot;
	struct pending *next, *prev;
};

/* A new pending request with a fresh id, linked into m. */
struct pending *pending_new(struct master *m, const char *node, int timeout_ms,
    void (*done)(struct master *, struct pending *, struct msg *, const char *),
    struct api_request *req, const char *app);
/*
 * A reply arrived from node: complete its pending request, if any. True if
 * it had one. A reply carrying the id of a request sent to another node
 * completes nothing.
 */
int pending_reply(struct master *m, const char *node, struct msg *reply);
/* Fail every request past its deadline. */
void pending_expire(struct master *m, int64_t now);
/* Fail every request to node (it became unavailable). */
void pending_node_lost(struct master *m, const char *node);
/* Fail everything (shutdown). */
void pending_fail_all(struct master *m, const char *why);
/* Unlink and free p (done already ran). */
void pending_free(struct master *m, struct pending *p);
/* At the end, once none is left: the index by id. */
void pending_fini(struct master *m);

#endif
