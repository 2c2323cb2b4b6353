/* logs: an app's output, streamed as it arrives (--follow keeps waiting). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "common/xmem.h"

/*
 * An error reply is one short line of JSON ({"error":"..."}) and a log is
 * any bytes, possibly JSON lines too. The HTTP status, which tells them
 * apart, is known only when the transfer ends, so a body that could still be
 * an error is held back (at most this much) until more bytes prove it a log
 * or the status decides.
 */
#define CMD_LOGS_HOLD_MAX 4096

struct cmd_logs_out {
	char held[CMD_LOGS_HOLD_MAX];
	size_t nheld;
	bool streaming;	 /* decided: everything goes to stdout */
	int write_errno; /* stdout failed (0: it did not) */
};

/* The "error" text if data is a JSON error reply (allocated), else NULL. */
static char *
cmd_logs_error_text(const char *data, size_t len)
{
	json_t *j = json_loadb(data, len, 0, NULL);
	const char *text = json_string_value(json_object_get(j, "error"));
	char *out = NULL;

	if (json_is_object(j) && json_object_size(j) == 1 && text != NULL)
		out = xstrdup(text);
	json_decref(j);
	return out;
}

/*
 * Whether the held bytes may still be an error reply: they start with '{'
 * and either have no newline yet or are exactly one line that is one.
 */
static bool
cmd_logs_may_be_error(const struct cmd_logs_out *o)
{
	const char *nl;
	char *text;

	if (o->nheld == 0)
		return true;
	if (o->held[0] != '{')
		return false;
	if ((nl = memchr(o->held, '\n', o->nheld)) == NULL)
		return true;
	if ((size_t)(nl - o->held) != o->nheld - 1)
		return false;
	if ((text = cmd_logs_error_text(o->held, o->nheld)) == NULL)
		return false;
	free(text);
	return true;
}

/* Write to stdout and flush, so a follower sees each chunk at once. */
static bool
cmd_logs_emit(struct cmd_logs_out *o, const char *data, size_t len)
{
	if (o->write_errno != 0)
		return false;
	errno = 0;
	if ((len > 0 && fwrite(data, 1, len, stdout) != len) ||
	    fflush(stdout) == EOF) {
		o->write_errno = errno != 0 ? errno : EIO;
		return false;
	}
	return true;
}

/* client_stream's callback; returning less than len ends the transfer. */
static size_t
cmd_logs_write(const char *data, size_t len, void *arg)
{
	struct cmd_logs_out *o = arg;
	size_t take;

	if (!o->streaming) {
		take = CMD_LOGS_HOLD_MAX - o->nheld;
		if (take > len)
			take = len;
		memcpy(o->held + o->nheld, data, take);
		o->nheld += take;
		/* Nothing more than the hold can be an error reply. */
		if (take == len && cmd_logs_may_be_error(o))
			return len;
		o->streaming = true;
		if (!cmd_logs_emit(o, o->held, o->nheld))
			return 0;
		o->nheld = 0;
		data += take;
		len -= take;
		if (len == 0)
			return take;
		if (!cmd_logs_emit(o, data, len))
			return 0;
		return take + len;
	}
	return cmd_logs_emit(o, data, len) ? len : 0;
}

/* The value of --tail, or -1 when it is not a non-negative integer. */
static long long
cmd_logs_parse_tail(const char *text)
{
	long long n;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return n;
}

static int
cmd_logs_exec(struct cmd_ctx *ctx, struct args *a)
{
	struct cmd_logs_out *o;
	const char *v;
	long long tail = -1;
	char *id, *path, *cause = NULL, *text;
	int status, rc = CMD_OK;

	/* --json changes nothing: the API's reply is the log text itself. */
	if ((v = args_get(a, "tail")) != NULL &&
	    (tail = cmd_logs_parse_tail(v)) == -1) {
		fprintf(stderr, "drover logs: --tail takes a number of lines "
		    "(0 or more), not %s\n", v);
		fprintf(stderr, "usage: %s %s\n", cmd_logs_entry.name,
		    cmd_logs_entry.usage);
		return CMD_USAGE;
	}
	id = cmd_escape(a->argv[0]);
	if (tail >= 0)
		path = xasprintf("/v1/apps/%s/logs?tail=%lld%s", id, tail,
		    args_has(a, "follow") ? "&follow=1" : "");
	else
		path = xasprintf("/v1/apps/%s/logs%s", id,
		    args_has(a, "follow") ? "?follow=1" : "");
	free(id);

	o = xcalloc(1, sizeof *o);
	status = client_stream(ctx->client, path, cmd_logs_write, o, &cause);
	free(path);
	if (status == -1 && (o->streaming || o->nheld > 0)) {
		/*
		 * The master cuts a stream that ends before the log does, its
		 * last line saying why (the node went away, say): not a whole
		 * log, so not a success.
		 */
		if (o->nheld > 0)
			cmd_logs_emit(o, o->held, o->nheld);
		fprintf(stderr, "drover: the log of %s was cut short (%s)\n",
		    a->argv[0], cause);
		free(cause);
		rc = CMD_FAILED;
	} else if (status == -1) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		rc = CMD_FAILED;
	} else if (status == 200) {
		if (o->nheld > 0)
			cmd_logs_emit(o, o->held, o->nheld);
		if (o->write_errno != 0) {
			fprintf(stderr, "drover: cannot write the log: %s\n",
			    strerror(o->write_errno));
			rc = CMD_FAILED;
		}
	} else {
		text = o->streaming ? NULL : cmd_logs_error_text(o->held,
		    o->nheld);
		if (text != NULL)
			fprintf(stderr, "drover: %s\n", text);
		else
			fprintf(stderr, "drover: the master answered with "
			    "status %d\n", status);
		free(text);
		rc = CMD_FAILED;
	}
	free(o);
	return rc;
}

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "APP [--tail N] [--follow]",
	.summary = "print an app's output (--follow: keep printing as it "
		   "comes)",
	.options = "tail=,follow",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.exec = cmd_logs_exec,
};
