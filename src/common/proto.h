/*
 * The master-worker protocol: message numbers and what each carries.
 *
 * Every message is a header frame (8 bytes: 'D', protocol version, type as a
 * big-endian uint16, request id as a big-endian uint32), a JSON frame holding
 * an object, and an optional binary frame (file and log data). A reply
 * carries the request id of the request it answers; unsolicited messages
 * carry id 0. The master's ROUTER adds the connection's routing id in front.
 *
 * Families: 100s handshake and heartbeat, 200s nodes, 300s apps,
 * 400s artifacts, 500s logs and usage.
 */
#ifndef DROVER_PROTO_H
#define DROVER_PROTO_H

#define PROTO_VERSION 1
#define PROTO_MAGIC 'D'

/* Hard limits on what a peer may send; anything larger is refused unread. */
#define PROTO_JSON_MAX (1024 * 1024)
#define PROTO_DATA_MAX (1024 * 1024)
#define PROTO_CHUNK_SIZE (256 * 1024)

/*
 * An app id: letters, digits and PROTO_APP_ID_ALSO, at most
 * PROTO_APP_ID_MAX bytes (util_name_valid). The worker makes file names of
 * them; the master takes no other from a worker.
 */
#define PROTO_APP_ID_MAX 128
#define PROTO_APP_ID_ALSO "._-"

enum msg_type {
	/*
	 * worker -> master. {"name", "secret", "addresses":[str], "cpus",
	 * "mem_total_kb", "hostname", "version", "arch", "artifacts":[manifest]}.
	 * Answered by WELCOME or REFUSED.
	 */
	MSG_HELLO = 100,
	/* master -> worker. {"node", "heartbeat_ms"}: registered. */
	MSG_WELCOME = 101,
	/* master -> worker. {"error", "fatal":bool}: fatal means give up. */
	MSG_REFUSED = 102,
	/*
	 * worker -> master, every heartbeat_ms. {"cpu_pct", "mem_pct", "apps",
	 * "app_states":[app objects], "samples":[{"id", "t", "cpu_user_pct",
	 * "cpu_sys_pct", "rss_kb", "max_rss_kb", "procs", "threads", "fds",
	 * "read_bytes", "write_bytes"}]} (samples: the resource history since
	 * the last heartbeat, at most SAMPLER_BATCH_MAX; -1 is "unknown")
	 */
	MSG_HEARTBEAT = 103,
	/*
	 * master -> worker. {"error"}: a message came from a connection the
	 * master does not know (it restarted): say HELLO again.
	 */
	MSG_REREGISTER = 104,
	/*
	 * worker -> master. {"apps_keep_running":bool}: the worker is shutting
	 * down on purpose; its apps go on (a restart) or were stopped.
	 */
	MSG_BYE = 105,

	/* either way. {"error", "type"}: the request with this id failed. */
	MSG_ERROR = 199,

	/*
	 * master -> worker. {"app", "path" | "artifact", "args":[str],
	 * "env":{str:str}, "cwd", "log_max", "log_keep", "restart",
	 * "max_restarts", "check"}. Answered by LAUNCHED or ERROR.
	 * restart: "never" (default) | "on-failure" | "always": what the worker
	 * does when the leader ends other than by a user's stop or kill;
	 * max_restarts (default 3) bounds the restarts, spaced 1 s doubling to
	 * 60 s. check (optional): {"kind": "http" | "tcp" | "exec", "port"
	 * (http, tcp: on 127.0.0.1), "path" (http, default "/"), "cmd" (exec:
	 * /bin/sh -c), "interval_ms" (10000), "timeout_ms" (2000), "failures"
	 * (3: consecutive failures that make the app unhealthy)}.
	 */
	MSG_LAUNCH = 300,
	/* worker -> master. The app object (see MSG_APP_STATE). */
	MSG_LAUNCHED = 301,
	/*
	 * master -> worker. {"app", "signal", "timeout_ms"}: with timeout_ms a
	 * graceful stop (signal, then SIGKILL at the timeout). Answered by
	 * SIGNALED once the signal was sent (or, for a stop, the app ended).
	 */
	MSG_SIGNAL = 302,
	/* worker -> master. {"app", "ended_by", "was_dead":bool, "app_state":{}} */
	MSG_SIGNALED = 303,
	/*
	 * worker -> master, unsolicited. One app object: {"id", "pid", "state",
	 * "cause", "exit_code", "signal", "cpu_user_ms", "cpu_sys_ms",
	 * "max_rss_kb", "started_at", "ended_at", "restarts", "health"}.
	 * Sent when the app ends, when it restarts (new pid, restarts + 1) and
	 * when its health changes. state "restarting": waiting to restart,
	 * with the last run's cause; health "starting" | "healthy" |
	 * "unhealthy", null without a check.
	 */
	MSG_APP_STATE = 304,
	/* master -> worker. {}: list every app. Answered by APPS. */
	MSG_PS = 305,
	/* worker -> master. {"apps":[app object]} */
	MSG_APPS = 306,

	/*
	 * master -> worker. {"hashes":[hex]}: which of these files the node's
	 * store holds. Answered by HAVE_REPLY {"present":[hex], "arch",
	 * "free_bytes"}.
	 */
	MSG_ARTIFACT_HAVE = 400,
	MSG_ARTIFACT_HAVE_REPLY = 401,
	/*
	 * master -> worker. {"transfer", "hash", "size"}: a file follows in
	 * FILE_CHUNK messages. The worker answers with FILE_CREDIT (how many
	 * chunks it will take) or ERROR.
	 */
	MSG_FILE_BEGIN = 402,
	/* master -> worker. {"transfer"} + binary frame of up to 256 KiB. */
	MSG_FILE_CHUNK = 403,
	/* worker -> master. {"transfer", "credit"}: may send this many more. */
	MSG_FILE_CREDIT = 404,
	/*
	 * master -> worker. {"transfer"}: the file is complete; the worker
	 * checks its hash and stores it. Answered by FILE_DONE {"transfer",
	 * "hash"} or ERROR (hash mismatch, no space).
	 */
	MSG_FILE_END = 405,
	MSG_FILE_DONE = 406,
	/*
	 * master -> worker. {"name", "files":[{"name","hash","kind","mode",
	 * "size"}]}: make an artifact of stored files. Answered by INSTALLED
	 * (its manifest) or ERROR.
	 */
	MSG_ARTIFACT_INSTALL = 407,
	MSG_ARTIFACT_INSTALLED = 408,
	/* master -> worker. {"name"}. Answered by DELETED {"name"} or ERROR. */
	MSG_ARTIFACT_DELETE = 409,
	MSG_ARTIFACT_DELETED = 410,
	/* master -> worker. {"transfer"}: give up on a file being sent. */
	MSG_FILE_ABORT = 411,

	/* master -> worker. {}: resource usage. Answered by USAGE_REPLY. */
	MSG_USAGE = 500,
	/* worker -> master. {"apps":[], "total":{}, "children":{}} */
	MSG_USAGE_REPLY = 501,
	/*
	 * master -> worker. {"app", "tail", "follow":bool, "stream"}: start
	 * sending the app's log as LOG_DATA messages carrying "stream".
	 */
	MSG_LOGS = 502,
	/* worker -> master. {"stream", "eof":bool} + binary frame of log bytes. */
	MSG_LOG_DATA = 503,
	/* master -> worker. {"stream", "credit"}: may send this many more chunks. */
	MSG_LOG_CREDIT = 504,
	/* master -> worker. {"stream"}: the reader went away; stop sending. */
	MSG_LOG_CANCEL = 505,
};

#endif
