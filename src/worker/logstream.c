#include "worker/logstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/xmem.h"
#include "worker/app.h"
#include "worker/applog.h"
#include "worker/worker.h"

/* Streams open at once; a reader beyond that is refused, not queued. */
#define LOGSTREAM_MAX 256

struct logstream {
	char *id;  /* chosen by the master, echoed in every chunk */
	uint32_t request; /* the MSG_LOGS that opened it, for an error */
	char *app;
	struct applog_reader *reader;
	bool follow;
	int credit;
	struct logstream *next;
};

static void
logstream_free(struct logstream *s)
{
	applog_reader_close(s->reader);
	free(s->id);
	free(s->app);
	free(s);
}

static void
logstream_remove(struct worker *w, struct logstream *s)
{
	for (struct logstream **p = &w->streams; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	w->nstreams--;
	logstream_free(s);
}

static int
logstream_send(struct worker *w, struct logstream *s, const void *data,
    size_t len, bool eof)
{
	struct msg *m = msg_new(MSG_LOG_DATA, 0, jsonx_pack("{s:s, s:b}",
	    "stream", s->id, "eof", eof));
	int rc;

	if (len > 0)
		msg_set_data(m, data, len);
	rc = worker_send(w, m);
	msg_free(m);
	return rc;
}

/* Send what credit allows; end the stream when nothing more can come. */
static void
logstream_pump(struct worker *w, struct logstream *s)
{
	static char buf[PROTO_CHUNK_SIZE];
	struct app *a;
	ssize_t n;

	while (s->credit > 0) {
		n = applog_reader_read(s->reader, buf, sizeof buf);
		if (n > 0) {
			if (logstream_send(w, s, buf, (size_t)n, false) == -1) {
				log_warnx("log stream %s of %s: the master "
				    "cannot take more; ending it", s->id, s->app);
				logstream_remove(w, s);
				return;
			}
			s->credit--;
			continue;
		}
		a = app_find(w, s->app);
		/* Following ends when the app is dead for good. */
		if (n == 0 && s->follow && a != NULL && app_output_open(a))
			return;
		logstream_send(w, s, NULL, 0, true);
		logstream_remove(w, s);
		return;
	}
}

static struct logstream *
logstream_find(struct worker *w, const char *id)
{
	for (struct logstream *s = w->streams; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static void
logstream_error(struct worker *w, struct msg *req, const char *text)
{
	struct msg *r = msg_error_reply(req, "%s", text);

	worker_send(w, r);
	msg_free(r);
}

void
logstream_start(struct worker *w, struct msg *req)
{
	const char *id, *stream;
	long long tail = -1;
	bool follow = false;
	char *cause = NULL;
	struct logstream *s;
	struct app *a;
	char *path;

	if (msg_get_str(req, "app", true, &id, &cause) == -1 ||
	    msg_get_str(req, "stream", true, &stream, &cause) == -1 ||
	    msg_get_int(req, "tail", false, -1, 1LL << 40, &tail, &cause) == -1 ||
	    jsonx_get_bool(req->body, "follow", false, &follow, &cause) == -1) {
		logstream_error(w, req, cause);
		free(cause);
		return;
	}
	if ((a = app_find(w, id)) == NULL || a->log_path == NULL) {
		path = xasprintf("no such app on %s: %s", w->name, id);
		logstream_error(w, req, path);
		free(path);
		return;
	}
	if (w->nstreams >= LOGSTREAM_MAX || logstream_find(w, stream) != NULL) {
		logstream_error(w, req, "too many log readers on this node");
		return;
	}
	s = xcalloc(1, sizeof *s);
	if ((s->reader = applog_reader_open(a->log_path, a->log_keep,
		 (long)tail, &cause)) == NULL) {
		logstream_error(w, req, cause);
		free(cause);
		free(s);
		return;
	}
	s->id = xstrdup(stream);
	s->request = req->id;
	s->app = xstrdup(id);
	s->follow = follow;
	s->credit = LOGSTREAM_INITIAL_CREDIT;
	s->next = w->streams;
	w->streams = s;
	w->nstreams++;
	logstream_pump(w, s);
}

void
logstream_credit(struct worker *w, struct msg *req)
{
	const char *stream;
	long long credit;
	char *cause = NULL;
	struct logstream *s;

	if (msg_get_str(req, "stream", true, &stream, &cause) == -1 ||
	    msg_get_int(req, "credit", true, 1, 64, &credit, &cause) == -1) {
		log_warnx("bad LOG_CREDIT: %s", cause);
		free(cause);
		return;
	}
	if ((s = logstream_find(w, stream)) == NULL)
		return; /* it ended meanwhile */
	s->credit += (int)credit;
	if (s->credit > 64)
		s->credit = 64;
	logstream_pump(w, s);
}

void
logstream_cancel(struct worker *w, struct msg *req)
{
	const char *stream;
	char *cause = NULL;
	struct logstream *s;

	if (msg_get_str(req, "stream", true, &stream, &cause) == -1) {
		free(cause);
		return;
	}
	if ((s = logstream_find(w, stream)) != NULL)
		logstream_remove(w, s);
}

void
logstream_on_output(struct worker *w, struct app *a)
{
	struct logstream *s, *next;

	for (s = w->streams; s != NULL; s = next) {
		next = s->next;
		if (strcmp(s->app, a->id) == 0)
			logstream_pump(w, s);
	}
}

void
logstream_on_rotate(struct worker *w, struct app *a,
    const struct applog_rotation *rot)
{
	for (struct logstream *s = w->streams; s != NULL; s = s->next)
		if (strcmp(s->app, a->id) == 0 &&
		    applog_reader_rotated(s->reader, rot) == -1)
			log_warnx("log stream %s of %s: a rotated file could "
			    "not be opened; it goes on with the newest",
			    s->id, s->app);
}

void
logstream_on_forget(struct worker *w, struct app *a)
{
	struct logstream *s, *next;
	struct msg *m;
	char *why;

	for (s = w->streams; s != NULL; s = next) {
		next = s->next;
		if (strcmp(s->app, a->id) != 0)
			continue;
		/*
		 * An error, not the end of the log, so that the reader does
		 * not take what it got for all there was: it answers the
		 * MSG_LOGS that opened the stream, and the master ends the
		 * stream with it after the chunks already sent.
		 */
		why = xasprintf("app %s was forgotten while its log was read",
		    a->id);
		log_info("log stream %s: %s", s->id, why);
		m = msg_new(MSG_ERROR, s->request, jsonx_pack("{s:s, s:s}",
		    "error", why, "type", msg_type_name(MSG_LOGS)));
		if (worker_send(w, m) == -1)
			log_warnx("log stream %s of %s: the master cannot take "
			    "its end", s->id, s->app);
		msg_free(m);
		free(why);
		logstream_remove(w, s);
	}
}

void
logstream_free_all(struct worker *w)
{
	struct logstream *s, *next;

	for (s = w->streams; s != NULL; s = next) {
		next = s->next;
		logstream_free(s);
	}
	w->streams = NULL;
	w->nstreams = 0;
}
