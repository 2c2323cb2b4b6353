/*
 * The message layer: builds, sends, receives and parses every message
 * between master and worker (see proto.h for the wire format).
 */
#ifndef DROVER_MSG_H
#define DROVER_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

#define MSG_PEER_MAX 256
#define MSG_HEADER_LEN 8

struct msg {
	int type;
	uint32_t id;
	json_t *body; /* owned; always a JSON object */
	unsigned char *data; /* owned binary frame, NULL when absent */
	size_t len;
	/* Master side only: the connection it came from (ROUTER routing id). */
	unsigned char peer[MSG_PEER_MAX];
	size_t peerlen;
	char *peer_key;	 /* owned: the peer's CURVE public key as checked by ZAP */
	char *peer_addr; /* owned: the peer's IP address */
};

/* One frame of a multipart message, for msg_decode (tests and fuzzing). */
struct msg_frame {
	const void *data;
	size_t len;
};

/* A new message owning body (a NULL body becomes {}). */
struct msg *msg_new(int type, uint32_t id, json_t *body);
/* A reply to req: same id and peer. */
struct msg *msg_reply(const struct msg *req, int type, json_t *body);
/* An ERROR reply to req with a formatted text. */
struct msg *msg_error_reply(const struct msg *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Attach a copy of data as the binary frame. */
void msg_set_data(struct msg *m, const void *data, size_t len);
void msg_free(struct msg *m);

/* The message's name for logs ("HEARTBEAT", "unknown(77)"). */
const char *msg_type_name(int type);
bool msg_type_known(int type);

/*
 * Parse the frames of one message (without the routing id). Returns a new
 * message, or NULL with *cause set (caller frees) when it is malformed,
 * oversized, of another protocol version or of an unknown type.
 */
struct msg *msg_decode(const struct msg_frame *frames, size_t nframes,
    char **cause);
/*
 * Encode m's header into hdr (MSG_HEADER_LEN bytes) and its JSON into a new
 * string the caller frees.
 */
char *msg_encode(const struct msg *m, unsigned char *hdr, size_t *jsonlen);

/*
 * Send m on a ZeroMQ socket without blocking. With with_peer (ROUTER), the
 * message goes to m->peer. Returns 0, or -1 with errno (EAGAIN at the high
 * water mark, EHOSTUNREACH for a peer that is gone).
 */
int msg_send(void *sock, const struct msg *m, bool with_peer);

/*
 * Receive one message without blocking. Returns 1 with *out set, 0 when
 * nothing is waiting, -1 when a malformed message was read and discarded
 * (*cause says why; *out is then a stub with only peer, type and id filled
 * so the caller can log and answer it, or NULL if even that was unreadable).
 */
int msg_recv(void *sock, bool with_peer, struct msg **out, char **cause);

/* Typed body getters: see jsonx.h for the return convention. */
int msg_get_str(const struct msg *m, const char *key, bool required,
    const char **out, char **cause);
int msg_get_int(const struct msg *m, const char *key, bool required,
    long long min, long long max, long long *out, char **cause);

#endif
