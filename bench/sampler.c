/*
 * sampler: what the resource history costs a worker. The program starts its
 * own master and two workers on 127.0.0.1: s1 samples its apps every
 * --interval seconds (default 5, the worker's default), s0 does not sample
 * (--sample-interval 0). Each gets --apps `sleep` apps (default 500). Over
 * --seconds (default 60) it reads both workers' CPU time from /proc: the
 * difference is the sampler's cost, as a percentage of one core (target
 * under 2 %). It also times the sampling round itself in this process
 * (src/worker/sampler.c over the same 500 PIDs) and checks the samples
 * reached the master (GET /v1/apps/ID/usage of one app).
 *
 * The store's growth per app and day is bench/history-store's figure.
 *
 * Exit status: 0 when the benchmark ran (a missed target is reported, not
 * failed), 1 when it could not be set up or drover failed, 2 on a usage
 * error, 130 when interrupted.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "common/xmem.h"
#include "worker/sampler.h"

#include "benchlib.h"

#define SAMPLER_TARGET_PCT 2.0
/* In-process rounds timed over the same PIDs. */
#define SAMPLER_ROUNDS 20

struct sampler_opts {
	int apps;
	int seconds;
	int interval;
	const char *drover;
};

static void
sampler_bench_usage(FILE *f)
{
	fprintf(f, "usage: sampler [--apps N] [--seconds S] [--interval S] "
	    "[--drover PATH]\n"
	    "  --apps N       sleep apps on each worker (default 500)\n"
	    "  --seconds S    the measuring window (default 60)\n"
	    "  --interval S   s1's sampling interval (default 5)\n"
	    "  --drover PATH  the drover binary (default ./build/drover)\n");
}

/* Launch n sleeps on node; their PIDs into pids (may be NULL). */
static int
sampler_bench_launch(struct benchlib_cluster *cl, struct benchlib_http *h,
    const char *node, int n, pid_t *pids, char *first_id, size_t idlen)
{
	char *url = xasprintf("%s/v1/apps", cl->api_base);
	char *body = xasprintf("{\"node\":\"%s\",\"path\":\"/bin/sleep\","
	    "\"args\":[\"3600\"],\"name\":\"idle\"}", node);
	char why[256];
	int rc = -1;

	for (int i = 0; i < n && !atomic_load(&benchlib_interrupted); i++) {
		long status = benchlib_http_call(h, url, body);
		json_t *j;

		if (!benchlib_http_launched(h, status)) {
			benchlib_http_describe(h, status, why, sizeof why);
			fprintf(stderr, "sampler: launch on %s: %s\n", node, why);
			goto out;
		}
		j = benchlib_http_json(h);
		if (pids != NULL)
			pids[i] = (pid_t)json_integer_value(json_object_get(j,
			    "pid"));
		if (i == 0 && first_id != NULL)
			snprintf(first_id, idlen, "%s", json_string_value(
			    json_object_get(j, "id")));
		json_decref(j);
	}
	rc = atomic_load(&benchlib_interrupted) ? -1 : 0;
out:
	free(url);
	free(body);
	return rc;
}

