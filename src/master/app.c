#include "master/app.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmem.h"

struct app_registry {
	zhashx_t *by_id;     /* id -> record (borrowed from the array) */
	zhashx_t *counters;  /* name -> next number, as a heap-allocated long */
	struct app_record **v; /* launch order */
	size_t n;
	size_t cap;
};

static void
app_counter_free(void **item)
{
	free(*item);
	*item = NULL;
}

struct app_registry *
app_registry_new(void)
{
	struct app_registry *r = xcalloc(1, sizeof *r);

	r->by_id = zhashx_new();
	r->counters = zhashx_new();
	zhashx_set_destructor(r->counters, app_counter_free);
	return r;
}

static void
app_record_free(struct app_record *a)
{
	free(a->id);
	free(a->node);
	json_decref(a->obj);
	free(a);
}

void
app_registry_free(struct app_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		app_record_free(r->v[i]);
	free(r->v);
	zhashx_destroy(&r->by_id);
	zhashx_destroy(&r->counters);
	free(r);
}

char *
app_new_id(struct app_registry *r, const char *name)
{
	char safe[49];
	size_t i = 0;
	long *next;

	for (const char *p = name; *p != '\0' && i < sizeof safe - 1; p++) {
		char c = *p;

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_' && c != '.')
			c = '-';
		if (i == 0 && (c == '.' || c == '-'))
			continue;
		safe[i++] = c;
	}
	safe[i] = '\0';
	if (i == 0)
		snprintf(safe, sizeof safe, "app");
	if ((next = zhashx_lookup(r->counters, safe)) == NULL) {
		next = xmalloc(sizeof *next);
		*next = 1;
		zhashx_insert(r->counters, safe, next);
	}
	return xasprintf("%s-%ld", safe, (*next)++);
}

bool
app_record_alive(const struct app_record *a)
{
	const char *s = json_string_value(json_object_get(a->obj, "state"));

	return s != NULL && strcmp(s, "dead") != 0;
}

/* Drop the oldest dead records once the table is full. */
static void
app_trim(struct app_registry *r)
{
	size_t keep = 0, drop = r->n - APP_RECORDS_MAX + APP_RECORDS_MAX / 10;

	for (size_t i = 0; i < r->n; i++) {
		if (drop > 0 && !app_record_alive(r->v[i])) {
			zhashx_delete(r->by_id, r->v[i]->id);
			app_record_free(r->v[i]);
			drop--;
			continue;
		}
		r->v[keep++] = r->v[i];
	}
	r->n = keep;
}

struct app_record *
app_add(struct app_registry *r, const char *node, json_t *obj)
{
	struct app_record *a = xcalloc(1, sizeof *a);
	const char *id = json_string_value(json_object_get(obj, "id"));

	a->id = xstrdup(id != NULL ? id : "?");
	a->node = xstrdup(node);
	json_object_set_new(obj, "node", json_string(node));
	if (json_object_get(obj, "restarts") == NULL)
		json_object_set_new(obj, "restarts", json_integer(0));
	a->obj = obj;
	if (r->n >= APP_RECORDS_MAX)
		app_trim(r);
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 64 : r->cap * 2;
		r->v = xreallocarray(r->v, r->cap, sizeof *r->v);
	}
	r->v[r->n++] = a;
	zhashx_update(r->by_id, a->id, a);
	return a;
}

void
app_remove(struct app_registry *r, const char *id)
{
	struct app_record *a = zhashx_lookup(r->by_id, id);
	size_t i;

	if (a == NULL)
		return;
	/* From the newest, where a refused launch is; launch order is kept. */
	for (i = r->n; i-- > 0;)
		if (r->v[i] == a) {
			memmove(&r->v[i], &r->v[i + 1],
			    (r->n - i - 1) * sizeof *r->v);
			r->n--;
			break;
		}
	zhashx_delete(r->by_id, id);
	app_record_free(a);
}

struct app_record *
app_at(struct app_registry *r, size_t i)
{
	return i < r->n ? r->v[i] : NULL;
}

struct app_record *
app_lookup(struct app_registry *r, const char *id)
{
	return zhashx_lookup(r->by_id, id);
}

