/*
 * The master: one single-threaded loop over the workers' ROUTER socket, the
 * REST API's epoll descriptor, a signalfd and a periodic tick. Everything the
 * loop owns hangs off struct master, which is passed to every handler, so
 * nothing needs a lock and no module keeps hidden global state.
 */
#ifndef DROVER_MASTER_H
#define DROVER_MASTER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/keys.h"
#include "master/history.h"

struct api;
struct node_table;
struct msg;
struct pending;
struct app_registry;
struct logpipe;
struct artifact_registry;
struct upload;
struct transfer;
struct artcopy;
struct filestore;
struct db;
struct metrics;

struct master {
	void *zctx;
	void *router;  /* workers connect here (CURVE server) */
	void *zap;     /* ZAP handler: tells libzmq which client keys may connect */
	void *monitor; /* handshake failures of the router, to log them */
	int sigfd;
	struct api *api;
	struct node_table *nodes;
	struct db *db; /* durable state: nodes, apps, artifacts, events */
	struct app_registry *apps;
	struct pending *pending;   /* worker requests REST calls wait on */
	void *pending_by_id;	   /* the same by request id (zhashx_t) */
	struct logpipe *logpipes;  /* logs streaming from workers to clients */
	uint32_t next_stream_id;
	struct artifact_registry *artifacts;
	struct upload *uploads;	    /* copies announced, not yet committed */
	struct transfer *transfers; /* files streaming to workers */
	struct artcopy *artcopies;  /* artifacts the master copies by itself */
	struct filestore *files;    /* its own copy of artifact files */
	uint32_t next_upload_id;

	char *state_dir;
	char *bind;	/* HOST:PORT for workers */
	char *api_addr; /* HOST:PORT for the REST API */
	int heartbeat_ms;
	char *join_secret;
	char *join_token;
	char *admin_token;
	char *admin_token_id; /* how events name the caller: "admin-1f2e3d4c" */
	char *metrics_token; /* may read /metrics only; NULL: the admin token */
	struct metrics *metrics;
	struct history_round history; /* the resource history's retention */
	struct keys keys;

	uint32_t next_request_id;
	int64_t started_at; /* wall clock ms */
	bool unsafe_no_fsync; /* benchmarks: commits do not wait for the disk */
	bool stopping;
};

/* Entry point of `drover master`. Returns the process exit status. */
int master_main(int argc, char **argv);

/* Persist an app's record (after it changed), and an event about it. */
struct app_record;
void master_app_changed(struct master *m, struct app_record *a);
/* Forget app id: its record and its row (a launch that never happened). */
void master_app_forget(struct master *m, const char *id);
/* Record an event (takes detail). */
void master_event(struct master *m, const char *kind, const char *node,
    const char *app, json_t *detail);

/* A node went away: its apps are lost, requests to it fail, streams end. */
struct node;
void master_node_lost(struct master *m, struct node *n);

/* Send a message to a worker; logs and returns -1 when it cannot go out. */
int master_send(struct master *m, struct msg *msg);
/* Address msg to node n's connection and send it (the caller frees it). */
struct node;
int master_send_to(struct master *m, struct node *n, struct msg *msg);
/*
 * Send msg (freed here) to the node of that name if it is ready and
 * connected; false when it could not go out.
 */
bool master_send_to_ready(struct master *m, const char *node,
    struct msg *msg);

#endif
