#include "master/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmem.h"
#include "master/app.h"
#include "master/master.h"
#include "master/node.h"

/* Request counters kept: endpoints are route patterns, so few. */
#define METRICS_SERIES_MAX 512

static const double metrics_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define METRICS_NBUCKETS (sizeof metrics_buckets / sizeof metrics_buckets[0])

struct metrics_series {
	char method[8];
	char endpoint[64];
	int code;
	uint64_t count;
};

struct metrics_hist {
	char endpoint[64];
	uint64_t buckets[METRICS_NBUCKETS]; /* cumulative, as exposed */
	uint64_t count;
	double sum;
};

struct metrics {
	uint64_t heartbeats;
	uint64_t launches;
	uint64_t launch_failures;
	struct metrics_series series[METRICS_SERIES_MAX];
	size_t nseries;
	struct metrics_hist hists[METRICS_SERIES_MAX];
	size_t nhists;
};

struct metrics *
metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *mt)
{
	free(mt);
}

void
metrics_count_request(struct metrics *mt, const char *method,
    const char *endpoint, int code, double seconds)
{
	struct metrics_series *s = NULL;
	struct metrics_hist *h = NULL;
	size_t i;

	for (i = 0; i < mt->nseries; i++)
		if (mt->series[i].code == code &&
		    strcmp(mt->series[i].endpoint, endpoint) == 0 &&
		    strcmp(mt->series[i].method, method) == 0)
			s = &mt->series[i];
	if (s == NULL && mt->nseries < METRICS_SERIES_MAX) {
		s = &mt->series[mt->nseries++];
		snprintf(s->method, sizeof s->method, "%s", method);
		snprintf(s->endpoint, sizeof s->endpoint, "%s", endpoint);
		s->code = code;
	}
	if (s != NULL)
		s->count++;
	for (i = 0; i < mt->nhists; i++)
		if (strcmp(mt->hists[i].endpoint, endpoint) == 0)
			h = &mt->hists[i];
	if (h == NULL && mt->nhists < METRICS_SERIES_MAX) {
		h = &mt->hists[mt->nhists++];
		snprintf(h->endpoint, sizeof h->endpoint, "%s", endpoint);
	}
	if (h == NULL)
		return;
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (seconds <= metrics_buckets[i])
			h->buckets[i]++;
	h->count++;
	h->sum += seconds;
}

void
metrics_count_heartbeat(struct metrics *mt)
{
	mt->heartbeats++;
}

void
metrics_count_launch(struct metrics *mt, int ok)
{
	mt->launches++;
	if (!ok)
		mt->launch_failures++;
}

/* A growing text buffer. */
struct metrics_buf {
	char *s;
	size_t len;
	size_t cap;
};

static void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->s = xrealloc(b->s, b->cap);
	}
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static char *
metrics_label(const char *v)
{
	char *out = xmalloc(2 * strlen(v) + 1), *o = out;

	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			*o++ = '\\';
			*o++ = *v;
		} else if (*v == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else
			*o++ = *v;
	}
	*o = '\0';
	return out;
}

static void
metrics_head(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_nodes(struct metrics_buf *b, struct master *m)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "drover_node_up", "gauge", "1 if the node is ready, 0 if it is unavailable." },
		{ "drover_node_cpu_ratio", "gauge", "Share of the node's CPUs busy, from its last heartbeat (0 to 1)." },
		{ "drover_node_memory_ratio", "gauge", "Share of the node's memory in use, from its last heartbeat (0 to 1)." },
		{ "drover_node_apps", "gauge", "Live apps on the node." },
		{ "drover_node_cpus", "gauge", "CPUs of the node." },
		{ "drover_node_memory_bytes", "gauge", "Memory of the node." },
	};
	struct node **v;
	size_t n;

	v = node_list(m->nodes, &n);
	for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
		metrics_head(b, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; i < n; i++) {
			char *node = metrics_label(v[i]->name);
			double val = 0;

			switch (f) {
			case 0:
				val = v[i]->state == NODE_READY;
				break;
			case 1:
				val = v[i]->cpu_pct / 100.0;
				break;
			case 2:
				val = v[i]->mem_pct / 100.0;
				break;
			case 3:
				val = v[i]->apps;
				break;
			case 4:
				val = v[i]->cpus;
				break;
			case 5:
				val = (double)v[i]->mem_total_kb * 1024.0;
				break;
			}
			metrics_printf(b, "%s{node=\"%s\"} %.17g\n", fam[f].name,
			    node, val);
			free(node);
		}
	}
	free(v);
}

