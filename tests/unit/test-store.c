/* The artifact store: uploads, installs, removal, crash leftovers, confinement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/store.h"
#include "testdir.h"

struct test_store {
	char *root; /* testdir_make, removed after */
	char *dir;  /* the store's DIR, root/w */
	struct store *s;
	char *mounts[2]; /* tmpfs mounted by the test, unmounted after */
};

static int
test_store_setup(void **state)
{
	struct test_store *t = calloc(1, sizeof *t);
	char *cause = NULL;

	if (t == NULL || (t->root = testdir_make()) == NULL)
		return -1;
	if (asprintf(&t->dir, "%s/w", t->root) < 0)
		return -1;
	if ((t->s = store_open(t->dir, &cause)) == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		free(cause);
		return -1;
	}
	*state = t;
	return 0;
}

/* Runs after a failed test too, so a tmpfs never outlives the run. */
static int
test_store_teardown(void **state)
{
	struct test_store *t = *state;
	int rc;

	store_free(t->s);
	for (int i = 1; i >= 0; i--) {
		if (t->mounts[i] != NULL) {
			umount2(t->mounts[i], MNT_DETACH);
			free(t->mounts[i]);
		}
	}
	rc = testdir_remove(t->root);
	free(t->dir);
	free(t);
	return rc;
}

static char *
test_store_path(struct test_store *t, const char *rel)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", t->dir, rel) > 0);
	return p;
}

static void
test_store_hash(const void *data, size_t len, char hex[STORE_HASH_LEN + 1])
{
	unsigned char d[32];

	crypto_generichash(d, sizeof d, data, len, NULL, 0);
	sodium_bin2hex(hex, STORE_HASH_LEN + 1, d, sizeof d);
}

/* Upload text into the store; its hash goes to hex. */
static void
test_store_put(struct store *s, const char *text, char hex[STORE_HASH_LEN + 1])
{
	struct store_upload *u;
	size_t len = strlen(text), half = len / 2;
	char *cause = NULL;

	test_store_hash(text, len, hex);
	u = store_upload_begin(s, hex, len, &cause);
	if (u == NULL)
		fail_msg("begin: %s", cause);
	/* In two pieces: the hash is computed incrementally. */
	if (store_upload_write(u, text, half, &cause) == -1 ||
	    store_upload_write(u, text + half, len - half, &cause) == -1)
		fail_msg("write: %s", cause);
	if (store_upload_finish(u, &cause) == -1)
		fail_msg("finish: %s", cause);
	assert_null(cause);
	assert_true(store_has(s, hex));
}

