#include "worker/applog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmem.h"

struct applog *
applog_open(const char *path, off_t max, int keep, char **cause)
{
	struct applog *l;
	struct stat st;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0640)) == -1) {
		*cause = xasprintf("cannot open log %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->path = xstrdup(path);
	l->fd = fd;
	l->size = fstat(fd, &st) == 0 ? st.st_size : 0;
	l->max = max > 0 ? max : 64 * 1024 * 1024;
	l->keep = keep < 0 ? 0 : keep > APPLOG_MAX_KEEP ? APPLOG_MAX_KEEP : keep;
	return l;
}

/* output.log -> .1 -> .2 ...; the oldest beyond keep is removed. */
static void
applog_rotate(struct applog *l)
{
	char from[4096], to[4096];
	int fd;

	for (int i = l->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", l->path);
		else
			snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
		snprintf(to, sizeof to, "%s.%d", l->path, i);
		rename(from, to);
	}
	if (l->keep == 0 && ftruncate(l->fd, 0) == 0) {
		l->size = 0;
		return;
	}
	fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warn("cannot reopen log %s; writing on in the old file",
		    l->path);
		return;
	}
	close(l->fd);
	l->fd = fd;
	l->size = 0;
}

int
applog_write(struct applog *l, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	if (l->size > 0 && l->size + (off_t)len > l->max)
		applog_rotate(l);
	while (len > 0) {
		if ((n = write(l->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		l->size += n;
	}
	return 0;
}

void
applog_close(struct applog *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l->path);
	free(l);
}

/* Count newlines backwards from the end of fd; position it at the start of
 * the last *want lines. Returns true when that start lies in this file. */
static bool
applog_seek_tail(int fd, long *want, bool newest)
{
	char buf[65536];
	off_t end = lseek(fd, 0, SEEK_END), pos = end;
	bool skip_final = newest;

	while (pos > 0) {
		size_t n = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
		ssize_t got;

		pos -= (off_t)n;
		if ((got = pread(fd, buf, n, pos)) <= 0)
			break;
		for (ssize_t i = got - 1; i >= 0; i--) {
			if (buf[i] != '\n')
				continue;
			/* The newline ending the very last line starts nothing. */
			if (skip_final && pos + i == end - 1) {
				skip_final = false;
				continue;
			}
			if (--(*want) == 0) {
				lseek(fd, pos + i + 1, SEEK_SET);
				return true;
			}
		}
		skip_final = false;
	}
	lseek(fd, 0, SEEK_SET);
	return false;
}

struct applog_reader *
applog_reader_open(const char *path, int keep, long tail, char **cause)
{
	struct applog_reader *r = xcalloc(1, sizeof *r);
	char name[4096];
	int fd;

	r->path = xstrdup(path);
	if (keep > APPLOG_MAX_KEEP)
		keep = APPLOG_MAX_KEEP;
	r->keep = keep;
	for (int i = keep; i >= 0; i--) {
		if (i == 0)
			snprintf(name, sizeof name, "%s", path);
		else
			snprintf(name, sizeof name, "%s.%d", path, i);
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) != -1)
			r->fds[r->nfds++] = fd;
	}
	if (r->nfds == 0) {
		*cause = xasprintf("no log at %s", path);
		applog_reader_close(r);
		return NULL;
	}
	r->cur = 0;
	if (tail >= 0) {
		long want = tail;

		r->cur = r->nfds - 1;
		for (int i = r->nfds - 1; i >= 0; i--) {
			r->cur = i;
			if (want == 0) {
				/* Nothing of the older files is wanted. */
				lseek(r->fds[i], 0, SEEK_END);
				break;
			}
			if (applog_seek_tail(r->fds[i], &want, i == r->nfds - 1))
				break;
		}
		if (tail == 0)
			r->cur = r->nfds - 1;
	}
	return r;
}

/*
 * The file written after the one fd holds: fd's file is now named path.K,
 * so its successor is path.(K-1), or path itself when K is 1. If fd's file
 * was rotated out altogether, the reader fell behind by more than the kept
 * files: go on with the oldest one left. Returns -1 when fd is current.
 */
static int
applog_reader_successor(struct applog_reader *r, int fd)
{
	char name[4096];
	struct stat held, st;
	int k;

	if (fstat(fd, &held) == -1)
		return -1;
	if (stat(r->path, &st) == 0 && st.st_ino == held.st_ino &&
	    st.st_dev == held.st_dev)
		return -1;
	for (k = 1; k <= r->keep; k++) {
		snprintf(name, sizeof name, "%s.%d", r->path, k);
		if (stat(name, &st) == 0 && st.st_ino == held.st_ino &&
		    st.st_dev == held.st_dev)
			break;
	}
	if (k > r->keep) {
		/* Ours is gone: the oldest file that still exists. */
		for (k = r->keep; k >= 1; k--) {
			snprintf(name, sizeof name, "%s.%d", r->path, k);
			if (access(name, F_OK) == 0)
				break;
		}
		k++;
	}
	if (k - 1 <= 0)
		snprintf(name, sizeof name, "%s", r->path);
	else
		snprintf(name, sizeof name, "%s.%d", r->path, k - 1);
	return open(name, O_RDONLY | O_CLOEXEC);
}

ssize_t
applog_reader_read(struct applog_reader *r, void *buf, size_t len)
{
	ssize_t n;
	int fd;

	for (;;) {
		n = read(r->fds[r->cur], buf, len);
		if (n != 0)
			return n;
		if (r->cur < r->nfds - 1) {
			r->cur++;
			continue;
		}
		/* At the end of the newest file we hold: was it rotated away? */
		if ((fd = applog_reader_successor(r, r->fds[r->cur])) == -1)
			return 0;
		if (r->nfds == APPLOG_MAX_KEEP + 1) {
			close(r->fds[0]);
			memmove(r->fds, r->fds + 1, (size_t)(r->nfds - 1) *
			    sizeof r->fds[0]);
			r->nfds--;
		}
		r->fds[r->nfds++] = fd;
		r->cur = r->nfds - 1;
	}
}

void
applog_reader_close(struct applog_reader *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	free(r->path);
	free(r);
}
