/*
 * The resource sampler: at a fixed interval, one pass over /proc measures
 * every live app's whole process tree (CPU as a rate, memory, processes,
 * threads, descriptors, I/O) and queues one sample per app. The samples ride
 * to the master on the heartbeats, a bounded batch at a time; the queue is
 * bounded too (the oldest go first) so an unreachable master costs nothing
 * but lost history.
 */
#ifndef DROVER_SAMPLER_H
#define DROVER_SAMPLER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The default interval, and the least one accepted (0 turns sampling off). */
#define SAMPLER_INTERVAL_DEFAULT_MS 5000
#define SAMPLER_INTERVAL_MIN_MS 100
/* Samples waiting for the master at most; then the oldest are dropped. */
#define SAMPLER_QUEUE_MAX 16384
/* Samples sent with one heartbeat at most (a heartbeat stays well < 1 MiB). */
#define SAMPLER_BATCH_MAX 1000

/* An app to sample: its id and the PID that leads its tree. */
struct sampler_target {
	const char *id;
	pid_t pid;
};

/* One app's figures at one moment. */
struct sampler_sample {
	char id[96];
	int64_t t;	     /* wall clock ms */
	double cpu_user_pct; /* % of one core since the last sample */
	double cpu_sys_pct;
	long long cpu_user_ms; /* the tree's totals so far (not sent) */
	long long cpu_sys_ms;
	long long rss_kb;
	long long max_rss_kb; /* VmHWM summed over the tree */
	long procs;
	long threads;
	long fds;		/* -1: unreadable */
	long long read_bytes;	/* -1: unreadable */
	long long write_bytes;
};

struct sampler;

/* interval_ms 0: never samples. */
struct sampler *sampler_new(int64_t interval_ms);
void sampler_free(struct sampler *);

/* When the next round is due on the monotonic clock; INT64_MAX when off. */
int64_t sampler_due(const struct sampler *);

/*
 * One round at now_ms (monotonic): measure each target's tree and queue its
 * sample. Apps no longer among the targets are forgotten.
 */
void sampler_run(struct sampler *, const struct sampler_target *, size_t n,
    int64_t now_ms);

/*
 * Measure one round into out (n entries) without queueing: the round's work,
 * for tests and benchmarks. Returns how many targets were found alive.
 */
size_t sampler_measure(struct sampler *, const struct sampler_target *,
    size_t n, int64_t now_ms, struct sampler_sample *out);

/* The oldest queued samples, at most max, as a JSON array (new reference). */
json_t *sampler_peek(const struct sampler *, size_t max, size_t *count);
/* Drop the count oldest (they reached the master). */
void sampler_drop(struct sampler *, size_t count);
size_t sampler_queued(const struct sampler *);

/* A sample as the wire and the REST API show it (new reference). */
json_t *sampler_sample_json(const struct sampler_sample *);

#endif
