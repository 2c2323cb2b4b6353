/*
 * benchlib: what the benchmark programs share. Each starts its own master
 * (and workers) as children in a temporary directory on free ports, talks to
 * the REST API with libcurl, and cleans up on exit and on ^C; this module
 * does those parts, so each program holds only its own measurements.
 *
 * Messages go to stderr prefixed with the name given to benchlib_init().
 */
#ifndef DROVER_BENCHLIB_H
#define DROVER_BENCHLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

/* The most processes a cluster holds: the master and up to 7 workers. */
#define BENCHLIB_KIDS_MAX 8

/* Set once SIGINT, SIGTERM or SIGHUP arrived; every wait watches it. */
extern atomic_int benchlib_interrupted;

/*
 * Remember the program name for messages, catch SIGINT, SIGTERM and SIGHUP
 * without SA_RESTART (so a ^C cuts a wait short) and ignore SIGPIPE.
 */
void benchlib_init(const char *prog);
/* The name given to benchlib_init(), for the programs' own messages. */
const char *benchlib_prog(void);

/* Sleep ms milliseconds, or until the monotonic time at_us (early on a
 * signal either way). */
void benchlib_sleep_ms(int ms);
void benchlib_sleep_until_us(int64_t at_us);

/* Two free TCP ports on 127.0.0.1 (bound then released: racy but fine). */
int benchlib_free_ports(int *a, int *b);
/* "exited with status 1", "was killed by signal 9 (Killed)", ... */
void benchlib_describe_status(int status, char *buf, size_t len);
/* The first three fields of /proc/loadavg into buf, or "?". */
void benchlib_loadavg(char *buf, size_t len);
/* "== WHAT: drover PATH, N CPUs, load average at start L ==" on stdout. */
void benchlib_print_banner(const char *what, const char *drover,
			   const char *loadavg);
/* "PASS" or "MISS". */
const char *benchlib_verdict(bool ok);
/* Remove the tree at path (for the temporary directories). */
void benchlib_rm_tree(const char *path);
/*
 * Parse arg as an int in [min, max] for option opt; -1 (with a message)
 * when it is not one.
 */
int benchlib_parse_int(const char *opt, const char *arg, int min, int max,
		       int *out);
/* One integer option of a benchmark: --name N into *out, N in [min, max]. */
struct benchlib_opt {
	const char *name; /* without the dashes; NULL ends a table */
	int *out;
	int min, max;
};

/*
 * Parse argv: the options of opts (holding their defaults already), --drover
 * PATH into *drover and --help (usage to stdout, then exit 0). Returns 0, or
 * -1 after saying why and printing usage to stderr.
 */
int benchlib_parse_args(int argc, char **argv, const struct benchlib_opt *opts,
			const char **drover, void (*usage)(FILE *));
/*
 * Start a thread with every signal blocked, so ^C reaches the main thread
 * and cuts its waits short; the threads watch benchlib_interrupted.
 */
int benchlib_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* ---- statistics ------------------------------------------------------- */

/* qsort comparison for doubles, ascending. */
int benchlib_cmp_double(const void *a, const void *b);

struct benchlib_stats {
	double p50, p90, p99, max, mean;
	size_t n;
};

/* Nearest-rank percentiles of v (sorted in place), in the unit of v. */
void benchlib_stats_of(double *v, size_t n, struct benchlib_stats *s);

/* ---- /proc/PID --------------------------------------------------------- */

/* One reading of a process's /proc files. */
struct benchlib_sample {
	int64_t t_us;		  /* monotonic time of the reading */
	unsigned long long ticks; /* utime + stime */
	long rss_kb, hwm_kb;	  /* VmRSS, VmHWM; -1 if missing */
};

/* Read pid's CPU ticks and memory. Returns 0, or -1 (it is gone). */
int benchlib_sample(pid_t pid, struct benchlib_sample *s);
/* CPU use between two samples, in percent of one core. */
double benchlib_cpu_pct(const struct benchlib_sample *a,
			const struct benchlib_sample *b);

/*
 * Time spent waiting for a CPU: the second field of each thread's
 * /proc/PID/task/TID/schedstat (run-queue delay), read for this process and
 * every process under it. Of a latency, the part its threads spent
 * runnable but not running; on a busy or small machine, the part that no
 * code path can cut.
 */
struct benchlib_waits {
	size_t n;
	struct benchlib_wait {
		pid_t tid;
		unsigned long long ns;
	} *threads; /* sorted by tid */
};

/* Read the run-queue delay of every thread of this process's tree. */
void benchlib_waits_read(struct benchlib_waits *w);
/* Nanoseconds waited from a to b by the threads present in both. */
unsigned long long benchlib_waits_between(const struct benchlib_waits *a,
					  const struct benchlib_waits *b);
void benchlib_waits_free(struct benchlib_waits *w);

/* ---- children ---------------------------------------------------------- */

/* One process we started: the master, a worker, or a command. */
struct benchlib_child {
	char name[16];
	pid_t pid;
	bool exited;
	int status;
	char *logpath; /* its stdout and stderr; owned */
};

/* Whether c is still running; records its status when not. */
bool benchlib_child_alive(struct benchlib_child *c);
/*
 * Fork and exec argv (found on PATH when it has no slash) in its own process
 * group, stdin from /dev/null, stdout and stderr to c->logpath: truncated,
 * or appended to when append is set. It gets SIGTERM should we die.
 */
int benchlib_child_start(struct benchlib_child *c, char *const argv[],
			 bool append);
