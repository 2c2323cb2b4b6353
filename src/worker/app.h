/*
 * The apps this worker launched: start, output, exit, signals, stop with
 * escalation, restarts by policy with backoff, health checks (check.c), and
 * the figures ps and usage show. An app moves through an explicit table of
 * states x events (as s6's supervisor does); an event that makes no sense in
 * the app's state is logged, never silently applied.
 */
#ifndef DROVER_APP_H
#define DROVER_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

struct worker;
struct msg;
struct applog_rotation;
struct check;

enum app_phase {
	APP_RUNNING,  /* the leader is alive */
	APP_STOPPING, /* a stop is under way: SIGINT sent, SIGKILL at deadline */
	APP_WAITING,  /* the leader ended; a restart is due at restart_at */
	APP_EXITED,   /* the leader was reaped, for good */
	APP_FAILED,   /* exec failed: it never ran (or its restart did not) */
};

enum app_event {
	APP_EV_STOP,	    /* a user asked for a stop, or sent a kill */
	APP_EV_DEADLINE,    /* the stop's timeout passed */
	APP_EV_REAPED,	    /* wait4 returned the leader */
	APP_EV_RESTART_DUE, /* the backoff after an exit has passed */
	APP_EV_UNHEALTHY,   /* the health check turned unhealthy */
};

/* What happens when the leader ends (not by a user's stop or kill). */
enum app_restart {
	APP_RESTART_NEVER,
	APP_RESTART_ON_FAILURE, /* exit code != 0 or a signal */
	APP_RESTART_ALWAYS,
};

/* Restart backoff: 1 s, doubling up to 60 s, back to 1 s after 10 s healthy. */
#define APP_BACKOFF_FIRST_MS 1000
#define APP_BACKOFF_MAX_MS 60000
#define APP_BACKOFF_RESET_MS 10000
#define APP_MAX_RESTARTS_DEFAULT 3
/*
 * How long after a user's catchable signal (kill --signal TERM, HUP...) an
 * end of the app is taken for the user's stop rather than a failure: stop's
 * default timeout, the time a program is given to shut down.
 */
#define APP_USER_SIGNAL_GRACE_MS 10000

/* The backoff after the one of current_ms: doubled, at most the maximum. */
static inline int
app_backoff_next(int current_ms)
{
	return current_ms >= APP_BACKOFF_MAX_MS / 2 ? APP_BACKOFF_MAX_MS :
	    current_ms * 2;
}

struct app {
	char *id;
	char *name;
	char *path;
	char *artifact; /* the artifact it was launched from, or NULL */
	json_t *args;
	char *dir; /* DIR/apps/ID: cwd by default, and the log */
	pid_t pid;
	int pidfd;
	/* It ended before a pidfd could hold it: its pid may be anyone's now. */
	bool leader_gone;
	enum app_phase phase;
	int64_t started_at; /* wall clock ms */
	int64_t ended_at;
	int status;	 /* wait4 status once exited */
	bool has_status; /* status and ru are the last run's (not exec failed) */
	struct rusage ru;
	char cause[192];
	/*
	 * Who tells of the current run's end. supervised: the node's
	 * supervisor (supervisor.h), its parent. Otherwise, while it runs,
	 * the loop polls shim_pidfd, the shim an older worker started it
	 * under (which records its end in the exit file), or with none the
	 * app's own pidfd (its supervisor died: it is the worker's child now,
	 * whose SIGCHLD tells, or init's, when only the fact of the end is
	 * known). parent_pid and parent_start name that parent in the state
	 * file, so a later worker can tell an old shim from the supervisor.
	 */
	bool supervised;
	int shim_pidfd;
	pid_t parent_pid;
	unsigned long long parent_start; /* /proc starttime: PIDs get reused */
	unsigned long long start; /* the leader's /proc starttime */
	/* The log, written by the app: DIR/apps/ID/output.log and rotations. */
	char *log_path;
	long long log_max;
	int log_keep;
	bool log_rotate_failed; /* said once, not at each new output */
	int watch; /* inotify watch on dir while it runs, -1 otherwise */
	/* A graceful stop under way. */
	int64_t kill_at; /* monotonic ms */
	uint32_t stop_request;
	const char *stop_signal; /* the last signal the stop sent */
	/* What a restart runs again: the launch's, owned. */
	char **argv;
	char **envp;
	char *cwd; /* NULL: dir */
	/* Restart policy. */
	enum app_restart restart;
	int max_restarts;
	int restarts;	    /* done so far */
	int backoff_ms;	    /* the wait before the next restart */
	int64_t restart_at; /* monotonic ms, while APP_WAITING */
	int64_t run_since;  /* monotonic ms of the last (re)start */
	bool user_stopped;  /* a user stopped or killed it: never restarted */
	/*
	 * A user's signal that ends a process by default but may be caught
	 * (SIGHUP to reload, SIGTERM handled): 0 when none is pending. The
	 * run's end is the user's stop if it died of it or came within
	 * APP_USER_SIGNAL_GRACE_MS; a run still going past that keeps its
	 * restart policy. Not in the state file.
	 */
	int user_signal;
	int64_t user_signal_at; /* wall clock ms, as ended_at */
	bool unhealthy_kill; /* the worker killed it for failing its check */
	struct check *check; /* NULL: no health check */
	json_t *check_spec;  /* the launch's check object, for the state file */
	/*
	 * Its entry in the state file (workerstate_app_format), kept between
	 * saves until app_changed drops it.
	 */
	char *state_entry;
	/* Changed since the last save: on w->changed, for the journal. */
	bool journal_due;
	struct app *next_changed;
	struct app *next;
	struct app *next_live; /* w->live */
};

