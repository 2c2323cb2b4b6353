#include "worker/supmsg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmem.h"

static void
supmsg_reserve(struct supmsg *m, size_t more)
{
	if (m->len + more <= m->cap)
		return;
	while (m->cap < m->len + more)
		m->cap = m->cap == 0 ? 256 : m->cap * 2;
	m->data = xrealloc(m->data, m->cap);
}

void
supmsg_add(struct supmsg *m, const char *field)
{
	size_t n = strlen(field) + 1;

	supmsg_reserve(m, n);
	memcpy(m->data + m->len, field, n);
	m->len += n;
}

void
supmsg_addf(struct supmsg *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	supmsg_reserve(m, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(m->data + m->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	m->len += (size_t)n + 1;
}

void
supmsg_usage_from_rusage(struct supmsg_usage *u, const struct rusage *ru)
{
	u->user_us = (long long)ru->ru_utime.tv_sec * 1000000 +
	    ru->ru_utime.tv_usec;
	u->sys_us = (long long)ru->ru_stime.tv_sec * 1000000 +
	    ru->ru_stime.tv_usec;
	u->maxrss_kb = ru->ru_maxrss;
}

void
supmsg_add_usage(struct supmsg *m, const struct supmsg_usage *u)
{
	supmsg_addf(m, "%lld", u->user_us);
	supmsg_addf(m, "%lld", u->sys_us);
	supmsg_addf(m, "%lld", u->maxrss_kb);
}

void
supmsg_clear(struct supmsg *m)
{
	free(m->data);
	free(m->fields);
	memset(m, 0, sizeof *m);
}

int
supmsg_split(struct supmsg *m, char *data, size_t len, char **cause)
{
	size_t i, start;
	int n = 0;

	supmsg_clear(m);
	m->data = data;
	m->len = m->cap = len;
	if (len == 0 || data[len - 1] != '\0') {
		*cause = xstrdup("a supervisor message that is empty or does "
		    "not end its last field");
		return -1;
	}
	for (i = 0; i < len; i++)
		if (data[i] == '\0')
			n++;
	if (n > SUPMSG_FIELDS_MAX) {
		*cause = xasprintf("a supervisor message of %d fields", n);
		return -1;
	}
	m->fields = xcalloc((size_t)n, sizeof *m->fields);
	for (i = 0, start = 0; i < len; i++) {
		if (data[i] != '\0')
			continue;
		m->fields[m->nfields++] = data + start;
		start = i + 1;
	}
	return 0;
}

int
supmsg_recv(int sock, struct supmsg *m, int *fd, int flags, char **cause)
{
	static char buf[SUPMSG_MAX];
	ssize_t n;

	if ((n = util_recv_msg(sock, buf, sizeof buf, fd, flags)) <= 0)
		return (int)n;
	if (supmsg_split(m, xmemdup(buf, (size_t)n), (size_t)n, cause) == 0)
		return 1;
	if (*fd != -1)
		close(*fd);
	*fd = -1;
	errno = EBADMSG;
	return -1;
}

const char *
supmsg_name(const struct supmsg *m)
{
	return m->nfields > 0 ? m->fields[0] : "";
}

void
supmsg_format_launch(struct supmsg *m, const struct supmsg_launch *l)
{
	int argc = 0;

	for (char **a = l->argv; *a != NULL; a++)
		argc++;
	supmsg_add(m, "launch");
	supmsg_add(m, l->id);
	supmsg_add(m, l->dir);
	supmsg_add(m, l->path);
	supmsg_add(m, l->cwd != NULL ? l->cwd : "");
	supmsg_addf(m, "%d", argc);
	for (char **a = l->argv; *a != NULL; a++)
		supmsg_add(m, *a);
	for (char **e = l->envp; *e != NULL; e++)
		supmsg_add(m, *e);
}

/* A NULL-terminated copy of n pointers from fields. */
static char **
supmsg_vector(char **fields, int n)
{
	char **v = xcalloc((size_t)n + 1, sizeof *v);

	memcpy(v, fields, (size_t)n * sizeof *v);
	return v;
}

int
supmsg_parse_launch(struct supmsg *m, struct supmsg_launch *l, char **cause)
{
	long long argc;

	memset(l, 0, sizeof *l);
	if (m->nfields < 7 || strcmp(supmsg_name(m), "launch") != 0) {
		*cause = xstrdup("a launch message without its fields");
		return -1;
	}
	if (supmsg_get_ll(m, 5, 1, m->nfields - 6, &argc, cause) == -1)
		return -1;
	l->id = m->fields[1];
	l->dir = m->fields[2];
	l->path = m->fields[3];
	l->cwd = m->fields[4];
	l->argv = supmsg_vector(m->fields + 6, (int)argc);
	l->envp = supmsg_vector(m->fields + 6 + argc,
	    m->nfields - 6 - (int)argc);
	return 0;
}

void
supmsg_launch_clear(struct supmsg_launch *l)
{
	free(l->argv);
	free(l->envp);
	memset(l, 0, sizeof *l);
}

void
supmsg_format_end(struct supmsg *m, const struct supmsg_end *e)
{
	supmsg_add(m, "ended");
	supmsg_add(m, e->id);
	supmsg_addf(m, "%d", (int)e->pid);
	supmsg_addf(m, "%d", e->status);
	supmsg_add_usage(m, &e->usage);
	supmsg_addf(m, "%" PRId64, e->ended_at);
	supmsg_add_usage(m, &e->children);
}

int
supmsg_parse_end(const struct supmsg *m, struct supmsg_end *e, char **cause)
{
	long long pid, status, at;

	memset(e, 0, sizeof *e);
	if (m->nfields != 11 || strcmp(supmsg_name(m), "ended") != 0) {
		*cause = xasprintf("an ended message of %d fields, not 11",
		    m->nfields);
		return -1;
	}
	if (supmsg_get_ll(m, 2, 2, INT_MAX, &pid, cause) == -1 ||
	    supmsg_get_ll(m, 3, INT_MIN, INT_MAX, &status, cause) == -1 ||
	    supmsg_get_usage(m, 4, &e->usage, cause) == -1 ||
	    supmsg_get_ll(m, 7, 0, LLONG_MAX, &at, cause) == -1 ||
	    supmsg_get_usage(m, 8, &e->children, cause) == -1)
		return -1;
	e->id = m->fields[1];
	e->pid = (pid_t)pid;
	e->status = (int)status;
	e->ended_at = at;
	return 0;
}

int
supmsg_get_ll(const struct supmsg *m, int i, long long min, long long max,
    long long *out, char **cause)
{
	const char *s = i < m->nfields ? m->fields[i] : NULL;
	char *end;
	long long v;

	if (s == NULL) {
		*cause = xasprintf("the %s message has no field %d",
		    supmsg_name(m), i);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		*cause = xasprintf("field %d of the %s message is not a number "
		    "from %lld to %lld: '%.32s'", i, supmsg_name(m), min, max,
		    s);
		return -1;
	}
	*out = v;
	return 0;
}

int
supmsg_get_ull(const struct supmsg *m, int i, unsigned long long *out,
    char **cause)
{
	const char *s = i < m->nfields ? m->fields[i] : NULL;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9') {
		*cause = xasprintf("field %d of the %s message is not a "
		    "number", i, supmsg_name(m));
		return -1;
	}
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		*cause = xasprintf("field %d of the %s message is not a "
		    "number: '%.32s'", i, supmsg_name(m), s);
		return -1;
	}
	return 0;
}

int
supmsg_get_usage(const struct supmsg *m, int i, struct supmsg_usage *u,
    char **cause)
{
	if (supmsg_get_ll(m, i, 0, LLONG_MAX, &u->user_us, cause) == -1 ||
	    supmsg_get_ll(m, i + 1, 0, LLONG_MAX, &u->sys_us, cause) == -1 ||
	    supmsg_get_ll(m, i + 2, 0, LLONG_MAX, &u->maxrss_kb, cause) == -1)
		return -1;
	return 0;
}
