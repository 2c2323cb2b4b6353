#include "worker/workerstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/procfs.h"

/* Bounds on what a state file may hold (a launch accepts no more). */
#define WORKERSTATE_STRV_MAX 8192
#define WORKERSTATE_APPS_MAX 1000000

static const char *const workerstate_phases[] = {
	[APP_RUNNING] = "running", [APP_STOPPING] = "stopping",
	[APP_WAITING] = "waiting", [APP_EXITED] = "exited",
	[APP_FAILED] = "failed",
};
static const char *const workerstate_restarts[] = {
	[APP_RESTART_NEVER] = "never", [APP_RESTART_ON_FAILURE] = "on-failure",
	[APP_RESTART_ALWAYS] = "always",
};

static json_t *
workerstate_strv_to_json(char *const *v)
{
	json_t *a;

	if (v == NULL)
		return json_null();
	a = json_array();
	for (; *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

json_t *
workerstate_app_to_json(const struct workerstate_app *s)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(s->id));
	json_object_set_new(j, "name", json_string(s->name));
	json_object_set_new(j, "path", json_string(s->path));
	json_object_set_new(j, "artifact", s->artifact != NULL ?
	    json_string(s->artifact) : json_null());
	json_object_set_new(j, "cwd", s->cwd != NULL ? json_string(s->cwd) :
	    json_null());
	json_object_set_new(j, "args", s->args != NULL ? json_incref(s->args) :
	    json_array());
	json_object_set_new(j, "argv", workerstate_strv_to_json(s->argv));
	json_object_set_new(j, "envp", workerstate_strv_to_json(s->envp));
	json_object_set_new(j, "check", s->check != NULL ?
	    json_incref(s->check) : json_null());
	json_object_set_new(j, "phase", json_string(workerstate_phases[s->phase]));
	json_object_set_new(j, "restart",
	    json_string(workerstate_restarts[s->restart]));
	json_object_set_new(j, "max_restarts", json_integer(s->max_restarts));
	json_object_set_new(j, "restarts", json_integer(s->restarts));
	json_object_set_new(j, "backoff_ms", json_integer(s->backoff_ms));
	json_object_set_new(j, "user_stopped", json_boolean(s->user_stopped));
	json_object_set_new(j, "log_max", json_integer(s->log_max));
	json_object_set_new(j, "log_keep", json_integer(s->log_keep));
	json_object_set_new(j, "shim_pid", json_integer(s->shim_pid));
	/* Start times are clock ticks since boot: well inside 2^63. */
	json_object_set_new(j, "shim_start", json_integer((json_int_t)s->shim_start));
	json_object_set_new(j, "pid", json_integer(s->pid));
	json_object_set_new(j, "start", json_integer((json_int_t)s->start));
	json_object_set_new(j, "started_at", json_integer(s->started_at));
	json_object_set_new(j, "ended_at", json_integer(s->ended_at));
	json_object_set_new(j, "stop_deadline", json_integer(s->stop_deadline));
	json_object_set_new(j, "has_status", json_boolean(s->has_status));
	json_object_set_new(j, "status", json_integer(s->status));
	json_object_set_new(j, "user_us", json_integer(s->user_us));
	json_object_set_new(j, "sys_us", json_integer(s->sys_us));
	json_object_set_new(j, "maxrss_kb", json_integer(s->maxrss_kb));
	json_object_set_new(j, "cause", json_string(s->cause));
	return j;
}

char *
workerstate_app_format(const struct workerstate_app *s)
{
	return jsonx_dumps(workerstate_app_to_json(s));
}

int
workerstate_write(const char *path, uint64_t generation, char *const *entries,
    size_t n)
{
	char head[96], *text, *p;
	size_t len, hlen;
	int rc, saved;

	/* What json_dumps(JSON_COMPACT) makes of the document, joined here. */
	hlen = (size_t)snprintf(head, sizeof head,
	    "{\"version\":%d,\"generation\":%llu,\"apps\":[",
	    WORKERSTATE_VERSION, (unsigned long long)generation);
	len = hlen + 2;
	for (size_t i = 0; i < n; i++)
		len += strlen(entries[i]) + 1;
	p = text = xmalloc(len + 1);
	memcpy(p, head, hlen);
	p += hlen;
	for (size_t i = 0; i < n; i++) {
		size_t elen = strlen(entries[i]);

		if (i > 0)
			*p++ = ',';
		memcpy(p, entries[i], elen);
		p += elen;
	}
	*p++ = ']';
	*p++ = '}';
	rc = util_write_file_swap(path, text, (size_t)(p - text), 0600);
	saved = errno;
	free(text);
	errno = saved;
	return rc;
}

