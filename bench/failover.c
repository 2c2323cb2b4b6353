/*
 * failover: how long drover takes to move the apps of a lost node. The
 * program starts its own master (heartbeat 1 s, the default) and three
 * workers (b1, b2, b3) on 127.0.0.1 and measures, through the REST API:
 *
 * (a) failover: N `sleep 600` apps (default 50) with restart on-failure are
 *     launched on b1, b1 is killed with SIGKILL, and GET /v1/apps is polled
 *     every 20 ms until every one of them runs (state running or sleeping)
 *     on another node. The time from the kill to that moment is one trial;
 *     the time to the first "rescheduled" event splits it into detection
 *     (two missed heartbeats) and restart. Between trials b1 is restarted
 *     with a fresh dir, the orphaned sleeps of the killed b1 are killed and
 *     the moved apps stopped. The target is a median and max of at most
 *     3.5 s;
 * (b) durable launch throughput: launches per second of /bin/true across
 *     b1 and b2 from K client threads over S seconds (each acknowledged
 *     launch committed to the state database first), the figure to set
 *     beside bench/launch's (b).
 *
 * The children's output goes to TMP/NAME.log, copied to
 * /tmp/bench-failover-NAME.log before TMP is removed.
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

#define FAILOVER_NODES 3
#define FAILOVER_POLL_MS 20
#define FAILOVER_READY_TIMEOUT_MS 30000
/* A trial that has not moved every app by then failed. */
#define FAILOVER_MOVE_TIMEOUT_MS 30000
#define FAILOVER_STOP_TIMEOUT_MS 10000
#define FAILOVER_TARGET_S 3.5
#define FAILOVER_HTTP_MAX (16 * 1024 * 1024)
#define FAILOVER_TRIALS_MAX 100

struct failover_opts {
	int trials;
	int apps;
	int seconds;
	int threads;
	const char *drover;
};

/* One process we started: the master or a worker. */
struct failover_child {
	char name[16];
	pid_t pid;
	bool exited;
	int status;
	char *logpath;
};

struct failover {
	struct failover_opts o;
	char *tmpdir;
	char *state;
	char *join;
	int port, api_port;
	char *api_base;
	char *auth;
	struct failover_child kids[1 + FAILOVER_NODES]; /* master, b1..b3 */
	int b1_generation;	/* b1's dir: TMP/b1-GEN, fresh per restart */
	pid_t *orphans;		/* sleeps the killed b1 left behind */
	size_t norphans;
	bool drover_failed;
	char loadavg[64];
};

struct failover_buf {
	char *data;
	size_t len;
};

struct failover_http {
	CURL *curl;
	struct curl_slist *hdrs;
	struct failover_buf body;
	char err[CURL_ERROR_SIZE];
};

struct failover_trial {
	double total_s;	 /* kill -> every app running elsewhere */
	double detect_s; /* kill -> first "rescheduled" event */
	int moved;
	int nodes[FAILOVER_NODES]; /* where the apps went */
	char error[256];
};

/* One client thread of the throughput run. */
struct failover_load {
	struct failover *f;
	int index;
	int64_t start_us, end_us;
	long ok, failed;
	char error[256];
};

static atomic_int failover_interrupted;

static void
failover_on_signal(int sig)
{
	(void)sig;
	atomic_store(&failover_interrupted, 1);
}

