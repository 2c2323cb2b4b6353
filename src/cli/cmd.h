/*
 * Commands: one constant entry per command (cmd-<verb>.c), one table
 * (cmd.c). The one-shot CLI and the shell both parse into these entries, so
 * there is one code path for both.
 */
#ifndef DROVER_CMD_H
#define DROVER_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/args.h"

struct client;

/* Exit statuses: the CLI's contract (README). */
#define CMD_OK 0
#define CMD_FAILED 1 /* refused, failed, or the master could not be reached */
#define CMD_USAGE 2

#define CMD_MUTATING 0x1 /* changes the cluster */
#define CMD_CONFIRM 0x2	 /* asks before doing it in the shell */

struct cmd_ctx {
	struct client *client;
	bool json;	   /* print the API's JSON instead of a table */
	bool interactive;  /* typed at a shell prompt on a terminal */
};

struct cmd_entry {
	const char *name;
	const char *usage;   /* arguments, e.g. "[NODE] [--all]" */
	const char *summary; /* one line for `help` */
	const char *options; /* args_parse spec; "json" is always allowed */
	int min_args;
	int max_args; /* -1: any number */
	unsigned flags;
	int (*exec)(struct cmd_ctx *, struct args *);
};

/* Find a command by name, or NULL. */
const struct cmd_entry *cmd_find(const char *name);
/* The table, NULL-terminated, for help and completion. */
extern const struct cmd_entry *const cmd_table[];

/*
 * Parse argv (argv[0] is the command name) and run the command. Prints
 * usage and returns CMD_USAGE for an unknown command or bad arguments.
 */
int cmd_run(struct cmd_ctx *, int argc, char **argv);
/* `help` and `help COMMAND`. */
int cmd_help(FILE *f, const char *name);

/*
 * Call the API for a command. Returns CMD_OK with *reply set on a 2xx reply;
 * otherwise prints the error ("drover: ...") and returns CMD_FAILED.
 */
int cmd_call(struct cmd_ctx *, const char *method, const char *path,
    json_t *body, json_t **reply);
/*
 * The same for a client_call already made: its status, *cause (freed) and
 * *reply (set to NULL unless CMD_OK).
 */
int cmd_answer(int status, char *cause, json_t **reply);
/* Percent-encode s for one URL path segment (caller frees). */
char *cmd_escape(const char *s);
/* "800K", "12.3M", "1.5G" from kilobytes. */
void cmd_format_kb(long long kb, char *buf, size_t len);
/* Print JSON for --json. */
void cmd_print_json(json_t *);

extern const struct cmd_entry cmd_nodes_entry;
extern const struct cmd_entry cmd_launch_entry;
extern const struct cmd_entry cmd_ps_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_usage_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_copy_entry;
extern const struct cmd_entry cmd_delete_entry;
extern const struct cmd_entry cmd_artifacts_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_top_entry;

#endif
