/*
 * Scheduling: which node an app goes to (placement, shared by `launch auto`
 * and by apps moved off a lost node), and moving the apps of a lost node
 * whose restart policy asks for it, their artifact copied first to a node
 * that lacks it.
 *
 * A moved app keeps its id: the record points to the new node from the
 * moment it is chosen (state "starting", before a copy of its artifact or
 * the launch is sent), so a copy still running on the old node when it
 * comes back is known to be stale and is killed.
 */
#ifndef DROVER_SCHED_H
#define DROVER_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct master;
struct node;
struct app_record;
struct sched_usage;

/* What an app needs from a node. */
struct sched_want {
	const char *name;     /* instances of the same name are spread */
	const char *artifact; /* NULL: a path, present everywhere */
	double cpu;	      /* reserved cores */
	long long mem_mb;     /* reserved memory */
	json_t *exclude;      /* node names not to use (array), or NULL */
	/*
	 * What the recorded apps reserve on each node, from sched_usage_new
	 * with this name; NULL: read from the records at each placement.
	 * Shared by the instances of one launch (a launch with a count),
	 * placed in turn before any is recorded.
	 */
	const struct sched_usage *usage;
};

/*
 * Per node, what its live apps reserve and how many are called name: one
 * pass over the master's records, for placements that share it.
 */
struct sched_usage *sched_usage_new(struct master *m, const char *name);
/*
 * An instance placed on node and not recorded yet: it counts there as one
 * more of the name with these reservations, as if listed as starting.
 */
void sched_usage_add(struct sched_usage *, const char *node, double cpu,
    long long mem_mb);
void sched_usage_free(struct sched_usage *);

/*
 * The node for an app: among ready nodes that hold the artifact, are not
 * excluded and have room for the reservations, the one with the fewest
 * instances of the name, then the lowest load. Returns it with *reason
 * (allocated) saying why; or NULL with *why (allocated) saying why for
 * each node, and *never true when no node could ever hold the app (its
 * reservation exceeds the largest node).
 */
struct node *sched_place(struct master *m, const struct sched_want *want,
    char **reason, char **why, bool *never);

/*
 * node was lost and lost[] are its apps just marked dead: start again
 * elsewhere those whose policy is on-failure or always and whose restart
 * budget is not spent. Sends the launches at once (no REST call waits).
 * An app launched from an artifact goes preferably to a node holding it;
 * failing that, to one the master copies it to first, from its own copy
 * of the files (artcopy.h), then launches it there once installed.
 */
void sched_node_lost(struct master *m, const char *node,
    struct app_record **lost, size_t count);

/*
 * Node n reports app id alive, but the master's record of it is on another
 * node (the app was moved while n was out of reach): kill this copy with
 * SIGKILL, without waiting for the answer, and record an event. Does
 * nothing if a kill of that copy is already under way.
 */
void sched_stop_stale_copy(struct master *m, struct node *n, const char *id,
    json_t *report);

#endif
