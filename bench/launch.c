/*
 * launch: how fast drover starts processes, beside what this machine can do
 * without it. The program starts its own master and two workers (b1, b2) as
 * children and measures, through the REST API with libcurl (one reused
 * easy handle per client thread, so connections stay alive):
 *
 * (a) latency: POST /v1/apps of /bin/true on b1, from sending the request
 *     to receiving its 201 (whose PID belongs to a process that has already
 *     exec'd), beside posix_spawn of /bin/true timed until it returns: with
 *     glibc's CLONE_VFORK implementation the parent resumes only once the
 *     child has exec'd, so both figures end at the same point;
 * (b) throughput: launches per second across both workers from K client
 *     threads, beside posix_spawn + waitpid in a loop on one thread per CPU;
 * (c) follow delay: a python3 app copies lines from a FIFO to its output;
 *     the delay of a line is from writing it into the FIFO to its arrival on
 *     GET /v1/apps/ID/logs?follow=1.
 *
 * The children's output goes to TMP/NAME.log, copied to
 * /tmp/bench-launch-NAME.log before TMP is removed.
 *
 * Exit status: 0 when the benchmark ran (missed targets are reported, not
 * failed), 1 when it could not be set up or drover failed, 2 on a usage
 * error, 130 when interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "common/xmem.h"

#define LAUNCH_NODES 2
/* Launches before the latency run, so connections and caches are warm. */
#define LAUNCH_WARMUP 20
#define LAUNCH_FOLLOW_LINES 200
#define LAUNCH_FOLLOW_EVERY_MS 20
/* How long the lines still in flight may take to arrive at the end. */
#define LAUNCH_FOLLOW_DRAIN_MS 3000
#define LAUNCH_READY_TIMEOUT_MS 30000
#define LAUNCH_STOP_TIMEOUT_MS 10000
/* Targets the summary checks. */
#define LAUNCH_LATENCY_TARGET_MS 1.0
#define LAUNCH_RATE_TARGET_PCT 70.0
#define LAUNCH_FOLLOW_TARGET_MS 100.0
/* A reply bigger than this from the API is refused. */
#define LAUNCH_HTTP_MAX (1024 * 1024)
#define LAUNCH_PYTHON "/usr/bin/python3"

/* Copies lines from the FIFO named by argv[1] to stdout until "quit". */
static const char launch_follow_code[] =
    "import sys\n"
    "while True:\n"
    "    with open(sys.argv[1]) as f:\n"
    "        for l in iter(f.readline, ''):\n"
    "            if l == 'quit\\n':\n"
    "                sys.exit(0)\n"
    "            sys.stdout.write(l)\n"
    "            sys.stdout.flush()\n";

extern char **environ;

struct launch_opts {
	int launches;
	int seconds;
	int threads;
	const char *drover;
};

/* One process we started: the master or a worker. */
struct launch_child {
	char name[16];
	pid_t pid;
	bool exited;
	int status;
	char *logpath;
};

struct launch {
	struct launch_opts o;
	char *tmpdir;
	char *state; /* the master's state dir, TMP/m */
	int port, api_port;
	char *api_base;
	char *auth; /* the "Authorization: Bearer ..." header */
	struct launch_child kids[1 + LAUNCH_NODES]; /* master, b1, b2 */
	char *fifo;
	char *follow_app; /* the follow app's ID while it may be running */
	bool drover_failed;
	char loadavg[64]; /* /proc/loadavg at start: other load skews it all */
};

struct launch_buf {
	char *data;
	size_t len;
};

/* One client's connection to the API: an easy handle reused for keep-alive. */
struct launch_http {
	CURL *curl;
	struct curl_slist *hdrs;
	struct launch_buf body;
	char err[CURL_ERROR_SIZE];
};

struct launch_stats {
	double p50, p90, p99, max, mean;
	size_t n;
};

struct launch_result {
	struct launch_stats drover_lat, raw_lat;
	long lat_failed;
	char lat_error[256];
	long load_ok, load_failed, load_per_node[LAUNCH_NODES];
	double load_rate, load_mean_ms;
	char load_error[256];
	long raw_spawns;
	double raw_rate;
	int raw_threads;
	struct launch_stats follow;
	int follow_received;
	bool follow_ran;
	char follow_error[256];
};

/* One client thread of the throughput run. */
struct launch_load {
	struct launch *l;
	int index;
	int64_t start_us, end_us;
	long ok, failed, per_node[LAUNCH_NODES];
	int64_t sum_us;
	char error[256];
};

/* One spawning thread of the raw throughput run. */
struct launch_raw {
	int64_t end_us;
	long spawns;
	int error;
};

/* The thread reading the follow stream and the lines it has seen. */
struct launch_follow {
	struct launch *l;
	char *url;
	CURL *curl;
	atomic_bool stop, synced, done;
	atomic_int received;
	long status;
	CURLcode cc;
	char line[256];
	size_t linelen;
	struct launch_buf errbody;
	int64_t
	    delay_us[LAUNCH_FOLLOW_LINES + 1]; /* by line number; -1 unseen */
};

static atomic_int launch_interrupted;

static void
launch_on_signal(int sig)
{
	(void)sig;
	atomic_store(&launch_interrupted, 1);
}

