/*
 * Placement and rescheduling. See sched.h.
 */
#include "master/sched.h"

#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/app.h"
#include "master/artcopy.h"
#include "master/artifact.h"
#include "master/master.h"
#include "master/node.h"
#include "master/pending.h"

/* How long a moved app's launch may take before it is tried elsewhere. */
#define SCHED_LAUNCH_TIMEOUT_MS 15000
/* How long a stale copy's kill is remembered (so it is sent once). */
#define SCHED_KILL_TIMEOUT_MS 10000
/* The worker's default max_restarts, which also bounds moves. */
#define SCHED_MAX_RESTARTS_DEFAULT 3

/*
 * What a moved app's artifact allows besides the nodes holding it: being
 * copied from the master's own copy of its files to a node lacking it.
 */
struct sched_copy {
	json_t *manifest;    /* what would be sent (borrowed), or NULL */
	const char *arch;    /* what it is built for (that of a holder) */
	const char *no_copy; /* why the master cannot send it, or NULL */
};

static void sched_move(struct master *, struct app_record *, const char *);

/* What one node's live apps reserve, and how many are called the name. */
struct sched_node_usage {
	double cpu;
	long long mem_mb;
	int same;
};

struct sched_usage {
	zhashx_t *by_node; /* node name -> struct sched_node_usage */
};

static void
sched_node_usage_free(void **item)
{
	free(*item);
	*item = NULL;
}

struct sched_usage *
sched_usage_new(struct master *m, const char *name)
{
	struct sched_usage *u = xcalloc(1, sizeof *u);
	struct app_record *a;

	u->by_node = zhashx_new();
	zhashx_set_destructor(u->by_node, sched_node_usage_free);
	/* One pass over every record, whatever the number of nodes. */
	for (size_t i = 0; (a = app_at(m->apps, i)) != NULL; i++) {
		struct sched_node_usage *nu;
		const char *nm;

		if (!app_record_alive(a))
			continue;
		if ((nu = zhashx_lookup(u->by_node, a->node)) == NULL) {
			nu = xcalloc(1, sizeof *nu);
			zhashx_insert(u->by_node, a->node, nu);
		}
		nu->cpu += json_number_value(json_object_get(a->obj, "cpu"));
		nu->mem_mb += json_integer_value(json_object_get(a->obj,
		    "mem_mb"));
		nm = json_string_value(json_object_get(a->obj, "name"));
		if (nm != NULL && name != NULL && strcmp(nm, name) == 0)
			nu->same++;
	}
	return u;
}

void
sched_usage_add(struct sched_usage *u, const char *node, double cpu,
    long long mem_mb)
{
	struct sched_node_usage *nu = zhashx_lookup(u->by_node, node);

	if (nu == NULL) {
		nu = xcalloc(1, sizeof *nu);
		zhashx_insert(u->by_node, node, nu);
	}
	nu->cpu += cpu;
	nu->mem_mb += mem_mb;
	nu->same++;
}

void
sched_usage_free(struct sched_usage *u)
{
	if (u == NULL)
		return;
	zhashx_destroy(&u->by_node);
	free(u);
}

/* What node's live apps reserve, and how many of them are called the name. */
static void
sched_reserved(const struct sched_usage *u, const char *node, double *cpu,
    long long *mem_mb, int *same)
{
	const struct sched_node_usage *nu = zhashx_lookup(u->by_node, node);

	*cpu = nu != NULL ? nu->cpu : 0;
	*mem_mb = nu != NULL ? nu->mem_mb : 0;
	*same = nu != NULL ? nu->same : 0;
}

static bool
sched_excluded(json_t *exclude, const char *node)
{
	json_t *v;
	size_t i;

	json_array_foreach(exclude, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), node) == 0)
			return true;
	}
	return false;
}

/*
 * Placement (see sched_place), and for a moved app with copy, nodes that
 * lack its artifact too when the master can send it: among the nodes that
 * fit, those holding it first, then the fewest instances, then the lowest
 * load.
 */
