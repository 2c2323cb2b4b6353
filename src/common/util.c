#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmem.h"

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_parse_duration_ms(const char *text)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	char *end;
	long long n;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].suffix) == 0)
			return n > INT64_MAX / units[i].ms ? -1 : n * units[i].ms;
	return -1;
}

int64_t
util_parse_since_ms(const char *text, int64_t now_ms)
{
	char *end;
	long long v;
	int64_t ago;

	if (text == NULL)
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (end != text && *end == '\0' && v >= 0 && errno == 0)
		return v;
	if ((ago = util_parse_duration_ms(text)) == -1)
		return -1;
	return ago > now_ms ? 0 : now_ms - ago;
}

int
util_parse_hostport(const char *text, char **host, int *port, char **cause)
{
	const char *colon, *hstart, *hend;
	char *end;
	long p;

	*host = NULL;
	if (text == NULL || *text == '\0') {
		*cause = xstrdup("empty address (expected HOST:PORT)");
		return -1;
	}
	if (text[0] == '[') {
		hstart = text + 1;
		if ((hend = strchr(hstart, ']')) == NULL || hend[1] != ':') {
			*cause = xasprintf("bad address '%s' (expected [V6]:PORT)", text);
			return -1;
		}
		colon = hend + 1;
	} else {
		hstart = text;
		if ((colon = strrchr(text, ':')) == NULL) {
			*cause = xasprintf("bad address '%s' (expected HOST:PORT)", text);
			return -1;
		}
		hend = colon;
	}
	if (hend == hstart) {
		*cause = xasprintf("bad address '%s': no host", text);
		return -1;
	}
	if (text[0] != '[' && memchr(hstart, ':', (size_t)(hend - hstart))) {
		*cause = xasprintf("bad address '%s': write IPv6 as [V6]:PORT",
		    text);
		return -1;
	}
	if (colon[1] < '0' || colon[1] > '9') {
		*cause = xasprintf("bad port in '%s' (1 to 65535)", text);
		return -1;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 1 || p > 65535) {
		*cause = xasprintf("bad port in '%s' (1 to 65535)", text);
		return -1;
	}
	*host = xstrndup(hstart, (size_t)(hend - hstart));
	*port = (int)p;
	return 0;
}

char *
util_default_state_dir(void)
{
	const char *xdg, *home;

	if (geteuid() == 0)
		return xstrdup("/var/lib/drover");
	if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg == '/')
		return xasprintf("%s/drover", xdg);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = "/tmp";
	return xasprintf("%s/.local/state/drover", home);
}

int
util_mkdir_p(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len;

	if ((len = strlen(path)) == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1) {
		struct stat st;

		if (errno != EEXIST)
			return -1;
		if (stat(buf, &st) == -1)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = EEXIST; /* as mkdir -p says: File exists */
			return -1;
		}
	}
	return 0;
}

static int
util_fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		rc = -1;
	else {
		if (fsync(fd) == -1)
			rc = -1;
		close(fd);
	}
	free(copy);
	return rc;
}

int
util_send_msg(int sock, const void *data, size_t len, int fd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	while ((r = sendmsg(sock, &mh, MSG_NOSIGNAL | flags)) == -1 &&
	    errno == EINTR)
		;
	if (r == -1)
		return -1;
	if ((size_t)r != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

ssize_t
util_recv_msg(int sock, void *buf, size_t cap, int *fd, int flags)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t r;

	*fd = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags)) == -1 &&
	    errno == EINTR)
		;
	if (r <= 0)
		return r;
	/* Keep the first descriptor that came; close any other. */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; CMSG_LEN((i + 1) * sizeof(int)) <=
		    cm->cmsg_len; i++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof got, sizeof got);
			if (*fd == -1)
				*fd = got;
			else
				close(got);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

int
util_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_close_failed(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return -1;
}

int
util_write_file_atomic(const char *path, const void *data, size_t len,
    unsigned mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, saved;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) == -1)
		goto fail;
	if (fchmod(fd, mode) == -1 || util_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1)
		goto fail_unlink;
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	free(tmp);
	return util_fsync_dir_of(path);

fail_fd:
	util_close_failed(fd);
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	errno = saved;
	return -1;
}

int
util_write_file_in_place(const char *path, const void *data, size_t len,
    unsigned mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)) == -1)
		return -1;
	/*
	 * Over the old bytes, then cut to size: never truncated to 0 first,
	 * which on ext4 (auto_da_alloc) has close start writing it out.
	 */
	if (fchmod(fd, mode) == -1 || util_write_all(fd, data, len) == -1 ||
	    ftruncate(fd, (off_t)len) == -1)
		return util_close_failed(fd);
	return close(fd);
}

int
util_empty_file(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (st.st_size > 0 && ftruncate(fd, 0) == -1))
		return util_close_failed(fd);
	return close(fd);
}

int
util_write_file_swap(const char *path, const void *data, size_t len,
    unsigned mode)
{
	char *prev = xasprintf("%s.prev", path);
	int rc, saved;

	rc = util_write_file_in_place(prev, data, len, mode);
	if (rc == 0 && renameat2(AT_FDCWD, prev, AT_FDCWD, path,
	    RENAME_EXCHANGE) == -1 && rename(prev, path) == -1)
		rc = -1;
	saved = errno;
	free(prev);
	errno = saved;
	return rc;
}

void
util_start_writeback(int fd, unsigned long long *started,
    unsigned long long written)
{
	if (written - *started < UTIL_WRITEBACK_STEP)
		return;
	(void)sync_file_range(fd, (off_t)*started, (off_t)(written - *started),
	    SYNC_FILE_RANGE_WRITE);
	*started = written;
}

char *
util_read_file(const char *path, size_t max, size_t *lenp)
{
	char *buf;
	size_t len = 0, cap = 4096;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return NULL;
}

void
util_random_hex(char *buf, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[256];
	size_t got = 0;
	ssize_t r;

	if (n > sizeof raw)
		n = sizeof raw;
	/*
	 * The kernel's generator, which libsodium's randombytes_buf reads on
	 * Linux too; calling it directly keeps this file free of libsodium,
	 * so drover-shim links libc alone. Up to 256 bytes are never cut short
	 * once the pool is ready; the loop is for the letter of the manual.
	 */
	while (got < n) {
		if ((r = getrandom(raw + got, n - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = digits[raw[i] >> 4];
		buf[2 * i + 1] = digits[raw[i] & 0xf];
	}
	buf[2 * n] = '\0';
	explicit_bzero(raw, sizeof raw);
}

void
util_format_age(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms < 10000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else if (ms < 120000)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else if (ms < 7200000)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms < 172800000)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else
		snprintf(buf, len, "%lldd", (long long)(ms / 86400000));
}

void
util_chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

int
util_signalfd(const int *sigs, int n)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

void
util_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

bool
util_name_valid(const char *s, size_t max, const char *also)
{
	size_t len = strlen(s);

	if (len == 0 || len > max || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && strchr(also, *p) == NULL)
			return false;
	return true;
}
