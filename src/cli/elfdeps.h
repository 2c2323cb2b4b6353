/*
 * The shared-library closure of a program, for `copy`: which files must go
 * with an executable so that it starts on a worker. Read from the ELF files
 * with libelf, searched for the way glibc's ld.so searches; the program is
 * never run (ldd runs the loader on it, which for a stranger's binary is
 * running it).
 */
#ifndef DROVER_ELFDEPS_H
#define DROVER_ELFDEPS_H

#include <stddef.h>

/* Bounds on what one resolve or one image may hold; past them, -1/NULL. */
#define ELFDEPS_MAX_OBJECTS 4096 /* files in one closure */
#define ELFDEPS_MAX_NEEDED 4096	 /* DT_NEEDED entries in one file */

struct elfdeps_file {
	char *path;    /* absolute real path on this machine */
	char *name;    /* name to install under: the executable's basename, or
			  a library's file name as DT_NEEDED names it */
	int is_exe;
	int is_system; /* in a system library directory; only
			  elfdeps_resolve_all returns these */
};

struct elfdeps {
	struct elfdeps_file *files; /* files[0] is the executable */
	size_t nfiles;
	char *arch;    /* "x86_64", "aarch64", "i386", ...; NULL for scripts */
	int is_static; /* no program interpreter: nothing else to send */
	int is_script; /* starts with "#!"; the interpreter is not sent */
};

/* What one ELF image says about itself: the fields the loader reads. */
struct elfdeps_image {
	int elfclass; /* ELFCLASS32 or ELFCLASS64 */
	int data;     /* ELFDATA2LSB or ELFDATA2MSB */
	int machine;  /* e_machine */
	int type;     /* e_type */
	unsigned flags; /* e_flags */
	char *interp;  /* PT_INTERP, or NULL */
	char *soname;  /* DT_SONAME, or NULL */
	char *rpath;   /* DT_RPATH as written, or NULL */
	char *runpath; /* DT_RUNPATH as written, or NULL */
	char **needed; /* DT_NEEDED, in order */
	size_t nneeded;
};

/*
 * Resolves the libraries path needs, as ld.so would with ld_library_path
 * (the client's LD_LIBRARY_PATH, or NULL) in its environment. Lists the
 * executable and every library outside the system's library directories.
 * Returns NULL with *cause (caller frees) when path is not a readable
 * regular file, neither ELF nor a script, malformed, or needs a library
 * that cannot be found. Free with elfdeps_free.
 */
struct elfdeps *elfdeps_resolve(const char *path, const char *ld_library_path,
    char **cause);

/* As elfdeps_resolve, but lists system libraries too (is_system set). */
struct elfdeps *elfdeps_resolve_all(const char *path,
    const char *ld_library_path, char **cause);

void elfdeps_free(struct elfdeps *);

/*
 * Parses one ELF image of len bytes (not modified, not kept). Returns 0 and
 * fills *out (clear with elfdeps_image_clear), or -1 with *cause (caller
 * frees) for anything that is not a well-formed ELF file.
 */
int elfdeps_inspect(const void *data, size_t len, struct elfdeps_image *out,
    char **cause);
void elfdeps_image_clear(struct elfdeps_image *);

/*
 * Expands $ORIGIN, $LIB and $PLATFORM (or ${...}) in s as ld.so does. A NULL
 * origin or platform means the token cannot be expanded here: then NULL is
 * returned, and the loader drops such a search directory. Caller frees.
 */
char *elfdeps_expand(const char *s, const char *origin, const char *lib,
    const char *platform);

/*
 * The directories an ld.so.conf file lists, following "include" globs.
 * Returns a NULL-terminated array (free each string and the array) that is
 * empty when the file cannot be read.
 */
char **elfdeps_conf_dirs(const char *file);

#endif