static int64_t
launch_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
launch_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Sleep until the monotonic time at_us (early on a signal). */
static void
launch_sleep_until_us(int64_t at_us)
{
	struct timespec ts = {at_us / 1000000, (long)(at_us % 1000000) * 1000};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/*
 * Start a thread with every signal blocked, so ^C reaches the main thread
 * and cuts its waits short; the threads watch launch_interrupted.
 */
static int
launch_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, "launch: pthread_create: %s\n", strerror(rc));
		return -1;
	}
	return 0;
}

static int
launch_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles of v (sorted in place), in the unit of v. */
static void
launch_stats_of(double *v, size_t n, struct launch_stats *s)
{
	double sum = 0;

	memset(s, 0, sizeof *s);
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, launch_cmp_double);
#define LAUNCH_RANK(p) v[(size_t)((p) * (double)n + 0.999999) - 1]
	s->p50 = LAUNCH_RANK(0.50);
	s->p90 = LAUNCH_RANK(0.90);
	s->p99 = LAUNCH_RANK(0.99);
#undef LAUNCH_RANK
	s->max = v[n - 1];
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / (double)n;
	s->n = n;
}

/* ---- the processes we start --------------------------------------------- */

/* Free TCP ports on 127.0.0.1 (bound then released: racy but fine here). */
static int
launch_free_ports(int *a, int *b)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	int fds[2] = {-1, -1}, rc = -1;
	int *out[2] = {a, b};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 2; i++) {
		sin.sin_port = 0;
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof sin) == -1 ||
		    getsockname(fds[i], (struct sockaddr *)&sin, &len) == -1)
			goto out;
		*out[i] = ntohs(sin.sin_port);
	}
	rc = 0;
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return rc;
}

static void
launch_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with status 0x%x", status);
}

/* Whether c is still running; records its status when not. */
static bool
launch_child_alive(struct launch_child *c)
{
	if (c->pid <= 0 || c->exited)
		return false;
	if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->exited = true;
		return false;
	}
	return true;
}

/* Fork and exec argv with its output in c->logpath. */
static int
launch_child_start(struct launch_child *c, char *const argv[])
{
	int logfd, nullfd;

	if ((logfd = open(c->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644)) == -1) {
		fprintf(stderr, "launch: %s: %s\n", c->logpath,
			strerror(errno));
		return -1;
	}
	switch (c->pid = fork()) {
	case -1:
		fprintf(stderr, "launch: fork: %s\n", strerror(errno));
		close(logfd);
		return -1;
	case 0:
		/*
		 * Its own process group, so a ^C reaches only us and we stop
		 * the cluster in order; and it dies with us should we be
		 * killed (the main thread forks and outlives every child).
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if ((nullfd = open("/dev/null", O_RDONLY)) != -1)
			dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(argv[0], argv);
		dprintf(2, "launch: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(logfd);
	return 0;
}

/* SIGTERM c and wait for it (SIGKILL after a while); say if it went badly. */
static void
launch_child_stop(struct launch *l, struct launch_child *c)
{
	int64_t start = util_now_ms();
	char status[128];

	if (!launch_child_alive(c))
		return;
	kill(c->pid, SIGTERM);
	while (launch_child_alive(c)) {
		if (util_now_ms() - start > LAUNCH_STOP_TIMEOUT_MS) {
			fprintf(stderr,
				"launch: %s did not exit within %d s "
				"of SIGTERM; killing it\n",
				c->name, LAUNCH_STOP_TIMEOUT_MS / 1000);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			c->exited = true;
			l->drover_failed = true;
			return;
		}
		launch_sleep_ms(10);
	}
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
		launch_describe_status(c->status, status, sizeof status);
		fprintf(stderr, "launch: on SIGTERM %s %s\n", c->name, status);
		l->drover_failed = true;
	}
}

/* Whether the whole cluster still runs; says who stopped when not. */
static bool
launch_cluster_alive(struct launch *l)
{
	char status[128];
	bool ok = true;

	for (int i = 0; i < 1 + LAUNCH_NODES; i++) {
		struct launch_child *c = &l->kids[i];

		if (c->pid > 0 && !c->exited && !launch_child_alive(c)) {
			launch_describe_status(c->status, status,
					       sizeof status);
			fprintf(stderr,
				"launch: %s %s (see /tmp/bench-launch-"
				"%s.log)\n",
				c->name, status, c->name);
			l->drover_failed = true;
		}
		if (c->pid > 0 && c->exited)
			ok = false;
	}
	return ok;
}

static int
launch_start_master(struct launch *l)
{
	char bind[64], api[64];
	char *argv[] = {
	    (char *)l->o.drover, "master", "--bind",	  bind,	  "--api", api,
	    "--state",		 l->state, "--heartbeat", "1000", NULL};

	snprintf(bind, sizeof bind, "127.0.0.1:%d", l->port);
	snprintf(api, sizeof api, "127.0.0.1:%d", l->api_port);
	return launch_child_start(&l->kids[0], argv);
}

/* Wait for the master to write its tokens; *join is the join token. */
static int
launch_read_tokens(struct launch *l, char **join)
{
	char *jpath, *apath, *admin = NULL;
	int64_t deadline = util_now_ms() + 20000;
	int rc = -1;

	*join = NULL;
	jpath = xasprintf("%s/join.token", l->state);
	apath = xasprintf("%s/admin.token", l->state);
	while (access(jpath, R_OK) == -1 || access(apath, R_OK) == -1) {
		if (!launch_cluster_alive(l) ||
		    atomic_load(&launch_interrupted))
			goto out;
		if (util_now_ms() > deadline) {
			fprintf(stderr, "launch: no %s and %s after 20 s\n",
				jpath, apath);
			goto out;
		}
		launch_sleep_ms(20);
	}
	/* Written atomically by the master, so present means complete. */
	if ((*join = util_read_file(jpath, 4096, NULL)) == NULL ||
	    (admin = util_read_file(apath, 4096, NULL)) == NULL) {
		fprintf(stderr, "launch: reading the tokens: %s\n",
			strerror(errno));
		goto out;
	}
	util_chomp(*join);
	util_chomp(admin);
	l->auth = xasprintf("Authorization: Bearer %s", admin);
	rc = 0;
out:
	if (rc == -1) {
		free(*join);
		*join = NULL;
	}
	free(admin);
	free(jpath);
	free(apath);
	return rc;
}

static int
launch_start_worker(struct launch *l, int i, const char *join)
{
	struct launch_child *c = &l->kids[1 + i];
	char master[64], *dir = xasprintf("%s/%s", l->tmpdir, c->name);
	char *argv[] = {(char *)l->o.drover,
			"worker",
			"--join",
			master,
			"--token",
			(char *)join,
			"--name",
			c->name,
			"--dir",
			dir,
			NULL};
	int rc;

	snprintf(master, sizeof master, "127.0.0.1:%d", l->port);
	rc = launch_child_start(c, argv);
	free(dir);
	return rc;
}

/* ---- the REST API -------------------------------------------------------- */

static size_t
launch_buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct launch_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > LAUNCH_HTTP_MAX)
		return 0;
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void
launch_http_free(struct launch_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	free(h->body.data);
	free(h);
}