static void
failover_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
failover_sleep_until_us(int64_t at_us)
{
	struct timespec ts = { at_us / 1000000, (long)(at_us % 1000000) * 1000 };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int
failover_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- the processes we start ---------------------------------------------- */

static int
failover_free_ports(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int fds[2] = { -1, -1 }, rc = -1;
	int *out[2] = { a, b };

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

static bool
failover_child_alive(struct failover_child *c)
{
	if (c->pid <= 0 || c->exited)
		return false;
	if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->exited = true;
		return false;
	}
	return true;
}

/* Fork and exec argv with its output appended to c->logpath. */
static int
failover_child_start(struct failover_child *c, char *const argv[])
{
	int logfd, nullfd;

	if ((logfd = open(c->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "failover: %s: %s\n", c->logpath,
		    strerror(errno));
		return -1;
	}
	c->exited = false;
	switch (c->pid = fork()) {
	case -1:
		fprintf(stderr, "failover: fork: %s\n", strerror(errno));
		close(logfd);
		return -1;
	case 0:
		/* Its own group (^C reaches only us); dies with us. */
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
		dprintf(2, "failover: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(logfd);
	return 0;
}

/* SIGTERM c and wait for it (SIGKILL after a while). */
static void
failover_child_stop(struct failover *f, struct failover_child *c)
{
	int64_t start = util_now_ms();

	if (!failover_child_alive(c))
		return;
	kill(c->pid, SIGTERM);
	while (failover_child_alive(c)) {
		if (util_now_ms() - start > FAILOVER_STOP_TIMEOUT_MS) {
			fprintf(stderr, "failover: %s did not exit within %d s "
			    "of SIGTERM; killing it\n", c->name,
			    FAILOVER_STOP_TIMEOUT_MS / 1000);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			c->exited = true;
			f->drover_failed = true;
			return;
		}
		failover_sleep_ms(10);
	}
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
		fprintf(stderr, "failover: %s ended badly on SIGTERM (status "
		    "0x%x)\n", c->name, c->status);
		f->drover_failed = true;
	}
}

/* Whether the master and every worker still run (b1 may be down on purpose). */
static bool
failover_cluster_alive(struct failover *f, bool b1_too)
{
	for (int i = 0; i < 1 + FAILOVER_NODES; i++) {
		struct failover_child *c = &f->kids[i];

		if (i == 1 && !b1_too)
			continue;
		if (c->pid > 0 && !failover_child_alive(c)) {
			fprintf(stderr, "failover: %s stopped (status 0x%x; see "
			    "/tmp/bench-failover-%s.log)\n", c->name, c->status,
			    c->name);
			f->drover_failed = true;
			return false;
		}
	}
	return true;
}

static int
failover_start_master(struct failover *f)
{
	char bind[64], api[64];
	char *argv[] = { (char *)f->o.drover, "master", "--bind", bind, "--api",
		api, "--state", f->state, "--heartbeat", "1000", NULL };

	snprintf(bind, sizeof bind, "127.0.0.1:%d", f->port);
	snprintf(api, sizeof api, "127.0.0.1:%d", f->api_port);
	return failover_child_start(&f->kids[0], argv);
}

static int
failover_read_tokens(struct failover *f)
{
	char *jpath = xasprintf("%s/join.token", f->state);
	char *apath = xasprintf("%s/admin.token", f->state), *admin = NULL;
	int64_t deadline = util_now_ms() + 20000;
	int rc = -1;

	while (access(jpath, R_OK) == -1 || access(apath, R_OK) == -1) {
		if (!failover_cluster_alive(f, true) ||
		    atomic_load(&failover_interrupted))
			goto out;
		if (util_now_ms() > deadline) {
			fprintf(stderr, "failover: no %s after 20 s\n", jpath);
			goto out;
		}
		failover_sleep_ms(20);
	}
	if ((f->join = util_read_file(jpath, 4096, NULL)) == NULL ||
	    (admin = util_read_file(apath, 4096, NULL)) == NULL) {
		fprintf(stderr, "failover: reading the tokens: %s\n",
		    strerror(errno));
		goto out;
	}
	util_chomp(f->join);
	util_chomp(admin);
	f->auth = xasprintf("Authorization: Bearer %s", admin);
	rc = 0;
out:
	free(admin);
	free(jpath);
	free(apath);
	return rc;
}

/* Start worker i (0: b1); b1 gets a fresh dir each time. */
static int
failover_start_worker(struct failover *f, int i)
{
	struct failover_child *c = &f->kids[1 + i];
	char master[64], *dir;
	int rc;

	if (i == 0)
		dir = xasprintf("%s/%s-%d", f->tmpdir, c->name,
		    f->b1_generation++);
	else
		dir = xasprintf("%s/%s", f->tmpdir, c->name);
	char *argv[] = { (char *)f->o.drover, "worker", "--join", master,
		"--token", f->join, "--name", c->name, "--dir", dir, NULL };

	snprintf(master, sizeof master, "127.0.0.1:%d", f->port);
	rc = failover_child_start(c, argv);
	free(dir);
	return rc;
}

/* ---- the REST API ---------------------------------------------------------- */

static size_t
failover_buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct failover_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > FAILOVER_HTTP_MAX)
		return 0;
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void
failover_http_free(struct failover_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	free(h->body.data);
	free(h);
}

static struct failover_http *
failover_http_new(struct failover *f)
{
	struct failover_http *h = xcalloc(1, sizeof *h);

	if ((h->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "failover: curl_easy_init failed\n");
		free(h);
		return NULL;
	}
	h->hdrs = curl_slist_append(NULL, f->auth);
	h->hdrs = curl_slist_append(h->hdrs, "Content-Type: application/json");
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->err);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, failover_buf_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->body);
	return h;
}

