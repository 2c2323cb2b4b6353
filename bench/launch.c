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
 *     Beside them, the same path without drover (pathfloor.c): HTTP,
 *     ZeroMQ with CURVE, a spawn (directly, and through a supervisor
 *     process as drover's) and a durable write, nothing else; and that
 *     path and the raw spawn again with exit-only in place of /bin/true, a
 *     program with no C library to start up; and for drover and the
 *     path, how long their threads waited for a CPU (schedstat);
 * (b) throughput: launches per second across both workers from K client
 *     threads, one launch per request, beside posix_spawn + waitpid in a
 *     loop on one thread per CPU; then the same with N launches per
 *     request ("count", as a job array is launched);
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
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "common/xmem.h"

#include "benchlib.h"
#include "pathfloor.h"

#define LAUNCH_NODES 2
/* Launches before the latency run, so connections and caches are warm. */
#define LAUNCH_WARMUP 20
#define LAUNCH_FOLLOW_LINES 200
#define LAUNCH_FOLLOW_EVERY_MS 20
/* How long the lines still in flight may take to arrive at the end. */
#define LAUNCH_FOLLOW_DRAIN_MS 3000
/* Targets the summary checks. */
#define LAUNCH_LATENCY_TARGET_MS 1.0
#define LAUNCH_RATE_TARGET_PCT 70.0
#define LAUNCH_FOLLOW_TARGET_MS 100.0
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
	int count; /* launches per request in the batched run; 0: none */
	const char *drover;
};

struct launch {
	struct launch_opts o;
	struct benchlib_cluster cl; /* master, b1, b2 */
	char *fifo;
	char *follow_app; /* the follow app's ID while it may be running */
	char loadavg[64]; /* /proc/loadavg at start: other load skews it all */
};

struct launch_result {
	struct benchlib_stats drover_lat, raw_lat;
	double drover_waited_ms; /* per launch, this process tree's CPU wait */
	struct benchlib_stats raw_sync; /* fdatasync in the master's state dir */
	struct pathfloor_result floor; /* the same path without drover */
	bool floor_ran;
	char floor_error[256];
	/* The same, spawning exit-only, and its raw spawn. */
	struct benchlib_stats bare_lat;
	struct pathfloor_result bare_floor;
	bool bare_ran;
	char bare_error[256];
	long lat_failed;
	char lat_error[256];
	long load_ok, load_failed, load_per_node[LAUNCH_NODES];
	double load_rate, load_mean_ms;
	char load_error[256];
	/* The same with count launches per request. */
	struct benchlib_load batch;
	bool batch_ran;
	double batch_rate;
	long raw_spawns;
	double raw_rate;
	int raw_threads;
	struct benchlib_stats follow;
	int follow_received;
	bool follow_ran;
	char follow_error[256];
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
	struct benchlib_buf errbody;
	int64_t
	    delay_us[LAUNCH_FOLLOW_LINES + 1]; /* by line number; -1 unseen */
};



/* ---- (a) latency ----------------------------------------------------------
 */

/*
 * Time launches posix_spawns of program into s. posix_spawn returns once
 * the child has exec'd: glibc clones with CLONE_VFORK, which suspends the
 * parent until the child execs (or exits on failure). Reaping is outside
 * the timed part, as it is for drover, whose reply does not wait for the
 * exit either.
 */
static int
launch_time_spawn(const char *program, int launches, struct benchlib_stats *s)
{
	char *const argv[] = {(char *)program, NULL};
	double *v = xcalloc((size_t)launches, sizeof *v);
	size_t n = 0;

	for (int i = 0; i < LAUNCH_WARMUP + launches; i++) {
		int64_t t0, t1;
		pid_t pid;
		int err, status;

		t0 = util_now_us();
		err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
		t1 = util_now_us();
		if (err != 0) {
			fprintf(stderr, "launch: posix_spawn of %s: %s\n",
				program, strerror(err));
			free(v);
			return -1;
		}
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (i >= LAUNCH_WARMUP)
			v[n++] = (double)(t1 - t0) / 1000.0;
	}
	benchlib_stats_of(v, n, s);
	free(v);
	return 0;
}

