/* launch: start a program on a node. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "common/util.h"
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

/* Instances one launch may start (--count), as the API allows. */
#define CMD_LAUNCH_COUNT_MAX 1000
#define CMD_LAUNCH_COUNT_MAX_TEXT "1000"

static int cmd_launch_usage(const char *, const char *);

/*
 * --check http:PORT/PATH | tcp:PORT | exec:CMD into the API's check object,
 * or NULL when the text is none of those.
 */
static json_t *
cmd_launch_parse_check(const char *text)
{
	char *end;
	long port;

	if (strncmp(text, "exec:", 5) == 0 && text[5] != '\0')
		return json_pack("{s:s, s:s}", "kind", "exec", "cmd", text + 5);
	if (strncmp(text, "tcp:", 4) == 0 || strncmp(text, "http:", 5) == 0) {
		bool http = text[0] == 'h';
		const char *p = text + (http ? 5 : 4);

		port = strtol(p, &end, 10);
		if (end == p || port < 1 || port > 65535)
			return NULL;
		if (!http)
			return *end == '\0' ? json_pack("{s:s, s:i}", "kind", "tcp",
			    "port", (int)port) : NULL;
		if (*end != '\0' && *end != '/')
			return NULL;
		return json_pack("{s:s, s:i, s:s}", "kind", "http", "port",
		    (int)port, "path", *end == '/' ? end : "/");
	}
	return NULL;
}

/* Add the placement, restart and health-check options to body. */
static int
cmd_launch_policies(struct args *a, json_t *body)
{
	const char *v;
	json_t *check = NULL;
	char *end;

	if ((v = args_get(a, "cpu")) != NULL) {
		double cpu = strtod(v, &end);

		if (*v == '\0' || *end != '\0' || cpu <= 0 || cpu > 1e6)
			return cmd_launch_usage("--cpu takes a number of cores, "
			    "not ", v);
		json_object_set_new(body, "cpu", json_real(cpu));
	}
	if ((v = args_get(a, "mem")) != NULL) {
		long long mem = cmd_launch_parse_size(v);

		if (mem == -1)
			return cmd_launch_usage("--mem takes a size such as "
			    "512M or 2G, not ", v);
		json_object_set_new(body, "mem_mb", json_integer(
		    (mem + (1 << 20) - 1) >> 20));
	}
	if ((v = args_get(a, "restart")) != NULL) {
		if (strcmp(v, "never") != 0 && strcmp(v, "on-failure") != 0 &&
		    strcmp(v, "always") != 0)
			return cmd_launch_usage("--restart takes never, "
			    "on-failure or always, not ", v);
		json_object_set_new(body, "restart", json_string(v));
	}
	if ((v = args_get(a, "max-restarts")) != NULL) {
		long n = strtol(v, &end, 10);

		if (*v == '\0' || *end != '\0' || n < 0 || n > 1000000)
			return cmd_launch_usage("--max-restarts takes a count, "
			    "not ", v);
		json_object_set_new(body, "max_restarts", json_integer(n));
	}
	if ((v = args_get(a, "check")) != NULL &&
	    (check = cmd_launch_parse_check(v)) == NULL)
		return cmd_launch_usage("--check takes http:PORT/PATH, tcp:PORT "
		    "or exec:CMD, not ", v);
	static const struct {
		const char *opt, *field;
	} timing[] = {
		{ "check-interval", "interval_ms" },
		{ "check-timeout", "timeout_ms" },
	};
	for (size_t i = 0; i < sizeof timing / sizeof timing[0]; i++) {
		long long ms;

		if ((v = args_get(a, timing[i].opt)) == NULL)
			continue;
		if (check == NULL || (ms = util_parse_duration_ms(v)) <= 0) {
			json_decref(check);
			return cmd_launch_usage(check == NULL ? "--check-* needs "
			    "--check: " : "a duration such as 10s or 500ms, not ",
			    v);
		}
		json_object_set_new(check, timing[i].field, json_integer(ms));
	}
	if ((v = args_get(a, "check-failures")) != NULL) {
		long n = strtol(v, &end, 10);

		if (check == NULL || *v == '\0' || *end != '\0' || n < 1 ||
		    n > 1000) {
			json_decref(check);
			return cmd_launch_usage("--check-failures takes a count "
			    "with --check, not ", v);
		}
		json_object_set_new(check, "failures", json_integer(n));
	}
	if (check != NULL)
		json_object_set_new(body, "check", check);
	return CMD_OK;
}

