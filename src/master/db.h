/*
 * The master's durable state: SQLite in WAL mode in the state dir. All SQL
 * lives in db.c, so another store could take its place behind these calls.
 *
 * Writes are grouped: the first write opens a transaction, and the loop
 * commits it at the end of a turn, before any reply that acknowledges those
 * writes is released (see api_complete). A crash loses nothing that a
 * client was told had happened. A launch's record is committed while the
 * worker starts the app (db_commit_soon), so that its answer need not wait
 * for a commit as well (db_txn_committed). Writes no one waits for (what
 * heartbeats and ends of apps report, samples, events of the nodes) wait
 * for the next reply's commit, or MASTER_COMMIT_DELAY_MS at most: a crash
 * may lose that much of them, which the workers tell a restarted master
 * again.
 *
 * A write or a commit that fails (a full disk, an I/O error) ends writing
 * for good: the transaction is rolled back, every later write is refused,
 * and db_failure says why. The master's memory then holds changes the file
 * does not, so it must answer none of them as done, and stops (master.c);
 * started again, it resumes from the last commit.
 */
#ifndef DROVER_DB_H
#define DROVER_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DB_SCHEMA_VERSION 2

struct db;

/*
 * Open (or create) the database at path. A file that is not a drover
 * database, is corrupt, or comes from a newer drover is refused with
 * *cause naming the file: the master never starts afresh over a cluster
 * it would forget.
 */
struct db *db_open(const char *path, char **cause);
/* Commit what is left, unless writing failed (db_failure), and close. */
void db_close(struct db *);
/*
 * Commits stop waiting for the disk (synchronous=OFF): what a benchmark
 * uses to measure what durability costs. Never for a real cluster.
 */
void db_unsafe_no_fsync(struct db *);

/*
 * Commit the turn's writes. Returns 0 when every write made so far is on
 * disk, or -1 (logged) when one is not: this commit or an earlier write
 * failed (db_failure).
 */
int db_commit(struct db *);
/*
 * Why writing stopped ("state database PATH: cannot commit: database or
 * disk is full (SQLite error 13)"), or NULL while writes reach the file.
 * Borrowed until db_close.
 */
const char *db_failure(struct db *);
/* Whether there are writes not yet committed. */
bool db_dirty(struct db *);
/* When the oldest of them was made (util_now_ms), or 0 when there is none. */
int64_t db_dirty_since(struct db *);
/*
 * How many writes were ever made: an API call that changed it made one.
 * Writes refused after a failure count too.
 */
uint64_t db_writes(struct db *);
/*
 * The transaction the writes made now go into (numbered from 1), and
 * whether it is on disk: an answer that waits for the worker need not wait
 * for a commit as well if the writes it acknowledges were committed while
 * the worker worked (api_apps_create). False for every transaction once a
 * write or a commit failed.
 */
uint64_t db_txn(struct db *);
bool db_txn_committed(struct db *, uint64_t txn);
/* Have the loop commit at the end of this turn, whether or not it answers. */
void db_commit_soon(struct db *);
/* Whether the turn's writes are to be committed now (db_commit_soon). */
bool db_commit_wanted(struct db *);

/* Nodes: the registration record (name, key, address, arch, cpus, memory). */
void db_put_node(struct db *, const char *name, json_t *record);
/* Apps: the app object as the REST API shows it. */
void db_put_app(struct db *, const char *id, const char *node, json_t *obj);
void db_delete_app(struct db *, const char *id);
/* Artifacts per node: the manifest, or removal. */
void db_put_artifact(struct db *, const char *node, const char *name,
    json_t *manifest);
void db_delete_artifact(struct db *, const char *node, const char *name);
void db_put_node_artifacts(struct db *, const char *node, json_t *manifests);

/*
 * Record an event: kind ("api", "node", "app"), the node and app it is
 * about (either may be NULL), and details. Returns its id, or -1 when it
 * was not written (db_failure).
 */
int64_t db_add_event(struct db *, const char *kind, const char *node,
    const char *app, json_t *detail);
/* Events after id since_id, newest last, at most limit, filtered. */
json_t *db_events(struct db *, int64_t since_id, int64_t since_ms,
    const char *node, const char *app, int limit);

/*
 * The apps' resource history. Samples are kept as they came for
 * DB_SAMPLES_RAW_MS, then as one average per minute until DB_SAMPLES_KEEP_MS:
 * disk use is bounded however long the cluster runs.
 */
#define DB_SAMPLES_RAW_MS (24 * 3600 * 1000LL)
#define DB_SAMPLES_KEEP_MS (30 * 24 * 3600 * 1000LL)
#define DB_SAMPLES_MINUTE_MS 60000

/* One sample of an app's process tree; a negative figure is "unknown". */
struct db_sample {
	int64_t t; /* wall clock ms */
	double cpu_user_pct;
	double cpu_sys_pct;
	long long rss_kb;
	long long max_rss_kb;
	long long procs;
	long long threads;
	long long fds;
	long long read_bytes;
	long long write_bytes;
};

/*
 * Store a sample taken at s->t; one older than the raw retention at now_ms
 * is dropped (its minute may be averaged already). Returns 0, or -1 if not
 * stored.
 */
int db_add_sample(struct db *, const char *app, const struct db_sample *s,
    int64_t now_ms);
/*
 * Retention for one app at now_ms: raw samples of minutes wholly older than
 * DB_SAMPLES_RAW_MS become per-minute averages, averages older than
 * DB_SAMPLES_KEEP_MS go.
 */
void db_samples_compact(struct db *, const char *app, int64_t now_ms);
/* Forget an app's history (its record is gone). */
void db_samples_forget(struct db *, const char *app);
/*
 * The history from since_ms to until_ms in buckets of step_ms (averages;
 * the maxima of max_rss_kb and of the byte counters), oldest first: a JSON
 * array of points as GET /v1/apps/ID/usage shows them.
 */
json_t *db_samples_series(struct db *, const char *app, int64_t since_ms,
    int64_t until_ms, int64_t step_ms);

/* Loading at start: each callback gets one stored row (borrowed JSON). */
int db_load_nodes(struct db *, void (*fn)(const char *name, json_t *, void *),
    void *arg);
int db_load_apps(struct db *, void (*fn)(const char *id, const char *node,
    json_t *, void *), void *arg);
int db_load_artifacts(struct db *, void (*fn)(const char *node,
    const char *name, json_t *, void *), void *arg);

#endif
