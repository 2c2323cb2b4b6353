/*
 * The master's copy of artifact files. See filestore.h.
 */
#include "master/filestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

#define FILESTORE_HASH_BYTES 32
#define FILESTORE_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct filestore {
	char *dir;
	int dirfd; /* dir: the files, named by hash */
	int tmpfd; /* dir/tmp: files being written */
};

struct filestore_writer {
	/* First: libsodium wants the state aligned (64 bytes). */
	crypto_generichash_state hs;
	struct filestore *fs;
	char hash[FILESTORE_HASH_LEN + 1];
	char *tmpname;
	int fd;
	unsigned long long size;
	unsigned long long written;
	unsigned long long synced; /* bytes whose writeback was started */
};

bool
filestore_hash_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!(s[n] >= '0' && s[n] <= '9') && !(s[n] >= 'a' && s[n] <= 'f'))
			return false;
	return n == FILESTORE_HASH_LEN;
}

/* Remove what interrupted writes left (a crash between write and rename). */
static void
filestore_clean_tmp(struct filestore *fs)
{
	int fd = openat(fs->tmpfd, ".", FILESTORE_DIR_FLAGS);
	struct dirent *de;
	DIR *d;

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(fs->tmpfd, de->d_name, 0) == -1)
			log_warn("filestore: cannot remove tmp/%s", de->d_name);
	}
	closedir(d);
}

