/*
 * The worker's artifact store: where executables and libraries copied to
 * this node live.
 *
 *   DIR/store/<hash>        content-addressed files (BLAKE2b-256, lower hex)
 *   DIR/store/tmp/          uploads in progress
 *   DIR/artifacts/<name>/   bin/<exe>, lib/<soname...> (hard links to store
 *                           files) and manifest.json
 *
 * An artifact appears and is replaced by one rename of its whole directory,
 * so a reader sees the old artifact or the new one, never half of either.
 * Every name and hash here may come from the network: each is validated
 * before it touches a path, and nothing under DIR/artifacts is followed
 * through a symbolic link.
 */
#ifndef DROVER_STORE_H
#define DROVER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define STORE_HASH_LEN 64   /* hex characters of a BLAKE2b-256 digest */
#define STORE_NAME_MAX 128  /* longest artifact or file name */
#define STORE_FILES_MAX 256 /* files in one artifact */

struct store;
struct store_upload;

/*
 * Open the store under dir, creating store/, store/tmp/ and artifacts/.
 * Removes what a crash left behind: interrupted uploads and half-installed
 * artifacts. Returns NULL with *cause set (caller frees) on failure.
 */
struct store *store_open(const char *dir, char **cause);
/* Close the store; accepts NULL. */
void store_free(struct store *);

/* Whether the store holds the file with this hash (false for a bad hash). */
bool store_has(struct store *, const char *hash);
/*
 * Whether name may be an artifact or file name: 1..128 characters of
 * [A-Za-z0-9._+-], not starting with '.' or '-'.
 */
bool store_name_valid(const char *name);
/* Whether hash is 64 lower-case hex characters. */
bool store_hash_valid(const char *hash);

/*
 * Start receiving the content of store/<hash>, size bytes in all. Returns
 * NULL with *cause set for a bad hash or when the temporary file cannot be
 * created. The upload is finished or aborted by exactly one call below.
 */
struct store_upload *store_upload_begin(struct store *, const char *hash,
					unsigned long long size, char **cause);
/*
 * Append len bytes. Returns -1 with *cause set when they go beyond the
 * declared size or cannot be written (a full disk names ENOSPC); after a
 * failed write the upload can only be aborted.
 */
int store_upload_write(struct store_upload *, const void *data, size_t len,
		       char **cause);
/*
 * Check the size and hash, make the file durable and move it into the
 * store. Frees the upload whatever happens. Returns -1 with *cause set (and
 * nothing left behind) on a short upload, a hash mismatch or an I/O error.
 */
int store_upload_finish(struct store_upload *, char **cause);
/* Drop an upload and its temporary file; accepts NULL. */
void store_upload_abort(struct store_upload *);

/*
 * Install (or atomically replace) the artifact name from files, an array of
 * {"name", "hash", "kind": "exe"|"lib", "mode"} with exactly one exe, whose
 * hashes are all in the store. files is borrowed. Returns -1 with *cause set
 * when anything is refused or fails; the previous artifact then stays.
 */
int store_install(struct store *, const char *name, json_t *files,
		  char **cause);
/* Every installed manifest, sorted by name (new reference). */
json_t *store_list(struct store *);
/* The manifest of name (new reference), or NULL when there is none. */
json_t *store_manifest(struct store *, const char *name);
/*
 * Remove the artifact name, then the store files it used that no other
 * artifact uses. Returns -1 with *cause set when there is no such artifact
 * or it cannot be removed.
 */
int store_remove(struct store *, const char *name, char **cause);
/*
 * Absolute paths of an installed artifact's executable and library
 * directory, allocated for the caller to free. Returns -1 with *cause set
 * when there is no such artifact.
 */
int store_exec_path(struct store *, const char *name, char **exe_path,
		    char **lib_dir, char **cause);
/* Bytes free for the store's file system, or -1 when unknown. */
long long store_free_bytes(struct store *);

#endif
