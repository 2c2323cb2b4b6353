/* Log streams from workers to HTTP clients (api-logs.c). */
#ifndef DROVER_LOGPIPE_H
#define DROVER_LOGPIPE_H

struct master;
struct node;
struct msg;

/* A LOG_DATA chunk arrived from node. */
void logpipe_data(struct master *, struct node *, struct msg *);
/* An ERROR reply to a LOGS request: returns 1 if it was one. */
int logpipe_error(struct master *, struct msg *);
/* The node is gone: end its streams. */
void logpipe_node_lost(struct master *, const char *node);
/* Shutdown: end every stream so no connection stays suspended. */
void logpipe_end_all(struct master *);

#endif
