/*
 * Prometheus metrics: the master's own counters, and the text exposition
 * (format 0.0.4) of those, of every node and of every app it knows.
 */
#ifndef DROVER_METRICS_H
#define DROVER_METRICS_H

#include <stdint.h>

struct master;
struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *);

/* A REST call was answered: endpoint is its route ("/v1/apps/:id"). */
void metrics_count_request(struct metrics *, const char *method,
    const char *endpoint, int code, double seconds);
void metrics_count_heartbeat(struct metrics *);
void metrics_count_launch(struct metrics *, int ok);

/* The whole exposition, newly allocated (caller frees). */
char *metrics_render(struct master *);

#endif