/* POST body when not NULL, else GET. The HTTP status, or -1 (h->err). */
static long
failover_http_call(struct failover_http *h, const char *url, const char *body)
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

static json_t *
failover_http_json(struct failover_http *h)
{
	return json_loadb(h->body.data != NULL ? h->body.data : "", h->body.len,
	    0, NULL);
}

static void
failover_http_describe(struct failover_http *h, long status, char *buf,
    size_t len)
{
	if (status == -1)
		snprintf(buf, len, "cannot reach the API: %.200s", h->err);
	else
		snprintf(buf, len, "HTTP %ld: %.200s", status,
		    h->body.len > 0 ? h->body.data : "(no body)");
	util_chomp(buf);
}

/* GET path as JSON (caller decrefs), or NULL. */
static json_t *
failover_get(struct failover *f, struct failover_http *h, const char *path)
{
	char *url = xasprintf("%s%s", f->api_base, path);
	long status = failover_http_call(h, url, NULL);

	free(url);
	return status == 200 ? failover_http_json(h) : NULL;
}

/* Wait until every worker whose bit is in mask is ready. */
static int
failover_wait_ready(struct failover *f, struct failover_http *h, int mask)
{
	int64_t deadline = util_now_ms() + FAILOVER_READY_TIMEOUT_MS;

	for (;;) {
		json_t *nodes = failover_get(f, h, "/v1/nodes"), *v;
		int ready = 0;
		size_t i;

		json_array_foreach(nodes, i, v) {
			const char *name = json_string_value(json_object_get(v,
			    "name"));
			const char *state = json_string_value(json_object_get(v,
			    "state"));

			for (int k = 0; k < FAILOVER_NODES; k++)
				if (name != NULL && state != NULL &&
				    strcmp(name, f->kids[1 + k].name) == 0 &&
				    strcmp(state, "ready") == 0)
					ready |= 1 << k;
		}
		json_decref(nodes);
		if ((ready & mask) == mask)
			return 0;
		if (!failover_cluster_alive(f, (mask & 1) != 0) ||
		    atomic_load(&failover_interrupted))
			return -1;
		if (util_now_ms() > deadline) {
			fprintf(stderr, "failover: workers not ready after %d s\n",
			    FAILOVER_READY_TIMEOUT_MS / 1000);
			f->drover_failed = true;
			return -1;
		}
		failover_sleep_ms(50);
	}
}

static const char *
failover_state_of(json_t *app)
{
	const char *s = json_string_value(json_object_get(app, "state"));

	return s != NULL ? s : "?";
}