/* A program built beside this one (allocated), or NULL when it is not. */
static char *
launch_beside_self(const char *name)
{
	char self[4096], *slash, *path;
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

	if (len <= 0)
		return NULL;
	self[len] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	path = xasprintf("%s/%s", self, name);
	if (access(path, X_OK) == -1) {
		free(path);
		return NULL;
	}
	return path;
}

/*
 * The same path without drover, spawning /bin/true, then exit-only (no C
 * library to start) where it was built. Not fatal: drover's figures stand
 * without them.
 */
static void
launch_floors(struct launch *l, struct launch_result *r)
{
	char *bare = launch_beside_self("exit-only");

	r->floor_ran = pathfloor_measure(l->cl.state, "/bin/true",
	    l->o.launches, &r->floor, r->floor_error,
	    sizeof r->floor_error) == 0;
	if (bare == NULL) {
		snprintf(r->bare_error, sizeof r->bare_error, "exit-only is "
		    "not built beside this program (sanitizer builds leave it "
		    "out)");
		return;
	}
	r->bare_ran = launch_time_spawn(bare, l->o.launches,
	    &r->bare_lat) == 0 && pathfloor_measure(l->cl.state, bare,
	    l->o.launches, &r->bare_floor, r->bare_error,
	    sizeof r->bare_error) == 0;
	free(bare);
}

