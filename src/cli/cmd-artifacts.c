/* artifacts: what is installed where. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/table.h"
#include "common/xmem.h"

static int
cmd_artifacts_exec(struct cmd_ctx *ctx, struct args *a)
{
	static const char *const headers[] = { "NAME", "NODE", "FILES", "SIZE",
		"HASH" };
	char *path, *node;
	json_t *reply, *v;
	struct table *t;
	size_t i;
	int rc;

	if (a->argc == 1) {
		node = cmd_escape(a->argv[0]);
		path = xasprintf("/v1/artifacts?node=%s", node);
		free(node);
	} else
		path = xstrdup("/v1/artifacts");
	rc = cmd_call(ctx, "GET", path, NULL, &reply);
	free(path);
	if (rc != CMD_OK)
		return rc;
	if (ctx->json) {
		cmd_print_json(reply);
		json_decref(reply);
		return CMD_OK;
	}
	t = table_new(5, headers);
	json_array_foreach(reply, i, v) {
		char files[16], size[32], hash[16];
		const char *h = json_string_value(json_object_get(v, "hash"));

		snprintf(files, sizeof files, "%lld", (long long)
		    json_integer_value(json_object_get(v, "files")));
		cmd_format_kb((json_integer_value(json_object_get(v, "size")) +
		    1023) / 1024, size, sizeof size);
		snprintf(hash, sizeof hash, "%.12s", h != NULL ? h : "-");
		table_add(t, (const char *const[]){
		    json_string_value(json_object_get(v, "name")),
		    json_string_value(json_object_get(v, "node")), files, size,
		    hash });
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_artifacts_entry = {
	.name = "artifacts",
	.usage = "[NODE]",
	.summary = "list the artifacts installed on the nodes",
	.options = "",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.exec = cmd_artifacts_exec,
};
