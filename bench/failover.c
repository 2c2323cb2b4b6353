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
 *     launch committed to the state database first), then the same with
 *     the master restarted with --unsafe-no-fsync (commits do not wait for
 *     the disk): durable at least 90 % of that is the target.
 *
 * The children's output goes to TMP/NAME.log, copied to
 * /tmp/bench-failover-NAME.log before TMP is removed.
 *
 * Exit status: 0 when the benchmark ran (missed targets are reported, not
 * failed), 1 when it could not be set up or drover failed, 2 on a usage
 * error, 130 when interrupted.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

#define FAILOVER_NODES 3
#define FAILOVER_POLL_MS 20
/* A trial that has not moved every app by then failed. */
#define FAILOVER_MOVE_TIMEOUT_MS 30000
#define FAILOVER_TARGET_S 3.5
#define FAILOVER_TRIALS_MAX 100

struct failover_opts {
	int trials;
	int apps;
	int seconds;
	int threads;
	const char *drover;
};


struct failover {
	struct failover_opts o;
	struct benchlib_cluster cl; /* master, b1..b3 */
	int b1_generation;	/* b1's dir: TMP/b1-GEN, fresh per restart */
	pid_t *orphans;		/* sleeps the killed b1 left behind */
	size_t norphans;
	char loadavg[64];
};

struct failover_trial {
	double total_s;	 /* kill -> every app running elsewhere */
	double detect_s; /* kill -> first "rescheduled" event */
	int moved;
	int nodes[FAILOVER_NODES]; /* where the apps went */
	char error[256];
};


/* Start worker i (0: b1); b1 gets a fresh dir each time. */
static int
failover_start_worker(struct failover *f, int i)
{
	char *dir = NULL;
	int rc;

	if (i == 0)
		dir = xasprintf("%s/%s-%d", f->cl.tmpdir, f->cl.kids[1].name,
		    f->b1_generation++);
	rc = benchlib_cluster_start_worker(&f->cl, 1 + i, dir);
	free(dir);
	return rc;
}