static struct node *
sched_choose(struct master *m, const struct sched_want *w,
    const struct sched_copy *copy, char **reason, char **why_out, bool *never)
{
	struct node **v, *best = NULL;
	double best_load = 0, rcpu = 0;
	long long rmem = 0, most_mem = 0;
	int best_same = 0, same = 0, most_cpus = 0;
	bool best_lacks = false;
	char *why = xstrdup("");
	struct sched_usage *own = NULL;
	const struct sched_usage *usage = w->usage;
	size_t count;

	*reason = NULL;
	*why_out = NULL;
	*never = false;
	if (usage == NULL)
		usage = own = sched_usage_new(m, w->name);
	v = node_list(m->nodes, &count);
	for (size_t i = 0; i < count; i++) {
		struct node *n = v[i];
		char *line = NULL;
		double load, mem_total_mb = (double)n->mem_total_kb / 1024.0;
		bool lacks = false;

		if (n->cpus > most_cpus)
			most_cpus = n->cpus;
		if (n->mem_total_kb / 1024 > most_mem)
			most_mem = n->mem_total_kb / 1024;
		if (n->state != NODE_READY || !n->connected) {
			line = xasprintf("%s: unavailable", n->name);
			goto refused;
		}
		if (sched_excluded(w->exclude, n->name)) {
			line = xasprintf("%s: ran it before", n->name);
			goto refused;
		}
		lacks = w->artifact != NULL &&
		    artifact_find(m->artifacts, n->name, w->artifact) == NULL;
		if (lacks && (copy == NULL || copy->manifest == NULL)) {
			line = xasprintf("%s: no artifact %s%s%s", n->name,
			    w->artifact, copy != NULL && copy->no_copy != NULL ?
			    ", and " : "", copy != NULL && copy->no_copy !=
			    NULL ? copy->no_copy : "");
			goto refused;
		}
		if (lacks && copy->arch != NULL && n->arch != NULL &&
		    strcmp(copy->arch, n->arch) != 0) {
			line = xasprintf("%s: no artifact %s, which is built for "
			    "%s, not %s", n->name, w->artifact, copy->arch,
			    n->arch);
			goto refused;
		}
		sched_reserved(usage, n->name, &rcpu, &rmem, &same);
		if (rcpu + w->cpu > n->cpus + 1e-9)
			line = xasprintf("%s: needs %g cpus, %g free", n->name,
			    w->cpu, n->cpus - rcpu > 0 ? n->cpus - rcpu : 0);
		else if ((double)(rmem + w->mem_mb) > mem_total_mb)
			line = xasprintf("%s: needs %lld MiB, %lld MiB free",
			    n->name, w->mem_mb, (long long)mem_total_mb - rmem > 0 ?
			    (long long)mem_total_mb - rmem : 0);
refused:
		if (line != NULL) {
			char *all = xasprintf("%s%s%s", why, why[0] != '\0' ?
			    "; " : "", line);

			free(why);
			free(line);
			why = all;
			continue;
		}
		load = (rcpu / n->cpus > n->cpu_pct / 100 ? rcpu / n->cpus :
		    n->cpu_pct / 100) + ((double)rmem / mem_total_mb >
		    n->mem_pct / 100 ? (double)rmem / mem_total_mb :
		    n->mem_pct / 100);
		if (best == NULL || (best_lacks && !lacks) ||
		    (best_lacks == lacks && (same < best_same ||
		    (same == best_same && load < best_load)))) {
			best = n;
			best_lacks = lacks;
			best_same = same;
			best_load = load;
		}
	}
	free(v);
	sched_usage_free(own);
	if (best != NULL) {
		free(why);
		*reason = xasprintf("%d other %s there, load %.0f%%", best_same,
		    best_same == 1 ? "instance" : "instances", best_load * 50);
		if (best_lacks)
			why = xasprintf("no ready node that fits holds artifact "
			    "%s: copied there first; %s", w->artifact, *reason);
		else if (copy != NULL && copy->no_copy != NULL)
			why = xasprintf("%s; only nodes holding %s were "
			    "considered: %s", *reason, w->artifact,
			    copy->no_copy);
		else
			return best;
		free(*reason);
		*reason = why;
		return best;
	}
	if (count > 0 && (w->cpu > most_cpus || w->mem_mb > most_mem)) {
		*never = true;
		*why_out = xasprintf("it reserves %g cpus and %lld MiB, the "
		    "largest node has %d cpus and %lld MiB", w->cpu, w->mem_mb,
		    most_cpus, most_mem);
		free(why);
	} else if (count == 0) {
		*why_out = xstrdup("no node has joined");
		free(why);
	} else
		*why_out = why;
	return NULL;
}

