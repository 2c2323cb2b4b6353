/*
 * The library closure of a program, found the way glibc's ld.so finds it
 * (elf/dl-load.c, glibc 2.36): breadth-first over DT_NEEDED, each name
 * searched in the RPATHs of the loader chain (only when the needing object
 * has no RUNPATH), LD_LIBRARY_PATH, the object's own RUNPATH, the
 * ld.so.conf directories (what ld.so.cache holds), then the default
 * directories. Candidates of another class or machine are skipped, as the
 * loader skips them.
 *
 * Known differences from ld.so: the glibc-hwcaps and legacy hwcap
 * subdirectories (x86-64-v3/, haswell/, tls/) are not searched, and the
 * ld.so.conf directories stand in for ld.so.cache.
 *
 * ELF images are read through program headers (PT_INTERP, PT_DYNAMIC,
 * PT_LOAD) rather than sections, as the loader reads them: a stripped
 * section table changes nothing. Every offset taken from a file is checked
 * against the file's size before use, since elfdeps_inspect is fed
 * arbitrary bytes by the fuzzer.
 */
#include "cli/elfdeps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "common/xmem.h"

/* Directories one search list may hold; the rest are ignored. */
#define ELFDEPS_MAX_DIRS 4096
/* ld.so.conf include nesting, against include loops. */
#define ELFDEPS_CONF_DEPTH 8
#define ELFDEPS_CONF "/etc/ld.so.conf"

/* A growable array of owned strings. */
struct elfdeps_strv {
	char **v;
	size_t n;
	size_t cap;
};

/* One file of the closure, as the loader would map it. */
struct elfdeps_obj {
	char *path;   /* real path: each file appears once */
	char *origin; /* what $ORIGIN expands to for this object */
	struct elfdeps_strv names; /* names a DT_NEEDED may match it by;
				      [0] is the name to install under */
	struct elfdeps_image img;
	long loader; /* index of the object that first needed it, -1 */
	int is_system;
	int is_interp;
};

/* The state of one resolve. */
struct elfdeps_ctx {
	struct elfdeps_obj *objs;
	size_t nobjs;
	size_t cap;
	const char *lib;      /* $LIB */
	const char *platform; /* $PLATFORM, or NULL when unknown */
	struct elfdeps_strv ldpath;   /* LD_LIBRARY_PATH, expanded */
	struct elfdeps_strv confdirs; /* ld.so.conf */
	struct elfdeps_strv defdirs;  /* built into ld.so */
	struct elfdeps_strv sysdirs;  /* real paths of the two above */
};

static void
elfdeps_strv_push(struct elfdeps_strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap == 0 ? 8 : sv->cap * 2;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
}

