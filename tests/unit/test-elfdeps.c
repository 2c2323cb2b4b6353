/*
 * Unit tests for the ELF library resolver. The programs and libraries are
 * built here with cc into a temporary directory, so each search rule is
 * checked on files whose dynamic sections we chose; system programs are
 * checked against what ldd (the loader itself) resolves.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/elfdeps.h"
#include "common/xmem.h"
#include "testdir.h"

/* The scratch tree, built once for the whole group (testdir_make). */
static char *test_elfdeps_dir;
static int test_elfdeps_have_static;

/* Runs a shell command built from fmt; returns its exit status. */
static int
test_elfdeps_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
test_elfdeps_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		abort();
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* A path inside the scratch tree; caller frees. */
static char *
test_elfdeps_path(const char *rel)
{
	return xasprintf("%s/%s", test_elfdeps_dir, rel);
}

static void
test_elfdeps_write(const char *rel, const char *text)
{
	char *path = test_elfdeps_path(rel);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		abort();
	free(path);
}

/*
 * The tree:
 *   lib/libdrvtest.so.1           soname libdrvtest.so.1
 *   bin/app                       RUNPATH $ORIGIN/../lib
 *   bin/app2                      no path: found only via LD_LIBRARY_PATH
 *   bad/libdrvtest.so.1           e_machine patched to aarch64
 *   tlib/libdrvtwo.so.1           needs libdrvdep.so.1, RUNPATH $ORIGIN
 *   tlib/libdrvdep.so.1
 *   bin/app3                      RUNPATH ${ORIGIN}/../tlib, needs drvtwo
 *   rlib/libdrvtwo.so.1           needs libdrvdep.so.1, no path at all
 *   rlib/libdrvdep.so.1
 *   bin/app4                      RPATH $ORIGIN/../rlib: lent to drvtwo
 *   bin/app5                      RUNPATH $ORIGIN/../rlib: not lent
 *   <$LIB>/libdrvtest.so.1, bin/app6  RUNPATH $ORIGIN/../$LIB
 *   bin/static, script.sh, text.txt, obj.o
 */
static int
test_elfdeps_setup(void **state)
{
	const char *d;
	const char *cc = "cc -w -o";
	int rc = 0;

	(void)state;
	if ((test_elfdeps_dir = testdir_make()) == NULL)
		return -1;
	d = test_elfdeps_dir;
	rc |= test_elfdeps_sh("cd %s && mkdir -p lib bin bad tlib rlib "
	    "lib/x86_64-linux-gnu src", d);
	test_elfdeps_write("src/drvtest.c", "int drvtest(void){return 1;}\n");
	test_elfdeps_write("src/drvdep.c", "int drvdep(void){return 2;}\n");
	test_elfdeps_write("src/drvtwo.c",
	    "int drvdep(void);\nint drvtwo(void){return drvdep();}\n");
	test_elfdeps_write("src/main.c",
	    "int drvtest(void);\nint main(void){return drvtest()-1;}\n");
	test_elfdeps_write("src/main2.c",
	    "int drvtwo(void);\nint main(void){return drvtwo()-2;}\n");
	test_elfdeps_write("src/plain.c", "int main(void){return 0;}\n");
	test_elfdeps_write("script.sh", "#!/bin/sh\necho hello\n");
	test_elfdeps_write("text.txt", "just some text\n");

	rc |= test_elfdeps_sh("cd %s && "
	    "cc -w -shared -fPIC -Wl,-soname,libdrvtest.so.1 "
	    "-o lib/libdrvtest.so.1 src/drvtest.c && "
	    "%s bin/app src/main.c lib/libdrvtest.so.1 "
	    "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' && "
	    "%s bin/app2 src/main.c lib/libdrvtest.so.1 && "
	    "cp lib/libdrvtest.so.1 bad/ && "
	    "printf '\\267\\000' | dd of=bad/libdrvtest.so.1 bs=1 seek=18 "
	    "conv=notrunc status=none", d, cc, cc);
	rc |= test_elfdeps_sh("cd %s && for l in tlib rlib; do "
	    "cc -w -shared -fPIC -Wl,-soname,libdrvdep.so.1 "
	    "-o $l/libdrvdep.so.1 src/drvdep.c || exit 1; done && "
	    "cc -w -shared -fPIC -Wl,-soname,libdrvtwo.so.1 "
	    "-o tlib/libdrvtwo.so.1 src/drvtwo.c tlib/libdrvdep.so.1 "
	    "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN' && "
	    "cc -w -shared -fPIC -Wl,-soname,libdrvtwo.so.1 "
	    "-o rlib/libdrvtwo.so.1 src/drvtwo.c rlib/libdrvdep.so.1 && "
	    "%s bin/app3 src/main2.c tlib/libdrvtwo.so.1 "
	    "-Wl,--enable-new-dtags -Wl,-rpath,'${ORIGIN}/../tlib' && "
	    "%s bin/app4 src/main2.c rlib/libdrvtwo.so.1 "
	    "-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../rlib' && "
	    "%s bin/app5 src/main2.c rlib/libdrvtwo.so.1 "
	    "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../rlib' && "
	    "cp lib/libdrvtest.so.1 lib/x86_64-linux-gnu/ && "
	    "%s bin/app6 src/main.c lib/libdrvtest.so.1 "
	    "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../$LIB' && "
	    "cc -w -c -o obj.o src/plain.c", d, cc, cc, cc, cc);
	test_elfdeps_have_static = test_elfdeps_sh("cd %s && cc -w -static "
	    "-o bin/static src/plain.c 2>/dev/null", d) == 0;
	return rc == 0 ? 0 : -1;
}

