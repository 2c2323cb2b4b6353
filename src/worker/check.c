#include "worker/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/xmem.h"
#include "worker/cause.h"
#include "worker/spawn.h"

#define CHECK_PATH_MAX 1024
#define CHECK_CMD_MAX 4096
/* The status line must fit in this; the rest of the reply is never read. */
#define CHECK_REPLY_MAX 512

/* Where the probe under way stands. */
enum check_probe {
	CHECK_IDLE,	  /* none: the next starts at next_at */
	CHECK_CONNECTING, /* tcp, http: waiting for the socket to be writable */
	CHECK_SENDING,	  /* http: the request is going out */
	CHECK_READING,	  /* http: waiting for the status line */
	CHECK_RUNNING,	  /* exec: the command runs */
};

struct check {
	struct check_spec spec;
	char *const *envp; /* borrowed from the app */
	const char *cwd;   /* borrowed from the app; NULL: the worker's */
	bool active;	   /* between check_start and check_stop */
	enum check_health health;
	int fails; /* consecutive failures */
	int64_t next_at;  /* monotonic ms: the next probe starts */
	int64_t deadline; /* monotonic ms: the probe under way has failed */
	enum check_probe probe;
	int fd;
	char *request;
	size_t request_len, sent;
	char reply[CHECK_REPLY_MAX];
	size_t reply_len;
	/*
	 * An exec probe not yet reaped (0: none). It outlives its probe when
	 * killed at the timeout or by check_stop; then its status no longer
	 * counts, and no new exec probe starts until it is reaped, so one pid
	 * is all there is to match.
	 */
	pid_t pid;
	int pidfd;
	bool pid_counts;
	char error[192];
};

static const char *const check_health_names[] = {
	[CHECK_STARTING] = "starting", [CHECK_HEALTHY] = "healthy",
	[CHECK_UNHEALTHY] = "unhealthy",
};

const char *
check_health_name(enum check_health h)
{
	return check_health_names[h];
}

