/*
 * The messages between a worker and its node's supervisor (supervisor.h),
 * both ways, each one datagram of their SOCK_SEQPACKET socket: a list of
 * NUL-terminated fields, the first naming the message. No JSON: a launch's
 * argv and environment go as they are, with nothing to escape, and reading
 * one costs a scan for NULs, on both sides of every launch.
 *
 * Worker to supervisor:
 *   launch ID DIR PATH CWD ARGC ARGV... ENV...
 *       start PATH in DIR/output.log's care (CWD "" for DIR itself). A
 *       message over SUPMSG_MAX goes in a memfd passed with a bare
 *       "launch-memfd" instead.
 *   forget ID PID [ID PID ...]
 *       these ends are recorded by the worker: drop them.
 * Supervisor to worker:
 *   hello PID START CHILDREN
 *       on every new connection: who it is (its /proc start time), then a
 *       "live" per app it runs and an "ended" per end not forgotten yet.
 *   live ID PID START
 *   started ID PID START      (with the app's pidfd, SCM_RIGHTS)
 *   failed ID CAUSE
 *   ended ID PID STATUS USAGE ENDED_AT CHILDREN
 * USAGE and CHILDREN are three fields each: user and system CPU time in
 * microseconds and the maximum RSS in kB; CHILDREN is the supervisor's
 * getrusage(RUSAGE_CHILDREN), what every app it reaped used.
 */
#ifndef DROVER_SUPMSG_H
#define DROVER_SUPMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The supervisor's executable, looked for beside the worker's own. */
#define SUPERVISOR_PROGRAM "drover-supervisor"
/* Its socket, in the worker's dir. */
#define SUPERVISOR_SOCKET "supervisor.sock"
/* Where the supervisor finds its listening socket when started. */
#define SUPERVISOR_LISTEN_FD 3

/* The largest datagram; a launch beyond it goes through a memfd. */
#define SUPMSG_MAX (64 * 1024)
/* Fields in a message at most: 4,096 args, 4,096 variables and the rest. */
#define SUPMSG_FIELDS_MAX 8300
/* The largest launch read from a memfd. */
#define SUPMSG_MEMFD_MAX (64 * 1024 * 1024)

/* A message being built (supmsg_add) or read (supmsg_split). */
struct supmsg {
	char *data; /* owned */
	size_t len, cap;
	/* After supmsg_split: pointers into data, and how many. */
	char **fields;
	int nfields;
};

/* CPU time and peak memory, as a wait4 rusage gives them. */
struct supmsg_usage {
	long long user_us, sys_us, maxrss_kb;
};

/* What a launch runs. Borrowed: into a split message, or the caller's. */
struct supmsg_launch {
	const char *id;
	const char *dir;  /* DIR/apps/ID: its log, and its cwd by default */
	const char *path;
	const char *cwd;  /* "" : dir */
	char **argv;	  /* NULL-terminated */
	char **envp;	  /* NULL-terminated */
};

/* How a run ended, as the supervisor reaped it. id borrowed. */
struct supmsg_end {
	const char *id;
	pid_t pid;
	int status; /* wait status */
	struct supmsg_usage usage;
	int64_t ended_at; /* wall clock ms */
	struct supmsg_usage children;
};

/* Append one field (its NUL included); supmsg_addf formats it. */
void supmsg_add(struct supmsg *, const char *field);
void supmsg_addf(struct supmsg *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Three fields from a rusage, or from struct supmsg_usage. */
void supmsg_add_usage(struct supmsg *, const struct supmsg_usage *);
void supmsg_usage_from_rusage(struct supmsg_usage *, const struct rusage *);
/* Free what a message holds (it may be reused after). */
void supmsg_clear(struct supmsg *);

/*
 * Take len bytes of data (taken: freed by supmsg_clear) and split them into
 * fields. Returns 0, or -1 with *cause (caller frees) when the bytes are
 * not a message: empty, not ending in a NUL, or too many fields.
 */
int supmsg_split(struct supmsg *, char *data, size_t len, char **cause);
/*
 * Read one message from sock into *m (split), with the descriptor passed
 * along in *fd (close-on-exec, the caller's; -1: none), flags added to
 * the receive's (MSG_DONTWAIT). Returns 1; 0 when the peer closed the
 * socket; -1 with errno: EAGAIN (none now), EMSGSIZE (one over SUPMSG_MAX,
 * dropped), EBADMSG (bytes that are no message: *cause, caller frees), or
 * the receive's.
 */
int supmsg_recv(int sock, struct supmsg *m, int *fd, int flags,
    char **cause);
/* The message's name (its first field). */
const char *supmsg_name(const struct supmsg *);

/* The launch message of l. */
void supmsg_format_launch(struct supmsg *, const struct supmsg_launch *l);
/*
 * Read a split launch message into *l (pointers into m, argv and envp
 * allocated: supmsg_launch_clear frees them). 0, or -1 with *cause.
 */
int supmsg_parse_launch(struct supmsg *m, struct supmsg_launch *l,
    char **cause);
void supmsg_launch_clear(struct supmsg_launch *l);

/* The ended message of e. */
void supmsg_format_end(struct supmsg *, const struct supmsg_end *e);
/* Read a split ended message. 0, or -1 with *cause. */
int supmsg_parse_end(const struct supmsg *, struct supmsg_end *e,
    char **cause);

/*
 * Field i of a split message as a number in [min, max]. 0, or -1 with
 * *cause naming the message and the field.
 */
int supmsg_get_ll(const struct supmsg *, int i, long long min,
    long long max, long long *out, char **cause);
int supmsg_get_ull(const struct supmsg *, int i, unsigned long long *out,
    char **cause);
/* Three fields from i on as a usage. */
int supmsg_get_usage(const struct supmsg *, int i, struct supmsg_usage *out,
    char **cause);

#endif