/*
 * SIGTERM c (its whole process group when group is set) and wait for it,
 * SIGKILL after 10 s. Returns 0, or -1 (said why) when it had to be killed
 * or did not exit with status 0.
 */
int benchlib_child_stop(struct benchlib_child *c, bool group);

/* ---- the cluster --------------------------------------------------------- */

/*
 * A master (kids[0]) and workers in /tmp/NAME.XXXXXX, each child's output in
 * TMP/CHILD.log, copied to /tmp/NAME-CHILD.log when the cluster is freed.
 */
struct benchlib_cluster {
	const char *name;   /* "bench-launch": names the files above */
	const char *drover; /* the binary */
	char *tmpdir;
	char *state; /* the master's state dir, TMP/m */
	int port, api_port;
	char *api_base; /* "http://127.0.0.1:API" */
	char *join;	/* the join token, once read */
	char *admin;	/* the admin token, once read */
	char *auth;	/* "Authorization: Bearer ADMIN" */
	int nkids;
	struct benchlib_child kids[BENCHLIB_KIDS_MAX];
	/* Extra arguments for worker kids[i] (NULL-terminated), or NULL. */
	const char *const *worker_args[BENCHLIB_KIDS_MAX];
	/* drover misbehaved: the cleanup shows the end of every log */
	bool drover_failed;
};

/*
 * Check the binary, make the temporary directory, name the children (names[0]
 * is the master) and pick the ports. Returns 0, or -1 having said why.
 */
int benchlib_cluster_init(struct benchlib_cluster *cl, const char *name,
			  const char *drover, const char *const names[], int n);
/*
 * Start `drover master --bind ... --api ... --state ...` followed by extra
 * (NULL-terminated, may be NULL), then wait for its tokens into cl->join,
 * cl->admin and cl->auth. Returns 0 or -1.
 */
int benchlib_cluster_start_master(struct benchlib_cluster *cl,
				  const char *const extra[]);
/* Start kids[i] as a worker with its dir at dir (NULL: TMP/NAME). */
int benchlib_cluster_start_worker(struct benchlib_cluster *cl, int i,
				  const char *dir);
/*
 * Whether every child but kids[skip] (-1: none) still runs; a child found
 * stopped is reported once and marks drover_failed.
 */
bool benchlib_cluster_alive(struct benchlib_cluster *cl, int skip);
/*
 * Stop the workers, then the master; keep copies of the logs (showing their
 * ends if drover_failed); remove TMP; free what cl holds.
 */
void benchlib_cluster_free(struct benchlib_cluster *cl);

/* ---- the REST API ------------------------------------------------------ */

/* A growing reply body, at most 64 MiB. */
struct benchlib_buf {
	char *data;
	size_t len;
};

/* libcurl write callback appending to a struct benchlib_buf. */
size_t benchlib_buf_write(char *ptr, size_t size, size_t nmemb, void *arg);

/* One client's connection to the API: an easy handle reused for keep-alive. */
struct benchlib_http {
	CURL *curl;
	struct curl_slist *hdrs;
	const char *base; /* borrowed: the cluster's api_base */
	struct benchlib_buf body;
	char err[CURL_ERROR_SIZE];
};

/* A client of cl's API; NULL when curl cannot make a handle. */
struct benchlib_http *benchlib_http_new(struct benchlib_cluster *cl);
void benchlib_http_free(struct benchlib_http *h);
/*
 * One request: POST body when it is not NULL, else GET. Returns the HTTP
 * status with the reply in h->body, or -1 when the API could not be reached
 * (h->err says why). The reply is not parsed, to keep parsing out of timed
 * parts.
 */
long benchlib_http_call(struct benchlib_http *h, const char *url,
			const char *body);
/* The last reply as JSON (caller decrefs), or NULL. */
json_t *benchlib_http_json(struct benchlib_http *h);
/* Say what went wrong with the last call (status from benchlib_http_call). */
void benchlib_http_describe(struct benchlib_http *h, long status, char *buf,
			    size_t len);
/* Whether the last reply is a 201 whose app has a PID. */
bool benchlib_http_launched(struct benchlib_http *h, long status);
/*
 * GET base + path as JSON (caller decrefs) on 200; else NULL with why in err
 * (when err is not NULL).
 */
json_t *benchlib_http_get(struct benchlib_http *h, const char *path, char *err,
			  size_t errlen);
/*
 * Poll GET /v1/nodes until every worker kids[1 + k] whose bit k is in mask is
 * ready. Returns 0, or -1 (interrupted, a child stopped, or 30 s passed).
 */
int benchlib_wait_ready(struct benchlib_cluster *cl, struct benchlib_http *h,
			int mask);

/* ---- launch throughput -------------------------------------------------- */

/* What the client threads of benchlib_load() did. */
struct benchlib_load {
	long ok, failed;  /* launches, count of them per request */
	long per_node[2]; /* launches on kids[1], kids[2] */
	int64_t sum_us;	  /* summed request time of the good requests */
	long requests;	  /* the good requests */
	char error[256];  /* the first failure */
};

/*
 * Launch /bin/true alternately on kids[1] and kids[2] from threads client
 * threads for seconds seconds, count launches per request (POST /v1/apps
 * with "count"; 0: one, without the field); only requests that complete
 * in the window count. Returns 0, or -1 when a thread could not start or
 * on ^C.
 */
int benchlib_load(struct benchlib_cluster *cl, int threads, int seconds,
		  int count, struct benchlib_load *r);

#endif
