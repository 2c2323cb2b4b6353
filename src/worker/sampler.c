#include "worker/sampler.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/procfs.h"

/* How far up the parent chain a process is followed to find its app. */
#define SAMPLER_MAX_DEPTH 64

/* One process of the node, from its /proc/PID/stat. */
struct sampler_proc {
	pid_t pid;
	pid_t ppid;
	pid_t session;
	unsigned long long user_ticks; /* its own and its waited-for children's */
	unsigned long long sys_ticks;
	unsigned long long starttime;
	long threads;
	long rss_pages;
};

/* What the last round saw of an app: the base of the next CPU rate. */
struct sampler_prev {
	char *id;
	long long user_ms;
	long long sys_ms;
	int64_t at_ms; /* monotonic */
};

struct sampler {
	int64_t interval_ms;
	int64_t next_ms;
	struct sampler_prev *prev; /* sorted by id */
	size_t nprev;
	/* The queue: a ring of cap samples, count of them from head. */
	struct sampler_sample *ring;
	size_t cap, head, count;
	bool dropping; /* dropping the oldest: said once, in the log */
};

struct sampler *
sampler_new(int64_t interval_ms)
{
	struct sampler *s = xcalloc(1, sizeof *s);

	s->interval_ms = interval_ms;
	s->next_ms = util_now_ms() + interval_ms;
	return s;
}

static void
sampler_free_prev(struct sampler_prev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	sampler_free_prev(s->prev, s->nprev);
	free(s->ring);
	free(s);
}

int64_t
sampler_due(const struct sampler *s)
{
	return s->interval_ms == 0 ? INT64_MAX : s->next_ms;
}

static int
sampler_proc_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct sampler_proc *)a)->pid;
	pid_t y = ((const struct sampler_proc *)b)->pid;

	return (x > y) - (x < y);
}

static int
sampler_prev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sampler_prev *)a)->id,
	    ((const struct sampler_prev *)b)->id);
}

/* Every process on the node, sorted by PID: one pass over /proc. */
static struct sampler_proc *
sampler_scan(size_t *count)
{
	struct sampler_proc *v = NULL;
	struct procfs_stat st;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	*count = 0;
	if ((dir = opendir("/proc")) == NULL)
		return NULL;
	while ((d = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || procfs_read_stat((pid_t)pid,
		    &st) == -1)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n].pid = st.pid;
		v[n].ppid = st.ppid;
		v[n].session = st.session;
		v[n].user_ticks = st.utime + st.cutime;
		v[n].sys_ticks = st.stime + st.cstime;
		v[n].starttime = st.starttime;
		v[n].threads = st.num_threads;
		v[n].rss_pages = st.rss_pages;
		n++;
	}
	closedir(dir);
	qsort(v, n, sizeof *v, sampler_proc_cmp);
	*count = n;
	return v;
}

static const struct sampler_proc *
sampler_find_proc(const struct sampler_proc *v, size_t n, pid_t pid)
{
	struct sampler_proc key = { .pid = pid };

	return bsearch(&key, v, n, sizeof *v, sampler_proc_cmp);
}

/* A target's index by the PID leading its tree. */
struct sampler_root {
	pid_t pid;
	size_t target;
};

static int
sampler_root_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct sampler_root *)a)->pid;
	pid_t y = ((const struct sampler_root *)b)->pid;

	return (x > y) - (x < y);
}

static const struct sampler_root *
sampler_find_root(const struct sampler_root *v, size_t n, pid_t pid)
{
	struct sampler_root key = { .pid = pid, .target = 0 };

	return bsearch(&key, v, n, sizeof *v, sampler_root_cmp);
}

/*
 * The app a process belongs to: the one it descends from, or the one whose
 * session it is in (the app leader is a session leader: a daemon that
 * double-forked away from its parent is still in its session, while
 * re-parented to the supervisor). -1 when none.
 */
static long
sampler_owner(const struct sampler_proc *procs, size_t nprocs,
    const struct sampler_root *roots, size_t nroots,
    const struct sampler_proc *p)
{
	const struct sampler_root *r;

	if ((r = sampler_find_root(roots, nroots, p->session)) != NULL)
		return (long)r->target;
	for (int depth = 0; p != NULL && depth < SAMPLER_MAX_DEPTH; depth++) {
		if ((r = sampler_find_root(roots, nroots, p->pid)) != NULL)
			return (long)r->target;
		if (p->ppid <= 1)
			break;
		p = sampler_find_proc(procs, nprocs, p->ppid);
	}
	return -1;
}

