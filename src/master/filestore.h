/*
 * The master's own copy of every artifact file, content-addressed by its
 * BLAKE2b-256 hash: STATE/artifacts/<hash>. A file is written as its upload
 * streams through the master (beside the relay to the nodes, not instead of
 * it), kept only once its hash verified, and read back when an artifact
 * must be copied to a node that lacks it to reschedule an app there: the
 * node that held it is usually the one that just died, so a copy from node
 * to node cannot be relied on. Files no manifest references any more are
 * removed (filestore_gc).
 */
#ifndef DROVER_FILESTORE_H
#define DROVER_FILESTORE_H

#include <stdbool.h>
#include <stddef.h>

#define FILESTORE_HASH_LEN 64

struct filestore;
struct filestore_writer;

/*
 * Open (creating it) the store in dir and remove what an interrupted write
 * left in dir/tmp. Returns NULL with *cause (allocated) on failure.
 */
struct filestore *filestore_open(const char *dir, char **cause);
void filestore_free(struct filestore *);

/* Whether s is a content hash: 64 lower-case hex digits. */
bool filestore_hash_valid(const char *s);
/* Whether the store holds the file with this hash. */
bool filestore_has(struct filestore *, const char *hash);
/* The file opened for reading, or -1 with *cause (allocated). */
int filestore_open_file(struct filestore *, const char *hash, char **cause);

/*
 * Begin writing the file hash of size bytes, under a temporary name.
 * Returns NULL with *cause on failure.
 */
struct filestore_writer *filestore_begin(struct filestore *, const char *hash,
    unsigned long long size, char **cause);
/* Append the next bytes. Returns 0, or -1 with *cause (the writer stays). */
int filestore_write(struct filestore_writer *, const void *data, size_t len,
    char **cause);
/*
 * All bytes are in: check the size and the hash, fsync, and give the file
 * its name. Frees the writer either way. Returns 0, or -1 with *cause
 * (nothing is kept).
 */
int filestore_commit(struct filestore_writer *, char **cause);
/* Give up a file being written (NULL is fine). */
void filestore_abort(struct filestore_writer *);

/*
 * Remove every file for which keep(hash, arg) is false. Returns how many
 * were removed.
 */
size_t filestore_gc(struct filestore *, bool (*keep)(const char *hash,
    void *arg), void *arg);

#endif
