/*
 * The shim: a small supervisor per app run, so that apps outlive their
 * worker (as containerd's shims and Nomad's executors do). The worker execs
 * the drover-shim executable that sits beside its own once, as the zygote,
 * which forks a shim per launch (shim-main.c, shim_start_begin); the shim
 * is the app's parent and holds its output pipe, writes the output to the
 * app's log (rotating), reaps the app, records how it ended in
 * DIR/apps/ID/exit (written over in place; not fsynced, for the reason
 * workerstate_write gives) and exits. The worker learns of the end from
 * the shim's exit: SIGCHLD while the shim is its child, a pidfd after a
 * worker restart.
 */
#ifndef DROVER_SHIM_H
#define DROVER_SHIM_H

#include <stdbool.h>
#include <sys/types.h>

/* The shim's executable, looked for in the directory of the worker's own. */
#define SHIM_PROGRAM "drover-shim"

/*
 * How the worker and the shim talk: the shim finds the request (JSON, see
 * shim_start_begin) on SHIM_SPEC_FD and says how the start went, in one
 * line of at most SHIM_REPORT_MAX bytes, on SHIM_REPORT_FD: "started PID
 * START SHIM_PID" (the app's pid and /proc start time, then the shim's own) or
 * "failed CAUSE". A worker may exec a drover-shim of another version (after
 * an upgrade in place), so this only ever grows compatibly: an older worker
 * starts `drover-shim ID` itself and reads the first two numbers.
 */
#define SHIM_SPEC_FD 3
#define SHIM_REPORT_FD 4
#define SHIM_SPEC_MAX (64 * 1024 * 1024)
#define SHIM_REPORT_MAX 512
/*
 * The zygote's argument: "zygote" and room, 64 bytes in all, where each
 * shim it forks writes the id of its app (ps shows drover-shim ID).
 */
#define SHIM_ZYGOTE_ARG \
	"zygote                                                         "

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
	bool shim_is_child; /* false if the hand-over failed: watch the pidfd */
	pid_t pid; /* the app's leader (its own session and group) */
	unsigned long long start; /* its /proc starttime */
};

/*
 * Find SHIM_PROGRAM beside the running executable, once, at worker start
 * (before an upgrade can replace the files). Returns 0, or -1 with *cause
 * (caller frees) when it is missing or not executable: launches then fail,
 * naming the file. shim_start_begin calls it if nobody has.
 */
int shim_init(char **cause);

/*
 * Have a shim start the app, in two halves so that several launches can
 * start at once. shim_start_begin sends the request to the zygote (started
 * first if there is none) and returns 0 with *report (close-on-exec), where
 * the shim's word will come. shim_start_finish waits for that word (and
 * closes report): 0 once the app has been exec'ed, its shim handed to the
 * worker (a child subreaper; res->shim_is_child). Each returns -1 with
 * *cause (caller frees; "exec failed: ...") when nothing runs.
 */
int shim_start_begin(const struct shim_request *req, int *report,
    char **cause);
int shim_start_finish(int report, struct shim_result *res, char **cause);

/*
 * Start the zygote unless it runs: drover-shim exec'd once, single
 * threaded, that forks each app's shim from itself when the worker sends
 * it a launch's request (a memfd) and report pipe (SCM_RIGHTS) on its
 * socket, so that no launch waits for an exec of the shim or pays for it.
 * The worker calls it at start and when a loop turn is over. After a
 * failed start (the program is missing, say) it does nothing until a
 * launch has started one.
 */
void shim_prepare_zygote(void);

/* Let the zygote go (the worker stops): it sees its socket close and exits. */
void shim_discard_zygote(void);

/*
 * Called while the worker waits for a shim to report its start, every 50 ms
 * or so, with shim_on_wait_arg: the worker sends its heartbeat from there.
 */
extern void (*shim_on_wait)(void *);
extern void *shim_on_wait_arg;

#endif
