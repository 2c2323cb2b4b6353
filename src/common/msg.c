#include "common/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/xmem.h"

/* More frames than this is never a drover message (routing id + 3). */
#define MSG_FRAMES_MAX 4

static const struct {
	int type;
	const char *name;
} msg_types[] = {
	{ MSG_HELLO, "HELLO" },
	{ MSG_WELCOME, "WELCOME" },
	{ MSG_REFUSED, "REFUSED" },
	{ MSG_HEARTBEAT, "HEARTBEAT" },
	{ MSG_REREGISTER, "REREGISTER" },
	{ MSG_BYE, "BYE" },
	{ MSG_ERROR, "ERROR" },
	{ MSG_LAUNCH, "LAUNCH" },
	{ MSG_LAUNCHED, "LAUNCHED" },
	{ MSG_SIGNAL, "SIGNAL" },
	{ MSG_SIGNALED, "SIGNALED" },
	{ MSG_APP_STATE, "APP_STATE" },
	{ MSG_PS, "PS" },
	{ MSG_APPS, "APPS" },
	{ MSG_ARTIFACT_HAVE, "ARTIFACT_HAVE" },
	{ MSG_ARTIFACT_HAVE_REPLY, "ARTIFACT_HAVE_REPLY" },
	{ MSG_FILE_BEGIN, "FILE_BEGIN" },
	{ MSG_FILE_CHUNK, "FILE_CHUNK" },
	{ MSG_FILE_CREDIT, "FILE_CREDIT" },
	{ MSG_FILE_END, "FILE_END" },
	{ MSG_FILE_DONE, "FILE_DONE" },
	{ MSG_ARTIFACT_INSTALL, "ARTIFACT_INSTALL" },
	{ MSG_ARTIFACT_INSTALLED, "ARTIFACT_INSTALLED" },
	{ MSG_ARTIFACT_DELETE, "ARTIFACT_DELETE" },
	{ MSG_ARTIFACT_DELETED, "ARTIFACT_DELETED" },
	{ MSG_FILE_ABORT, "FILE_ABORT" },
	{ MSG_USAGE, "USAGE" },
	{ MSG_USAGE_REPLY, "USAGE_REPLY" },
	{ MSG_LOGS, "LOGS" },
	{ MSG_LOG_DATA, "LOG_DATA" },
	{ MSG_LOG_CREDIT, "LOG_CREDIT" },
	{ MSG_LOG_CANCEL, "LOG_CANCEL" },
};

const char *
msg_type_name(int type)
{
	static char unknown[32];

	for (size_t i = 0; i < sizeof msg_types / sizeof msg_types[0]; i++)
		if (msg_types[i].type == type)
			return msg_types[i].name;
	snprintf(unknown, sizeof unknown, "unknown(%d)", type);
	return unknown;
}

bool
msg_type_known(int type)
{
	for (size_t i = 0; i < sizeof msg_types / sizeof msg_types[0]; i++)
		if (msg_types[i].type == type)
			return true;
	return false;
}

struct msg *
msg_new(int type, uint32_t id, json_t *body)
{
	struct msg *m = xcalloc(1, sizeof *m);

	m->type = type;
	m->id = id;
	m->body = body != NULL ? body : json_object();
	return m;
}

struct msg *
msg_reply(const struct msg *req, int type, json_t *body)
{
	struct msg *m = msg_new(type, req->id, body);

	memcpy(m->peer, req->peer, req->peerlen);
	m->peerlen = req->peerlen;
	return m;
}

struct msg *
msg_error_reply(const struct msg *req, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return msg_reply(req, MSG_ERROR,
	    jsonx_pack("{s:s, s:s}", "error", text, "type",
		msg_type_name(req->type)));
}

void
msg_set_data(struct msg *m, const void *data, size_t len)
{
	free(m->data);
	m->data = xmalloc(len);
	memcpy(m->data, data, len);
	m->len = len;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	json_decref(m->body);
	free(m->data);
	free(m->peer_key);
	free(m->peer_addr);
	free(m);
}

static void
msg_put_u16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
msg_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

char *
msg_encode(const struct msg *m, unsigned char *hdr, size_t *jsonlen)
{
	char *json;

	hdr[0] = PROTO_MAGIC;
	hdr[1] = PROTO_VERSION;
	msg_put_u16(hdr + 2, (unsigned)m->type);
	msg_put_u32(hdr + 4, m->id);
	if ((json = json_dumps(m->body, JSON_COMPACT)) == NULL)
		fatalx("msg_encode: cannot serialise %s", msg_type_name(m->type));
	*jsonlen = strlen(json);
	return json;
}

struct msg *
msg_decode(const struct msg_frame *frames, size_t nframes, char **cause)
{
	const unsigned char *h;
	json_error_t jerr;
	struct msg *m;
	json_t *body;
	int type;

	if (nframes < 2 || nframes > 3) {
		*cause = xasprintf("expected 2 or 3 frames, got %zu", nframes);
		return NULL;
	}
	if (frames[0].len != MSG_HEADER_LEN) {
		*cause = xasprintf("header frame of %zu bytes (expected %d)",
		    frames[0].len, MSG_HEADER_LEN);
		return NULL;
	}
	h = frames[0].data;
	if (h[0] != PROTO_MAGIC) {
		*cause = xstrdup("not a drover message (bad magic byte)");
		return NULL;
	}
	if (h[1] != PROTO_VERSION) {
		*cause = xasprintf("protocol version %u (this side speaks %d)",
		    h[1], PROTO_VERSION);
		return NULL;
	}
	type = (h[2] << 8) | h[3];
	if (!msg_type_known(type)) {
		*cause = xasprintf("unknown message type %d", type);
		return NULL;
	}
	if (frames[1].len > PROTO_JSON_MAX) {
		*cause = xasprintf("%s: JSON frame of %zu bytes over the limit",
		    msg_type_name(type), frames[1].len);
		return NULL;
	}
	if (nframes == 3 && frames[2].len > PROTO_DATA_MAX) {
		*cause = xasprintf("%s: data frame of %zu bytes over the limit",
		    msg_type_name(type), frames[2].len);
		return NULL;
	}
	body = json_loadb(frames[1].data, frames[1].len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL) {
		*cause = xasprintf("%s: bad JSON: %s", msg_type_name(type), jerr.text);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		*cause = xasprintf("%s: JSON frame is not an object",
		    msg_type_name(type));
		return NULL;
	}
	m = msg_new(type, ((uint32_t)h[4] << 24) | ((uint32_t)h[5] << 16) |
		((uint32_t)h[6] << 8) | h[7], body);
	if (nframes == 3)
		msg_set_data(m, frames[2].data, frames[2].len);
	return m;
}

