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
struct applog;
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
	enum app_phase phase;
	int64_t started_at; /* wall clock ms */
	int64_t ended_at;
	int status;	 /* wait4 status once exited */
	bool has_status; /* status and ru are the last run's (not exec failed) */
	struct rusage ru;
	char cause[192];
	int out_fd; /* the read end of the app's output pipe, -1 once closed */
	/*
	 * The write end, held by the worker while the app may restart, so the
	 * pipe (and `logs --follow`) lasts across runs; -1 otherwise.
	 */
	int out_wfd;
	struct applog *log;
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
	bool unhealthy_kill; /* the worker killed it for failing its check */
	struct check *check; /* NULL: no health check */
	struct app *next;
};

/* Handle MSG_LAUNCH, MSG_SIGNAL, MSG_USAGE from the master. */
void app_launch(struct worker *, struct msg *);
void app_signal(struct worker *, struct msg *);
void app_usage(struct worker *, struct msg *);

/* SIGCHLD: reap every child that ended. */
void app_reap(struct worker *);
/* Periodic work: stop deadlines, restarts due, health check probes. */
void app_tick(struct worker *, int64_t now);
/* Output: the loop polls these descriptors and calls app_read_output. */
int app_output_fds(struct worker *, int *fds, struct app **apps, int max);
void app_read_output(struct worker *, struct app *);
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
/* Stop every app (SIGKILL to each group) and free the table. */
void app_free_all(struct worker *, bool kill_apps);

/* Called for each app when a chunk of output was written to its log. */
extern void (*app_on_output)(struct worker *, struct app *);

#endif
