/* An app's processes outside its process group: see apptree.h. */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmem.h"
#include "worker/apptree.h"
#include "worker/procfs.h"

/*
 * How many processes one walk visits at most: a fork bomb in an app must
 * not make the worker's loop walk forever. What is past it is not signalled.
 */
#define APPTREE_MAX 4096

/* The processes a walk has yet to visit. */
struct apptree_queue {
	pid_t pids[APPTREE_MAX];
	int n;
	int next;
};

/* Queue every child of pid, from /proc/PID/task/TID/children. */
static void
apptree_queue_children(struct apptree_queue *q, pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		char *text, *p, *end;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.16s/children",
		    (int)pid, e->d_name);
		if ((text = util_read_file(path, 1 << 20, NULL)) == NULL)
			continue;
		for (p = text; q->n < APPTREE_MAX; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (v > 1)
				q->pids[q->n++] = (pid_t)v;
		}
		free(text);
	}
	closedir(dir);
}

/* Whether pid's environment holds DROVER_APP_ID=id. */
static bool
apptree_is_app(pid_t pid, const char *id)
{
	char path[64], *env, *want;
	size_t len, wlen;
	bool found = false;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	if ((env = util_read_file(path, 1 << 20, &len)) == NULL)
		return false;
	want = xasprintf("DROVER_APP_ID=%s", id);
	wlen = strlen(want) + 1; /* with its NUL: the whole entry */
	for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
		if (len - at >= wlen && memcmp(env + at, want, wlen) == 0) {
			found = true;
			break;
		}
	}
	free(want);
	free(env);
	return found;
}

/* Signal each queued process outside pgid and walk on below it. */
static int
apptree_signal_queue(struct apptree_queue *q, pid_t pgid, int sig)
{
	int sent = 0;

	while (q->next < q->n) {
		pid_t pid = q->pids[q->next++];
		struct procfs_stat st;

		if (procfs_read_stat(pid, &st) == -1)
			continue;
		if (st.pgrp != pgid && kill(pid, sig) == 0)
			sent++;
		apptree_queue_children(q, pid);
	}
	return sent;
}

int
apptree_signal_strays(pid_t shim, const char *id, pid_t pgid, int sig,
    bool (*is_shim)(pid_t, void *), void *arg)
{
	struct apptree_queue *q = xcalloc(1, sizeof *q);
	struct apptree_queue *mine = xcalloc(1, sizeof *mine);
	int sent = 0;

	if (shim > 1) {
		apptree_queue_children(q, shim);
		sent += apptree_signal_queue(q, pgid, sig);
	}
	/*
	 * Of the worker's own children (shims, the zygote, and what ended
	 * shims left), only those started as this app; never the rest.
	 */
	q->n = q->next = 0;
	apptree_queue_children(q, getpid());
	for (int i = 0; i < q->n; i++) {
		if (!is_shim(q->pids[i], arg) && apptree_is_app(q->pids[i], id))
			mine->pids[mine->n++] = q->pids[i];
	}
	sent += apptree_signal_queue(mine, pgid, sig);
	free(q);
	free(mine);
	return sent;
}
