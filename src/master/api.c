#include "master/api.h"
#include "master/db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"
#include "master/api-ui.h"
#include "master/master.h"
#include "master/metrics.h"

/* Answered requests waiting for the loop turn's commit. */
#define API_RELEASE_MAX 65536

struct api {
	struct master *master;
	struct MHD_Daemon *daemon;
	struct api_request **to_release;
	size_t nrelease;
	size_t cap;
	size_t answering; /* requests routed and not yet completed */
	bool draining;	  /* the master stops: new requests get a 503 */
};

/* The context of a request whose request line holds a raw NUL byte. */
static char api_bad_request_line;

/* Routes. ":x" matches one path segment, handed to the handler in params. */
static const struct api_route api_routes[] = {
	{ "GET", "/v1/nodes", api_nodes_list, NULL },
	{ "GET", "/v1/nodes/:name", api_nodes_get, NULL },
	{ "GET", "/v1/nodes/:name/usage", api_nodes_usage, NULL },
	{ "POST", "/v1/apps", api_apps_create, NULL },
	{ "GET", "/v1/apps", api_apps_list, NULL },
	{ "GET", "/v1/apps/:id", api_apps_get, NULL },
	{ "POST", "/v1/apps/:id/stop", api_apps_stop, NULL },
	{ "POST", "/v1/apps/:id/signal", api_apps_signal, NULL },
	{ "GET", "/v1/apps/:id/logs", api_apps_logs, NULL },
	{ "GET", "/v1/apps/:id/usage", api_apps_usage, NULL },
	{ "GET", "/v1/artifacts", api_artifacts_list, NULL },
	{ "POST", "/v1/artifacts", api_artifacts_create, NULL },
	{ "DELETE", "/v1/artifacts/:name", api_artifacts_delete, NULL },
	{ "PUT", "/v1/uploads/:id/:hash", api_uploads_put, api_uploads_data },
	{ "POST", "/v1/uploads/:id/commit", api_uploads_commit, NULL },
	{ "GET", "/v1/events", api_events_list, NULL },
};

int
api_error(json_t **reply, int status, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	*reply = json_pack("{s:s}", "error", text);
	return status;
}