static void
metrics_apps(struct metrics_buf *b, struct master *m)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "drover_app_up", "gauge", "1 while the app runs, 0 once it is dead." },
		{ "drover_app_cpu_seconds_total", "counter", "CPU time (user and system) of the app's process." },
		{ "drover_app_resident_memory_bytes", "gauge", "Resident memory of the app's process." },
		{ "drover_app_max_resident_memory_bytes", "gauge", "Peak resident memory of the app's process." },
		{ "drover_app_restarts_total", "counter", "Times the app was restarted." },
	};
	json_t *apps = app_list(m->apps, NULL, false, util_wall_ms()), *a;
	size_t i;

	for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
		metrics_head(b, fam[f].name, fam[f].type, fam[f].help);
		json_array_foreach(apps, i, a) {
			const char *st = json_string_value(json_object_get(a, "state"));
			char *id = metrics_label(json_string_value(json_object_get(a,
			    "id")));
			char *node = metrics_label(json_string_value(json_object_get(
			    a, "node")));
			json_t *rss = json_object_get(a, "rss_kb");
			double val = 0;

			switch (f) {
			case 0:
				val = st != NULL && strcmp(st, "dead") != 0;
				break;
			case 1:
				val = (double)(json_integer_value(json_object_get(a,
				    "cpu_user_ms")) + json_integer_value(
				    json_object_get(a, "cpu_sys_ms"))) / 1000.0;
				break;
			case 2:
				/* Current RSS where the worker reports it, else peak. */
				val = (double)json_integer_value(rss != NULL ? rss :
				    json_object_get(a, "max_rss_kb")) * 1024.0;
				break;
			case 3:
				val = (double)json_integer_value(json_object_get(a,
				    "max_rss_kb")) * 1024.0;
				break;
			case 4:
				val = (double)json_integer_value(json_object_get(a,
				    "restarts"));
				break;
			}
			metrics_printf(b, "%s{app=\"%s\",node=\"%s\"} %.17g\n",
			    fam[f].name, id, node, val);
			free(id);
			free(node);
		}
	}
	json_decref(apps);
}

char *
metrics_render(struct master *m)
{
	struct metrics *mt = m->metrics;
	struct metrics_buf b = { xmalloc(65536), 0, 65536 };

	metrics_nodes(&b, m);
	metrics_apps(&b, m);
	metrics_head(&b, "drover_heartbeats_received_total", "counter",
	    "Heartbeats the master received from workers.");
	metrics_printf(&b, "drover_heartbeats_received_total %llu\n",
	    (unsigned long long)mt->heartbeats);
	metrics_head(&b, "drover_launches_total", "counter",
	    "Apps launched through the API, failed ones included.");
	metrics_printf(&b, "drover_launches_total %llu\n",
	    (unsigned long long)mt->launches);
	metrics_head(&b, "drover_launch_failures_total", "counter",
	    "Launches that failed (exec failure, refusal, no answer).");
	metrics_printf(&b, "drover_launch_failures_total %llu\n",
	    (unsigned long long)mt->launch_failures);
	metrics_head(&b, "drover_api_requests_total", "counter",
	    "REST requests answered, by method, endpoint and status code.");
	for (size_t i = 0; i < mt->nseries; i++)
		metrics_printf(&b, "drover_api_requests_total{method=\"%s\","
		    "endpoint=\"%s\",code=\"%d\"} %llu\n", mt->series[i].method,
		    mt->series[i].endpoint, mt->series[i].code,
		    (unsigned long long)mt->series[i].count);
	metrics_head(&b, "drover_api_request_duration_seconds", "histogram",
	    "Time from a REST request's arrival to its answer.");
	for (size_t i = 0; i < mt->nhists; i++) {
		struct metrics_hist *h = &mt->hists[i];

		for (size_t k = 0; k < METRICS_NBUCKETS; k++)
			metrics_printf(&b, "drover_api_request_duration_seconds_"
			    "bucket{endpoint=\"%s\",le=\"%g\"} %llu\n", h->endpoint,
			    metrics_buckets[k], (unsigned long long)h->buckets[k]);
		metrics_printf(&b, "drover_api_request_duration_seconds_bucket{"
		    "endpoint=\"%s\",le=\"+Inf\"} %llu\n", h->endpoint,
		    (unsigned long long)h->count);
		metrics_printf(&b, "drover_api_request_duration_seconds_sum{"
		    "endpoint=\"%s\"} %.9g\n", h->endpoint, h->sum);
		metrics_printf(&b, "drover_api_request_duration_seconds_count{"
		    "endpoint=\"%s\"} %llu\n", h->endpoint,
		    (unsigned long long)h->count);
	}
	return b.s;
}