struct node *
sched_place(struct master *m, const struct sched_want *w, char **reason,
    char **why_out, bool *never)
{
	return sched_choose(m, w, NULL, reason, why_out, never);
}

/* Whether the record's policy asks for the app to be started again. */
static bool
sched_wants_restart(struct app_record *a)
{
	const char *policy = json_string_value(json_object_get(a->obj,
	    "restart"));

	if (json_is_true(json_object_get(a->obj, "orphan")))
		return false;
	return policy != NULL && (strcmp(policy, "on-failure") == 0 ||
	    strcmp(policy, "always") == 0);
}

static long long
sched_max_restarts(struct app_record *a)
{
	json_t *v = json_object_get(a->obj, "max_restarts");

	return json_is_integer(v) ? json_integer_value(v) :
	    SCHED_MAX_RESTARTS_DEFAULT;
}

/* The app cannot be moved: it stays dead, the cause says why. */
static void
sched_give_up(struct master *m, struct app_record *a, const char *cause)
{
	json_object_set_new(a->obj, "state", json_string("dead"));
	json_object_set_new(a->obj, "cause", json_string(cause));
	if (!json_is_integer(json_object_get(a->obj, "ended_at")))
		json_object_set_new(a->obj, "ended_at",
		    json_integer(util_wall_ms()));
	master_app_changed(m, a);
	master_event(m, "app", a->node, a->id, json_pack("{s:s, s:s}",
	    "event", "not-rescheduled", "cause", cause));
	log_warnx("app %s: %s", a->id, cause);
}

/* The MSG_LAUNCH body that starts a again as it was launched. */
static json_t *
sched_launch_body(struct app_record *a, long long max_restarts)
{
	static const char *const copied[] = { "args", "env", "cwd", "name",
		"log_max", "log_keep", "restart", "check", NULL };
	json_t *body = json_object(), *artifact;

	json_object_set_new(body, "app", json_string(a->id));
	/* An artifact's path is the node's own copy: name the artifact. */
	artifact = json_object_get(a->obj, "artifact");
	if (json_is_string(artifact))
		json_object_set(body, "artifact", artifact);
	else
		json_object_set(body, "path", json_object_get(a->obj, "path"));
	for (size_t i = 0; copied[i] != NULL; i++) {
		json_t *v = json_object_get(a->obj, copied[i]);

		if (v != NULL && !json_is_null(v))
			json_object_set(body, copied[i], v);
	}
	json_object_set_new(body, "max_restarts", json_integer(max_restarts));
	return body;
}

/*
 * An attempt to start a on its new node failed (what: the step, err: why).
 * It counts against the budget like any move: the app is dead until
 * another node takes it.
 */
static void
sched_attempt_failed(struct master *m, struct app_record *a, const char *what,
    const char *err)
{
	char *cause = xasprintf("lost: node unavailable; %s failed: %s", what,
	    err);

	master_event(m, "app", a->node, a->id, json_pack("{s:s, s:s, s:s}",
	    "event", "reschedule-failed", "node", a->node, "error", err));
	log_warnx("app %s: %s", a->id, cause);
	json_object_set_new(a->obj, "state", json_string("dead"));
	json_object_set_new(a->obj, "cause", json_string(cause));
	json_object_set_new(a->obj, "ended_at", json_integer(util_wall_ms()));
	master_app_changed(m, a);
	sched_move(m, a, cause);
	free(cause);
}

