/*
 * How an app ended, in the words the worker reports to the master and the
 * CLI shows ("killed by SIGSEGV (core dumped)").
 */
#ifndef DROVER_CAUSE_H
#define DROVER_CAUSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes the end of a process, from its wait status, into buf (always
 * NUL-terminated when len > 0, truncated to fit): "exited 3",
 * "killed by SIGKILL", "killed by SIGSEGV (core dumped)". oom_killed (the
 * app's cgroup counted an OOM kill) adds " (out of memory)".
 */
void cause_format(int wait_status, bool oom_killed, char *buf, size_t len);

/* Writes "exec failed: <strerror(err)>" into buf, as cause_format does. */
void cause_exec_failed(int err, char *buf, size_t len);

#endif
