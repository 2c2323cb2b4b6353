/* The worker's side of the protocol: one dispatch table. */
#ifndef DROVER_WORKER_RPC_H
#define DROVER_WORKER_RPC_H

struct worker;
struct msg;

/* Handle one message from the master; takes ownership of msg. */
void rpc_worker_dispatch(struct worker *w, struct msg *msg);

#endif
