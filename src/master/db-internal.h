/*
 * What the files of the storage module (db.c, db-samples.c) share, and no
 * one else sees: the handle and its helpers.
 */
#ifndef DROVER_DB_INTERNAL_H
#define DROVER_DB_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* More distinct statements than this: the last one kept is replaced. */
#define DB_STATEMENTS_MAX 32

struct db {
	sqlite3 *h;
	char *path;
	bool in_txn;
	int64_t txn_since_ms; /* monotonic: when the open transaction began */
	uint64_t writes;      /* writes ever made: see db_writes */
	uint64_t txn;         /* the open transaction's number, or the last's */
	uint64_t committed;   /* the newest transaction committed */
	char *failure;        /* db_failure: NULL while writes reach the file */
	bool soon;            /* db_commit_soon: commit at the turn's end */
	int64_t events_since_trim;
	/* Prepared once: samples arrive with every heartbeat. */
	sqlite3_stmt *sample_insert;
	/* The statements of db_statement, by their SQL text. */
	struct {
		char *sql;
		sqlite3_stmt *st;
	} statements[DB_STATEMENTS_MAX];
	int nstatements;
};

/*
 * The statement for sql, prepared at its first use and kept: parsing SQL
 * was a seventh of the master's time per launch. Reset, bindings cleared;
 * the caller steps it and resets it again. NULL (logged) when sql is bad.
 */
sqlite3_stmt *db_statement(struct db *, const char *sql);

/* Run SQL that returns no rows; log and return -1 on failure. */
int db_exec(struct db *, const char *sql);
/*
 * Count a write and open the turn's transaction if none is open. Returns
 * -1 when the write must not be made: writes have failed (db_failure).
 */
int db_begin(struct db *);
/*
 * A write or a commit failed (what says which): note why from SQLite's
 * error, reset st (the failed statement, or NULL), roll the transaction
 * back and refuse every write after it (see db_failure).
 */
void db_fail(struct db *, const char *what, sqlite3_stmt *st);
/* Release the samples' prepared statements (db_close). */
void db_samples_finalize(struct db *);

#endif