int
msg_send(void *sock, const struct msg *m, bool with_peer)
{
	unsigned char hdr[MSG_HEADER_LEN];
	size_t jsonlen;
	char *json;
	int more = m->data != NULL ? ZMQ_SNDMORE : 0, rc = -1;

	json = msg_encode(m, hdr, &jsonlen);
	if (with_peer &&
	    zmq_send(sock, m->peer, m->peerlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
		goto out;
	/*
	 * Once the first frame is queued ZeroMQ accepts the rest atomically,
	 * so a failure below can only be the first frame's.
	 */
	if (zmq_send(sock, hdr, sizeof hdr, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
		goto out;
	if (zmq_send(sock, json, jsonlen, more | ZMQ_DONTWAIT) == -1)
		goto out;
	if (m->data != NULL && zmq_send(sock, m->data, m->len, ZMQ_DONTWAIT) == -1)
		goto out;
	log_trace(TRACE_MSG, "sent %s id %u (%zu+%zu bytes)",
	    msg_type_name(m->type), m->id, jsonlen, m->len);
	rc = 0;
out:
	free(json);
	return rc;
}

/* Read a peer's metadata property from a received frame, if there is one. */
static char *
msg_frame_property(zmq_msg_t *frame, const char *name)
{
	const char *v = zmq_msg_gets(frame, name);

	return v != NULL ? xstrdup(v) : NULL;
}

int
msg_recv(void *sock, bool with_peer, struct msg **out, char **cause)
{
	zmq_msg_t parts[MSG_FRAMES_MAX + 1];
	struct msg_frame frames[MSG_FRAMES_MAX];
	size_t n = 0, first = with_peer ? 1 : 0, extra = 0;
	int more, rc;
	size_t moresz = sizeof more;
	struct msg *m;

	*out = NULL;
	*cause = NULL;
	for (;;) {
		zmq_msg_t *part = &parts[n < MSG_FRAMES_MAX ? n : MSG_FRAMES_MAX];

		zmq_msg_init(part);
		if (zmq_msg_recv(part, sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(part);
			if (n == 0 && errno == EAGAIN)
				return 0;
			if (n == 0)
				return errno == EINTR ? 0 : -1;
			break;
		}
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &moresz) == -1)
			more = 0;
		if (n < MSG_FRAMES_MAX)
			n++;
		else {
			/* Drain a message with too many frames, keeping none. */
			zmq_msg_close(part);
			extra++;
		}
		if (!more)
			break;
	}

	for (size_t i = first; i < n; i++) {
		frames[i - first].data = zmq_msg_data(&parts[i]);
		frames[i - first].len = zmq_msg_size(&parts[i]);
	}
	if (extra > 0) {
		*cause = xasprintf("%zu frames (at most %d)", n + extra,
		    MSG_FRAMES_MAX);
		m = NULL;
	} else if (with_peer && n < 1) {
		*cause = xstrdup("no routing id");
		m = NULL;
	} else
		m = msg_decode(frames, n - first, cause);

	rc = m != NULL ? 1 : -1;
	if (m == NULL && n > first && frames[0].len == MSG_HEADER_LEN) {
		/* Keep enough of a bad message to log it and answer it. */
		const unsigned char *h = frames[0].data;

		m = msg_new((h[2] << 8) | h[3], ((uint32_t)h[4] << 24) |
			((uint32_t)h[5] << 16) | ((uint32_t)h[6] << 8) | h[7],
		    NULL);
	} else if (m == NULL && with_peer && n >= 1)
		m = msg_new(0, 0, NULL);
	if (m != NULL && with_peer) {
		size_t idlen = zmq_msg_size(&parts[0]);

		if (idlen > MSG_PEER_MAX)
			idlen = MSG_PEER_MAX;
		memcpy(m->peer, zmq_msg_data(&parts[0]), idlen);
		m->peerlen = idlen;
		/*
		 * The routing id frame is made by the ROUTER itself; only
		 * frames read from the wire carry the connection's metadata.
		 */
		zmq_msg_t *wire = n > 1 ? &parts[1] : &parts[0];

		m->peer_key = msg_frame_property(wire, "User-Id");
		m->peer_addr = msg_frame_property(wire, "Peer-Address");
	}
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
	if (rc == 1)
		log_trace(TRACE_MSG, "received %s id %u", msg_type_name(m->type),
		    m->id);
	*out = m;
	return rc;
}

int
msg_get_str(const struct msg *m, const char *key, bool required,
    const char **out, char **cause)
{
	return jsonx_get_str(m->body, key, required, out, cause);
}

int
msg_get_int(const struct msg *m, const char *key, bool required,
    long long min, long long max, long long *out, char **cause)
{
	return jsonx_get_int(m->body, key, required, min, max, out, cause);
}