/* Its leader runs (it has a process to signal and to measure). */
bool app_is_alive(const struct app *);
/*
 * Signal a's process group (spawn_signal_group), but nothing once its
 * leader is known to be gone (-1, ESRCH): its pid, and so the group id,
 * may belong to another process by now.
 */
int app_signal_group(const struct app *, int sig);

/* A launch the supervisor has: the app is not in w->apps yet. */
struct app_starting {
	struct app *app;
	uint32_t req_id; /* the MSG_LAUNCH to answer */
	int64_t t0;	 /* util_now_us when the launch came */
};

/*
 * Handle MSG_LAUNCH, MSG_SIGNAL, MSG_USAGE from the master. A launch
 * leaves its app starting: its answer comes with app_finish_starts, which
 * the worker calls before it handles any other message, so that several
 * launches in a row start side by side and no other message sees an app
 * half started.
 */
void app_launch(struct worker *, struct msg *);
/* Wait for the supervisor's answers, record each app and answer its launch. */
void app_finish_starts(struct worker *);
void app_signal(struct worker *, struct msg *);
void app_usage(struct worker *, struct msg *);

/* SIGCHLD: reap every child that ended. */
void app_reap(struct worker *);
/* Periodic work: stop deadlines, restarts due, health check probes. */
void app_tick(struct worker *, int64_t now);
/*
 * Ends no supervisor tells: the loop polls these pidfds (readable when the
 * process ended) and calls app_end_seen; and the inotify descriptor (new
 * output in an app's dir), calling app_watch_events.
 */
int app_end_fds(struct worker *, int *fds, struct app **apps, int max);
void app_end_seen(struct worker *, struct app *);
void app_watch_events(struct worker *);
/*
 * The node's supervisor, once connected: what it tells goes to the apps
 * (app_supervisor_connect starts or finds it; the loop polls
 * supervisor_fd and calls supervisor_input).
 */
int app_supervisor_connect(struct worker *, char **cause);
/* Whether the app's log may still grow (a follower waits for more). */
bool app_output_open(const struct app *);
/*
 * Health check sockets: the loop polls these (for writing where
 * want_write[i]) and calls app_check_io when one is ready.
 */
int app_check_fds(struct worker *, int *fds, bool *want_write,
    struct app **apps, int max);
void app_check_io(struct worker *, struct app *);

/*
 * The apps not dead for good (running, stopping, restarting) for the
 * heartbeat; their count.
 */
json_t *app_live_states(struct worker *, int *alive);
/* Every app the worker knows, alive or dead, for registration. */
json_t *app_all_states(struct worker *);
/* The app as the master records it. */
json_t *app_to_json(const struct app *);
struct app *app_find(struct worker *, const char *id);
/*
 * Free the table and let the supervisor go. With kill_apps, SIGKILL each
 * app's group first and wait (a little) for their ends; without, the apps
 * run on under the supervisor for the next worker to adopt.
 */
void app_free_all(struct worker *, bool kill_apps);

/*
 * The state file DIR/worker-state.json (workerstate.c): app_save_state
 * writes it when something changed since the last write (force: anyway);
 * app_adopt_all reads it at start-up and takes back the apps that still
 * run (matched by PID and start time), recording as dead, with the cause
 * from their exit files, those that ended meanwhile. Connect to the
 * supervisor first: the ends it tells then are not missed.
 */
void app_save_state(struct worker *, bool force);
void app_adopt_all(struct worker *);

/* Called for each app when a chunk of output was written to its log. */
extern void (*app_on_output)(struct worker *, struct app *);
/*
 * Called when the app's log was rotated in place (applog_rotate_file),
 * before any more of it is read: its readers must follow (rot borrowed).
 */
extern void (*app_on_rotate)(struct worker *, struct app *,
    const struct applog_rotation *rot);
/*
 * Called for each dead app about to be forgotten, before its directory and
 * log (emptied, the same inodes) go to a later launch.
 */
extern void (*app_on_forget)(struct worker *, struct app *);

#endif
