/*
 * The shim: a small supervisor per app run, so that apps outlive their
 * worker (as containerd's shims and Nomad's executors do). The worker execs
 * `drover shim ID` (a fresh image of the same binary, see shim_start); the
 * shim is the app's parent and holds its output pipe, writes the output to
 * the app's log (rotating), reaps the app, records how it ended in
 * DIR/apps/ID/exit (atomically) and exits. The worker learns of the end
 * from the shim's exit: SIGCHLD while the shim is its child, a pidfd after
 * a worker restart.
 */
#ifndef DROVER_SHIM_H
#define DROVER_SHIM_H

#include <sys/types.h>

/* What the shim runs. All borrowed. */
struct shim_request {
	const char *id;
	const char *dir;  /* DIR/apps/ID: the log and the exit file */
	const char *path; /* the app's program */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	long long log_max;
	int log_keep;
};

struct shim_result {
	pid_t shim_pid; /* the worker's child: reap it */
	int shim_pidfd; /* close-on-exec, -1 if unavailable */
	unsigned long long shim_start;
	pid_t pid; /* the app's leader (its own session and group) */
	unsigned long long start; /* its /proc starttime */
};

/*
 * Start a shim that starts the app, and wait for its word: 0 once the app
 * has been exec'ed, or -1 with *cause (caller frees; "exec failed: ...")
 * when nothing runs, and no shim is left behind.
 */
int shim_start(const struct shim_request *req, struct shim_result *res,
    char **cause);

/* Entry point of the hidden role `drover shim ID` (fds 3 and 4 set up). */
int shim_main(int argc, char **argv);

/*
 * Called while the worker waits for a shim to report its start, every 50 ms
 * or so, with shim_on_wait_arg: the worker sends its heartbeat from there.
 */
extern void (*shim_on_wait)(void *);
extern void *shim_on_wait_arg;

#endif