static bool
failover_running(json_t *app)
{
	const char *s = failover_state_of(app);

	return strcmp(s, "running") == 0 || strcmp(s, "sleeping") == 0;
}

/* The highest event id so far (events after it are this trial's). */
static long long
failover_last_event(struct failover *f, struct failover_http *h)
{
	long long last = 0;
	json_t *ev;

	/* Pages of 1000, oldest first. */
	for (;;) {
		char *path = xasprintf("/v1/events?after=%lld&limit=1000", last);
		size_t n;

		ev = failover_get(f, h, path);
		free(path);
		n = json_array_size(ev);
		if (n > 0)
			last = json_integer_value(json_object_get(
			    json_array_get(ev, n - 1), "id"));
		json_decref(ev);
		if (n < 1000)
			return last;
	}
}

/* Wall ms of the first "rescheduled" event after event id after, or 0. */
static int64_t
failover_first_reschedule(struct failover *f, struct failover_http *h,
    long long after)
{
	char *path = xasprintf("/v1/events?after=%lld&limit=1000", after);
	json_t *ev = failover_get(f, h, path), *e;
	int64_t first = 0;
	size_t i;

	free(path);
	json_array_foreach(ev, i, e) {
		const char *what = json_string_value(json_object_get(
		    json_object_get(e, "detail"), "event"));

		if (what != NULL && strcmp(what, "rescheduled") == 0) {
			first = json_integer_value(json_object_get(e, "at"));
			break;
		}
	}
	json_decref(ev);
	return first;
}

/* ---- (a) failover ------------------------------------------------------------ */

/* Launch the trial's apps on b1; their ids go to ids[], pids to orphans. */
static int
failover_launch_apps(struct failover *f, struct failover_http *h, char **ids,
    struct failover_trial *t)
{
	static const char body[] = "{\"node\":\"b1\",\"path\":\"/bin/sleep\","
	    "\"args\":[\"600\"],\"restart\":\"on-failure\",\"name\":\"sleeper\"}";
	char *url = xasprintf("%s/v1/apps", f->api_base);
	int rc = -1;

	for (int i = 0; i < f->o.apps; i++) {
		long status = failover_http_call(h, url, body);
		json_t *j = status == 201 ? failover_http_json(h) : NULL;
		const char *id = json_string_value(json_object_get(j, "id"));
		json_int_t pid = json_integer_value(json_object_get(j, "pid"));

		if (id == NULL || pid <= 0) {
			failover_http_describe(h, status, t->error,
			    sizeof t->error);
			json_decref(j);
			goto out;
		}
		ids[i] = xstrdup(id);
		f->orphans = xreallocarray(f->orphans, f->norphans + 1,
		    sizeof *f->orphans);
		f->orphans[f->norphans++] = (pid_t)pid;
		json_decref(j);
	}
	rc = 0;
out:
	free(url);
	return rc;
}

/*
 * Poll GET /v1/apps every 20 ms until every id runs off b1. Returns 0 with
 * *done_us the monotonic time it first held.
 */