int
workerstate_journal_start(const char *path, uint64_t generation)
{
	char head[64];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	n = snprintf(head, sizeof head, "{\"generation\":%llu}\n",
	    (unsigned long long)generation);
	if (util_write_all(fd, head, (size_t)n) == -1)
		return util_close_failed(fd);
	return fd;
}

char *
workerstate_forget_format(const char *id)
{
	return jsonx_dumps(jsonx_pack("{s:s}", "forget", id));
}

ssize_t
workerstate_journal_append(int fd, char *const *lines, size_t n)
{
	size_t len = 0;
	char *text, *p;
	int rc, saved;

	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	p = text = xmalloc(len + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		memcpy(p, lines[i], l);
		p += l;
		*p++ = '\n';
	}
	/* O_APPEND and one write: lines from two saves never interleave. */
	rc = util_write_all(fd, text, len);
	saved = errno;
	free(text);
	errno = saved;
	return rc == -1 ? -1 : (ssize_t)len;
}

/* A NULL-terminated copy of an array of strings without NUL bytes. */
static int
workerstate_get_strv(json_t *obj, const char *key, char ***out, char **cause)
{
	json_t *a, *v;
	size_t i;
	char **strv;

	*out = NULL;
	a = json_object_get(obj, key);
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > WORKERSTATE_STRV_MAX) {
		*cause = xasprintf("'%s' is not an array of at most %d strings",
		    key, WORKERSTATE_STRV_MAX);
		return -1;
	}
	strv = xcalloc(json_array_size(a) + 1, sizeof *strv);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			*cause = xasprintf("'%s'[%zu] is not a string", key, i);
			util_strv_free(strv);
			return -1;
		}
		strv[i] = xstrdup(json_string_value(v));
	}
	*out = strv;
	return 0;
}

