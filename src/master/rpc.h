/* The master's side of the worker protocol: one dispatch table. */
#ifndef DROVER_MASTER_RPC_H
#define DROVER_MASTER_RPC_H

struct master;
struct msg;

/* Handle one message received from a worker; takes ownership of msg. */
void rpc_master_dispatch(struct master *m, struct msg *msg);

#endif
