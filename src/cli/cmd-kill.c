/* kill: send one signal to an app. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/signame.h"
#include "common/xmem.h"

static int
cmd_kill_exec(struct cmd_ctx *ctx, struct args *a)
{
	const char *app = a->argv[0], *name = args_get(a, "signal");
	json_t *body, *reply;
	char *id, *path, *canonical;
	int sig, rc;

	if (name == NULL)
		name = "SIGKILL";
	/* Refused here, before anything is sent. */
	if ((sig = signame_to_number(name)) == -1) {
		fprintf(stderr, "drover kill: unknown signal %s\n", name);
		return CMD_FAILED;
	}
	/* Copied: signame_from_number's result is overwritten by its next call. */
	canonical = xstrdup(signame_from_number(sig));
	id = cmd_escape(app);
	path = xasprintf("/v1/apps/%s/signal", id);
	free(id);
	body = json_pack("{s:s}", "signal", canonical);
	rc = cmd_call(ctx, "POST", path, body, &reply);
	json_decref(body);
	free(path);
	if (rc == CMD_OK) {
		if (ctx->json)
			cmd_print_json(reply);
		else
			printf("sent %s to %s\n", canonical, app);
		json_decref(reply);
	}
	free(canonical);
	return rc;
}

const struct cmd_entry cmd_kill_entry = {
	.name = "kill",
	.usage = "APP [--signal NAME]",
	.summary = "send a signal to an app (default SIGKILL)",
	.options = "signal=",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATING,
	.exec = cmd_kill_exec,
};