static int
elfdeps_strv_has(const struct elfdeps_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

/* Push a copy of s unless it is there already or the list is full. */
static void
elfdeps_strv_add(struct elfdeps_strv *sv, const char *s)
{
	if (sv->n < ELFDEPS_MAX_DIRS && !elfdeps_strv_has(sv, s))
		elfdeps_strv_push(sv, xstrdup(s));
}

static void
elfdeps_strv_clear(struct elfdeps_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

void
elfdeps_image_clear(struct elfdeps_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	free(img->interp);
	free(img->soname);
	free(img->rpath);
	free(img->runpath);
	for (i = 0; i < img->nneeded; i++)
		free(img->needed[i]);
	free(img->needed);
	memset(img, 0, sizeof *img);
}

/*
 * The string at offset off of a string table of strsz bytes; -1 unless it
 * is inside the table and NUL-terminated there.
 */
static int
elfdeps_string(const char *strtab, size_t strsz, uint64_t off, char **out)
{
	size_t len;

	if (off >= strsz)
		return -1;
	len = strnlen(strtab + off, strsz - (size_t)off);
	if (len == strsz - (size_t)off)
		return -1;
	*out = xstrndup(strtab + off, len);
	return 0;
}

/*
 * Where the virtual address addr lies in the file, through the PT_LOAD
 * segment holding it; *avail is how many bytes of that segment follow.
 */
static int
elfdeps_vaddr_to_offset(Elf *e, size_t phnum, size_t rawlen, uint64_t addr,
    uint64_t *off, uint64_t *avail)
{
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < phnum; i++) {
		if (gelf_getphdr(e, (int)i, &ph) == NULL)
			return -1;
		if (ph.p_type != PT_LOAD || addr < ph.p_vaddr ||
		    addr - ph.p_vaddr >= ph.p_filesz)
			continue;
		if (ph.p_offset > rawlen ||
		    addr - ph.p_vaddr > rawlen - ph.p_offset)
			return -1;
		*off = ph.p_offset + (addr - ph.p_vaddr);
		*avail = ph.p_filesz - (addr - ph.p_vaddr);
		if (*avail > rawlen - *off)
			*avail = rawlen - *off;
		return 0;
	}
	return -1;
}

/* Offsets into the dynamic string table, gathered before it is found. */
struct elfdeps_dyn {
	uint64_t strtab;
	uint64_t strsz;
	int has_strtab;
	int has_strsz;
	uint64_t soname;
	uint64_t rpath;
	uint64_t runpath;
	int has_soname;
	int has_rpath;
	int has_runpath;
	uint64_t *needed;
	size_t nneeded;
};

/* Walks the PT_DYNAMIC array (converted to host order by libelf). */
static int
elfdeps_read_dynamic(Elf *e, int elfclass, uint64_t off, uint64_t size,
    struct elfdeps_dyn *dyn, char **cause)
{
	Elf_Data *d;
	size_t entsize, n, i;
	int64_t tag;
	uint64_t val;

	entsize = elfclass == ELFCLASS64 ? sizeof(Elf64_Dyn) :
	    sizeof(Elf32_Dyn);
	n = (size_t)(size / entsize);
	if (n == 0)
		return 0;
	d = elf_getdata_rawchunk(e, (int64_t)off, n * entsize, ELF_T_DYN);
	if (d == NULL || d->d_buf == NULL || d->d_size < n * entsize) {
		*cause = xasprintf("bad PT_DYNAMIC: %s", elf_errmsg(-1));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (elfclass == ELFCLASS64) {
			const Elf64_Dyn *p = (const Elf64_Dyn *)d->d_buf + i;

			tag = p->d_tag;
			val = p->d_un.d_val;
		} else {
			const Elf32_Dyn *p = (const Elf32_Dyn *)d->d_buf + i;

			tag = p->d_tag;
			val = p->d_un.d_val;
		}
		switch (tag) {
		case DT_NULL:
			return 0;
		case DT_NEEDED:
			if (dyn->nneeded == ELFDEPS_MAX_NEEDED) {
				*cause = xasprintf("more than %d DT_NEEDED",
				    ELFDEPS_MAX_NEEDED);
				return -1;
			}
			dyn->needed = xreallocarray(dyn->needed,
			    dyn->nneeded + 1, sizeof *dyn->needed);
			dyn->needed[dyn->nneeded++] = val;
			break;
		case DT_STRTAB:
			dyn->strtab = val;
			dyn->has_strtab = 1;
			break;
		case DT_STRSZ:
			dyn->strsz = val;
			dyn->has_strsz = 1;
			break;
		case DT_SONAME:
			dyn->soname = val;
			dyn->has_soname = 1;
			break;
		case DT_RPATH:
			dyn->rpath = val;
			dyn->has_rpath = 1;
			break;
		case DT_RUNPATH:
			dyn->runpath = val;
			dyn->has_runpath = 1;
			break;
		}
	}
	return 0;
}

/* Fills the strings of out from the offsets in dyn. */
static int
elfdeps_read_strings(Elf *e, size_t phnum, const char *raw, size_t rawlen,
    const struct elfdeps_dyn *dyn, struct elfdeps_image *out, char **cause)
{
	uint64_t off, avail;
	const char *strtab;
	size_t strsz, i;

	if (dyn->nneeded == 0 && !dyn->has_soname && !dyn->has_rpath &&
	    !dyn->has_runpath)
		return 0;
	if (!dyn->has_strtab || !dyn->has_strsz) {
		*cause = xstrdup("DT_STRTAB or DT_STRSZ missing");
		return -1;
	}
	if (elfdeps_vaddr_to_offset(e, phnum, rawlen, dyn->strtab, &off,
	    &avail) == -1) {
		*cause = xstrdup("DT_STRTAB outside the file");
		return -1;
	}
	strtab = raw + off;
	strsz = (size_t)(dyn->strsz < avail ? dyn->strsz : avail);

	out->needed = xcalloc(dyn->nneeded == 0 ? 1 : dyn->nneeded,
	    sizeof *out->needed);
	for (i = 0; i < dyn->nneeded; i++) {
		if (elfdeps_string(strtab, strsz, dyn->needed[i],
		    &out->needed[i]) == -1) {
			*cause = xstrdup("DT_NEEDED outside DT_STRTAB");
			return -1;
		}
		out->nneeded++;
	}
	if ((dyn->has_soname &&
	    elfdeps_string(strtab, strsz, dyn->soname, &out->soname) == -1) ||
	    (dyn->has_rpath &&
	    elfdeps_string(strtab, strsz, dyn->rpath, &out->rpath) == -1) ||
	    (dyn->has_runpath &&
	    elfdeps_string(strtab, strsz, dyn->runpath, &out->runpath) == -1)) {
		*cause = xstrdup("DT_SONAME, DT_RPATH or DT_RUNPATH outside "
		    "DT_STRTAB");
		return -1;
	}
	return 0;
}

/* Parses one opened image; on -1, *out is cleared and *cause set. */
static int
elfdeps_parse(Elf *e, struct elfdeps_image *out, char **cause)
{
	struct elfdeps_dyn dyn;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	const char *raw;
	size_t rawlen, phnum, i, len;
	uint64_t dynoff = 0, dynsize = 0;
	int has_dynamic = 0;

	memset(out, 0, sizeof *out);
	memset(&dyn, 0, sizeof dyn);
	if (elf_kind(e) != ELF_K_ELF) {
		*cause = xstrdup("not an ELF file");
		return -1;
	}
	if ((raw = elf_rawfile(e, &rawlen)) == NULL ||
	    gelf_getehdr(e, &eh) == NULL) {
		*cause = xasprintf("bad ELF header: %s", elf_errmsg(-1));
		return -1;
	}
	out->elfclass = eh.e_ident[EI_CLASS];
	out->data = eh.e_ident[EI_DATA];
	out->machine = eh.e_machine;
	out->type = eh.e_type;
	out->flags = (unsigned)eh.e_flags;
	if (elf_getphdrnum(e, &phnum) != 0) {
		*cause = xasprintf("bad program headers: %s", elf_errmsg(-1));
		return -1;
	}
	if (phnum > INT_MAX) {
		*cause = xstrdup("too many program headers");
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		if (gelf_getphdr(e, (int)i, &ph) == NULL) {
			*cause = xasprintf("bad program header: %s",
			    elf_errmsg(-1));
			goto fail;
		}
		if (ph.p_type == PT_INTERP && out->interp == NULL) {
			if (ph.p_offset > rawlen ||
			    ph.p_filesz > rawlen - ph.p_offset ||
			    (len = strnlen(raw + ph.p_offset,
			    (size_t)ph.p_filesz)) == ph.p_filesz) {
				*cause = xstrdup("bad PT_INTERP");
				goto fail;
			}
			out->interp = xstrndup(raw + ph.p_offset, len);
		} else if (ph.p_type == PT_DYNAMIC && !has_dynamic) {
			has_dynamic = 1;
			dynoff = ph.p_offset;
			dynsize = ph.p_filesz;
		}
	}
	if (has_dynamic && (elfdeps_read_dynamic(e, out->elfclass, dynoff,
	    dynsize, &dyn, cause) == -1 || elfdeps_read_strings(e, phnum, raw,
	    rawlen, &dyn, out, cause) == -1))
		goto fail;
	free(dyn.needed);
	return 0;

fail:
	free(dyn.needed);
	elfdeps_image_clear(out);
	return -1;
}

int
elfdeps_inspect(const void *data, size_t len, struct elfdeps_image *out,
    char **cause)
{
	Elf *e;
	char *copy;
	int rc;

	/*
	 * libelf may convert an in-memory image in place (byte order), so it
	 * gets a private copy; an exact-size one, so a read past len shows
	 * under ASan.
	 */
	memset(out, 0, sizeof *out);
	elf_version(EV_CURRENT);
	copy = xmalloc(len == 0 ? 1 : len);
	if (len > 0)
		memcpy(copy, data, len);
	if ((e = elf_memory(copy, len)) == NULL) {
		*cause = xasprintf("not an ELF file: %s", elf_errmsg(-1));
		free(copy);
		return -1;
	}
	rc = elfdeps_parse(e, out, cause);
	elf_end(e);
	free(copy);
	return rc;
}

/* Parses the ELF file open on fd. */
static int
elfdeps_read_fd(int fd, struct elfdeps_image *out, char **cause)
{
	Elf *e;
	int rc;

	memset(out, 0, sizeof *out);
	elf_version(EV_CURRENT);
	if ((e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL) {
		*cause = xasprintf("not an ELF file: %s", elf_errmsg(-1));
		return -1;
	}
	rc = elfdeps_parse(e, out, cause);
	elf_end(e);
	return rc;
}

/* Parses the ELF file at path, with no message: for search candidates. */
static int
elfdeps_read_path(const char *path, struct elfdeps_image *out)
{
	struct stat st;
	char *cause = NULL;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	rc = elfdeps_read_fd(fd, out, &cause);
	free(cause);
	close(fd);
	return rc;
}

/* The length of DST token name at s (just after '$'), or 0 (glibc's is_dst). */
static size_t
elfdeps_dst_len(const char *s, const char *name)
{
	size_t len = strlen(name);
	int curly = s[0] == '{';

	if (curly)
		s++;
	if (strncmp(s, name, len) != 0)
		return 0;
	if (curly)
		return s[len] == '}' ? len + 2 : 0;
	if (isalnum((unsigned char)s[len]) || s[len] == '_')
		return 0;
	return len;
}

char *
elfdeps_expand(const char *s, const char *origin, const char *lib,
    const char *platform)
{
	static const char *const names[] = {"ORIGIN", "LIB", "PLATFORM"};
	const char *values[3] = {origin, lib, platform};
	char *out, *tmp;
	size_t len, k;

	out = xstrdup("");
	while (*s != '\0') {
		const char *dollar = strchrnul(s, '$');

		tmp = xasprintf("%s%.*s", out, (int)(dollar - s), s);
		free(out);
		out = tmp;
		if (*dollar == '\0')
			break;
		s = dollar + 1;
		for (k = 0; k < 3; k++)
			if ((len = elfdeps_dst_len(s, names[k])) != 0)
				break;
		if (k == 3) {
			/* Not a token: ld.so keeps the '$' as it is. */
			tmp = xasprintf("%s$", out);
		} else if (values[k] == NULL) {
			free(out);
			return NULL;
		} else {
			tmp = xasprintf("%s%s", out, values[k]);
			s += len;
		}
		free(out);
		out = tmp;
	}
	return out;
}

/*
 * Splits a search list at any of seps into dirs, expanding tokens with
 * origin. An empty element is the current directory, as for ld.so; one
 * whose tokens cannot be expanded is dropped.
 */
static void
elfdeps_split(const struct elfdeps_ctx *ctx, const char *list,
    const char *seps, const char *origin, struct elfdeps_strv *dirs)
{
	char *copy, *rest, *elem, *dir;

	rest = copy = xstrdup(list);
	while ((elem = strsep(&rest, seps)) != NULL) {
		if (*elem == '\0')
			elem = ".";
		if ((dir = elfdeps_expand(elem, origin, ctx->lib,
		    ctx->platform)) != NULL) {
			elfdeps_strv_add(dirs, dir);
			free(dir);
		}
	}
	free(copy);
}

static void elfdeps_conf_read(const char *, int, struct elfdeps_strv *);

/* An "include" line: patterns are relative to the including file. */
static void
elfdeps_conf_include(const char *file, const char *pattern, int depth,
    struct elfdeps_strv *dirs)
{
	const char *slash = strrchr(file, '/');
	glob_t g;
	char *pat;
	size_t i;

	if (pattern[0] == '/' || slash == NULL)
		pat = xstrdup(pattern);
	else
		pat = xasprintf("%.*s/%s", (int)(slash - file), file, pattern);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			elfdeps_conf_read(g.gl_pathv[i], depth, dirs);
	}
	globfree(&g);
	free(pat);
}

/* One ld.so.conf file, parsed as ldconfig parses it. */
static void
elfdeps_conf_read(const char *file, int depth, struct elfdeps_strv *dirs)
{
	FILE *f;
	char *line = NULL, *p, *end, *word;
	size_t cap = 0;

	if (depth > ELFDEPS_CONF_DEPTH || (f = fopen(file, "re")) == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		line[strcspn(line, "#\n")] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p == '\0')
			continue;
		if (strncmp(p, "include", 7) == 0 &&
		    isspace((unsigned char)p[7])) {
			p += 8;
			while ((word = strsep(&p, " \t")) != NULL)
				if (*word != '\0')
					elfdeps_conf_include(file, word,
					    depth + 1, dirs);
			continue;
		}
		if (strncmp(p, "hwcap", 5) == 0 &&
		    isspace((unsigned char)p[5]))
			continue;
		/* libc5's "dir=TYPE" */
		p[strcspn(p, "=")] = '\0';
		end = p + strlen(p);
		while (end > p + 1 && end[-1] == '/')
			*--end = '\0';
		if (*p != '\0')
			elfdeps_strv_add(dirs, p);
	}
	free(line);
	fclose(f);
}