/* A client of the API; NULL when curl cannot make a handle. */
static struct launch_http *
launch_http_new(struct launch *l)
{
	struct launch_http *h = xcalloc(1, sizeof *h);

	if ((h->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "launch: curl_easy_init failed\n");
		free(h);
		return NULL;
	}
	h->hdrs = curl_slist_append(NULL, l->auth);
	h->hdrs = curl_slist_append(h->hdrs, "Content-Type: application/json");
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	/* The master gives a launch 15 s before it answers 504. */
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->err);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, launch_buf_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->body);
	return h;
}

/*
 * One request: POST body when it is not NULL, else GET. Returns the HTTP
 * status with the reply in h->body, or -1 when the API could not be reached
 * (h->err says why). The reply is not parsed here, to keep parsing out of
 * the timed part.
 */
static long
launch_http_call(struct launch_http *h, const char *url, const char *body)
{
	long status = 0;
	CURLcode cc;

	h->body.len = 0;
	h->err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	} else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	if ((cc = curl_easy_perform(h->curl)) != CURLE_OK) {
		if (h->err[0] == '\0')
			snprintf(h->err, sizeof h->err, "%s",
				 curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* The last reply as JSON (caller decrefs), or NULL. */
static json_t *
launch_http_json(struct launch_http *h)
{
	return json_loadb(h->body.data != NULL ? h->body.data : "", h->body.len,
			  0, NULL);
}

/* Say what went wrong with the last call (status from launch_http_call). */
static void
launch_http_describe(struct launch_http *h, long status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "cannot reach the API: %.200s", h->err);
	else
		snprintf(buf, len, "HTTP %ld: %.200s", status,
			 h->body.len > 0 ? h->body.data : "(no body)");
	util_chomp(buf);
}

/* Whether the last reply is a 201 whose app has a PID. */
static bool
launch_http_launched(struct launch_http *h, long status)
{
	json_t *j;
	bool ok;

	if (status != 201 || (j = launch_http_json(h)) == NULL)
		return false;
	ok = json_integer_value(json_object_get(j, "pid")) > 0;
	json_decref(j);
	return ok;
}

/* Poll GET /v1/nodes until b1 and b2 are both ready. */
static int
launch_wait_ready(struct launch *l, struct launch_http *h)
{
	int64_t deadline = util_now_ms() + LAUNCH_READY_TIMEOUT_MS;
	char *url = xasprintf("%s/v1/nodes", l->api_base), last[512] = "";
	int rc = -1;

	for (;;) {
		long status = launch_http_call(h, url, NULL);
		json_t *j = status == 200 ? launch_http_json(h) : NULL, *v;
		int ready = 0;
		size_t i;

		json_array_foreach(j, i, v)
		{
			const char *state =
			    json_string_value(json_object_get(v, "state"));
			const char *name =
			    json_string_value(json_object_get(v, "name"));

			for (int k = 0; k < LAUNCH_NODES; k++)
				if (name != NULL && state != NULL &&
				    strcmp(name, l->kids[1 + k].name) == 0 &&
				    strcmp(state, "ready") == 0)
					ready++;
		}
		if (status == 200)
			snprintf(last, sizeof last, "%.400s", h->body.data);
		else
			launch_http_describe(h, status, last, sizeof last);
		json_decref(j);
		if (ready == LAUNCH_NODES) {
			rc = 0;
			break;
		}
		if (!launch_cluster_alive(l) ||
		    atomic_load(&launch_interrupted))
			break;
		if (util_now_ms() > deadline) {
			fprintf(stderr,
				"launch: b1 and b2 not both ready after "
				"%d s; GET /v1/nodes said: %s\n",
				LAUNCH_READY_TIMEOUT_MS / 1000, last);
			l->drover_failed = true;
			break;
		}
		launch_sleep_ms(50);
	}
	free(url);
	return rc;
}

/* ---- (a) latency ----------------------------------------------------------
 */

static int
launch_latency(struct launch *l, struct launch_http *h, struct launch_result *r)
{
	char *url = xasprintf("%s/v1/apps", l->api_base);
	static const char body[] = "{\"node\":\"b1\",\"path\":\"/bin/true\"}";
	char *const argv[] = {"/bin/true", NULL};
	double *v = xcalloc((size_t)l->o.launches, sizeof *v);
	size_t n = 0;
	int rc = -1;

	for (int i = 0; i < LAUNCH_WARMUP + l->o.launches; i++) {
		int64_t t0, t1;
		long status;

		if (atomic_load(&launch_interrupted))
			goto out;
		t0 = launch_now_us();
		status = launch_http_call(h, url, body);
		t1 = launch_now_us();
		if (!launch_http_launched(h, status)) {
			if (r->lat_error[0] == '\0')
				launch_http_describe(h, status, r->lat_error,
						     sizeof r->lat_error);
			if (i >= LAUNCH_WARMUP)
				r->lat_failed++;
			if (status == -1 && !launch_cluster_alive(l))
				goto out;
			continue;
		}
		if (i >= LAUNCH_WARMUP)
			v[n++] = (double)(t1 - t0) / 1000.0;
	}
	launch_stats_of(v, n, &r->drover_lat);

	/*
	 * posix_spawn returns once the child has exec'd: glibc clones with
	 * CLONE_VFORK, which suspends the parent until the child execs (or
	 * exits on failure). Reaping is outside the timed part, as it is for
	 * drover, whose reply does not wait for the exit either.
	 */
	n = 0;
	for (int i = 0; i < LAUNCH_WARMUP + l->o.launches; i++) {
		int64_t t0, t1;
		pid_t pid;
		int err, status;

		t0 = launch_now_us();
		err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
		t1 = launch_now_us();
		if (err != 0) {
			fprintf(stderr, "launch: posix_spawn: %s\n",
				strerror(err));
			goto out;
		}
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (i >= LAUNCH_WARMUP)
			v[n++] = (double)(t1 - t0) / 1000.0;
	}
	launch_stats_of(v, n, &r->raw_lat);
	rc = 0;
out:
	free(v);
	free(url);
	return rc;
}

/* ---- (b) throughput -------------------------------------------------------
 */

static void *
launch_load_run(void *arg)
{
	struct launch_load *t = arg;
	struct launch_http *h = launch_http_new(t->l);
	char *url = xasprintf("%s/v1/apps", t->l->api_base),
	     *body[LAUNCH_NODES];

	for (int k = 0; k < LAUNCH_NODES; k++)
		body[k] = xasprintf("{\"node\":\"%s\",\"path\":\"/bin/true\"}",
				    t->l->kids[1 + k].name);
	if (h == NULL) {
		snprintf(t->error, sizeof t->error, "no curl handle");
		goto out;
	}
	launch_sleep_until_us(t->start_us);
	for (long i = 0; !atomic_load(&launch_interrupted); i++) {
		int k = (int)((t->index + i) % LAUNCH_NODES);
		int64_t t0 = launch_now_us(), t1;
		long status;

		if (t0 >= t->end_us)
			break;
		status = launch_http_call(h, url, body[k]);
		t1 = launch_now_us();
		/* Only what completed inside the window counts. */
		if (t1 > t->end_us)
			break;
		if (launch_http_launched(h, status)) {
			t->ok++;
			t->per_node[k]++;
			t->sum_us += t1 - t0;
		} else {
			t->failed++;
			if (t->error[0] == '\0')
				launch_http_describe(h, status, t->error,
						     sizeof t->error);
			if (status == -1)
				launch_sleep_ms(10);
		}
	}
out:
	for (int k = 0; k < LAUNCH_NODES; k++)
		free(body[k]);
	free(url);
	launch_http_free(h);
	return NULL;
}

static void *
launch_raw_run(void *arg)
{
	struct launch_raw *t = arg;
	char *const argv[] = {"/bin/true", NULL};
	pid_t pid;
	int status;

	while (launch_now_us() < t->end_us &&
	       !atomic_load(&launch_interrupted)) {
		if ((t->error = posix_spawn(&pid, argv[0], NULL, NULL, argv,
					    environ)) != 0)
			break;
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		t->spawns++;
	}
	return NULL;
}

static int
launch_throughput(struct launch *l, struct launch_result *r)
{
	int k = l->o.threads, nraw;
	struct launch_load *load = xcalloc((size_t)k, sizeof *load);
	struct launch_raw *raw;
	pthread_t *tid;
	int64_t start, sum_us = 0;
	int started = 0, rc = -1;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	nraw = cpus > 0 ? (int)cpus : 1;
	tid = xcalloc((size_t)(k > nraw ? k : nraw), sizeof *tid);
	/* A common start a little ahead, so every thread begins together. */
	start = launch_now_us() + 100000;
	for (int i = 0; i < k; i++) {
		load[i].l = l;
		load[i].index = i;
		load[i].start_us = start;
		load[i].end_us = start + (int64_t)l->o.seconds * 1000000;
		if (launch_thread_start(&tid[i], launch_load_run, &load[i]) ==
		    -1)
			break;
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (started < k || atomic_load(&launch_interrupted))
		goto out;
	for (int i = 0; i < k; i++) {
		r->load_ok += load[i].ok;
		r->load_failed += load[i].failed;
		for (int j = 0; j < LAUNCH_NODES; j++)
			r->load_per_node[j] += load[i].per_node[j];
		sum_us += load[i].sum_us;
		if (r->load_error[0] == '\0' && load[i].error[0] != '\0')
			snprintf(r->load_error, sizeof r->load_error, "%s",
				 load[i].error);
	}
	r->load_rate = (double)r->load_ok / l->o.seconds;
	r->load_mean_ms =
	    r->load_ok > 0 ? (double)sum_us / (double)r->load_ok / 1000.0 : 0;
	if (!launch_cluster_alive(l))
		goto out;

	raw = xcalloc((size_t)nraw, sizeof *raw);
	r->raw_threads = nraw;
	start = launch_now_us();
	started = 0;
	for (int i = 0; i < nraw; i++) {
		raw[i].end_us = start + (int64_t)l->o.seconds * 1000000;
		if (launch_thread_start(&tid[i], launch_raw_run, &raw[i]) == -1)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		r->raw_spawns += raw[i].spawns;
		if (raw[i].error != 0)
			fprintf(stderr, "launch: posix_spawn: %s\n",
				strerror(raw[i].error));
	}
	r->raw_rate = (double)r->raw_spawns / l->o.seconds;
	if (started == nraw && !atomic_load(&launch_interrupted))
		rc = 0;
	free(raw);
out:
	free(tid);
	free(load);
	return rc;
}

/* ---- (c) follow delay -----------------------------------------------------
 */

/* A whole line from the stream: "sync", or "NUMBER SENT_US". */
static void
launch_follow_line(struct launch_follow *f, int64_t now)
{
	long long seq, sent;

	f->line[f->linelen] = '\0';
	if (strcmp(f->line, "sync") == 0) {
		atomic_store(&f->synced, true);
		return;
	}
	if (sscanf(f->line, "%lld %lld", &seq, &sent) != 2 || seq < 1 ||
	    seq > LAUNCH_FOLLOW_LINES || f->delay_us[seq] != -1)
		return;
	f->delay_us[seq] = now - sent;
	atomic_fetch_add(&f->received, 1);
}

/* Timestamp each line as its bytes arrive. */
static size_t
launch_follow_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct launch_follow *f = arg;
	int64_t now = launch_now_us();
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return launch_buf_write(ptr, size, nmemb, &f->errbody);
	for (size_t i = 0; i < n; i++) {
		if (ptr[i] == '\n') {
			launch_follow_line(f, now);
			f->linelen = 0;
		} else if (f->linelen < sizeof f->line - 1)
			f->line[f->linelen++] = ptr[i];
	}
	return n;
}

/* Called at least once a second while idle: ends the stream on request. */
static int
launch_follow_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct launch_follow *f = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&f->stop) || atomic_load(&launch_interrupted);
}