/* ---- the REST API ---------------------------------------------------------- */

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
failover_last_event(struct benchlib_http *h)
{
	long long last = 0;
	json_t *ev;

	/* Pages of 1000, oldest first. */
	for (;;) {
		char *path = xasprintf("/v1/events?after=%lld&limit=1000", last);
		size_t n;

		ev = benchlib_http_get(h, path, NULL, 0);
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
failover_first_reschedule(struct benchlib_http *h, long long after)
{
	char *path = xasprintf("/v1/events?after=%lld&limit=1000", after);
	json_t *ev = benchlib_http_get(h, path, NULL, 0), *e;
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
failover_launch_apps(struct failover *f, struct benchlib_http *h, char **ids,
    struct failover_trial *t)
{
	static const char body[] = "{\"node\":\"b1\",\"path\":\"/bin/sleep\","
	    "\"args\":[\"600\"],\"restart\":\"on-failure\",\"name\":\"sleeper\"}";
	char *url = xasprintf("%s/v1/apps", f->cl.api_base);
	int rc = -1;

	for (int i = 0; i < f->o.apps; i++) {
		long status = benchlib_http_call(h, url, body);
		json_t *j = status == 201 ? benchlib_http_json(h) : NULL;
		const char *id = json_string_value(json_object_get(j, "id"));
		json_int_t pid = json_integer_value(json_object_get(j, "pid"));

		if (id == NULL || pid <= 0) {
			benchlib_http_describe(h, status, t->error,
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
failover_wait_moved(struct failover *f, struct benchlib_http *h, char **ids,
    int64_t kill_us, int64_t *done_us, struct failover_trial *t)
{
	int64_t deadline = kill_us + (int64_t)FAILOVER_MOVE_TIMEOUT_MS * 1000;

	for (;;) {
		int64_t now = util_now_us();
		json_t *apps = benchlib_http_get(h, "/v1/apps", NULL, 0), *a;
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
					if (strcmp(node, f->cl.kids[1 + n].name)
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
		if (!benchlib_cluster_alive(&f->cl, 1) ||
		    atomic_load(&benchlib_interrupted))
			return -1;
		if (now > deadline) {
			snprintf(t->error, sizeof t->error, "only %d of %d apps "
			    "moved after %d s", moved, f->o.apps,
			    FAILOVER_MOVE_TIMEOUT_MS / 1000);
			return -1;
		}
		benchlib_sleep_until_us(now + FAILOVER_POLL_MS * 1000);
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
failover_stop_apps(struct failover *f, struct benchlib_http *h, char **ids)
{
	for (int i = 0; i < f->o.apps; i++) {
		char *url;

		if (ids[i] == NULL)
			continue;
		url = xasprintf("%s/v1/apps/%s/signal", f->cl.api_base, ids[i]);
		benchlib_http_call(h, url, "{\"signal\":\"SIGKILL\"}");
		free(url);
	}
}

static int
failover_trial(struct failover *f, struct benchlib_http *h,
    struct failover_trial *t)
{
	char **ids = xcalloc((size_t)f->o.apps, sizeof *ids);
	int64_t kill_us, kill_wall, done_us, first;
	long long after;
	int rc = -1;

	if (failover_launch_apps(f, h, ids, t) == -1)
		goto out;
	after = failover_last_event(h);

	kill_wall = util_wall_ms();
	kill_us = util_now_us();
	kill(f->cl.kids[1].pid, SIGKILL);
	waitpid(f->cl.kids[1].pid, &f->cl.kids[1].status, 0);
	f->cl.kids[1].exited = true;

	if (failover_wait_moved(f, h, ids, kill_us, &done_us, t) == -1)
		goto out;
	t->total_s = (double)(done_us - kill_us) / 1e6;
	first = failover_first_reschedule(h, after);
	t->detect_s = first > 0 ? (double)(first - kill_wall) / 1000.0 : -1;
	rc = 0;
out:
	failover_kill_orphans(f);
	failover_stop_apps(f, h, ids);
	for (int i = 0; i < f->o.apps; i++)
		free(ids[i]);
	free(ids);
	/* A fresh b1 for the next trial (or the throughput run). */
	if (!benchlib_child_alive(&f->cl.kids[1]) &&
	    (failover_start_worker(f, 0) == -1 ||
	    benchlib_wait_ready(&f->cl, h, 7) == -1))
		rc = -1;
	return rc;
}

/* ---- setup and cleanup ---------------------------------------------------- */

static void
failover_cleanup(struct failover *f)
{
	failover_kill_orphans(f);
	benchlib_cluster_free(&f->cl);
	free(f->orphans);
}

/* Restart the master with args; wait until b1 and b2 are ready again. */
static int
failover_restart_master(const char *const args[], struct failover *f,
    struct benchlib_http *h)
{
	if (benchlib_child_stop(&f->cl.kids[0], false) == -1 ||
	    benchlib_cluster_start_master(&f->cl, args) == -1)
		return -1;
	return benchlib_wait_ready(&f->cl, h, 3);
}

static int
failover_setup(struct failover *f, struct benchlib_http **hp)
{
	static const char *const names[] = { "master", "b1", "b2", "b3" };
	static const char *const extra[] = { "--heartbeat", "1000", NULL };

	if (benchlib_cluster_init(&f->cl, "bench-failover", f->o.drover, names,
	    1 + FAILOVER_NODES) == -1 ||
	    benchlib_cluster_start_master(&f->cl, extra) == -1)
		return -1;
	for (int i = 0; i < FAILOVER_NODES; i++)
		if (failover_start_worker(f, i) == -1)
			return -1;
	if ((*hp = benchlib_http_new(&f->cl)) == NULL ||
	    benchlib_wait_ready(&f->cl, *hp, 7) == -1)
		return -1;
	return 0;
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
failover_parse_args(int argc, char **argv, struct failover_opts *o)
{
	const struct benchlib_opt opts[] = {
		{ "trials", &o->trials, 1, FAILOVER_TRIALS_MAX },
		{ "apps", &o->apps, 1, 1000 },
		{ "seconds", &o->seconds, 1, 3600 },
		{ "threads", &o->threads, 1, 256 },
		{ NULL, NULL, 0, 0 },
	};

	o->trials = 5;
	o->apps = 50;
	o->seconds = 10;
	o->threads = 8;
	o->drover = "./build/drover";
	return benchlib_parse_args(argc, argv, opts, &o->drover,
	    failover_usage);
}

int
main(int argc, char **argv)
{
	struct failover f = { 0 };
	struct failover_trial trials[FAILOVER_TRIALS_MAX] = { 0 };
	struct benchlib_http *h = NULL;
	static const char *const f_unsafe_args[] = { "--heartbeat", "1000",
		"--unsafe-no-fsync", NULL };
	struct benchlib_load load = { 0 }, unsafe = { 0 };
	double totals[FAILOVER_TRIALS_MAX], median, max, rate = 0;
	double unsafe_rate = 0;
	int done = 0, rc = 1;
	bool ran_load = false;

	benchlib_init("failover");
	if (failover_parse_args(argc, argv, &f.o) == -1)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "failover: curl_global_init failed\n");
		return 1;
	}
	benchlib_loadavg(f.loadavg, sizeof f.loadavg);
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
			f.cl.drover_failed = true;
			goto out;
		}
		fprintf(stderr, "failover:   all moved in %.3f s (b2 %d, b3 "
		    "%d)\n", t->total_s, t->nodes[1], t->nodes[2]);
		totals[done++] = t->total_s;
	}
	/*
	 * Unmeasured first: a worker makes a new directory (two inodes) for
	 * each of its first thousand launches, and reuses the directories of
	 * the apps it forgets after that, so the second of two runs from a
	 * fresh start would be the cheaper one whatever the master does. Both
	 * measured runs come after the workers reuse.
	 */
	fprintf(stderr, "failover: throughput warm-up, %d threads for %d s\n",
	    f.o.threads, f.o.seconds);
	if (benchlib_load(&f.cl, f.o.threads, f.o.seconds, 0, &load) == -1 ||
	    !benchlib_cluster_alive(&f.cl, -1))
		goto out;
	fprintf(stderr, "failover: throughput, %d threads for %d s\n",
	    f.o.threads, f.o.seconds);
	if (benchlib_load(&f.cl, f.o.threads, f.o.seconds, 0, &load) == -1 ||
	    !benchlib_cluster_alive(&f.cl, -1))
		goto out;
	rate = (double)load.ok / f.o.seconds;
	/*
	 * The same load on a master that does not wait for the disk: what
	 * durability costs, measured in the same run.
	 */
	fprintf(stderr, "failover: throughput again, master with "
	    "--unsafe-no-fsync\n");
	if (failover_restart_master(f_unsafe_args, &f, h) == -1 ||
	    benchlib_load(&f.cl, f.o.threads, f.o.seconds, 0, &unsafe) == -1 ||
	    !benchlib_cluster_alive(&f.cl, -1))
		goto out;
	unsafe_rate = (double)unsafe.ok / f.o.seconds;
	ran_load = true;
	rc = 0;
out:
	if (done > 0) {
		benchlib_print_banner("failover", f.o.drover, f.loadavg);
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
		qsort(totals, (size_t)done, sizeof *totals, benchlib_cmp_double);
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
		printf("  durable (each acknowledged launch committed, group "
		    "commit): %.1f launches/s (%ld ok, %ld failed)\n", rate,
		    load.ok, load.failed);
		printf("  master with --unsafe-no-fsync (no wait for the disk): "
		    "%.1f launches/s (%ld ok, %ld failed)\n", unsafe_rate,
		    unsafe.ok, unsafe.failed);
		printf("  durable/unsafe %.1f %%   target >= 90 %%   %s\n",
		    unsafe_rate > 0 ? 100.0 * rate / unsafe_rate : 0.0,
		    benchlib_verdict(unsafe_rate > 0 &&
		    rate >= 0.9 * unsafe_rate));
		if (load.failed > 0)
			printf("  first failure: %s\n", load.error);
		if (unsafe.failed > 0)
			printf("  first failure (unsafe): %s\n", unsafe.error);
	}
	fflush(stdout);
	if (atomic_load(&benchlib_interrupted))
		fprintf(stderr, "failover: interrupted\n");
	benchlib_http_free(h);
	failover_cleanup(&f);
	curl_global_cleanup();
	if (atomic_load(&benchlib_interrupted))
		return 130;
	if (f.cl.drover_failed)
		rc = 1;
	return rc;
}
