/* stop: end an app gently (SIGINT), then with SIGKILL after a timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/xmem.h"

#define CMD_STOP_TIMEOUT_DEFAULT 10
#define CMD_STOP_TIMEOUT_MAX 3600

/* The --timeout value, or -1 when it is not an integer in range. */
static long
cmd_stop_parse_timeout(const char *text)
{
	char *end;
	long n;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || n > CMD_STOP_TIMEOUT_MAX)
		return -1;
	return n;
}

static int
cmd_stop_exec(struct cmd_ctx *ctx, struct args *a)
{
	const char *app = a->argv[0], *v, *by, *cause;
	json_t *body, *reply, *state;
	long timeout = CMD_STOP_TIMEOUT_DEFAULT;
	char *id, *path;
	int rc;

	if ((v = args_get(a, "timeout")) != NULL &&
	    (timeout = cmd_stop_parse_timeout(v)) == -1) {
		fprintf(stderr, "drover stop: --timeout takes whole seconds "
		    "from 0 to %d, not %s\n", CMD_STOP_TIMEOUT_MAX, v);
		fprintf(stderr, "usage: %s %s\n", cmd_stop_entry.name,
		    cmd_stop_entry.usage);
		return CMD_USAGE;
	}
	id = cmd_escape(app);
	path = xasprintf("/v1/apps/%s/stop", id);
	free(id);
	body = json_pack("{s:I}", "timeout_s", (json_int_t)timeout);
	rc = cmd_call(ctx, "POST", path, body, &reply);
	json_decref(body);
	free(path);
	if (rc != CMD_OK)
		return rc;
	if (ctx->json) {
		cmd_print_json(reply);
		json_decref(reply);
		return CMD_OK;
	}
	by = json_string_value(json_object_get(reply, "ended_by"));
	state = json_object_get(reply, "app");
	if ((cause = json_string_value(json_object_get(state, "cause"))) == NULL)
		cause = "ended";
	if (json_is_true(json_object_get(reply, "was_dead")))
		printf("%s was already dead (%s)\n", app, cause);
	else if (by != NULL && strcmp(by, "SIGKILL") == 0)
		printf("stopped %s (SIGKILL after %ld s)\n", app, timeout);
	else if (by != NULL)
		printf("stopped %s (%s)\n", app, by);
	else
		/* It ended by itself while the request was on its way. */
		printf("stopped %s (%s)\n", app, cause);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "APP [--timeout SECONDS]",
	.summary = "stop an app: SIGINT, then SIGKILL after the timeout "
		   "(default 10 s)",
	.options = "timeout=",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATING,
	.exec = cmd_stop_exec,
};