static int
test_elfdeps_teardown(void **state)
{
	(void)state;
	return testdir_remove(test_elfdeps_dir);
}

/* The real path of the scratch file rel; caller frees. */
static char *
test_elfdeps_real(const char *rel)
{
	char *path = test_elfdeps_path(rel), *real = realpath(path, NULL);

	assert_non_null(real);
	free(path);
	return real;
}

/* Asserts file i of d is the scratch file rel installed as name. */
static void
test_elfdeps_assert_file(const struct elfdeps *d, size_t i, const char *rel,
    const char *name)
{
	char *real = test_elfdeps_real(rel);

	assert_true(i < d->nfiles);
	assert_string_equal(d->files[i].path, real);
	assert_string_equal(d->files[i].name, name);
	assert_int_equal(d->files[i].is_exe, i == 0);
	free(real);
}

/* Resolves the scratch file rel; asserts success. */
static struct elfdeps *
test_elfdeps_resolve(const char *rel, const char *ldlp)
{
	char *path = test_elfdeps_path(rel), *cause = NULL;
	struct elfdeps *d = elfdeps_resolve(path, ldlp, &cause);

	if (d == NULL)
		fail_msg("%s: %s", path, cause);
	free(path);
	return d;
}

/* Resolves path; asserts failure with a cause holding each of want. */
static void
test_elfdeps_refused(const char *path, const char *ldlp, const char *want1,
    const char *want2)
{
	char *cause = NULL;
	struct elfdeps *d = elfdeps_resolve(path, ldlp, &cause);

	assert_null(d);
	assert_non_null(cause);
	if (strstr(cause, want1) == NULL ||
	    (want2 != NULL && strstr(cause, want2) == NULL))
		fail_msg("cause '%s' lacks '%s' or '%s'", cause, want1,
		    want2 == NULL ? "" : want2);
	free(cause);
}

/* Whether the directory of real is one of the system's library dirs. */
static int
test_elfdeps_in_system_dir(const char *real)
{
	static const char *const defaults[] = {"/lib/x86_64-linux-gnu",
	    "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib", "/lib64",
	    "/usr/lib64", NULL};
	char **conf = elfdeps_conf_dirs("/etc/ld.so.conf");
	char *dir = xstrdup(real), *rdir;
	int found = 0;
	size_t i;

	*strrchr(dir, '/') = '\0';
	for (i = 0; conf[i] != NULL; i++) {
		if ((rdir = realpath(conf[i], NULL)) != NULL) {
			found |= strcmp(rdir, dir) == 0;
			free(rdir);
		}
		free(conf[i]);
	}
	free(conf);
	for (i = 0; defaults[i] != NULL; i++) {
		if ((rdir = realpath(defaults[i], NULL)) != NULL) {
			found |= strcmp(rdir, dir) == 0;
			free(rdir);
		}
	}
	free(dir);
	return found;
}

