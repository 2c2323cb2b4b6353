#include "cli/client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"

/* Largest reply the client will hold in memory (a list of 100k apps fits). */
#define CLIENT_REPLY_MAX (256 * 1024 * 1024)

struct client {
	CURL *curl; /* one handle reused, so connections are kept alive */
	char *base;
	char *auth; /* "Authorization: Bearer ..." */
	char errbuf[CURL_ERROR_SIZE];
};

struct client_buf {
	char *data;
	size_t len;
	bool overflow;
};

struct client *
client_new(const char *base, const char *token)
{
	static bool initialised;
	struct client *c = xcalloc(1, sizeof *c);
	size_t len = strlen(base);

	if (!initialised) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialised = true;
	}
	c->base = xstrdup(base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	if (token != NULL)
		c->auth = xasprintf("Authorization: Bearer %s", token);
	if ((c->curl = curl_easy_init()) == NULL)
		abort();
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->auth);
	free(c);
}

const char *
client_base(const struct client *c)
{
	return c->base;
}

static size_t
client_on_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct client_buf *b = arg;
	size_t len = size * n;

	if (b->len + len > CLIENT_REPLY_MAX) {
		b->overflow = true;
		return 0;
	}
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, ptr, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* Set up the handle for one request; returns the header list to free. */
static struct curl_slist *
client_prepare(struct client *c, const char *method, const char *path,
    const char *body)
{
	struct curl_slist *h = NULL;
	char *url = xasprintf("%s%s", c->base, path);

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (c->auth != NULL)
		h = curl_slist_append(h, c->auth);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	c->errbuf[0] = '\0';
	return h;
}

static char *
client_failure(struct client *c, CURLcode rc)
{
	return xasprintf("cannot reach master at %s: %s", c->base,
	    c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc));
}

int
client_call(struct client *c, const char *method, const char *path,
    json_t *body, json_t **reply, char **cause)
{
	struct client_buf buf = { 0 };
	struct curl_slist *h;
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = 0;
	CURLcode rc;

	*reply = NULL;
	h = client_prepare(c, method, path, text);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &buf);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	free(text);
	if (rc != CURLE_OK) {
		if (buf.overflow)
			*cause = xstrdup("the master's reply is too large");
		else
			*cause = client_failure(c, rc);
		free(buf.data);
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (buf.len > 0)
		*reply = json_loadb(buf.data, buf.len, 0, NULL);
	free(buf.data);
	return (int)status;
}

struct client_stream_ctx {
	size_t (*write)(const char *, size_t, void *);
	void *arg;
};

static size_t
client_on_stream(char *ptr, size_t size, size_t n, void *arg)
{
	struct client_stream_ctx *s = arg;

	return s->write(ptr, size * n, s->arg);
}

int
client_stream(struct client *c, const char *path,
    size_t (*write)(const char *, size_t, void *), void *arg, char **cause)
{
	struct client_stream_ctx s = { write, arg };
	struct curl_slist *h;
	long status = 0;
	CURLcode rc;

	h = client_prepare(c, "GET", path, NULL);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_on_stream);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
		*cause = client_failure(c, rc);
		return -1;
	}
	return (int)status;
}

struct client_upload_ctx {
	FILE *f;
	void (*progress)(unsigned long long, unsigned long long, void *);
	void *arg;
};

static size_t
client_on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct client_upload_ctx *u = arg;
	size_t got = fread(buf, size, n, u->f);

	return ferror(u->f) ? CURL_READFUNC_ABORT : got;
}

static int
client_on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct client_upload_ctx *u = arg;

	(void)dltotal;
	(void)dlnow;
	if (u->progress != NULL && ultotal > 0)
		u->progress((unsigned long long)ulnow,
		    (unsigned long long)ultotal, u->arg);
	return 0;
}

int
client_upload(struct client *c, const char *path, FILE *f,
    unsigned long long size,
    void (*progress)(unsigned long long, unsigned long long, void *),
    void *arg, json_t **reply, char **cause)
{
	struct client_upload_ctx u = { f, progress, arg };
	struct client_buf buf = { 0 };
	struct curl_slist *h;
	long status = 0;
	CURLcode rc;

	*reply = NULL;
	h = client_prepare(c, "PUT", path, NULL);
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, client_on_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, client_on_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &u);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &buf);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		*cause = client_failure(c, rc);
		free(buf.data);
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (buf.len > 0)
		*reply = json_loadb(buf.data, buf.len, 0, NULL);
	free(buf.data);
	return (int)status;
}
