#include "worker/applog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

/* Whether this process said that a log is rotated by copy-then-truncate. */
static bool applog_copytruncate_said;

/* path.K into name, or path itself for K 0; -1 if it does not fit. */
static int
applog_name(char *name, size_t size, const char *path, int k)
{
	int n;

	if (k == 0)
		n = snprintf(name, size, "%s", path);
	else
		n = snprintf(name, size, "%s.%d", path, k);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Append len bytes of in from offset off to out (len -1: up to in's end).
 * copy_file_range keeps the bytes in the kernel (or shares blocks, where
 * the filesystem can); read and write are for where it is refused. Returns
 * the count copied, or -1 (errno).
 */
static off_t
applog_copy(int in, off_t off, int out, off_t len)
{
	char buf[65536];
	off_t done = 0;
	bool plain = false;
	ssize_t n;

	while (len == -1 || done < len) {
		size_t want = (size_t)1 << 30;
		loff_t at = off + done;

		if (len != -1 && len - done < (off_t)want)
			want = (size_t)(len - done);

		if (!plain) {
			n = copy_file_range(in, &at, out, NULL, want, 0);
			if (n == -1 && (errno == ENOSYS || errno == EXDEV ||
			    errno == EOPNOTSUPP || errno == EINVAL)) {
				plain = true;
				continue;
			}
		} else {
			if (want > sizeof buf)
				want = sizeof buf;
			n = pread(in, buf, want, at);
			if (n > 0 && util_write_all(out, buf, (size_t)n) == -1)
				return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/*
 * Make room for by new rotated files: .J moves to .(J+by), and the files
 * that would move beyond keep are removed. A missing file leaves a gap.
 */
static int
applog_shift(const char *path, int keep, int by, char **cause)
{
	char from[PATH_MAX], to[PATH_MAX];

	for (int j = keep; j >= 1; j--) {
		if (applog_name(from, sizeof from, path, j) == -1)
			goto fail;
		if (j + by > keep) {
			if (unlink(from) == -1 && errno != ENOENT)
				goto fail;
			continue;
		}
		if (applog_name(to, sizeof to, path, j + by) == -1)
			goto fail;
		if (rename(from, to) == -1 && errno != ENOENT)
			goto fail;
	}
	return 0;
fail:
	*cause = xasprintf("cannot move the rotated files of %s up: %s", path,
	    strerror(errno));
	return -1;
}

/* Remove the new rotated files .1 .. .files after a failure; keeps errno. */
static void
applog_unmake(const char *path, int files)
{
	char name[PATH_MAX];
	int saved = errno;

	for (int k = 1; k <= files; k++)
		if (applog_name(name, sizeof name, path, k) == 0)
			unlink(name);
	errno = saved;
}

/*
 * Copy-then-truncate, where COLLAPSE_RANGE is refused: the chunks are in
 * .files .. .1 already (from to on, the file is not kept anywhere yet).
 * Append the rest of fd to .1, then cut the file to nothing. A write that
 * lands between the end of the copy and ftruncate is lost: the copy runs up
 * to the end of the file just before the cut to keep that window small.
 */
static int
applog_copytruncate(const char *path, int fd, off_t from, int files, int why,
    struct applog_rotation *rot, char **cause)
{
	char name[PATH_MAX];
	struct stat st;
	off_t copied = 0;
	int out = -1;

	if (!applog_copytruncate_said) {
		applog_copytruncate_said = true;
		log_warnx("the filesystem of %s cannot collapse a range of a "
		    "file (%s): rotating logs there by copy-then-truncate, "
		    "which loses what an app writes between copy and "
		    "truncation", path, strerror(why));
	}
	if (files > 0) {
		/* Not O_APPEND: copy_file_range refuses such a target. */
		if (applog_name(name, sizeof name, path, 1) == -1 ||
		    (out = open(name, O_WRONLY | O_CLOEXEC)) == -1 ||
		    lseek(out, 0, SEEK_END) == -1 ||
		    (copied = applog_copy(fd, from, out, -1)) == -1) {
			*cause = xasprintf("cannot copy the end of %s: %s",
			    path, strerror(errno));
			goto fail;
		}
		if (close(out) == -1) {
			out = -1;
			*cause = xasprintf("cannot copy the end of %s: %s",
			    path, strerror(errno));
			goto fail;
		}
		out = -1;
		rot->moved = from + copied;
	} else {
		/* Nothing kept: whatever is there goes. */
		if (fstat(fd, &st) == -1) {
			*cause = xasprintf("cannot stat %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		rot->moved = st.st_size;
		rot->dropped = st.st_size;
	}
	if (ftruncate(fd, 0) == -1) {
		*cause = xasprintf("cannot truncate %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	rot->truncated = true;
	return 0;
fail:
	if (out != -1)
		close(out);
	applog_unmake(path, files);
	return -1;
}

int
applog_rotate_file(const char *path, off_t max, int keep,
    struct applog_rotation *rot, char **cause)
{
	char name[PATH_MAX];
	struct stat st;
	off_t blk, chunk, n;
	int fd, out, files = 0, rc = -1;
	bool shifted = false;

	memset(rot, 0, sizeof *rot);
	keep = keep < 0 ? 0 : keep > APPLOG_MAX_KEEP ? APPLOG_MAX_KEEP : keep;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		*cause = xasprintf("cannot open log %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (st.st_size <= max) {
		rc = 0;
		goto out;
	}
	blk = st.st_blksize > 0 ? st.st_blksize : 4096;
	chunk = max / blk * blk;
	if (chunk < blk)
		chunk = blk;
	/*
	 * The chunks that lie wholly before the last byte: COLLAPSE_RANGE
	 * fails (EINVAL) on a range that reaches the end of the file. The app
	 * only appends, so they stay where they are while they are copied.
	 */
	n = (st.st_size - 1) / chunk;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	files = n < keep ? (int)n : keep;
	if (applog_shift(path, keep, files, cause) == -1)
		goto out;
	shifted = true; /* .1 .. .files are free: ours to remove on failure */
	/* Oldest kept chunk first, into the highest number. */
	for (int k = files; k >= 1; k--) {
		off_t copied;

		if (applog_name(name, sizeof name, path, k) == -1 ||
		    (out = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			 0640)) == -1) {
			*cause = xasprintf("cannot create %s.%d: %s", path, k,
			    strerror(errno));
			goto out;
		}
		copied = applog_copy(fd, (n - k) * chunk, out, chunk);
		if (copied != chunk) {
			if (copied != -1)
				errno = EIO; /* shrunk: someone truncated it */
			*cause = xasprintf("cannot copy %s into %s: %s", path,
			    name, strerror(errno));
			util_close_failed(out);
			goto out;
		}
		if (close(out) == -1) {
			*cause = xasprintf("cannot write %s: %s", name,
			    strerror(errno));
			goto out;
		}
	}
	rot->files = files;
	rot->dropped = (n - files) * chunk;
	/*
	 * One cut for the kept chunks and the dropped ones. It holds the
	 * inode's lock, as an O_APPEND write does: a write lands wholly
	 * before the cut (and moves with the rest) or wholly after.
	 */
	if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, n * chunk) == 0) {
		rot->moved = n * chunk;
		rc = 0;
		goto out;
	}
	if (errno == EOPNOTSUPP || errno == EINVAL) {
		/* applog_copytruncate cleans up after itself. */
		shifted = false;
		rc = applog_copytruncate(path, fd, n * chunk, files, errno, rot,
		    cause);
		goto out;
	}
	*cause = xasprintf("cannot cut the start off %s: %s", path,
	    strerror(errno));
out:
	if (rc == -1) {
		if (shifted)
			applog_unmake(path, files);
		memset(rot, 0, sizeof *rot);
	}
	if (fd != -1)
		close(fd);
	return rc;
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

/* Close the first n descriptors r holds, the oldest. */
static void
applog_reader_forget(struct applog_reader *r, int n)
{
	for (int i = 0; i < n; i++)
		close(r->fds[i]);
	memmove(r->fds, r->fds + n, (size_t)(r->nfds - n) * sizeof r->fds[0]);
	r->nfds -= n;
	r->cur = r->cur > n ? r->cur - n : 0;
}

/*
 * The reader's place in the current file (the last it holds) was x before
 * the rotation. Bytes before rot->moved are gone from the current file:
 * those the reader still needs are in the new rotated files, .files
 * (oldest) .. .1, which hold the moved bytes from rot->dropped on. Those
 * files are opened, the first positioned at x, and put before the current
 * file, itself read from its new start.
 */
int
applog_reader_rotated(struct applog_reader *r,
    const struct applog_rotation *rot)
{
	char name[PATH_MAX];
	struct stat cur, st;
	int fds[APPLOG_MAX_KEEP], nnew = 0, last, saved, rc = 0;
	bool on_current;
	off_t x, start;

	if (rot->moved == 0 || r->nfds == 0)
		return 0;
	if (rot->files < 0 || rot->files > APPLOG_MAX_KEEP) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * A reader that does not hold the current file yet is behind in
	 * files rotated by renaming: it finds the current one by name.
	 */
	last = r->nfds - 1;
	if (stat(r->path, &cur) == -1 || fstat(r->fds[last], &st) == -1 ||
	    st.st_ino != cur.st_ino || st.st_dev != cur.st_dev)
		return 0;
	if ((x = lseek(r->fds[last], 0, SEEK_CUR)) == -1)
		return -1;
	if (x >= rot->moved) {
		if (lseek(r->fds[last], x - rot->moved, SEEK_SET) == -1)
			return -1;
		return 0;
	}

	/*
	 * If x is before rot->dropped, the reader fell further behind than
	 * was kept: it goes on at the start of the oldest new file.
	 */
	start = rot->dropped;
	for (int k = rot->files; k >= 1; k--) {
		int fd;

		if (applog_name(name, sizeof name, r->path, k) == -1 ||
		    (fd = open(name, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &st) == -1) {
			rc = -1;
			break;
		}
		if (nnew == 0 && x >= start + st.st_size) {
			/* All read before the rotation. */
			start += st.st_size;
			close(fd);
			continue;
		}
		if (nnew == 0 && x > start)
			lseek(fd, x - start, SEEK_SET);
		fds[nnew++] = fd;
		start += st.st_size;
	}
	if (rc == -1) {
		saved = errno;
		while (nnew > 0)
			close(fds[--nnew]);
		errno = saved;
	}
	lseek(r->fds[last], 0, SEEK_SET);

	/* Nothing before the file being read is read again. */
	on_current = r->cur == last;
	applog_reader_forget(r, r->cur);
	/*
	 * No room for all: the oldest files go, as if this reader had fallen
	 * behind what is kept.
	 */
	if (r->nfds + nnew > APPLOG_MAX_KEEP + 1)
		applog_reader_forget(r, r->nfds + nnew - (APPLOG_MAX_KEEP + 1));
	last = r->nfds - 1;
	memmove(r->fds + last + nnew, r->fds + last, sizeof r->fds[0]);
	memcpy(r->fds + last, fds, (size_t)nnew * sizeof fds[0]);
	r->nfds += nnew;
	if (on_current)
		r->cur = last;
	return rc;
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
