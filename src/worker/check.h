/*
 * Health checks of an app, run by the worker from its single-threaded loop
 * and never blocking it: a tcp check is a non-blocking connect to
 * 127.0.0.1:PORT, an http check the same plus "GET PATH HTTP/1.0" and its
 * status line (200-399 is healthy), an exec check `/bin/sh -c CMD` spawned
 * like an app (output to /dev/null, the app's environment and cwd) whose
 * exit status 0 is healthy. Each probe has a timeout; an exec probe still
 * running then is killed with its process group and reaped by the worker's
 * SIGCHLD handling, which hands pids that are no app's to check_reaped.
 *
 * Health is "starting" from each (re)start of the app until the first
 * result, "healthy" after a success, "unhealthy" after `failures`
 * consecutive failures. What to do about it is the app's business (app.c).
 */
#ifndef DROVER_CHECK_H
#define DROVER_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum check_kind {
	CHECK_HTTP,
	CHECK_TCP,
	CHECK_EXEC,
};

enum check_health {
	CHECK_STARTING,	 /* no result since the app (re)started */
	CHECK_HEALTHY,	 /* the last probe passed */
	CHECK_UNHEALTHY, /* `failures` probes in a row failed */
};

#define CHECK_INTERVAL_DEFAULT 10000
#define CHECK_TIMEOUT_DEFAULT 2000
#define CHECK_FAILURES_DEFAULT 3

/* What the user asked for, from MSG_LAUNCH's "check" object. */
struct check_spec {
	enum check_kind kind;
	int port;	  /* http, tcp: on 127.0.0.1 */
	char *path;	  /* http: the request path, "/" by default */
	char *cmd;	  /* exec: run with /bin/sh -c */
	int interval_ms;  /* between probe starts; the first one after start */
	int timeout_ms;	  /* a probe still running then failed */
	int failures;	  /* consecutive failures that make it unhealthy */
};

/*
 * Reads a "check" object into spec (its strings allocated; release them
 * with check_spec_clear). Returns 0, or -1 with *cause (caller frees) naming
 * what is wrong: unknown kind or field, missing or out-of-range port, a path
 * that is not "/..." or holds spaces or control characters, no cmd.
 */
int check_spec_parse(json_t *obj, struct check_spec *spec, char **cause);
void check_spec_clear(struct check_spec *spec);

/*
 * The status code of an HTTP status line at the start of buf
 * ("HTTP/1.0 404 Not Found\r\n"): 100-999, 0 when more bytes are needed to
 * tell, -1 when it is no status line.
 */
int check_http_status(const char *buf, size_t len);

struct check;

/*
 * A check following spec (copied). envp and cwd are borrowed for exec
 * probes and must outlive the check (the app owns them). Nothing runs until
 * check_start.
 */
struct check *check_create(const struct check_spec *spec, char *const *envp,
    const char *cwd);
/* Abort any probe (an exec probe is killed, reaped later) and free; NULL ok. */
void check_free(struct check *);

/* The app (re)started at now: "starting", the first probe at now+interval. */
void check_start(struct check *, int64_t now);
/* The app is stopping or ended: abort any probe and schedule none. */
void check_stop(struct check *);

/*
 * Periodic work: start a probe that is due, fail one past its timeout.
 * Returns true when the health changed.
 */
bool check_tick(struct check *, int64_t now);

/* The socket to poll for a probe under way, or -1; *want_write set. */
int check_fd(const struct check *, bool *want_write);
/* That socket is ready (or in error). Returns true when the health changed. */
bool check_io(struct check *);

/*
 * A child was reaped: returns true when pid was this check's exec probe
 * (then *changed says whether the health changed), false otherwise.
 */
bool check_reaped(struct check *, pid_t pid, int status, bool *changed);

enum check_health check_health(const struct check *);
/* "starting", "healthy", "unhealthy". */
const char *check_health_name(enum check_health);
/* Why the last probe failed ("connect: Connection refused"), or "". */
const char *check_last_error(const struct check *);

#endif