/* Milliseconds since boot: the clock /proc's starttime counts on. */
static int64_t
sampler_boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Per target, while a round adds up its processes. */
struct sampler_sum {
	const struct sampler_proc *leader;
	unsigned long long user_ticks, sys_ticks;
	long long rss_kb, max_rss_kb, read_bytes, write_bytes;
	long procs, threads, fds;
	bool io_seen, fds_seen;
};

static void
sampler_add_proc(struct sampler_sum *sum, const struct sampler_proc *p,
    long page_kb)
{
	struct procfs_status ss;
	struct procfs_io io;
	long fds;

	sum->procs++;
	sum->threads += p->threads;
	sum->user_ticks += p->user_ticks;
	sum->sys_ticks += p->sys_ticks;
	sum->rss_kb += p->rss_pages * page_kb;
	if (procfs_read_status(p->pid, &ss) == 0 && ss.vm_hwm_kb > 0)
		sum->max_rss_kb += ss.vm_hwm_kb;
	if ((fds = procfs_count_fds(p->pid)) >= 0) {
		sum->fds += fds;
		sum->fds_seen = true;
	}
	if (procfs_read_io(p->pid, &io) == 0) {
		sum->read_bytes += io.read_bytes;
		sum->write_bytes += io.write_bytes;
		sum->io_seen = true;
	}
}

/* The CPU rate since the last round, or over the app's life for its first. */
static void
sampler_cpu_rate(const struct sampler *s, const char *id,
    const struct sampler_sum *sum, int64_t now_ms, int64_t boot_ms,
    struct sampler_sample *out, struct sampler_prev *next)
{
	long long user = procfs_ticks_to_ms(sum->user_ticks);
	long long sys = procfs_ticks_to_ms(sum->sys_ticks);
	struct sampler_prev key = { .id = (char *)id }, *prev;
	long long du = user, ds = sys;
	int64_t dt;

	prev = s->nprev > 0 ? bsearch(&key, s->prev, s->nprev,
	    sizeof *s->prev, sampler_prev_cmp) : NULL;
	if (prev != NULL) {
		/*
		 * A child reaped by the supervisor, not the app, takes its
		 * time away.
		 */
		du = user > prev->user_ms ? user - prev->user_ms : 0;
		ds = sys > prev->sys_ms ? sys - prev->sys_ms : 0;
		dt = now_ms - prev->at_ms;
	} else
		dt = boot_ms - procfs_ticks_to_ms(sum->leader->starttime);
	out->cpu_user_ms = user;
	out->cpu_sys_ms = sys;
	out->cpu_user_pct = dt > 0 ? 100.0 * (double)du / (double)dt : 0;
	out->cpu_sys_pct = dt > 0 ? 100.0 * (double)ds / (double)dt : 0;
	next->id = xstrdup(id);
	next->user_ms = user;
	next->sys_ms = sys;
	next->at_ms = now_ms;
}

size_t
sampler_measure(struct sampler *s, const struct sampler_target *targets,
    size_t n, int64_t now_ms, struct sampler_sample *out)
{
	struct sampler_root *roots = xcalloc(n + 1, sizeof *roots);
	struct sampler_sum *sums = xcalloc(n + 1, sizeof *sums);
	struct sampler_prev *next = xcalloc(n + 1, sizeof *next);
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	int64_t wall = util_wall_ms(), boot = sampler_boot_ms();
	size_t nprocs, nroots = 0, alive = 0;
	struct sampler_proc *procs = sampler_scan(&nprocs);

	for (size_t i = 0; i < n; i++) {
		if (targets[i].pid <= 1)
			continue;
		roots[nroots].pid = targets[i].pid;
		roots[nroots].target = i;
		nroots++;
		sums[i].leader = sampler_find_proc(procs, nprocs, targets[i].pid);
	}
	qsort(roots, nroots, sizeof *roots, sampler_root_cmp);
	for (size_t i = 0; i < nprocs; i++) {
		long t = sampler_owner(procs, nprocs, roots, nroots, &procs[i]);

		if (t >= 0 && sums[t].leader != NULL)
			sampler_add_proc(&sums[t], &procs[i], page_kb);
	}
	for (size_t i = 0; i < n; i++) {
		struct sampler_sample *o;

		if (sums[i].leader == NULL)
			continue;
		o = &out[alive];
		memset(o, 0, sizeof *o);
		snprintf(o->id, sizeof o->id, "%s", targets[i].id);
		o->t = wall;
		sampler_cpu_rate(s, targets[i].id, &sums[i], now_ms, boot, o,
		    &next[alive]);
		o->rss_kb = sums[i].rss_kb;
		o->max_rss_kb = sums[i].max_rss_kb;
		o->procs = sums[i].procs;
		o->threads = sums[i].threads;
		o->fds = sums[i].fds_seen ? sums[i].fds : -1;
		o->read_bytes = sums[i].io_seen ? sums[i].read_bytes : -1;
		o->write_bytes = sums[i].io_seen ? sums[i].write_bytes : -1;
		alive++;
	}
	/* What this round saw is the next one's base; the ended are forgotten. */
	sampler_free_prev(s->prev, s->nprev);
	qsort(next, alive, sizeof *next, sampler_prev_cmp);
	s->prev = next;
	s->nprev = alive;
	free(procs);
	free(roots);
	free(sums);
	return alive;
}