const char *
api_query(struct api_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

int
api_body_object(struct api_request *req, const char *const *fields,
    json_t **body, json_t **reply)
{
	json_error_t jerr;
	char *cause = NULL;

	*body = NULL;
	if (req->body_len == 0) {
		api_error(reply, 400, "request body must be a JSON object");
		return -1;
	}
	*body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (*body == NULL) {
		api_error(reply, 400, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(*body)) {
		json_decref(*body);
		*body = NULL;
		api_error(reply, 400, "request body must be a JSON object");
		return -1;
	}
	if (fields != NULL && jsonx_check_fields(*body, fields, &cause) == -1) {
		json_decref(*body);
		*body = NULL;
		api_error(reply, 400, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

void
api_pause(struct api_request *req)
{
	if (!req->paused) {
		req->paused = true;
		MHD_suspend_connection(req->conn);
	}
}

void
api_unpause(struct api_request *req)
{
	if (req->paused) {
		req->paused = false;
		MHD_resume_connection(req->conn);
	}
}

void
api_suspend(struct api_request *req)
{
	req->suspended = true;
	MHD_suspend_connection(req->conn);
}

void
api_complete(struct api_request *req, int status, json_t *reply)
{
	struct api *api = req->master->api;

	req->status = status;
	req->reply = reply;
	req->done = true;
	/*
	 * Not resumed here: the answer goes out after the loop turn's commit
	 * (api_release), so a client never hears of a change the state
	 * database could still lose. One commit serves every answer of the
	 * turn (group commit).
	 */
	if (api->nrelease == api->cap) {
		api->cap = api->cap == 0 ? 64 : api->cap * 2;
		api->to_release = xreallocarray(api->to_release, api->cap,
		    sizeof *api->to_release);
	}
	api->to_release[api->nrelease++] = req;
}

void
api_complete_now(struct api_request *req, int status, json_t *reply)
{
	req->status = status;
	req->reply = reply;
	req->done = true;
	MHD_resume_connection(req->conn);
}

void
api_release(struct api *api)
{
	for (size_t i = 0; i < api->nrelease; i++)
		MHD_resume_connection(api->to_release[i]->conn);
	api->nrelease = 0;
}

void
api_refuse_held(struct api *api, int status, const char *why)
{
	for (size_t i = 0; i < api->nrelease; i++) {
		struct api_request *req = api->to_release[i];

		json_decref(req->reply);
		req->reply = json_pack("{s:s}", "error", why);
		req->status = status;
		if (req->response != NULL) {
			MHD_destroy_response(req->response);
			req->response = NULL;
		}
	}
	api_release(api);
}

size_t
api_pending_releases(struct api *api)
{
	return api->nrelease;
}

/*
 * Match path against pattern segment by segment. On a match, fills params
 * with the ":" segments (allocated) and returns true.
 */
static bool
api_match(const char *pattern, const char *path, char **params)
{
	const char *p = pattern, *u = path;
	int np = 0;

	while (*p != '\0' && *u != '\0') {
		if (*p != '/' || *u != '/')
			goto no;
		p++;
		u++;
		const char *pe = strchrnul(p, '/'), *ue = strchrnul(u, '/');

		if (*p == ':') {
			if (ue == u || np == API_PARAMS_MAX)
				goto no;
			params[np++] = xstrndup(u, (size_t)(ue - u));
		} else if (pe - p != ue - u || strncmp(p, u, (size_t)(pe - p)) != 0)
			goto no;
		p = pe;
		u = ue;
	}
	if (*p == '\0' && (*u == '\0' || strcmp(u, "/") == 0))
		return true;
no:
	for (int i = 0; i < np; i++) {
		free(params[i]);
		params[i] = NULL;
	}
	return false;
}

/* Bearer token check in constant time, so timing reveals nothing of it. */
static bool
api_authorized(struct api_request *req)
{
	const char *h, *want = req->master->admin_token;
	size_t hl, wl = strlen(want);

	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	hl = strlen(h);
	if (hl != wl)
		return false;
	return sodium_memcmp(h, want, wl) == 0;
}

/* /metrics: the metrics token, if there is one, or the admin token. */
static int
api_metrics(struct api_request *req, json_t **reply)
{
	const char *h, *want = req->master->metrics_token;
	struct MHD_Response *resp;
	char *text;

	req->endpoint = "/metrics";
	if (strcmp(req->method, "GET") != 0)
		return api_error(reply, 405, "use GET for /metrics");
	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!api_authorized(req) && (want == NULL || h == NULL ||
	    strncmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != strlen(want) ||
	    sodium_memcmp(h + 7, want, strlen(want)) != 0))
		return api_error(reply, 401, "missing or wrong metrics token "
		    "(send Authorization: Bearer <token>)");
	text = metrics_render(req->master);
	resp = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	req->response = resp;
	return 200;
}

static int
api_dispatch(struct api_request *req, json_t **reply)
{
	bool path_known = false;

	req->endpoint = "other";
	if (strcmp(req->path, "/metrics") == 0)
		return api_metrics(req, reply);
	/* The dashboard's static files: no data in them, so no token. */
	if (api_ui_path(req->path))
		return api_ui(req, reply);
	if (strcmp(req->path, "/healthz") == 0) {
		req->endpoint = "/healthz";
		if (strcmp(req->method, "GET") != 0)
			return api_error(reply, 405, "use GET for /healthz");
		*reply = json_pack("{s:s}", "status", "ok");
		return 200;
	}
	if (strncmp(req->path, "/v1/", 4) != 0)
		return api_error(reply, 404, "no such endpoint: %s", req->path);
	if (!api_authorized(req))
		return api_error(reply, 401, "missing or wrong admin token "
		    "(send Authorization: Bearer <token>)");
	if (req->rejected && req->route != NULL && req->ctx == NULL)
		return api_error(reply, 400, "upload refused");
	if (req->body_too_large)
		return api_error(reply, 413, "request body over %d bytes",
		    API_BODY_MAX);

	if (req->route != NULL) {
		req->endpoint = req->route->pattern;
		return req->route->handler(req, reply);
	}
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		const struct api_route *r = &api_routes[i];

		if (!api_match(r->pattern, req->path, req->params))
			continue;
		req->endpoint = r->pattern;
		if (strcmp(r->method, req->method) != 0) {
			for (int k = 0; k < API_PARAMS_MAX; k++) {
				free(req->params[k]);
				req->params[k] = NULL;
			}
			path_known = true;
			continue;
		}
		return r->handler(req, reply);
	}
	if (path_known)
		return api_error(reply, 405, "method %s not allowed on %s",
		    req->method, req->path);
	return api_error(reply, 404, "no such endpoint: %s", req->path);
}

/*
 * A route whose body is streamed must be known before the body arrives,
 * and so must the client's right to send it.
 */
static void
api_find_stream_route(struct api_request *req)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		const struct api_route *r = &api_routes[i];

		if (r->upload == NULL || strcmp(r->method, req->method) != 0)
			continue;
		if (!api_match(r->pattern, req->path, req->params))
			continue;
		req->route = r;
		if (!api_authorized(req))
			req->rejected = true;
		return;
	}
}

static enum MHD_Result
api_queue_json(struct MHD_Connection *conn, int status, json_t *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char *text;
	size_t len;

	if (reply == NULL)
		reply = json_object();
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	rc = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
api_on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct api *api = cls;
	struct api_request *req = *con_cls;
	json_t *reply = NULL;
	int status;

	if ((void *)req == (void *)&api_bad_request_line) {
		*con_cls = NULL;
		return api_queue_json(conn, 400, json_pack("{s:s}", "error",
		    "malformed request line (a NUL byte in the URL)"));
	}
	if (req == NULL) {
		if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0 &&
		    strcmp(version, MHD_HTTP_VERSION_1_0) != 0) {
			json_t *e = json_pack("{s:s}", "error", "malformed "
			    "request line (HTTP/1.0 or 1.1 expected)");

			return api_queue_json(conn, 400, e);
		}
		req = xcalloc(1, sizeof *req);
		req->master = api->master;
		req->conn = conn;
		snprintf(req->method, sizeof req->method, "%s", method);
		req->path = xstrdup(url);
		req->started_us = util_now_us();
		*con_cls = req;
		api_find_stream_route(req);
		return MHD_YES;
	}
	if (*upload_size != 0 && req->route != NULL) {
		long took;

		/* Nothing from an unauthorised client is looked at. */
		if (req->rejected) {
			*upload_size = 0;
			return MHD_YES;
		}
		took = req->route->upload(req, upload, *upload_size);
		if (took < 0) {
			req->rejected = true;
			*upload_size = 0;
		} else if (took == 0)
			api_pause(req);
		else
			*upload_size -= (size_t)took;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/* Keep reading a body that is too large, but store none of it. */
		if (!req->body_too_large &&
		    req->body_len + *upload_size <= API_BODY_MAX) {
			req->body = xrealloc(req->body, req->body_len +
			    *upload_size + 1);
			memcpy(req->body + req->body_len, upload, *upload_size);
			req->body_len += *upload_size;
			req->body[req->body_len] = '\0';
		} else {
			req->body_too_large = true;
			free(req->body);
			req->body = NULL;
			req->body_len = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->suspended) {
		if (!req->done)
			return MHD_YES;
		reply = req->reply;
		req->reply = NULL;
		status = req->status;
	} else if (api->draining) {
		req->routed = true;
		api->answering++;
		status = api_error(&reply, 503, "the master is shutting down");
	} else {
		uint64_t writes = db_writes(api->master->db);

		req->routed = true;
		api->answering++;
		status = api_dispatch(req, &reply);
		if (status == API_PENDING)
			return MHD_YES;
		if (db_writes(api->master->db) != writes) {
			/* It changed the state: answered after the commit. */
			api_suspend(req);
			api_complete(req, status, reply);
			return MHD_YES;
		}
	}
	log_trace(TRACE_HTTP, "%s %s -> %d", req->method, req->path, status);
	metrics_count_request(api->master->metrics, req->method,
	    req->endpoint != NULL ? req->endpoint : "other", status,
	    (double)(util_now_us() - req->started_us) / 1e6);
	if (req->response != NULL) {
		enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status,
		    req->response);

		MHD_destroy_response(req->response);
		req->response = NULL;
		json_decref(reply);
		return rc;
	}
	return api_queue_json(conn, status, reply);
}