char **
elfdeps_conf_dirs(const char *file)
{
	struct elfdeps_strv dirs = {NULL, 0, 0};

	elfdeps_conf_read(file, 0, &dirs);
	elfdeps_strv_push(&dirs, NULL);
	return dirs.v;
}

/* The Debian multiarch tuple of a machine, or NULL. */
static const char *
elfdeps_multiarch(const struct elfdeps_image *img)
{
	int is64 = img->elfclass == ELFCLASS64;
	int le = img->data == ELFDATA2LSB;

	switch (img->machine) {
	case EM_X86_64:
		return is64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
	case EM_386:
		return "i386-linux-gnu";
	case EM_AARCH64:
		return "aarch64-linux-gnu";
	case EM_ARM:
		return (img->flags & EF_ARM_ABI_FLOAT_HARD) ?
		    "arm-linux-gnueabihf" : "arm-linux-gnueabi";
	case EM_RISCV:
		return is64 ? "riscv64-linux-gnu" : NULL;
	case EM_PPC64:
		return le ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu";
	case EM_S390:
		return is64 ? "s390x-linux-gnu" : NULL;
	case EM_MIPS:
		if (is64)
			return le ? "mips64el-linux-gnuabi64" :
			    "mips64-linux-gnuabi64";
		return le ? "mipsel-linux-gnu" : "mips-linux-gnu";
	case EM_LOONGARCH:
		return "loongarch64-linux-gnu";
	}
	return NULL;
}