/* An enum from its name in names[0..n-1]. */
static int
workerstate_get_enum(json_t *obj, const char *key, const char *const *names,
    int n, int *out, char **cause)
{
	const char *s;

	if (jsonx_get_str(obj, key, true, &s, cause) == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	*cause = xasprintf("'%s' has an unknown value '%.32s'", key, s);
	return -1;
}

static char *
workerstate_dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Names from the file become paths: the same rule as a launch's app id. */
static bool
workerstate_id_valid(const char *id)
{
	return util_name_valid(id, 128, "._-");
}

static int
workerstate_parse_app(json_t *j, struct workerstate_app *s, char **cause)
{
	const char *id, *name, *path, *artifact = NULL, *cwd = NULL, *c;
	long long mr, r, b, lm, lk, sp, ss, pid, st, sa, ea, sd, status, uu,
	    su, rss;
	json_t *args = NULL, *check = NULL, *v;
	int phase, restart;
	bool stopped, has;
	size_t i;

	memset(s, 0, sizeof *s);
	if (!json_is_object(j)) {
		*cause = xstrdup("an app is not an object");
		return -1;
	}
	if (jsonx_get_str(j, "id", true, &id, cause) == -1 ||
	    jsonx_get_str(j, "name", true, &name, cause) == -1 ||
	    jsonx_get_str(j, "path", true, &path, cause) == -1 ||
	    jsonx_get_str(j, "artifact", false, &artifact, cause) == -1 ||
	    jsonx_get_str(j, "cwd", false, &cwd, cause) == -1 ||
	    jsonx_get_array(j, "args", true, &args, cause) == -1 ||
	    jsonx_get_object(j, "check", false, &check, cause) == -1 ||
	    workerstate_get_enum(j, "phase", workerstate_phases,
		APP_FAILED + 1, &phase, cause) == -1 ||
	    workerstate_get_enum(j, "restart", workerstate_restarts,
		APP_RESTART_ALWAYS + 1, &restart, cause) == -1 ||
	    jsonx_get_int(j, "max_restarts", true, 0, 1000000, &mr, cause) == -1 ||
	    jsonx_get_int(j, "restarts", true, 0, 1000000, &r, cause) == -1 ||
	    jsonx_get_int(j, "backoff_ms", true, 0, APP_BACKOFF_MAX_MS, &b,
		cause) == -1 ||
	    jsonx_get_bool(j, "user_stopped", true, &stopped, cause) == -1 ||
	    jsonx_get_int(j, "log_max", true, 4096, 1LL << 40, &lm, cause) == -1 ||
	    jsonx_get_int(j, "log_keep", true, 0, 16, &lk, cause) == -1 ||
	    jsonx_get_int(j, "shim_pid", true, 0, 1 << 30, &sp, cause) == -1 ||
	    jsonx_get_int(j, "shim_start", true, 0, INT64_MAX, &ss, cause) == -1 ||
	    jsonx_get_int(j, "pid", true, 0, 1 << 30, &pid, cause) == -1 ||
	    jsonx_get_int(j, "start", true, 0, INT64_MAX, &st, cause) == -1 ||
	    jsonx_get_int(j, "started_at", true, 0, INT64_MAX, &sa, cause) == -1 ||
	    jsonx_get_int(j, "ended_at", true, 0, INT64_MAX, &ea, cause) == -1 ||
	    jsonx_get_int(j, "stop_deadline", true, 0, INT64_MAX, &sd,
		cause) == -1 ||
	    jsonx_get_bool(j, "has_status", true, &has, cause) == -1 ||
	    jsonx_get_int(j, "status", true, 0, 0xffff, &status, cause) == -1 ||
	    jsonx_get_int(j, "user_us", true, 0, INT64_MAX, &uu, cause) == -1 ||
	    jsonx_get_int(j, "sys_us", true, 0, INT64_MAX, &su, cause) == -1 ||
	    jsonx_get_int(j, "maxrss_kb", true, 0, INT64_MAX, &rss, cause) == -1 ||
	    jsonx_get_str(j, "cause", true, &c, cause) == -1)
		return -1;
	if (!workerstate_id_valid(id)) {
		*cause = xasprintf("bad app id '%.64s'", id);
		return -1;
	}
	if (path[0] != '/' || (cwd != NULL && cwd[0] != '/')) {
		*cause = xasprintf("app %s: a path is not absolute", id);
		return -1;
	}
	json_array_foreach(args, i, v) {
		if (!json_is_string(v)) {
			*cause = xasprintf("app %s: args[%zu] is not a string",
			    id, i);
			return -1;
		}
	}
	if (workerstate_get_strv(j, "argv", &s->argv, cause) == -1 ||
	    workerstate_get_strv(j, "envp", &s->envp, cause) == -1)
		goto fail;
	/* What may run again needs what to run. */
	if ((phase == APP_RUNNING || phase == APP_STOPPING ||
	    phase == APP_WAITING) && (s->argv == NULL || s->argv[0] == NULL ||
	    s->envp == NULL)) {
		*cause = xasprintf("app %s: no argv or envp to run with", id);
		goto fail;
	}
	s->id = xstrdup(id);
	s->name = xstrdup(name);
	s->path = xstrdup(path);
	s->artifact = workerstate_dup_opt(artifact);
	s->cwd = workerstate_dup_opt(cwd);
	s->args = json_deep_copy(args);
	s->check = check != NULL ? json_deep_copy(check) : NULL;
	s->phase = (enum app_phase)phase;
	s->restart = (enum app_restart)restart;
	s->max_restarts = (int)mr;
	s->restarts = (int)r;
	s->backoff_ms = (int)b;
	s->user_stopped = stopped;
	s->log_max = lm;
	s->log_keep = (int)lk;
	s->shim_pid = (pid_t)sp;
	s->shim_start = (unsigned long long)ss;
	s->pid = (pid_t)pid;
	s->start = (unsigned long long)st;
	s->started_at = sa;
	s->ended_at = ea;
	s->stop_deadline = sd;
	s->has_status = has;
	s->status = (int)status;
	s->user_us = uu;
	s->sys_us = su;
	s->maxrss_kb = rss;
	snprintf(s->cause, sizeof s->cause, "%s", c);
	return 0;
fail:
	util_strv_free(s->argv);
	util_strv_free(s->envp);
	s->argv = s->envp = NULL;
	return -1;
}

static void
workerstate_app_clear(struct workerstate_app *s)
{
	free(s->id);
	free(s->name);
	free(s->path);
	free(s->artifact);
	free(s->cwd);
	json_decref(s->args);
	json_decref(s->check);
	util_strv_free(s->argv);
	util_strv_free(s->envp);
}

void
workerstate_apps_free(struct workerstate_app *apps, size_t napps)
{
	if (apps == NULL)
		return;
	for (size_t i = 0; i < napps; i++)
		workerstate_app_clear(&apps[i]);
	free(apps);
}

/* The index of the app called id among v[0..n-1], or -1. */
static long
workerstate_find(const struct workerstate_app *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id != NULL && strcmp(v[i].id, id) == 0)
			return (long)i;
	return -1;
}