static int
failover_wait_moved(struct failover *f, struct failover_http *h, char **ids,
    int64_t kill_us, int64_t *done_us, struct failover_trial *t)
{
	int64_t deadline = kill_us + (int64_t)FAILOVER_MOVE_TIMEOUT_MS * 1000;

	for (;;) {
		int64_t now = util_now_us();
		json_t *apps = failover_get(f, h, "/v1/apps"), *a;
		int moved = 0, nodes[FAILOVER_NODES] = { 0 };
		size_t i;

		json_array_foreach(apps, i, a) {
			const char *id = json_string_value(json_object_get(a,
			    "id"));
			const char *node = json_string_value(json_object_get(a,
			    "node"));

			if (id == NULL || node == NULL ||
			    strcmp(node, "b1") == 0 || !failover_running(a))
				continue;
			for (int k = 0; k < f->o.apps; k++) {
				if (strcmp(ids[k], id) != 0)
					continue;
				moved++;
				for (int n = 0; n < FAILOVER_NODES; n++)
					if (strcmp(node, f->kids[1 + n].name)
					    == 0)
						nodes[n]++;
			}
		}
		json_decref(apps);
		t->moved = moved;
		memcpy(t->nodes, nodes, sizeof nodes);
		if (moved == f->o.apps) {
			*done_us = now;
			return 0;
		}
		if (!failover_cluster_alive(f, false) ||
		    atomic_load(&failover_interrupted))
			return -1;
		if (now > deadline) {
			snprintf(t->error, sizeof t->error, "only %d of %d apps "
			    "moved after %d s", moved, f->o.apps,
			    FAILOVER_MOVE_TIMEOUT_MS / 1000);
			return -1;
		}
		failover_sleep_until_us(now + FAILOVER_POLL_MS * 1000);
	}
}

/* Kill what the killed b1 left running, by process group. */
static void
failover_kill_orphans(struct failover *f)
{
	for (size_t i = 0; i < f->norphans; i++) {
		kill(-f->orphans[i], SIGKILL);
		kill(f->orphans[i], SIGKILL);
	}
	f->norphans = 0;
}

/* Stop (SIGKILL, so no restart follows) the trial's moved apps. */
static void
failover_stop_apps(struct failover *f, struct failover_http *h, char **ids)
{
	for (int i = 0; i < f->o.apps; i++) {
		char *url;

		if (ids[i] == NULL)
			continue;
		url = xasprintf("%s/v1/apps/%s/signal", f->api_base, ids[i]);
		failover_http_call(h, url, "{\"signal\":\"SIGKILL\"}");
		free(url);
	}
}

static int
failover_trial(struct failover *f, struct failover_http *h,
    struct failover_trial *t)
{
	char **ids = xcalloc((size_t)f->o.apps, sizeof *ids);
	int64_t kill_us, kill_wall, done_us, first;
	long long after;
	int rc = -1;

	if (failover_launch_apps(f, h, ids, t) == -1)
		goto out;
	after = failover_last_event(f, h);

	kill_wall = util_wall_ms();
	kill_us = util_now_us();
	kill(f->kids[1].pid, SIGKILL);
	waitpid(f->kids[1].pid, &f->kids[1].status, 0);
	f->kids[1].exited = true;

	if (failover_wait_moved(f, h, ids, kill_us, &done_us, t) == -1)
		goto out;
	t->total_s = (double)(done_us - kill_us) / 1e6;
	first = failover_first_reschedule(f, h, after);
	t->detect_s = first > 0 ? (double)(first - kill_wall) / 1000.0 : -1;
	rc = 0;
out:
	failover_kill_orphans(f);
	failover_stop_apps(f, h, ids);
	for (int i = 0; i < f->o.apps; i++)
		free(ids[i]);
	free(ids);
	/* A fresh b1 for the next trial (or the throughput run). */
	if (!failover_child_alive(&f->kids[1]) &&
	    (failover_start_worker(f, 0) == -1 ||
	    failover_wait_ready(f, h, 7) == -1))
		rc = -1;
	return rc;
}

/* ---- (b) throughput -------------------------------------------------------- */

