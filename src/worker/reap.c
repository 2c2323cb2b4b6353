#include "worker/reap.h"

#include <errno.h>
#include <sys/wait.h>

#include "common/log.h"

void
reap_children(void (*on_reaped)(pid_t pid, int status, const struct rusage *ru,
				void *arg),
	      void *arg)
{
	struct rusage ru;
	pid_t pid;
	int status;

	for (;;) {
		pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid == 0)
			return; /* children left, none exited */
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("wait4");
			return;
		}
		log_trace(TRACE_SPAWN, "reaped %ld, status 0x%x", (long)pid,
			  (unsigned)status);
		if (on_reaped != NULL)
			on_reaped(pid, status, &ru, arg);
	}
}