static void *
launch_follow_run(void *arg)
{
	struct launch_follow *f = arg;
	struct curl_slist *hdrs;

	if ((f->curl = curl_easy_init()) == NULL) {
		f->cc = CURLE_FAILED_INIT;
		atomic_store(&f->done, true);
		return NULL;
	}
	hdrs = curl_slist_append(NULL, f->l->auth);

	curl_easy_setopt(f->curl, CURLOPT_URL, f->url);
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, launch_follow_write);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(f->curl, CURLOPT_XFERINFOFUNCTION,
			 launch_follow_progress);
	curl_easy_setopt(f->curl, CURLOPT_XFERINFODATA, f);
	f->cc = curl_easy_perform(f->curl);
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_cleanup(f->curl);
	curl_slist_free_all(hdrs);
	atomic_store(&f->done, true);
	return NULL;
}

/* Launch the FIFO-copying app on b1; its ID goes to l->follow_app. */
static int
launch_follow_start_app(struct launch *l, struct launch_http *h,
			struct launch_result *r)
{
	char *url = xasprintf("%s/v1/apps", l->api_base), *body;
	json_t *req, *j;
	long status;
	int rc = -1;

	req =
	    json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "node",
		      l->kids[1].name, "name", "follow", "path", LAUNCH_PYTHON,
		      "args", "-u", "-c", launch_follow_code, l->fifo);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	status = launch_http_call(h, url, body);
	if (status == 201 && (j = launch_http_json(h)) != NULL) {
		const char *id = json_string_value(json_object_get(j, "id"));

		if (id != NULL) {
			l->follow_app = xstrdup(id);
			rc = 0;
		}
		json_decref(j);
	}
	if (rc == -1) {
		launch_http_describe(h, status, r->follow_error,
				     sizeof r->follow_error);
		fprintf(stderr, "launch: launching the follow app: %s\n",
			r->follow_error);
	}
	free(body);
	free(url);
	return rc;
}

