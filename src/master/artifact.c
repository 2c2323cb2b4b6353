#include "master/artifact.h"

#include <czmq.h>
#include <string.h>

#include "common/xmem.h"

struct artifact_registry {
	zhashx_t *by_node; /* node -> JSON object name -> manifest */
};

static void
artifact_node_free(void **item)
{
	json_decref(*item);
	*item = NULL;
}

struct artifact_registry *
artifact_registry_new(void)
{
	struct artifact_registry *r = xcalloc(1, sizeof *r);

	r->by_node = zhashx_new();
	zhashx_set_destructor(r->by_node, artifact_node_free);
	return r;
}

void
artifact_registry_free(struct artifact_registry *r)
{
	if (r == NULL)
		return;
	zhashx_destroy(&r->by_node);
	free(r);
}

static json_t *
artifact_node(struct artifact_registry *r, const char *node)
{
	json_t *n = zhashx_lookup(r->by_node, node);

	if (n == NULL) {
		n = json_object();
		zhashx_insert(r->by_node, node, n);
	}
	return n;
}

void
artifact_set_node(struct artifact_registry *r, const char *node,
    json_t *manifests)
{
	json_t *n = json_object(), *m;
	size_t i;

	json_array_foreach(manifests, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));

		if (name != NULL)
			json_object_set(n, name, m);
	}
	zhashx_update(r->by_node, node, n);
}

void
artifact_put(struct artifact_registry *r, const char *node, json_t *manifest)
{
	const char *name = json_string_value(json_object_get(manifest, "name"));

	if (name == NULL) {
		json_decref(manifest);
		return;
	}
	json_object_set_new(artifact_node(r, node), name, manifest);
}

void
artifact_remove(struct artifact_registry *r, const char *node, const char *name)
{
	json_t *n = zhashx_lookup(r->by_node, node);

	if (n != NULL)
		json_object_del(n, name);
}

json_t *
artifact_find(struct artifact_registry *r, const char *node, const char *name)
{
	json_t *n = zhashx_lookup(r->by_node, node);

	return n != NULL ? json_object_get(n, name) : NULL;
}

json_t *
artifact_find_any(struct artifact_registry *r, const char *name,
    const char *prefer, const char **node)
{
	json_t *n, *m;

	if (prefer != NULL && (m = artifact_find(r, prefer, name)) != NULL) {
		*node = prefer;
		return m;
	}
	for (n = zhashx_first(r->by_node); n != NULL;
	     n = zhashx_next(r->by_node)) {
		if ((m = json_object_get(n, name)) != NULL) {
			*node = zhashx_cursor(r->by_node);
			return m;
		}
	}
	*node = NULL;
	return NULL;
}

json_t *
artifact_file_hashes(struct artifact_registry *r)
{
	json_t *used = json_object(), *n, *m, *f;
	const char *name;
	size_t i;

	for (n = zhashx_first(r->by_node); n != NULL;
	     n = zhashx_next(r->by_node)) {
		json_object_foreach(n, name, m) {
			json_array_foreach(json_object_get(m, "files"), i, f) {
				const char *h = json_string_value(
				    json_object_get(f, "hash"));

				if (h != NULL)
					json_object_set_new(used, h, json_true());
			}
		}
	}
	return used;
}

static void
artifact_list_node(json_t *out, const char *node, json_t *n)
{
	const char *name;
	json_t *m;

	json_object_foreach(n, name, m) {
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:O, s:O}",
		    "name", name, "node", node,
		    "files", (json_int_t)json_array_size(json_object_get(m,
			"files")),
		    "size", json_object_get(m, "size") != NULL ?
			json_object_get(m, "size") : json_null(),
		    "hash", json_object_get(m, "hash") != NULL ?
			json_object_get(m, "hash") : json_null()));
	}
}

json_t *
artifact_list(struct artifact_registry *r, const char *node)
{
	json_t *out = json_array(), *n;

	if (node != NULL) {
		if ((n = zhashx_lookup(r->by_node, node)) != NULL)
			artifact_list_node(out, node, n);
		return out;
	}
	for (n = zhashx_first(r->by_node); n != NULL;
	     n = zhashx_next(r->by_node))
		artifact_list_node(out, zhashx_cursor(r->by_node), n);
	return out;
}
