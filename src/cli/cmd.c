#include "cli/cmd.h"

#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "common/xmem.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_nodes_entry,
	&cmd_launch_entry,
	&cmd_ps_entry,
	&cmd_stop_entry,
	&cmd_kill_entry,
	&cmd_usage_entry,
	&cmd_logs_entry,
	&cmd_copy_entry,
	&cmd_delete_entry,
	&cmd_artifacts_entry,
	&cmd_events_entry,
	&cmd_top_entry,
	NULL,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

static void
cmd_print_usage(FILE *f, const struct cmd_entry *e)
{
	fprintf(f, "usage: %s %s\n", e->name, e->usage);
}

int
cmd_help(FILE *f, const char *name)
{
	const struct cmd_entry *e;

	if (name != NULL) {
		if ((e = cmd_find(name)) == NULL) {
			fprintf(stderr, "drover: no such command: %s\n", name);
			return CMD_USAGE;
		}
		cmd_print_usage(f, e);
		fprintf(f, "%s\n", e->summary);
		return CMD_OK;
	}
	fprintf(f, "commands:\n");
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "list commands, or show one's usage");
	fprintf(f, "every command takes --json to print the API's JSON\n");
	return CMD_OK;
}

int
cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *e;
	struct cmd_ctx local = *ctx;
	struct args a;
	char *spec, *cause = NULL;
	int rc;

	if (argc < 1)
		return CMD_OK;
	if (strcmp(argv[0], "help") == 0)
		return cmd_help(stdout, argc > 1 ? argv[1] : NULL);
	if ((e = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "drover: unknown command '%s' (try 'help')\n",
		    argv[0]);
		return CMD_USAGE;
	}
	spec = xasprintf("json,help%s%s", e->options[0] != '\0' ? "," : "",
	    e->options);
	rc = args_parse(argc - 1, argv + 1, spec, &a, &cause);
	free(spec);
	if (rc == -1) {
		fprintf(stderr, "drover %s: %s\n", e->name, cause);
		cmd_print_usage(stderr, e);
		free(cause);
		return CMD_USAGE;
	}
	if (args_has(&a, "help")) {
		cmd_help(stdout, e->name);
		args_free(&a);
		return CMD_OK;
	}
	if (a.argc < e->min_args || (e->max_args >= 0 && a.argc > e->max_args)) {
		fprintf(stderr, "drover %s: %s arguments\n", e->name,
		    a.argc < e->min_args ? "missing" : "too many");
		cmd_print_usage(stderr, e);
		args_free(&a);
		return CMD_USAGE;
	}
	if (args_has(&a, "json"))
		local.json = true;
	rc = e->exec(&local, &a);
	args_free(&a);
	return rc;
}

int
cmd_call(struct cmd_ctx *ctx, const char *method, const char *path,
    json_t *body, json_t **reply)
{
	char *cause = NULL;
	int status;

	status = client_call(ctx->client, method, path, body, reply, &cause);
	return cmd_answer(status, cause, reply);
}

int
cmd_answer(int status, char *cause, json_t **reply)
{
	const char *text = NULL;

	if (status == -1) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return CMD_FAILED;
	}
	if (status >= 200 && status < 300)
		return CMD_OK;
	if (*reply != NULL)
		text = json_string_value(json_object_get(*reply, "error"));
	fprintf(stderr, "drover: %s\n", text != NULL ? text :
	    "the master answered with an error");
	json_decref(*reply);
	*reply = NULL;
	return CMD_FAILED;
}

char *
cmd_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

void
cmd_format_kb(long long kb, char *buf, size_t len)
{
	if (kb < 1024)
		snprintf(buf, len, "%lldK", kb);
	else if (kb < 1024 * 1024)
		snprintf(buf, len, "%.1fM", (double)kb / 1024.0);
	else
		snprintf(buf, len, "%.1fG", (double)kb / (1024.0 * 1024.0));
}

void
cmd_print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (text != NULL) {
		printf("%s\n", text);
		free(text);
	}
}
