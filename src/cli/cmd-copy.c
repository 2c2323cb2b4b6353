/*
 * copy: send an executable and the libraries it needs that the system does
 * not provide to one node or all, each file only where it is missing.
 */
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/elfdeps.h"
#include "common/xmem.h"

#define CMD_COPY_WITH_MAX 64
/* Files larger than this get a progress bar on a terminal. */
#define CMD_COPY_PROGRESS_MIN (1024 * 1024)

struct cmd_copy_file {
	char *path;
	char *name;
	const char *kind;
	char hash[65];
	unsigned long long size;
	int mode;
};

/* BLAKE2b-256 of the file, read in pieces: it may be large. */
static int
cmd_copy_hash(struct cmd_copy_file *f)
{
	unsigned char buf[65536], out[32];
	crypto_generichash_state st;
	struct stat sb;
	FILE *fp;
	size_t n;

	if ((fp = fopen(f->path, "rb")) == NULL)
		return -1;
	if (fstat(fileno(fp), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fclose(fp);
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	f->size = (unsigned long long)sb.st_size;
	f->mode = sb.st_mode & 07777;
	crypto_generichash_init(&st, NULL, 0, sizeof out);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		crypto_generichash_update(&st, buf, n);
	if (ferror(fp)) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	crypto_generichash_final(&st, out, sizeof out);
	sodium_bin2hex(f->hash, sizeof f->hash, out, sizeof out);
	return 0;
}

static void
cmd_copy_progress(unsigned long long sent, unsigned long long total, void *arg)
{
	const char *name = arg;
	int width = 30, filled = (int)(total > 0 ? sent * (unsigned long long)width
	    / total : 0);

	fprintf(stderr, "\r  %-24.24s [%-*.*s] %3d%%", name, width, filled,
	    "##############################", (int)(total > 0 ? sent * 100 /
	    total : 0));
	if (sent == total)
		fprintf(stderr, "\n");
}

static struct cmd_copy_file *
cmd_copy_by_hash(struct cmd_copy_file *files, size_t n, const char *hash)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].hash, hash) == 0)
			return &files[i];
	return NULL;
}

/* Send one file the nodes lack. */
static int
cmd_copy_upload(struct cmd_ctx *ctx, const char *upload,
    struct cmd_copy_file *f)
{
	json_t *reply = NULL;
	char *path, *cause = NULL;
	const char *err;
	bool bar = ctx->interactive || isatty(STDERR_FILENO);
	FILE *fp;
	int status;

	if ((fp = fopen(f->path, "rb")) == NULL) {
		fprintf(stderr, "drover: cannot read %s: %s\n", f->path,
		    strerror(errno));
		return CMD_FAILED;
	}
	path = xasprintf("/v1/uploads/%s/%s", upload, f->hash);
	status = client_upload(ctx->client, path, fp, f->size,
	    bar && f->size > CMD_COPY_PROGRESS_MIN && !ctx->json ?
	    cmd_copy_progress : NULL, f->name, &reply, &cause);
	fclose(fp);
	free(path);
	if (status == -1) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return CMD_FAILED;
	}
	if (status != 200) {
		err = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "drover: sending %s: %s\n", f->name,
		    err != NULL ? err : "failed");
		json_decref(reply);
		return CMD_FAILED;
	}
	json_decref(reply);
	return CMD_OK;
}

static void
cmd_copy_print(json_t *result)
{
	json_t *nodes = json_object_get(result, "nodes"), *n, *files, *f;
	size_t i, k;

	json_array_foreach(nodes, i, n) {
		const char *err = json_string_value(json_object_get(n, "error"));

		printf("%s:%s%s\n", json_string_value(json_object_get(n, "node")),
		    err != NULL ? " failed: " : "", err != NULL ? err : "");
		files = json_object_get(n, "files");
		json_array_foreach(files, k, f) {
			const char *st = json_string_value(json_object_get(f,
			    "status"));

			if (st != NULL && strcmp(st, "sent") == 0)
				printf("  %-32s sent (%lld bytes)\n",
				    json_string_value(json_object_get(f, "name")),
				    (long long)json_integer_value(
				    json_object_get(f, "size")));
			else
				printf("  %-32s %s\n", json_string_value(
				    json_object_get(f, "name")), st);
		}
	}
}