static int
launch_latency(struct launch *l, struct benchlib_http *h, struct launch_result *r)
{
	char *url = xasprintf("%s/v1/apps", l->cl.api_base);
	static const char body[] = "{\"node\":\"b1\",\"path\":\"/bin/true\"}";
	double *v = xcalloc((size_t)l->o.launches, sizeof *v);
	struct benchlib_waits before = { 0 }, after = { 0 };
	size_t n = 0;
	int rc = -1;

	for (int i = 0; i < LAUNCH_WARMUP + l->o.launches; i++) {
		int64_t t0, t1;
		long status;

		if (i == LAUNCH_WARMUP)
			benchlib_waits_read(&before);
		if (atomic_load(&benchlib_interrupted))
			goto out;
		t0 = util_now_us();
		status = benchlib_http_call(h, url, body);
		t1 = util_now_us();
		if (!benchlib_http_launched(h, status)) {
			if (r->lat_error[0] == '\0')
				benchlib_http_describe(h, status, r->lat_error,
						     sizeof r->lat_error);
			if (i >= LAUNCH_WARMUP)
				r->lat_failed++;
			if (status == -1 && !benchlib_cluster_alive(&l->cl, -1))
				goto out;
			continue;
		}
		if (i >= LAUNCH_WARMUP)
			v[n++] = (double)(t1 - t0) / 1000.0;
	}
	benchlib_waits_read(&after);
	r->drover_waited_ms = n == 0 ? 0 :
	    (double)benchlib_waits_between(&before, &after) / 1e6 / (double)n;
	benchlib_stats_of(v, n, &r->drover_lat);

	if (launch_time_spawn("/bin/true", l->o.launches, &r->raw_lat) == -1)
		goto out;

	/*
	 * The disk's own floor: a launch is acknowledged only once the master
	 * has committed its record, which it does while the worker starts the
	 * app. Timed the way SQLite's WAL commit does it: a page appended,
	 * then fdatasync.
	 */
	char *path = xasprintf("%s/bench-fdatasync", l->cl.state);
	static char page[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	n = 0;
	for (int i = 0; fd != -1 && i < LAUNCH_WARMUP + l->o.launches; i++) {
		int64_t t0, t1;

		if (write(fd, page, sizeof page) != (ssize_t)sizeof page)
			break;
		t0 = util_now_us();
		if (fdatasync(fd) == -1)
			break;
		t1 = util_now_us();
		if (i >= LAUNCH_WARMUP)
			v[n++] = (double)(t1 - t0) / 1000.0;
	}
	if (fd != -1)
		close(fd);
	unlink(path);
	free(path);
	benchlib_stats_of(v, n, &r->raw_sync);

	launch_floors(l, r);
	rc = 0;
out:
	benchlib_waits_free(&before);
	benchlib_waits_free(&after);
	free(v);
	free(url);
	return rc;
}

/* ---- (b) throughput -------------------------------------------------------
 */

static void *
launch_raw_run(void *arg)
{
	struct launch_raw *t = arg;
	char *const argv[] = {"/bin/true", NULL};
	pid_t pid;
	int status;

	while (util_now_us() < t->end_us &&
	       !atomic_load(&benchlib_interrupted)) {
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
	struct benchlib_load load;
	struct launch_raw *raw;
	pthread_t *tid;
	int64_t start;
	int nraw, started = 0, rc = -1;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (benchlib_load(&l->cl, l->o.threads, l->o.seconds, 0, &load) == -1)
		return -1;
	r->load_ok = load.ok;
	r->load_failed = load.failed;
	for (int j = 0; j < LAUNCH_NODES; j++)
		r->load_per_node[j] = load.per_node[j];
	snprintf(r->load_error, sizeof r->load_error, "%s", load.error);
	r->load_rate = (double)r->load_ok / l->o.seconds;
	r->load_mean_ms = load.requests > 0 ? (double)load.sum_us /
					       (double)load.requests / 1000.0
					 : 0;
	if (!benchlib_cluster_alive(&l->cl, -1))
		return -1;
	if (l->o.count > 0) {
		if (benchlib_load(&l->cl, l->o.threads, l->o.seconds,
				  l->o.count, &r->batch) == -1 ||
		    !benchlib_cluster_alive(&l->cl, -1))
			return -1;
		r->batch_ran = true;
		r->batch_rate = (double)r->batch.ok / l->o.seconds;
	}

	nraw = cpus > 0 ? (int)cpus : 1;
	tid = xcalloc((size_t)nraw, sizeof *tid);
	raw = xcalloc((size_t)nraw, sizeof *raw);
	r->raw_threads = nraw;
	start = util_now_us();
	started = 0;
	for (int i = 0; i < nraw; i++) {
		raw[i].end_us = start + (int64_t)l->o.seconds * 1000000;
		if (benchlib_thread_start(&tid[i], launch_raw_run, &raw[i]) == -1)
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
	if (started == nraw && !atomic_load(&benchlib_interrupted))
		rc = 0;
	free(raw);
	free(tid);
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
	int64_t now = util_now_us();
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return benchlib_buf_write(ptr, size, nmemb, &f->errbody);
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
	return atomic_load(&f->stop) || atomic_load(&benchlib_interrupted);
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
	hdrs = curl_slist_append(NULL, f->l->cl.auth);

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
launch_follow_start_app(struct launch *l, struct benchlib_http *h,
			struct launch_result *r)
{
	char *url = xasprintf("%s/v1/apps", l->cl.api_base), *body;
	json_t *req, *j;
	long status;
	int rc = -1;

	req =
	    json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "node",
		      l->cl.kids[1].name, "name", "follow", "path", LAUNCH_PYTHON,
		      "args", "-u", "-c", launch_follow_code, l->fifo);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	status = benchlib_http_call(h, url, body);
	if (status == 201 && (j = benchlib_http_json(h)) != NULL) {
		const char *id = json_string_value(json_object_get(j, "id"));

		if (id != NULL) {
			l->follow_app = xstrdup(id);
			rc = 0;
		}
		json_decref(j);
	}
	if (rc == -1) {
		benchlib_http_describe(h, status, r->follow_error,
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
		    atomic_load(&benchlib_interrupted)) {
			fprintf(stderr,
				"launch: the follow app did not open "
				"%s within 10 s\n",
				l->fifo);
			return -1;
		}
		benchlib_sleep_ms(10);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Ask the follow app to end: "quit" through the FIFO, else a stop. */
static void
launch_follow_stop_app(struct launch *l)
{
	struct benchlib_http *h;
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
	if (l->cl.auth == NULL || !benchlib_cluster_alive(&l->cl, -1) ||
	    (h = benchlib_http_new(&l->cl)) == NULL)
		goto out;
	url = xasprintf("%s/v1/apps/%s/stop", l->cl.api_base, l->follow_app);
	benchlib_http_call(h, url, "{\"timeout_s\":2}");
	free(url);
	benchlib_http_free(h);
out:
	free(l->follow_app);
	l->follow_app = NULL;
}

static int
launch_follow(struct launch *l, struct benchlib_http *h, struct launch_result *r)
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
	f->url = xasprintf("%s/v1/apps/%s/logs?follow=1&tail=0", l->cl.api_base,
			   l->follow_app);
	if (benchlib_thread_start(&tid, launch_follow_run, f) == -1)
		goto out;
	running = true;

	/*
	 * With tail=0 only output after the stream began shows, and nothing
	 * says when it began: write "sync" until one comes back.
	 */
	deadline = util_now_ms() + 10000;
	while (!atomic_load(&f->synced)) {
		if (atomic_load(&f->done) || util_now_ms() > deadline ||
		    atomic_load(&benchlib_interrupted) ||
		    write(fd, "sync\n", 5) != 5) {
			snprintf(r->follow_error, sizeof r->follow_error,
				 "the stream never showed a line (HTTP %ld, "
				 "%s%s%.200s)",
				 f->status, curl_easy_strerror(f->cc),
				 f->errbody.len > 0 ? ": " : "",
				 f->errbody.len > 0 ? f->errbody.data : "");
			fprintf(stderr, "launch: %s\n", r->follow_error);
			l->cl.drover_failed = true;
			goto out;
		}
		benchlib_sleep_ms(50);
	}

	/* On a fixed schedule, so a slow line does not push the next ones. */
	start = util_now_us();
	for (int i = 1; i <= LAUNCH_FOLLOW_LINES; i++) {
		char line[64];
		int len;

		benchlib_sleep_until_us(
		    start + (int64_t)(i - 1) * LAUNCH_FOLLOW_EVERY_MS * 1000);
		if (atomic_load(&benchlib_interrupted))
			goto out;
		len = snprintf(line, sizeof line, "%d %lld\n", i,
			       (long long)util_now_us());
		if (write(fd, line, (size_t)len) != len) {
			fprintf(stderr, "launch: writing to %s: %s\n", l->fifo,
				strerror(errno));
			goto out;
		}
	}
	deadline = util_now_ms() + LAUNCH_FOLLOW_DRAIN_MS;
	while (atomic_load(&f->received) < LAUNCH_FOLLOW_LINES &&
	       !atomic_load(&f->done) && util_now_ms() < deadline &&
	       !atomic_load(&benchlib_interrupted))
		benchlib_sleep_ms(10);
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
		benchlib_stats_of(v, n, &r->follow);
	}
	free(v);
	free(f->url);
	free(f->errbody.data);
	free(f);
	return rc;
}

/* ---- set-up, clean-up, report ---------------------------------------------
 */

/* Stop the follow app, the workers, then the master; keep logs; remove TMP. */
static void
launch_cleanup(struct launch *l)
{
	/* First, so a child that died unnoticed is reported as such. */
	benchlib_cluster_alive(&l->cl, -1);
	launch_follow_stop_app(l);
	benchlib_cluster_free(&l->cl);
	free(l->fifo);
}

static int
launch_setup(struct launch *l, struct benchlib_http **hp)
{
	static const char *const names[] = {"master", "b1", "b2"};
	static const char *const extra[] = {"--heartbeat", "1000", NULL};

	if (benchlib_cluster_init(&l->cl, "bench-launch", l->o.drover, names,
				  1 + LAUNCH_NODES) == -1)
		return -1;
	l->fifo = xasprintf("%s/fifo", l->cl.tmpdir);
	if (benchlib_cluster_start_master(&l->cl, extra) == -1)
		return -1;
	for (int i = 1; i <= LAUNCH_NODES; i++)
		if (benchlib_cluster_start_worker(&l->cl, i, NULL) == -1)
			return -1;
	if ((*hp = benchlib_http_new(&l->cl)) == NULL ||
	    benchlib_wait_ready(&l->cl, *hp, 3) == -1)
		return -1;
	return 0;
}

static void
launch_print_stats(const char *what, const struct benchlib_stats *s)
{
	printf("  %-24s %8.3f %8.3f %8.3f %8.3f ms  (n=%zu)\n", what, s->p50,
	       s->p90, s->p99, s->max, s->n);
}

/*
 * The path's rows, spawning directly and through a supervisor, and their
 * p50s against the raw spawn's, the line left open for what follows.
 */
static void
launch_print_path(const struct pathfloor_result *f, double raw_p50)
{
	launch_print_stats("all of it", &f->whole);
	launch_print_stats("all, by a supervisor", &f->supervised);
	printf("  p50 difference without drover %+.3f ms, through a supervisor "
	       "%+.3f ms",
	       f->whole.p50 - raw_p50, f->supervised.p50 - raw_p50);
}

/* The path without drover: what of the difference is not drover's. */
static void
launch_print_floor(const struct launch_result *r)
{
	if (!r->floor_ran) {
		printf("  the same path without drover: not measured: %s\n",
		       r->floor_error);
		return;
	}
	printf("  the same path without drover (libcurl, libmicrohttpd, "
	       "ZeroMQ CURVE, posix_spawn, fdatasync):\n");
	launch_print_stats("HTTP POST, answered", &r->floor.http);
	launch_print_stats("ZeroMQ round trip", &r->floor.zmq);
	launch_print_path(&r->floor, r->raw_lat.p50);
	printf("; drover's own %+.3f ms\n",
	       r->drover_lat.p50 - r->floor.supervised.p50);
	printf("  waiting for a CPU, per launch (run-queue delay summed over "
	       "the threads of this program and the processes under it, "
	       "which wait side by side): drover %.3f ms, the path without "
	       "drover %.3f ms, through a supervisor %.3f ms\n",
	       r->drover_waited_ms,
	       r->floor.whole_waited_ms, r->floor.supervised_waited_ms);
	if (!r->bare_ran) {
		printf("  the same, spawning exit-only: not measured: %s\n",
		       r->bare_error);
		return;
	}
	printf("  the same, spawning exit-only (one system call, no C library "
	       "to start up):\n");
	launch_print_stats("raw posix_spawn", &r->bare_lat);
	launch_print_path(&r->bare_floor, r->bare_lat.p50);
	printf("\n");
}

static void
launch_print(struct launch *l, struct launch_result *r)
{
	double diff = r->drover_lat.p50 - r->raw_lat.p50;
	double pct = r->raw_rate > 0 ? 100.0 * r->load_rate / r->raw_rate : 0;

	benchlib_print_banner("launch", l->o.drover, l->loadavg);
	printf("(a) launch latency of /bin/true, %d sequential launches on b1 "
	       "(after %d warm-up)\n",
	       l->o.launches, LAUNCH_WARMUP);
	printf("  %-24s %8s %8s %8s %8s\n", "", "p50", "p90", "p99", "max");
	launch_print_stats("drover POST /v1/apps", &r->drover_lat);
	launch_print_stats("raw posix_spawn", &r->raw_lat);
	launch_print_stats("raw fdatasync (4 KiB)", &r->raw_sync);
	if (r->lat_failed > 0)
		printf("  %ld launches failed; first: %s\n", r->lat_failed,
		       r->lat_error);
	printf("  p50 difference %+.3f ms   target <= %.0f ms   %s\n", diff,
	       LAUNCH_LATENCY_TARGET_MS,
	       benchlib_verdict(r->drover_lat.n > 0 &&
			      diff <= LAUNCH_LATENCY_TARGET_MS));
	launch_print_floor(r);

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
	       benchlib_verdict(pct >= LAUNCH_RATE_TARGET_PCT));
	if (r->batch_ran) {
		printf("  drover, %d launches per request (count), %d client "
		       "threads: %8.1f launches/s (%ld ok; %ld failed; mean "
		       "%.2f ms a request), %.1f %% of raw\n",
		       l->o.count, l->o.threads, r->batch_rate, r->batch.ok,
		       r->batch.failed, r->batch.requests > 0 ?
		       (double)r->batch.sum_us / (double)r->batch.requests /
		       1000.0 : 0.0, r->raw_rate > 0 ?
		       100.0 * r->batch_rate / r->raw_rate : 0.0);
		if (r->batch.failed > 0)
			printf("  first failure: %s\n", r->batch.error);
	}

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
		    benchlib_verdict(r->follow_received == LAUNCH_FOLLOW_LINES &&
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
	    "[--count N] [--drover PATH]\n"
	    "  --launches N   sequential launches timed for latency (default "
	    "1000)\n"
	    "  --seconds S    length of each throughput run (default 10)\n"
	    "  --threads K    concurrent API clients for throughput (default "
	    "8)\n"
	    "  --count N      launches per request in the batched throughput "
	    "run\n"
	    "                 (default 16; 0: no batched run)\n"
	    "  --drover PATH  the drover binary (default ./build/drover)\n");
}

static int
launch_parse_args(int argc, char **argv, struct launch_opts *o)
{
	const struct benchlib_opt opts[] = {
	    {"launches", &o->launches, 1, 1000000},
	    {"seconds", &o->seconds, 1, 3600},
	    {"threads", &o->threads, 1, 256},
	    {"count", &o->count, 0, 1000},
	    {NULL, NULL, 0, 0},
	};

	o->launches = 1000;
	o->seconds = 10;
	o->threads = 8;
	o->count = 16;
	o->drover = "./build/drover";
	return benchlib_parse_args(argc, argv, opts, &o->drover, launch_usage);
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
	struct benchlib_http *h = NULL;
	int rc = 1;

	benchlib_init("launch");
	if (launch_parse_args(argc, argv, &l.o) == -1)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "launch: curl_global_init failed\n");
		return 1;
	}

	benchlib_loadavg(l.loadavg, sizeof l.loadavg);
	launch_progress("starting a master and workers b1, b2");
	if (launch_setup(&l, &h) == -1)
		goto out;
	launch_progress("(a) latency");
	if (launch_latency(&l, h, &r) == -1 ||
	    !benchlib_cluster_alive(&l.cl, -1))
		goto out;
	launch_progress("(b) throughput: drover, then raw posix_spawn");
	if (launch_throughput(&l, &r) == -1 ||
	    !benchlib_cluster_alive(&l.cl, -1))
		goto out;
	launch_progress("(c) follow delay");
	if (launch_follow(&l, h, &r) == -1 ||
	    !benchlib_cluster_alive(&l.cl, -1))
		goto out;
	launch_print(&l, &r);
	rc = 0;
out:
	if (atomic_load(&benchlib_interrupted))
		fprintf(stderr, "launch: interrupted\n");
	benchlib_http_free(h);
	launch_cleanup(&l);
	curl_global_cleanup();
	if (atomic_load(&benchlib_interrupted))
		return 130;
	return rc;
}