/*
 * Whether an answer about app id's move to node, attempt number attempt,
 * is about its latest move: it may have been moved on since.
 */
static struct app_record *
sched_current(struct master *m, const char *id, const char *node,
    json_int_t attempt)
{
	struct app_record *a = app_lookup(m->apps, id);

	if (a == NULL || strcmp(a->node, node) != 0 ||
	    json_integer_value(json_object_get(a->obj, "reschedules")) !=
	    attempt)
		return NULL;
	return a;
}

/*
 * The answer to a moved app's launch. Only the latest attempt counts: an
 * older one (the app was moved again meanwhile) that started anyway is a
 * stale copy and is killed.
 */
static void
sched_launched(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	struct app_record *a;
	const char *err;
	char *what;

	/*
	 * Shutting down, every request fails: the record stays as it is, to
	 * be reconciled with what the node says when the master is back.
	 */
	if (m->stopping)
		return;
	a = sched_current(m, p->app, p->node, json_integer_value(
	    json_object_get(p->extra, "attempt")));
	if (a == NULL) {
		struct node *n = node_find(m->nodes, p->node);

		if (reply != NULL && reply->type == MSG_LAUNCHED && n != NULL)
			sched_stop_stale_copy(m, n, p->app, reply->body);
		return;
	}
	if (reply != NULL && reply->type == MSG_LAUNCHED) {
		app_update(a, json_incref(reply->body));
		master_app_changed(m, a);
		if (app_record_alive(a))
			log_info("app %s runs on %s again (pid %lld)", a->id,
			    a->node, json_integer_value(json_object_get(a->obj,
			    "pid")));
		else {
			log_warnx("app %s moved to %s but did not start: %s",
			    a->id, a->node, json_string_value(json_object_get(
			    a->obj, "cause")));
			master_event(m, "app", a->node, a->id, json_pack(
			    "{s:s, s:O}", "event", "ended", "cause",
			    json_object_get(a->obj, "cause")));
		}
		return;
	}
	err = reply != NULL && reply->type == MSG_ERROR ?
	    json_string_value(json_object_get(reply->body, "error")) : why;
	if (err == NULL)
		err = "the node answered something unexpected";
	what = xasprintf("starting it on %s", a->node);
	sched_attempt_failed(m, a, what, err);
	free(what);
}

/* Send the launch of a (moved, its record on node to already). */
static void
sched_launch(struct master *m, struct app_record *a, struct node *to)
{
	long long left = sched_max_restarts(a) - json_integer_value(
	    json_object_get(a->obj, "restarts"));
	struct pending *p;
	struct msg *msg;
	bool sent = false;

	/* The worker's own budget is what is left of the cluster's. */
	p = pending_new(m, a->node, SCHED_LAUNCH_TIMEOUT_MS, sched_launched,
	    NULL, a->id);
	p->extra = json_pack("{s:O}", "attempt", json_object_get(a->obj,
	    "reschedules"));
	msg = msg_new(MSG_LAUNCH, p->id, sched_launch_body(a, left > 0 ? left :
	    0));
	if (to != NULL && to->connected && to->state == NODE_READY)
		sent = master_send_to(m, to, msg) == 0;
	msg_free(msg);
	if (!sent) {
		p->done(m, p, NULL, "cannot reach the node now");
		pending_free(m, p);
	}
}

/* The copy of a moved app's artifact to its new node ended. */
static void
sched_copied(struct master *m, const char *node, const char *id,
    json_t *extra, const char *error)
{
	struct app_record *a;
	char *what;

	if (m->stopping)
		return;
	a = sched_current(m, id, node, json_integer_value(json_object_get(extra,
	    "attempt")));
	if (a == NULL)
		return; /* moved on meanwhile; the copy stays installed */
	if (error != NULL) {
		what = xasprintf("copying artifact %s to %s", json_string_value(
		    json_object_get(a->obj, "artifact")), node);
		sched_attempt_failed(m, a, what, error);
		free(what);
		return;
	}
	sched_launch(m, a, node_find(m->nodes, node));
}