struct filestore *
filestore_open(const char *dir, char **cause)
{
	struct filestore *fs;
	char *tmp;

	if (sodium_init() == -1) {
		*cause = xstrdup("cannot initialise libsodium");
		return NULL;
	}
	tmp = xasprintf("%s/tmp", dir);
	if (util_mkdir_p(tmp, 0700) == -1) {
		*cause = xasprintf("cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	fs = xcalloc(1, sizeof *fs);
	fs->dir = xstrdup(dir);
	fs->tmpfd = -1;
	if ((fs->dirfd = open(dir, FILESTORE_DIR_FLAGS)) == -1 ||
	    (fs->tmpfd = open(tmp, FILESTORE_DIR_FLAGS)) == -1) {
		*cause = xasprintf("cannot open %s: %s", fs->dirfd == -1 ? dir :
		    tmp, strerror(errno));
		free(tmp);
		filestore_free(fs);
		return NULL;
	}
	free(tmp);
	filestore_clean_tmp(fs);
	return fs;
}

void
filestore_free(struct filestore *fs)
{
	if (fs == NULL)
		return;
	if (fs->dirfd != -1)
		close(fs->dirfd);
	if (fs->tmpfd != -1)
		close(fs->tmpfd);
	free(fs->dir);
	free(fs);
}

bool
filestore_has(struct filestore *fs, const char *hash)
{
	struct stat st;

	if (!filestore_hash_valid(hash))
		return false;
	return fstatat(fs->dirfd, hash, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

int
filestore_open_file(struct filestore *fs, const char *hash, char **cause)
{
	int fd;

	if (!filestore_hash_valid(hash)) {
		*cause = xstrdup("bad content hash");
		return -1;
	}
	if ((fd = openat(fs->dirfd, hash, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		*cause = xasprintf("the master's copy of %.12s: %s", hash,
		    strerror(errno));
	return fd;
}

struct filestore_writer *
filestore_begin(struct filestore *fs, const char *hash, unsigned long long size,
    char **cause)
{
	struct filestore_writer *w;
	char rnd[9];
	void *p;

	if (!filestore_hash_valid(hash)) {
		*cause = xstrdup("bad content hash");
		return NULL;
	}
	/* malloc aligns to 16 only; the hash state needs its own alignment. */
	if (posix_memalign(&p, alignof(struct filestore_writer), sizeof *w) != 0)
		fatalx("filestore_begin: out of memory");
	w = p;
	memset(w, 0, sizeof *w);
	w->fs = fs;
	memcpy(w->hash, hash, sizeof w->hash);
	w->size = size;
	util_random_hex(rnd, 4);
	w->tmpname = xasprintf("%s.%s", hash, rnd);
	w->fd = openat(fs->tmpfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd == -1) {
		*cause = xasprintf("cannot create %s/tmp/%s: %s", fs->dir,
		    w->tmpname, strerror(errno));
		free(w->tmpname);
		free(w);
		return NULL;
	}
	crypto_generichash_init(&w->hs, NULL, 0, FILESTORE_HASH_BYTES);
	return w;
}

int
filestore_write(struct filestore_writer *w, const void *data, size_t len,
    char **cause)
{
	if (len > w->size - w->written) {
		*cause = xasprintf("more than the announced %llu bytes", w->size);
		return -1;
	}
	if (util_write_all(w->fd, data, len) == -1) {
		*cause = xasprintf("writing %s/tmp/%s: %s", w->fs->dir,
		    w->tmpname, strerror(errno));
		return -1;
	}
	crypto_generichash_update(&w->hs, data, len);
	w->written += len;
	util_start_writeback(w->fd, &w->synced, w->written);
	return 0;
}

static void
filestore_writer_free(struct filestore_writer *w, bool unlink_tmp)
{
	if (w->fd != -1)
		close(w->fd);
	if (unlink_tmp && unlinkat(w->fs->tmpfd, w->tmpname, 0) == -1 &&
	    errno != ENOENT)
		log_warn("filestore: cannot remove tmp/%s", w->tmpname);
	free(w->tmpname);
	free(w);
}

int
filestore_commit(struct filestore_writer *w, char **cause)
{
	unsigned char digest[FILESTORE_HASH_BYTES];
	char got[FILESTORE_HASH_LEN + 1];
	int fd;

	if (w->written != w->size) {
		*cause = xasprintf("%llu of %llu bytes", w->written, w->size);
		goto fail;
	}
	crypto_generichash_final(&w->hs, digest, sizeof digest);
	sodium_bin2hex(got, sizeof got, digest, sizeof digest);
	if (strcmp(got, w->hash) != 0) {
		*cause = xasprintf("content hash mismatch: expected %.12s, got "
		    "%.12s", w->hash, got);
		goto fail;
	}
	/* Durable before it has its final name: a crash leaves all or none. */
	if (fsync(w->fd) == -1) {
		*cause = xasprintf("syncing %s/tmp/%s: %s", w->fs->dir,
		    w->tmpname, strerror(errno));
		goto fail;
	}
	fd = w->fd;
	w->fd = -1;
	if (close(fd) == -1) {
		*cause = xasprintf("closing %s/tmp/%s: %s", w->fs->dir,
		    w->tmpname, strerror(errno));
		goto fail;
	}
	/* Same name, same content: a file racing this one may be replaced. */
	if (renameat(w->fs->tmpfd, w->tmpname, w->fs->dirfd, w->hash) == -1) {
		*cause = xasprintf("storing %s/%s: %s", w->fs->dir, w->hash,
		    strerror(errno));
		goto fail;
	}
	if (fsync(w->fs->dirfd) == -1)
		log_warn("filestore: cannot sync %s", w->fs->dir);
	filestore_writer_free(w, false);
	return 0;

fail:
	filestore_writer_free(w, true);
	return -1;
}

void
filestore_abort(struct filestore_writer *w)
{
	if (w != NULL)
		filestore_writer_free(w, true);
}

size_t
filestore_gc(struct filestore *fs, bool (*keep)(const char *, void *),
    void *arg)
{
	/* Opened afresh: a dup would share the kept descriptor's offset. */
	int fd = openat(fs->dirfd, ".", FILESTORE_DIR_FLAGS);
	struct dirent *de;
	size_t removed = 0;
	DIR *d;

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("filestore: cannot list %s", fs->dir);
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		/* Only files named by a hash: tmp/ and strangers stay. */
		if (!filestore_hash_valid(de->d_name) || keep(de->d_name, arg))
			continue;
		if (unlinkat(fs->dirfd, de->d_name, 0) == -1) {
			log_warn("filestore: cannot remove %s/%s", fs->dir,
			    de->d_name);
			continue;
		}
		log_debug("filestore: removed %.12s, no manifest uses it",
		    de->d_name);
		removed++;
	}
	closedir(d);
	if (removed > 0 && fsync(fs->dirfd) == -1)
		log_warn("filestore: cannot sync %s", fs->dir);
	return removed;
}
