/*
 * The master's record of every app launched through it: what was asked and
 * what the workers last reported (the app object the REST API shows).
 */
#ifndef DROVER_MASTER_APP_H
#define DROVER_MASTER_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dead apps are listed by default for this long after they ended. */
#define APP_RECENT_MS (3600 * 1000LL)
/* Records kept at most; the oldest dead ones go first past it. */
#define APP_RECORDS_MAX 100000

struct app_record {
	char *id;
	char *node;
	json_t *obj; /* the worker's report plus the master's keys (app.c) */
};

struct app_registry;

struct app_registry *app_registry_new(void);
void app_registry_free(struct app_registry *);

/*
 * A new cluster-unique id for an app called name ("web-3"): the name made
 * safe for file names, then a counter per name.
 */
char *app_new_id(struct app_registry *, const char *name);

/* Record the app object a worker reported for a new app (takes obj). */
struct app_record *app_add(struct app_registry *, const char *node, json_t *obj);
/* Forget the record of id, if any: a launch the worker refused. */
void app_remove(struct app_registry *, const char *id);
struct app_record *app_lookup(struct app_registry *, const char *id);
/*
 * An id in use somewhere (NAME-N): app_new_id gives NAME a number above N
 * from now on.
 */
void app_reserve_id(struct app_registry *, const char *id);
/* A record from the state database: added, and its id's counter moved past. */
struct app_record *app_restore(struct app_registry *, const char *node,
    json_t *obj);
/*
 * An app a worker runs that this master has no record of (launched before
 * the state was lost, or by another master): listed with state "orphan",
 * never killed on its own.
 */
struct app_record *app_add_orphan(struct app_registry *, const char *node,
    json_t *obj);
/* The records of node's apps, alive ones only, for reconciling (caller frees). */
struct app_record **app_alive_on(struct app_registry *, const char *node,
    size_t *count);
/* Merge a worker's report into the record (takes obj). */
void app_update(struct app_record *, json_t *obj);
bool app_record_alive(const struct app_record *);

/*
 * Mark every live app on node dead with cause why (the master lost the
 * node), calling changed for each.
 */
size_t app_mark_lost(struct app_registry *, const char *node, int64_t now,
    const char *why, void (*changed)(struct app_record *, void *), void *arg);
/* The record at index i in launch order, or NULL past the end. */
struct app_record *app_at(struct app_registry *, size_t i);
/* How many of node's apps are alive. */
int app_count_alive(struct app_registry *, const char *node);

/*
 * The apps to list: on node (NULL: all), alive or, unless all, dead for less
 * than APP_RECENT_MS. A new JSON array.
 */
json_t *app_list(struct app_registry *, const char *node, bool all,
    int64_t now);

#endif