/*
 * Compares the resolver with ldd on path: every library ldd maps must be
 * in elfdeps_resolve_all under the same needed name and real path (the
 * interpreter aside, which ldd prints without a name), the reverse too, and
 * elfdeps_resolve must list exactly those outside the system directories.
 */
static void
test_elfdeps_match_ldd(const char *path, const char *ldlp)
{
	struct elfdeps *all, *own;
	char *cause = NULL, *line = NULL, *cmd, *interp = NULL, *arrow, *end;
	char *real;
	size_t cap = 0, i, nldd = 0, nown = 0;
	FILE *p;
	int *seen;

	if (access(path, X_OK) != 0)
		return;
	if ((all = elfdeps_resolve_all(path, ldlp, &cause)) == NULL)
		fail_msg("%s: %s", path, cause);
	if ((own = elfdeps_resolve(path, ldlp, &cause)) == NULL)
		fail_msg("%s: %s", path, cause);
	if (all->is_static || all->is_script) {
		/* ldd: "not a dynamic executable"; nothing to compare. */
		assert_int_equal(all->nfiles, 1);
		assert_int_equal(own->nfiles, 1);
		elfdeps_free(all);
		elfdeps_free(own);
		return;
	}
	seen = xcalloc(all->nfiles, sizeof *seen);
	seen[0] = 1;

	cmd = ldlp != NULL ? xasprintf("LD_LIBRARY_PATH='%s' ldd '%s'", ldlp,
	    path) : xasprintf("ldd '%s'", path);
	assert_non_null(p = popen(cmd, "r"));
	while (getline(&line, &cap, p) != -1) {
		char *name = line + strspn(line, " \t");

		if ((arrow = strstr(name, " => ")) == NULL) {
			if (*name == '/' && (end = strchr(name, ' ')) != NULL) {
				*end = '\0';
				free(interp);
				interp = realpath(name, NULL);
			}
			continue;
		}
		*arrow = '\0';
		if ((end = strchr(arrow + 4, ' ')) != NULL)
			*end = '\0';
		if ((real = realpath(arrow + 4, NULL)) == NULL)
			fail_msg("%s: ldd: %s => %s", path, name, arrow + 4);
		for (i = 1; i < all->nfiles; i++)
			if (strcmp(all->files[i].name, name) == 0)
				break;
		if (i == all->nfiles)
			fail_msg("%s: ldd maps %s, elfdeps does not", path,
			    name);
		if (strcmp(all->files[i].path, real) != 0)
			fail_msg("%s: %s: ldd %s, elfdeps %s", path, name, real,
			    all->files[i].path);
		assert_int_equal(all->files[i].is_system,
		    test_elfdeps_in_system_dir(real));
		seen[i] = 1;
		nldd++;
		if (!all->files[i].is_system) {
			for (i = 1; i < own->nfiles; i++)
				if (strcmp(own->files[i].path, real) == 0)
					break;
			if (i == own->nfiles)
				fail_msg("%s: %s not listed", path, name);
			nown++;
		}
		free(real);
	}
	assert_int_equal(pclose(p), 0);
	for (i = 1; i < all->nfiles; i++)
		if (!seen[i] && (interp == NULL ||
		    strcmp(all->files[i].path, interp) != 0))
			fail_msg("%s: elfdeps maps %s (%s), ldd does not", path,
			    all->files[i].name, all->files[i].path);
	assert_int_equal(own->nfiles, nown + 1);
	assert_true(nldd > 0);
	free(seen);
	free(interp);
	free(line);
	free(cmd);
	elfdeps_free(all);
	elfdeps_free(own);
}

