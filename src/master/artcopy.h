/*
 * Copies the master starts by itself: an installed artifact sent to a node
 * that lacks it from the master's own copy of its files (filestore.h), so
 * an app can be rescheduled there. The same messages and machinery as a
 * client's copy: ARTIFACT_HAVE (which files the node lacks), one transfer
 * per missing file (transfer.h), then ARTIFACT_INSTALL; the installed
 * artifact is recorded on the node like any other.
 */
#ifndef DROVER_ARTCOPY_H
#define DROVER_ARTCOPY_H

#include <jansson.h>
#include <stdbool.h>

struct master;
struct filestore;

/*
 * Called when the copy ended: error is NULL once the artifact is installed
 * and recorded on node, else why it failed. app and extra are what was
 * given to artcopy_start (borrowed for the call).
 */
typedef void artcopy_done_fn(struct master *, const char *node,
    const char *app, json_t *extra, const char *error);

/*
 * Whether the master's store holds every file of manifest (a manifest as
 * nodes report them: {"name", "files":[{"name","hash","size",...}]}).
 */
bool artcopy_can_send(struct filestore *, json_t *manifest);

/*
 * Copy the artifact manifest describes to node for app (why says what for,
 * in the events: "reschedule"). A copy of the same artifact to the same
 * node already under way is joined rather than started again. done is
 * called exactly once, never from here. Takes extra (may be NULL).
 * Returns 0, or -1 with *cause (allocated) when nothing could start.
 */
int artcopy_start(struct master *, const char *node, json_t *manifest,
    const char *why, artcopy_done_fn *done, const char *app, json_t *extra,
    char **cause);

/* Free every copy under way without calling anyone (shutdown). */
void artcopy_free_all(struct master *);

#endif
