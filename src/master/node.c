#include "master/node.h"

#include <czmq.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

struct node_table {
	zhashx_t *by_name; /* name -> node, owns the nodes */
	zhashx_t *by_peer; /* hex routing id -> node, borrows */
};

static void
node_free(void **item)
{
	struct node *n = *item;

	if (n == NULL)
		return;
	free(n->name);
	free(n->key);
	free(n->address);
	free(n->hostname);
	free(n->version);
	free(n->arch);
	json_decref(n->addresses);
	free(n);
	*item = NULL;
}

struct node_table *
node_table_new(void)
{
	struct node_table *t = xcalloc(1, sizeof *t);

	t->by_name = zhashx_new();
	t->by_peer = zhashx_new();
	zhashx_set_destructor(t->by_name, node_free);
	return t;
}

void
node_table_free(struct node_table *t)
{
	if (t == NULL)
		return;
	zhashx_destroy(&t->by_peer);
	zhashx_destroy(&t->by_name);
	free(t);
}

/* Routing ids are binary; the hash wants a string key. */
static void
node_peer_key(const unsigned char *peer, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (len > MSG_PEER_MAX)
		len = MSG_PEER_MAX;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[peer[i] >> 4];
		out[2 * i + 1] = hex[peer[i] & 15];
	}
	out[2 * len] = '\0';
}

struct node *
node_find(struct node_table *t, const char *name)
{
	return zhashx_lookup(t->by_name, name);
}

struct node *
node_find_by_peer(struct node_table *t, const unsigned char *peer,
    size_t peerlen)
{
	char key[2 * MSG_PEER_MAX + 1];

	node_peer_key(peer, peerlen, key);
	return zhashx_lookup(t->by_peer, key);
}

size_t
node_count(struct node_table *t)
{
	return zhashx_size(t->by_name);
}

bool
node_name_valid(const char *name)
{
	return util_name_valid(name, 63, "._-");
}

void
node_disconnect(struct node_table *t, struct node *n)
{
	char key[2 * MSG_PEER_MAX + 1];

	if (n->connected) {
		node_peer_key(n->peer, n->peerlen, key);
		zhashx_delete(t->by_peer, key);
	}
	n->connected = false;
	n->state = NODE_UNAVAILABLE;
}

struct node *
node_register(struct node_table *t, const char *name, const char *key,
    const unsigned char *peer, size_t peerlen, int64_t now, char **cause)
{
	char peerkey[2 * MSG_PEER_MAX + 1];
	struct node *n, *other;

	n = zhashx_lookup(t->by_name, name);
	if (n != NULL && n->state == NODE_READY && strcmp(n->key, key) != 0) {
		*cause = xasprintf("the name '%s' is in use by a ready node at "
		    "%s (another key); stop it or choose another --name",
		    name, n->address != NULL ? n->address : "?");
		return NULL;
	}
	/* This connection may have registered under another name before. */
	other = node_find_by_peer(t, peer, peerlen);
	if (other != NULL && other != n)
		node_disconnect(t, other);

	if (n == NULL) {
		n = xcalloc(1, sizeof *n);
		n->name = xstrdup(name);
		n->joined_at = util_wall_ms();
		zhashx_insert(t->by_name, name, n);
	} else if (n->connected)
		node_disconnect(t, n);
	free(n->key);
	n->key = xstrdup(key);
	memcpy(n->peer, peer, peerlen);
	n->peerlen = peerlen;
	n->connected = true;
	node_peer_key(peer, peerlen, peerkey);
	zhashx_update(t->by_peer, peerkey, n);
	n->state = NODE_READY;
	n->last_seen = now;
	return n;
}

struct node *
node_restore(struct node_table *t, const char *name, json_t *r)
{
	struct node *n;
	const char *s;

	if (node_find(t, name) != NULL || !node_name_valid(name))
		return NULL;
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(name);
	n->key = xstrdup((s = json_string_value(json_object_get(r, "key"))) !=
	    NULL ? s : "");
	if ((s = json_string_value(json_object_get(r, "address"))) != NULL)
		n->address = xstrdup(s);
	if ((s = json_string_value(json_object_get(r, "hostname"))) != NULL)
		n->hostname = xstrdup(s);
	if ((s = json_string_value(json_object_get(r, "arch"))) != NULL)
		n->arch = xstrdup(s);
	n->cpus = (int)json_integer_value(json_object_get(r, "cpus"));
	n->mem_total_kb = json_integer_value(json_object_get(r,
	    "mem_total_kb"));
	n->joined_at = json_integer_value(json_object_get(r, "joined_at"));
	n->state = NODE_UNAVAILABLE;
	n->last_seen = util_now_ms() - 3600 * 1000;
	zhashx_insert(t->by_name, name, n);
	return n;
}