static int
cmd_copy_exec(struct cmd_ctx *ctx, struct args *a)
{
	const char *node = a->argv[0], *path = a->argv[1];
	const char *with[CMD_COPY_WITH_MAX], *name = args_get(a, "name");
	struct cmd_copy_file *files = NULL;
	struct elfdeps *deps;
	json_t *body, *list, *reply = NULL, *needed, *h, *n;
	char *cause = NULL, *base, *commit;
	size_t nfiles = 0, i;
	int nwith, rc = CMD_FAILED;

	nwith = args_get_all(a, "with", with, CMD_COPY_WITH_MAX);
	if ((deps = elfdeps_resolve(path, getenv("LD_LIBRARY_PATH"),
	    &cause)) == NULL) {
		fprintf(stderr, "drover: %s\n", cause);
		free(cause);
		return CMD_FAILED;
	}
	files = xcalloc(deps->nfiles + (size_t)nwith, sizeof *files);
	for (i = 0; i < deps->nfiles; i++) {
		files[nfiles].path = xstrdup(deps->files[i].path);
		files[nfiles].name = xstrdup(deps->files[i].name);
		files[nfiles].kind = deps->files[i].is_exe ? "exe" : "lib";
		nfiles++;
	}
	for (int w = 0; w < nwith; w++) {
		base = xstrdup(with[w]);
		files[nfiles].path = xstrdup(with[w]);
		files[nfiles].name = xstrdup(basename(base));
		files[nfiles].kind = "lib";
		free(base);
		nfiles++;
	}
	list = json_array();
	for (i = 0; i < nfiles; i++) {
		if (cmd_copy_hash(&files[i]) == -1) {
			fprintf(stderr, "drover: cannot read %s: %s\n",
			    files[i].path, strerror(errno));
			json_decref(list);
			goto out;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:s, s:i}",
		    "name", files[i].name, "hash", files[i].hash, "size",
		    (json_int_t)files[i].size, "kind", files[i].kind, "mode",
		    files[i].mode));
	}
	if (name == NULL)
		name = files[0].name;
	body = json_pack("{s:s, s:s, s:s?, s:o}", "name", name, "node", node,
	    "arch", deps->arch, "files", list);
	rc = cmd_call(ctx, "POST", "/v1/artifacts", body, &reply);
	json_decref(body);
	if (rc != CMD_OK)
		goto out;
	json_array_foreach(json_object_get(reply, "nodes"), i, n) {
		const char *err = json_string_value(json_object_get(n, "error"));

		if (err != NULL)
			fprintf(stderr, "drover: %s: %s\n", json_string_value(
			    json_object_get(n, "node")), err);
	}
	needed = json_object_get(reply, "needed");
	json_array_foreach(needed, i, h) {
		struct cmd_copy_file *f = cmd_copy_by_hash(files, nfiles,
		    json_string_value(h));

		if (f != NULL && (rc = cmd_copy_upload(ctx,
		    json_string_value(json_object_get(reply, "upload")),
		    f)) != CMD_OK)
			goto out;
	}
	commit = xasprintf("/v1/uploads/%s/commit", json_string_value(
	    json_object_get(reply, "upload")));
	json_decref(reply);
	reply = NULL;
	{
		char *ccause = NULL;
		int status = client_call(ctx->client, "POST", commit, NULL,
		    &reply, &ccause);

		free(commit);
		if (status == -1) {
			fprintf(stderr, "drover: %s\n", ccause);
			free(ccause);
			rc = CMD_FAILED;
			goto out;
		}
		if (ctx->json)
			cmd_print_json(reply);
		else
			cmd_copy_print(reply);
		rc = status == 201 ? CMD_OK : CMD_FAILED;
		if (rc != CMD_OK && json_object_get(reply, "nodes") == NULL)
			fprintf(stderr, "drover: %s\n", json_string_value(
			    json_object_get(reply, "error")));
	}
out:
	json_decref(reply);
	for (i = 0; i < nfiles; i++) {
		free(files[i].path);
		free(files[i].name);
	}
	free(files);
	elfdeps_free(deps);
	return rc;
}

const struct cmd_entry cmd_copy_entry = {
	.name = "copy",
	.usage = "NODE|all PATH [--name NAME] [--with FILE ...]",
	.summary = "copy an executable and its non-system libraries to nodes",
	.options = "name=,with=*",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_MUTATING,
	.exec = cmd_copy_exec,
};
