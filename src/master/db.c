#include "master/db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/db-internal.h"

/* Events kept: the oldest go once there are more. */
#define DB_EVENTS_MAX 200000

/*
 * A new file gets the first schema, then every migration in turn: the path
 * an old database takes is the one every new one takes, so it is never
 * left untried.
 */
static const char *const db_schema_v1 =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE nodes (name TEXT PRIMARY KEY, record TEXT NOT NULL);"
    "CREATE TABLE apps (id TEXT PRIMARY KEY, node TEXT NOT NULL,"
    "  obj TEXT NOT NULL);"
    "CREATE INDEX apps_node ON apps (node);"
    "CREATE TABLE artifacts (node TEXT NOT NULL, name TEXT NOT NULL,"
    "  manifest TEXT NOT NULL, PRIMARY KEY (node, name));"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT, app TEXT,"
    "  detail TEXT NOT NULL);"
    "CREATE INDEX events_app ON events (app);"
    "CREATE INDEX events_node ON events (node);";

/* db_migrations[v] turns schema v into v + 1. */
static const char *const db_migrations[DB_SCHEMA_VERSION] = {
	[1] =
	/* 2: the apps' resource history, as sampled (raw) and per minute. */
	"CREATE TABLE samples_raw (app TEXT NOT NULL, t INTEGER NOT NULL,"
	"  cpu_user REAL, cpu_sys REAL, rss_kb INTEGER, max_rss_kb INTEGER,"
	"  procs INTEGER, threads INTEGER, fds INTEGER, read_bytes INTEGER,"
	"  write_bytes INTEGER, PRIMARY KEY (app, t)) WITHOUT ROWID;"
	"CREATE TABLE samples_1m (app TEXT NOT NULL, t INTEGER NOT NULL,"
	"  cpu_user REAL, cpu_sys REAL, rss_kb INTEGER, max_rss_kb INTEGER,"
	"  procs INTEGER, threads INTEGER, fds INTEGER, read_bytes INTEGER,"
	"  write_bytes INTEGER, PRIMARY KEY (app, t)) WITHOUT ROWID;",
};

