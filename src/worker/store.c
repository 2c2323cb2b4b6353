#include "worker/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

#define STORE_HASH_BYTES 32
#define STORE_MANIFEST_MAX (1024 * 1024)
/* Artifact trees are two levels deep; anything deeper was not made here. */
#define STORE_RMTREE_DEPTH 8
#define STORE_COPY_BUF 65536

/* Open flags for a directory under DIR that must not be a planted link. */
#define STORE_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct store {
	char *dir;   /* absolute DIR */
	int storefd; /* DIR/store */
	int tmpfd;   /* DIR/store/tmp */
	int artfd;   /* DIR/artifacts */
};

struct store_upload {
	/* First: libsodium wants the state aligned (64 bytes). */
	crypto_generichash_state hs;
	struct store *s;
	char hash[STORE_HASH_LEN + 1];
	char *tmpname; /* in DIR/store/tmp */
	int fd;
	unsigned long long size;
	unsigned long long written;
	unsigned long long synced; /* bytes whose writeback was started */
	bool failed; /* a write failed: only an abort is left */
};

/* One file of an artifact being installed. */
struct store_file {
	const char *name;
	const char *hash;
	bool exe;
	int mode;
	long long size;
};

static int store_rmtree_at(int at, const char *name, int depth);

bool
store_hash_valid(const char *hash)
{
	size_t i;

	if (hash == NULL)
		return false;
	for (i = 0; i < STORE_HASH_LEN; i++) {
		if (!((hash[i] >= '0' && hash[i] <= '9') ||
		      (hash[i] >= 'a' && hash[i] <= 'f')))
			return false;
	}
	return hash[i] == '\0';
}

bool
store_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= STORE_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return false;
	}
	return i > 0;
}

/* Why an I/O call failed, in words an operator acts on ("disk full"). */
static char *
store_io_cause(int err, const char *doing, const char *what)
{
	const char *ename = strerrorname_np(err);

	if (ename == NULL)
		ename = "unknown error";
	if (err == ENOSPC)
		return xasprintf(
		    "no space left on the node (ENOSPC) while %s %s", doing,
		    what);
	if (err == EDQUOT)
		return xasprintf("disk quota exceeded on the node (EDQUOT) "
				 "while %s %s",
				 doing, what);
	return xasprintf("error while %s %s: %s (%s)", doing, what,
			 strerror(err), ename);
}

/* Open (creating it if needed) the directory name under at, never a link. */
static int
store_open_dir_at(int at, const char *name, bool create)
{
	if (create && mkdirat(at, name, 0755) == -1 && errno != EEXIST)
		return -1;
	return openat(at, name, STORE_DIR_FLAGS);
}

/*
 * Remove name under at and everything below it. Links are removed, never
 * followed, so a link planted in an artifact cannot lead outside DIR.
 */