/* What a launch prints for a started app: where it went and its PID. */
static void
cmd_launch_print(json_t *app, const char *node)
{
	const char *id, *v;
	json_t *pid;

	if ((id = json_string_value(json_object_get(app, "id"))) == NULL)
		id = "?";
	if ((v = json_string_value(json_object_get(app, "node"))) == NULL)
		v = node;
	if (json_is_string(json_object_get(app, "placement")))
		printf("placed on %s: %s\n", v, json_string_value(
		    json_object_get(app, "placement")));
	pid = json_object_get(app, "pid");
	if (json_is_integer(pid))
		printf("launched %s on %s, pid %lld\n", id, v,
		    (long long)json_integer_value(pid));
	else
		printf("launched %s on %s, pid -\n", id, v);
}

/*
 * Why an instance of a launch with a count did not start: the error the
 * worker or the master gave, or the cause of the dead app (exec failed);
 * NULL when it started.
 */
static const char *
cmd_launch_failure(json_t *element)
{
	const char *text, *state;

	if ((text = json_string_value(json_object_get(element, "error"))) !=
	    NULL)
		return text;
	state = json_string_value(json_object_get(element, "state"));
	if (state != NULL && strcmp(state, "dead") == 0) {
		text = json_string_value(json_object_get(element, "cause"));
		return text != NULL ? text : "it is dead";
	}
	return json_is_object(element) ? NULL : "no answer for it";
}

/*
 * POST body, which asks for several instances, and report each: the lines
 * of a single launch for those that started, in order, an error line on
 * stderr for each that did not. CMD_OK only if all started.
 */
static int
cmd_launch_count(struct cmd_ctx *ctx, json_t *body, const char *node)
{
	json_t *reply = NULL, *apps, *element;
	const char *text;
	char *cause = NULL;
	int status;
	size_t i;

	status = client_call(ctx->client, "POST", "/v1/apps", body, &reply,
	    &cause);
	apps = status != -1 ? json_object_get(reply, "apps") : NULL;
	/* Refused as a whole (nothing was sent): as a single launch. */
	if (!json_is_array(apps))
		return cmd_answer(status, cause, &reply);
	free(cause);
	if (ctx->json)
		cmd_print_json(reply);
	json_array_foreach(apps, i, element) {
		const char *id = json_string_value(json_object_get(element,
		    "id"));

		if (ctx->json)
			break;
		if ((text = cmd_launch_failure(element)) != NULL)
			fprintf(stderr, "drover: %s: %s\n", id != NULL ? id :
			    "?", text);
		else
			cmd_launch_print(element, node);
	}
	if (status >= 200 && status < 300) {
		json_decref(reply);
		return CMD_OK;
	}
	text = json_string_value(json_object_get(reply, "error"));
	fprintf(stderr, "drover: %s\n", text != NULL ? text :
	    "some launches failed");
	json_decref(reply);
	return CMD_FAILED;
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
	/* One positional: the master places it (like `launch auto PATH`). */
	const char *node = a->argc == 2 ? a->argv[0] : "auto";
	const char *path = a->argv[a->argc - 1], *v;
	const char *envs[ARGS_MAX_FLAGS];
	json_t *body, *env, *argv, *reply;
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
	if ((rc = cmd_launch_policies(a, body)) != CMD_OK) {
		json_decref(body);
		return rc;
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

	if ((v = args_get(a, "count")) != NULL) {
		char *end;
		long count = strtol(v, &end, 10);

		if (*v < '0' || *v > '9' || *end != '\0' || count < 1 ||
		    count > CMD_LAUNCH_COUNT_MAX) {
			json_decref(body);
			return cmd_launch_usage("--count takes a number from 1 "
			    "to " CMD_LAUNCH_COUNT_MAX_TEXT ", not ", v);
		}
		json_object_set_new(body, "count", json_integer(count));
		rc = cmd_launch_count(ctx, body, node);
		json_decref(body);
		return rc;
	}

	rc = cmd_call(ctx, "POST", "/v1/apps", body, &reply);
	json_decref(body);
	if (rc != CMD_OK)
		return rc;
	if (ctx->json)
		cmd_print_json(reply);
	else
		cmd_launch_print(reply, node);
	json_decref(reply);
	return CMD_OK;
}

const struct cmd_entry cmd_launch_entry = {
	.name = "launch",
	.usage = "[NODE|auto] PATH|ARTIFACT [--count N] [--name APP] "
		 "[--env K=V ...] [--cwd DIR] [--log-max BYTES] [--cpu N] "
		 "[--mem SIZE] "
		 "[--restart never|on-failure|always] [--max-restarts N] "
		 "[--check http:PORT/PATH|tcp:PORT|exec:CMD [--check-interval 10s] "
		 "[--check-timeout 2s] [--check-failures 3]] [-- ARGS...]",
	.summary = "start a program, or N copies (--count), on a node or the "
		   "least loaded",
	.options = "count=,name=,env=*,cwd=,log-max=,cpu=,mem=,restart=,"
		   "max-restarts=,check=,check-interval=,check-timeout=,"
		   "check-failures=",
	.min_args = 1,
	.max_args = 2,
	.flags = CMD_MUTATING,
	.exec = cmd_launch_exec,
};