/* Run SQL that returns no rows; log and return -1 on failure. */
int
db_exec(struct db *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("db %s: %s", db->path, err != NULL ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* The schema version the file holds; 0 for a new, empty file. */
static int
db_version(struct db *db, char **cause)
{
	sqlite3_stmt *st;
	int version = 0, rc;

	rc = sqlite3_prepare_v2(db->h, "SELECT count(*) FROM sqlite_master",
	    -1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		*cause = xasprintf("%s is not a drover state database (%s)",
		    db->path, sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return -1;
	}
	if (sqlite3_column_int(st, 0) == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = "
	    "'schema'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		*cause = xasprintf("%s holds tables but is not a drover state "
		    "database (%s)", db->path, sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return -1;
	}
	version = atoi((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return version;
}

struct db *
db_open(const char *path, char **cause)
{
	struct db *db = xcalloc(1, sizeof *db);
	sqlite3_stmt *st;
	int version;

	db->path = xstrdup(path);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*cause = xasprintf("cannot open state database %s: %s", path,
		    sqlite3_errmsg(db->h));
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 5000);
	/*
	 * The integrity check reads every page: a corrupt file stops the
	 * master here, with its name, instead of failing later mid-cluster.
	 */
	if (sqlite3_prepare_v2(db->h, "PRAGMA quick_check", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		*cause = xasprintf("state database %s is damaged or not a "
		    "database (%s); move it away to start a new cluster",
		    path, sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if ((version = db_version(db, cause)) == -1)
		goto fail;
	if (version > DB_SCHEMA_VERSION) {
		*cause = xasprintf("state database %s is from a newer drover "
		    "(schema %d, this one knows %d)", path, version,
		    DB_SCHEMA_VERSION);
		goto fail;
	}
	/* WAL: readers never block the writer; FULL: a commit is on disk. */
	if (db_exec(db, "PRAGMA journal_mode=WAL") == -1 ||
	    db_exec(db, "PRAGMA synchronous=FULL") == -1)
		goto fail_exec;
	if (version == 0) {
		char *sql = xasprintf("BEGIN; %s INSERT INTO meta VALUES "
		    "('schema', '1'); COMMIT;", db_schema_v1);
		int rc = db_exec(db, sql);

		free(sql);
		if (rc == -1)
			goto fail_exec;
		log_info("created state database %s", path);
		version = 1;
	} else if (version < DB_SCHEMA_VERSION)
		log_info("state database %s: migrating schema %d to %d", path,
		    version, DB_SCHEMA_VERSION);
	/* One version at a time, each in its own transaction. */
	for (; version < DB_SCHEMA_VERSION; version++) {
		char *sql = xasprintf("BEGIN; %s UPDATE meta SET value = '%d' "
		    "WHERE key = 'schema'; COMMIT;", db_migrations[version],
		    version + 1);
		int rc = db_exec(db, sql);

		free(sql);
		if (rc == -1) {
			db_exec(db, "ROLLBACK");
			*cause = xasprintf("cannot migrate state database %s from "
			    "schema %d: %s", path, version,
			    sqlite3_errmsg(db->h));
			goto fail;
		}
	}
	return db;

fail_exec:
	*cause = xasprintf("cannot set up state database %s: %s", path,
	    sqlite3_errmsg(db->h));
fail:
	sqlite3_close(db->h);
	free(db->path);
	free(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	/*
	 * After a failure, the file is left as the last commit made it: no
	 * checkpoint on close either (the WAL holds what was committed, and
	 * the next start reads it).
	 */
	if (db_commit(db) == -1)
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
		    NULL);
	db_samples_finalize(db);
	for (int i = 0; i < db->nstatements; i++) {
		sqlite3_finalize(db->statements[i].st);
		free(db->statements[i].sql);
	}
	sqlite3_close(db->h);
	free(db->failure);
	free(db->path);
	free(db);
}

void
db_unsafe_no_fsync(struct db *db)
{
	db_exec(db, "PRAGMA synchronous=OFF");
}

int
db_begin(struct db *db)
{
	/*
	 * Counted even when refused: the API holds the answer to a request
	 * that wrote until a commit, and after a failure none comes.
	 */
	db->writes++;
	if (db->failure != NULL)
		return -1;
	if (db->in_txn)
		return 0;
	/*
	 * Without its transaction a write would still run, committed on its
	 * own: not one of the turn's, and never rolled back with them.
	 */
	if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_fail(db, "cannot begin a transaction", NULL);
		return -1;
	}
	db->in_txn = true;
	db->txn++;
	db->txn_since_ms = util_now_ms();
	return 0;
}

/*
 * Once a write or a commit failed, the master's memory holds changes the
 * file does not, and only a restart from the file makes them agree again
 * (master.c stops). Until then nothing more is written: SQLite may have
 * rolled the whole transaction back by itself (SQLITE_FULL, SQLITE_IOERR
 * can), and a later statement would then run, and commit, on its own
 * outside any transaction, recording half of what a turn did.
 */
void
db_fail(struct db *db, const char *what, sqlite3_stmt *st)
{
	int code = sqlite3_extended_errcode(db->h), err;
	char os[160] = "";

	/*
	 * SQLite keeps the system's errno for I/O errors and failed opens
	 * only; with any other code it is an older one's.
	 */
	err = sqlite3_system_errno(db->h);
	if (err != 0 && ((code & 0xff) == SQLITE_IOERR ||
	    (code & 0xff) == SQLITE_CANTOPEN))
		snprintf(os, sizeof os, ": %s", strerror(err));
	if (db->failure == NULL)
		db->failure = xasprintf("state database %s: %s: %s (SQLite "
		    "error %d%s)", db->path, what, sqlite3_errmsg(db->h), code,
		    os);
	log_warnx("%s", db->failure);
	if (st != NULL)
		sqlite3_reset(st);
	/* Unless SQLite did so itself already. */
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->in_txn = false;
	db->soon = false;
}

const char *
db_failure(struct db *db)
{
	return db->failure;
}

uint64_t
db_txn(struct db *db)
{
	return db->in_txn ? db->txn : db->txn + 1;
}

bool
db_txn_committed(struct db *db, uint64_t txn)
{
	return db->failure == NULL && txn > 0 && txn <= db->committed;
}

void
db_commit_soon(struct db *db)
{
	db->soon = true;
}

bool
db_commit_wanted(struct db *db)
{
	return db->in_txn && db->soon;
}

bool
db_dirty(struct db *db)
{
	return db->in_txn;
}

int64_t
db_dirty_since(struct db *db)
{
	return db->in_txn ? db->txn_since_ms : 0;
}

uint64_t
db_writes(struct db *db)
{
	return db->writes;
}

int
db_commit(struct db *db)
{
	int64_t t0 = util_now_us();

	db->soon = false;
	if (db->failure != NULL)
		return -1;
	if (!db->in_txn)
		return 0;
	if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, "cannot commit", NULL);
		return -1;
	}
	db->in_txn = false;
	db->committed = db->txn;
	log_trace(TRACE_DB, "commit took %lld us",
	    (long long)(util_now_us() - t0));
	return 0;
}

sqlite3_stmt *
db_statement(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < db->nstatements; i++) {
		if (strcmp(db->statements[i].sql, sql) != 0)
			continue;
		st = db->statements[i].st;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("db %s: %s: %s", db->path, sql, sqlite3_errmsg(db->h));
		return NULL;
	}
	if (db->nstatements == DB_STATEMENTS_MAX) {
		i = --db->nstatements;
		sqlite3_finalize(db->statements[i].st);
		free(db->statements[i].sql);
	}
	i = db->nstatements++;
	db->statements[i].sql = xstrdup(sql);
	db->statements[i].st = st;
	return st;
}

/* Bind text parameters (NULL binds NULL) to sql's statement, step once. */
static int
db_write(struct db *db, const char *sql, int n, const char *const *params)
{
	sqlite3_stmt *st;

	if (db_begin(db) == -1)
		return -1;
	if ((st = db_statement(db, sql)) == NULL) {
		db_fail(db, "cannot prepare a write", NULL);
		return -1;
	}
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "cannot write", st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

void
db_put_node(struct db *db, const char *name, json_t *record)
{
	char *text = json_dumps(record, JSON_COMPACT);

	db_write(db, "INSERT OR REPLACE INTO nodes VALUES (?, ?)", 2,
	    (const char *const[]){ name, text });
	free(text);
}

void
db_put_app(struct db *db, const char *id, const char *node, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	/* An upsert keeps the row (and its rowid: launch order) in place. */
	db_write(db, "INSERT INTO apps VALUES (?, ?, ?) ON CONFLICT (id) DO "
	    "UPDATE SET node = excluded.node, obj = excluded.obj", 3,
	    (const char *const[]){ id, node, text });
	free(text);
}

void
db_delete_app(struct db *db, const char *id)
{
	db_write(db, "DELETE FROM apps WHERE id = ?", 1,
	    (const char *const[]){ id });
}

void
db_put_artifact(struct db *db, const char *node, const char *name,
    json_t *manifest)
{
	char *text = json_dumps(manifest, JSON_COMPACT);

	db_write(db, "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?)", 3,
	    (const char *const[]){ node, name, text });
	free(text);
}

void
db_delete_artifact(struct db *db, const char *node, const char *name)
{
	db_write(db, "DELETE FROM artifacts WHERE node = ? AND name = ?", 2,
	    (const char *const[]){ node, name });
}

void
db_put_node_artifacts(struct db *db, const char *node, json_t *manifests)
{
	json_t *m;
	size_t i;

	db_write(db, "DELETE FROM artifacts WHERE node = ?", 1,
	    (const char *const[]){ node });
	json_array_foreach(manifests, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));

		if (name != NULL)
			db_put_artifact(db, node, name, m);
	}
}

int64_t
db_add_event(struct db *db, const char *kind, const char *node,
    const char *app, json_t *detail)
{
	char at[32], *text = json_dumps(detail, JSON_COMPACT);
	int64_t id;
	int rc;

	snprintf(at, sizeof at, "%lld", (long long)util_wall_ms());
	rc = db_write(db, "INSERT INTO events (at, kind, node, app, detail) "
	    "VALUES (CAST(? AS INTEGER), ?, ?, ?, ?)", 5,
	    (const char *const[]){ at, kind, node, app, text });
	free(text);
	if (rc == -1)
		return -1;
	id = sqlite3_last_insert_rowid(db->h);
	/* Bounded: trim the oldest now and then, not on every insert. */
	if (++db->events_since_trim >= 1000) {
		char sql[128];

		db->events_since_trim = 0;
		snprintf(sql, sizeof sql, "DELETE FROM events WHERE id <= "
		    "(SELECT max(id) FROM events) - %d", DB_EVENTS_MAX);
		db_write(db, sql, 0, NULL);
	}
	return id;
}

json_t *
db_events(struct db *db, int64_t since_id, int64_t since_ms, const char *node,
    const char *app, int limit)
{
	json_t *out = json_array();
	sqlite3_stmt *st;

	/* What is read must include this turn's writes: commit them first. */
	db_commit(db);
	if (sqlite3_prepare_v2(db->h, "SELECT id, at, kind, node, app, detail "
	    "FROM events WHERE id > ? AND at >= ? AND (?3 IS NULL OR node = ?3)"
	    " AND (?4 IS NULL OR app = ?4) ORDER BY id LIMIT ?5", -1, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("db %s: events: %s", db->path, sqlite3_errmsg(db->h));
		return out;
	}
	sqlite3_bind_int64(st, 1, since_id);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_text(st, 3, node, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, app, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *detail = json_loads((const char *)sqlite3_column_text(st,
		    5), 0, NULL);

		json_array_append_new(out, json_pack("{s:I, s:I, s:s, s:s?, "
		    "s:s?, s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "at", (json_int_t)sqlite3_column_int64(st, 1), "kind",
		    (const char *)sqlite3_column_text(st, 2),
		    "node", (const char *)sqlite3_column_text(st, 3),
		    "app", (const char *)sqlite3_column_text(st, 4),
		    "detail", detail != NULL ? detail : json_object()));
	}
	sqlite3_finalize(st);
	return out;
}

/* Run a SELECT and hand each row's text columns to fn. */
static int
db_each(struct db *db, const char *sql, int ncols,
    void (*fn)(const char *const *cols, void *), void *arg)
{
	const char *cols[4];
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("db %s: %s", db->path, sqlite3_errmsg(db->h));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			cols[i] = (const char *)sqlite3_column_text(st, i);
		fn(cols, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct db_loader {
	void (*node)(const char *, json_t *, void *);
	void (*app)(const char *, const char *, json_t *, void *);
	void (*artifact)(const char *, const char *, json_t *, void *);
	void *arg;
};

static void
db_load_node_row(const char *const *c, void *arg)
{
	struct db_loader *l = arg;
	json_t *j = json_loads(c[1], 0, NULL);

	if (j != NULL)
		l->node(c[0], j, l->arg);
	json_decref(j);
}

static void
db_load_app_row(const char *const *c, void *arg)
{
	struct db_loader *l = arg;
	json_t *j = json_loads(c[2], 0, NULL);

	if (j != NULL)
		l->app(c[0], c[1], j, l->arg);
	json_decref(j);
}

static void
db_load_artifact_row(const char *const *c, void *arg)
{
	struct db_loader *l = arg;
	json_t *j = json_loads(c[2], 0, NULL);

	if (j != NULL)
		l->artifact(c[0], c[1], j, l->arg);
	json_decref(j);
}

int
db_load_nodes(struct db *db, void (*fn)(const char *, json_t *, void *),
    void *arg)
{
	struct db_loader l = { .node = fn, .arg = arg };

	return db_each(db, "SELECT name, record FROM nodes ORDER BY name", 2,
	    db_load_node_row, &l);
}

int
db_load_apps(struct db *db, void (*fn)(const char *, const char *, json_t *,
    void *), void *arg)
{
	struct db_loader l = { .app = fn, .arg = arg };

	/* Launch order: the rowid grows with each new app. */
	return db_each(db, "SELECT id, node, obj FROM apps ORDER BY rowid", 3,
	    db_load_app_row, &l);
}

int
db_load_artifacts(struct db *db, void (*fn)(const char *, const char *,
    json_t *, void *), void *arg)
{
	struct db_loader l = { .artifact = fn, .arg = arg };

	return db_each(db, "SELECT node, name, manifest FROM artifacts", 3,
	    db_load_artifact_row, &l);
}