/*
 * What a's artifact allows when it moves: the manifest of the copy it ran
 * (else any node's), sendable if the master holds every file of it.
 */
static void
sched_copy_of(struct master *m, struct app_record *a, const char *artifact,
    struct sched_copy *copy)
{
	const char *source = NULL;
	json_t *manifest = artifact_find_any(m->artifacts, artifact, a->node,
	    &source);
	struct node *sn;

	memset(copy, 0, sizeof *copy);
	if (manifest == NULL || !artcopy_can_send(m->files, manifest)) {
		/* Upgraded masters have none of what was copied before. */
		copy->no_copy = "the master keeps no copy of its files to send "
		    "(copied before it kept copies, or removed): copy it again";
		return;
	}
	copy->manifest = manifest;
	if ((sn = node_find(m->nodes, source)) != NULL)
		copy->arch = sn->arch;
}

/*
 * Start a (dead, its node lost or its move failed) on another node, if its
 * policy and restart budget allow, copying its artifact there first when
 * the node lacks it. why is its cause now, kept when it is not moved.
 */
static void
sched_move(struct master *m, struct app_record *a, const char *why)
{
	struct sched_want want = { 0 };
	struct sched_copy copy;
	long long max = sched_max_restarts(a), restarts;
	char *reason = NULL, *refusal = NULL, *cause = NULL;
	json_t *moved_from, *ev;
	json_t *manifest = NULL;
	struct node *to;
	bool never;
	char *from;

	if (!sched_wants_restart(a))
		return;
	restarts = json_integer_value(json_object_get(a->obj, "restarts"));
	if (restarts >= max) {
		cause = xasprintf("%s; not moved: %lld of %lld restarts used",
		    why, restarts, max);
		sched_give_up(m, a, cause);
		free(cause);
		return;
	}
	/*
	 * A worker refuses an id it already has, even a dead one: every node
	 * the app ran on is out.
	 */
	moved_from = json_object_get(a->obj, "moved_from");
	if (!json_is_array(moved_from)) {
		moved_from = json_array();
		json_object_set_new(a->obj, "moved_from", moved_from);
	}
	if (!sched_excluded(moved_from, a->node))
		json_array_append_new(moved_from, json_string(a->node));
	want.name = json_string_value(json_object_get(a->obj, "name"));
	want.artifact = json_string_value(json_object_get(a->obj, "artifact"));
	want.cpu = json_number_value(json_object_get(a->obj, "cpu"));
	want.mem_mb = json_integer_value(json_object_get(a->obj, "mem_mb"));
	want.exclude = moved_from;
	if (want.artifact != NULL)
		sched_copy_of(m, a, want.artifact, &copy);
	if ((to = sched_choose(m, &want, want.artifact != NULL ? &copy : NULL,
	    &reason, &refusal, &never)) == NULL) {
		cause = xasprintf("lost: node unavailable; no node to move it "
		    "to (%s)", refusal);
		sched_give_up(m, a, cause);
		free(cause);
		free(refusal);
		return;
	}
	/* Held by the registry, which nothing below changes until the copy. */
	if (want.artifact != NULL &&
	    artifact_find(m->artifacts, to->name, want.artifact) == NULL)
		manifest = copy.manifest;

	/*
	 * The record moves now, before the answer: the app is counted on its
	 * new node by the next placements, and a copy on the old node is
	 * stale from this moment.
	 */
	from = a->node;
	a->node = xstrdup(to->name);
	restarts++;
	json_object_set_new(a->obj, "node", json_string(to->name));
	json_object_set_new(a->obj, "state", json_string("starting"));
	json_object_set_new(a->obj, "pid", json_null());
	json_object_set_new(a->obj, "cause", json_null());
	json_object_set_new(a->obj, "ended_at", json_null());
	json_object_set_new(a->obj, "restarts", json_integer(restarts));
	json_object_set_new(a->obj, "restarts_before_move",
	    json_integer(restarts));
	json_object_set_new(a->obj, "reschedules", json_integer(
	    json_integer_value(json_object_get(a->obj, "reschedules")) + 1));
	json_object_set_new(a->obj, "placement", json_string(reason));
	master_app_changed(m, a);
	ev = json_pack("{s:s, s:s, s:s, s:I}", "event", "rescheduled", "from",
	    from, "to", to->name, "restarts", (json_int_t)restarts);
	if (manifest != NULL)
		json_object_set_new(ev, "copy", json_string(want.artifact));
	master_event(m, "app", to->name, a->id, ev);
	log_info("app %s moves from %s to %s (restart %lld of %lld; %s)",
	    a->id, from, to->name, restarts, max, reason);
	free(reason);
	free(from);

	if (manifest == NULL) {
		sched_launch(m, a, to);
		return;
	}
	/* Launched once the artifact is installed there (sched_copied). */
	if (artcopy_start(m, to->name, manifest, "reschedule", sched_copied,
	    a->id, json_pack("{s:O}", "attempt", json_object_get(a->obj,
	    "reschedules")), &cause) == -1) {
		char *what = xasprintf("copying artifact %s to %s",
		    want.artifact, a->node);

		sched_attempt_failed(m, a, what, cause);
		free(what);
		free(cause);
	}
}

