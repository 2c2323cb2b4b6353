/*
 * The node's supervisor: one small process, drover-supervisor
 * (supervisor-main.c), that is the parent of every app on the node, so that
 * apps outlive their worker (stopped, killed, upgraded) and their exact exit
 * status and rusage are still known: a process's wait status goes to its
 * parent alone, and a plain child subreaper does not help once the worker
 * itself is gone.
 *
 * The worker starts it once, with a listening socket DIR/supervisor.sock,
 * and talks to it over one SOCK_SEQPACKET connection (messages in
 * supmsg.h): for each launch the supervisor opens the app's log, starts the
 * app with the one spawn recipe (spawn.c), its stdout and stderr on the log
 * file itself, and answers with the app's pid, start time and a pidfd. When
 * an app ends it tells the worker how (wait status and rusage, from wait4),
 * and keeps that until the worker says it has recorded it ("forget"), so an
 * end told to a worker killed before it recorded it is told again to the
 * next one. With no worker connected it writes each end to the app's exit
 * file, DIR/apps/ID/exit, as well. A worker started again connects to the
 * supervisor still running, which tells it which apps run and each end it
 * has not recorded. With no worker and no app left it exits; the next
 * worker starts another.
 *
 * It replaced a supervisor per app (a "shim", like containerd-shim), which
 * cost a process per launch: in the launch benchmark, more CPU than the
 * apps themselves. The price is that all apps on a node share one parent:
 * should it die, they run on (reparented to the worker, which reaps them
 * with their status, or to init when the worker that started it is gone
 * too, when only the fact of the end is known).
 */
#ifndef DROVER_SUPERVISOR_H
#define DROVER_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "worker/supmsg.h"

/* What the supervisor answers to a launch that started. */
struct supervisor_started {
	pid_t pid;		  /* the app's leader: its session and group */
	unsigned long long start; /* its /proc start time */
	int pidfd;		  /* close-on-exec, caller's; -1 if none came */
};

/* What the worker does with what the supervisor tells on its own. */
struct supervisor_hooks {
	/* An app it runs, told when the connection begins. */
	void (*live)(void *arg, const char *id, pid_t pid,
	    unsigned long long start);
	/* An app ended; e's strings are borrowed for the call. */
	void (*ended)(void *arg, const struct supmsg_end *e);
	/* The connection ended (the supervisor died): why. */
	void (*lost)(void *arg, const char *why);
};

/*
 * Find SUPERVISOR_PROGRAM beside the running executable, once, at worker
 * start (before an upgrade can replace the files). Returns 0, or -1 with
 * *cause (caller frees) when it is missing or not executable: launches then
 * fail, naming the file, until it is there.
 */
int supervisor_init(char **cause);

/*
 * Connect to the supervisor of dir: the one running (a worker before us
 * started it), or a new one started now. What it tells first (the apps it
 * runs, the ends not recorded) goes to the hooks at the next
 * supervisor_input. Returns 0, or -1
 * with *cause (caller frees) when there is none and none could start.
 */
int supervisor_connect(const char *dir, const struct supervisor_hooks *,
    void *arg, char **cause);
/* Whether a supervisor is connected; its pid and start time if so. */
bool supervisor_connected(void);
pid_t supervisor_pid(void);
unsigned long long supervisor_start(void);
/* What every app it reaped used: its getrusage(RUSAGE_CHILDREN), last told. */
const struct supmsg_usage *supervisor_children(void);

/*
 * Send a launch; its answer comes, in the order sent, to
 * supervisor_launch_wait. Returns 0, or -1 with *cause (the connection is
 * lost: nothing was started).
 */
int supervisor_launch(const struct supmsg_launch *l, char **cause);
/*
 * Wait (at most 10 s, calling supervisor_on_wait every 50 ms or so) for
 * the answer to the launch of id, the oldest not yet answered. 0 with *out
 * once the app has exec'ed; -1 with *cause when it did not start ("exec
 * failed: ...") or the supervisor is gone. What else comes meanwhile waits
 * for supervisor_input.
 */
int supervisor_launch_wait(const char *id, struct supervisor_started *out,
    char **cause);
extern void (*supervisor_on_wait)(void *);
extern void *supervisor_on_wait_arg;

/* The descriptor the loop polls for input; -1 when not connected. */
int supervisor_fd(void);
/* Whether input already read waits for supervisor_input. */
bool supervisor_input_waiting(void);
/* Hand what came (and what is there now) to the hooks. */
void supervisor_input(void);

/*
 * The end of run pid of app id is recorded: let the supervisor forget it.
 * Queued; supervisor_flush sends what is queued, once what recorded those
 * ends is saved.
 */
void supervisor_forget(const char *id, pid_t pid);
void supervisor_flush(void);

/*
 * Close the connection (the worker stops). With no app left, the
 * supervisor exits; otherwise it runs on, for the next worker. With
 * wait_exit (no app is left), wait a little for it to exit and reap it,
 * if this worker started it: a worker that exits first leaves it to init
 * to reap.
 */
void supervisor_disconnect(bool wait_exit);

#endif
