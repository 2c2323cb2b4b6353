#include "master/zap.h"

#include <string.h>
#include <zmq.h>

#include "common/log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

void *
zap_open(void *zctx)
{
	void *sock;
	int linger = 0;

	if ((sock = zmq_socket(zctx, ZMQ_REP)) == NULL)
		fatal("zap socket");
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(sock, ZAP_ENDPOINT) == -1)
		fatal("zap bind %s", ZAP_ENDPOINT);
	return sock;
}

void
zap_close(void *sock)
{
	if (sock != NULL)
		zmq_close(sock);
}

/* Read one request of up to 8 frames (RFC 27); returns frame count or -1. */
static int
zap_read(void *sock, zmq_msg_t *frames, int max)
{
	int n = 0, more;
	size_t sz = sizeof more;

	do {
		zmq_msg_init(&frames[n < max ? n : max - 1]);
		if (zmq_msg_recv(&frames[n < max ? n : max - 1], sock,
			ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&frames[n < max ? n : max - 1]);
			return n == 0 ? -1 : n;
		}
		if (n < max)
			n++;
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
	} while (more);
	return n;
}

static void
zap_send_str(void *sock, const char *s, int more)
{
	zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

void
zap_handle(void *sock)
{
	zmq_msg_t f[8];
	char user[41] = "";
	char reqid[256];
	size_t reqlen;
	const char *status = "400", *text = "malformed ZAP request";
	int n;

	while ((n = zap_read(sock, f, 8)) > 0) {
		reqlen = 0;
		if (n >= 2) {
			reqlen = zmq_msg_size(&f[1]);
			if (reqlen > sizeof reqid)
				reqlen = sizeof reqid;
			memcpy(reqid, zmq_msg_data(&f[1]), reqlen);
		}
		/* [version, id, domain, address, identity, mechanism, key] */
		if (n == 7 && zmq_msg_size(&f[5]) == 5 &&
		    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
		    zmq_msg_size(&f[6]) == 32) {
			zmq_z85_encode(user, zmq_msg_data(&f[6]), 32);
			status = "200";
			text = "OK";
		}
		for (int i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
		zap_send_str(sock, "1.0", 1);
		zmq_send(sock, reqid, reqlen, ZMQ_SNDMORE);
		zap_send_str(sock, status, 1);
		zap_send_str(sock, text, 1);
		zap_send_str(sock, user, 1);
		zmq_send(sock, "", 0, 0);
		status = "400";
		text = "malformed ZAP request";
		user[0] = '\0';
	}
}
