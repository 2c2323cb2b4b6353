/* The interactive shell: libedit on a terminal, plain lines from a pipe. */
#ifndef DROVER_SHELL_H
#define DROVER_SHELL_H

struct cmd_ctx;

/*
 * Read commands until EOF, "exit" or "quit", running each through the
 * command table. Returns the exit status of the last command run.
 */
int shell_run(struct cmd_ctx *ctx);

#endif