/* The architecture name for e_machine and class, or NULL when unknown. */
static const char *
elfdeps_arch_name(const struct elfdeps_image *img)
{
	int is64 = img->elfclass == ELFCLASS64;
	int le = img->data == ELFDATA2LSB;

	switch (img->machine) {
	case EM_X86_64:
		return is64 ? "x86_64" : "x32";
	case EM_386:
		return "i386";
	case EM_AARCH64:
		return le ? "aarch64" : "aarch64_be";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return is64 ? "riscv64" : "riscv32";
	case EM_PPC64:
		return le ? "ppc64le" : "ppc64";
	case EM_PPC:
		return "ppc";
	case EM_S390:
		return is64 ? "s390x" : "s390";
	case EM_MIPS:
		if (is64)
			return le ? "mips64el" : "mips64";
		return le ? "mipsel" : "mips";
	case EM_LOONGARCH:
		return "loongarch64";
	case EM_SPARCV9:
		return "sparc64";
	}
	return NULL;
}

/* Whether a file of libc.so.6 is in dir (under / or /usr). */
static int
elfdeps_has_libc(const char *dir)
{
	char *a = xasprintf("/%s/libc.so.6", dir);
	char *b = xasprintf("/usr/%s/libc.so.6", dir);
	int found = access(a, F_OK) == 0 || access(b, F_OK) == 0;

	free(a);
	free(b);
	return found;
}

/*
 * What $LIB expands to for the loader of img's kind: the directory its libc
 * sits in. Debian's glibc is built with "lib/<multiarch>" (checked with
 * LD_DEBUG=libs on Debian 12: "/x/$LIB" searched /x/lib/x86_64-linux-gnu),
 * others with lib64 for 64-bit and lib otherwise, as ld.so(8) says.
 */
static char *
elfdeps_lib_token(const struct elfdeps_image *img)
{
	const char *tuple = elfdeps_multiarch(img);
	char *dir;

	if (tuple != NULL) {
		dir = xasprintf("lib/%s", tuple);
		if (elfdeps_has_libc(dir))
			return dir;
		free(dir);
	}
	if (img->elfclass == ELFCLASS64 && elfdeps_has_libc("lib64"))
		return xstrdup("lib64");
	return xstrdup("lib");
}

