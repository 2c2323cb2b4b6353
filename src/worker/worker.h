/*
 * The worker: one single-threaded loop over its DEALER socket to the master,
 * the socket's monitor (to learn of each new handshake), a signalfd and a
 * timer. It registers, heartbeats, and does what the master asks.
 */
#ifndef DROVER_WORKER_H
#define DROVER_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/keys.h"
#include "worker/nodeload.h"

struct msg;
struct app;
struct logstream;
struct store;
struct incoming;

enum worker_state {
	WORKER_CONNECTING,  /* no handshake yet */
	WORKER_REGISTERING, /* handshake done, HELLO sent or to send */
	WORKER_READY,	    /* WELCOME received: heartbeating */
};

struct worker {
	void *zctx;
	void *dealer;
	void *monitor;
	int sigfd;

	char *name;
	char *dir;
	char *master_addr; /* HOST:PORT */
	char master_key[41];
	char *secret;
	struct keys keys;

	enum worker_state state;
	int heartbeat_ms;
	bool hello_pending;	  /* a HELLO must go out when the socket can take it */
	int64_t hello_sent_at;	  /* monotonic ms; 0 when none is in flight */
	int64_t next_heartbeat;	  /* monotonic ms */
	int64_t connected_at;	  /* TCP connected, handshake not yet done */
	int64_t handshake_warned; /* last "handshake does not complete" line */
	int handshake_failures;
	int64_t slow_turn_warned; /* monotonic ms of the last "slow turn" line */
	struct nodeload load;
	uint32_t next_request_id;
	struct app *apps;	     /* newest first */
	/*
	 * The apps of w->apps that may not be dead yet: what the loop's
	 * per-turn walks visit, rather than the thousand dead apps kept.
	 */
	struct app *live;
	struct appdirs *appdirs;     /* apps' directories made ahead */
	struct _zhashx_t *app_index; /* id -> struct app, for app_find */
	/* Launches the supervisor is starting (app_finish_starts). */
	struct app_starting *starting;
	size_t nstarting, starting_cap;
	struct logstream *streams; /* logs being sent to the master */
	int nstreams;
	struct store *store;	   /* copied executables and libraries */
	struct sampler *sampler;   /* the apps' resource history */
	struct incoming *incoming; /* files being received */
	int nincoming;
	int64_t last_collect; /* monotonic ms of the last sweep of dead apps */
	int inotify_fd;	      /* app dirs: new output for log followers */
	bool state_dirty;     /* worker-state.json is behind the apps */
	/* The state file's generation and its journal (workerstate.h). */
	uint64_t state_generation;
	int journal_fd; /* -1: the next save writes the whole state file */
	size_t journal_size;
	struct app *changed; /* apps changed since the last save */
	char **forgotten;    /* ids forgotten since the last save */
	size_t nforgotten, forgotten_cap;
	/*
	 * Answers held until the state file that records what they acknowledge
	 * is saved, at the end of the loop turn (group commit, as the master's).
	 */
	struct msg **held;
	size_t nheld, held_cap;
	bool stop_apps_on_exit; /* the old way: apps die with the worker */
	bool stopping;
	int exit_status;
};

/* Entry point of `drover worker`. Returns the process exit status. */
int worker_main(int argc, char **argv);

/* Send a message to the master; returns -1 when it cannot go out now. */
int worker_send(struct worker *w, struct msg *msg);
/*
 * Send msg (taken) once this turn's state file is saved: for answers that
 * acknowledge a change a restarted worker must know of. While any is held,
 * worker_send_in_order holds the app messages after it too, so the master
 * never hears of an app's end before its launch.
 */
void worker_send_after_save(struct worker *w, struct msg *msg);
void worker_send_in_order(struct worker *w, struct msg *msg);

#endif
