/*
 * The master's durable state: SQLite in WAL mode in the state dir. All SQL
 * lives in db.c, so another store could take its place behind these calls.
 *
 * Writes are grouped: the first write of a loop turn opens a transaction,
 * and the loop commits it once at the end of the turn, before any reply
 * that acknowledges those writes is released (see api_complete). A crash
 * loses nothing that a client was told had happened.
 */
#ifndef DROVER_DB_H
#define DROVER_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DB_SCHEMA_VERSION 1

struct db;

/*
 * Open (or create) the database at path. A file that is not a drover
 * database, is corrupt, or comes from a newer drover is refused with
 * *cause naming the file: the master never starts afresh over a cluster
 * it would forget.
 */
struct db *db_open(const char *path, char **cause);
void db_close(struct db *);

/* Commit the turn's writes. Returns 0, or -1 (logged) when it failed. */
int db_commit(struct db *);
/* Whether the turn has writes not yet committed. */
bool db_dirty(struct db *);

/* Nodes: the registration record (name, key, address, arch, cpus, memory). */
void db_put_node(struct db *, const char *name, json_t *record);
/* Apps: the app object as the REST API shows it. */
void db_put_app(struct db *, const char *id, const char *node, json_t *obj);
/* Artifacts per node: the manifest, or removal. */
void db_put_artifact(struct db *, const char *node, const char *name,
    json_t *manifest);
void db_delete_artifact(struct db *, const char *node, const char *name);
void db_put_node_artifacts(struct db *, const char *node, json_t *manifests);

/*
 * Record an event: kind ("api", "node", "app"), the node and app it is
 * about (either may be NULL), and details. Returns its id.
 */
int64_t db_add_event(struct db *, const char *kind, const char *node,
    const char *app, json_t *detail);
/* Events after id since_id, newest last, at most limit, filtered. */
json_t *db_events(struct db *, int64_t since_id, int64_t since_ms,
    const char *node, const char *app, int limit);

/* Loading at start: each callback gets one stored row (borrowed JSON). */
int db_load_nodes(struct db *, void (*fn)(const char *name, json_t *, void *),
    void *arg);
int db_load_apps(struct db *, void (*fn)(const char *id, const char *node,
    json_t *, void *), void *arg);
int db_load_artifacts(struct db *, void (*fn)(const char *node,
    const char *name, json_t *, void *), void *arg);

#endif