/* Whether img is built for the machine this code runs on. */
static int
elfdeps_is_host(const struct elfdeps_image *img)
{
#if defined(__x86_64__) && defined(__LP64__)
	return img->machine == EM_X86_64 && img->elfclass == ELFCLASS64;
#elif defined(__i386__)
	return img->machine == EM_386;
#elif defined(__aarch64__)
	return img->machine == EM_AARCH64;
#elif defined(__arm__)
	return img->machine == EM_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
	return img->machine == EM_RISCV && img->elfclass == ELFCLASS64;
#else
	(void)img;
	return 0;
#endif
}

#if defined(__x86_64__)
#define ELFDEPS_CPUID1_ECX_FMA (1u << 12)
#define ELFDEPS_CPUID1_ECX_MOVBE (1u << 22)
#define ELFDEPS_CPUID1_ECX_POPCNT (1u << 23)
#define ELFDEPS_CPUID1_ECX_OSXSAVE (1u << 27)
#define ELFDEPS_CPUID1_ECX_AVX (1u << 28)
#define ELFDEPS_CPUID7_EBX_BMI1 (1u << 3)
#define ELFDEPS_CPUID7_EBX_AVX2 (1u << 5)
#define ELFDEPS_CPUID7_EBX_BMI2 (1u << 8)
#define ELFDEPS_CPUID7_EBX_AVX512F (1u << 16)
#define ELFDEPS_CPUID7_EBX_AVX512PF (1u << 26)
#define ELFDEPS_CPUID7_EBX_AVX512ER (1u << 27)
#define ELFDEPS_CPUID7_EBX_AVX512CD (1u << 28)
#define ELFDEPS_CPUIDX1_ECX_LZCNT (1u << 5)

/*
 * glibc up to 2.36 on x86_64 replaces the kernel's AT_PLATFORM with
 * "haswell" or "xeon_phi" on Intel CPUs that have those features
 * (sysdeps/x86/cpu-features.c), and $PLATFORM expands to that: on this
 * Debian 12 machine LD_DEBUG shows "/y/$PLATFORM" searched as /y/haswell.
 */
static const char *
elfdeps_x86_platform(void)
{
	unsigned a, b, c, d, c1, b7, cx = 0, lo = 0, hi = 0;
	int avx, avx512;

	if (__get_cpuid(0, &a, &b, &c, &d) == 0 || a < 7 ||
	    b != 0x756e6547 || d != 0x49656e69 || c != 0x6c65746e)
		return NULL; /* not "GenuineIntel" */
	__cpuid(1, a, b, c1, d);
	__cpuid_count(7, 0, a, b7, c, d);
	if (__get_cpuid(0x80000001, &a, &b, &cx, &d) == 0)
		cx = 0;
	if (c1 & ELFDEPS_CPUID1_ECX_OSXSAVE)
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	/* Usable means the kernel saves the registers too (XCR0). */
	avx = (c1 & ELFDEPS_CPUID1_ECX_AVX) && (lo & 0x6) == 0x6;
	avx512 = avx && (lo & 0xe0) == 0xe0 &&
	    (b7 & ELFDEPS_CPUID7_EBX_AVX512F);
	if (avx512 && (b7 & ELFDEPS_CPUID7_EBX_AVX512CD) &&
	    (b7 & ELFDEPS_CPUID7_EBX_AVX512ER) &&
	    (b7 & ELFDEPS_CPUID7_EBX_AVX512PF))
		return "xeon_phi";
	if (avx && (b7 & ELFDEPS_CPUID7_EBX_AVX2) &&
	    (c1 & ELFDEPS_CPUID1_ECX_FMA) && (b7 & ELFDEPS_CPUID7_EBX_BMI1) &&
	    (b7 & ELFDEPS_CPUID7_EBX_BMI2) &&
	    (cx & ELFDEPS_CPUIDX1_ECX_LZCNT) &&
	    (c1 & ELFDEPS_CPUID1_ECX_MOVBE) && (c1 & ELFDEPS_CPUID1_ECX_POPCNT))
		return "haswell";
	return NULL;
}
#endif

/*
 * What $PLATFORM expands to for img, or NULL (unexpandable) for another
 * machine's program: its loader would say, not this one.
 */
static char *
elfdeps_platform_token(const struct elfdeps_image *img)
{
	struct utsname u;
	const char *p;

	if (!elfdeps_is_host(img))
		return NULL;
#if defined(__x86_64__)
	if ((p = elfdeps_x86_platform()) != NULL)
		return xstrdup(p);
#endif
	if ((p = (const char *)getauxval(AT_PLATFORM)) != NULL)
		return xstrdup(p);
	if (uname(&u) == 0)
		return xstrdup(u.machine);
	return NULL;
}

/* The directory part of an absolute path: "/" for "/x". */
static char *
elfdeps_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* path made absolute against the current directory, not resolved. */
static char *
elfdeps_absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	abs = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

static int
elfdeps_same_kind(const struct elfdeps_image *a, const struct elfdeps_image *b)
{
	return a->elfclass == b->elfclass && a->data == b->data &&
	    a->machine == b->machine;
}

/*
 * Tries name in each of dirs, recording them in searched. Returns 1 with
 * *path and *img for the first loadable candidate of the executable's kind,
 * 0 when none is.
 */
