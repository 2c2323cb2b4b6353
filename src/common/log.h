/* Logging to stderr, each line tagged with the role ("master", "worker w1"). */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

#include <stdbool.h>

/* Subsystems that can be traced one by one at run time (DROVER_TRACE=msg,http). */
enum log_trace {
	TRACE_MSG = 1 << 0,
	TRACE_SPAWN = 1 << 1,
	TRACE_DB = 1 << 2,
	TRACE_HTTP = 1 << 3,
	TRACE_SCHED = 1 << 4,
};

extern int log_verbose;	   /* 1 enables log_debug */
extern unsigned log_traces; /* enum log_trace bits */

/* Set the role tag and read DROVER_TRACE / DROVER_DEBUG from the environment. */
void log_init(const char *role);
/* Change the tag (the worker learns its name after parsing arguments). */
void log_set_role(const char *role);

void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_print_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The level test sits in the macro so the arguments cost nothing when off. */
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_verbose)                                               \
			log_print_debug(__VA_ARGS__);                          \
	} while (0)
#define log_trace(sub, ...)                                                    \
	do {                                                                   \
		if (log_traces & (sub))                                        \
			log_print_debug(__VA_ARGS__);                          \
	} while (0)

#endif
