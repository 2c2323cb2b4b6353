/*
 * history-store: how much the resource history grows the master's state
 * database per app and day. It drives the storage module itself
 * (src/master/db.c, db-samples.c) on a temporary database: --apps apps
 * (default 20) sampled every --interval seconds (default 5) for two
 * simulated days, compacting as the master does, and reads each table's
 * size from SQLite's dbstat. A day of raw samples is what the last 24 hours
 * cost; a day of minute averages is what each of the 30 days before costs.
 * The steady state per app is one raw day plus 30 minute days.
 *
 * Exit status: 0 when it ran, 1 when the database failed, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/util.h"
#include "master/db.h"

#include "benchlib.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define MIB (1024.0 * 1024.0)

static void
history_store_usage(FILE *f)
{
	fprintf(f, "usage: history-store [--apps N] [--interval S]\n"
	    "  --apps N       simulated apps (default 20)\n"
	    "  --interval S   their sampling interval (default 5)\n");
}

/* Bytes a table and its indexes take (dbstat), or -1. */
static double
history_store_table_bytes(const char *path, const char *table)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	double bytes = -1;

	if (sqlite3_open(path, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, "SELECT sum(pgsize) FROM dbstat WHERE name = ?",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			bytes = sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return bytes;
}

/* Samples of every app from `from` for a day, each stored when fresh. */
static int
history_store_day(struct db *db, int apps, int interval_ms, int64_t from)
{
	char id[32];
	int n = 0;

	for (int64_t t = from; t < from + DAY_MS; t += interval_ms) {
		for (int a = 0; a < apps; a++, n++) {
			/* Figures that move, as a busy app's do. */
			struct db_sample s = { .t = t, .cpu_user_pct = (n % 97),
				.cpu_sys_pct = (n % 13) / 10.0,
				.rss_kb = 100000 + n % 5000,
				.max_rss_kb = 106000, .procs = 1 + n % 3,
				.threads = 4 + n % 5, .fds = 12 + n % 7,
				.read_bytes = (long long)t / 1000 * 4096,
				.write_bytes = (long long)t / 1000 * 8192 };

			snprintf(id, sizeof id, "app-%d", a);
			if (db_add_sample(db, id, &s, t) == -1)
				return -1;
		}
		if ((t - from) % 60000 == 0)
			db_commit(db);
	}
	db_commit(db);
	return n;
}

int
main(int argc, char **argv)
{
	int apps = 20, interval = 5;
	const struct benchlib_opt opts[] = {
		{ "apps", &apps, 1, 1000 },
		{ "interval", &interval, 1, 3600 },
		{ NULL, NULL, 0, 0 },
	};
	const char *unused = NULL;
	char tmpl[] = "/tmp/bench-history-XXXXXX", *dir, path[128], id[32];
	double raw, minute;
	int64_t start = util_wall_ms() / DAY_MS * DAY_MS - 3 * DAY_MS;
	char *cause = NULL;
	struct db *db;
	int n;

	benchlib_init("history-store");
	if (benchlib_parse_args(argc, argv, opts, &unused,
	    history_store_usage) == -1)
		return 2;
	if ((dir = mkdtemp(tmpl)) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/state.db", dir);
	if ((db = db_open(path, &cause)) == NULL) {
		fprintf(stderr, "history-store: %s\n", cause);
		return 1;
	}
	fprintf(stderr, "history-store: %d apps, a sample every %d s, day 1\n",
	    apps, interval);
	if ((n = history_store_day(db, apps, interval * 1000, start)) == -1)
		return 1;
	db_close(db);
	raw = history_store_table_bytes(path, "samples_raw");

	/* A day later: day 1 is compacted to minutes, day 2 is raw. */
	fprintf(stderr, "history-store: day 2, then compaction of day 1\n");
	if ((db = db_open(path, &cause)) == NULL ||
	    history_store_day(db, apps, interval * 1000, start + DAY_MS) == -1)
		return 1;
	for (int a = 0; a < apps; a++) {
		snprintf(id, sizeof id, "app-%d", a);
		db_samples_compact(db, id, start + 2 * DAY_MS);
	}
	db_commit(db);
	db_close(db);
	minute = history_store_table_bytes(path, "samples_1m");

	printf("history-store: %d apps sampled every %d s (%d samples a day "
	    "each)\n", apps, interval, n / apps);
	if (raw < 0 || minute < 0) {
		printf("  dbstat is not available in this SQLite: no figures\n");
	} else {
		double raw_app = raw / apps, min_app = minute / apps;

		printf("  a day of raw samples:      %8.2f MiB per app (%.0f "
		    "bytes a sample)\n", raw_app / MIB, raw_app / (n / apps));
		printf("  a day of minute averages:  %8.3f MiB per app\n",
		    min_app / MIB);
		printf("  steady state (1 raw day + 30 minute days): %.2f MiB "
		    "per app; %.1f GiB for 1,000 apps\n",
		    (raw_app + 30 * min_app) / MIB,
		    (raw_app + 30 * min_app) * 1000 / (MIB * 1024));
	}
	benchlib_rm_tree(dir);
	(void)unused;
	return 0;
}
