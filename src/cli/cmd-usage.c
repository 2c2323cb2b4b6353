/* usage: CPU time and memory of the apps on one node or on every node. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/history.h"
#include "cli/table.h"
#include "common/util.h"
#include "common/xmem.h"

/* Sparklines this wide at most, and never wider than the terminal allows. */
#define CMD_USAGE_CHART_MAX 72

/* Add a row for one usage object (an app, the total or the children). */
static void
cmd_usage_add(struct table *t, const char *label, const char *pid,
    const char *alive, json_t *u)
{
	char user[32], sys[32], rss[32];
	json_t *v;

	snprintf(user, sizeof user, "%.2fs", (double)json_integer_value(
	    json_object_get(u, "cpu_user_ms")) / 1000.0);
	snprintf(sys, sizeof sys, "%.2fs", (double)json_integer_value(
	    json_object_get(u, "cpu_sys_ms")) / 1000.0);
	if (json_is_integer(v = json_object_get(u, "max_rss_kb")))
		cmd_format_kb(json_integer_value(v), rss, sizeof rss);
	else
		snprintf(rss, sizeof rss, "-");
	table_add(t, (const char *const[]){ label, pid, alive, user, sys,
	    rss });
}

/* Print one node's usage object as a table. */
static void
cmd_usage_print(json_t *usage)
{
	static const char *const headers[] = { "APP", "PID", "ALIVE",
		"CPU USER", "CPU SYS", "MAX RSS" };
	struct table *t = table_new(6, headers);
	json_t *app, *v;
	size_t i;

	json_array_foreach(json_object_get(usage, "apps"), i, app) {
		char pid[24];

		if (json_is_integer(v = json_object_get(app, "pid")))
			snprintf(pid, sizeof pid, "%lld",
			    (long long)json_integer_value(v));
		else
			snprintf(pid, sizeof pid, "-");
		cmd_usage_add(t, json_string_value(json_object_get(app, "id")),
		    pid, json_is_true(json_object_get(app, "alive")) ? "yes" :
		    "no", app);
	}
	cmd_usage_add(t, "TOTAL", "", "", json_object_get(usage, "total"));
	/* What the worker reaped: getrusage(RUSAGE_CHILDREN). */
	cmd_usage_add(t, "CHILDREN", "", "", json_object_get(usage,
	    "children"));
	table_print(t, stdout);
	table_free(t);
}

/*
 * Fetch one node's usage. Returns CMD_OK with *usage set, CMD_FAILED after
 * printing why the node did not answer, or -1 after printing that the master
 * itself could not be reached (no use asking about the other nodes).
 */
static int
cmd_usage_fetch(struct cmd_ctx *ctx, const char *node, json_t **usage)
{
	const char *text = NULL;
	char *name = cmd_escape(node), *path, *cause = NULL;
	int status;

	path = xasprintf("/v1/nodes/%s/usage", name);
	free(name);
	status = client_call(ctx->client, "GET", path, NULL, usage, &cause);
	free(path);
	if (status == -1) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return -1;
	}
	if (status >= 200 && status < 300)
		return CMD_OK;
	if (*usage != NULL)
		text = json_string_value(json_object_get(*usage, "error"));
	fprintf(stderr, "drover: node %s: %s\n", node, text != NULL ? text :
	    "the master answered with an error");
	json_decref(*usage);
	*usage = NULL;
	return CMD_FAILED;
}

/* Room for a sparkline beside its label and figures on this terminal. */
static int
cmd_usage_chart_width(void)
{
	struct winsize ws;
	int width = CMD_USAGE_CHART_MAX;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_col - 40 < width)
		width = ws.ws_col - 40;
	return width < 10 ? 10 : width;
}

/* usage APP --history [--since 1h] [--step 1m] [--chart]. */
static int
cmd_usage_history(struct cmd_ctx *ctx, struct args *a)
{
	const char *since = args_get(a, "since"), *step = args_get(a, "step");
	char *id, *path;
	json_t *series;
	int r;

	if (a->argc != 1) {
		fprintf(stderr, "drover usage: --history needs an app: usage APP "
		    "--history [--since 1h] [--step 1m]\n");
		return CMD_USAGE;
	}
	if (since != NULL && util_parse_duration_ms(since) == -1) {
		fprintf(stderr, "drover usage: --since takes a duration such as "
		    "30m, 6h or 7d, not %s\n", since);
		return CMD_USAGE;
	}
	if (step != NULL && util_parse_duration_ms(step) < 1000) {
		fprintf(stderr, "drover usage: --step takes a duration of 1s or "
		    "more, such as 10s or 1m, not %s\n", step);
		return CMD_USAGE;
	}
	id = cmd_escape(a->argv[0]);
	path = xasprintf("/v1/apps/%s/usage?since=%s%s%s", id,
	    since != NULL ? since : "1h", step != NULL ? "&step=" : "",
	    step != NULL ? step : "");
	free(id);
	r = cmd_call(ctx, "GET", path, NULL, &series);
	free(path);
	if (r != CMD_OK)
		return r;
	if (ctx->json)
		cmd_print_json(series);
	else
		history_print(stdout, series, args_has(a, "chart") ||
		    isatty(STDOUT_FILENO), cmd_usage_chart_width());
	json_decref(series);
	return CMD_OK;
}

static int
cmd_usage_exec(struct cmd_ctx *ctx, struct args *a)
{
	json_t *nodes, *n, *usage, *all;
	bool first = true, lost = false;
	size_t i;
	int rc = CMD_OK, r;

	if (args_has(a, "history"))
		return cmd_usage_history(ctx, a);
	if (args_has(a, "since") || args_has(a, "step") || args_has(a, "chart")) {
		fprintf(stderr, "drover usage: --since, --step and --chart go with "
		    "--history\n");
		return CMD_USAGE;
	}
	if (a->argc > 0) {
		if (cmd_usage_fetch(ctx, a->argv[0], &usage) != CMD_OK)
			return CMD_FAILED;
		if (ctx->json)
			cmd_print_json(usage);
		else
			cmd_usage_print(usage);
		json_decref(usage);
		return CMD_OK;
	}

	if ((r = cmd_call(ctx, "GET", "/v1/nodes", NULL, &nodes)) != CMD_OK)
		return r;
	all = json_array();
	json_array_foreach(nodes, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));

		if (name == NULL)
			continue;
		if ((r = cmd_usage_fetch(ctx, name, &usage)) == -1) {
			lost = true;
			rc = CMD_FAILED;
			break;
		}
		if (r != CMD_OK) {
			/* An unavailable node: said so on stderr; go on. */
			rc = CMD_FAILED;
			continue;
		}
		if (ctx->json) {
			json_array_append_new(all, usage);
			continue;
		}
		printf("%snode %s:\n", first ? "" : "\n", name);
		first = false;
		cmd_usage_print(usage);
		json_decref(usage);
	}
	/* Half an array from a master that went away would mislead. */
	if (ctx->json && !lost)
		cmd_print_json(all);
	json_decref(all);
	json_decref(nodes);
	return rc;
}

const struct cmd_entry cmd_usage_entry = {
	.name = "usage",
	.usage = "[NODE] | APP --history [--since 1h] [--step 1m] [--chart]",
	.summary = "CPU time and peak memory of the apps on a node, or an app's "
	    "history",
	.options = "history,since=,step=,chart",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.exec = cmd_usage_exec,
};
