/* ps: the apps on every node or one, with their state and resource use. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/table.h"
#include "common/util.h"
#include "common/xmem.h"

/* Add one app object as a row. */
static void
cmd_ps_add(struct table *t, json_t *app, int64_t now_ms)
{
	char pid[24], cpu[32], rss[32], started[48], restarts[24];
	json_t *v;
	const char *cells[11];

	cells[0] = json_string_value(json_object_get(app, "id"));
	cells[1] = json_string_value(json_object_get(app, "node"));
	cells[2] = json_string_value(json_object_get(app, "name"));
	cells[3] = NULL;
	if (json_is_integer(v = json_object_get(app, "pid"))) {
		snprintf(pid, sizeof pid, "%lld",
		    (long long)json_integer_value(v));
		cells[3] = pid;
	}
	cells[4] = json_string_value(json_object_get(app, "state"));
	snprintf(cpu, sizeof cpu, "%.2fs", (double)(json_integer_value(
	    json_object_get(app, "cpu_user_ms")) + json_integer_value(
	    json_object_get(app, "cpu_sys_ms"))) / 1000.0);
	cells[5] = cpu;
	cells[6] = NULL;
	if (json_is_integer(v = json_object_get(app, "max_rss_kb"))) {
		cmd_format_kb(json_integer_value(v), rss, sizeof rss);
		cells[6] = rss;
	}
	cells[7] = NULL;
	if (json_is_integer(v = json_object_get(app, "started_at"))) {
		util_format_age(now_ms - json_integer_value(v), started,
		    sizeof started - 4);
		strcat(started, " ago");
		cells[7] = started;
	}
	snprintf(restarts, sizeof restarts, "%lld", (long long)
	    json_integer_value(json_object_get(app, "restarts")));
	cells[8] = restarts;
	/* health is null without a check: the table prints "-". */
	cells[9] = json_string_value(json_object_get(app, "health"));
	/* cause is null while the app lives: the table prints "-". */
	cells[10] = json_string_value(json_object_get(app, "cause"));
	table_add(t, cells);
}

/*
 * The apps `ps [X]` lists: every app, the apps on node X, or else app X
 * alone, as `squeue -j` or `nomad alloc status` show one job. A node wins
 * where a node and an app share a name. Returns CMD_OK with *reply an array.
 */
static int
cmd_ps_fetch(struct cmd_ctx *ctx, const char *x, bool all, json_t **reply)
{
	json_t *app = NULL;
	char *path, *esc, *cause = NULL;
	int status;

	if (x == NULL) {
		path = xasprintf("/v1/apps%s", all ? "?all=1" : "");
		status = cmd_call(ctx, "GET", path, NULL, reply);
		free(path);
		return status;
	}
	esc = cmd_escape(x);
	path = xasprintf("/v1/apps?node=%s%s", esc, all ? "&all=1" : "");
	status = client_call(ctx->client, "GET", path, NULL, reply, &cause);
	free(path);
	if (status == 404) {
		path = xasprintf("/v1/apps/%s", esc);
		status = client_call(ctx->client, "GET", path, NULL, &app,
		    &cause);
		free(path);
		if (status == 200) {
			json_decref(*reply);
			*reply = json_array();
			json_array_append_new(*reply, app);
		} else {
			json_decref(app);
			json_decref(*reply);
			*reply = NULL;
			if (status != -1) {
				status = 404;
				*reply = json_pack("{s:s+}", "error",
				    "no such node or app: ", x);
			}
		}
	}
	free(esc);
	return cmd_answer(status, cause, reply);
}

static int
cmd_ps_exec(struct cmd_ctx *ctx, struct args *a)
{
	static const char *const headers[] = { "ID", "NODE", "NAME", "PID",
		"STATE", "CPU", "MAX RSS", "STARTED", "RESTARTS", "HEALTH",
		"CAUSE" };
	json_t *reply, *app;
	struct table *t;
	int64_t now_ms;
	size_t i;
	int rc;

	rc = cmd_ps_fetch(ctx, a->argc > 0 ? a->argv[0] : NULL,
	    args_has(a, "all"), &reply);
	if (rc != CMD_OK)
		return rc;
	if (ctx->json) {
		cmd_print_json(reply);
		json_decref(reply);
		return CMD_OK;
	}
	/* started_at is wall-clock time on the master. */
	now_ms = util_wall_ms();
	t = table_new(11, headers);
	json_array_foreach(reply, i, app)
		cmd_ps_add(t, app, now_ms);
	table_print(t, stdout);
	table_free(t);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_ps_entry = {
	.name = "ps",
	.usage = "[NODE|APP] [--all]",
	.summary = "list apps (live and recently ended; --all for every one), or one app",
	.options = "all",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.exec = cmd_ps_exec,
};