json_t *
node_record(const struct node *n)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:I, s:I}", "key", n->key,
	    "address", n->address, "hostname", n->hostname, "arch", n->arch,
	    "cpus", n->cpus, "mem_total_kb", (json_int_t)n->mem_total_kb,
	    "joined_at", (json_int_t)n->joined_at);
}

bool
node_seen(struct node *n, int64_t now)
{
	bool was_unavailable = n->state == NODE_UNAVAILABLE;

	n->last_seen = now;
	n->state = NODE_READY;
	return was_unavailable;
}

size_t
node_sweep(struct node_table *t, int64_t now, int heartbeat_ms,
    void (*on_change)(struct node *, void *), void *arg)
{
	/*
	 * A node is lost after two consecutive missed heartbeats: the last one
	 * arrived at last_seen, the next two were due at last_seen + 1 and + 2
	 * intervals. Half an interval of slack absorbs scheduling jitter on
	 * both sides, so a node is never declared lost while its second
	 * heartbeat is merely a few milliseconds late.
	 */
	int64_t limit = 2 * (int64_t)heartbeat_ms + heartbeat_ms / 2;
	struct node **lost = NULL;
	size_t changed = 0, cap = 0;

	for (struct node *n = zhashx_first(t->by_name); n != NULL;
	     n = zhashx_next(t->by_name)) {
		if (n->state != NODE_READY || now - n->last_seen <= limit)
			continue;
		n->state = NODE_UNAVAILABLE;
		if (changed == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			lost = xreallocarray(lost, cap, sizeof *lost);
		}
		lost[changed++] = n;
	}
	/*
	 * Called after the walk: on_change may walk the table itself (placing
	 * the lost node's apps elsewhere), which would move the hash's cursor.
	 */
	for (size_t i = 0; i < changed && on_change != NULL; i++)
		on_change(lost[i], arg);
	free(lost);
	return changed;
}

const char *
node_state_name(enum node_state s)
{
	return s == NODE_READY ? "ready" : "unavailable";
}

json_t *
node_to_json(const struct node *n, int64_t now)
{
	json_t *j = json_object();

	json_object_set_new(j, "name", json_string(n->name));
	json_object_set_new(j, "address",
	    n->address != NULL ? json_string(n->address) : json_null());
	json_object_set_new(j, "hostname",
	    n->hostname != NULL ? json_string(n->hostname) : json_null());
	json_object_set_new(j, "addresses",
	    n->addresses != NULL ? json_incref(n->addresses) : json_array());
	json_object_set_new(j, "state", json_string(node_state_name(n->state)));
	json_object_set_new(j, "last_seen_ms", json_integer(now - n->last_seen));
	json_object_set_new(j, "cpu_pct", json_real(n->cpu_pct));
	json_object_set_new(j, "mem_pct", json_real(n->mem_pct));
	json_object_set_new(j, "cpus", json_integer(n->cpus));
	json_object_set_new(j, "mem_total_kb", json_integer(n->mem_total_kb));
	json_object_set_new(j, "apps", json_integer(n->apps));
	json_object_set_new(j, "arch",
	    n->arch != NULL ? json_string(n->arch) : json_null());
	json_object_set_new(j, "version",
	    n->version != NULL ? json_string(n->version) : json_null());
	json_object_set_new(j, "joined_at", json_integer(n->joined_at));
	return j;
}

static int
node_compare_names(const void *a, const void *b)
{
	const struct node *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

struct node **
node_list(struct node_table *t, size_t *count)
{
	size_t n = zhashx_size(t->by_name), i = 0;
	struct node **v = xcalloc(n + 1, sizeof *v);

	for (struct node *nd = zhashx_first(t->by_name); nd != NULL;
	     nd = zhashx_next(t->by_name))
		v[i++] = nd;
	qsort(v, i, sizeof *v, node_compare_names);
	*count = i;
	return v;
}
