/*
 * Parsers and readers for /proc. The text given to a parser may be any bytes
 * and is not NUL-terminated, so every step goes through a cursor bounded by
 * the length, and numbers are parsed by hand (strtol would read past it).
 */
#include "worker/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* Where a parser is in the text, and where the text ends. */
struct procfs_cur {
	const char *p;
	const char *end;
};

/* One "Key:  value" line wanted from /proc/PID/status or /proc/meminfo. */
struct procfs_key {
	const char *name;
	int kb; /* the value must be followed by " kB" */
	int seen;
	unsigned long long value;
};

/* Buffer sizes: ample for what the kernel writes, see procfs_read_file. */
#define PROCFS_STAT_MAX 4096
#define PROCFS_STATUS_MAX 65536
#define PROCFS_HEAD_MAX 4096
#define PROCFS_MEMINFO_MAX 8192

static int
procfs_expect(struct procfs_cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

static void
procfs_skip_blanks(struct procfs_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* Decimal digits, at least one; -1 on overflow rather than wrapping. */
static int
procfs_ull(struct procfs_cur *c, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *start = c->p;
	unsigned d;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		d = (unsigned)(*c->p - '0');
		if (n > (ULLONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		c->p++;
	}
	if (c->p == start)
		return -1;
	*v = n;
	return 0;
}

/*
 * A field of /proc/PID/stat: the kernel prints some as %d or %ld (tpgid is
 * -1 without a terminal, priority is negative for real-time tasks) and some
 * as %lu up to ULLONG_MAX, so keep the sign apart from the magnitude.
 */
static int
procfs_field(struct procfs_cur *c, int *neg, unsigned long long *mag)
{
	*neg = 0;
	if (c->p < c->end && *c->p == '-') {
		*neg = 1;
		c->p++;
	}
	return procfs_ull(c, mag);
}

static int
procfs_is_letter(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

int
procfs_parse_stat(const char *text, size_t len, struct procfs_stat *out)
{
	struct procfs_cur c = {text, text + len};
	const char *close;
	unsigned long long v;
	size_t n;
	int field, neg;

	if (text == NULL || procfs_ull(&c, &v) == -1 || v == 0 || v > INT_MAX)
		return -1;
	out->pid = (int)v;
	if (procfs_expect(&c, ' ') == -1 || procfs_expect(&c, '(') == -1)
		return -1;

	/*
	 * The task sets its own comm (prctl PR_SET_NAME), so it may hold
	 * spaces and ')': only the last ')' in the text closes it.
	 */
	if ((close = memrchr(c.p, ')', (size_t)(c.end - c.p))) == NULL)
		return -1;
	n = (size_t)(close - c.p);
	if (memchr(c.p, '\0', n) != NULL)
		return -1;
	if (n >= sizeof out->comm)
		n = sizeof out->comm - 1;
	memcpy(out->comm, c.p, n);
	out->comm[n] = '\0';
	c.p = close + 1;

	if (procfs_expect(&c, ' ') == -1 || c.p >= c.end ||
	    !procfs_is_letter(*c.p))
		return -1;
	out->state = *c.p++;

	for (field = 4; field <= 24; field++) {
		if (procfs_expect(&c, ' ') == -1 ||
		    procfs_field(&c, &neg, &v) == -1)
			return -1;
		switch (field) {
		case 4:
		case 5:
		case 6:
			if (neg || v > INT_MAX)
				return -1;
			if (field == 4)
				out->ppid = (int)v;
			else if (field == 5)
				out->pgrp = (int)v;
			else
				out->session = (int)v;
			break;
		case 14:
		case 15:
		case 16:
		case 17:
		case 22:
			/* cutime and cstime are %ld but never negative. */
			if (neg)
				return -1;
			if (field == 14)
				out->utime = v;
			else if (field == 15)
				out->stime = v;
			else if (field == 16)
				out->cutime = v;
			else if (field == 17)
				out->cstime = v;
			else
				out->starttime = v;
			break;
		case 20:
		case 24:
			if (neg || v > LONG_MAX)
				return -1;
			if (field == 20)
				out->num_threads = (long)v;
			else
				out->rss_pages = (long)v;
			break;
		}
	}
	/* The kernel writes more after rss: nothing there means a cut. */
	if (c.p >= c.end || (*c.p != ' ' && *c.p != '\n'))
		return -1;
	return 0;
}

/*
 * Walk "Key:<blanks>value[ kB]\n" lines, filling the wanted keys. Every line
 * the kernel writes has a ':'; a wanted value must end its line with '\n',
 * so a text cut short inside a number is refused instead of misread.
 */
static int
procfs_parse_keys(const char *text, size_t len, struct procfs_key *keys,
		  size_t nkeys)
{
	const char *p = text, *end = text + len, *eol, *line_end, *colon;
	struct procfs_cur c;
	size_t i, klen;

	if (text == NULL || len == 0)
		return -1;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		line_end = eol != NULL ? eol : end;
		if ((colon = memchr(p, ':', (size_t)(line_end - p))) == NULL)
			return -1;
		klen = (size_t)(colon - p);
		for (i = 0; i < nkeys; i++) {
			if (strlen(keys[i].name) == klen &&
			    memcmp(keys[i].name, p, klen) == 0)
				break;
		}
		if (i < nkeys) {
			if (keys[i].seen || eol == NULL)
				return -1;
			c.p = colon + 1;
			c.end = line_end;
			procfs_skip_blanks(&c);
			if (procfs_ull(&c, &keys[i].value) == -1)
				return -1;
			if (keys[i].kb && (procfs_expect(&c, ' ') == -1 ||
					   procfs_expect(&c, 'k') == -1 ||
					   procfs_expect(&c, 'B') == -1))
				return -1;
			if (c.p != line_end)
				return -1;
			keys[i].seen = 1;
		}
		p = line_end + (eol != NULL);
	}
	return 0;
}

/* A wanted value as a long, or -1 when the line was absent. */
static int
procfs_key_long(const struct procfs_key *k, long *v)
{
	if (!k->seen) {
		*v = -1;
		return 0;
	}
	if (k->value > LONG_MAX)
		return -1;
	*v = (long)k->value;
	return 0;
}

int
procfs_parse_status(const char *text, size_t len, struct procfs_status *out)
{
	struct procfs_key keys[] = {
	    {"VmHWM", 1, 0, 0},
	    {"VmRSS", 1, 0, 0},
	    {"Threads", 0, 0, 0},
	};

	if (procfs_parse_keys(text, len, keys, 3) == -1)
		return -1;
	if (procfs_key_long(&keys[0], &out->vm_hwm_kb) == -1 ||
	    procfs_key_long(&keys[1], &out->vm_rss_kb) == -1 ||
	    procfs_key_long(&keys[2], &out->threads) == -1)
		return -1;
	return 0;
}

int
procfs_parse_io(const char *text, size_t len, struct procfs_io *out)
{
	struct procfs_key keys[] = {
	    {"rchar", 0, 0, 0},
	    {"wchar", 0, 0, 0},
	};

	if (procfs_parse_keys(text, len, keys, 2) == -1 || !keys[0].seen ||
	    !keys[1].seen || keys[0].value > LLONG_MAX ||
	    keys[1].value > LLONG_MAX)
		return -1;
	out->read_bytes = (long long)keys[0].value;
	out->write_bytes = (long long)keys[1].value;
	return 0;
}

int
procfs_parse_meminfo(const char *text, size_t len, struct procfs_meminfo *out)
{
	struct procfs_key keys[] = {
	    {"MemTotal", 1, 0, 0},
	    {"MemAvailable", 1, 0, 0},
	};

	if (procfs_parse_keys(text, len, keys, 2) == -1)
		return -1;
	if (!keys[0].seen || !keys[1].seen)
		return -1;
	if (keys[0].value == 0 || keys[0].value > LLONG_MAX ||
	    keys[1].value > LLONG_MAX)
		return -1;
	out->mem_total_kb = (long long)keys[0].value;
	out->mem_available_kb = (long long)keys[1].value;
	return 0;
}

/*
 * Fields of the "cpu" line, in order: user nice system idle iowait irq
 * softirq steal guest guest_nice. The kernel adds guest time into user and
 * guest_nice into nice as well, so the total sums only the first eight
 * (summing all would count a VM host's guest time twice); any fields a
 * later kernel appends are ignored for the same reason.
 */
#define PROCFS_CPU_SUMMED 8

int
procfs_parse_cpu(const char *text, size_t len, struct procfs_cpu *out)
{
	struct procfs_cur c = {text, text + len};
	unsigned long long v, total = 0, idle = 0;
	int n = 0;

	if (text == NULL || len < 4 || memcmp(text, "cpu ", 4) != 0)
		return -1;
	c.p += 3;
	for (;;) {
		if (c.p >= c.end)
			return -1; /* the first line always ends in '\n' */
		if (*c.p == '\n')
			break;
		if (*c.p != ' ')
			return -1;
		while (c.p < c.end && *c.p == ' ')
			c.p++;
		if (procfs_ull(&c, &v) == -1)
			return -1;
		n++;
		if (n <= PROCFS_CPU_SUMMED) {
			if (v > ULLONG_MAX - total)
				return -1;
			total += v;
		}
		if (n == 4 || n == 5)
			idle += v; /* cannot overflow: both are in total */
	}
	if (n < 4)
		return -1;
	out->total = total;
	out->idle = idle;
	return 0;
}

/*
 * Read at most size bytes of a /proc file into buf. A file larger than the
 * buffer is -1 with EFBIG unless partial is set, when the text is cut at its
 * last newline (callers of /proc/stat and /proc/meminfo need only the first
 * lines, and a cut line would look malformed).
 */
static int
procfs_read_file(const char *path, char *buf, size_t size, int partial,
		 size_t *lenp)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return util_close_failed(fd);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == size) {
		if (!partial) {
			errno = EFBIG;
			return -1;
		}
		while (len > 0 && buf[len - 1] != '\n')
			len--;
	}
	*lenp = len;
	return 0;
}

/* path = /proc/PID/file, for a PID that can exist; -1 (EINVAL) otherwise. */
static int
procfs_pid_path(pid_t pid, const char *file, char *path, size_t len)
{
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, len, "/proc/%d/%s", (int)pid, file);
	return 0;
}

