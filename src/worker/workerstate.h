/*
 * What a worker must remember across its own restart, so it can take its
 * apps back (they run on under the node's supervisor, see supervisor.h):
 * the state file DIR/worker-state.json, one entry per app, and the exit
 * file the supervisor writes when no worker hears of an app's end,
 * DIR/apps/ID/exit (or an older version's shim wrote). Parse functions
 * take bytes, so unit tests and the fuzz target can feed them anything;
 * nothing here knows struct app.
 */
#ifndef DROVER_WORKERSTATE_H
#define DROVER_WORKERSTATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker/app.h"

/* The largest state file read back (1,000 dead apps take about 1 MiB). */
#define WORKERSTATE_MAX (64 * 1024 * 1024)
#define WORKERSTATE_VERSION 1

/* One app as the state file records it. Strings owned by the struct. */
struct workerstate_app {
	char *id;
	char *name;
	char *path;
	char *artifact; /* NULL: none */
	char *cwd;	/* NULL: the app's dir */
	json_t *args;	/* array of strings, as launched */
	char **argv;	/* NULL-terminated; NULL once dead for good */
	char **envp;	/* likewise */
	json_t *check;	/* the launch's check object, or NULL */
	enum app_phase phase;
	enum app_restart restart;
	int max_restarts;
	int restarts;
	int backoff_ms;
	bool user_stopped;
	long long log_max;
	int log_keep;
	/*
	 * Its parent: the node's supervisor, or an older version's shim (the
	 * names are the state file's since then). 0: none known.
	 */
	pid_t shim_pid;
	unsigned long long shim_start; /* its /proc starttime */
	pid_t pid;			/* the app's leader, 0 if it never ran */
	unsigned long long start;	/* /proc starttime of the leader */
	int64_t started_at;		/* wall ms */
	int64_t ended_at;
	int64_t stop_deadline; /* wall ms of a stop's SIGKILL, 0: none */
	bool has_status;
	int status; /* wait status */
	long long user_us, sys_us, maxrss_kb;
	char cause[192];
};

/* The end of one run, as its supervisor (or shim) recorded it. */
struct workerstate_exit {
	pid_t pid;
	unsigned long long start;
	int status;
	long long user_us, sys_us, maxrss_kb;
	int64_t ended_at; /* wall ms */
};

/* One entry of the state file (pointers borrowed from s). */
json_t *workerstate_app_to_json(const struct workerstate_app *s);
/*
 * The same entry as compact JSON text (allocated, caller frees): what
 * workerstate_write takes, so that a caller can keep the text of an entry
 * that no longer changes instead of encoding it at every write.
 */
char *workerstate_app_format(const struct workerstate_app *s);
/*
 * Write {"version", "generation", "apps": [entries]} to path, replacing it
 * whole (util_write_file_swap), each entry the text of
 * workerstate_app_format. The changes after it go to the journal of the
 * same generation (below) until the journal is long enough for the next
 * write of the whole file to be the cheaper.
 * Not fsynced: the file serves a restart of the worker, which the page
 * cache outlives; what empties the page cache (a power loss, a kernel
 * crash) also ends every app the file lists, and the master then marks
 * them lost, so waiting for the disk at each launch would buy nothing.
 * entries is borrowed. Returns 0, or -1 with errno set.
 */
int workerstate_write(const char *path, uint64_t generation,
    char *const *entries, size_t n);

/*
 * The journal, DIR/worker-state.journal: what changed since the state file
 * was written, appended at the end of each loop turn instead of rewriting
 * the whole file (which took a fifth of the worker's CPU per launch). Its
 * first line, {"generation":G}, names the state file it continues; each
 * other line is an app's entry (it replaces the app's earlier one, or adds
 * a new app) or {"forget":"ID"}. A journal of another generation than the
 * state file's is from before the state file's last write, which holds
 * all it says: it is ignored.
 */
#define WORKERSTATE_JOURNAL_MAX (1024 * 1024)

/*
 * Start path as the journal of generation: emptied, its first line
 * written. Returns the descriptor (O_APPEND, close-on-exec) or -1 with
 * errno.
 */
int workerstate_journal_start(const char *path, uint64_t generation);
/* The journal line that forgets app id (allocated, caller frees). */
char *workerstate_forget_format(const char *id);
/*
 * Append lines (entries, forget lines; without their newlines) in one
 * write. Returns the bytes written, or -1 with errno: then the journal may
 * end in a partial line, and the caller writes the state file instead.
 */
ssize_t workerstate_journal_append(int fd, char *const *lines, size_t n);

/*
 * Parse a state file's bytes (len of them, no NUL needed) and apply its
 * journal's (journal may be NULL). Returns 0 with *apps, newest first (an
 * array of *napps, caller frees with workerstate_apps_free), and the
 * state file's *generation, or -1 with *cause (caller frees) when the text
 * is not a valid state file. A journal line that cannot be read (the last
 * one may have been cut short) is left out, and counted in *skipped.
 */
int workerstate_parse(const char *text, size_t len, const char *journal,
    size_t jlen, struct workerstate_app **apps, size_t *napps,
    uint64_t *generation, size_t *skipped, char **cause);
void workerstate_apps_free(struct workerstate_app *apps, size_t napps);

/* An exit file's text (allocated, caller frees). */
char *workerstate_format_exit(const struct workerstate_exit *e);
/* Parse an exit file's bytes. 0, or -1 with *cause (caller frees). */
int workerstate_parse_exit(const char *text, size_t len,
    struct workerstate_exit *e, char **cause);

/* The /proc starttime of pid: 0, or -1 when it does not exist. */
int workerstate_read_start(pid_t pid, unsigned long long *start);
/*
 * Whether pid is still the process that had start time start (so that a
 * PID reused by another process is never taken for it). read_start is
 * workerstate_read_start, or a fake in tests.
 */
bool workerstate_same_process(pid_t pid, unsigned long long start,
    int (*read_start)(pid_t, unsigned long long *));

#endif
