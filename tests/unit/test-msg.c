/*
 * The message layer: encode/decode round trips, every reason msg_decode
 * refuses a message, and real traffic over a ZeroMQ ROUTER/DEALER pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/jsonx.h"
#include "common/msg.h"

/* Decode an encoded message, as the receiving side would. */
static struct msg *
test_msg_round_trip(const struct msg *m)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame frames[3];
	struct msg *out;
	size_t jsonlen;
	char *json, *cause = NULL;

	json = msg_encode(m, hdr, &jsonlen);
	assert_non_null(json);
	assert_int_equal(jsonlen, strlen(json));
	frames[0] = (struct msg_frame){ hdr, sizeof hdr };
	frames[1] = (struct msg_frame){ json, jsonlen };
	frames[2] = (struct msg_frame){ m->data, m->len };
	out = msg_decode(frames, m->data != NULL ? 3 : 2, &cause);
	assert_null(cause);
	assert_non_null(out);
	free(json);
	return out;
}

/* msg_decode must refuse frames, naming why (the cause contains want). */
static void
test_msg_refused(const struct msg_frame *frames, size_t n, const char *want)
{
	char *cause = NULL;
	struct msg *m = msg_decode(frames, n, &cause);

	assert_null(m);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' does not contain '%s'", cause, want);
	free(cause);
}

static void
test_msg_put_header(unsigned char *h, int magic, int version, int type,
    uint32_t id)
{
	h[0] = (unsigned char)magic;
	h[1] = (unsigned char)version;
	h[2] = (unsigned char)(type >> 8);
	h[3] = (unsigned char)type;
	h[4] = (unsigned char)(id >> 24);
	h[5] = (unsigned char)(id >> 16);
	h[6] = (unsigned char)(id >> 8);
	h[7] = (unsigned char)id;
}

static void
test_msg_round_trip_without_data(void **state)
{
	struct msg *m, *out;
	const char *name;
	long long cpus;
	char *cause = NULL;

	(void)state;
	m = msg_new(MSG_HELLO, 42, jsonx_pack("{s:s, s:i, s:[s,s]}", "name",
	    "w1", "cpus", 8, "addresses", "10.0.0.1", "::1"));
	out = test_msg_round_trip(m);
	assert_int_equal(out->type, MSG_HELLO);
	assert_int_equal(out->id, 42);
	assert_true(json_equal(out->body, m->body));
	assert_null(out->data);
	assert_int_equal(out->len, 0);
	assert_int_equal(out->peerlen, 0);
	assert_int_equal(msg_get_str(out, "name", true, &name, &cause), 0);
	assert_string_equal(name, "w1");
	assert_int_equal(msg_get_int(out, "cpus", true, 1, 1024, &cpus, &cause),
	    0);
	assert_int_equal(cpus, 8);
	assert_int_equal(msg_get_int(out, "mem", false, 0, 1, &cpus, &cause), 1);
	assert_int_equal(msg_get_str(out, "cpus", true, &name, &cause), -1);
	assert_non_null(strstr(cause, "cpus"));
	free(cause);
	msg_free(m);
	msg_free(out);
}

static void
test_msg_round_trip_with_data(void **state)
{
	static const unsigned char bytes[] = { 0, 1, 2, 'x', 0, 0xff, '\n' };
	struct msg *m, *out;

	(void)state;
	m = msg_new(MSG_LOG_DATA, 7, jsonx_pack("{s:i, s:b}", "stream", 3,
	    "eof", 0));
	msg_set_data(m, bytes, sizeof bytes);
	out = test_msg_round_trip(m);
	assert_int_equal(out->type, MSG_LOG_DATA);
	assert_int_equal(out->id, 7);
	assert_true(json_equal(out->body, m->body));
	assert_int_equal(out->len, sizeof bytes);
	assert_memory_equal(out->data, bytes, sizeof bytes);
	msg_free(m);
	msg_free(out);
}

/* An empty binary frame is still a binary frame. */
static void
test_msg_round_trip_empty_data(void **state)
{
	struct msg *m, *out;

	(void)state;
	m = msg_new(MSG_LOG_DATA, 1, NULL);
	msg_set_data(m, "", 0);
	out = test_msg_round_trip(m);
	assert_non_null(out->data);
	assert_int_equal(out->len, 0);
	assert_true(json_is_object(out->body));
	assert_int_equal(json_object_size(out->body), 0);
	msg_free(m);
	msg_free(out);
}