static int
store_rmtree_at(int at, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	if (depth >= STORE_RMTREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(at, name, STORE_DIR_FLAGS)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (store_rmtree_at(dirfd(d), de->d_name, depth + 1) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

/* Empty DIR/store/tmp: uploads a crash or restart interrupted. */
static void
store_clean_tmp(struct store *s)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = openat(s->tmpfd, ".", STORE_DIR_FLAGS)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		log_info("store: removing interrupted upload %s", de->d_name);
		if (store_rmtree_at(s->tmpfd, de->d_name, 0) == -1)
			log_warn("store: cannot remove tmp/%s", de->d_name);
	}
	closedir(d);
}

/* The last occurrence of needle in s, or NULL. */
static const char *
store_strrstr(const char *s, const char *needle)
{
	const char *last = NULL, *p;

	while ((p = strstr(s, needle)) != NULL) {
		last = p;
		s = p + 1;
	}
	return last;
}

/*
 * Deal with what an interrupted install or removal left in DIR/artifacts:
 * .<name>.tmp-PID (a half-built artifact) and .<name>.rm-PID (one being
 * removed) go; .<name>.old-PID (an artifact set aside while its replacement
 * moved in) goes back into place if the replacement never arrived.
 */
static void
store_clean_artifacts(struct store *s)
{
	struct dirent *de;
	const char *mark;
	struct stat st;
	char *name;
	DIR *d;
	int fd;

	if ((fd = openat(s->artfd, ".", STORE_DIR_FLAGS)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((mark = store_strrstr(de->d_name, ".old-")) != NULL &&
		    mark > de->d_name) {
			name = xstrndup(de->d_name + 1,
					(size_t)(mark - de->d_name - 1));
			if (store_name_valid(name) &&
			    fstatat(s->artfd, name, &st, AT_SYMLINK_NOFOLLOW) ==
				-1 &&
			    errno == ENOENT &&
			    renameat(s->artfd, de->d_name, s->artfd, name) ==
				0) {
				log_info("store: restored artifact %s", name);
				free(name);
				continue;
			}
			free(name);
		} else if (strstr(de->d_name, ".tmp-") == NULL &&
			   strstr(de->d_name, ".rm-") == NULL)
			continue;
		log_info("store: removing leftover artifacts/%s", de->d_name);
		if (store_rmtree_at(s->artfd, de->d_name, 0) == -1)
			log_warn("store: cannot remove artifacts/%s",
				 de->d_name);
	}
	closedir(d);
}

struct store *
store_open(const char *dir, char **cause)
{
	struct store *s;
	char *path, *abs;
	int rootfd;

	if (sodium_init() == -1) {
		*cause = xstrdup("cannot initialise libsodium");
		return NULL;
	}
	path = xasprintf("%s/store/tmp", dir);
	if (util_mkdir_p(path, 0755) == -1) {
		*cause =
		    xasprintf("cannot create %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	free(path);
	if ((abs = realpath(dir, NULL)) == NULL) {
		*cause =
		    xasprintf("cannot resolve %s: %s", dir, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->dir = abs;
	s->storefd = s->tmpfd = s->artfd = -1;
	if ((rootfd = open(abs, STORE_DIR_FLAGS)) == -1) {
		*cause = xasprintf("cannot open %s: %s", abs, strerror(errno));
		goto fail;
	}
	s->storefd = store_open_dir_at(rootfd, "store", false);
	if (s->storefd != -1)
		s->tmpfd = store_open_dir_at(s->storefd, "tmp", false);
	if (s->tmpfd != -1)
		s->artfd = store_open_dir_at(rootfd, "artifacts", true);
	if (s->artfd == -1) {
		*cause = xasprintf("cannot open the store under %s: %s", abs,
				   strerror(errno));
		close(rootfd);
		goto fail;
	}
	close(rootfd);
	store_clean_tmp(s);
	store_clean_artifacts(s);
	return s;

fail:
	store_free(s);
	return NULL;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	if (s->storefd != -1)
		close(s->storefd);
	if (s->tmpfd != -1)
		close(s->tmpfd);
	if (s->artfd != -1)
		close(s->artfd);
	free(s->dir);
	free(s);
}

bool
store_has(struct store *s, const char *hash)
{
	struct stat st;

	if (!store_hash_valid(hash))
		return false;
	return fstatat(s->storefd, hash, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

struct store_upload *
store_upload_begin(struct store *s, const char *hash, unsigned long long size,
		   char **cause)
{
	struct store_upload *u;
	char rnd[9];
	void *p;

	if (!store_hash_valid(hash)) {
		*cause = xstrdup("bad content hash (expected 64 lower-case hex "
				 "characters)");
		return NULL;
	}
	/* malloc aligns to 16 only; the hash state needs its own alignment. */
	if (posix_memalign(&p, alignof(struct store_upload), sizeof *u) != 0)
		fatalx("store_upload_begin: out of memory");
	u = p;
	memset(u, 0, sizeof *u);
	u->s = s;
	memcpy(u->hash, hash, sizeof u->hash);
	u->size = size;
	util_random_hex(rnd, 4);
	u->tmpname = xasprintf("%s.%ld.%s", hash, (long)getpid(), rnd);
	u->fd =
	    openat(s->tmpfd, u->tmpname,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (u->fd == -1) {
		*cause = store_io_cause(errno, "creating the upload of", hash);
		free(u->tmpname);
		free(u);
		return NULL;
	}
	crypto_generichash_init(&u->hs, NULL, 0, STORE_HASH_BYTES);
	return u;
}

int
store_upload_write(struct store_upload *u, const void *data, size_t len,
		   char **cause)
{
	if (u->failed) {
		*cause = xasprintf("upload of %s already failed", u->hash);
		return -1;
	}
	if (len > u->size - u->written) {
		*cause = xasprintf("upload of %s goes beyond its declared size "
				   "of %llu bytes",
				   u->hash, u->size);
		u->failed = true;
		return -1;
	}
	if (util_write_all(u->fd, data, len) == -1) {
		*cause = store_io_cause(errno, "writing", u->hash);
		u->failed = true;
		return -1;
	}
	crypto_generichash_update(&u->hs, data, len);
	u->written += len;
	/* The fsync at the end must not stall the worker's heartbeats. */
	util_start_writeback(u->fd, &u->synced, u->written);
	return 0;
}

/* Release an upload, removing its temporary file when it is still there. */
static void
store_upload_free(struct store_upload *u, bool unlink_tmp)
{
	if (u->fd != -1)
		close(u->fd);
	if (unlink_tmp && unlinkat(u->s->tmpfd, u->tmpname, 0) == -1 &&
	    errno != ENOENT)
		log_warn("store: cannot remove tmp/%s", u->tmpname);
	free(u->tmpname);
	free(u);
}

int
store_upload_finish(struct store_upload *u, char **cause)
{
	unsigned char digest[STORE_HASH_BYTES];
	char got[STORE_HASH_LEN + 1];
	struct store *s = u->s;
	int fd;

	if (u->failed) {
		*cause = xasprintf("upload of %s already failed", u->hash);
		goto fail;
	}
	if (u->written != u->size) {
		*cause = xasprintf("upload of %s is short: %llu of %llu bytes",
				   u->hash, u->written, u->size);
		goto fail;
	}
	crypto_generichash_final(&u->hs, digest, sizeof digest);
	sodium_bin2hex(got, sizeof got, digest, sizeof digest);
	if (strcmp(got, u->hash) != 0) {
		*cause = xasprintf("content hash mismatch: expected %s, got %s",
				   u->hash, got);
		goto fail;
	}
	/* Durable before it has its final name: a crash leaves all or none. */
	if (fchmod(u->fd, 0644) == -1 || fsync(u->fd) == -1) {
		*cause = store_io_cause(errno, "syncing", u->hash);
		goto fail;
	}
	fd = u->fd;
	u->fd = -1;
	if (close(fd) == -1) {
		*cause = store_io_cause(errno, "closing", u->hash);
		goto fail;
	}
	/*
	 * The same content may already be there (two uploads racing): keep
	 * that file, which installed artifacts link to, and drop this one.
	 */
	if (renameat2(s->tmpfd, u->tmpname, s->storefd, u->hash,
		      RENAME_NOREPLACE) == -1) {
		int err = errno;

		if (err == EEXIST && store_has(s, u->hash)) {
			store_upload_free(u, true);
			return 0;
		}
		errno = err;
		if ((err != EINVAL && err != ENOSYS) ||
		    renameat(s->tmpfd, u->tmpname, s->storefd, u->hash) == -1) {
			*cause = store_io_cause(errno, "storing", u->hash);
			goto fail;
		}
	}
	if (fsync(s->storefd) == -1)
		log_warn("store: cannot sync the store directory");
	store_upload_free(u, false);
	return 0;

fail:
	store_upload_free(u, true);
	return -1;
}

void
store_upload_abort(struct store_upload *u)
{
	if (u != NULL)
		store_upload_free(u, true);
}

/*
 * Read DIR/artifacts/<name>/manifest.json, refusing links on the way and
 * anything that is not a manifest of that name. NULL when there is none.
 */
static json_t *
store_manifest_load(struct store *s, const char *name)
{
	json_error_t err;
	json_t *m = NULL, *files;
	const char *mname;
	struct stat st;
	char *buf = NULL;
	int dfd, fd = -1;
	ssize_t n;

	if ((dfd = openat(s->artfd, name, STORE_DIR_FLAGS)) == -1)
		return NULL;
	fd = openat(dfd, "manifest.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > STORE_MANIFEST_MAX)
		goto out;
	buf = xmalloc((size_t)st.st_size + 1);
	do
		n = pread(fd, buf, (size_t)st.st_size, 0);
	while (n == -1 && errno == EINTR);
	if (n != st.st_size)
		goto out;
	if ((m = json_loadb(buf, (size_t)n, 0, &err)) == NULL) {
		log_warnx("store: artifacts/%s/manifest.json: %s", name,
			  err.text);
		goto out;
	}
	mname = json_string_value(json_object_get(m, "name"));
	files = json_object_get(m, "files");
	if (mname == NULL || strcmp(mname, name) != 0 ||
	    !json_is_array(files)) {
		log_warnx("store: artifacts/%s/manifest.json is not a manifest "
			  "of %s",
			  name, name);
		json_decref(m);
		m = NULL;
	}
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return m;
}

json_t *
store_manifest(struct store *s, const char *name)
{
	if (!store_name_valid(name))
		return NULL;
	return store_manifest_load(s, name);
}

static int
store_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *
store_list(struct store *s)
{
	json_t *list = json_array(), *m;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	int fd;

	if ((fd = openat(s->artfd, ".", STORE_DIR_FLAGS)) == -1)
		return list;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return list;
	}
	/* Dot names (installs and removals in progress) are never valid. */
	while ((de = readdir(d)) != NULL) {
		if (!store_name_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, store_cmp_names);
	for (size_t i = 0; i < n; i++) {
		if ((m = store_manifest_load(s, names[i])) != NULL)
			json_array_append_new(list, m);
		free(names[i]);
	}
	free(names);
	return list;
}

/* Whether any manifest in list has a file with this hash. */
static bool
store_is_referenced(json_t *list, const char *hash)
{
	json_t *m, *f;
	size_t i, j;

	json_array_foreach(list, i, m)
	{
		json_array_foreach(json_object_get(m, "files"), j, f)
		{
			const char *h =
			    json_string_value(json_object_get(f, "hash"));

			if (h != NULL && strcmp(h, hash) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Remove the store files of a manifest that is gone when no installed
 * manifest still uses them. Only those: a file uploaded for an install
 * that has not happened yet is referenced by nothing and must stay.
 */
static void
store_collect(struct store *s, json_t *gone)
{
	json_t *list, *f;
	const char *h;
	size_t i;
	bool removed = false;

	if (gone == NULL)
		return;
	list = store_list(s);
	json_array_foreach(json_object_get(gone, "files"), i, f)
	{
		h = json_string_value(json_object_get(f, "hash"));
		if (!store_hash_valid(h) || store_is_referenced(list, h))
			continue;
		if (unlinkat(s->storefd, h, 0) == -1) {
			if (errno != ENOENT)
				log_warn("store: cannot remove store/%s", h);
			continue;
		}
		removed = true;
	}
	if (removed && fsync(s->storefd) == -1)
		log_warn("store: cannot sync the store directory");
	json_decref(list);
}

/* Check files and fill out[] (n entries); -1 with *cause when refused. */
static int
store_install_check(struct store *s, json_t *files, struct store_file *out,
		    char **cause)
{
	const char *kind;
	char *why = NULL;
	struct stat st;
	long long mode;
	size_t i, nexe = 0;
	json_t *e;
	int mrc;

	json_array_foreach(files, i, e)
	{
		struct store_file *f = &out[i];

		if (!json_is_object(e)) {
			*cause = xasprintf("file %zu is not an object", i);
			return -1;
		}
		if (jsonx_get_str(e, "name", true, &f->name, &why) == -1 ||
		    jsonx_get_str(e, "hash", true, &f->hash, &why) == -1 ||
		    jsonx_get_str(e, "kind", true, &kind, &why) == -1 ||
		    (mrc = jsonx_get_int(e, "mode", false, 0, 07777, &mode,
					 &why)) == -1) {
			*cause = xasprintf("file %zu: %s", i, why);
			free(why);
			return -1;
		}
		if (!store_name_valid(f->name)) {
			*cause = xasprintf("file %zu: bad name (1 to %d of "
					   "A-Za-z0-9._+-, not starting with "
					   "'.' or '-')",
					   i, STORE_NAME_MAX);
			return -1;
		}
		if (strcmp(kind, "exe") == 0)
			f->exe = true;
		else if (strcmp(kind, "lib") != 0) {
			*cause = xasprintf("file %s: kind must be exe or lib",
					   f->name);
			return -1;
		}
		if (f->exe)
			nexe++;
		/* Only two modes: the inode is shared by every artifact. */
		if (mrc == 1)
			mode = f->exe ? 0755 : 0644;
		f->mode = f->exe || (mode & 0111) != 0 ? 0755 : 0644;
		if (!store_hash_valid(f->hash)) {
			*cause = xasprintf("file %s: bad hash", f->name);
			return -1;
		}
		if (fstatat(s->storefd, f->hash, &st, AT_SYMLINK_NOFOLLOW) ==
			-1 ||
		    !S_ISREG(st.st_mode)) {
			*cause = xasprintf("file %s: content %s is not in the "
					   "store (upload it first)",
					   f->name, f->hash);
			return -1;
		}
		f->size = (long long)st.st_size;
		for (size_t j = 0; j < i; j++) {
			if (out[j].exe == f->exe &&
			    strcmp(out[j].name, f->name) == 0) {
				*cause = xasprintf("file %s is listed twice",
						   f->name);
				return -1;
			}
		}
	}
	if (nexe != 1) {
		*cause = xasprintf(
		    "an artifact needs exactly one exe (got %zu)", nexe);
		return -1;
	}
	return 0;
}

/* Copy a store file when it cannot be linked (another file system). */
static int
store_copy(int srcfd, int at, const char *name, int mode)
{
	char *buf = xmalloc(STORE_COPY_BUF);
	int fd, saved;
	ssize_t n;
	off_t off = 0;

	if ((fd = openat(at, name,
			 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 (mode_t)mode)) == -1) {
		free(buf);
		return -1;
	}
	for (;;) {
		if ((n = pread(srcfd, buf, STORE_COPY_BUF, off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (util_write_all(fd, buf, (size_t)n) == -1)
			goto fail;
		off += n;
	}
	if (fchmod(fd, (mode_t)mode) == -1 || fsync(fd) == -1)
		goto fail;
	free(buf);
	return close(fd);

fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return -1;
}

/* Put one store file into bin/ or lib/ of the artifact being built. */
static int
store_install_file(struct store *s, const struct store_file *f, int at,
		   char **cause)
{
	struct stat st;
	int fd, rc = -1;

	fd = openat(s->storefd, f->hash, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		*cause = store_io_cause(errno, "opening", f->hash);
		goto out;
	}
	/*
	 * Links share the inode and so its mode: add execute permission when
	 * this artifact needs it, never take it away from another one.
	 */
	if ((f->mode & 0111) != 0 && (st.st_mode & 0111) != 0111 &&
	    fchmod(fd, (mode_t)f->mode) == -1) {
		*cause = store_io_cause(errno, "setting the mode of", f->hash);
		goto out;
	}
	if (linkat(s->storefd, f->hash, at, f->name, 0) == -1) {
		if (errno != EXDEV ||
		    store_copy(fd, at, f->name, f->mode) == -1) {
			*cause = store_io_cause(errno, "installing", f->name);
			goto out;
		}
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Write manifest.json into the artifact directory being built. */
static int
store_install_manifest(const char *name, const struct store_file *fs, size_t n,
		       int at, char **cause)
{
	json_t *m, *arr = json_array();
	const char *exe_hash = NULL;
	long long total = 0;
	char *text;
	int fd, rc = -1;

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(
		    arr,
		    jsonx_pack("{s:s, s:s, s:I, s:s, s:i}", "name", fs[i].name,
			       "hash", fs[i].hash, "size",
			       (json_int_t)fs[i].size, "kind",
			       fs[i].exe ? "exe" : "lib", "mode", fs[i].mode));
		total += fs[i].size;
		if (fs[i].exe)
			exe_hash = fs[i].hash;
	}
	m = jsonx_pack("{s:s, s:o, s:I, s:s}", "name", name, "files", arr,
		       "size", (json_int_t)total, "hash", exe_hash);
	text = jsonx_dumps(m);
	fd = openat(at, "manifest.json",
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1 || util_write_all(fd, text, strlen(text)) == -1 ||
	    util_write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		*cause = store_io_cause(errno, "writing the manifest of", name);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(text);
	return rc;
}

/*
 * Move the finished directory tmp into place as name. With RENAME_EXCHANGE
 * the old artifact and the new swap in one step, so name always exists;
 * where the file system lacks it, the old one is renamed aside first (a
 * crash in between is repaired by store_open). Either way the old artifact
 * ends up under tmp or aside, for the caller to remove.
 */
static int
store_install_swap(struct store *s, const char *name, const char *tmp,
		   char **aside, char **cause)
{
	*aside = NULL;
	if (renameat2(s->artfd, tmp, s->artfd, name, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno == ENOENT) {
		if (renameat(s->artfd, tmp, s->artfd, name) == 0)
			return 0;
	} else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
		*aside = xasprintf(".%s.old-%ld", name, (long)getpid());
		if (store_rmtree_at(s->artfd, *aside, 0) == 0 &&
		    (renameat(s->artfd, name, s->artfd, *aside) == 0 ||
		     errno == ENOENT)) {
			if (renameat(s->artfd, tmp, s->artfd, name) == 0)
				return 0;
			renameat(s->artfd, *aside, s->artfd, name);
		}
	}
	*cause = store_io_cause(errno, "moving into place the artifact", name);
	free(*aside);
	*aside = NULL;
	return -1;
}

int
store_install(struct store *s, const char *name, json_t *files, char **cause)
{
	struct store_file *fs = NULL;
	json_t *old = NULL;
	char *tmp = NULL, *aside = NULL;
	int tfd = -1, bfd = -1, lfd = -1, rc = -1;
	size_t n;

	if (!store_name_valid(name)) {
		*cause =
		    xasprintf("bad artifact name (1 to %d of A-Za-z0-9._+-, "
			      "not starting with '.' or '-')",
			      STORE_NAME_MAX);
		return -1;
	}
	if (!json_is_array(files) || (n = json_array_size(files)) == 0 ||
	    n > STORE_FILES_MAX) {
		*cause =
		    xasprintf("artifact %s: files must be an array of 1 to "
			      "%d entries",
			      name, STORE_FILES_MAX);
		return -1;
	}
	fs = xcalloc(n, sizeof *fs);
	if (store_install_check(s, files, fs, cause) == -1)
		goto out;

	tmp = xasprintf(".%s.tmp-%ld", name, (long)getpid());
	if (store_rmtree_at(s->artfd, tmp, 0) == -1 ||
	    (tfd = store_open_dir_at(s->artfd, tmp, true)) == -1 ||
	    (bfd = store_open_dir_at(tfd, "bin", true)) == -1 ||
	    (lfd = store_open_dir_at(tfd, "lib", true)) == -1) {
		*cause = store_io_cause(errno, "preparing the artifact", name);
		goto out_tmp;
	}
	for (size_t i = 0; i < n; i++) {
		if (store_install_file(s, &fs[i], fs[i].exe ? bfd : lfd,
				       cause) == -1)
			goto out_tmp;
	}
	if (store_install_manifest(name, fs, n, tfd, cause) == -1)
		goto out_tmp;
	if (fsync(bfd) == -1 || fsync(lfd) == -1 || fsync(tfd) == -1) {
		*cause = store_io_cause(errno, "syncing the artifact", name);
		goto out_tmp;
	}

	old = store_manifest_load(s, name);
	if (store_install_swap(s, name, tmp, &aside, cause) == -1)
		goto out_tmp;
	if (fsync(s->artfd) == -1)
		log_warn("store: cannot sync the artifacts directory");
	/* The old artifact, whichever name it now has, goes. */
	if (store_rmtree_at(s->artfd, aside != NULL ? aside : tmp, 0) == -1)
		log_warn("store: cannot remove the old %s", name);
	store_collect(s, old);
	log_info("store: installed %s", name);
	rc = 0;
	goto out;

out_tmp:
	if (store_rmtree_at(s->artfd, tmp, 0) == -1)
		log_warn("store: cannot remove artifacts/%s", tmp);
out:
	if (lfd != -1)
		close(lfd);
	if (bfd != -1)
		close(bfd);
	if (tfd != -1)
		close(tfd);
	json_decref(old);
	free(aside);
	free(tmp);
	free(fs);
	return rc;
}

int
store_remove(struct store *s, const char *name, char **cause)
{
	json_t *m;
	struct stat st;
	char *gone;
	int rc = 0;

	if (!store_name_valid(name) ||
	    fstatat(s->artfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		*cause = xasprintf("no artifact named '%s'", name);
		return -1;
	}
	m = store_manifest_load(s, name);
	/* Renamed first, so the artifact vanishes at once and not file by file.
	 */
	gone = xasprintf(".%s.rm-%ld", name, (long)getpid());
	if (store_rmtree_at(s->artfd, gone, 0) == -1 ||
	    renameat(s->artfd, name, s->artfd, gone) == -1) {
		*cause = store_io_cause(errno, "removing the artifact", name);
		rc = -1;
		goto out;
	}
	if (fsync(s->artfd) == -1)
		log_warn("store: cannot sync the artifacts directory");
	if (store_rmtree_at(s->artfd, gone, 0) == -1)
		log_warn("store: cannot remove artifacts/%s", gone);
	store_collect(s, m);
	log_info("store: removed %s", name);
out:
	json_decref(m);
	free(gone);
	return rc;
}

int
store_exec_path(struct store *s, const char *name, char **exe_path,
		char **lib_dir, char **cause)
{
	const char *exe = NULL, *kind;
	json_t *m, *f;
	struct stat st;
	int afd = -1, bfd = -1, rc = -1;
	size_t i;

	*exe_path = *lib_dir = NULL;
	if ((m = store_manifest(s, name)) == NULL) {
		*cause = xasprintf("no artifact named '%s'", name);
		return -1;
	}
	json_array_foreach(json_object_get(m, "files"), i, f)
	{
		kind = json_string_value(json_object_get(f, "kind"));
		if (kind != NULL && strcmp(kind, "exe") == 0)
			exe = json_string_value(json_object_get(f, "name"));
	}
	/* The manifest is on disk and checked anyway before becoming a path. */
	if (!store_name_valid(exe) ||
	    (afd = openat(s->artfd, name, STORE_DIR_FLAGS)) == -1 ||
	    (bfd = openat(afd, "bin", STORE_DIR_FLAGS)) == -1 ||
	    fstatat(bfd, exe, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode)) {
		*cause =
		    xasprintf("artifact %s is damaged: no executable", name);
		goto out;
	}
	*exe_path = xasprintf("%s/artifacts/%s/bin/%s", s->dir, name, exe);
	*lib_dir = xasprintf("%s/artifacts/%s/lib", s->dir, name);
	rc = 0;
out:
	if (bfd != -1)
		close(bfd);
	if (afd != -1)
		close(afd);
	json_decref(m);
	return rc;
}

long long
store_free_bytes(struct store *s)
{
	struct statvfs sv;

	if (fstatvfs(s->storefd, &sv) == -1)
		return -1;
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}