static int
elfdeps_try_dirs(const struct elfdeps_ctx *ctx, const struct elfdeps_strv *dirs,
    const char *name, struct elfdeps_strv *searched, char **path,
    struct elfdeps_image *img)
{
	const struct elfdeps_image *exe = &ctx->objs[0].img;
	char *cand;
	size_t i;

	for (i = 0; i < dirs->n; i++) {
		elfdeps_strv_add(searched, dirs->v[i]);
		if (strcmp(dirs->v[i], "/") == 0)
			cand = xasprintf("/%s", name);
		else
			cand = xasprintf("%s/%s", dirs->v[i], name);
		if (strlen(cand) < PATH_MAX &&
		    elfdeps_read_path(cand, img) == 0) {
			if (elfdeps_same_kind(img, exe) &&
			    img->type == ET_DYN) {
				*path = cand;
				return 1;
			}
			elfdeps_image_clear(img);
		}
		free(cand);
	}
	return 0;
}

/* Searches for a name without '/' the way ld.so's _dl_map_object does. */
static int
elfdeps_search(const struct elfdeps_ctx *ctx, size_t li, const char *name,
    struct elfdeps_strv *searched, char **path, struct elfdeps_image *img)
{
	const struct elfdeps_obj *needer = &ctx->objs[li];
	struct elfdeps_strv dirs = {NULL, 0, 0};
	long l;
	int found = 0;

	/*
	 * RPATH: the needing object's, then that of whatever loaded it, up to
	 * the executable, but none at all when the needing object has a
	 * RUNPATH; an object with a RUNPATH has no RPATH to lend either.
	 */
	if (needer->img.runpath == NULL) {
		for (l = (long)li; l != -1 && !found; l = ctx->objs[l].loader) {
			const struct elfdeps_obj *o = &ctx->objs[l];

			if (o->img.rpath == NULL || o->img.runpath != NULL)
				continue;
			elfdeps_split(ctx, o->img.rpath, ":", o->origin, &dirs);
			found = elfdeps_try_dirs(ctx, &dirs, name, searched,
			    path, img);
			elfdeps_strv_clear(&dirs);
		}
	}
	if (!found)
		found = elfdeps_try_dirs(ctx, &ctx->ldpath, name, searched,
		    path, img);
	if (!found && needer->img.runpath != NULL) {
		elfdeps_split(ctx, needer->img.runpath, ":", needer->origin,
		    &dirs);
		found = elfdeps_try_dirs(ctx, &dirs, name, searched, path, img);
		elfdeps_strv_clear(&dirs);
	}
	if (!found)
		found = elfdeps_try_dirs(ctx, &ctx->confdirs, name, searched,
		    path, img);
	if (!found)
		found = elfdeps_try_dirs(ctx, &ctx->defdirs, name, searched,
		    path, img);
	return found;
}

/* The object a needed name already matches, as _dl_name_match_p does. */
static long
elfdeps_find_loaded(const struct elfdeps_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->nobjs; i++)
		if (elfdeps_strv_has(&ctx->objs[i].names, name))
			return (long)i;
	return -1;
}

static long
elfdeps_find_path(const struct elfdeps_ctx *ctx, const char *real)
{
	size_t i;

	for (i = 0; i < ctx->nobjs; i++)
		if (strcmp(ctx->objs[i].path, real) == 0)
			return (long)i;
	return -1;
}

/* Whether a file found in dir (real path real) is a system library. */
static int
elfdeps_is_system(const struct elfdeps_ctx *ctx, const char *found,
    const char *real)
{
	char *dir, *rdir;
	int sys;

	dir = elfdeps_dirname(real);
	sys = elfdeps_strv_has(&ctx->sysdirs, dir);
	free(dir);
	if (sys)
		return 1;
	dir = elfdeps_dirname(found);
	if ((rdir = realpath(dir, NULL)) != NULL) {
		sys = elfdeps_strv_has(&ctx->sysdirs, rdir);
		free(rdir);
	}
	free(dir);
	return sys;
}

static struct elfdeps_obj *
elfdeps_add_obj(struct elfdeps_ctx *ctx)
{
	struct elfdeps_obj *o;

	if (ctx->nobjs == ctx->cap) {
		ctx->cap = ctx->cap == 0 ? 16 : ctx->cap * 2;
		ctx->objs = xreallocarray(ctx->objs, ctx->cap,
		    sizeof *ctx->objs);
	}
	o = &ctx->objs[ctx->nobjs++];
	memset(o, 0, sizeof *o);
	o->loader = -1;
	return o;
}

/* The name a library is installed under: never a path, never "." or "..". */
static const char *
elfdeps_install_name(const char *needed)
{
	const char *slash = strrchr(needed, '/');
	const char *base = slash != NULL ? slash + 1 : needed;

	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return NULL;
	return base;
}