/* The header is 'D', the version, then type and id big-endian. */
static void
test_msg_header_layout(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg *m, *out;
	size_t jsonlen;
	char *json;

	(void)state;
	m = msg_new(MSG_LOG_CANCEL, 0xA1B2C3D4u, NULL);
	json = msg_encode(m, hdr, &jsonlen);
	assert_int_equal(hdr[0], 'D');
	assert_int_equal(hdr[1], PROTO_VERSION);
	assert_int_equal(hdr[2], MSG_LOG_CANCEL >> 8);
	assert_int_equal(hdr[3], MSG_LOG_CANCEL & 0xff);
	assert_int_equal(hdr[4], 0xA1);
	assert_int_equal(hdr[5], 0xB2);
	assert_int_equal(hdr[6], 0xC3);
	assert_int_equal(hdr[7], 0xD4);
	assert_string_equal(json, "{}");
	free(json);
	out = test_msg_round_trip(m);
	assert_int_equal(out->id, 0xA1B2C3D4u);
	msg_free(out);
	msg_free(m);
}

static void
test_msg_decode_frame_count(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[4];

	(void)state;
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_BYE, 1);
	for (size_t i = 0; i < 4; i++)
		f[i] = (struct msg_frame){ i == 0 ? (void *)hdr : "{}",
		    i == 0 ? sizeof hdr : 2 };
	test_msg_refused(f, 0, "got 0");
	test_msg_refused(f, 1, "got 1");
	test_msg_refused(f, 4, "got 4");
}

static void
test_msg_decode_header_length(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN + 1];
	struct msg_frame f[2];

	(void)state;
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_BYE, 1);
	hdr[MSG_HEADER_LEN] = 0;
	f[1] = (struct msg_frame){ "{}", 2 };
	f[0] = (struct msg_frame){ hdr, MSG_HEADER_LEN - 1 };
	test_msg_refused(f, 2, "header frame of 7 bytes");
	f[0] = (struct msg_frame){ hdr, MSG_HEADER_LEN + 1 };
	test_msg_refused(f, 2, "header frame of 9 bytes");
	f[0] = (struct msg_frame){ hdr, 0 };
	test_msg_refused(f, 2, "header frame of 0 bytes");
}

static void
test_msg_decode_bad_magic(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	test_msg_put_header(hdr, 'd', PROTO_VERSION, MSG_BYE, 1);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	test_msg_refused(f, 2, "magic");
}

static void
test_msg_decode_other_version(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	test_msg_put_header(hdr, 'D', PROTO_VERSION + 1, MSG_BYE, 1);
	test_msg_refused(f, 2, "protocol version 2");
	test_msg_put_header(hdr, 'D', 0, MSG_BYE, 1);
	test_msg_refused(f, 2, "protocol version 0");
}

static void
test_msg_decode_unknown_type(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	test_msg_put_header(hdr, 'D', PROTO_VERSION, 77, 1);
	test_msg_refused(f, 2, "unknown message type 77");
	test_msg_put_header(hdr, 'D', PROTO_VERSION, 0, 1);
	test_msg_refused(f, 2, "unknown message type 0");
	test_msg_put_header(hdr, 'D', PROTO_VERSION, 0xffff, 1);
	test_msg_refused(f, 2, "unknown message type 65535");
	/* Same low byte as HEARTBEAT (103) but another high byte. */
	test_msg_put_header(hdr, 'D', PROTO_VERSION, 0x100 | MSG_HEARTBEAT, 1);
	test_msg_refused(f, 2, "unknown message type");
}

/* A JSON frame of exactly PROTO_JSON_MAX bytes passes; one more is refused. */
static void
test_msg_decode_json_limit(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	size_t n = PROTO_JSON_MAX + 1;
	char *json = malloc(n);
	struct msg_frame f[2];
	struct msg *m;
	char *cause = NULL;

	(void)state;
	assert_non_null(json);
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_APPS, 5);
	memcpy(json, "{\"s\":\"", 6);
	memset(json + 6, 'a', PROTO_JSON_MAX - 8);
	memcpy(json + PROTO_JSON_MAX - 2, "\"}", 2);
	json[PROTO_JSON_MAX] = ' ';
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ json, PROTO_JSON_MAX };
	m = msg_decode(f, 2, &cause);
	assert_null(cause);
	assert_non_null(m);
	assert_int_equal(json_string_length(json_object_get(m->body, "s")),
	    PROTO_JSON_MAX - 8);
	msg_free(m);
	f[1].len = PROTO_JSON_MAX + 1;
	test_msg_refused(f, 2, "APPS: JSON frame of 1048577 bytes");
	free(json);
}