int
procfs_read_stat(pid_t pid, struct procfs_stat *out)
{
	char path[64], buf[PROCFS_STAT_MAX];
	size_t len;

	if (procfs_pid_path(pid, "stat", path, sizeof path) == -1)
		return -1;
	if (procfs_read_file(path, buf, sizeof buf, 0, &len) == -1)
		return -1;
	if (procfs_parse_stat(buf, len, out) == -1 || out->pid != pid) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
procfs_read_status(pid_t pid, struct procfs_status *out)
{
	char path[64], *buf;
	size_t len;
	int rc;

	if (procfs_pid_path(pid, "status", path, sizeof path) == -1)
		return -1;
	/* Heap, not stack: a long Groups line can make status large. */
	if ((buf = malloc(PROCFS_STATUS_MAX)) == NULL)
		return -1;
	rc = procfs_read_file(path, buf, PROCFS_STATUS_MAX, 0, &len);
	if (rc == 0 && (rc = procfs_parse_status(buf, len, out)) == -1)
		errno = EINVAL;
	free(buf);
	return rc;
}

int
procfs_read_io(pid_t pid, struct procfs_io *out)
{
	char path[64], buf[PROCFS_HEAD_MAX];
	size_t len;

	if (procfs_pid_path(pid, "io", path, sizeof path) == -1)
		return -1;
	if (procfs_read_file(path, buf, sizeof buf, 0, &len) == -1)
		return -1;
	if (procfs_parse_io(buf, len, out) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

long
procfs_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	struct stat st;
	long n = 0;
	DIR *dir;

	if (procfs_pid_path(pid, "fd", path, sizeof path) == -1)
		return -1;
	/* Linux 6.2 and later give the count as the directory's size. */
	if (stat(path, &st) == -1)
		return -1;
	if (st.st_size > 0)
		return (long)st.st_size;
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int
procfs_read_meminfo(struct procfs_meminfo *out)
{
	char buf[PROCFS_MEMINFO_MAX];
	size_t len;

	if (procfs_read_file("/proc/meminfo", buf, sizeof buf, 1, &len) == -1)
		return -1;
	if (procfs_parse_meminfo(buf, len, out) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
procfs_read_cpu(struct procfs_cpu *out)
{
	char buf[PROCFS_HEAD_MAX];
	size_t len;

	if (procfs_read_file("/proc/stat", buf, sizeof buf, 1, &len) == -1)
		return -1;
	if (procfs_parse_cpu(buf, len, out) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

long long
procfs_ticks_to_ms(unsigned long long ticks)
{
	static long hz;
	unsigned long long whole, ms;

	if (hz <= 0 && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100; /* USER_HZ on every Linux architecture */
	/* Split so ticks * 1000 cannot overflow. */
	whole = ticks / (unsigned long long)hz;
	if (whole > LLONG_MAX / 1000)
		return LLONG_MAX;
	ms = whole * 1000 +
	     (ticks % (unsigned long long)hz) * 1000 / (unsigned long long)hz;
	return ms > LLONG_MAX ? LLONG_MAX : (long long)ms;
}
