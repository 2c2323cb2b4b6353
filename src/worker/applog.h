/*
 * An app's log: DIR/output.log, rotated at a size limit into output.log.1
 * (newest) .. output.log.KEEP (oldest). The app writes it itself: its
 * stdout and stderr are output.log, opened O_APPEND, for its whole life,
 * so a rename would leave it writing into output.log.1. applog_rotate_file
 * rotates the log in place instead: it copies whole chunks from the start
 * of the file into the rotated files, then cuts them off the start with
 * fallocate(FALLOC_FL_COLLAPSE_RANGE), which the kernel orders with the
 * app's appends, so they are neither lost nor copied twice.
 *
 * A reader (for `logs`) opens every file at once, oldest first. An
 * in-place rotation shifts the current file's bytes under it:
 * applog_reader_rotated puts it back on the next byte it has not read.
 * Logs an older version's shims wrote rotate by renaming instead (the shim
 * held the app's output pipe and reopened the file); a reader follows
 * those renames by itself.
 */
#ifndef DROVER_APPLOG_H
#define DROVER_APPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define APPLOG_MAX_KEEP 16

/*
 * What applog_rotate_file did, for the log's readers. The moved bytes were
 * the start of output.log: the first dropped of them are kept nowhere, the
 * others are in the new rotated files, from output.log.FILES (oldest) to
 * output.log.1.
 */
struct applog_rotation {
	off_t moved;	/* bytes taken off the start of output.log */
	off_t dropped;	/* of those, the oldest ones that were not kept */
	int files;	/* new rotated files, output.log.1 .. .FILES */
	bool truncated; /* by copy-then-truncate: a write may have been lost */
};

/*
 * Rotate the log at path in place if it holds more than max bytes, while
 * its app goes on appending to it; keep is how many rotated files to keep
 * (0 .. APPLOG_MAX_KEEP).
 *
 * Whole chunks of max bytes, rounded down to the filesystem's block size
 * (at least one block: COLLAPSE_RANGE cuts whole blocks), are taken off the
 * start of the file. The newest keep of them become output.log.1 (newest)
 * .. output.log.KEEP, one chunk each, after the older rotated files moved
 * up as many places (those pushed beyond keep are removed); older chunks
 * are dropped without being copied. COLLAPSE_RANGE cannot reach the end of
 * the file, so the file always keeps its last chunk, whole or partial: it
 * ends with at most one chunk (at most max bytes, or one block when max is
 * smaller), plus what the app appended meanwhile, and a file of at most one
 * chunk is left as it is.
 *
 * Where the filesystem cannot collapse a range (EOPNOTSUPP: tmpfs, btrfs;
 * EINVAL: a stricter alignment than st_blksize, as with ext4's bigalloc),
 * this falls back on copy-then-truncate, as logrotate's copytruncate does:
 * the chunks are copied as above, the rest of the file is appended to
 * output.log.1 (or dropped when keep is 0), and the file is truncated to
 * nothing. What the app writes between the end of that copy and the
 * truncation is lost; the first such rotation in a process logs a warning.
 *
 * Fills *rot (rot->moved is 0 when nothing was done), to be passed to
 * applog_reader_rotated for each reader of this log. Returns 0, or -1 with
 * *cause (allocated, the caller frees it): the file is then as it was, but
 * older rotated files may have been moved up or removed.
 */
int applog_rotate_file(const char *path, off_t max, int keep,
    struct applog_rotation *rot, char **cause);

struct applog_reader {
	char *path;		     /* the current file's name */
	int keep;
	int fds[APPLOG_MAX_KEEP + 1]; /* oldest first; the last is the newest */
	int nfds;
	int cur;		     /* index being read */
};

/*
 * Open a reader on the log at path (kept keep rotations), positioned so that
 * the last tail lines follow (tail < 0: from the very start). Returns NULL
 * with *cause when there is no log at all.
 */
struct applog_reader *applog_reader_open(const char *path, int keep,
    long tail, char **cause);
/*
 * Read up to len bytes. Returns the count, 0 at the end of what is written
 * so far (more may come), -1 on error. Moves on to a newer file when the
 * one being read was rotated away.
 */
ssize_t applog_reader_read(struct applog_reader *, void *buf, size_t len);
/*
 * After applog_rotate_file rotated this reader's log (rot), put the reader
 * back on the next byte it has not read: further on in the current file if
 * that byte stayed there, else in the new rotated files, which it opens. A
 * reader further behind than what was kept goes on with the oldest byte
 * left. Returns 0, or -1 (errno) when a rotated file could not be opened:
 * the reader then goes on at the start of the current file.
 */
int applog_reader_rotated(struct applog_reader *,
    const struct applog_rotation *rot);
void applog_reader_close(struct applog_reader *);

#endif
