/*
 * top: apps across the cluster sorted by CPU or memory, refreshed every
 * second on a full screen (ncurses); one table when stdout is not a
 * terminal. CPU % is measured here, from the change in each app's CPU time
 * between two refreshes.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/table.h"
#include "common/util.h"
#include "common/xmem.h"

#define CMD_TOP_REFRESH_MS 1000

struct cmd_top_row {
	const char *id, *node, *state;
	double cpu_pct;
	long long rss_kb;
	long long restarts;
};

/* CPU time of app id in the previous sample, or -1. */
static long long
cmd_top_prev_cpu(json_t *prev, const char *id)
{
	json_t *a;
	size_t i;

	json_array_foreach(prev, i, a)
		if (strcmp(json_string_value(json_object_get(a, "id")), id) == 0)
			return json_integer_value(json_object_get(a, "cpu_user_ms")) +
			    json_integer_value(json_object_get(a, "cpu_sys_ms"));
	return -1;
}

static int
cmd_top_by_cpu(const void *x, const void *y)
{
	const struct cmd_top_row *a = x, *b = y;

	return a->cpu_pct < b->cpu_pct ? 1 : a->cpu_pct > b->cpu_pct ? -1 :
	    strcmp(a->id, b->id);
}

static int
cmd_top_by_mem(const void *x, const void *y)
{
	const struct cmd_top_row *a = x, *b = y;

	return a->rss_kb < b->rss_kb ? 1 : a->rss_kb > b->rss_kb ? -1 :
	    strcmp(a->id, b->id);
}

/* Rows for the live apps, sorted; elapsed_ms since prev was taken. */
static struct cmd_top_row *
cmd_top_rows(json_t *apps, json_t *prev, long long elapsed_ms, bool by_mem,
    size_t *n)
{
	struct cmd_top_row *rows = xcalloc(json_array_size(apps) + 1,
	    sizeof *rows);
	json_t *a, *rss;
	size_t i;

	*n = 0;
	json_array_foreach(apps, i, a) {
		struct cmd_top_row *r = &rows[*n];
		long long cpu, before;

		r->state = json_string_value(json_object_get(a, "state"));
		if (r->state == NULL || strcmp(r->state, "dead") == 0)
			continue;
		r->id = json_string_value(json_object_get(a, "id"));
		r->node = json_string_value(json_object_get(a, "node"));
		cpu = json_integer_value(json_object_get(a, "cpu_user_ms")) +
		    json_integer_value(json_object_get(a, "cpu_sys_ms"));
		before = prev != NULL ? cmd_top_prev_cpu(prev, r->id) : -1;
		r->cpu_pct = before >= 0 && elapsed_ms > 0 && cpu >= before ?
		    100.0 * (double)(cpu - before) / (double)elapsed_ms : 0;
		rss = json_object_get(a, "rss_kb");
		r->rss_kb = json_integer_value(rss != NULL ? rss :
		    json_object_get(a, "max_rss_kb"));
		r->restarts = json_integer_value(json_object_get(a, "restarts"));
		(*n)++;
	}
	qsort(rows, *n, sizeof *rows, by_mem ? cmd_top_by_mem : cmd_top_by_cpu);
	return rows;
}

static void
cmd_top_format(const struct cmd_top_row *r, char *cpu, char *rss,
    char *restarts)
{
	snprintf(cpu, 16, "%.1f", r->cpu_pct);
	cmd_format_kb(r->rss_kb, rss, 32);
	snprintf(restarts, 16, "%lld", r->restarts);
}

/* Not a terminal: two samples a second apart, one table. */
static int
cmd_top_once(struct cmd_ctx *ctx)
{
	static const char *const headers[] = { "ID", "NODE", "STATE", "CPU%",
		"RSS", "RESTARTS" };
	json_t *first, *second;
	struct cmd_top_row *rows;
	struct table *t;
	int64_t t0, t1;
	size_t n;
	int rc;

	t0 = util_now_ms();
	if ((rc = cmd_call(ctx, "GET", "/v1/apps", NULL, &first)) != CMD_OK)
		return rc;
	usleep(CMD_TOP_REFRESH_MS * 1000);
	t1 = util_now_ms();
	if ((rc = cmd_call(ctx, "GET", "/v1/apps", NULL, &second)) != CMD_OK) {
		json_decref(first);
		return rc;
	}
	rows = cmd_top_rows(second, first, t1 - t0, false, &n);
	t = table_new(6, headers);
	for (size_t i = 0; i < n; i++) {
		char cpu[16], rss[32], restarts[16];

		cmd_top_format(&rows[i], cpu, rss, restarts);
		table_add(t, (const char *const[]){ rows[i].id, rows[i].node,
		    rows[i].state, cpu, rss, restarts });
	}
	table_print(t, stdout);
	table_free(t);
	free(rows);
	json_decref(first);
	json_decref(second);
	return CMD_OK;
}

static int
cmd_top_exec(struct cmd_ctx *ctx, struct args *a)
{
	json_t *prev = NULL, *apps;
	bool by_mem = args_has(a, "mem");
	int64_t prev_at = 0, now;
	int rc = CMD_OK, ch;

	if (!isatty(STDOUT_FILENO) || ctx->json)
		return cmd_top_once(ctx);
	initscr();
	cbreak();
	noecho();
	curs_set(0);
	timeout(CMD_TOP_REFRESH_MS);
	for (;;) {
		struct cmd_top_row *rows;
		size_t n;

		if ((rc = cmd_call(ctx, "GET", "/v1/apps", NULL, &apps)) != CMD_OK)
			break;
		now = util_now_ms();
		rows = cmd_top_rows(apps, prev, now - prev_at, by_mem, &n);
		erase();
		mvprintw(0, 0, "drover top: %zu live apps, sorted by %s  "
		    "(c: CPU, m: memory, q: quit)", n, by_mem ? "memory" : "CPU");
		attron(A_REVERSE);
		mvprintw(2, 0, "%-28s %-14s %-10s %6s %9s %8s", "ID", "NODE",
		    "STATE", "CPU%", "RSS", "RESTARTS");
		attroff(A_REVERSE);
		for (size_t i = 0; i < n && (int)i < LINES - 4; i++) {
			char cpu[16], rss[32], restarts[16];

			cmd_top_format(&rows[i], cpu, rss, restarts);
			mvprintw(3 + (int)i, 0, "%-28.28s %-14.14s %-10.10s %6s "
			    "%9s %8s", rows[i].id, rows[i].node, rows[i].state, cpu,
			    rss, restarts);
		}
		refresh();
		free(rows);
		json_decref(prev);
		prev = apps;
		prev_at = now;
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			break;
		if (ch == 'm')
			by_mem = true;
		else if (ch == 'c')
			by_mem = false;
	}
	endwin();
	json_decref(prev);
	return rc;
}

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "[--mem]",
	.summary = "live view of the apps across the cluster, by CPU or memory",
	.options = "mem",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.exec = cmd_top_exec,
};
