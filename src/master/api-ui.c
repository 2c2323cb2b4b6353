/*
 * The dashboard's static files at /ui/. No token is asked for them: a
 * browser navigating to a page cannot send a bearer header, and the files
 * carry no data (every figure on the page comes from a /v1/ call the page
 * makes with the admin token). The headers keep the page to its own
 * origin: a Content-Security-Policy that allows scripts, styles and fetches
 * from this server only (no inline script, nothing remote), nosniff, no
 * framing, no referrer. Cache-Control: no-cache with an ETag lets a browser
 * keep a copy but ask each time, so a new binary is picked up at once.
 */
#include <microhttpd.h>
#include <string.h>

#include "master/api-ui.h"
#include "master/api.h"

#define API_UI_CSP                                                             \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "          \
	"form-action 'none'; frame-ancestors 'none'"

bool
api_ui_path(const char *path)
{
	return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0;
}

/* The embedded file called name, or NULL. */
static const struct api_ui_file *
api_ui_find(const char *name)
{
	for (const struct api_ui_file *f = api_ui_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Whether the client's If-None-Match names etag (or is "*"). */
static bool
api_ui_not_modified(struct api_request *req, const char *etag)
{
	const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);

	return h != NULL && (strcmp(h, "*") == 0 || strstr(h, etag) != NULL);
}

static void
api_ui_add_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS,
	    "nosniff");
	MHD_add_response_header(resp,
	    MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, API_UI_CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

/* A JSON error with an Allow header (405 must say what is allowed). */
static int
api_ui_not_allowed(struct api_request *req)
{
	static const char text[] = "{\"error\":\"use GET (or HEAD) for the "
	    "dashboard's files\"}\n";
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(sizeof text - 1, (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	req->response = resp;
	return 405;
}

int
api_ui(struct api_request *req, json_t **reply)
{
	const struct api_ui_file *f;
	struct MHD_Response *resp;
	const char *name;

	req->endpoint = "/ui/";
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return api_ui_not_allowed(req);
	if (strcmp(req->path, "/ui") == 0) {
		/* Relative links in the page resolve against /ui/, not /. */
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/ui/");
		api_ui_add_headers(resp);
		req->response = resp;
		return 301;
	}
	name = req->path + 4;
	if (*name == '\0')
		name = "index.html";
	/* Only the names in the table: no directories, no "..", no files. */
	if ((f = api_ui_find(name)) == NULL)
		return api_error(reply, 404, "no such file in the dashboard: %s",
		    name);
	if (api_ui_not_modified(req, f->etag)) {
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
		api_ui_add_headers(resp);
		req->response = resp;
		return 304;
	}
	resp = MHD_create_response_from_buffer(f->len, (void *)f->data,
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
	api_ui_add_headers(resp);
	req->response = resp;
	return 200;
}