static void *
failover_load_run(void *arg)
{
	struct failover_load *t = arg;
	struct failover_http *h = failover_http_new(t->f);
	char *url = xasprintf("%s/v1/apps", t->f->api_base);
	static const char *const body[2] = {
		"{\"node\":\"b1\",\"path\":\"/bin/true\"}",
		"{\"node\":\"b2\",\"path\":\"/bin/true\"}",
	};

	if (h == NULL) {
		snprintf(t->error, sizeof t->error, "no curl handle");
		goto out;
	}
	failover_sleep_until_us(t->start_us);
	for (long i = 0; !atomic_load(&failover_interrupted); i++) {
		int64_t t0 = util_now_us(), t1;
		long status;
		json_t *j;

		if (t0 >= t->end_us)
			break;
		status = failover_http_call(h, url, body[(t->index + i) % 2]);
		t1 = util_now_us();
		if (t1 > t->end_us)
			break;
		j = status == 201 ? failover_http_json(h) : NULL;
		if (json_integer_value(json_object_get(j, "pid")) > 0)
			t->ok++;
		else {
			t->failed++;
			if (t->error[0] == '\0')
				failover_http_describe(h, status, t->error,
				    sizeof t->error);
			if (status == -1)
				failover_sleep_ms(10);
		}
		json_decref(j);
	}
out:
	free(url);
	failover_http_free(h);
	return NULL;
}

static int
failover_throughput(struct failover *f, double *rate, long *ok, long *failed,
    char *error, size_t errlen)
{
	int k = f->o.threads, started = 0;
	struct failover_load *load = xcalloc((size_t)k, sizeof *load);
	pthread_t *tid = xcalloc((size_t)k, sizeof *tid);
	int64_t start = util_now_us() + 100000;
	sigset_t all, old;

	*ok = *failed = 0;
	error[0] = '\0';
	sigfillset(&all);
	for (int i = 0; i < k; i++) {
		load[i].f = f;
		load[i].index = i;
		load[i].start_us = start;
		load[i].end_us = start + (int64_t)f->o.seconds * 1000000;
		/* Signals go to the main thread only. */
		pthread_sigmask(SIG_BLOCK, &all, &old);
		if (pthread_create(&tid[i], NULL, failover_load_run,
		    &load[i]) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			break;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		*ok += load[i].ok;
		*failed += load[i].failed;
		if (error[0] == '\0' && load[i].error[0] != '\0')
			snprintf(error, errlen, "%s", load[i].error);
	}
	*rate = (double)*ok / f->o.seconds;
	free(tid);
	free(load);
	return started == k && !atomic_load(&failover_interrupted) ? 0 : -1;
}

/* ---- setup and cleanup ---------------------------------------------------- */

static int
failover_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
failover_keep_logs(struct failover *f)
{
	for (int i = 0; i < 1 + FAILOVER_NODES; i++) {
		struct failover_child *c = &f->kids[i];
		char *copy, *text;
		size_t len;

		if (c->logpath == NULL)
			continue;
		copy = xasprintf("/tmp/bench-failover-%s.log", c->name);
		if ((text = util_read_file(c->logpath, 256 * 1024 * 1024,
		    &len)) != NULL) {
			if (util_write_file_atomic(copy, text, len, 0644) == -1)
				fprintf(stderr, "failover: %s: %s\n", copy,
				    strerror(errno));
			free(text);
		}
		free(copy);
	}
}

static void
failover_cleanup(struct failover *f)
{
	failover_kill_orphans(f);
	/* Workers first (each stops its apps), then the master. */
	for (int i = FAILOVER_NODES; i >= 0; i--)
		failover_child_stop(f, &f->kids[i]);
	failover_keep_logs(f);
	if (f->tmpdir != NULL)
		nftw(f->tmpdir, failover_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < 1 + FAILOVER_NODES; i++)
		free(f->kids[i].logpath);
	free(f->orphans);
	free(f->tmpdir);
	free(f->state);
	free(f->join);
	free(f->api_base);
	free(f->auth);
}

static int
failover_setup(struct failover *f, struct failover_http **hp)
{
	static const char *const names[] = { "master", "b1", "b2", "b3" };
	char tmpl[] = "/tmp/bench-failover.XXXXXX";

	if (access(f->o.drover, X_OK) == -1) {
		fprintf(stderr, "failover: %s: %s (build drover first, or pass "
		    "--drover)\n", f->o.drover, strerror(errno));
		return -1;
	}
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "failover: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	f->tmpdir = xstrdup(tmpl);
	f->state = xasprintf("%s/m", f->tmpdir);
	for (int i = 0; i < 1 + FAILOVER_NODES; i++) {
		snprintf(f->kids[i].name, sizeof f->kids[i].name, "%s",
		    names[i]);
		f->kids[i].logpath = xasprintf("%s/%s.log", f->tmpdir,
		    names[i]);
	}
	if (failover_free_ports(&f->port, &f->api_port) == -1) {
		fprintf(stderr, "failover: no free port: %s\n", strerror(errno));
		return -1;
	}
	f->api_base = xasprintf("http://127.0.0.1:%d", f->api_port);
	if (failover_start_master(f) == -1 || failover_read_tokens(f) == -1)
		return -1;
	for (int i = 0; i < FAILOVER_NODES; i++)
		if (failover_start_worker(f, i) == -1)
			return -1;
	if ((*hp = failover_http_new(f)) == NULL ||
	    failover_wait_ready(f, *hp, 7) == -1)
		return -1;
	return 0;
}

static void
failover_read_loadavg(struct failover *f)
{
	FILE *fp = fopen("/proc/loadavg", "r");
	double a[3];

	snprintf(f->loadavg, sizeof f->loadavg, "?");
	if (fp == NULL)
		return;
	if (fscanf(fp, "%lf %lf %lf", &a[0], &a[1], &a[2]) == 3)
		snprintf(f->loadavg, sizeof f->loadavg, "%.2f %.2f %.2f", a[0],
		    a[1], a[2]);
	fclose(fp);
}

static void
failover_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: failover [--trials N] [--apps N] [--seconds S] "
	    "[--threads K] [--drover PATH]\n"
	    "  --trials N     kills of b1 (default 5)\n"
	    "  --apps N       apps on b1 per trial (default 50)\n"
	    "  --seconds S    length of the throughput run (default 10)\n"
	    "  --threads K    concurrent API clients for throughput "
	    "(default 8)\n"
	    "  --drover PATH  the drover binary (default ./build/drover)\n");
}