static void
test_elfdeps_runpath_origin(void **state)
{
	struct elfdeps *d;

	(void)state;
	d = test_elfdeps_resolve("bin/app", NULL);
	assert_int_equal(d->nfiles, 2);
	test_elfdeps_assert_file(d, 0, "bin/app", "app");
	test_elfdeps_assert_file(d, 1, "lib/libdrvtest.so.1",
	    "libdrvtest.so.1");
	assert_string_equal(d->arch, "x86_64");
	assert_false(d->is_static);
	assert_false(d->is_script);
	elfdeps_free(d);
}

static void
test_elfdeps_ld_library_path(void **state)
{
	char *path = test_elfdeps_path("bin/app2");
	char *lib = test_elfdeps_path("lib");
	char *both = xasprintf("%s/bad:%s", test_elfdeps_dir, lib);
	struct elfdeps *d;

	(void)state;
	test_elfdeps_refused(path, NULL,
	    "library libdrvtest.so.1 (needed by ", "searched: ");
	test_elfdeps_refused(path, NULL, "not found", "/usr/lib");
	test_elfdeps_refused(path, "/nonexistent", "/nonexistent, ", NULL);

	d = test_elfdeps_resolve("bin/app2", lib);
	assert_int_equal(d->nfiles, 2);
	test_elfdeps_assert_file(d, 1, "lib/libdrvtest.so.1",
	    "libdrvtest.so.1");
	elfdeps_free(d);

	/* The aarch64 copy in bad/ comes first and is passed over. */
	d = test_elfdeps_resolve("bin/app2", both);
	assert_int_equal(d->nfiles, 2);
	test_elfdeps_assert_file(d, 1, "lib/libdrvtest.so.1",
	    "libdrvtest.so.1");
	elfdeps_free(d);
	test_elfdeps_match_ldd(path, both);

	free(both);
	free(lib);
	free(path);
}

static void
test_elfdeps_transitive(void **state)
{
	struct elfdeps *d;

	(void)state;
	d = test_elfdeps_resolve("bin/app3", NULL);
	assert_int_equal(d->nfiles, 3);
	test_elfdeps_assert_file(d, 0, "bin/app3", "app3");
	test_elfdeps_assert_file(d, 1, "tlib/libdrvtwo.so.1", "libdrvtwo.so.1");
	test_elfdeps_assert_file(d, 2, "tlib/libdrvdep.so.1", "libdrvdep.so.1");
	elfdeps_free(d);
}

static void
test_elfdeps_rpath_is_inherited(void **state)
{
	struct elfdeps *d;
	char *path;

	(void)state;
	/* The executable's RPATH serves its libraries' searches too. */
	d = test_elfdeps_resolve("bin/app4", NULL);
	assert_int_equal(d->nfiles, 3);
	test_elfdeps_assert_file(d, 1, "rlib/libdrvtwo.so.1", "libdrvtwo.so.1");
	test_elfdeps_assert_file(d, 2, "rlib/libdrvdep.so.1", "libdrvdep.so.1");
	elfdeps_free(d);

	/* Its RUNPATH does not. */
	path = test_elfdeps_path("bin/app5");
	test_elfdeps_refused(path, NULL, "library libdrvdep.so.1 (needed by ",
	    "rlib/libdrvtwo.so.1) not found");
	free(path);
}

static void
test_elfdeps_lib_token(void **state)
{
	struct elfdeps *d;
	char *path;

	(void)state;
	/* Debian's ld.so expands $LIB to lib/x86_64-linux-gnu. */
	if (access("/usr/lib/x86_64-linux-gnu/libc.so.6", F_OK) != 0)
		skip();
	d = test_elfdeps_resolve("bin/app6", NULL);
	assert_int_equal(d->nfiles, 2);
	test_elfdeps_assert_file(d, 1, "lib/x86_64-linux-gnu/libdrvtest.so.1",
	    "libdrvtest.so.1");
	elfdeps_free(d);
	path = test_elfdeps_path("bin/app6");
	test_elfdeps_match_ldd(path, NULL);
	free(path);
}

