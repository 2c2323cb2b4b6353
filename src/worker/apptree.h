/*
 * An app's processes that left its process group. A stop or kill signals
 * the app's group; a program that calls setsid(2), as a daemon's double
 * fork does, leaves it and would outlive the app it belongs to. systemd and
 * Nomad find such processes through the app's cgroup. drover finds them in
 * the process tree: while the app's shim lives they are its descendants (it
 * is a child subreaper); once it has exited they have passed to the worker
 * (a subreaper too), where DROVER_APP_ID in their environment, which every
 * app is started with, says whose they are.
 */
#ifndef DROVER_APPTREE_H
#define DROVER_APPTREE_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Send sig to every process below shim (an app's live shim, or 0) that is
 * not in process group pgid, and to every child of the worker whose
 * environment holds DROVER_APP_ID=id, and below it, likewise. Children
 * for which is_shim(pid, arg) is true are passed over unread: with
 * hundreds of apps, reading every shim's environment would cost the
 * worker's loop more than the stop. Processes in pgid are left to the
 * caller's kill(-pgid). Returns how many processes were sent sig.
 */
int apptree_signal_strays(pid_t shim, const char *id, pid_t pgid, int sig,
    bool (*is_shim)(pid_t, void *), void *arg);

#endif
