/*
 * The ZAP handler: libzmq asks it, for every CURVE handshake, whether the
 * client's key may connect. drover lets any key finish the handshake (the
 * join secret, checked at HELLO, decides who joins) but records the key as
 * the connection's User-Id, so the master knows which verified key sent each
 * message and a worker's name stays bound to its key.
 */
#ifndef DROVER_ZAP_H
#define DROVER_ZAP_H

/* Bind the handler socket on ctx; must happen before the ROUTER binds. */
void *zap_open(void *zctx);
/* Answer every waiting request (call when the socket is readable). */
void zap_handle(void *sock);
void zap_close(void *sock);

#endif
