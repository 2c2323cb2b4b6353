/*
 * What is installed where: each node's artifacts as its worker reported them
 * (at HELLO, and after each install or delete), keyed by node and name.
 */
#ifndef DROVER_ARTIFACT_H
#define DROVER_ARTIFACT_H

#include <jansson.h>

struct artifact_registry;

struct artifact_registry *artifact_registry_new(void);
void artifact_registry_free(struct artifact_registry *);

/* Replace everything known of node with the manifests it reported. */
void artifact_set_node(struct artifact_registry *, const char *node,
    json_t *manifests);
/* Record one installed artifact (takes manifest). */
void artifact_put(struct artifact_registry *, const char *node,
    json_t *manifest);
void artifact_remove(struct artifact_registry *, const char *node,
    const char *name);
/* The manifest of name on node (borrowed), or NULL. */
json_t *artifact_find(struct artifact_registry *, const char *node,
    const char *name);
/*
 * The manifest of name on node prefer if it holds it, else on any node
 * (borrowed), with that node's name in *node (prefer itself, or borrowed
 * from the registry); NULL if no node holds it.
 */
json_t *artifact_find_any(struct artifact_registry *, const char *name,
    const char *prefer, const char **node);
/* Every file hash a manifest on any node uses: a new {hash: true} object. */
json_t *artifact_file_hashes(struct artifact_registry *);
/* [{"name","node","files","size","hash"}] for node (NULL: every node). */
json_t *artifact_list(struct artifact_registry *, const char *node);

#endif