static void
sampler_push(struct sampler *s, const struct sampler_sample *sample)
{
	if (s->count == SAMPLER_QUEUE_MAX) {
		/* Full: the master has not taken any for long; lose the oldest. */
		s->head = (s->head + 1) % s->cap;
		s->count--;
		if (!s->dropping)
			log_warnx("the master has taken no resource samples "
			    "for a while: dropping the oldest of %d",
			    SAMPLER_QUEUE_MAX);
		s->dropping = true;
	}
	if (s->count == s->cap) {
		size_t cap = s->cap == 0 ? 256 : s->cap * 2;
		struct sampler_sample *ring;

		if (cap > SAMPLER_QUEUE_MAX)
			cap = SAMPLER_QUEUE_MAX;
		ring = xreallocarray(NULL, cap, sizeof *ring);
		for (size_t i = 0; i < s->count; i++)
			ring[i] = s->ring[(s->head + i) % s->cap];
		free(s->ring);
		s->ring = ring;
		s->cap = cap;
		s->head = 0;
	}
	s->ring[(s->head + s->count) % s->cap] = *sample;
	s->count++;
}

void
sampler_run(struct sampler *s, const struct sampler_target *targets,
    size_t n, int64_t now_ms)
{
	struct sampler_sample *out;
	size_t alive;

	if (s->interval_ms == 0)
		return;
	/* On the interval's grid: a late round does not shift the next ones. */
	while (s->next_ms <= now_ms)
		s->next_ms += s->interval_ms;
	if (n == 0) {
		sampler_free_prev(s->prev, s->nprev);
		s->prev = NULL;
		s->nprev = 0;
		return;
	}
	out = xcalloc(n, sizeof *out);
	alive = sampler_measure(s, targets, n, now_ms, out);
	for (size_t i = 0; i < alive; i++)
		sampler_push(s, &out[i]);
	free(out);
}

json_t *
sampler_sample_json(const struct sampler_sample *x)
{
	return jsonx_pack("{s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I}", "id", x->id, "t", (json_int_t)x->t,
	    "cpu_user_pct", x->cpu_user_pct, "cpu_sys_pct", x->cpu_sys_pct,
	    "rss_kb", (json_int_t)x->rss_kb,
	    "max_rss_kb", (json_int_t)x->max_rss_kb,
	    "procs", (json_int_t)x->procs, "threads", (json_int_t)x->threads,
	    "fds", (json_int_t)x->fds, "read_bytes", (json_int_t)x->read_bytes,
	    "write_bytes", (json_int_t)x->write_bytes);
}

json_t *
sampler_peek(const struct sampler *s, size_t max, size_t *count)
{
	json_t *list = json_array();
	size_t n = s->count < max ? s->count : max;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list,
		    sampler_sample_json(&s->ring[(s->head + i) % s->cap]));
	*count = n;
	return list;
}

void
sampler_drop(struct sampler *s, size_t count)
{
	if (count > s->count)
		count = s->count;
	if (s->cap > 0)
		s->head = (s->head + count) % s->cap;
	s->count -= count;
	if (count > 0)
		s->dropping = false;
}

size_t
sampler_queued(const struct sampler *s)
{
	return s->count;
}
