#include "cli/history.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/sparkline.h"
#include "cli/table.h"
#include "common/xmem.h"

/* The figures of a point, as shown: key, label, and how to format them. */
enum history_kind { HISTORY_PCT, HISTORY_KB, HISTORY_COUNT, HISTORY_BYTES };

static const struct {
	const char *key;
	const char *label;
	enum history_kind kind;
} history_figures[] = {
	{ "cpu_pct", "CPU%", HISTORY_PCT },
	{ "cpu_user_pct", "USER%", HISTORY_PCT },
	{ "cpu_sys_pct", "SYS%", HISTORY_PCT },
	{ "rss_kb", "RSS", HISTORY_KB },
	{ "max_rss_kb", "MAX RSS", HISTORY_KB },
	{ "procs", "PROCS", HISTORY_COUNT },
	{ "threads", "THREADS", HISTORY_COUNT },
	{ "fds", "FDS", HISTORY_COUNT },
	{ "read_bytes", "READ", HISTORY_BYTES },
	{ "write_bytes", "WRITTEN", HISTORY_BYTES },
};
#define HISTORY_NFIGURES (sizeof history_figures / sizeof history_figures[0])

static void
history_format(enum history_kind kind, json_t *v, char *buf, size_t len)
{
	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return;
	}
	switch (kind) {
	case HISTORY_PCT:
		snprintf(buf, len, "%.1f", json_number_value(v));
		break;
	case HISTORY_KB:
		cmd_format_kb((long long)json_number_value(v), buf, len);
		break;
	case HISTORY_BYTES:
		if (json_number_value(v) < 1024)
			snprintf(buf, len, "%lldB", (long long)json_number_value(v));
		else
			cmd_format_kb((long long)json_number_value(v) / 1024, buf,
			    len);
		break;
	case HISTORY_COUNT:
		snprintf(buf, len, "%lld", (long long)json_number_value(v));
		break;
	}
}

/* A point's time: the clock, with the date when the series spans days. */
static void
history_time(long long ms, bool with_date, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, with_date ? "%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
}

static void
history_chart(FILE *f, json_t *points, int width)
{
	size_t n = json_array_size(points);
	double *values = xcalloc(n + 1, sizeof *values);
	bool *known = xcalloc(n + 1, sizeof *known);
	char *line = xmalloc((size_t)width * 3 + 1);

	/* Not the user/system split: CPU% says it; the table has the rest. */
	for (size_t k = 0; k < HISTORY_NFIGURES; k++) {
		char last[32], top[32];
		json_t *lastv = NULL;
		double max = 0;
		bool any = false;

		if (k == 1 || k == 2)
			continue;
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_object_get(json_array_get(points, i),
			    history_figures[k].key);

			known[i] = json_is_number(v);
			values[i] = known[i] ? json_number_value(v) : 0;
			if (known[i]) {
				lastv = v;
				if (!any || values[i] > max)
					max = values[i];
				any = true;
			}
		}
		sparkline_render(values, known, n, (size_t)width, line,
		    (size_t)width * 3 + 1);
		history_format(history_figures[k].kind, lastv, last,
		    sizeof last);
		{
			json_t *m = any ? json_real(max) : json_null();

			history_format(history_figures[k].kind, m, top,
			    sizeof top);
			json_decref(m);
		}
		fprintf(f, "%-8s %s  last %s  max %s\n", history_figures[k].label,
		    line, last, top);
	}
	free(line);
	free(known);
	free(values);
}

void
history_print(FILE *f, json_t *series, bool chart, int width)
{
	const char *headers[HISTORY_NFIGURES + 1];
	json_t *points = json_object_get(series, "points"), *p;
	long long since = json_integer_value(json_object_get(series, "since"));
	long long until = json_integer_value(json_object_get(series, "until"));
	long long step = json_integer_value(json_object_get(series, "step_ms"));
	bool with_date = until - since > 86400000LL;
	char from[32], to[32];
	struct table *t;
	size_t i;

	history_time(since, with_date, from, sizeof from);
	history_time(until, with_date, to, sizeof to);
	fprintf(f, "%s on %s: %zu points from %s to %s, one per %llds\n",
	    json_string_value(json_object_get(series, "app")),
	    json_string_value(json_object_get(series, "node")),
	    json_array_size(points), from, to, step / 1000);
	if (json_array_size(points) == 0) {
		fprintf(f, "no samples in that span (workers sample every 5 s by "
		    "default)\n");
		return;
	}
	if (chart) {
		history_chart(f, points, width);
		fputc('\n', f);
	}
	headers[0] = "TIME";
	for (size_t k = 0; k < HISTORY_NFIGURES; k++)
		headers[k + 1] = history_figures[k].label;
	t = table_new(HISTORY_NFIGURES + 1, headers);
	json_array_foreach(points, i, p) {
		char cells[HISTORY_NFIGURES + 1][32];
		const char *row[HISTORY_NFIGURES + 1];

		history_time(json_integer_value(json_object_get(p, "t")),
		    with_date, cells[0], sizeof cells[0]);
		row[0] = cells[0];
		for (size_t k = 0; k < HISTORY_NFIGURES; k++) {
			history_format(history_figures[k].kind, json_object_get(p,
			    history_figures[k].key), cells[k + 1],
			    sizeof cells[k + 1]);
			row[k + 1] = cells[k + 1];
		}
		table_add(t, row);
	}
	table_print(t, f);
	table_free(t);
}
