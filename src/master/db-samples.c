/*
 * The apps' resource history in the state database: samples_raw holds them
 * as the workers sent them, samples_1m one average per app and minute once
 * they are older than a day. Both are keyed (app, t) without rowids, so one
 * app's range is one index walk and a row costs little more than its data.
 */
#include "master/db.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "master/db-internal.h"

/* Bind a figure, or NULL for an unknown (negative) one. */
static void
db_bind_figure(sqlite3_stmt *st, int i, long long v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

int
db_add_sample(struct db *db, const char *app, const struct db_sample *s,
    int64_t now_ms)
{
	sqlite3_stmt *st;

	if (s->t < now_ms - DB_SAMPLES_RAW_MS)
		return -1;
	if (db_begin(db) == -1)
		return -1;
	if (db->sample_insert == NULL && sqlite3_prepare_v3(db->h,
	    "INSERT OR REPLACE INTO samples_raw VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT,
	    &db->sample_insert, NULL) != SQLITE_OK) {
		db_fail(db, "cannot prepare the samples' insert", NULL);
		return -1;
	}
	st = db->sample_insert;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, s->t);
	sqlite3_bind_double(st, 3, s->cpu_user_pct);
	sqlite3_bind_double(st, 4, s->cpu_sys_pct);
	db_bind_figure(st, 5, s->rss_kb);
	db_bind_figure(st, 6, s->max_rss_kb);
	db_bind_figure(st, 7, s->procs);
	db_bind_figure(st, 8, s->threads);
	db_bind_figure(st, 9, s->fds);
	db_bind_figure(st, 10, s->read_bytes);
	db_bind_figure(st, 11, s->write_bytes);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "cannot store a sample", st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return 0;
}

/* Run one statement with the app and up to two numbers bound. */
static void
db_samples_write(struct db *db, const char *sql, const char *app, int64_t a,
    int64_t b)
{
	sqlite3_stmt *st;

	if (db_begin(db) == -1)
		return;
	if ((st = db_statement(db, sql)) == NULL) {
		db_fail(db, "cannot prepare the samples' retention", NULL);
		return;
	}
	sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, a);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "cannot apply the samples' retention", st);
		return;
	}
	sqlite3_reset(st);
}

void
db_samples_compact(struct db *db, const char *app, int64_t now_ms)
{
	/* Whole minutes only: a minute is averaged once, from all its samples. */
	int64_t cutoff = (now_ms - DB_SAMPLES_RAW_MS) / DB_SAMPLES_MINUTE_MS *
	    DB_SAMPLES_MINUTE_MS;

	db_samples_write(db, "INSERT OR REPLACE INTO samples_1m SELECT app, "
	    "t / ?3 * ?3 AS m, avg(cpu_user), avg(cpu_sys), "
	    "CAST(round(avg(rss_kb)) AS INTEGER), max(max_rss_kb), "
	    "CAST(round(avg(procs)) AS INTEGER), "
	    "CAST(round(avg(threads)) AS INTEGER), "
	    "CAST(round(avg(fds)) AS INTEGER), max(read_bytes), "
	    "max(write_bytes) FROM samples_raw WHERE app = ?1 AND t < ?2 "
	    "GROUP BY m", app, cutoff, DB_SAMPLES_MINUTE_MS);
	db_samples_write(db, "DELETE FROM samples_raw WHERE app = ?1 AND t < ?2",
	    app, cutoff, 0);
	db_samples_write(db, "DELETE FROM samples_1m WHERE app = ?1 AND t < ?2",
	    app, now_ms - DB_SAMPLES_KEEP_MS, 0);
}

void
db_samples_forget(struct db *db, const char *app)
{
	db_samples_write(db, "DELETE FROM samples_raw WHERE app = ?1", app, 0,
	    0);
	db_samples_write(db, "DELETE FROM samples_1m WHERE app = ?1", app, 0, 0);
}

/* A column as a JSON number, or null where every sample had it unknown. */
static json_t *
db_column_json(sqlite3_stmt *st, int i, bool real)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	if (real)
		return json_real(sqlite3_column_double(st, i));
	return json_integer((json_int_t)sqlite3_column_int64(st, i));
}

json_t *
db_samples_series(struct db *db, const char *app, int64_t since_ms,
    int64_t until_ms, int64_t step_ms)
{
	static const char *const names[] = { "cpu_user_pct", "cpu_sys_pct",
		"rss_kb", "max_rss_kb", "procs", "threads", "fds",
		"read_bytes", "write_bytes" };
	json_t *out = json_array();
	sqlite3_stmt *st;

	/* Reads see this turn's writes: commit them first. */
	db_commit(db);
	if (sqlite3_prepare_v2(db->h, "SELECT t / ?4 * ?4 AS b, avg(cpu_user), "
	    "avg(cpu_sys), CAST(round(avg(rss_kb)) AS INTEGER), "
	    "max(max_rss_kb), CAST(round(avg(procs)) AS INTEGER), "
	    "CAST(round(avg(threads)) AS INTEGER), "
	    "CAST(round(avg(fds)) AS INTEGER), max(read_bytes), "
	    "max(write_bytes), count(*) FROM (SELECT * FROM samples_1m WHERE "
	    "app = ?1 AND "
	    "t >= ?2 AND t < ?3 UNION ALL SELECT * FROM samples_raw WHERE "
	    "app = ?1 AND t >= ?2 AND t < ?3) GROUP BY b ORDER BY b", -1, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("db %s: samples: %s", db->path, sqlite3_errmsg(db->h));
		return out;
	}
	sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	sqlite3_bind_int64(st, 4, step_ms);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *p = json_object();

		json_object_set_new(p, "t", json_integer(
		    (json_int_t)sqlite3_column_int64(st, 0)));
		json_object_set_new(p, "cpu_pct", json_real(
		    sqlite3_column_double(st, 1) + sqlite3_column_double(st, 2)));
		for (int i = 0; i < 9; i++)
			json_object_set_new(p, names[i], db_column_json(st, i + 1,
			    i < 2));
		/* How many stored rows the point averages (a minute row is one). */
		json_object_set_new(p, "n", json_integer(
		    (json_int_t)sqlite3_column_int64(st, 10)));
		json_array_append_new(out, p);
	}
	sqlite3_finalize(st);
	return out;
}

void
db_samples_finalize(struct db *db)
{
	sqlite3_finalize(db->sample_insert);
	db->sample_insert = NULL;
}
