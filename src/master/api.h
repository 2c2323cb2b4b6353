/*
 * The REST API: libmicrohttpd driven from the master's loop (no thread of
 * its own), bearer-token authentication, a route table, JSON in and out, and
 * replies that wait for a worker (suspended connections).
 */
#ifndef DROVER_API_H
#define DROVER_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct master;
struct MHD_Connection;
struct MHD_Response;

/* Request bodies larger than this are refused with 413. */
#define API_BODY_MAX (1024 * 1024)
/* A handler returns this instead of a status when it called api_suspend. */
#define API_PENDING 0
#define API_PARAMS_MAX 4

struct api_request {
	struct master *master;
	struct MHD_Connection *conn;
	char method[8];
	char *path;
	char *params[API_PARAMS_MAX]; /* the :segments of the matched route */
	char *body;
	size_t body_len;
	bool body_too_large;
	bool routed;	/* the handler ran (or a 503 as the master stops) */
	const char *endpoint; /* the route's pattern, for metrics */
	int64_t started_us;
	bool suspended;
	bool done;	/* a suspended request got its answer */
	int status;
	json_t *reply;
	/* A handler may answer with its own response (a stream) instead of JSON. */
	struct MHD_Response *response;
	/*
	 * Streamed bodies (file uploads): the route's upload callback sees the
	 * body piece by piece instead of it being collected; ctx is its state,
	 * freed with ctx_free when the request ends.
	 */
	const struct api_route *route;
	bool rejected; /* unauthorised: the body is read and dropped */
	bool paused;   /* the upload callback waits for room downstream */
	void *ctx;
	void (*ctx_free)(void *);
};

struct api_route {
	const char *method;
	const char *pattern;
	int (*handler)(struct api_request *, json_t **);
	/* For streamed bodies: returns the bytes it took (0: pause), or -1. */
	long (*upload)(struct api_request *, const char *data, size_t len);
};

/*
 * Start serving on addr ("HOST:PORT"). Returns NULL with *cause on failure
 * (port in use, bad address).
 */
struct api *api_start(struct master *m, const char *addr, char **cause);
void api_stop(struct api *);
/* The descriptor the loop polls, and how long it may sleep (ms, -1: forever). */
int api_fd(struct api *);
long api_timeout_ms(struct api *);
/* Do all the work that is ready; never blocks. */
void api_run(struct api *);
/*
 * The master stops: release every held answer and serve until each
 * routed request has its answer out, for at most timeout_ms. Requests
 * that arrive meanwhile are answered 503.
 */
void api_drain(struct api *, int timeout_ms);

/* Handler helpers. Each returns the status so handlers can `return api_error(...)`. */
int api_error(json_t **reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A query-string argument, or NULL. */
const char *api_query(struct api_request *, const char *key);
/*
 * Parse the body as a JSON object with only the listed fields. Returns 0, or
 * -1 with *reply set to a 400 error naming the problem.
 */
int api_body_object(struct api_request *, const char *const *fields,
    json_t **body, json_t **reply);

/* Stop reading a streamed body until api_unpause (no room downstream). */
void api_pause(struct api_request *);
void api_unpause(struct api_request *);

/* Park the request until api_complete() (a worker must answer first). */
void api_suspend(struct api_request *);
/* Answer a parked request; takes reply. It goes out at api_release. */
void api_complete(struct api_request *, int status, json_t *reply);
/*
 * The same, answered at once rather than after the turn's commit: for a
 * reply whose changes the database holds already (db_txn_committed).
 */
void api_complete_now(struct api_request *, int status, json_t *reply);
/* After the turn's commit: let every answered request go out. */
void api_release(struct api *);
/*
 * Instead of api_release when the commit failed: every held answer goes
 * out as status with the error why, since what it acknowledged is not on
 * disk.
 */
void api_refuse_held(struct api *, int status, const char *why);
size_t api_pending_releases(struct api *);

/* Route handlers (api-*.c). */
int api_nodes_list(struct api_request *, json_t **reply);
int api_nodes_get(struct api_request *, json_t **reply);
int api_nodes_usage(struct api_request *, json_t **reply);
int api_apps_create(struct api_request *, json_t **reply);
int api_apps_list(struct api_request *, json_t **reply);
int api_apps_get(struct api_request *, json_t **reply);
int api_apps_stop(struct api_request *, json_t **reply);
int api_apps_signal(struct api_request *, json_t **reply);
int api_apps_logs(struct api_request *, json_t **reply);
int api_apps_usage(struct api_request *, json_t **reply);
int api_artifacts_list(struct api_request *, json_t **reply);
int api_artifacts_create(struct api_request *, json_t **reply);
int api_artifacts_delete(struct api_request *, json_t **reply);
int api_uploads_put(struct api_request *, json_t **reply);
long api_uploads_data(struct api_request *, const char *data, size_t len);
int api_uploads_commit(struct api_request *, json_t **reply);
/* Upload sessions (api-artifacts.c): forget those idle too long. */
void api_uploads_expire(struct master *, int64_t now);
void api_uploads_free_all(struct master *);
/*
 * Remove the master's copies of files that no recorded manifest and no
 * upload session uses any more (after a delete or a commit, at start).
 */
void api_artifacts_gc(struct master *);
int api_events_list(struct api_request *, json_t **reply);

#endif
