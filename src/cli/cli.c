#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/shell.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

static void
cli_usage(FILE *f)
{
	fprintf(f,
	    "usage: drover [--api URL] [--token T] [--json] COMMAND [ARGS]\n"
	    "       drover master [...]   run the master (drover master --help)\n"
	    "       drover worker [...]   run a worker (drover worker --help)\n"
	    "       drover dev [--workers N]  a local cluster with a shell\n"
	    "       drover shell          the interactive shell\n"
	    "  --api URL    the master's REST API (default $DROVER_API, else "
	    "http://127.0.0.1:7401)\n"
	    "  --token T    the admin token (default $DROVER_TOKEN, else the "
	    "state dir's admin.token)\n"
	    "  --json       print the API's JSON instead of tables\n\n");
	cmd_help(f, NULL);
}

char *
cli_default_token(void)
{
	const char *env = getenv("DROVER_TOKEN");
	char *dir, *path, *text;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	dir = util_default_state_dir();
	path = xasprintf("%s/admin.token", dir);
	text = util_read_file(path, 4096, NULL);
	free(path);
	free(dir);
	if (text != NULL)
		util_chomp(text);
	return text;
}

int
cli_shell(const char *url, const char *token)
{
	struct cmd_ctx ctx = { 0 };
	int rc;

	ctx.client = client_new(url, token);
	rc = shell_run(&ctx);
	client_free(ctx.client);
	return rc;
}

int
cli_main(int argc, char **argv)
{
	const char *api = getenv("DROVER_API");
	char *token = NULL;
	struct cmd_ctx ctx = { 0 };
	int i, rc;

	log_init("drover");
	if (api == NULL || *api == '\0')
		api = "http://127.0.0.1:7401";
	/* Global options come before the command. */
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i], *v = NULL;

		if (strcmp(o, "--json") == 0) {
			ctx.json = true;
			continue;
		}
		if (strcmp(o, "--help") == 0) {
			cli_usage(stdout);
			free(token);
			return CMD_OK;
		}
		if (strcmp(o, "--version") == 0) {
			printf("drover %s\n", DROVER_VERSION);
			free(token);
			return CMD_OK;
		}
		if (strncmp(o, "--api=", 6) == 0)
			v = o + 6;
		else if (strncmp(o, "--token=", 8) == 0)
			v = o + 8;
		else if ((strcmp(o, "--api") == 0 || strcmp(o, "--token") == 0) &&
		    i + 1 < argc)
			v = argv[++i];
		else {
			fprintf(stderr, "drover: unknown or incomplete option %s\n",
			    o);
			cli_usage(stderr);
			free(token);
			return CMD_USAGE;
		}
		if (strncmp(o, "--api", 5) == 0)
			api = v;
		else {
			free(token);
			token = xstrdup(v);
		}
	}
	if (i == argc) {
		cli_usage(stderr);
		free(token);
		return CMD_USAGE;
	}
	if (strcmp(argv[i], "shell") != 0 && strcmp(argv[i], "help") != 0 &&
	    cmd_find(argv[i]) == NULL) {
		fprintf(stderr, "drover: unknown command '%s'\n", argv[i]);
		cli_usage(stderr);
		free(token);
		return CMD_USAGE;
	}
	if (token == NULL)
		token = cli_default_token();
	ctx.client = client_new(api, token);
	free(token);
	if (strcmp(argv[i], "shell") == 0) {
		if (i + 1 != argc) {
			fprintf(stderr, "usage: drover shell\n");
			rc = CMD_USAGE;
		} else
			rc = shell_run(&ctx);
	} else
		rc = cmd_run(&ctx, argc - i, argv + i);
	client_free(ctx.client);
	return rc;
}