static void
test_msg_decode_data_limit(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	unsigned char *data = calloc(1, PROTO_DATA_MAX + 1);
	struct msg_frame f[3];
	struct msg *m;
	char *cause = NULL;

	(void)state;
	assert_non_null(data);
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_LOG_DATA, 5);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	f[2] = (struct msg_frame){ data, PROTO_DATA_MAX };
	m = msg_decode(f, 3, &cause);
	assert_null(cause);
	assert_non_null(m);
	assert_int_equal(m->len, PROTO_DATA_MAX);
	msg_free(m);
	f[2].len = PROTO_DATA_MAX + 1;
	test_msg_refused(f, 3, "LOG_DATA: data frame of 1048577 bytes");
	free(data);
}

static void
test_msg_decode_bad_json(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":", "{\"a\":1,}", "{a:1}", "nul", "{}{}",
		"{\"a\":\"\\ud800\"}", "\xff", "3", "\"text\"", "null",
	};
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_HEARTBEAT, 1);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f[1] = (struct msg_frame){ bad[i], strlen(bad[i]) };
		test_msg_refused(f, 2, "HEARTBEAT: bad JSON");
	}
	/* A NUL inside the frame is not the end of the text. */
	f[1] = (struct msg_frame){ "{}\0", 3 };
	test_msg_refused(f, 2, "bad JSON");
}

static void
test_msg_decode_json_not_object(void **state)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_HEARTBEAT, 1);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "[1,2]", 5 };
	test_msg_refused(f, 2, "HEARTBEAT: JSON frame is not an object");
	f[1] = (struct msg_frame){ "[]", 2 };
	test_msg_refused(f, 2, "not an object");
}

static void
test_msg_decode_duplicate_keys(void **state)
{
	static const char json[] = "{\"a\":1,\"b\":2,\"a\":3}";
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];

	(void)state;
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_LAUNCH, 1);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ json, sizeof json - 1 };
	test_msg_refused(f, 2, "LAUNCH: bad JSON");
}

static void
test_msg_type_names(void **state)
{
	(void)state;
	assert_string_equal(msg_type_name(MSG_HELLO), "HELLO");
	assert_string_equal(msg_type_name(MSG_HEARTBEAT), "HEARTBEAT");
	assert_string_equal(msg_type_name(MSG_ERROR), "ERROR");
	assert_string_equal(msg_type_name(MSG_APP_STATE), "APP_STATE");
	assert_string_equal(msg_type_name(MSG_LOG_CANCEL), "LOG_CANCEL");
	assert_string_equal(msg_type_name(77), "unknown(77)");
	assert_string_equal(msg_type_name(-1), "unknown(-1)");
	assert_string_equal(msg_type_name(0), "unknown(0)");
	assert_true(msg_type_known(MSG_USAGE_REPLY));
	assert_true(msg_type_known(MSG_BYE));
	assert_false(msg_type_known(77));
	assert_false(msg_type_known(0));
}

static void
test_msg_reply_keeps_id_and_peer(void **state)
{
	struct msg *req, *rep, *err;
	const char *text, *type;
	char *cause = NULL;

	(void)state;
	req = msg_new(MSG_LAUNCH, 1234, NULL);
	memcpy(req->peer, "\0\x01peer", 6);
	req->peerlen = 6;

	rep = msg_reply(req, MSG_LAUNCHED, jsonx_pack("{s:s}", "id", "a1"));
	assert_int_equal(rep->type, MSG_LAUNCHED);
	assert_int_equal(rep->id, 1234);
	assert_int_equal(rep->peerlen, 6);
	assert_memory_equal(rep->peer, "\0\x01peer", 6);

	err = msg_error_reply(req, "no such app '%s' (%d)", "web", 3);
	assert_int_equal(err->type, MSG_ERROR);
	assert_int_equal(err->id, 1234);
	assert_int_equal(err->peerlen, 6);
	assert_memory_equal(err->peer, "\0\x01peer", 6);
	assert_int_equal(msg_get_str(err, "error", true, &text, &cause), 0);
	assert_string_equal(text, "no such app 'web' (3)");
	assert_int_equal(msg_get_str(err, "type", true, &type, &cause), 0);
	assert_string_equal(type, "LAUNCH");
	msg_free(err);

	/* A request of an unknown type is answered naming it. */
	req->type = 900;
	err = msg_error_reply(req, "what");
	assert_int_equal(msg_get_str(err, "type", true, &type, &cause), 0);
	assert_string_equal(type, "unknown(900)");
	msg_free(err);
	msg_free(rep);
	msg_free(req);
	msg_free(NULL);
}