/* Prefix a getter's cause with "check: ". */
static int
check_refuse(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
check_refuse(char **cause, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	free(*cause);
	*cause = xasprintf("check: %s", text);
	return -1;
}

int
check_spec_parse(json_t *obj, struct check_spec *spec, char **cause)
{
	static const char *const fields[] = { "kind", "port", "path", "cmd",
		"interval_ms", "timeout_ms", "failures", NULL };
	const char *kind, *path = NULL, *cmd = NULL;
	long long port = 0, interval = CHECK_INTERVAL_DEFAULT;
	long long timeout = CHECK_TIMEOUT_DEFAULT;
	long long failures = CHECK_FAILURES_DEFAULT;
	bool net;

	memset(spec, 0, sizeof *spec);
	*cause = NULL;
	if (!json_is_object(obj))
		return check_refuse(cause, "must be an object");
	if (jsonx_check_fields(obj, fields, cause) == -1 ||
	    jsonx_get_str(obj, "kind", true, &kind, cause) == -1)
		return check_refuse(cause, "%s", *cause);
	if (strcmp(kind, "http") == 0)
		spec->kind = CHECK_HTTP;
	else if (strcmp(kind, "tcp") == 0)
		spec->kind = CHECK_TCP;
	else if (strcmp(kind, "exec") == 0)
		spec->kind = CHECK_EXEC;
	else
		return check_refuse(cause, "kind '%.32s' is not http, tcp or "
		    "exec", kind);
	net = spec->kind != CHECK_EXEC;
	if (jsonx_get_int(obj, "port", net, 1, 65535, &port, cause) == -1 ||
	    jsonx_get_str(obj, "path", false, &path, cause) == -1 ||
	    jsonx_get_str(obj, "cmd", spec->kind == CHECK_EXEC, &cmd,
		cause) == -1 ||
	    jsonx_get_int(obj, "interval_ms", false, 100, 86400000, &interval,
		cause) == -1 ||
	    jsonx_get_int(obj, "timeout_ms", false, 10, 3600000, &timeout,
		cause) == -1 ||
	    jsonx_get_int(obj, "failures", false, 1, 1000, &failures,
		cause) == -1)
		return check_refuse(cause, "%s", *cause);
	if (!net && json_object_get(obj, "port") != NULL)
		return check_refuse(cause, "'port' is for http and tcp checks");
	if (spec->kind != CHECK_HTTP && path != NULL)
		return check_refuse(cause, "'path' is for http checks");
	if (spec->kind != CHECK_EXEC && cmd != NULL)
		return check_refuse(cause, "'cmd' is for exec checks");
	if (path != NULL) {
		/* It goes into the request line as it is. */
		if (path[0] != '/' || strlen(path) > CHECK_PATH_MAX)
			return check_refuse(cause, "'path' must start with '/' "
			    "and be at most %d bytes", CHECK_PATH_MAX);
		for (const char *p = path; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return check_refuse(cause, "'path' must not "
				    "hold spaces or control characters");
	}
	if (cmd != NULL && (cmd[0] == '\0' || strlen(cmd) > CHECK_CMD_MAX ||
	    strlen(cmd) != json_string_length(json_object_get(obj, "cmd"))))
		return check_refuse(cause, "'cmd' must be 1 to %d bytes, "
		    "without NUL", CHECK_CMD_MAX);
	spec->port = (int)port;
	spec->path = spec->kind == CHECK_HTTP ?
	    xstrdup(path != NULL ? path : "/") : NULL;
	spec->cmd = cmd != NULL ? xstrdup(cmd) : NULL;
	spec->interval_ms = (int)interval;
	spec->timeout_ms = (int)timeout;
	spec->failures = (int)failures;
	return 0;
}

void
check_spec_clear(struct check_spec *spec)
{
	free(spec->path);
	free(spec->cmd);
	spec->path = spec->cmd = NULL;
}

static size_t
check_digits(const char *buf, size_t len, size_t i)
{
	size_t n = 0;

	while (i + n < len && buf[i + n] >= '0' && buf[i + n] <= '9')
		n++;
	return n;
}

int
check_http_status(const char *buf, size_t len)
{
	static const char prefix[] = "HTTP/";
	size_t i, n;
	int code;

	for (i = 0; i < sizeof prefix - 1; i++) {
		if (i == len)
			return 0;
		if (buf[i] != prefix[i])
			return -1;
	}
	/* The version: "1.0", "1.1", or a bare "2". */
	n = check_digits(buf, len, i);
	if (i + n == len)
		return 0;
	if (n == 0)
		return -1;
	i += n;
	if (buf[i] == '.') {
		n = check_digits(buf, len, ++i);
		if (i + n == len)
			return 0;
		if (n == 0)
			return -1;
		i += n;
	}
	if (buf[i] != ' ')
		return -1;
	while (i < len && buf[i] == ' ')
		i++;
	n = check_digits(buf, len, i);
	if (n < 3 && i + n == len)
		return 0;
	if (n != 3 || buf[i] == '0')
		return -1;
	code = (buf[i] - '0') * 100 + (buf[i + 1] - '0') * 10 +
	    (buf[i + 2] - '0');
	i += 3;
	if (i == len)
		return 0;
	if (buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		return -1;
	return code;
}

struct check *
check_create(const struct check_spec *spec, char *const *envp, const char *cwd)
{
	struct check *c = xcalloc(1, sizeof *c);

	c->spec = *spec;
	c->spec.path = spec->path != NULL ? xstrdup(spec->path) : NULL;
	c->spec.cmd = spec->cmd != NULL ? xstrdup(spec->cmd) : NULL;
	c->envp = envp;
	c->cwd = cwd;
	c->fd = -1;
	c->pidfd = -1;
	return c;
}

/* End the probe under way, if any, without a result. */
static void
check_probe_end(struct check *c)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	free(c->request);
	c->request = NULL;
	c->request_len = c->sent = c->reply_len = 0;
	if (c->pid != 0 && c->probe == CHECK_RUNNING) {
		/* Reaped later (check_reaped); its status no longer counts. */
		spawn_signal_group(c->pid, c->pidfd, SIGKILL);
		c->pid_counts = false;
	}
	c->probe = CHECK_IDLE;
}

/* The probe ended with a result. Returns true when the health changed. */
static bool
check_result(struct check *c, bool ok)
{
	enum check_health was = c->health;

	check_probe_end(c);
	if (ok) {
		c->fails = 0;
		c->health = CHECK_HEALTHY;
		c->error[0] = '\0';
	} else if (++c->fails >= c->spec.failures)
		c->health = CHECK_UNHEALTHY;
	log_trace(TRACE_SPAWN, "check: %s%s%s", ok ? "passed" : "failed",
	    ok ? "" : ": ", c->error);
	return c->health != was;
}

static bool
check_fail(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
	return check_result(c, false);
}

/* http: send what is left of the request; then wait for the reply. */
static bool
check_send(struct check *c)
{
	ssize_t n;

	while (c->sent < c->request_len) {
		n = send(c->fd, c->request + c->sent, c->request_len - c->sent,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return false;
		return check_fail(c, "send: %s", strerror(errno));
	}
	c->probe = CHECK_READING;
	return false;
}

/* http: read until the status line can be judged. */
static bool
check_read(struct check *c)
{
	ssize_t n;
	int code;

	for (;;) {
		n = recv(c->fd, c->reply + c->reply_len,
		    sizeof c->reply - 1 - c->reply_len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return false;
		if (n == -1)
			return check_fail(c, "recv: %s", strerror(errno));
		if (n == 0)
			return check_fail(c, "the connection closed before a "
			    "status line");
		c->reply_len += (size_t)n;
		code = check_http_status(c->reply, c->reply_len);
		if (code == -1)
			return check_fail(c, "the reply is not HTTP");
		if (code > 0) {
			if (code >= 200 && code <= 399)
				return check_result(c, true);
			return check_fail(c, "HTTP %d", code);
		}
		if (c->reply_len == sizeof c->reply - 1)
			return check_fail(c, "the status line is too long");
	}
}

static bool
check_connected(struct check *c)
{
	if (c->spec.kind == CHECK_TCP)
		return check_result(c, true);
	c->request = xasprintf("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n",
	    c->spec.path);
	c->request_len = strlen(c->request);
	c->probe = CHECK_SENDING;
	return check_send(c);
}

static bool
check_connect_start(struct check *c)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->spec.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return check_fail(c, "socket: %s", strerror(errno));
	c->probe = CHECK_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return check_connected(c);
	if (errno == EINPROGRESS || errno == EINTR)
		return false;
	return check_fail(c, "connect to port %d: %s", c->spec.port,
	    strerror(errno));
}

/*
 * exec: /bin/sh -c CMD, in its own session like an app, output to
 * /dev/null (a check's chatter is not the app's log).
 */
static bool
check_exec_start(struct check *c)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", c->spec.cmd, NULL };
	char *noenv[] = { NULL };
	struct spawn_request sr = { 0 };
	struct spawn_result res;
	char *cause = NULL;
	bool changed;
	int devnull;

	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return check_fail(c, "open /dev/null: %s", strerror(errno));
	sr.path = "/bin/sh";
	sr.argv = argv;
	sr.envp = c->envp != NULL ? c->envp : noenv;
	sr.cwd = c->cwd;
	sr.log_fd = devnull;
	if (spawn_app(&sr, &res, &cause) == -1) {
		close(devnull);
		changed = check_fail(c, "cannot run the check: %s", cause);
		free(cause);
		return changed;
	}
	close(devnull);
	c->pid = res.pid;
	c->pidfd = res.pidfd;
	c->pid_counts = true;
	c->probe = CHECK_RUNNING;
	return false;
}

void
check_start(struct check *c, int64_t now)
{
	check_stop(c);
	c->active = true;
	c->health = CHECK_STARTING;
	c->fails = 0;
	c->error[0] = '\0';
	c->next_at = now + c->spec.interval_ms;
}

void
check_stop(struct check *c)
{
	check_probe_end(c);
	c->active = false;
}

void
check_free(struct check *c)
{
	if (c == NULL)
		return;
	check_stop(c);
	if (c->pidfd != -1)
		close(c->pidfd);
	check_spec_clear(&c->spec);
	free(c);
}

bool
check_tick(struct check *c, int64_t now)
{
	if (!c->active)
		return false;
	if (c->probe != CHECK_IDLE) {
		if (now < c->deadline)
			return false;
		return check_fail(c, "no answer within %d ms",
		    c->spec.timeout_ms);
	}
	if (now < c->next_at)
		return false;
	/* A killed exec probe not reaped yet: wait for it (next tick). */
	if (c->pid != 0)
		return false;
	c->next_at = now + c->spec.interval_ms;
	c->deadline = now + c->spec.timeout_ms;
	c->error[0] = '\0';
	if (c->spec.kind == CHECK_EXEC)
		return check_exec_start(c);
	return check_connect_start(c);
}

int
check_fd(const struct check *c, bool *want_write)
{
	switch (c->probe) {
	case CHECK_CONNECTING:
	case CHECK_SENDING:
		*want_write = true;
		return c->fd;
	case CHECK_READING:
		*want_write = false;
		return c->fd;
	default:
		return -1;
	}
}

bool
check_io(struct check *c)
{
	socklen_t len;
	int err;

	switch (c->probe) {
	case CHECK_CONNECTING:
		err = 0;
		len = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			return check_fail(c, "connect to port %d: %s",
			    c->spec.port, strerror(err));
		return check_connected(c);
	case CHECK_SENDING:
		return check_send(c);
	case CHECK_READING:
		return check_read(c);
	default:
		return false;
	}
}

bool
check_reaped(struct check *c, pid_t pid, int status, bool *changed)
{
	char how[128];

	*changed = false;
	if (c == NULL || c->pid == 0 || c->pid != pid)
		return false;
	if (c->pidfd != -1) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	c->pid = 0;
	if (!c->pid_counts || c->probe != CHECK_RUNNING)
		return true;
	c->pid_counts = false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		*changed = check_result(c, true);
	else {
		cause_format(status, false, how, sizeof how);
		*changed = check_fail(c, "the check command %s", how);
	}
	return true;
}

enum check_health
check_health(const struct check *c)
{
	return c->health;
}

const char *
check_last_error(const struct check *c)
{
	return c->error;
}