/*
 * Apply one journal line to v (*n apps, room for *cap): replace the entry
 * of its app, add it (appended: the caller puts the added ones first), or
 * forget the app (its slot's id NULL). -1 when the line cannot be read.
 */
static int
workerstate_apply_line(const char *line, size_t len,
    struct workerstate_app **v, size_t *n, size_t *cap)
{
	struct workerstate_app app = { 0 };
	const char *forget;
	char *cause = NULL;
	json_t *j;
	long at;
	int rc = -1;

	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (!json_is_object(j))
		goto out;
	if ((forget = json_string_value(json_object_get(j, "forget"))) != NULL) {
		if ((at = workerstate_find(*v, *n, forget)) != -1) {
			workerstate_app_clear(&(*v)[at]);
			memset(&(*v)[at], 0, sizeof (*v)[at]);
		}
		rc = 0;
		goto out;
	}
	if (workerstate_parse_app(j, &app, &cause) == -1) {
		free(cause);
		goto out;
	}
	if ((at = workerstate_find(*v, *n, app.id)) != -1) {
		workerstate_app_clear(&(*v)[at]);
		(*v)[at] = app;
	} else {
		if (*n == *cap) {
			*cap = *cap < 16 ? 16 : *cap * 2;
			*v = xreallocarray(*v, *cap, sizeof **v);
		}
		(*v)[(*n)++] = app;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/*
 * Apply the journal (jlen bytes) to the n apps of the state file of
 * generation, in v (room for *cap). Returns the apps' count after it, the
 * added ones first (newest first, as the table), the forgotten ones gone.
 */
static size_t
workerstate_apply_journal(const char *journal, size_t jlen,
    uint64_t generation, struct workerstate_app **v, size_t n, size_t *cap,
    size_t *skipped)
{
	const char *p = journal, *end = journal + jlen, *nl;
	size_t base = n, kept = 0;
	long long g = -1;
	json_t *head;

	/* Its first line names the state file it continues. */
	if ((nl = memchr(p, '\n', jlen)) == NULL)
		return n;
	if ((head = json_loadb(p, (size_t)(nl - p), 0, NULL)) != NULL &&
	    json_is_integer(json_object_get(head, "generation")))
		g = json_integer_value(json_object_get(head, "generation"));
	json_decref(head);
	if (g < 0 || (uint64_t)g != generation)
		return n;
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			/* A last line without its newline was cut short. */
			(*skipped)++;
			break;
		}
		if (workerstate_apply_line(p, (size_t)(nl - p), v, &n, cap) == -1)
			(*skipped)++;
	}
	/* Added apps, newest (last added) first, then the state file's. */
	struct workerstate_app *out = xcalloc(n + 1, sizeof *out);

	for (size_t i = n; i-- > base;)
		if ((*v)[i].id != NULL)
			out[kept++] = (*v)[i];
	for (size_t i = 0; i < base; i++)
		if ((*v)[i].id != NULL)
			out[kept++] = (*v)[i];
	free(*v);
	*v = out;
	*cap = n + 1;
	return kept;
}