void
sched_node_lost(struct master *m, const char *node,
    struct app_record **lost, size_t count)
{
	size_t moving = 0;

	for (size_t i = 0; i < count; i++) {
		/*
		 * One whose move to this node was under way has been moved on
		 * already (its launch failed with the node).
		 */
		if (!sched_wants_restart(lost[i]) ||
		    strcmp(lost[i]->node, node) != 0 ||
		    app_record_alive(lost[i]))
			continue;
		moving++;
		sched_move(m, lost[i], json_string_value(json_object_get(
		    lost[i]->obj, "cause")));
	}
	if (moving > 0)
		log_info("node %s lost: %zu of its %zu apps to move", node,
		    moving, count);
}

/* A stale copy's kill was answered (or not): nothing waits on it. */
static void
sched_stale_killed(struct master *m, struct pending *p, struct msg *reply,
    const char *why)
{
	(void)m;
	if (reply != NULL && reply->type == MSG_SIGNALED)
		log_trace(TRACE_SCHED, "stale copy of %s on %s killed", p->app,
		    p->node);
	else
		log_warnx("killing the stale copy of app %s on %s: %s", p->app,
		    p->node, reply != NULL && reply->type == MSG_ERROR ?
		    json_string_value(json_object_get(reply->body, "error")) :
		    why != NULL ? why : "unexpected answer");
}

void
sched_stop_stale_copy(struct master *m, struct node *n, const char *id,
    json_t *report)
{
	struct app_record *a = app_lookup(m->apps, id);
	json_int_t pid = json_integer_value(json_object_get(report, "pid"));
	struct pending *p;
	struct msg *msg;

	/* Heartbeats list the copy until it is gone: one kill is enough. */
	for (p = m->pending; p != NULL; p = p->next)
		if (p->done == sched_stale_killed && strcmp(p->node, n->name) == 0 &&
		    strcmp(p->app, id) == 0)
			return;
	p = pending_new(m, n->name, SCHED_KILL_TIMEOUT_MS, sched_stale_killed,
	    NULL, id);
	msg = msg_new(MSG_SIGNAL, p->id, jsonx_pack("{s:s, s:s}", "app", id,
	    "signal", "SIGKILL"));
	if (master_send_to(m, n, msg) == -1) {
		/* Tried again at the node's next report. */
		pending_free(m, p);
		msg_free(msg);
		return;
	}
	msg_free(msg);
	log_warnx("app %s runs on %s, which was out of reach while it moved to "
	    "%s: killing this stale copy (pid %lld)", id, n->name,
	    a != NULL ? a->node : "?", (long long)pid);
	master_event(m, "app", n->name, id, json_pack("{s:s, s:s, s:s, s:I}",
	    "event", "stale-copy-stopped", "node", n->name, "running_on",
	    a != NULL ? a->node : "", "pid", pid));
}