/* ZeroMQ: a ROUTER (the master's side) and a DEALER with routing id "w1". */
struct test_msg_zmq {
	void *ctx;
	void *router;
	void *dealer;
};

static int
test_msg_zmq_setup(void **state)
{
	struct test_msg_zmq *z = calloc(1, sizeof *z);
	int zero = 0, one = 1;

	if (z == NULL || (z->ctx = zmq_ctx_new()) == NULL)
		return -1;
	z->router = zmq_socket(z->ctx, ZMQ_ROUTER);
	z->dealer = zmq_socket(z->ctx, ZMQ_DEALER);
	if (z->router == NULL || z->dealer == NULL)
		return -1;
	zmq_setsockopt(z->router, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(z->dealer, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(z->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(z->dealer, ZMQ_ROUTING_ID, "w1", 2);
	if (zmq_bind(z->router, "inproc://test-msg") == -1 ||
	    zmq_connect(z->dealer, "inproc://test-msg") == -1)
		return -1;
	*state = z;
	return 0;
}

static int
test_msg_zmq_teardown(void **state)
{
	struct test_msg_zmq *z = *state;

	zmq_close(z->dealer);
	zmq_close(z->router);
	zmq_ctx_term(z->ctx);
	free(z);
	return 0;
}

/* Wait (at most 5 s) until sock has a message, then msg_recv it. */
static int
test_msg_recv_wait(void *sock, bool with_peer, struct msg **out, char **cause)
{
	zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };

	assert_int_equal(zmq_poll(&item, 1, 5000), 1);
	return msg_recv(sock, with_peer, out, cause);
}

/* Send raw frames, the last without SNDMORE. */
static void
test_msg_send_raw(void *sock, const struct msg_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(zmq_send(sock, f[i].data, f[i].len,
		    i + 1 < n ? ZMQ_SNDMORE : 0), (int)f[i].len);
}

static void
test_msg_zmq_round_trip(void **state)
{
	struct test_msg_zmq *z = *state;
	struct msg *m, *in, *rep;
	char *cause = NULL;

	/* Nothing waiting: 0, no message, no cause. */
	assert_int_equal(msg_recv(z->router, true, &in, &cause), 0);
	assert_null(in);
	assert_null(cause);

	m = msg_new(MSG_HEARTBEAT, 0, jsonx_pack("{s:f, s:f, s:i}", "cpu_pct",
	    12.5, "mem_pct", 40.0, "apps", 3));
	assert_int_equal(msg_send(z->dealer, m, false), 0);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), 1);
	assert_null(cause);
	assert_int_equal(in->type, MSG_HEARTBEAT);
	assert_int_equal(in->id, 0);
	assert_true(json_equal(in->body, m->body));
	assert_null(in->data);
	assert_int_equal(in->peerlen, 2);
	assert_memory_equal(in->peer, "w1", 2);
	assert_null(in->peer_key); /* no CURVE, no ZAP: no key */
	msg_free(m);

	/* The reply goes back to the connection it came from, with data. */
	rep = msg_reply(in, MSG_LOG_DATA, jsonx_pack("{s:i}", "stream", 9));
	msg_set_data(rep, "hello\0world", 11);
	rep->id = 77;
	assert_int_equal(msg_send(z->router, rep, true), 0);
	msg_free(in);
	assert_int_equal(test_msg_recv_wait(z->dealer, false, &in, &cause), 1);
	assert_null(cause);
	assert_int_equal(in->type, MSG_LOG_DATA);
	assert_int_equal(in->id, 77);
	assert_true(json_equal(in->body, rep->body));
	assert_int_equal(in->len, 11);
	assert_memory_equal(in->data, "hello\0world", 11);
	assert_int_equal(in->peerlen, 0);
	msg_free(in);
	msg_free(rep);

	/* Worker to master with a binary frame. */
	m = msg_new(MSG_SIGNALED, 5, NULL);
	msg_set_data(m, "\x01\x02\x03", 3);
	assert_int_equal(msg_send(z->dealer, m, false), 0);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), 1);
	assert_int_equal(in->len, 3);
	assert_memory_equal(in->data, "\x01\x02\x03", 3);
	assert_int_equal(in->id, 5);
	msg_free(in);
	msg_free(m);
}