/* Entries in t->dir/rel, without . and .. (-1 when it cannot be read). */
static int
test_store_count(struct test_store *t, const char *rel)
{
	char *path = test_store_path(t, rel);
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(path);
	free(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static json_t *
test_store_file(const char *name, const char *hash, const char *kind, int mode)
{
	return json_pack("{s:s, s:s, s:s, s:i}", "name", name, "hash", hash,
			 "kind", kind, "mode", mode);
}

static void
test_store_install_ok(struct store *s, const char *name, json_t *files)
{
	char *cause = NULL;

	if (store_install(s, name, files, &cause) == -1)
		fail_msg("install %s: %s", name, cause);
	json_decref(files);
}

/* Install expecting a refusal whose cause contains want. */
static void
test_store_install_bad(struct store *s, const char *name, json_t *files,
		       const char *want)
{
	char *cause = NULL;

	if (store_install(s, name, files, &cause) != -1)
		fail_msg("install %s accepted", name);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
	json_decref(files);
}

static void
test_store_upload(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *path, *buf;
	struct stat st;
	FILE *f;

	test_store_put(t->s, "hello, store", h);
	path = test_store_path(t, "store");
	buf = NULL;
	free(path);
	assert_true(asprintf(&path, "%s/store/%s", t->dir, h) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 12);
	assert_non_null(f = fopen(path, "r"));
	buf = calloc(1, 64);
	assert_int_equal(fread(buf, 1, 63, f), 12);
	assert_string_equal(buf, "hello, store");
	fclose(f);
	free(buf);
	free(path);
	assert_int_equal(test_store_count(t, "store/tmp"), 0);

	/* The same content again is accepted and keeps the one file. */
	test_store_put(t->s, "hello, store", h);
	assert_int_equal(test_store_count(t, "store"), 2);

	h[0] = h[0] == '0' ? '1' : '0';
	assert_false(store_has(t->s, h));
	assert_false(store_has(t->s, "hello"));
	assert_true(store_free_bytes(t->s) > 0);
}

static void
test_store_upload_mismatch(void **state)
{
	struct test_store *t = *state;
	char want[STORE_HASH_LEN + 1], got[STORE_HASH_LEN + 1], *cause = NULL;
	char *expect;
	struct store_upload *u;

	test_store_hash("good", 4, want);
	test_store_hash("evil", 4, got);
	assert_non_null(u = store_upload_begin(t->s, want, 4, &cause));
	assert_int_equal(store_upload_write(u, "evil", 4, &cause), 0);
	assert_int_equal(store_upload_finish(u, &cause), -1);
	assert_true(asprintf(&expect,
			     "content hash mismatch: expected %s, "
			     "got %s",
			     want, got) > 0);
	assert_string_equal(cause, expect);
	free(expect);
	free(cause);
	assert_false(store_has(t->s, want));
	assert_false(store_has(t->s, got));
	assert_int_equal(test_store_count(t, "store"), 1); /* tmp/ only */
	assert_int_equal(test_store_count(t, "store/tmp"), 0);
}

static void
test_store_upload_size(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *cause = NULL;
	struct store_upload *u;

	test_store_hash("abcd", 4, h);

	/* More than declared, in one write. */
	assert_non_null(u = store_upload_begin(t->s, h, 4, &cause));
	assert_int_equal(store_upload_write(u, "abcde", 5, &cause), -1);
	assert_non_null(strstr(cause, "beyond its declared size of 4"));
	free(cause);
	cause = NULL;
	store_upload_abort(u);

	/* More than declared, over two writes; then nothing more is taken. */
	assert_non_null(u = store_upload_begin(t->s, h, 4, &cause));
	assert_int_equal(store_upload_write(u, "abc", 3, &cause), 0);
	assert_int_equal(store_upload_write(u, "de", 2, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_upload_write(u, "d", 1, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_upload_finish(u, &cause), -1);
	free(cause);
	cause = NULL;

	/* Less than declared. */
	assert_non_null(u = store_upload_begin(t->s, h, 4, &cause));
	assert_int_equal(store_upload_write(u, "abc", 3, &cause), 0);
	assert_int_equal(store_upload_finish(u, &cause), -1);
	assert_non_null(strstr(cause, "short: 3 of 4"));
	free(cause);

	assert_false(store_has(t->s, h));
	assert_int_equal(test_store_count(t, "store/tmp"), 0);
}

static void
test_store_validation(void **state)
{
	struct test_store *t = *state;
	static const char *const bad_names[] = {
	    "",	    ".",   "..",  "../x", "/abs",	 ".hidden",
	    "-opt", "a/b", "a b", "x\n",  "caf\xc3\xa9", NULL};
	static const char *const good_names[] = {
	    "a", "libc.so.6", "g++", "my_app-1.2", "A9", NULL};
	char long_name[201], max_name[STORE_NAME_MAX + 1], *cause = NULL;
	char h[STORE_HASH_LEN + 1], upper[STORE_HASH_LEN + 1];
	char *e = NULL, *l = NULL;

	for (int i = 0; bad_names[i] != NULL; i++) {
		if (store_name_valid(bad_names[i]))
			fail_msg("name '%s' accepted", bad_names[i]);
	}
	for (int i = 0; good_names[i] != NULL; i++) {
		if (!store_name_valid(good_names[i]))
			fail_msg("name '%s' refused", good_names[i]);
	}
	memset(long_name, 'a', 200);
	long_name[200] = '\0';
	assert_false(store_name_valid(long_name));
	memset(max_name, 'a', STORE_NAME_MAX);
	max_name[STORE_NAME_MAX] = '\0';
	assert_true(store_name_valid(max_name));
	max_name[STORE_NAME_MAX - 1] = '\0';
	assert_true(store_name_valid(max_name));
	assert_false(store_name_valid(NULL));

	test_store_put(t->s, "content", h);
	assert_true(store_hash_valid(h));
	memcpy(upper, h, sizeof upper);
	for (int i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] -= 32;
	assert_false(store_hash_valid(upper));
	assert_false(store_has(t->s, upper));
	assert_false(store_hash_valid("../../etc/passwd"));
	assert_false(store_hash_valid("tmp"));
	assert_false(store_hash_valid(""));
	assert_false(store_hash_valid(NULL));
	h[STORE_HASH_LEN - 1] = '\0';
	assert_false(store_hash_valid(h));
	h[STORE_HASH_LEN - 1] = 'a';
	assert_null(store_upload_begin(t->s, "../x", 1, &cause));
	assert_non_null(strstr(cause, "bad content hash"));
	free(cause);
	cause = NULL;
	assert_null(store_upload_begin(t->s, upper, 1, &cause));
	free(cause);
	cause = NULL;
	test_store_put(t->s, "content", h);

	/* Artifact names and file names from the network. */
	for (int i = 0; bad_names[i] != NULL; i++) {
		test_store_install_bad(
		    t->s, bad_names[i],
		    json_pack("[o]", test_store_file("x", h, "exe", 0755)),
		    "bad artifact name");
		test_store_install_bad(
		    t->s, "app",
		    json_pack("[o]",
			      test_store_file(bad_names[i], h, "exe", 0755)),
		    "bad name");
		assert_null(store_manifest(t->s, bad_names[i]));
		assert_int_equal(store_remove(t->s, bad_names[i], &cause), -1);
		free(cause);
		cause = NULL;
		assert_int_equal(
		    store_exec_path(t->s, bad_names[i], &e, &l, &cause), -1);
		free(cause);
		cause = NULL;
	}
	test_store_install_bad(
	    t->s, long_name,
	    json_pack("[o]", test_store_file("x", h, "exe", 0755)),
	    "bad artifact name");
	test_store_install_bad(
	    t->s, "app",
	    json_pack("[o]", test_store_file(long_name, h, "exe", 0755)),
	    "bad name");
	test_store_install_bad(
	    t->s, "app",
	    json_pack("[o]",
		      test_store_file("x", "../../etc/passwd", "exe", 0755)),
	    "bad hash");
	test_store_install_bad(t->s, "app",
			       json_pack("[{s:o, s:s, s:s}]", "name",
					 json_stringn("x\0y", 3), "hash", h,
					 "kind", "exe"),
			       "NUL");
	assert_int_equal(test_store_count(t, "artifacts"), 0);
}

static void
test_store_install_refusals(void **state)
{
	struct test_store *t = *state;
	char a[STORE_HASH_LEN + 1], b[STORE_HASH_LEN + 1];
	char absent[STORE_HASH_LEN + 1];

	test_store_put(t->s, "exe a", a);
	test_store_put(t->s, "lib b", b);
	test_store_hash("never uploaded", 14, absent);

	test_store_install_bad(t->s, "app", json_pack("[]"), "1 to");
	test_store_install_bad(t->s, "app", json_pack("{}"), "array");
	test_store_install_bad(
	    t->s, "app", json_pack("[o]", test_store_file("b", b, "lib", 0644)),
	    "exactly one exe (got 0)");
	test_store_install_bad(t->s, "app",
			       json_pack("[o, o]",
					 test_store_file("a", a, "exe", 0755),
					 test_store_file("a2", b, "exe", 0755)),
			       "exactly one exe (got 2)");
	test_store_install_bad(
	    t->s, "app",
	    json_pack("[o, o]", test_store_file("a", a, "exe", 0755),
		      test_store_file("x", absent, "lib", 0644)),
	    "not in the store");
	test_store_install_bad(t->s, "app",
			       json_pack("[o, o, o]",
					 test_store_file("a", a, "exe", 0755),
					 test_store_file("x", b, "lib", 0644),
					 test_store_file("x", a, "lib", 0644)),
			       "listed twice");
	test_store_install_bad(
	    t->s, "app",
	    json_pack("[o]", test_store_file("a", a, "script", 0755)),
	    "kind must be exe or lib");
	test_store_install_bad(t->s, "app", json_pack("[i]", 1),
			       "not an object");
	test_store_install_bad(
	    t->s, "app", json_pack("[{s:s, s:s}]", "name", "a", "hash", a),
	    "kind");
	test_store_install_bad(
	    t->s, "app",
	    json_pack("[o]", test_store_file("a", a, "exe", 99999)), "mode");
	/* Nothing half-built stays behind, and the store files are kept. */
	assert_int_equal(test_store_count(t, "artifacts"), 0);
	assert_true(store_has(t->s, a));
	assert_true(store_has(t->s, b));
}

static void
test_store_install(void **state)
{
	struct test_store *t = *state;
	char e[STORE_HASH_LEN + 1], l1[STORE_HASH_LEN + 1];
	char l2[STORE_HASH_LEN + 1], z[STORE_HASH_LEN + 1];
	char *exe = NULL, *lib = NULL, *cause = NULL, *p, *want;
	struct stat st, st2;
	json_t *m, *list, *f;

	test_store_put(t->s, "#!/bin/sh\necho hi\n", e);
	test_store_put(t->s, "libfoo content", l1);
	test_store_put(t->s, "libbar content", l2);
	test_store_put(t->s, "zeta's exe", z);
	test_store_install_ok(
	    t->s, "web",
	    json_pack("[o, o, o]", test_store_file("web", e, "exe", 0755),
		      test_store_file("libfoo.so.1", l1, "lib", 0644),
		      test_store_file("libbar.so.2", l2, "lib", 0644)));

	assert_int_equal(store_exec_path(t->s, "web", &exe, &lib, &cause), 0);
	assert_true(asprintf(&want, "%s/artifacts/web/bin/web", t->dir) > 0);
	assert_int_equal(exe[0], '/');
	/* t->dir is under /tmp, already absolute and free of links. */
	assert_string_equal(exe, want);
	free(want);
	assert_true(asprintf(&want, "%s/artifacts/web/lib", t->dir) > 0);
	assert_string_equal(lib, want);
	free(want);
	assert_int_equal(stat(exe, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(access(exe, X_OK), 0);
	/* A hard link to the store file, not a copy. */
	assert_true(asprintf(&p, "%s/store/%s", t->dir, e) > 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	free(p);
	assert_true(asprintf(&p, "%s/libfoo.so.1", lib) > 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(p);
	assert_int_equal(test_store_count(t, "artifacts/web/lib"), 2);
	assert_int_equal(test_store_count(t, "artifacts/web/bin"), 1);
	free(exe);
	free(lib);

	assert_non_null(m = store_manifest(t->s, "web"));
	assert_string_equal(json_string_value(json_object_get(m, "name")),
			    "web");
	assert_string_equal(json_string_value(json_object_get(m, "hash")), e);
	assert_int_equal(json_integer_value(json_object_get(m, "size")),
			 18 + 14 + 14);
	assert_int_equal(json_array_size(json_object_get(m, "files")), 3);
	f = json_array_get(json_object_get(m, "files"), 1);
	assert_string_equal(json_string_value(json_object_get(f, "name")),
			    "libfoo.so.1");
	assert_string_equal(json_string_value(json_object_get(f, "hash")), l1);
	assert_string_equal(json_string_value(json_object_get(f, "kind")),
			    "lib");
	assert_int_equal(json_integer_value(json_object_get(f, "size")), 14);
	assert_int_equal(json_integer_value(json_object_get(f, "mode")), 0644);
	json_decref(m);
	assert_null(store_manifest(t->s, "nothing"));
	assert_int_equal(store_exec_path(t->s, "nothing", &exe, &lib, &cause),
			 -1);
	assert_non_null(strstr(cause, "no artifact named 'nothing'"));
	free(cause);

	/* Listed sorted by name, whatever the order of installation. */
	test_store_install_ok(
	    t->s, "zeta",
	    json_pack("[o]", test_store_file("z", z, "exe", 0755)));
	test_store_install_ok(
	    t->s, "alpha",
	    json_pack("[o, o]", test_store_file("a", z, "exe", 0755),
		      test_store_file("libfoo.so.1", l1, "lib", 0644)));
	list = store_list(t->s);
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(list, 0), "name")),
	    "alpha");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(list, 1), "name")),
	    "web");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(list, 2), "name")),
	    "zeta");
	json_decref(list);
}