static void
api_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	struct api_request *req = *con_cls;

	(void)conn;
	(void)toe;
	/*
	 * The marker, not a request, when the client left after a request
	 * line with a NUL byte and before the handler ever ran.
	 */
	if (req == NULL || (void *)req == (void *)&api_bad_request_line)
		return;
	if (req->routed)
		api->answering--;
	if (req->ctx != NULL && req->ctx_free != NULL)
		req->ctx_free(req->ctx);
	for (int i = 0; i < API_PARAMS_MAX; i++)
		free(req->params[i]);
	json_decref(req->reply);
	free(req->body);
	free(req->path);
	free(req);
	*con_cls = NULL;
}

static int
api_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decoding of paths and query arguments, in place. "%00" is left
 * as it is: decoded, it would end the C string and "app-1%00x" would name
 * app-1. Left encoded, it makes a name no validation accepts.
 */
static size_t
api_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	(void)cls;
	(void)conn;
	while (*r != '\0') {
		if (*r == '%' && (hi = api_hex(r[1])) >= 0 &&
		    (lo = api_hex(r[2])) >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/*
 * Called with the raw URI before libmicrohttpd parses it. It cut the
 * request line at the space before "HTTP/1.x", so that is what follows the
 * URI's end; if something else does, a raw NUL byte ended the URI early,
 * and "/v1/artifacts/tool\0x" must not be taken for "/v1/artifacts/tool".
 */
static void *
api_check_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	if (strncmp(uri + strlen(uri) + 1, "HTTP/", 5) != 0)
		return &api_bad_request_line;
	return NULL;
}

static void
api_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	util_chomp(line);
	log_debug("http: %s", line);
}