/* With ROUTER_MANDATORY, a message to a gone peer fails with EHOSTUNREACH. */
static void
test_msg_zmq_unknown_peer(void **state)
{
	struct test_msg_zmq *z = *state;
	struct msg *m = msg_new(MSG_PS, 1, NULL);

	memcpy(m->peer, "nobody", 6);
	m->peerlen = 6;
	errno = 0;
	assert_int_equal(msg_send(z->router, m, true), -1);
	assert_int_equal(errno, EHOSTUNREACH);
	msg_free(m);
}

/*
 * Five frames after the routing id: msg_recv reads all of them, refuses the
 * message keeping its header's type and id so it can be answered, and the
 * next good message is not mixed up with the leftovers.
 */
static void
test_msg_zmq_too_many_frames_master(void **state)
{
	struct test_msg_zmq *z = *state;
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[5];
	struct msg *m, *in;
	char *cause = NULL;

	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_HEARTBEAT, 31);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	f[2] = (struct msg_frame){ "data", 4 };
	f[3] = (struct msg_frame){ "x", 1 };
	f[4] = (struct msg_frame){ "y", 1 };
	test_msg_send_raw(z->dealer, f, 5);
	m = msg_new(MSG_BYE, 32, NULL);
	assert_int_equal(msg_send(z->dealer, m, false), 0);
	msg_free(m);

	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "6 frames"));
	assert_non_null(in);
	assert_int_equal(in->type, MSG_HEARTBEAT);
	assert_int_equal(in->id, 31);
	assert_int_equal(in->peerlen, 2);
	assert_memory_equal(in->peer, "w1", 2);
	free(cause);
	cause = NULL;
	msg_free(in);

	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), 1);
	assert_null(cause);
	assert_int_equal(in->type, MSG_BYE);
	assert_int_equal(in->id, 32);
	msg_free(in);
	assert_int_equal(msg_recv(z->router, true, &in, &cause), 0);
}

/* The same on the worker's side, without a routing id. */
static void
test_msg_zmq_too_many_frames_worker(void **state)
{
	struct test_msg_zmq *z = *state;
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[6];
	struct msg *m, *in;
	char *cause = NULL;

	/* Let the ROUTER learn the DEALER's routing id first. */
	m = msg_new(MSG_HELLO, 1, NULL);
	assert_int_equal(msg_send(z->dealer, m, false), 0);
	msg_free(m);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), 1);
	msg_free(in);

	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_LAUNCH, 8);
	f[0] = (struct msg_frame){ "w1", 2 };
	f[1] = (struct msg_frame){ hdr, sizeof hdr };
	f[2] = (struct msg_frame){ "{}", 2 };
	f[3] = (struct msg_frame){ "a", 1 };
	f[4] = (struct msg_frame){ "b", 1 };
	f[5] = (struct msg_frame){ "c", 1 };
	test_msg_send_raw(z->router, f, 6);
	m = msg_new(MSG_PS, 9, NULL);
	m->peerlen = 2;
	memcpy(m->peer, "w1", 2);
	assert_int_equal(msg_send(z->router, m, true), 0);
	msg_free(m);

	assert_int_equal(test_msg_recv_wait(z->dealer, false, &in, &cause), -1);
	assert_non_null(strstr(cause, "5 frames"));
	assert_non_null(in);
	assert_int_equal(in->type, MSG_LAUNCH);
	assert_int_equal(in->id, 8);
	free(cause);
	cause = NULL;
	msg_free(in);

	assert_int_equal(test_msg_recv_wait(z->dealer, false, &in, &cause), 1);
	assert_int_equal(in->type, MSG_PS);
	assert_int_equal(in->id, 9);
	msg_free(in);
}

