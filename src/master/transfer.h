/*
 * Artifact uploads (api-artifacts.c): a client's file, streamed through the
 * master to every node that lacks it, each node granting credit for the
 * chunks it will take. These are the hooks the worker messages arrive by.
 */
#ifndef DROVER_TRANSFER_H
#define DROVER_TRANSFER_H

#include <stdint.h>

struct master;
struct node;
struct msg;

void transfer_credit(struct master *, struct node *, struct msg *); /* FILE_CREDIT */
void transfer_done(struct master *, struct node *, struct msg *);   /* FILE_DONE */
/* An ERROR reply to a file message: returns 1 if it was one. */
int transfer_error(struct master *, struct node *, struct msg *);
/* The node is gone: its part of every transfer fails. */
void transfer_node_lost(struct master *, const char *node);
/* Forget upload sessions idle for too long. */
void transfer_expire(struct master *, int64_t now);
/* Answer or release every upload request (before the HTTP server stops). */
void transfer_shutdown(struct master *);
/* Free everything (shutdown). */
void transfer_free_all(struct master *);

#endif
