/* Collecting exited children, after SIGCHLD (read from the signalfd). */
#ifndef DROVER_REAP_H
#define DROVER_REAP_H

#include <sys/types.h>
#include <sys/resource.h>

/*
 * Reaps every child that has exited, without blocking, and calls
 * on_reaped(pid, wait status, its resource usage, arg) for each; ru is
 * borrowed for the call. SIGCHLD coalesces, so one signal may stand for
 * several children, or for none left to reap: this is the loop for both.
 * on_reaped may be NULL (the children are reaped and forgotten).
 */
void reap_children(void (*on_reaped)(pid_t pid, int status,
				     const struct rusage *ru, void *arg),
		   void *arg);

#endif
