/*
 * The shim: a small supervisor per app run, so that apps outlive their
 * worker (as containerd's shims and Nomad's executors do). The worker execs
 * the drover-shim executable that sits beside its own (shim-main.c, see
 * shim_start); the shim is the app's parent and holds its output pipe,
 * writes the output to the app's log (rotating), reaps the app, records how
 * it ended in DIR/apps/ID/exit (replaced whole; not fsynced, for the reason
 * workerstate_write gives) and exits. The worker learns of
 * the end from the shim's exit: SIGCHLD while the shim is its child, a
 * pidfd after a worker restart.
 */
#ifndef DROVER_SHIM_H
#define DROVER_SHIM_H

#include <sys/types.h>

/* The shim's executable, looked for in the directory of the worker's own. */
#define SHIM_PROGRAM "drover-shim"

/*
 * How the worker and the shim talk: the shim finds the request (JSON, see
 * shim_start) on SHIM_SPEC_FD and says how the start went, in one line of
 * at most SHIM_REPORT_MAX bytes, on SHIM_REPORT_FD: "started PID START" or
 * "failed CAUSE". A worker may exec a drover-shim of another version (after
 * an upgrade in place), so this only ever grows compatibly.
 */
#define SHIM_SPEC_FD 3
#define SHIM_REPORT_FD 4
#define SHIM_SPEC_MAX (64 * 1024 * 1024)
/*
 * A spare's argument: "spare" and room, 64 bytes in all, where it writes
 * the id of the app it runs once it knows it (ps shows drover-shim ID).
 */
#define SHIM_SPARE_ARG \
	"spare                                                          "
#define SHIM_REPORT_MAX 512

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
 * Find SHIM_PROGRAM beside the running executable, once, at worker start
 * (before an upgrade can replace the files). Returns 0, or -1 with *cause
 * (caller frees) when it is missing or not executable: launches then fail,
 * naming the file. shim_start calls it if nobody has.
 */
int shim_init(char **cause);

/*
 * Have a shim start the app, and wait for its word: 0 once the app has been
 * exec'ed, or -1 with *cause (caller frees; "exec failed: ...") when
 * nothing runs, and no shim is left behind. The shim is the spare when
 * there is one, else one started now.
 */
int shim_start(const struct shim_request *req, struct shim_result *res,
    char **cause);

/*
 * Start a spare shim unless there is one: exec'd now, it waits on a socket
 * for its request (the descriptor of a memfd, SCM_RIGHTS), so that the
 * next launch does not wait for the shim's exec. The worker calls it when a
 * loop turn is over, its answers sent. After a failed start (the program is
 * missing, say) it does nothing until a launch has started a shim again.
 */
void shim_prepare_spare(void);

/* Let the spare go (the worker stops): it sees its socket close and exits. */
void shim_discard_spare(void);

/*
 * Called while the worker waits for a shim to report its start, every 50 ms
 * or so, with shim_on_wait_arg: the worker sends its heartbeat from there.
 */
extern void (*shim_on_wait)(void *);
extern void *shim_on_wait_arg;

#endif
