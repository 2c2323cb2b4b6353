#include "master/history.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/app.h"
#include "master/db.h"
#include "master/master.h"
#include "master/node.h"

/* A retention round over every app starts this often... */
#define HISTORY_ROUND_MS 60000
/* ...and does at most this many apps per tick. */
#define HISTORY_APPS_PER_TICK 25
/* Apps that ended longer ago than this have no history left to compact. */
#define HISTORY_IDLE_MS (DB_SAMPLES_KEEP_MS + 24 * 3600 * 1000LL)

int
history_parse_sample(json_t *o, const char **id, struct db_sample *s, char **cause)
{
	long long t, v[7];
	static const char *const counts[] = { "rss_kb", "max_rss_kb", "procs",
		"threads", "fds", "read_bytes", "write_bytes" };

	if (!json_is_object(o)) {
		*cause = xstrdup("a sample is not an object");
		return -1;
	}
	if (jsonx_get_str(o, "id", true, id, cause) == -1 ||
	    jsonx_get_int(o, "t", true, 0, INT64_MAX / 2, &t, cause) == -1 ||
	    jsonx_get_num(o, "cpu_user_pct", true, &s->cpu_user_pct,
		cause) == -1 ||
	    jsonx_get_num(o, "cpu_sys_pct", true, &s->cpu_sys_pct, cause) == -1)
		return -1;
	for (int i = 0; i < 7; i++)
		if (jsonx_get_int(o, counts[i], true, -1, INT64_MAX / 2, &v[i],
		    cause) == -1)
			return -1;
	/* A rate of one core per thread is the most a tree can burn. */
	if (s->cpu_user_pct < 0 || s->cpu_sys_pct < 0 ||
	    s->cpu_user_pct > 1e6 || s->cpu_sys_pct > 1e6) {
		*cause = xstrdup("a sample's CPU rate is out of range");
		return -1;
	}
	s->t = t;
	s->rss_kb = v[0];
	s->max_rss_kb = v[1];
	s->procs = v[2];
	s->threads = v[3];
	s->fds = v[4];
	s->read_bytes = v[5];
	s->write_bytes = v[6];
	return 0;
}

void
history_store(struct master *m, struct node *n, json_t *samples)
{
	int64_t now = util_wall_ms();
	struct app_record *a;
	struct db_sample s;
	char *cause = NULL;
	const char *id;
	json_t *o;
	size_t i;

	if (samples == NULL)
		return;
	if (!json_is_array(samples)) {
		log_warnx("node %s: HEARTBEAT samples are not an array", n->name);
		return;
	}
	json_array_foreach(samples, i, o) {
		if (history_parse_sample(o, &id, &s, &cause) == -1) {
			log_warnx("node %s: bad sample skipped: %s", n->name,
			    cause);
			free(cause);
			cause = NULL;
			continue;
		}
		/* Only a node's own apps: no node writes another's history. */
		if ((a = app_lookup(m->apps, id)) == NULL ||
		    strcmp(a->node, n->name) != 0)
			continue;
		db_add_sample(m->db, id, &s, now);
	}
}

/* Whether an app may still have history the retention must look at. */
static bool
history_may_have_samples(struct app_record *a, int64_t wall)
{
	json_t *ended = json_object_get(a->obj, "ended_at");

	return app_record_alive(a) || !json_is_integer(ended) ||
	    wall - json_integer_value(ended) < HISTORY_IDLE_MS;
}

void
history_tick(struct master *m, int64_t now)
{
	struct history_round *r = &m->history;
	int64_t wall = util_wall_ms();
	struct app_record *a;

	if (!r->running) {
		if (r->started_at != 0 && now - r->started_at < HISTORY_ROUND_MS)
			return;
		r->running = true;
		r->started_at = now;
		r->next = 0;
	}
	for (int done = 0; done < HISTORY_APPS_PER_TICK; r->next++) {
		if ((a = app_at(m->apps, r->next)) == NULL) {
			r->running = false;
			return;
		}
		if (!history_may_have_samples(a, wall))
			continue;
		db_samples_compact(m->db, a->id, wall);
		done++;
	}
}
