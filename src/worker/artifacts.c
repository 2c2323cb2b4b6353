#include "worker/artifacts.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/xmem.h"
#include "worker/app.h"
#include "worker/spawn.h"
#include "worker/store.h"
#include "worker/worker.h"

/* Files being received at once; more are refused, not queued. */
#define ARTIFACTS_INCOMING_MAX 64

/* A file on its way in. */
struct incoming {
	char id[32]; /* the master's transfer id */
	struct store_upload *upload;
	char hash[STORE_HASH_LEN + 1];
	struct incoming *next;
};

const char *
artifacts_arch(void)
{
	static struct utsname u;

	if (u.machine[0] == '\0' && uname(&u) == -1)
		return "unknown";
	return u.machine;
}

static void
artifacts_reply(struct worker *w, struct msg *req, int type, json_t *body)
{
	struct msg *r = msg_reply(req, type, body);

	worker_send(w, r);
	msg_free(r);
}

static void
artifacts_error(struct worker *w, struct msg *req, const char *text)
{
	struct msg *r = msg_error_reply(req, "%s", text);

	worker_send(w, r);
	msg_free(r);
}

static struct incoming *
artifacts_find(struct worker *w, const char *id, struct incoming ***prev)
{
	for (struct incoming **p = &w->incoming; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->id, id) == 0) {
			if (prev != NULL)
				*prev = p;
			return *p;
		}
	}
	return NULL;
}

/* Unlink the incoming file and free it (the upload must be finished). */
static void
artifacts_drop(struct worker *w, struct incoming *in)
{
	for (struct incoming **p = &w->incoming; *p != NULL; p = &(*p)->next) {
		if (*p == in) {
			*p = in->next;
			break;
		}
	}
	w->nincoming--;
	free(in);
}