/* Mean milliseconds of one sampling round over the given PIDs. */
static double
sampler_bench_round_ms(const pid_t *pids, int n, int *alive)
{
	struct sampler_target *t = xcalloc((size_t)n, sizeof *t);
	struct sampler_sample *out = xcalloc((size_t)n, sizeof *out);
	struct sampler *s = sampler_new(1000);
	char (*ids)[16] = xcalloc((size_t)n, sizeof *ids);
	int64_t start;
	double ms;

	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "idle-%d", i);
		t[i] = (struct sampler_target){ ids[i], pids[i] };
	}
	start = util_now_us();
	for (int r = 0; r < SAMPLER_ROUNDS; r++)
		*alive = (int)sampler_measure(s, t, (size_t)n, util_now_ms(),
		    out);
	ms = (double)(util_now_us() - start) / 1000.0 / SAMPLER_ROUNDS;
	sampler_free(s);
	free(ids);
	free(out);
	free(t);
	return ms;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "master", "s1", "s0" };
	static const char *const s1_args[] = { "--sample-interval", NULL, NULL,
		NULL };
	static const char *const s0_args[] = { "--sample-interval", "0",
		"--stop-apps-on-exit", NULL };
	struct sampler_opts o = { 500, 60, 5, "./build/drover" };
	const struct benchlib_opt opts[] = {
		{ "apps", &o.apps, 1, 4000 },
		{ "seconds", &o.seconds, 5, 3600 },
		{ "interval", &o.interval, 1, 3600 },
		{ NULL, NULL, 0, 0 },
	};
	struct benchlib_cluster cl = { 0 };
	struct benchlib_sample a1, a0, b1, b0;
	struct benchlib_http *h = NULL;
	char interval[16], loadavg[64], first[96] = "", *path;
	const char *args1[4];
	double round_ms = 0, with, without;
	json_t *usage = NULL;
	pid_t *pids = NULL;
	int rc = 1, alive = 0;
	size_t points = 0;

	benchlib_init("sampler");
	if (benchlib_parse_args(argc, argv, opts, &o.drover,
	    sampler_bench_usage) == -1)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	benchlib_loadavg(loadavg, sizeof loadavg);
	snprintf(interval, sizeof interval, "%ds", o.interval);
	memcpy(args1, s1_args, sizeof args1);
	args1[1] = interval;
	args1[2] = "--stop-apps-on-exit";
	if (benchlib_cluster_init(&cl, "bench-sampler", o.drover, names, 3) == -1)
		goto out;
	cl.worker_args[1] = args1;
	cl.worker_args[2] = s0_args;
	if (benchlib_cluster_start_master(&cl, NULL) == -1 ||
	    benchlib_cluster_start_worker(&cl, 1, NULL) == -1 ||
	    benchlib_cluster_start_worker(&cl, 2, NULL) == -1 ||
	    (h = benchlib_http_new(&cl)) == NULL ||
	    benchlib_wait_ready(&cl, h, 0x3) == -1)
		goto out;
	fprintf(stderr, "sampler: launching %d sleeps on s1 (sampled every "
	    "%d s) and on s0 (not sampled)\n", o.apps, o.interval);
	pids = xcalloc((size_t)o.apps, sizeof *pids);
	if (sampler_bench_launch(&cl, h, "s1", o.apps, pids, first,
	    sizeof first) == -1 ||
	    sampler_bench_launch(&cl, h, "s0", o.apps, NULL, NULL, 0) == -1)
		goto out;
	/* Let the launches' own work settle before the window opens. */
	benchlib_sleep_ms(2 * o.interval * 1000);
	fprintf(stderr, "sampler: measuring both workers for %d s\n", o.seconds);
	if (benchlib_sample(cl.kids[1].pid, &a1) == -1 ||
	    benchlib_sample(cl.kids[2].pid, &a0) == -1)
		goto out;
	benchlib_sleep_ms(o.seconds * 1000);
	if (atomic_load(&benchlib_interrupted) ||
	    benchlib_sample(cl.kids[1].pid, &b1) == -1 ||
	    benchlib_sample(cl.kids[2].pid, &b0) == -1 ||
	    !benchlib_cluster_alive(&cl, -1))
		goto out;
	with = benchlib_cpu_pct(&a1, &b1);
	without = benchlib_cpu_pct(&a0, &b0);
	round_ms = sampler_bench_round_ms(pids, o.apps, &alive);
	path = xasprintf("/v1/apps/%s/usage?since=10m&step=1s", first);
	usage = benchlib_http_get(h, path, NULL, 0);
	free(path);
	points = json_array_size(json_object_get(usage, "points"));

	benchlib_print_banner("sampler", o.drover, loadavg);
	printf("%d live `sleep` apps per worker, s1 sampled every %d s, s0 not "
	    "sampled, over %d s\n", o.apps, o.interval, o.seconds);
	printf("  worker s1 (sampling)      %6.2f %% of one core\n", with);
	printf("  worker s0 (no sampling)   %6.2f %% of one core\n", without);
	printf("  sampler cost (s1 - s0)    %6.2f %%   target < %.1f %%   %s\n",
	    with - without, SAMPLER_TARGET_PCT,
	    benchlib_verdict(with - without < SAMPLER_TARGET_PCT));
	printf("  one round in this process: %.2f ms for %d apps (%d alive) = "
	    "%.2f %% of a core at %d s\n", round_ms, o.apps, alive,
	    round_ms / (o.interval * 10.0), o.interval);
	printf("  %s: %zu points of history at the master after the window\n",
	    first, points);
	rc = 0;
out:
	fflush(stdout);
	json_decref(usage);
	free(pids);
	benchlib_http_free(h);
	benchlib_cluster_free(&cl);
	curl_global_cleanup();
	if (atomic_load(&benchlib_interrupted))
		return 130;
	return rc;
}