/* A reader in another process polls the artifact while it is replaced. */
static void
test_store_reinstall(void **state)
{
	struct test_store *t = *state;
	char v1[STORE_HASH_LEN + 1], v2[STORE_HASH_LEN + 1];
	char lib[STORE_HASH_LEN + 1], *exe_path, *manifest_path, *cause = NULL;
	int fds[2], status;
	json_t *m;
	pid_t pid;

	test_store_put(t->s, "version one", v1);
	test_store_put(t->s, "version two", v2);
	test_store_put(t->s, "a library", lib);
	/* "keep" holds both versions so that replacing app removes neither. */
	test_store_install_ok(
	    t->s, "keep",
	    json_pack("[o, o, o]", test_store_file("k", v1, "exe", 0755),
		      test_store_file("v2", v2, "lib", 0644),
		      test_store_file("lib", lib, "lib", 0644)));
	test_store_install_ok(
	    t->s, "app",
	    json_pack("[o, o]", test_store_file("app", v1, "exe", 0755),
		      test_store_file("libx.so", lib, "lib", 0644)));

	exe_path = test_store_path(t, "artifacts/app/bin/app");
	manifest_path = test_store_path(t, "artifacts/app/manifest.json");
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		char c;

		close(fds[1]);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		/* Until the parent closes the pipe: EOF reads 0. */
		while (read(fds[0], &c, 1) == -1 && errno == EAGAIN) {
			if (access(exe_path, X_OK) == -1 ||
			    access(manifest_path, R_OK) == -1)
				_exit(1);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	close(fds[0]);
	for (int i = 0; i < 100; i++) {
		test_store_install_ok(
		    t->s, "app",
		    json_pack("[o, o]",
			      test_store_file("app", i % 2 == 0 ? v2 : v1,
					      "exe", 0755),
			      test_store_file("libx.so", lib, "lib", 0644)));
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(exe_path);
	free(manifest_path);

	/* The last install (i = 99) put v1 in place. */
	assert_non_null(m = store_manifest(t->s, "app"));
	assert_string_equal(json_string_value(json_object_get(m, "hash")), v1);
	json_decref(m);
	assert_int_equal(test_store_count(t, "artifacts"),
			 2); /* no leftovers */

	/* Replaced by a new exe: the old one, used by nothing, leaves. */
	assert_int_equal(store_remove(t->s, "keep", &cause), 0);
	assert_false(store_has(t->s, v2));
	assert_true(store_has(t->s, v1));
	test_store_put(t->s, "version two", v2);
	test_store_install_ok(
	    t->s, "app",
	    json_pack("[o]", test_store_file("app", v2, "exe", 0755)));
	assert_false(store_has(t->s, v1));
	assert_false(store_has(t->s, lib));
	assert_true(store_has(t->s, v2));
}

static void
test_store_remove(void **state)
{
	struct test_store *t = *state;
	char a[STORE_HASH_LEN + 1], b[STORE_HASH_LEN + 1];
	char shared[STORE_HASH_LEN + 1], pending[STORE_HASH_LEN + 1];
	char *cause = NULL;
	json_t *list;

	test_store_put(t->s, "exe of a", a);
	test_store_put(t->s, "exe of b", b);
	test_store_put(t->s, "libshared", shared);
	test_store_install_ok(
	    t->s, "a",
	    json_pack("[o, o]", test_store_file("a", a, "exe", 0755),
		      test_store_file("libshared.so", shared, "lib", 0644)));
	test_store_install_ok(
	    t->s, "b",
	    json_pack("[o, o]", test_store_file("b", b, "exe", 0755),
		      test_store_file("libshared.so", shared, "lib", 0644)));
	/* Uploaded for an install still to come: no removal may take it. */
	test_store_put(t->s, "pending upload", pending);

	assert_int_equal(store_remove(t->s, "a", &cause), 0);
	assert_null(cause);
	assert_false(store_has(t->s, a));
	assert_true(store_has(t->s, shared));
	assert_true(store_has(t->s, b));
	assert_null(store_manifest(t->s, "a"));
	list = store_list(t->s);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);

	assert_int_equal(store_remove(t->s, "a", &cause), -1);
	assert_string_equal(cause, "no artifact named 'a'");
	free(cause);
	cause = NULL;

	assert_int_equal(store_remove(t->s, "b", &cause), 0);
	assert_false(store_has(t->s, b));
	assert_false(store_has(t->s, shared));
	assert_true(store_has(t->s, pending));
	assert_int_equal(test_store_count(t, "store"), 2); /* tmp, pending */
	assert_int_equal(test_store_count(t, "artifacts"), 0);
	list = store_list(t->s);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static void
test_store_open_cleans(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *cause = NULL, *p;
	json_t *m;
	FILE *f;

	test_store_put(t->s, "exe", h);
	test_store_install_ok(
	    t->s, "app",
	    json_pack("[o]", test_store_file("app", h, "exe", 0755)));
	test_store_install_ok(
	    t->s, "other",
	    json_pack("[o]", test_store_file("o", h, "exe", 0755)));
	store_free(t->s);
	t->s = NULL;

	/* What a crash leaves: */
	p = test_store_path(t, "store/tmp/deadbeef.123.0000");
	assert_non_null(f = fopen(p, "w"));
	fputs("half an upload", f);
	fclose(f);
	free(p);
	p = test_store_path(t, "artifacts/.app.tmp-123");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = test_store_path(t, "artifacts/.app.tmp-123/bin");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	/* ... an artifact set aside whose replacement never arrived ... */
	p = test_store_path(t, "artifacts/other");
	char *aside = test_store_path(t, "artifacts/.other.old-77");
	assert_int_equal(rename(p, aside), 0);
	free(p);
	free(aside);
	/* ... and one half removed. */
	p = test_store_path(t, "artifacts/.gone.rm-5");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);

	if ((t->s = store_open(t->dir, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	assert_int_equal(test_store_count(t, "store/tmp"), 0);
	assert_int_equal(test_store_count(t, "artifacts"), 2);
	assert_non_null(m = store_manifest(t->s, "app"));
	json_decref(m);
	assert_non_null(m = store_manifest(t->s, "other"));
	json_decref(m);
	assert_true(store_has(t->s, h));
}

/* Links planted inside DIR are never followed out of it. */
static void
test_store_symlinks(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *outside, *p, *cause = NULL;
	char *exe = NULL, *lib = NULL;
	struct stat st;
	json_t *list;
	FILE *f;

	assert_true(asprintf(&outside, "%s/outside", t->root) > 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_true(asprintf(&p, "%s/manifest.json", outside) > 0);
	assert_non_null(f = fopen(p, "w"));
	fputs("{\"name\":\"evil\",\"files\":[]}", f);
	fclose(f);
	free(p);
	p = test_store_path(t, "artifacts/evil");
	assert_int_equal(symlink(outside, p), 0);
	free(p);

	assert_null(store_manifest(t->s, "evil"));
	list = store_list(t->s);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(store_exec_path(t->s, "evil", &exe, &lib, &cause), -1);
	free(cause);
	cause = NULL;

	/* Installing over the link replaces the link, not what it points to. */
	test_store_put(t->s, "exe", h);
	test_store_install_ok(
	    t->s, "evil",
	    json_pack("[o]", test_store_file("e", h, "exe", 0755)));
	p = test_store_path(t, "artifacts/evil");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(p);
	assert_true(asprintf(&p, "%s/manifest.json", outside) > 0);
	assert_int_equal(stat(p, &st), 0);

	/* An exe replaced by a link is refused; removal spares the target. */
	char *bin = test_store_path(t, "artifacts/evil/bin/e");
	assert_int_equal(unlink(bin), 0);
	assert_int_equal(symlink(p, bin), 0);
	free(bin);
	assert_int_equal(store_exec_path(t->s, "evil", &exe, &lib, &cause), -1);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_remove(t->s, "evil", &cause), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(test_store_count(t, "artifacts"), 0);
	free(p);
	free(outside);
}

/* Mount a small tmpfs at t->dir/rel; false when mounting is not allowed. */
static bool
test_store_mount(struct test_store *t, int slot, const char *path,
		 const char *size)
{
	char opts[64];

	snprintf(opts, sizeof opts, "size=%s", size);
	if (mount("tmpfs", path, "tmpfs", 0, opts) == -1) {
		if (errno == EPERM)
			return false;
		fail_msg("mount %s: %s", path, strerror(errno));
	}
	t->mounts[slot] = strdup(path);
	return true;
}

static void
test_store_enospc(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *full, *cause = NULL;
	size_t len = 200 * 1024, off;
	struct store_upload *u;
	struct store *s;
	char *data;
	int rc = 0;

	assert_true(asprintf(&full, "%s/full", t->root) > 0);
	assert_int_equal(mkdir(full, 0755), 0);
	if (!test_store_mount(t, 0, full, "64k")) {
		free(full);
		skip();
	}
	if ((s = store_open(full, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	assert_true(store_free_bytes(s) <= 64 * 1024);
	data = malloc(len);
	for (off = 0; off < len; off++)
		data[off] = (char)(off * 7);
	test_store_hash(data, len, h);
	assert_non_null(u = store_upload_begin(s, h, len, &cause));
	for (off = 0; off < len && rc == 0; off += 16 * 1024)
		rc = store_upload_write(u, data + off, 16 * 1024, &cause);
	assert_int_equal(rc, -1);
	assert_non_null(cause);
	if (strstr(cause, "ENOSPC") == NULL)
		fail_msg("cause '%s' does not name ENOSPC", cause);
	assert_non_null(strstr(cause, "no space left on the node"));
	assert_non_null(strstr(cause, h));
	free(cause);
	cause = NULL;
	/* After a failed write only an abort is left. */
	assert_int_equal(store_upload_write(u, data, 1, &cause), -1);
	free(cause);
	store_upload_abort(u);
	assert_false(store_has(s, h));
	store_free(s);
	free(data);

	char *tmp;
	assert_true(asprintf(&tmp, "%s/store/tmp", full) > 0);
	DIR *d = opendir(tmp);
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);
	free(tmp);
	free(full);
}

/* artifacts/ on another file system: files are copied, not linked. */
static void
test_store_exdev(void **state)
{
	struct test_store *t = *state;
	char h[STORE_HASH_LEN + 1], *art, *p, *exe = NULL, *lib = NULL;
	char *cause = NULL;
	struct stat st, st2;

	art = test_store_path(t, "artifacts");
	if (!test_store_mount(t, 0, art, "1m")) {
		free(art);
		skip();
	}
	free(art);
	/* Reopen so the store's descriptor is the mounted directory. */
	store_free(t->s);
	if ((t->s = store_open(t->dir, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	test_store_put(t->s, "copied exe", h);
	test_store_install_ok(
	    t->s, "app",
	    json_pack("[o]", test_store_file("app", h, "exe", 0755)));
	assert_int_equal(store_exec_path(t->s, "app", &exe, &lib, &cause), 0);
	assert_int_equal(stat(exe, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_size, 10);
	assert_true(asprintf(&p, "%s/store/%s", t->dir, h) > 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_true(st.st_dev != st2.st_dev);
	free(p);
	free(exe);
	free(lib);
	/* A reinstall swaps in place on that file system too. */
	test_store_install_ok(
	    t->s, "app",
	    json_pack("[o]", test_store_file("app2", h, "exe", 0755)));
	assert_int_equal(store_remove(t->s, "app", &cause), 0);
	assert_false(store_has(t->s, h));
	assert_int_equal(test_store_count(t, "artifacts"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)                                                                   \
	cmocka_unit_test_setup_teardown(f, test_store_setup,                   \
					test_store_teardown)
	    T(test_store_upload),	    T(test_store_upload_mismatch),
	    T(test_store_upload_size),	    T(test_store_validation),
	    T(test_store_install_refusals), T(test_store_install),
	    T(test_store_reinstall),	    T(test_store_remove),
	    T(test_store_open_cleans),	    T(test_store_symlinks),
	    T(test_store_enospc),	    T(test_store_exdev),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
