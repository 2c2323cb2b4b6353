/*
 * The web dashboard: static files built into the binary (the table is
 * generated from src/master/ui/ by tools/embed-files.py) and served at /ui/.
 * They hold no data and no secret, so they are served without a token; the
 * page asks for the admin token and sends it with every REST call it makes.
 */
#ifndef DROVER_API_UI_H
#define DROVER_API_UI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct api_request;

struct api_ui_file {
	const char *name; /* "index.html": the part of the path after /ui/ */
	const char *type; /* Content-Type */
	const char *etag; /* a hash of the bytes, quoted */
	const unsigned char *data;
	size_t len;
};

/* Every embedded file, ended by an entry whose name is NULL. */
extern const struct api_ui_file api_ui_files[];

/* Whether path is /ui or below it: the requests api_ui answers. */
bool api_ui_path(const char *path);
/*
 * GET /ui/ (index.html), GET /ui/FILE, /ui redirected to /ui/. Sets
 * req->response (or *reply for a JSON error) and returns the status.
 */
int api_ui(struct api_request *req, json_t **reply);

#endif
