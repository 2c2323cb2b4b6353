/*
 * The apps' resource history on the master: the samples workers send with
 * their heartbeats go into the state database, and a slow round over the
 * apps applies the retention (db.h: raw for a day, minute averages for 30
 * days) a few apps per tick, so no loop turn stalls on it.
 */
#ifndef DROVER_HISTORY_H
#define DROVER_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include <stdbool.h>
#include <stddef.h>

struct master;
struct node;

/* Where the retention round is: the next app, and when the round began. */
struct history_round {
	size_t next;
	int64_t started_at; /* monotonic ms; 0 before the first */
	bool running;
};

/*
 * One sample of a heartbeat, checked field by field: *id borrowed from o.
 * Returns 0, or -1 with *cause (allocated).
 */
struct db_sample;
int history_parse_sample(json_t *o, const char **id, struct db_sample *s,
    char **cause);
/* Store a heartbeat's "samples" from node (bad ones are skipped, logged). */
void history_store(struct master *, struct node *, json_t *samples);
/* Retention work due at now (monotonic ms): called every loop tick. */
void history_tick(struct master *, int64_t now);

#endif