/* Open the FIFO for writing once the app has it open for reading. */
static int
launch_follow_open_fifo(struct launch *l)
{
	int64_t deadline = util_now_ms() + 10000;
	int fd;

	while ((fd = open(l->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENXIO) {
			fprintf(stderr, "launch: %s: %s\n", l->fifo,
				strerror(errno));
			return -1;
		}
		if (util_now_ms() > deadline ||
		    atomic_load(&launch_interrupted)) {
			fprintf(stderr,
				"launch: the follow app did not open "
				"%s within 10 s\n",
				l->fifo);
			return -1;
		}
		launch_sleep_ms(10);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Ask the follow app to end: "quit" through the FIFO, else a stop. */
static void
launch_follow_stop_app(struct launch *l)
{
	struct launch_http *h;
	char *url;
	int fd;

	if (l->follow_app == NULL)
		return;
	if ((fd = open(l->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) != -1) {
		if (write(fd, "quit\n", 5) == 5) {
			close(fd);
			goto out;
		}
		close(fd);
	}
	if (l->auth == NULL || !launch_cluster_alive(l) ||
	    (h = launch_http_new(l)) == NULL)
		goto out;
	url = xasprintf("%s/v1/apps/%s/stop", l->api_base, l->follow_app);
	launch_http_call(h, url, "{\"timeout_s\":2}");
	free(url);
	launch_http_free(h);
out:
	free(l->follow_app);
	l->follow_app = NULL;
}

static int
launch_follow(struct launch *l, struct launch_http *h, struct launch_result *r)
{
	struct launch_follow *f = xcalloc(1, sizeof *f);
	pthread_t tid;
	bool running = false;
	int fd = -1, rc = -1;
	int64_t start, deadline;
	double *v = NULL;
	size_t n = 0;

	if (access(LAUNCH_PYTHON, X_OK) == -1) {
		snprintf(r->follow_error, sizeof r->follow_error, "%s: %s",
			 LAUNCH_PYTHON, strerror(errno));
		rc = 0;
		goto out;
	}
	if (mkfifo(l->fifo, 0600) == -1) {
		fprintf(stderr, "launch: mkfifo %s: %s\n", l->fifo,
			strerror(errno));
		goto out;
	}
	if (launch_follow_start_app(l, h, r) == -1 ||
	    (fd = launch_follow_open_fifo(l)) == -1)
		goto out;
	for (int i = 0; i <= LAUNCH_FOLLOW_LINES; i++)
		f->delay_us[i] = -1;
	f->l = l;
	f->url = xasprintf("%s/v1/apps/%s/logs?follow=1&tail=0", l->api_base,
			   l->follow_app);
	if (launch_thread_start(&tid, launch_follow_run, f) == -1)
		goto out;
	running = true;

	/*
	 * With tail=0 only output after the stream began shows, and nothing
	 * says when it began: write "sync" until one comes back.
	 */
	deadline = util_now_ms() + 10000;
	while (!atomic_load(&f->synced)) {
		if (atomic_load(&f->done) || util_now_ms() > deadline ||
		    atomic_load(&launch_interrupted) ||
		    write(fd, "sync\n", 5) != 5) {
			snprintf(r->follow_error, sizeof r->follow_error,
				 "the stream never showed a line (HTTP %ld, "
				 "%s%s%.200s)",
				 f->status, curl_easy_strerror(f->cc),
				 f->errbody.len > 0 ? ": " : "",
				 f->errbody.len > 0 ? f->errbody.data : "");
			fprintf(stderr, "launch: %s\n", r->follow_error);
			l->drover_failed = true;
			goto out;
		}
		launch_sleep_ms(50);
	}

	/* On a fixed schedule, so a slow line does not push the next ones. */
	start = launch_now_us();
	for (int i = 1; i <= LAUNCH_FOLLOW_LINES; i++) {
		char line[64];
		int len;

		launch_sleep_until_us(
		    start + (int64_t)(i - 1) * LAUNCH_FOLLOW_EVERY_MS * 1000);
		if (atomic_load(&launch_interrupted))
			goto out;
		len = snprintf(line, sizeof line, "%d %lld\n", i,
			       (long long)launch_now_us());
		if (write(fd, line, (size_t)len) != len) {
			fprintf(stderr, "launch: writing to %s: %s\n", l->fifo,
				strerror(errno));
			goto out;
		}
	}
	deadline = util_now_ms() + LAUNCH_FOLLOW_DRAIN_MS;
	while (atomic_load(&f->received) < LAUNCH_FOLLOW_LINES &&
	       !atomic_load(&f->done) && util_now_ms() < deadline &&
	       !atomic_load(&launch_interrupted))
		launch_sleep_ms(10);
	r->follow_ran = true;
	rc = 0;
out:
	if (fd != -1) {
		if (write(fd, "quit\n", 5) == 5) {
			free(l->follow_app);
			l->follow_app = NULL;
		}
		close(fd);
	}
	if (running) {
		atomic_store(&f->stop, true);
		pthread_join(tid, NULL);
		v = xcalloc(LAUNCH_FOLLOW_LINES, sizeof *v);
		for (int i = 1; i <= LAUNCH_FOLLOW_LINES; i++)
			if (f->delay_us[i] >= 0)
				v[n++] = (double)f->delay_us[i] / 1000.0;
		r->follow_received = (int)n;
		launch_stats_of(v, n, &r->follow);
	}
	free(v);
	free(f->url);
	free(f->errbody.data);
	free(f);
	return rc;
}

/* ---- set-up, clean-up, report ---------------------------------------------
 */

static int
launch_rm_entry(const char *path, const struct stat *sb, int flag,
		struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Keep copies of the children's logs as /tmp/bench-launch-NAME.log. */
static void
launch_keep_logs(struct launch *l)
{
	for (int i = 0; i < 1 + LAUNCH_NODES; i++) {
		struct launch_child *c = &l->kids[i];
		char *copy, *text;
		size_t len;

		copy = xasprintf("/tmp/bench-launch-%s.log", c->name);
		if (c->logpath == NULL ||
		    (text = util_read_file(c->logpath, 256 * 1024 * 1024,
					   &len)) == NULL) {
			/* Not started: no stale copy from an earlier run. */
			unlink(copy);
			free(copy);
			continue;
		}
		if (util_write_file_atomic(copy, text, len, 0644) == -1)
			fprintf(stderr, "launch: %s: %s\n", copy,
				strerror(errno));
		free(copy);
		free(text);
	}
}

/* Print the end of a child's log, to show why it failed. */
static void
launch_show_log_tail(struct launch_child *c)
{
	const char *p;
	char *text;
	size_t len;
	int lines = 0;

	if (c->pid <= 0 || c->logpath == NULL ||
	    (text = util_read_file(c->logpath, 256 * 1024 * 1024, &len)) ==
		NULL)
		return;
	if (len == 0) {
		fprintf(stderr, "--- %s's log is empty ---\n", c->name);
		free(text);
		return;
	}
	p = text + len;
	while (p > text && lines <= 15)
		if (*--p == '\n')
			lines++;
	fprintf(stderr,
		"--- last lines of %s's log (/tmp/bench-launch-%s.log) "
		"---\n%s%s",
		c->name, c->name, p == text ? "" : "...", p);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', stderr);
	free(text);
}

/* Stop the follow app, the workers, then the master; keep logs; remove TMP. */
static void
launch_cleanup(struct launch *l)
{
	/* First, so a child that died unnoticed is reported as such. */
	launch_cluster_alive(l);
	launch_follow_stop_app(l);
	for (int i = LAUNCH_NODES; i >= 0; i--)
		launch_child_stop(l, &l->kids[i]);
	launch_keep_logs(l);
	if (l->drover_failed)
		for (int i = 0; i < 1 + LAUNCH_NODES; i++)
			launch_show_log_tail(&l->kids[i]);
	if (l->tmpdir != NULL)
		nftw(l->tmpdir, launch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < 1 + LAUNCH_NODES; i++)
		free(l->kids[i].logpath);
	free(l->tmpdir);
	free(l->state);
	free(l->api_base);
	free(l->auth);
	free(l->fifo);
}

static int
launch_setup(struct launch *l, struct launch_http **hp)
{
	char tmpl[] = "/tmp/bench-launch.XXXXXX", *join = NULL;
	static const char *const names[] = {"master", "b1", "b2"};
	int rc = -1;

	if (access(l->o.drover, X_OK) == -1) {
		fprintf(stderr,
			"launch: %s: %s (build drover first, or pass "
			"--drover)\n",
			l->o.drover, strerror(errno));
		return -1;
	}
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "launch: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	l->tmpdir = xstrdup(tmpl);
	l->state = xasprintf("%s/m", l->tmpdir);
	l->fifo = xasprintf("%s/fifo", l->tmpdir);
	for (int i = 0; i < 1 + LAUNCH_NODES; i++) {
		snprintf(l->kids[i].name, sizeof l->kids[i].name, "%s",
			 names[i]);
		l->kids[i].logpath =
		    xasprintf("%s/%s.log", l->tmpdir, names[i]);
	}
	if (launch_free_ports(&l->port, &l->api_port) == -1) {
		fprintf(stderr, "launch: no free port: %s\n", strerror(errno));
		return -1;
	}
	l->api_base = xasprintf("http://127.0.0.1:%d", l->api_port);
	if (launch_start_master(l) == -1 || launch_read_tokens(l, &join) == -1)
		goto out;
	for (int i = 0; i < LAUNCH_NODES; i++)
		if (launch_start_worker(l, i, join) == -1)
			goto out;
	if ((*hp = launch_http_new(l)) == NULL ||
	    launch_wait_ready(l, *hp) == -1)
		goto out;
	rc = 0;
out:
	free(join);
	return rc;
}

static const char *
launch_verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static void
launch_print_stats(const char *what, const struct launch_stats *s)
{
	printf("  %-24s %8.3f %8.3f %8.3f %8.3f ms  (n=%zu)\n", what, s->p50,
	       s->p90, s->p99, s->max, s->n);
}

static void
launch_print(struct launch *l, struct launch_result *r)
{
	double diff = r->drover_lat.p50 - r->raw_lat.p50;
	double pct = r->raw_rate > 0 ? 100.0 * r->load_rate / r->raw_rate : 0;

	printf("\n== launch: drover %s, %ld CPUs, load average at start %s "
	       "==\n",
	       l->o.drover, sysconf(_SC_NPROCESSORS_ONLN), l->loadavg);
	printf("(a) launch latency of /bin/true, %d sequential launches on b1 "
	       "(after %d warm-up)\n",
	       l->o.launches, LAUNCH_WARMUP);
	printf("  %-24s %8s %8s %8s %8s\n", "", "p50", "p90", "p99", "max");
	launch_print_stats("drover POST /v1/apps", &r->drover_lat);
	launch_print_stats("raw posix_spawn", &r->raw_lat);
	if (r->lat_failed > 0)
		printf("  %ld launches failed; first: %s\n", r->lat_failed,
		       r->lat_error);
	printf("  p50 difference %+.3f ms   target <= %.0f ms   %s\n", diff,
	       LAUNCH_LATENCY_TARGET_MS,
	       launch_verdict(r->drover_lat.n > 0 &&
			      diff <= LAUNCH_LATENCY_TARGET_MS));

	printf("(b) throughput over %d s\n", l->o.seconds);
	printf("  drover, %d client threads:   %8.1f launches/s  (%ld ok: b1 "
	       "%ld, b2 %ld; %ld failed; mean %.2f ms each)\n",
	       l->o.threads, r->load_rate, r->load_ok, r->load_per_node[0],
	       r->load_per_node[1], r->load_failed, r->load_mean_ms);
	if (r->load_failed > 0)
		printf("  first failure: %s\n", r->load_error);
	printf("  raw posix_spawn+waitpid, %d threads: %8.1f spawns/s\n",
	       r->raw_threads, r->raw_rate);
	printf("  drover/raw %.1f %%   target >= %.0f %%   %s\n", pct,
	       LAUNCH_RATE_TARGET_PCT,
	       launch_verdict(pct >= LAUNCH_RATE_TARGET_PCT));

	printf("(c) follow delay, %d lines every %d ms through a FIFO to "
	       "GET /v1/apps/ID/logs?follow=1\n",
	       LAUNCH_FOLLOW_LINES, LAUNCH_FOLLOW_EVERY_MS);
	if (!r->follow_ran) {
		printf("  not measured: %s   MISS\n", r->follow_error);
	} else {
		printf(
		    "  received %d of %d; p50 %.2f ms, p90 %.2f ms, p99 %.2f "
		    "ms, max %.2f ms\n",
		    r->follow_received, LAUNCH_FOLLOW_LINES, r->follow.p50,
		    r->follow.p90, r->follow.p99, r->follow.max);
		printf(
		    "  p99 %.2f ms   target < %.0f ms (every line)   %s\n",
		    r->follow.p99, LAUNCH_FOLLOW_TARGET_MS,
		    launch_verdict(r->follow_received == LAUNCH_FOLLOW_LINES &&
				   r->follow.p99 < LAUNCH_FOLLOW_TARGET_MS));
	}
	fflush(stdout);
}

static void
launch_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: launch [--launches N] [--seconds S] [--threads K] "
	    "[--drover PATH]\n"
	    "  --launches N   sequential launches timed for latency (default "
	    "1000)\n"
	    "  --seconds S    length of each throughput run (default 10)\n"
	    "  --threads K    concurrent API clients for throughput (default "
	    "8)\n"
	    "  --drover PATH  the drover binary (default ./build/drover)\n");
}

static int
launch_parse_int(const char *opt, const char *arg, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
			"launch: %s wants a number from %d to %d, not "
			"'%s'\n",
			opt, min, max, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
launch_parse_args(int argc, char **argv, struct launch_opts *o)
{
	static const struct option longopts[] = {
	    {"launches", required_argument, NULL, 'n'},
	    {"seconds", required_argument, NULL, 's'},
	    {"threads", required_argument, NULL, 't'},
	    {"drover", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->launches = 1000;
	o->seconds = 10;
	o->threads = 8;
	o->drover = "./build/drover";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (launch_parse_int("--launches", optarg, 1, 1000000,
					     &o->launches) == -1)
				return -1;
			break;
		case 's':
			if (launch_parse_int("--seconds", optarg, 1, 3600,
					     &o->seconds) == -1)
				return -1;
			break;
		case 't':
			if (launch_parse_int("--threads", optarg, 1, 256,
					     &o->threads) == -1)
				return -1;
			break;
		case 'd':
			o->drover = optarg;
			break;
		case 'h':
			launch_usage(stdout);
			exit(0);
		default:
			launch_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		launch_usage(stderr);
		return -1;
	}
	return 0;
}

/* The first three fields of /proc/loadavg, or "?". */
static void
launch_read_loadavg(struct launch *l)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a[3];

	snprintf(l->loadavg, sizeof l->loadavg, "?");
	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &a[0], &a[1], &a[2]) == 3)
		snprintf(l->loadavg, sizeof l->loadavg, "%.2f %.2f %.2f", a[0],
			 a[1], a[2]);
	fclose(f);
}

static void
launch_progress(const char *what)
{
	fprintf(stderr, "launch: %s\n", what);
}

int
main(int argc, char **argv)
{
	struct launch l = {0};
	struct launch_result r = {0};
	struct launch_http *h = NULL;
	struct sigaction sa = {.sa_handler = launch_on_signal};
	int rc = 1;

	if (launch_parse_args(argc, argv, &l.o) == -1)
		return 2;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a ^C should cut a wait short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "launch: curl_global_init failed\n");
		return 1;
	}

	launch_read_loadavg(&l);
	launch_progress("starting a master and workers b1, b2");
	if (launch_setup(&l, &h) == -1)
		goto out;
	launch_progress("(a) latency");
	if (launch_latency(&l, h, &r) == -1 || !launch_cluster_alive(&l))
		goto out;
	launch_progress("(b) throughput: drover, then raw posix_spawn");
	if (launch_throughput(&l, &r) == -1 || !launch_cluster_alive(&l))
		goto out;
	launch_progress("(c) follow delay");
	if (launch_follow(&l, h, &r) == -1 || !launch_cluster_alive(&l))
		goto out;
	launch_print(&l, &r);
	rc = 0;
out:
	if (atomic_load(&launch_interrupted))
		fprintf(stderr, "launch: interrupted\n");
	launch_http_free(h);
	launch_cleanup(&l);
	curl_global_cleanup();
	if (atomic_load(&launch_interrupted))
		return 130;
	return rc;
}