struct api *
api_start(struct master *m, const char *addr, char **cause)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char *host = NULL, portstr[16];
	struct api *api;
	int port, gai;
	unsigned flags;

	if (util_parse_hostport(addr, &host, &port, cause) == -1)
		return NULL;
	snprintf(portstr, sizeof portstr, "%d", port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		*cause = xasprintf("cannot resolve API address %s: %s", addr,
		    gai_strerror(gai));
		free(host);
		return NULL;
	}
	free(host);
	api = xcalloc(1, sizeof *api);
	api->master = m;
	if (m->metrics == NULL)
		m->metrics = metrics_new();
	/*
	 * No internal thread: the master's loop polls MHD's epoll descriptor
	 * beside the ZeroMQ socket and calls MHD_run, so all state stays on
	 * one thread.
	 */
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (res->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	api->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
	    api_on_request, api,
	    MHD_OPTION_SOCK_ADDR, res->ai_addr,
	    MHD_OPTION_NOTIFY_COMPLETED, api_on_completed, api,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_EXTERNAL_LOGGER, api_on_mhd_log, api,
	    MHD_OPTION_UNESCAPE_CALLBACK, api_unescape, api,
	    MHD_OPTION_URI_LOG_CALLBACK, api_check_request_line, api,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_END);
	freeaddrinfo(res);
	if (api->daemon == NULL) {
		*cause = xasprintf("cannot serve the REST API on %s (port in use?)",
		    addr);
		free(api);
		return NULL;
	}
	return api;
}

void
api_stop(struct api *api)
{
	if (api == NULL)
		return;
	api_release(api);
	MHD_stop_daemon(api->daemon);
	metrics_free(api->master->metrics);
	api->master->metrics = NULL;
	free(api->to_release);
	free(api);
}

int
api_fd(struct api *api)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	return info != NULL ? info->epoll_fd : -1;
}

long
api_timeout_ms(struct api *api)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(api->daemon, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (long)t;
}

void
api_run(struct api *api)
{
	MHD_run(api->daemon);
}

void
api_drain(struct api *api, int timeout_ms)
{
	int64_t deadline = util_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = api_fd(api), .events = POLLIN };

	api->draining = true;
	api_release(api);
	MHD_run(api->daemon);
	/*
	 * Only requests with an answer due are waited for: one still being
	 * received may come from a client long gone (libmicrohttpd notices a
	 * close that came with the last bytes only at its timeout), and gets
	 * its 503 if its last bytes arrive meanwhile.
	 */
	while (api->answering > 0 && util_now_ms() < deadline) {
		long wait = api_timeout_ms(api);
		int64_t left = deadline - util_now_ms();

		if (wait < 0 || wait > left)
			wait = left;
		if (wait > 0 && poll(&pfd, 1, (int)wait) == -1 &&
		    errno != EINTR)
			break;
		MHD_run(api->daemon);
	}
	if (api->answering > 0)
		log_info("stopping with %zu REST answer%s not sent",
		    api->answering, api->answering == 1 ? "" : "s");
}