/* Finds and records the library name that object li needs. */
static int
elfdeps_need(struct elfdeps_ctx *ctx, size_t li, const char *name,
    char **cause)
{
	struct elfdeps_strv searched = {NULL, 0, 0};
	struct elfdeps_image img;
	struct elfdeps_obj *o;
	char *path = NULL, *real = NULL, *expanded, *list;
	long k;
	int found = 0;

	if (elfdeps_find_loaded(ctx, name) != -1)
		return 0;
	if (elfdeps_install_name(name) == NULL) {
		*cause = xasprintf("library name '%s' (needed by %s) is not "
		    "usable", name, ctx->objs[li].path);
		return -1;
	}
	memset(&img, 0, sizeof img);
	if (strchr(name, '/') != NULL) {
		/* A path: opened as it is, tokens expanded; no search. */
		expanded = elfdeps_expand(name, ctx->objs[li].origin, ctx->lib,
		    ctx->platform);
		if (expanded != NULL) {
			elfdeps_strv_add(&searched, expanded);
			if (elfdeps_read_path(expanded, &img) == 0 &&
			    elfdeps_same_kind(&img, &ctx->objs[0].img) &&
			    img.type == ET_DYN) {
				path = expanded;
				found = 1;
			} else {
				elfdeps_image_clear(&img);
				free(expanded);
			}
		}
	} else
		found = elfdeps_search(ctx, li, name, &searched, &path, &img);

	if (!found || (real = realpath(path, NULL)) == NULL) {
		list = xstrdup("");
		for (k = 0; k < (long)searched.n; k++) {
			char *tmp = xasprintf("%s%s%s", list,
			    k == 0 ? "" : ", ", searched.v[k]);

			free(list);
			list = tmp;
		}
		*cause = xasprintf("library %s (needed by %s) not found; "
		    "searched: %s", name, ctx->objs[li].path,
		    searched.n == 0 ? "(nothing)" : list);
		free(list);
		free(path);
		elfdeps_image_clear(&img);
		elfdeps_strv_clear(&searched);
		return -1;
	}
	elfdeps_strv_clear(&searched);

	if ((k = elfdeps_find_path(ctx, real)) != -1) {
		/* The same file by another name: ld.so maps it once. */
		elfdeps_strv_add(&ctx->objs[k].names, name);
		free(real);
		free(path);
		elfdeps_image_clear(&img);
		return 0;
	}
	if (ctx->nobjs == ELFDEPS_MAX_OBJECTS) {
		*cause = xasprintf("%s: more than %d libraries",
		    ctx->objs[0].path, ELFDEPS_MAX_OBJECTS);
		free(real);
		free(path);
		elfdeps_image_clear(&img);
		return -1;
	}
	o = elfdeps_add_obj(ctx);
	o->img = img;
	o->loader = (long)li;
	o->is_system = elfdeps_is_system(ctx, path, real);
	o->path = real;
	expanded = elfdeps_absolute(path);
	o->origin = elfdeps_dirname(expanded);
	elfdeps_strv_add(&o->names, name);
	elfdeps_strv_add(&o->names, path);
	if (img.soname != NULL)
		elfdeps_strv_add(&o->names, img.soname);
	free(expanded);
	free(path);
	return 0;
}

/*
 * The program interpreter is mapped before any search, so a DT_NEEDED
 * naming it (libc needs ld-linux-x86-64.so.2) matches it by name.
 */
static void
elfdeps_add_interp(struct elfdeps_ctx *ctx, const char *interp)
{
	struct elfdeps_obj *o;
	char *real;

	o = elfdeps_add_obj(ctx);
	o->loader = 0;
	o->is_system = 1;
	o->is_interp = 1;
	real = realpath(interp, NULL);
	o->path = real != NULL ? real : xstrdup(interp);
	o->origin = elfdeps_dirname(interp);
	elfdeps_strv_add(&o->names, elfdeps_install_name(interp) != NULL ?
	    elfdeps_install_name(interp) : interp);
	elfdeps_strv_add(&o->names, interp);
	if (elfdeps_read_path(interp, &o->img) == 0 && o->img.soname != NULL)
		elfdeps_strv_add(&o->names, o->img.soname);
}

/* The system library directories: where ld.so looks after the object's. */
static void
elfdeps_system_dirs(struct elfdeps_ctx *ctx, const struct elfdeps_image *exe)
{
	const char *tuple = elfdeps_multiarch(exe);
	char **conf, *dir, *real;
	size_t i;

	conf = elfdeps_conf_dirs(ELFDEPS_CONF);
	for (i = 0; conf[i] != NULL; i++) {
		elfdeps_strv_add(&ctx->confdirs, conf[i]);
		free(conf[i]);
	}
	free(conf);
	if (tuple != NULL) {
		dir = xasprintf("/lib/%s", tuple);
		elfdeps_strv_add(&ctx->defdirs, dir);
		free(dir);
		dir = xasprintf("/usr/lib/%s", tuple);
		elfdeps_strv_add(&ctx->defdirs, dir);
		free(dir);
	}
	elfdeps_strv_add(&ctx->defdirs, "/lib");
	elfdeps_strv_add(&ctx->defdirs, "/usr/lib");
	if (exe->elfclass == ELFCLASS64) {
		elfdeps_strv_add(&ctx->defdirs, "/lib64");
		elfdeps_strv_add(&ctx->defdirs, "/usr/lib64");
	}
	for (i = 0; i < ctx->confdirs.n + ctx->defdirs.n; i++) {
		dir = i < ctx->confdirs.n ? ctx->confdirs.v[i] :
		    ctx->defdirs.v[i - ctx->confdirs.n];
		if ((real = realpath(dir, NULL)) != NULL) {
			elfdeps_strv_add(&ctx->sysdirs, real);
			free(real);
		}
	}
}

static void
elfdeps_ctx_clear(struct elfdeps_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nobjs; i++) {
		free(ctx->objs[i].path);
		free(ctx->objs[i].origin);
		elfdeps_strv_clear(&ctx->objs[i].names);
		elfdeps_image_clear(&ctx->objs[i].img);
	}
	free(ctx->objs);
	elfdeps_strv_clear(&ctx->ldpath);
	elfdeps_strv_clear(&ctx->confdirs);
	elfdeps_strv_clear(&ctx->defdirs);
	elfdeps_strv_clear(&ctx->sysdirs);
}

