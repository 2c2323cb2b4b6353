/* Directories for apps, made ahead of the launches: see appdir.h. */
#include "worker/appdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

#define APPDIR_MODE 0750
#define APPDIR_LOG_MODE 0640
/* What a ready directory holds: the app's log, empty. */
#define APPDIR_LOG "output.log"

struct appdirs {
	char *pool;  /* DIR/spare-dirs: the ready directories, named 0, 1, ... */
	char *apps;  /* DIR/apps */
	char **ready; /* n of them, room for cap */
	int n, cap;
	unsigned long next; /* the name of the next one made */
};

/* Add a ready directory (path, allocated) to the pool. */
static void
appdirs_push(struct appdirs *d, char *path)
{
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? APPDIR_SPARES : d->cap * 2;
		d->ready = xreallocarray(d->ready, (size_t)d->cap,
		    sizeof *d->ready);
	}
	d->ready[d->n++] = path;
}

static int
appdirs_remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st, (void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", path);
	return 0;
}

/* Remove path and everything under it (never following a symlink). */
static void
appdirs_remove(const char *path)
{
	if (nftw(path, appdirs_remove_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", path);
}

/*
 * Make directory path hold its log and nothing else, empty: what its app
 * left (its rotated logs, an exit file, whatever it wrote in its own
 * directory) goes, so the next app finds none of it; the log is cut to
 * nothing in the same inode, made if missing. 0, or -1 with errno.
 */
static int
appdirs_clear(const char *path)
{
	struct dirent *e;
	char *file;
	DIR *dp;
	int fd;

	if ((dp = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, APPDIR_LOG) == 0)
			continue;
		file = xasprintf("%s/%s", path, e->d_name);
		appdirs_remove(file);
		free(file);
	}
	closedir(dp);
	file = xasprintf("%s/%s", path, APPDIR_LOG);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    APPDIR_LOG_MODE);
	free(file);
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/* Make a new ready directory at path. 0, or -1 with errno. */
static int
appdirs_make(const char *path)
{
	char *file;
	int fd;

	if (mkdir(path, APPDIR_MODE) == -1)
		return -1;
	file = xasprintf("%s/%s", path, APPDIR_LOG);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    APPDIR_LOG_MODE);
	free(file);
	if (fd == -1) {
		int saved = errno;

		appdirs_remove(path);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

struct appdirs *
appdirs_open(const char *dir)
{
	struct appdirs *d = xcalloc(1, sizeof *d);
	struct dirent *e;
	DIR *dp;

	d->pool = xasprintf("%s/spare-dirs", dir);
	d->apps = xasprintf("%s/apps", dir);
	if (mkdir(d->pool, APPDIR_MODE) == -1 && errno != EEXIST)
		log_warn("cannot create %s; apps' directories are made at "
		    "launch", d->pool);
	if ((dp = opendir(d->pool)) == NULL)
		return d;
	while ((e = readdir(dp)) != NULL) {
		char *end, *path;
		unsigned long k;

		if (e->d_name[0] == '.')
			continue;
		k = strtoul(e->d_name, &end, 10);
		if (*end == '\0' && k >= d->next)
			d->next = k + 1;
		path = xasprintf("%s/%s", d->pool, e->d_name);
		if (*end == '\0' && d->n < APPDIR_KEEP_MAX)
			appdirs_push(d, path);
		else {
			appdirs_remove(path);
			free(path);
		}
	}
	closedir(dp);
	return d;
}

void
appdirs_free(struct appdirs *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->n; i++)
		free(d->ready[i]);
	free(d->ready);
	free(d->pool);
	free(d->apps);
	free(d);
}

int
appdirs_take(struct appdirs *d, const char *path)
{
	char *src;

	if (d->n == 0)
		return -1;
	src = d->ready[--d->n];
	if (rename(src, path) == -1 && (errno != ENOENT ||
	    util_mkdir_p(d->apps, APPDIR_MODE) == -1 ||
	    rename(src, path) == -1)) {
		/* Left where it was, for another launch. */
		d->ready[d->n++] = src;
		return -1;
	}
	free(src);
	return 0;
}

/* The name for the next ready directory (allocated). */
static char *
appdirs_next_path(struct appdirs *d)
{
	return xasprintf("%s/%lu", d->pool, d->next++);
}

void
appdirs_fill(struct appdirs *d)
{
	while (d->n < APPDIR_SPARES) {
		char *path = appdirs_next_path(d);

		if (appdirs_make(path) == -1) {
			int saved = errno;

			free(path);
			/* A name in use: the next one. Anything else: later. */
			if (saved == EEXIST)
				continue;
			return;
		}
		appdirs_push(d, path);
	}
}

bool
appdirs_short(const struct appdirs *d)
{
	return d->n < APPDIR_SPARES;
}

int
appdirs_recycle(struct appdirs *d, const char *path)
{
	char *dst;

	if (d->n >= APPDIR_KEEP_MAX) {
		appdirs_remove(path);
		return 0;
	}
	if (appdirs_clear(path) == -1) {
		int saved = errno;

		appdirs_remove(path);
		errno = saved;
		return -1;
	}
	dst = appdirs_next_path(d);
	if (rename(path, dst) == -1) {
		int saved = errno;

		free(dst);
		appdirs_remove(path);
		errno = saved;
		return -1;
	}
	appdirs_push(d, dst);
	return 0;
}
