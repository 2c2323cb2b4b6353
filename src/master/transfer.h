/*
 * File transfers to workers: one file, named by its hash, streamed to one
 * or more nodes in PROTO_CHUNK_SIZE chunks (FILE_BEGIN, FILE_CHUNK...,
 * FILE_END), each node granting credit for the chunks it will take
 * (FILE_CREDIT) and confirming the stored and verified file (FILE_DONE).
 *
 * The bytes come from one of two sources:
 * - a client's upload (PUT /v1/uploads/ID/HASH, api-artifacts.c), fed as
 *   they arrive with transfer_feed, the HTTP upload paused while a node has
 *   no credit; the transfer may also keep them in the master's file store;
 * - the master's own copy of the file (artcopy.c), read as credit allows.
 * Neither side ever holds more than a chunk per transfer in memory.
 */
#ifndef DROVER_TRANSFER_H
#define DROVER_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct master;
struct node;
struct msg;
struct api_request;
struct filestore_writer;

enum transfer_state {
	TRANSFER_BEGUN,	 /* BEGIN sent */
	TRANSFER_ENDING, /* END sent, DONE awaited */
	TRANSFER_DONE,	 /* stored and verified by the node */
	TRANSFER_FAILED,
};

struct transfer_target {
	char *node;
	int credit; /* chunks the node will still take */
	enum transfer_state state;
	char *error; /* why it failed */
};

struct transfer {
	char id[16];
	uint32_t request_id; /* carried by BEGIN/CHUNK/END, so errors find it */
	struct master *m;
	char hash[65];
	unsigned long long size;
	unsigned long long taken; /* bytes taken from the source */
	struct transfer_target *targets;
	int ntargets;
	unsigned char *buf; /* one chunk being filled */
	size_t buflen;
	struct api_request *req; /* a client's upload: unpaused on credit */
	int fd;			 /* the master's copy being sent, or -1 */
	struct filestore_writer *keep; /* the master's copy being written */
	char *keep_error;	 /* why the master keeps no copy, if it tried */
	bool kept;		 /* the master's copy was written and verified */
	char *error;		 /* the source failed (too many bytes, a read) */
	bool input_done;	 /* the source has given everything */
	bool finished;		 /* done was called */
	void (*done)(struct transfer *, void *arg);
	void *arg;
	struct transfer *next;
};

/*
 * A new transfer of the file hash (size bytes) to nodes: BEGIN goes to each
 * now (a node it cannot reach is a failed target already). done(t, arg) is
 * called once, when the source has given everything and every target has
 * finished one way or the other; it may free t. Never called from here.
 */
struct transfer *transfer_new(struct master *, const char *hash,
    unsigned long long size, const char *const *nodes, int nnodes,
    void (*done)(struct transfer *, void *), void *arg);
/*
 * Client source: take bytes; returns how many were taken (0: no room until
 * a node grants credit; the caller pauses the upload). Bytes beyond the
 * announced size set t->error and are dropped.
 */
size_t transfer_feed(struct transfer *, const void *data, size_t len);
/* Client source: the last byte came. Flushes, ENDs; may call done. */
void transfer_end_input(struct transfer *);
/*
 * File source: send the file open on fd (taken) as credit arrives. Call
 * right after transfer_new; done is never called from here.
 */
void transfer_send_fd(struct transfer *, int fd);
/* Unlink and free t; its unfinished targets are told to abort. */
void transfer_free(struct transfer *);

/* Hooks for the worker messages (rpc.c) and the node's loss (master.c). */
void transfer_credit(struct master *, struct node *, struct msg *); /* FILE_CREDIT */
void transfer_done(struct master *, struct node *, struct msg *);   /* FILE_DONE */
/* An ERROR reply to a file message: returns 1 if it was one. */
int transfer_error(struct master *, struct node *, struct msg *);
/* The node is gone: its part of every transfer fails. */
void transfer_node_lost(struct master *, const char *node);
/* Answer or release every client upload (before the HTTP server stops). */
void transfer_shutdown(struct master *);
/* Free the transfers no request owns (shutdown). */
void transfer_free_all(struct master *);

#endif
