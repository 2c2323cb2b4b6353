/* launch: start a program on a node. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/xmem.h"

/*
 * Parse a size in bytes: a positive integer with an optional K, M or G
 * suffix (powers of 1024). Returns -1 when the text is not one, or is above
 * 2^53 (the largest integer every JSON reader keeps exactly).
 */
static long long
cmd_launch_parse_size(const char *text)
{
	long long n, mult = 1;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || end == text)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1LL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1LL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1LL << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || n <= 0 || n > (1LL << 53) / mult)
		return -1;
	return n * mult;
}

/* Print a usage error for launch; returns CMD_USAGE. */
static int
cmd_launch_usage(const char *why, const char *what)
{
	fprintf(stderr, "drover launch: %s%s\n", why, what);
	fprintf(stderr, "usage: %s %s\n", cmd_launch_entry.name,
	    cmd_launch_entry.usage);
	return CMD_USAGE;
}

static int
cmd_launch_exec(struct cmd_ctx *ctx, struct args *a)
{
	const char *node = a->argv[0], *path = a->argv[1], *id, *v;
	const char *envs[ARGS_MAX_FLAGS];
	json_t *body, *env, *argv, *reply, *pid;
	int nenv, rc;

	if (path[0] == '\0')
		return cmd_launch_usage("PATH must not be empty", "");
	body = json_object();
	json_object_set_new(body, "node", json_string(node));
	/* An absolute path runs a file already on the worker. */
	json_object_set_new(body, path[0] == '/' ? "path" : "artifact",
	    json_string(path));

	argv = json_array();
	for (int i = 0; i < a->nrest; i++)
		json_array_append_new(argv, json_string(a->rest[i]));
	json_object_set_new(body, "args", argv);

	nenv = args_get_all(a, "env", envs, ARGS_MAX_FLAGS);
	if (nenv > 0) {
		env = json_object();
		json_object_set_new(body, "env", env);
		for (int i = 0; i < nenv; i++) {
			const char *eq = strchr(envs[i], '=');
			char *key;

			if (eq == NULL || eq == envs[i]) {
				json_decref(body);
				return cmd_launch_usage("--env takes KEY=VALUE, "
				    "not ", envs[i]);
			}
			key = xstrndup(envs[i], (size_t)(eq - envs[i]));
			json_object_set_new(env, key, json_string(eq + 1));
			free(key);
		}
	}
	if ((v = args_get(a, "cwd")) != NULL)
		json_object_set_new(body, "cwd", json_string(v));
	if ((v = args_get(a, "name")) != NULL)
		json_object_set_new(body, "name", json_string(v));
	if ((v = args_get(a, "log-max")) != NULL) {
		long long max = cmd_launch_parse_size(v);

		if (max == -1) {
			json_decref(body);
			return cmd_launch_usage("--log-max takes a positive "
			    "number of bytes (K, M, G suffixes allowed), not ",
			    v);
		}
		json_object_set_new(body, "log_max", json_integer(max));
	}

	rc = cmd_call(ctx, "POST", "/v1/apps", body, &reply);
	json_decref(body);
	if (rc != CMD_OK)
		return rc;
	if (ctx->json) {
		cmd_print_json(reply);
		json_decref(reply);
		return CMD_OK;
	}
	if ((id = json_string_value(json_object_get(reply, "id"))) == NULL)
		id = "?";
	if ((v = json_string_value(json_object_get(reply, "node"))) == NULL)
		v = node;
	pid = json_object_get(reply, "pid");
	if (json_is_integer(pid))
		printf("launched %s on %s, pid %lld\n", id, v,
		    (long long)json_integer_value(pid));
	else
		printf("launched %s on %s, pid -\n", id, v);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_launch_entry = {
	.name = "launch",
	.usage = "NODE PATH [--name APP] [--env K=V ...] [--cwd DIR] "
		 "[--log-max BYTES] [-- ARGS...]",
	.summary = "start a program on a node (PATH absolute on the worker)",
	.options = "name=,env=*,cwd=,log-max=",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_MUTATING,
	.exec = cmd_launch_exec,
};
