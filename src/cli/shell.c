#include "cli/shell.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"
#include "common/util.h"
#include "common/xmem.h"

/* Offer command names for the first word on the line. */
static char *
shell_complete_command(const char *text, int state)
{
	static size_t index;
	static bool help_done;
	size_t len = strlen(text);

	if (state == 0) {
		index = 0;
		help_done = false;
	}
	while (cmd_table[index] != NULL) {
		const char *name = cmd_table[index++]->name;

		if (strncmp(name, text, len) == 0)
			return strdup(name);
	}
	if (!help_done) {
		help_done = true;
		if (strncmp("help", text, len) == 0)
			return strdup("help");
	}
	return NULL;
}

static char **
shell_complete(const char *text, int start, int end)
{
	(void)end;
	if (start != 0)
		return NULL;
	return rl_completion_matches(text, shell_complete_command);
}

/* Run one line; returns its status, or -1 to leave the shell. */
static int
shell_line(struct cmd_ctx *ctx, const char *line)
{
	char **argv, *cause = NULL;
	int argc, rc;

	if ((argv = args_split(line, &argc, &cause)) == NULL) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return CMD_USAGE;
	}
	if (argc == 0 || argv[0][0] == '#')
		rc = CMD_OK;
	else if (strcmp(argv[0], "exit") == 0 || strcmp(argv[0], "quit") == 0)
		rc = -1;
	else
		rc = cmd_run(ctx, argc, argv);
	args_split_free(argv);
	fflush(stdout);
	return rc;
}

int
shell_run(struct cmd_ctx *ctx)
{
	int last = CMD_OK, rc;

	if (!isatty(STDIN_FILENO)) {
		char *line = NULL;
		size_t cap = 0;

		ctx->interactive = false;
		while (getline(&line, &cap, stdin) != -1) {
			util_chomp(line);
			if ((rc = shell_line(ctx, line)) == -1)
				break;
			last = rc;
		}
		free(line);
		return last;
	}

	ctx->interactive = true;
	rl_readline_name = "drover";
	rl_attempted_completion_function = shell_complete;
	printf("drover shell: connected to %s. Type 'help' for commands, "
	    "'exit' to leave.\n", client_base(ctx->client));
	for (;;) {
		char *line = readline("drover> ");

		if (line == NULL) {
			printf("\n");
			break;
		}
		if (line[0] != '\0')
			add_history(line);
		rc = shell_line(ctx, line);
		free(line);
		if (rc == -1)
			break;
		last = rc;
	}
	return last;
}
