#include "worker/rpc.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "worker/app.h"
#include "worker/artifacts.h"
#include "worker/logstream.h"
#include "worker/worker.h"

static void rpc_welcome(struct worker *, struct msg *);
static void rpc_refused(struct worker *, struct msg *);
static void rpc_reregister(struct worker *, struct msg *);
static void rpc_error(struct worker *, struct msg *);

/*
 * Each entry names a message the master may send and whether the worker
 * must be registered to act on it. Anything else is logged and answered
 * with an error.
 */
static const struct rpc_entry {
	int type;
	void (*handler)(struct worker *, struct msg *);
	bool needs_ready;
} rpc_table[] = {
	{ MSG_WELCOME, rpc_welcome, false },
	{ MSG_REFUSED, rpc_refused, false },
	{ MSG_REREGISTER, rpc_reregister, false },
	{ MSG_ERROR, rpc_error, false },
	{ MSG_LAUNCH, app_launch, true },
	{ MSG_SIGNAL, app_signal, true },
	{ MSG_USAGE, app_usage, true },
	{ MSG_LOGS, logstream_start, true },
	{ MSG_LOG_CREDIT, logstream_credit, true },
	{ MSG_LOG_CANCEL, logstream_cancel, true },
	{ MSG_ARTIFACT_HAVE, artifacts_have, true },
	{ MSG_FILE_BEGIN, artifacts_file_begin, true },
	{ MSG_FILE_CHUNK, artifacts_file_chunk, true },
	{ MSG_FILE_END, artifacts_file_end, true },
	{ MSG_FILE_ABORT, artifacts_file_abort, true },
	{ MSG_ARTIFACT_INSTALL, artifacts_install, true },
	{ MSG_ARTIFACT_DELETE, artifacts_delete, true },
};

static void
rpc_welcome(struct worker *w, struct msg *m)
{
	long long hb = 1000;
	char *cause = NULL;

	if (msg_get_int(m, "heartbeat_ms", true, 10, 600000, &hb, &cause) == -1) {
		log_warnx("bad WELCOME: %s; using 1000 ms heartbeats", cause);
		free(cause);
		hb = 1000;
	}
	if (w->state != WORKER_READY)
		log_info("registered with the master at %s as %s (heartbeat "
		    "%lld ms)", w->master_addr, w->name, hb);
	w->state = WORKER_READY;
	w->heartbeat_ms = (int)hb;
	w->hello_sent_at = 0;
	w->hello_pending = false;
	w->handshake_failures = 0;
	w->next_heartbeat = 0; /* at once: the master starts counting now */
}

static void
rpc_refused(struct worker *w, struct msg *m)
{
	const char *why = "no reason given";
	char *cause = NULL;

	if (msg_get_str(m, "error", false, &why, &cause) == -1) {
		free(cause);
		why = "no reason given";
	}
	/* Refusal is final: retrying with the same secret or name cannot help. */
	log_warnx("the master refused to register this worker: %s", why);
	fprintf(stderr, "drover worker: refused by the master at %s: %s\n",
	    w->master_addr, why);
	w->exit_status = 1;
	w->stopping = true;
}

static void
rpc_reregister(struct worker *w, struct msg *m)
{
	(void)m;
	if (w->state == WORKER_REGISTERING && w->hello_sent_at != 0)
		return; /* a HELLO is already on its way */
	log_info("the master does not know this connection: registering again");
	w->state = WORKER_REGISTERING;
	w->hello_pending = true;
}

static void
rpc_error(struct worker *w, struct msg *m)
{
	const char *text = "?", *type = "?";
	char *cause = NULL;

	(void)w;
	if (msg_get_str(m, "error", false, &text, &cause) == -1 ||
	    msg_get_str(m, "type", false, &type, &cause) == -1)
		free(cause);
	log_warnx("the master answered %s with an error: %s", type, text);
}

void
rpc_worker_dispatch(struct worker *w, struct msg *m)
{
	const struct rpc_entry *e = NULL;
	struct msg *r;

	for (size_t i = 0; i < sizeof rpc_table / sizeof rpc_table[0]; i++)
		if (rpc_table[i].type == m->type)
			e = &rpc_table[i];
	if (e == NULL) {
		log_warnx("%s: not a message the master sends",
		    msg_type_name(m->type));
		r = msg_error_reply(m, "%s is not a message a worker handles",
		    msg_type_name(m->type));
		worker_send(w, r);
		msg_free(r);
	} else if (e->needs_ready && w->state != WORKER_READY) {
		r = msg_error_reply(m, "worker %s is not registered yet", w->name);
		worker_send(w, r);
		msg_free(r);
	} else
		e->handler(w, m);
	msg_free(m);
}