/* A malformed message leaves a stub that can be answered with an ERROR. */
static void
test_msg_zmq_malformed_answered(void **state)
{
	struct test_msg_zmq *z = *state;
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[2];
	struct msg *in, *err;
	const char *type;
	char *cause = NULL;

	test_msg_put_header(hdr, 'D', PROTO_VERSION, 77, 4242);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ "{}", 2 };
	test_msg_send_raw(z->dealer, f, 2);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), -1);
	assert_non_null(strstr(cause, "unknown message type 77"));
	free(cause);
	cause = NULL;
	assert_non_null(in);
	assert_int_equal(in->type, 77);
	assert_int_equal(in->id, 4242);
	assert_memory_equal(in->peer, "w1", 2);

	err = msg_error_reply(in, "unknown message");
	assert_int_equal(msg_send(z->router, err, true), 0);
	msg_free(err);
	msg_free(in);
	assert_int_equal(test_msg_recv_wait(z->dealer, false, &in, &cause), 1);
	assert_int_equal(in->type, MSG_ERROR);
	assert_int_equal(in->id, 4242);
	assert_int_equal(msg_get_str(in, "type", true, &type, &cause), 0);
	assert_string_equal(type, "unknown(77)");
	msg_free(in);

	/* Bad JSON: refused, stub keeps the header. */
	test_msg_put_header(hdr, 'D', PROTO_VERSION, MSG_HELLO, 3);
	f[1] = (struct msg_frame){ "{", 1 };
	test_msg_send_raw(z->dealer, f, 2);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), -1);
	assert_non_null(strstr(cause, "HELLO: bad JSON"));
	free(cause);
	cause = NULL;
	assert_int_equal(in->type, MSG_HELLO);
	assert_int_equal(in->id, 3);
	msg_free(in);

	/* One short frame: no header to keep, only the peer. */
	f[0] = (struct msg_frame){ "abc", 3 };
	test_msg_send_raw(z->dealer, f, 1);
	assert_int_equal(test_msg_recv_wait(z->router, true, &in, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_non_null(in);
	assert_int_equal(in->type, 0);
	assert_int_equal(in->id, 0);
	assert_int_equal(in->peerlen, 2);
	assert_memory_equal(in->peer, "w1", 2);
	msg_free(in);

	/* On the worker side a one-frame message leaves nothing to answer. */
	test_msg_send_raw(z->router, (struct msg_frame[]){ { "w1", 2 },
	    { "abc", 3 } }, 2);
	assert_int_equal(test_msg_recv_wait(z->dealer, false, &in, &cause), -1);
	assert_non_null(cause);
	assert_null(in);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_round_trip_without_data),
		cmocka_unit_test(test_msg_round_trip_with_data),
		cmocka_unit_test(test_msg_round_trip_empty_data),
		cmocka_unit_test(test_msg_header_layout),
		cmocka_unit_test(test_msg_decode_frame_count),
		cmocka_unit_test(test_msg_decode_header_length),
		cmocka_unit_test(test_msg_decode_bad_magic),
		cmocka_unit_test(test_msg_decode_other_version),
		cmocka_unit_test(test_msg_decode_unknown_type),
		cmocka_unit_test(test_msg_decode_json_limit),
		cmocka_unit_test(test_msg_decode_data_limit),
		cmocka_unit_test(test_msg_decode_bad_json),
		cmocka_unit_test(test_msg_decode_json_not_object),
		cmocka_unit_test(test_msg_decode_duplicate_keys),
		cmocka_unit_test(test_msg_type_names),
		cmocka_unit_test(test_msg_reply_keeps_id_and_peer),
		cmocka_unit_test_setup_teardown(test_msg_zmq_round_trip,
		    test_msg_zmq_setup, test_msg_zmq_teardown),
		cmocka_unit_test_setup_teardown(test_msg_zmq_unknown_peer,
		    test_msg_zmq_setup, test_msg_zmq_teardown),
		cmocka_unit_test_setup_teardown(
		    test_msg_zmq_too_many_frames_master, test_msg_zmq_setup,
		    test_msg_zmq_teardown),
		cmocka_unit_test_setup_teardown(
		    test_msg_zmq_too_many_frames_worker, test_msg_zmq_setup,
		    test_msg_zmq_teardown),
		cmocka_unit_test_setup_teardown(test_msg_zmq_malformed_answered,
		    test_msg_zmq_setup, test_msg_zmq_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
