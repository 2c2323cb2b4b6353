/*
 * The apps this worker launched: start, output, exit, signals, stop with
 * escalation, and the figures ps and usage show. An app moves through an
 * explicit table of states x events (as s6's supervisor does); an event that
 * makes no sense in the app's state is logged, never silently applied.
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

enum app_phase {
	APP_RUNNING,  /* the leader is alive */
	APP_STOPPING, /* a stop is under way: SIGINT sent, SIGKILL at deadline */
	APP_EXITED,   /* the leader was reaped */
	APP_FAILED,   /* exec failed: it never ran */
};

enum app_event {
	APP_EV_STOP,	 /* a user asked for a graceful stop */
	APP_EV_DEADLINE, /* the stop's timeout passed */
	APP_EV_REAPED,	 /* wait4 returned the leader */
};

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
	int status; /* wait4 status once exited */
	struct rusage ru;
	char cause[192];
	int out_fd; /* the read end of the app's output pipe, -1 once closed */
	struct applog *log;
	/* A graceful stop under way. */
	int64_t kill_at; /* monotonic ms */
	uint32_t stop_request;
	const char *stop_signal; /* the last signal the stop sent */
	struct app *next;
};

/* Handle MSG_LAUNCH, MSG_SIGNAL, MSG_USAGE from the master. */
void app_launch(struct worker *, struct msg *);
void app_signal(struct worker *, struct msg *);
void app_usage(struct worker *, struct msg *);

/* SIGCHLD: reap every child that ended. */
void app_reap(struct worker *);
/* Periodic work: stop deadlines. */
void app_tick(struct worker *, int64_t now);
/* Output: the loop polls these descriptors and calls app_read_output. */
int app_output_fds(struct worker *, int *fds, struct app **apps, int max);
void app_read_output(struct worker *, struct app *);

/* The live apps' states for the heartbeat; the count of live apps. */
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
