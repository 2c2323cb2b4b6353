/* The command-line client: `drover COMMAND ...` and `drover shell`. */
#ifndef DROVER_CLI_H
#define DROVER_CLI_H

/* Entry point for every argv that is not a daemon role. */
int cli_main(int argc, char **argv);

/*
 * Run the shell against the API at url with token (used by `drover dev` and
 * `drover master --shell`). Returns the shell's exit status.
 */
int cli_shell(const char *url, const char *token);

/* The admin token a client uses when none is given: DROVER_TOKEN, else the
 * default state dir's admin.token. Returns NULL when there is none. */
char *cli_default_token(void);

#endif
