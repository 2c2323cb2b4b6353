#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int log_verbose;
unsigned log_traces;
static char log_role[64] = "drover";

static const struct {
	const char *name;
	unsigned bit;
} log_trace_names[] = {
	{ "msg", TRACE_MSG }, { "spawn", TRACE_SPAWN }, { "db", TRACE_DB },
	{ "http", TRACE_HTTP }, { "sched", TRACE_SCHED },
};

void
log_init(const char *role)
{
	const char *env;
	char *list, *tok, *save;

	log_set_role(role);
	if ((env = getenv("DROVER_DEBUG")) != NULL && *env != '\0' &&
	    strcmp(env, "0") != 0)
		log_verbose = 1;
	if ((env = getenv("DROVER_TRACE")) == NULL)
		return;
	if ((list = strdup(env)) == NULL)
		return;
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < sizeof log_trace_names / sizeof log_trace_names[0]; i++)
			if (strcmp(tok, log_trace_names[i].name) == 0 ||
			    strcmp(tok, "all") == 0)
				log_traces |= log_trace_names[i].bit;
	}
	free(list);
}

void
log_set_role(const char *role)
{
	snprintf(log_role, sizeof log_role, "%s", role);
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, const char *err)
{
	char stamp[32], line[2048];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	vsnprintf(line, sizeof line, fmt, ap);
	/*
	 * A line is one line: names and causes from the network may hold
	 * control characters, and a newline among them would forge a line.
	 */
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* One fprintf per line so lines from several processes do not interleave. */
	if (err != NULL)
		fprintf(stderr, "%s.%03ld %s %s: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_role, level, line, err);
	else
		fprintf(stderr, "%s.%03ld %s %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_role, level, line);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_print_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("debug", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
