/* nodes: the workers that joined, with their state and load. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/table.h"
#include "common/util.h"

static int
cmd_nodes_exec(struct cmd_ctx *ctx, struct args *a)
{
	static const char *const headers[] = { "NAME", "ADDRESS", "STATE",
		"LAST SEEN", "CPU%", "MEM%", "APPS" };
	json_t *reply, *n;
	struct table *t;
	size_t i;
	int rc;

	(void)a;
	if ((rc = cmd_call(ctx, "GET", "/v1/nodes", NULL, &reply)) != CMD_OK)
		return rc;
	if (ctx->json) {
		cmd_print_json(reply);
		json_decref(reply);
		return CMD_OK;
	}
	t = table_new(7, headers);
	json_array_foreach(reply, i, n) {
		char seen[32], cpu[16], mem[16], apps[16];

		util_format_age(json_integer_value(json_object_get(n,
		    "last_seen_ms")), seen, sizeof seen);
		snprintf(cpu, sizeof cpu, "%.1f",
		    json_number_value(json_object_get(n, "cpu_pct")));
		snprintf(mem, sizeof mem, "%.1f",
		    json_number_value(json_object_get(n, "mem_pct")));
		snprintf(apps, sizeof apps, "%lld", (long long)
		    json_integer_value(json_object_get(n, "apps")));
		table_add(t, (const char *const[]){
		    json_string_value(json_object_get(n, "name")),
		    json_string_value(json_object_get(n, "address")),
		    json_string_value(json_object_get(n, "state")),
		    seen, cpu, mem, apps });
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_nodes_entry = {
	.name = "nodes",
	.usage = "[--json]",
	.summary = "list the worker nodes with their state and load",
	.options = "",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.exec = cmd_nodes_exec,
};
