/* delete: remove an artifact, and the libraries only it used, from nodes. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "common/xmem.h"

static int
cmd_delete_exec(struct cmd_ctx *ctx, struct args *a)
{
	char *node = cmd_escape(a->argv[0]), *name = cmd_escape(a->argv[1]);
	char *path = xasprintf("/v1/artifacts/%s?node=%s%s", name, node,
	    args_has(a, "force") ? "&force=1" : "");
	json_t *reply = NULL, *n, *apps, *v;
	char *cause = NULL;
	const char *err;
	int status, rc = CMD_FAILED;
	size_t i;

	status = client_call(ctx->client, "DELETE", path, NULL, &reply, &cause);
	free(path);
	free(node);
	free(name);
	if (status == -1) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return CMD_FAILED;
	}
	if (ctx->json)
		cmd_print_json(reply);
	if (status == 200) {
		if (!ctx->json)
			json_array_foreach(json_object_get(reply, "nodes"), i, n)
				printf("deleted %s on %s\n", a->argv[1],
				    json_string_value(json_object_get(n, "node")));
		rc = CMD_OK;
	} else if (!ctx->json) {
		err = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "drover: %s\n", err != NULL ? err : "failed");
		if ((apps = json_object_get(reply, "apps")) != NULL)
			json_array_foreach(apps, i, v)
				fprintf(stderr, "  running: %s\n",
				    json_string_value(v));
	}
	json_decref(reply);
	return rc;
}

const struct cmd_entry cmd_delete_entry = {
	.name = "delete",
	.usage = "NODE|all NAME [--force]",
	.summary = "delete an artifact; --force stops apps running from it",
	.options = "force",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_MUTATING,
	.exec = cmd_delete_exec,
};