static void
test_elfdeps_own_programs_match_ldd(void **state)
{
	static const char *const rels[] = {"bin/app", "bin/app3", "bin/app4"};
	char *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rels / sizeof rels[0]; i++) {
		path = test_elfdeps_path(rels[i]);
		test_elfdeps_match_ldd(path, NULL);
		free(path);
	}
}

static void
test_elfdeps_static(void **state)
{
	struct elfdeps *d;

	(void)state;
	if (!test_elfdeps_have_static)
		skip();
	d = test_elfdeps_resolve("bin/static", NULL);
	assert_true(d->is_static);
	assert_int_equal(d->nfiles, 1);
	test_elfdeps_assert_file(d, 0, "bin/static", "static");
	assert_string_equal(d->arch, "x86_64");
	elfdeps_free(d);
}

static void
test_elfdeps_script(void **state)
{
	struct elfdeps *d;

	(void)state;
	d = test_elfdeps_resolve("script.sh", NULL);
	assert_true(d->is_script);
	assert_null(d->arch);
	assert_int_equal(d->nfiles, 1);
	test_elfdeps_assert_file(d, 0, "script.sh", "script.sh");
	elfdeps_free(d);
}

static void
test_elfdeps_rejects(void **state)
{
	char *dir = test_elfdeps_path("lib");
	char *missing = test_elfdeps_path("missing");
	char *text = test_elfdeps_path("text.txt");
	char *obj = test_elfdeps_path("obj.o");

	(void)state;
	test_elfdeps_refused(dir, NULL, dir, "is a directory");
	test_elfdeps_refused(missing, NULL, missing, "No such file");
	test_elfdeps_refused(text, NULL, text, "neither an ELF");
	test_elfdeps_refused(obj, NULL, obj, "not an executable");
	test_elfdeps_refused("/dev/null", NULL, "/dev/null",
	    "not a regular file");
	free(obj);
	free(text);
	free(missing);
	free(dir);
}

static void
test_elfdeps_system_programs_match_ldd(void **state)
{
	static const char *const progs[] = {"/bin/ls", "/usr/bin/curl",
	    "/usr/bin/ssh", "/usr/bin/python3", "/usr/bin/valgrind"};
	char *self;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof progs / sizeof progs[0]; i++)
		test_elfdeps_match_ldd(progs[i], NULL);
	/* This test links libelf, cmocka, zmq, czmq, jansson, sodium... */
	assert_non_null(self = realpath("/proc/self/exe", NULL));
	test_elfdeps_match_ldd(self, NULL);
	free(self);
}

/* Reads a whole file into memory; caller frees. */
static char *
test_elfdeps_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) > 0);
	rewind(f);
	buf = xmalloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
test_elfdeps_inspect_images(void **state)
{
	struct elfdeps_image img;
	char *path, *buf, *cause = NULL;
	size_t len, cut;

	(void)state;
	path = test_elfdeps_path("tlib/libdrvtwo.so.1");
	buf = test_elfdeps_slurp(path, &len);
	assert_int_equal(elfdeps_inspect(buf, len, &img, &cause), 0);
	assert_true(img.nneeded >= 1); /* libc.so.6 too, without --as-needed */
	assert_string_equal(img.needed[0], "libdrvdep.so.1");
	assert_string_equal(img.soname, "libdrvtwo.so.1");
	assert_string_equal(img.runpath, "$ORIGIN");
	assert_null(img.rpath);
	assert_null(img.interp);
	elfdeps_image_clear(&img);

	/* Every truncation is refused or parsed, never read past. */
	for (cut = 0; cut < len; cut += cut < 256 ? 1 : 97) {
		if (elfdeps_inspect(buf, cut, &img, &cause) == 0)
			elfdeps_image_clear(&img);
		else {
			assert_non_null(cause);
			free(cause);
			cause = NULL;
		}
	}
	/* Just the header: the program headers are past the end. */
	assert_int_equal(elfdeps_inspect(buf, 64, &img, &cause), -1);
	free(cause);
	cause = NULL;
	free(buf);
	free(path);

	path = test_elfdeps_path("bin/app4");
	buf = test_elfdeps_slurp(path, &len);
	assert_int_equal(elfdeps_inspect(buf, len, &img, &cause), 0);
	assert_string_equal(img.rpath, "$ORIGIN/../rlib");
	assert_null(img.runpath);
	assert_non_null(img.interp);
	assert_int_equal(img.elfclass, 2);
	elfdeps_image_clear(&img);
	free(buf);
	free(path);

	assert_int_equal(elfdeps_inspect("", 0, &img, &cause), -1);
	free(cause);
	assert_int_equal(elfdeps_inspect("#!/bin/sh\n", 10, &img, &cause), -1);
	free(cause);
	assert_int_equal(elfdeps_inspect("\177ELF", 4, &img, &cause), -1);
	free(cause);
}