void
app_reserve_id(struct app_registry *r, const char *id)
{
	const char *dash;
	char *name;
	long *next, n;

	if (id == NULL || (dash = strrchr(id, '-')) == NULL ||
	    (n = strtol(dash + 1, NULL, 10)) <= 0)
		return;
	name = xstrndup(id, (size_t)(dash - id));

	if ((next = zhashx_lookup(r->counters, name)) == NULL) {
		next = xmalloc(sizeof *next);
		*next = 1;
		zhashx_insert(r->counters, name, next);
	}
	if (*next <= n)
		*next = n + 1;
	free(name);
}

struct app_record *
app_restore(struct app_registry *r, const char *node, json_t *obj)
{
	app_reserve_id(r, json_string_value(json_object_get(obj, "id")));
	return app_add(r, node, obj);
}

struct app_record *
app_add_orphan(struct app_registry *r, const char *node, json_t *obj)
{
	json_object_set_new(obj, "orphan", json_true());
	json_object_set_new(obj, "state", json_string("orphan"));
	return app_restore(r, node, obj);
}

struct app_record **
app_alive_on(struct app_registry *r, const char *node, size_t *count)
{
	struct app_record **v = xcalloc(r->n + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i]->node, node) == 0 &&
		    app_record_alive(r->v[i]))
			v[n++] = r->v[i];
	*count = n;
	return v;
}

/*
 * What the master keeps beside the worker's reports: how the app was
 * launched (to start it again elsewhere), its reservations, and its moves.
 * A worker's report never overwrites them.
 */
static const char *const app_master_keys[] = { "cpu", "mem_mb", "restart",
	"max_restarts", "check", "env", "cwd", "log_max", "log_keep",
	"placement", "reschedules", "restarts_before_move", "moved_from", NULL };

void
app_update(struct app_record *a, json_t *obj)
{
	json_int_t restarts = json_integer_value(json_object_get(a->obj,
	    "restarts"));
	json_int_t before = json_integer_value(json_object_get(a->obj,
	    "restarts_before_move"));
	json_t *reported = json_object_get(obj, "restarts");
	bool orphan = json_is_true(json_object_get(a->obj, "orphan"));
	json_t *keep = json_object();
	const char *state;

	for (size_t i = 0; app_master_keys[i] != NULL; i++) {
		json_t *v = json_object_get(a->obj, app_master_keys[i]);

		if (v != NULL)
			json_object_set(keep, app_master_keys[i], v);
	}
	/* The worker counts restarts on its node; moves came before. */
	if (json_is_integer(reported))
		restarts = before + json_integer_value(reported);
	json_object_del(a->obj, "restarts");
	json_object_update(a->obj, obj);
	json_decref(obj);
	json_object_update(a->obj, keep);
	json_decref(keep);
	/* An orphan stays one while it lives: ps must show it as such. */
	state = json_string_value(json_object_get(a->obj, "state"));
	if (orphan && state != NULL && strcmp(state, "dead") != 0)
		json_object_set_new(a->obj, "state", json_string("orphan"));
	/* Where and what it is, the master's: a report names neither. */
	json_object_set_new(a->obj, "id", json_string(a->id));
	json_object_set_new(a->obj, "node", json_string(a->node));
	json_object_set_new(a->obj, "restarts", json_integer(restarts));
}

size_t
app_mark_lost(struct app_registry *r, const char *node, int64_t now,
    const char *why, void (*changed)(struct app_record *, void *), void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct app_record *a = r->v[i];

		if (strcmp(a->node, node) != 0 || !app_record_alive(a))
			continue;
		json_object_set_new(a->obj, "state", json_string("dead"));
		json_object_set_new(a->obj, "cause", json_string(why));
		json_object_set_new(a->obj, "ended_at", json_integer(now));
		n++;
		if (changed != NULL)
			changed(a, arg);
	}
	return n;
}

int
app_count_alive(struct app_registry *r, const char *node)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i]->node, node) == 0 &&
		    app_record_alive(r->v[i]))
			n++;
	return n;
}

json_t *
app_list(struct app_registry *r, const char *node, bool all, int64_t now)
{
	json_t *list = json_array();

	for (size_t i = 0; i < r->n; i++) {
		struct app_record *a = r->v[i];

		if (node != NULL && strcmp(a->node, node) != 0)
			continue;
		if (!all && !app_record_alive(a)) {
			json_int_t ended = json_integer_value(
			    json_object_get(a->obj, "ended_at"));

			if (now - ended > APP_RECENT_MS)
				continue;
		}
		json_array_append(list, a->obj);
	}
	return list;
}