void
artifacts_have(struct worker *w, struct msg *req)
{
	json_t *hashes, *present = json_array(), *h;
	char *cause = NULL;
	size_t i;

	if (jsonx_get_array(req->body, "hashes", true, &hashes, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		json_decref(present);
		return;
	}
	json_array_foreach(hashes, i, h) {
		const char *s = json_string_value(h);

		if (s != NULL && store_hash_valid(s) && store_has(w->store, s))
			json_array_append(present, h);
	}
	artifacts_reply(w, req, MSG_ARTIFACT_HAVE_REPLY, json_pack(
	    "{s:o, s:s, s:I}", "present", present, "arch", artifacts_arch(),
	    "free_bytes", (json_int_t)store_free_bytes(w->store)));
}

void
artifacts_file_begin(struct worker *w, struct msg *req)
{
	const char *id, *hash;
	long long size;
	char *cause = NULL;
	struct incoming *in;
	struct store_upload *up;

	if (msg_get_str(req, "transfer", true, &id, &cause) == -1 ||
	    msg_get_str(req, "hash", true, &hash, &cause) == -1 ||
	    msg_get_int(req, "size", true, 0, 1LL << 42, &size, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		return;
	}
	if (strlen(id) >= sizeof in->id || artifacts_find(w, id, NULL) != NULL ||
	    w->nincoming >= ARTIFACTS_INCOMING_MAX) {
		artifacts_error(w, req, "too many files arriving at once");
		return;
	}
	if ((up = store_upload_begin(w->store, hash,
	    (unsigned long long)size, &cause)) == NULL) {
		artifacts_error(w, req, cause);
		free(cause);
		return;
	}
	in = xcalloc(1, sizeof *in);
	snprintf(in->id, sizeof in->id, "%s", id);
	snprintf(in->hash, sizeof in->hash, "%s", hash);
	in->upload = up;
	in->next = w->incoming;
	w->incoming = in;
	w->nincoming++;
	artifacts_reply(w, req, MSG_FILE_CREDIT, json_pack("{s:s, s:i}",
	    "transfer", id, "credit", ARTIFACTS_CREDIT));
}

void
artifacts_file_chunk(struct worker *w, struct msg *req)
{
	const char *id = json_string_value(json_object_get(req->body,
	    "transfer"));
	struct incoming *in;
	char *cause = NULL;

	if (id == NULL || (in = artifacts_find(w, id, NULL)) == NULL)
		return; /* it failed before; the master was told then */
	if (store_upload_write(in->upload, req->data, req->len, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		store_upload_abort(in->upload);
		artifacts_drop(w, in);
		return;
	}
	/* Written: room for one more. */
	artifacts_reply(w, req, MSG_FILE_CREDIT, json_pack("{s:s, s:i}",
	    "transfer", id, "credit", 1));
}

void
artifacts_file_end(struct worker *w, struct msg *req)
{
	const char *id = json_string_value(json_object_get(req->body,
	    "transfer"));
	struct incoming *in;
	char *cause = NULL;

	if (id == NULL || (in = artifacts_find(w, id, NULL)) == NULL) {
		artifacts_error(w, req, "no such transfer (it failed earlier)");
		return;
	}
	if (store_upload_finish(in->upload, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
	} else {
		log_info("stored %.12s", in->hash);
		artifacts_reply(w, req, MSG_FILE_DONE, json_pack("{s:s, s:s}",
		    "transfer", id, "hash", in->hash));
	}
	artifacts_drop(w, in);
}

void
artifacts_file_abort(struct worker *w, struct msg *req)
{
	const char *id = json_string_value(json_object_get(req->body,
	    "transfer"));
	struct incoming *in;

	if (id == NULL || (in = artifacts_find(w, id, NULL)) == NULL)
		return;
	store_upload_abort(in->upload);
	artifacts_drop(w, in);
}

void
artifacts_abort_all(struct worker *w)
{
	while (w->incoming != NULL) {
		store_upload_abort(w->incoming->upload);
		artifacts_drop(w, w->incoming);
	}
}

void
artifacts_install(struct worker *w, struct msg *req)
{
	const char *name;
	json_t *files, *manifest;
	char *cause = NULL;

	if (msg_get_str(req, "name", true, &name, &cause) == -1 ||
	    jsonx_get_array(req->body, "files", true, &files, &cause) == -1 ||
	    store_install(w->store, name, files, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		return;
	}
	if ((manifest = store_manifest(w->store, name)) == NULL) {
		artifacts_error(w, req, "installed, but its manifest is unreadable");
		return;
	}
	log_info("artifact %s installed", name);
	artifacts_reply(w, req, MSG_ARTIFACT_INSTALLED, manifest);
}

void
artifacts_delete(struct worker *w, struct msg *req)
{
	const char *name;
	bool force = false;
	char *cause = NULL, *busy = NULL;

	if (msg_get_str(req, "name", true, &name, &cause) == -1 ||
	    jsonx_get_bool(req->body, "force", false, &force, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		return;
	}
	/* Apps running from it: refused, or with force, killed first. */
	for (struct app *a = w->apps; a != NULL; a = a->next) {
		if (a->artifact == NULL || strcmp(a->artifact, name) != 0 ||
		    (a->phase != APP_RUNNING && a->phase != APP_STOPPING &&
		    a->phase != APP_WAITING))
			continue;
		if (force) {
			app_signal_group(a, SIGKILL);
			continue;
		}
		char *more = xasprintf("%s%s%s", busy != NULL ? busy : "",
		    busy != NULL ? ", " : "", a->id);

		free(busy);
		busy = more;
	}
	if (busy != NULL) {
		cause = xasprintf("artifact %s is in use by %s (use --force)",
		    name, busy);
		artifacts_error(w, req, cause);
		free(cause);
		free(busy);
		return;
	}
	if (store_remove(w->store, name, &cause) == -1) {
		artifacts_error(w, req, cause);
		free(cause);
		return;
	}
	log_info("artifact %s deleted", name);
	artifacts_reply(w, req, MSG_ARTIFACT_DELETED, json_pack("{s:s}", "name",
	    name));
}
