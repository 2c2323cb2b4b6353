/*
 * The registry of nodes: each worker that joined, by name and by the ZeroMQ
 * connection it speaks on, with its state as the heartbeats decide it.
 */
#ifndef DROVER_NODE_H
#define DROVER_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

enum node_state {
	NODE_READY,
	NODE_UNAVAILABLE,
};

struct node {
	char *name;
	char *key;	/* the worker's CURVE public key (Z85), checked by ZAP */
	char *address;	/* the address the master sees it connect from */
	char *hostname;
	json_t *addresses; /* what the worker says its addresses are */
	char *version;
	char *arch;	/* uname -m of the node */
	int cpus;
	long long mem_total_kb;
	double cpu_pct;
	double mem_pct;
	int apps;
	unsigned char peer[MSG_PEER_MAX]; /* current connection's routing id */
	size_t peerlen;
	bool connected;	     /* peer is valid */
	int64_t last_seen;   /* monotonic ms of the last message */
	int64_t joined_at;   /* wall clock ms of the first registration */
	enum node_state state;
};

struct node_table;

struct node_table *node_table_new(void);
void node_table_free(struct node_table *);

struct node *node_find(struct node_table *, const char *name);
struct node *node_find_by_peer(struct node_table *, const unsigned char *peer,
    size_t peerlen);
size_t node_count(struct node_table *);

/*
 * Register name on the connection peer with public key key. A node of that
 * name that is ready under another key keeps its name: returns NULL with
 * *cause set. Otherwise the node is created or taken over (same key, or the
 * old one unavailable) and returned ready.
 */
struct node *node_register(struct node_table *, const char *name,
    const char *key, const unsigned char *peer, size_t peerlen,
    int64_t now, char **cause);

/*
 * A node known from the state database, before its worker reconnects: it
 * is listed unavailable until it registers again under its key.
 */
struct node *node_restore(struct node_table *, const char *name, json_t *record);
/* The registration facts worth keeping across master restarts. */
json_t *node_record(const struct node *);

/* Forget a connection (the worker said BYE): the node stays, unavailable. */
void node_disconnect(struct node_table *, struct node *);

/* A heartbeat arrived: returns true if the node was unavailable before. */
bool node_seen(struct node *, int64_t now);

/*
 * Declare unavailable every ready node that missed two heartbeats. Calls
 * on_change for each one. Returns how many changed.
 */
size_t node_sweep(struct node_table *, int64_t now, int heartbeat_ms,
    void (*on_change)(struct node *, void *), void *arg);

/* "ready" or "unavailable". */
const char *node_state_name(enum node_state);

/* The node as the REST API shows it. */
json_t *node_to_json(const struct node *, int64_t now);

/* All nodes sorted by name; the array is the caller's to free. */
struct node **node_list(struct node_table *, size_t *count);

/* A node name is 1 to 63 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool node_name_valid(const char *name);

#endif