static int
failover_parse_int(const char *opt, const char *arg, int min, int max,
    int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "failover: %s wants a number from %d to %d, "
		    "not '%s'\n", opt, min, max, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
failover_parse_args(int argc, char **argv, struct failover_opts *o)
{
	static const struct option longopts[] = {
		{ "trials", required_argument, NULL, 'n' },
		{ "apps", required_argument, NULL, 'a' },
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "drover", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->trials = 5;
	o->apps = 50;
	o->seconds = 10;
	o->threads = 8;
	o->drover = "./build/drover";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (failover_parse_int("--trials", optarg, 1,
			    FAILOVER_TRIALS_MAX, &o->trials) == -1)
				return -1;
			break;
		case 'a':
			if (failover_parse_int("--apps", optarg, 1, 1000,
			    &o->apps) == -1)
				return -1;
			break;
		case 's':
			if (failover_parse_int("--seconds", optarg, 1, 3600,
			    &o->seconds) == -1)
				return -1;
			break;
		case 't':
			if (failover_parse_int("--threads", optarg, 1, 256,
			    &o->threads) == -1)
				return -1;
			break;
		case 'd':
			o->drover = optarg;
			break;
		case 'h':
			failover_usage(stdout);
			exit(0);
		default:
			failover_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		failover_usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct failover f = { 0 };
	struct failover_trial trials[FAILOVER_TRIALS_MAX] = { 0 };
	struct failover_http *h = NULL;
	struct sigaction sa = { .sa_handler = failover_on_signal };
	double totals[FAILOVER_TRIALS_MAX], median, max, rate = 0;
	long ok = 0, failed = 0;
	char error[256] = "";
	int done = 0, rc = 1;
	bool ran_load = false;

	if (failover_parse_args(argc, argv, &f.o) == -1)
		return 2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "failover: curl_global_init failed\n");
		return 1;
	}
	failover_read_loadavg(&f);
	fprintf(stderr, "failover: starting a master (heartbeat 1000 ms) and "
	    "workers b1, b2, b3\n");
	if (failover_setup(&f, &h) == -1)
		goto out;
	for (int i = 0; i < f.o.trials; i++) {
		struct failover_trial *t = &trials[i];

		fprintf(stderr, "failover: trial %d: %d apps on b1, kill -9 "
		    "b1\n", i + 1, f.o.apps);
		if (failover_trial(&f, h, t) == -1) {
			fprintf(stderr, "failover: trial %d failed: %s\n", i + 1,
			    t->error[0] != '\0' ? t->error : "see above");
			f.drover_failed = true;
			goto out;
		}
		fprintf(stderr, "failover:   all moved in %.3f s (b2 %d, b3 "
		    "%d)\n", t->total_s, t->nodes[1], t->nodes[2]);
		totals[done++] = t->total_s;
	}
	fprintf(stderr, "failover: throughput, %d threads for %d s\n",
	    f.o.threads, f.o.seconds);
	if (failover_throughput(&f, &rate, &ok, &failed, error,
	    sizeof error) == -1 || !failover_cluster_alive(&f, true))
		goto out;
	ran_load = true;
	rc = 0;
out:
	if (done > 0) {
		printf("\n== failover: drover %s, %ld CPUs, load average at "
		    "start %s ==\n", f.o.drover, sysconf(_SC_NPROCESSORS_ONLN),
		    f.loadavg);
		printf("(a) kill -9 of b1 running %d `sleep 600` apps "
		    "(restart on-failure), heartbeat 1000 ms,\n    until all "
		    "run on b2/b3 (GET /v1/apps every %d ms)\n", f.o.apps,
		    FAILOVER_POLL_MS);
		printf("  %-6s %10s %12s %10s %8s\n", "trial", "total", "detection",
		    "restart", "b2/b3");
		for (int i = 0; i < done; i++) {
			struct failover_trial *t = &trials[i];

			printf("  %-6d %8.3f s %10.3f s %8.3f s %4d/%d\n", i + 1,
			    t->total_s, t->detect_s, t->detect_s >= 0 ?
			    t->total_s - t->detect_s : -1.0, t->nodes[1],
			    t->nodes[2]);
		}
		qsort(totals, (size_t)done, sizeof *totals, failover_cmp_double);
		median = done % 2 == 1 ? totals[done / 2] :
		    (totals[done / 2 - 1] + totals[done / 2]) / 2;
		max = totals[done - 1];
		printf("  median %.3f s, max %.3f s   target <= %.1f s   %s\n",
		    median, max, FAILOVER_TARGET_S, median <= FAILOVER_TARGET_S &&
		    max <= FAILOVER_TARGET_S ? "PASS" : "MISS");
		printf("  (detection: kill to the first \"rescheduled\" event, "
		    "two missed heartbeats\n   = 2.5 intervals plus up to one "
		    "sweep tick; restart: the rest)\n");
	}
	if (ran_load) {
		printf("(b) durable launch throughput of /bin/true over %d s, "
		    "%d client threads, b1 and b2\n", f.o.seconds, f.o.threads);
		printf("  %.1f launches/s  (%ld ok, %ld failed)   compare with "
		    "build/bench/launch (b)\n", rate, ok, failed);
		if (failed > 0)
			printf("  first failure: %s\n", error);
	}
	fflush(stdout);
	if (atomic_load(&failover_interrupted))
		fprintf(stderr, "failover: interrupted\n");
	failover_http_free(h);
	failover_cleanup(&f);
	curl_global_cleanup();
	if (atomic_load(&failover_interrupted))
		return 130;
	if (f.drover_failed)
		rc = 1;
	return rc;
}
