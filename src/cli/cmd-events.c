/* events: the audit trail; --follow keeps printing new ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "common/util.h"
#include "common/xmem.h"

/* How often --follow asks for new events. */
#define CMD_EVENTS_POLL_MS 500

static void
cmd_events_print(json_t *e)
{
	time_t t = (time_t)(json_integer_value(json_object_get(e, "at")) / 1000);
	char when[32], *detail;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT);
	printf("%-6lld %s  %-4s  %-12s  %-16s  %s\n", (long long)
	    json_integer_value(json_object_get(e, "id")), when,
	    json_string_value(json_object_get(e, "kind")),
	    json_string_value(json_object_get(e, "node")) != NULL ?
	    json_string_value(json_object_get(e, "node")) : "-",
	    json_string_value(json_object_get(e, "app")) != NULL ?
	    json_string_value(json_object_get(e, "app")) : "-",
	    detail != NULL ? detail : "{}");
	free(detail);
}

static int
cmd_events_exec(struct cmd_ctx *ctx, struct args *a)
{
	const char *since_s = args_get(a, "since"), *app = args_get(a, "app");
	const char *node = args_get(a, "node");
	long long since = 0, after = 0;
	bool follow = args_has(a, "follow");
	json_t *reply, *e;
	char *path, *q_app, *q_node;
	size_t i;
	int rc;

	if (since_s != NULL &&
	    (since = util_parse_since_ms(since_s, util_wall_ms())) < 0) {
		fprintf(stderr, "drover events: --since takes 30s, 10m, 2h, 1d "
		    "or milliseconds since the epoch\n");
		return CMD_USAGE;
	}
	q_app = cmd_escape(app != NULL ? app : "");
	q_node = cmd_escape(node != NULL ? node : "");
	for (;;) {
		path = xasprintf("/v1/events?after=%lld&since=%lld%s%s%s%s", after,
		    since, app != NULL ? "&app=" : "", q_app,
		    node != NULL ? "&node=" : "", q_node);
		rc = cmd_call(ctx, "GET", path, NULL, &reply);
		free(path);
		if (rc != CMD_OK)
			break;
		if (ctx->json && !follow)
			cmd_print_json(reply);
		json_array_foreach(reply, i, e) {
			if (ctx->json && follow) {
				char *line = json_dumps(e, JSON_COMPACT);

				printf("%s\n", line);
				free(line);
			} else if (!ctx->json)
				cmd_events_print(e);
			after = json_integer_value(json_object_get(e, "id"));
		}
		fflush(stdout);
		/* A full page means more are waiting: ask again at once. */
		if (json_array_size(reply) > 0 && json_array_size(reply) >= 1000) {
			json_decref(reply);
			continue;
		}
		json_decref(reply);
		if (!follow)
			break;
		struct timespec ts = { 0, CMD_EVENTS_POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
	}
	free(q_app);
	free(q_node);
	return rc;
}

const struct cmd_entry cmd_events_entry = {
	.name = "events",
	.usage = "[--follow] [--since TIME] [--app ID] [--node NAME]",
	.summary = "the audit trail: API changes, node and app events",
	.options = "follow,since=,app=,node=",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.exec = cmd_events_exec,
};
