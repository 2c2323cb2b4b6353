/*
 * Starting an app's program, and signalling its process group. Every app is
 * started the same way (see spawn.c): its own session, stdin from /dev/null,
 * stdout and stderr on its log, no other descriptor, default signals.
 */
#ifndef DROVER_SPAWN_H
#define DROVER_SPAWN_H

#include <signal.h>
#include <sys/types.h>

/* What to run. All borrowed: spawn_app keeps nothing after it returns. */
struct spawn_request {
	const char *path;  /* holds a '/' (absolute or not): no PATH search */
	char *const *argv; /* NULL-terminated, argv[0] included */
	char *const *envp; /* the full environment, NULL-terminated */
	const char *cwd;   /* may be NULL: the worker's own */
	int log_fd;	   /* becomes the child's stdout and stderr */
	/*
	 * Descriptors handed on: pass_fds[i] becomes descriptor 3 + i in the
	 * child (without close-on-exec); every other one is closed.
	 */
	const int *pass_fds;
	int npass; /* at most SPAWN_PASS_MAX */
	/*
	 * The signals whose disposition the child sets back to the default
	 * before it execs; NULL: every one. exec itself resets the caught
	 * ones, so a caller that catches none (the supervisor: signalfd only)
	 * names those it ignores, which would stay ignored in the program,
	 * and saves the rest of the 64 system calls.
	 */
	const sigset_t *reset;
};

#define SPAWN_PASS_MAX 4

struct spawn_result {
	pid_t pid; /* also the app's session and process group id */
	int pidfd; /* from pidfd_open, close-on-exec; -1 if unavailable */
};

/*
 * Starts req->path and returns 0 once it has been exec'ed, not merely forked.
 * The caller owns res->pidfd (closes it) and reaps res->pid (reap_children);
 * until then the pid cannot be reused. Returns -1 when nothing runs (no child
 * is left behind), with errno set (ENOENT, EACCES, ... from the child's
 * execve or chdir; EINVAL for a path without '/') and *cause an allocated
 * message the caller frees: "exec failed: No such file or directory".
 */
int spawn_app(const struct spawn_request *req, struct spawn_result *res,
	      char **cause);

/*
 * Sends sig to the process group pgid (an app's pid), but only while its
 * leader is still ours: when pidfd >= 0 and the leader has been reaped,
 * returns -1 with errno ESRCH and signals nothing, so a reused pid is never
 * hit. A zombie leader still counts (its group may have live members).
 * Returns -1 with errno EINVAL for pgid <= 1, and kill's errno otherwise.
 */
int spawn_signal_group(pid_t pgid, int pidfd, int sig);

#endif
