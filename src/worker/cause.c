#include "worker/cause.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/signame.h"

void
cause_format(int wait_status, bool oom_killed, char *buf, size_t len)
{
	const char *oom = oom_killed ? " (out of memory)" : "";

	if (buf == NULL || len == 0)
		return;
	if (WIFEXITED(wait_status))
		snprintf(buf, len, "exited %d%s", WEXITSTATUS(wait_status),
			 oom);
	else if (WIFSIGNALED(wait_status))
		snprintf(buf, len, "killed by %s%s%s",
			 signame_from_number(WTERMSIG(wait_status)),
			 WCOREDUMP(wait_status) ? " (core dumped)" : "", oom);
	else if (WIFSTOPPED(wait_status))
		/* Only with WUNTRACED, which the reaper does not use. */
		snprintf(buf, len, "stopped by %s",
			 signame_from_number(WSTOPSIG(wait_status)));
	else if (WIFCONTINUED(wait_status))
		snprintf(buf, len, "continued");
	else
		snprintf(buf, len, "unknown wait status 0x%x",
			 (unsigned)wait_status);
}

void
cause_exec_failed(int err, char *buf, size_t len)
{
	char text[128];

	if (buf == NULL || len == 0)
		return;
	/* The GNU strerror_r: returns a pointer, maybe not into text. */
	snprintf(buf, len, "exec failed: %s",
		 strerror_r(err, text, sizeof text));
}
