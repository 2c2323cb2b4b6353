/*
 * libFuzzer target for msg_decode, which parses every frame a peer sends.
 *
 * Input layout: byte 0 picks the frame count (1 to 4, so the count check is
 * reached too); then one big-endian uint16 length per frame but the last;
 * then the frames' bytes, the last frame taking whatever remains (lengths
 * past the end are cut short). Each frame is copied to its own exact-size
 * buffer so that a read past a frame is caught by ASan.
 *
 * Beyond not crashing: an accepted message is an object of a known type,
 * and encoding it again decodes to the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"

#define FUZZ_MSG_FRAMES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode m and decode it again: it must come back the same. */
static void
fuzz_msg_round_trip(const struct msg *m)
{
	unsigned char hdr[MSG_HEADER_LEN];
	struct msg_frame f[3];
	struct msg *again;
	size_t jsonlen;
	char *json, *cause = NULL;

	json = msg_encode(m, hdr, &jsonlen);
	f[0] = (struct msg_frame){ hdr, sizeof hdr };
	f[1] = (struct msg_frame){ json, jsonlen };
	f[2] = (struct msg_frame){ m->data, m->len };
	/* Compact output can be longer than the input (escapes): skip those. */
	if (jsonlen > PROTO_JSON_MAX) {
		free(json);
		return;
	}
	again = msg_decode(f, m->data != NULL ? 3 : 2, &cause);
	if (again == NULL || again->type != m->type || again->id != m->id ||
	    !json_equal(again->body, m->body) || again->len != m->len ||
	    (m->len > 0 && memcmp(again->data, m->data, m->len) != 0))
		abort();
	msg_free(again);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_frame frames[FUZZ_MSG_FRAMES];
	void *copies[FUZZ_MSG_FRAMES] = { NULL };
	size_t n, off, len;
	struct msg *m;
	char *cause = NULL;

	if (size < 1)
		return 0;
	n = (size_t)(data[0] & 3) + 1;
	off = 1 + 2 * (n - 1);
	if (size < off)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			len = (size_t)data[1 + 2 * i] << 8 | data[2 + 2 * i];
		else
			len = size - off;
		if (len > size - off)
			len = size - off;
		if ((copies[i] = malloc(len == 0 ? 1 : len)) == NULL)
			goto out;
		memcpy(copies[i], data + off, len);
		frames[i] = (struct msg_frame){ copies[i], len };
		off += len;
	}

	m = msg_decode(frames, n, &cause);
	if (m == NULL) {
		/* A refusal always says why. */
		if (cause == NULL || *cause == '\0')
			abort();
	} else {
		if (cause != NULL || !json_is_object(m->body) ||
		    !msg_type_known(m->type) || (n == 3) != (m->data != NULL) ||
		    (n == 3 && m->len != frames[2].len))
			abort();
		fuzz_msg_round_trip(m);
	}
	msg_free(m);
	free(cause);
out:
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	return 0;
}