static void
elfdeps_add_file(struct elfdeps *d, const char *path, const char *name,
    int is_exe, int is_system)
{
	struct elfdeps_file *f;

	d->files = xreallocarray(d->files, d->nfiles + 1, sizeof *d->files);
	f = &d->files[d->nfiles++];
	f->path = xstrdup(path);
	f->name = xstrdup(name);
	f->is_exe = is_exe;
	f->is_system = is_system;
}

/* Breadth-first over DT_NEEDED, as _dl_map_object_deps goes. */
static struct elfdeps *
elfdeps_closure(struct elfdeps *d, const char *ld_library_path, int all,
    struct elfdeps_ctx *ctx, char **cause)
{
	const struct elfdeps_image *exe = &ctx->objs[0].img;
	char *lib, *platform;
	size_t i, j;
	int rc = 0;

	lib = elfdeps_lib_token(exe);
	platform = elfdeps_platform_token(exe);
	ctx->lib = lib;
	ctx->platform = platform;
	if (ld_library_path != NULL && *ld_library_path != '\0')
		elfdeps_split(ctx, ld_library_path, ":;", ctx->objs[0].origin,
		    &ctx->ldpath);
	elfdeps_system_dirs(ctx, exe);
	elfdeps_add_interp(ctx, exe->interp);

	for (i = 0; i < ctx->nobjs && rc == 0; i++) {
		if (ctx->objs[i].is_interp)
			continue;
		for (j = 0; j < ctx->objs[i].img.nneeded && rc == 0; j++)
			rc = elfdeps_need(ctx, i, ctx->objs[i].img.needed[j],
			    cause);
	}
	if (rc == 0) {
		for (i = 1; i < ctx->nobjs; i++) {
			const struct elfdeps_obj *o = &ctx->objs[i];

			if (all || (!o->is_system && !o->is_interp))
				elfdeps_add_file(d, o->path,
				    elfdeps_install_name(o->names.v[0]),
				    0, o->is_system);
		}
	}
	free(lib);
	free(platform);
	if (rc == -1) {
		elfdeps_free(d);
		return NULL;
	}
	return d;
}

static struct elfdeps *
elfdeps_resolve_common(const char *path, const char *ld_library_path,
    int all, char **cause)
{
	struct elfdeps_ctx ctx;
	struct elfdeps_obj *exe;
	struct elfdeps *d = NULL;
	struct stat st;
	char head[4], *real = NULL, *why = NULL;
	const char *arch, *base;
	ssize_t n;
	int fd = -1;

	memset(&ctx, 0, sizeof ctx);
	if (stat(path, &st) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		*cause = xasprintf("%s: is a directory", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s: not a regular file", path);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (n = pread(fd, head, sizeof head, 0)) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((real = realpath(path, NULL)) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (*base == '\0')
		base = strrchr(real, '/') + 1;

	d = xcalloc(1, sizeof *d);
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		d->is_script = 1;
		elfdeps_add_file(d, real, base, 1, 0);
		goto out;
	}
	if (n < 4 || memcmp(head, ELFMAG, SELFMAG) != 0) {
		*cause = xasprintf("%s: neither an ELF executable nor a "
		    "script", path);
		goto fail;
	}

	exe = elfdeps_add_obj(&ctx);
	if (elfdeps_read_fd(fd, &exe->img, &why) == -1) {
		*cause = xasprintf("%s: %s", path, why);
		goto fail;
	}
	if (exe->img.type != ET_EXEC && exe->img.type != ET_DYN) {
		*cause = xasprintf("%s: not an executable (ELF type %d)", path,
		    exe->img.type);
		goto fail;
	}
	exe->path = xstrdup(real);
	exe->origin = elfdeps_dirname(real);
	elfdeps_strv_add(&exe->names, real);
	if ((arch = elfdeps_arch_name(&exe->img)) != NULL)
		d->arch = xstrdup(arch);
	else
		d->arch = xasprintf("elf-machine-%d", exe->img.machine);
	elfdeps_add_file(d, real, base, 1, 0);

	/*
	 * Without a program interpreter the kernel runs the file as it is:
	 * nothing would load its DT_NEEDED, if it has any.
	 */
	if (exe->img.interp == NULL) {
		d->is_static = 1;
		goto out;
	}
	d = elfdeps_closure(d, ld_library_path, all, &ctx, cause);
	goto out;

fail:
	elfdeps_free(d);
	d = NULL;
out:
	if (fd != -1)
		close(fd);
	free(real);
	free(why);
	elfdeps_ctx_clear(&ctx);
	return d;
}

struct elfdeps *
elfdeps_resolve(const char *path, const char *ld_library_path, char **cause)
{
	return elfdeps_resolve_common(path, ld_library_path, 0, cause);
}

struct elfdeps *
elfdeps_resolve_all(const char *path, const char *ld_library_path,
    char **cause)
{
	return elfdeps_resolve_common(path, ld_library_path, 1, cause);
}

void
elfdeps_free(struct elfdeps *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nfiles; i++) {
		free(d->files[i].path);
		free(d->files[i].name);
	}
	free(d->files);
	free(d->arch);
	free(d);
}