static void
test_elfdeps_expand_tokens(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"$ORIGIN/../lib", "/o/../lib"},
	    {"${ORIGIN}/x", "/o/x"},
	    {"/a/$LIB/b", "/a/lib/x86_64-linux-gnu/b"},
	    {"/p/${PLATFORM}", "/p/haswell"},
	    {"$ORIGINX", "$ORIGINX"},
	    {"${ORIGIN", "${ORIGIN"},
	    {"a$", "a$"},
	    {"$$ORIGIN", "$/o"},
	    {"$ORIGIN$ORIGIN", "/o/o"},
	    {"", ""},
	};
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = elfdeps_expand(cases[i].in, "/o", "lib/x86_64-linux-gnu",
		    "haswell");
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	assert_null(elfdeps_expand("$ORIGIN/x", NULL, "lib", "x"));
	assert_null(elfdeps_expand("/x/$PLATFORM", "/o", "lib", NULL));
	assert_non_null(s = elfdeps_expand("/x/$PLATFORMS", "/o", "lib", NULL));
	assert_string_equal(s, "/x/$PLATFORMS");
	free(s);
}

static void
test_elfdeps_conf(void **state)
{
	static const char *const want[] = {"/a/b", "/e", "/f", "/c", "/d",
	    "/g", NULL};
	char *conf, **dirs;
	size_t i;

	(void)state;
	assert_int_equal(test_elfdeps_sh("mkdir -p %s/conf/sub",
	    test_elfdeps_dir), 0);
	test_elfdeps_write("conf/ld.so.conf", "# comment\n/a/b/\n"
	    "include sub/*.conf\nhwcap 1 nosegneg\n  /c  # trailing\n"
	    "/d=libc6\n\n/a/b\ninclude /nonexistent/*.conf\n/g\n");
	test_elfdeps_write("conf/sub/1.conf", "/e\ninclude 1.conf\n");
	test_elfdeps_write("conf/sub/2.conf", "/f\n");
	test_elfdeps_write("conf/sub/skipped.txt", "/z\n");
	conf = test_elfdeps_path("conf/ld.so.conf");
	dirs = elfdeps_conf_dirs(conf);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(dirs[i]);
		assert_string_equal(dirs[i], want[i]);
		free(dirs[i]);
	}
	assert_null(dirs[i]);
	free(dirs);
	free(conf);

	dirs = elfdeps_conf_dirs("/nonexistent/ld.so.conf");
	assert_null(dirs[0]);
	free(dirs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elfdeps_runpath_origin),
	    cmocka_unit_test(test_elfdeps_ld_library_path),
	    cmocka_unit_test(test_elfdeps_transitive),
	    cmocka_unit_test(test_elfdeps_rpath_is_inherited),
	    cmocka_unit_test(test_elfdeps_lib_token),
	    cmocka_unit_test(test_elfdeps_own_programs_match_ldd),
	    cmocka_unit_test(test_elfdeps_static),
	    cmocka_unit_test(test_elfdeps_script),
	    cmocka_unit_test(test_elfdeps_rejects),
	    cmocka_unit_test(test_elfdeps_system_programs_match_ldd),
	    cmocka_unit_test(test_elfdeps_inspect_images),
	    cmocka_unit_test(test_elfdeps_expand_tokens),
	    cmocka_unit_test(test_elfdeps_conf),
	};

	return cmocka_run_group_tests(tests, test_elfdeps_setup,
	    test_elfdeps_teardown);
}
