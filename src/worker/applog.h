/*
 * An app's log: the bytes the worker reads from the app's output pipe,
 * appended to DIR/output.log, rotated at a size limit into output.log.1 ..
 * output.log.KEEP. The worker holds the pipe, so rotating loses nothing: the
 * app keeps writing into the pipe while the file is renamed and reopened.
 *
 * A reader (for `logs`) opens every file at once, oldest first, so a
 * rotation during the read renames files under it without losing its place.
 */
#ifndef DROVER_APPLOG_H
#define DROVER_APPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define APPLOG_MAX_KEEP 16

struct applog {
	char *path; /* the current file */
	int fd;
	off_t size;
	off_t max;
	int keep;
};

/* Open (append to) path. Returns NULL with *cause on failure. */
struct applog *applog_open(const char *path, off_t max, int keep, char **cause);
/* Append len bytes, rotating first when the file is full. 0 or -1 (errno). */
int applog_write(struct applog *, const void *buf, size_t len);
void applog_close(struct applog *);

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
void applog_reader_close(struct applog_reader *);

#endif