int
workerstate_parse(const char *text, size_t len, const char *journal,
    size_t jlen, struct workerstate_app **apps, size_t *napps,
    uint64_t *generation, size_t *skipped, char **cause)
{
	struct workerstate_app *v = NULL;
	json_error_t err;
	json_t *doc, *list, *j;
	long long version, gen = 0;
	size_t i, n = 0, cap;

	*apps = NULL;
	*napps = 0;
	*generation = 0;
	*skipped = 0;
	if (len > WORKERSTATE_MAX || jlen > WORKERSTATE_MAX) {
		*cause = xstrdup("the state file or its journal is too large");
		return -1;
	}
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		*cause = xasprintf("not JSON: %s (line %d)", err.text, err.line);
		return -1;
	}
	if (!json_is_object(doc)) {
		*cause = xstrdup("not a JSON object");
		goto fail;
	}
	/* Files from before the journal have no generation: 0. */
	if (jsonx_get_int(doc, "version", true, WORKERSTATE_VERSION,
		WORKERSTATE_VERSION, &version, cause) == -1 ||
	    jsonx_get_int(doc, "generation", false, 0, INT64_MAX, &gen,
		cause) == -1 ||
	    jsonx_get_array(doc, "apps", true, &list, cause) == -1)
		goto fail;
	if (json_array_size(list) > WORKERSTATE_APPS_MAX) {
		*cause = xstrdup("too many apps");
		goto fail;
	}
	cap = json_array_size(list) + 1;
	v = xcalloc(cap, sizeof *v);
	json_array_foreach(list, i, j) {
		if (workerstate_parse_app(j, &v[n], cause) == -1)
			goto fail;
		n++;
		for (size_t k = 0; k + 1 < n; k++) {
			if (strcmp(v[k].id, v[n - 1].id) == 0) {
				*cause = xasprintf("app %s is listed twice",
				    v[k].id);
				goto fail;
			}
		}
	}
	json_decref(doc);
	if (journal != NULL)
		n = workerstate_apply_journal(journal, jlen, (uint64_t)gen, &v,
		    n, &cap, skipped);
	*apps = v;
	*napps = n;
	*generation = (uint64_t)gen;
	return 0;
fail:
	workerstate_apps_free(v, n);
	json_decref(doc);
	return -1;
}

char *
workerstate_format_exit(const struct workerstate_exit *e)
{
	json_t *j = jsonx_pack("{s:i, s:I, s:i, s:I, s:I, s:I, s:I}",
	    "pid", (int)e->pid, "start", (json_int_t)e->start,
	    "status", e->status, "user_us", (json_int_t)e->user_us,
	    "sys_us", (json_int_t)e->sys_us,
	    "maxrss_kb", (json_int_t)e->maxrss_kb,
	    "ended_at", (json_int_t)e->ended_at);

	return jsonx_dumps(j);
}

int
workerstate_parse_exit(const char *text, size_t len, struct workerstate_exit *e,
    char **cause)
{
	long long pid, st, status, uu, su, rss, ea;
	json_error_t err;
	json_t *j;
	int rc = -1;

	memset(e, 0, sizeof *e);
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		*cause = xasprintf("not JSON: %s", err.text);
		return -1;
	}
	if (!json_is_object(j)) {
		*cause = xstrdup("not a JSON object");
		goto out;
	}
	if (jsonx_get_int(j, "pid", true, 1, 1 << 30, &pid, cause) == -1 ||
	    jsonx_get_int(j, "start", true, 0, INT64_MAX, &st, cause) == -1 ||
	    jsonx_get_int(j, "status", true, 0, 0xffff, &status, cause) == -1 ||
	    jsonx_get_int(j, "user_us", true, 0, INT64_MAX, &uu, cause) == -1 ||
	    jsonx_get_int(j, "sys_us", true, 0, INT64_MAX, &su, cause) == -1 ||
	    jsonx_get_int(j, "maxrss_kb", true, 0, INT64_MAX, &rss, cause) == -1 ||
	    jsonx_get_int(j, "ended_at", true, 0, INT64_MAX, &ea, cause) == -1)
		goto out;
	e->pid = (pid_t)pid;
	e->start = (unsigned long long)st;
	e->status = (int)status;
	e->user_us = uu;
	e->sys_us = su;
	e->maxrss_kb = rss;
	e->ended_at = ea;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int
workerstate_read_start(pid_t pid, unsigned long long *start)
{
	struct procfs_stat st;

	if (procfs_read_stat(pid, &st) == -1)
		return -1;
	*start = st.starttime;
	return 0;
}

bool
workerstate_same_process(pid_t pid, unsigned long long start,
    int (*read_start)(pid_t, unsigned long long *))
{
	unsigned long long now;

	/* 0 and 1 are never ours; a start of 0 was never recorded. */
	if (pid <= 1 || start == 0)
		return false;
	if (read_start(pid, &now) == -1)
		return false;
	return now == start;
}
