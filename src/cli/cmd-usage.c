/* usage: CPU time and memory of the apps on one node or on every node. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/table.h"
#include "common/xmem.h"

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

static int
cmd_usage_exec(struct cmd_ctx *ctx, struct args *a)
{
	json_t *nodes, *n, *usage, *all;
	bool first = true, lost = false;
	size_t i;
	int rc = CMD_OK, r;

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
	.usage = "[NODE]",
	.summary = "CPU time and peak memory of the apps on one node or all",
	.options = "",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.exec = cmd_usage_exec,
};
