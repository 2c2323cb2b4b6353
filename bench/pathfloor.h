/*
 * pathfloor: the floor under launch's latency on this machine. A launch
 * takes the path the architecture decided on: an HTTP request to the
 * master (libcurl to libmicrohttpd), a ZeroMQ message with CURVE from the
 * master's ROUTER to the worker's DEALER, a spawn on the worker, the answer
 * back the same way, and a durable commit before the reply. This module
 * times that path built from the same libraries with nothing of drover's
 * in it: a program that only forwards, spawns and answers. What drover
 * adds on top of it is drover's to cut; the floor itself is not.
 */
#ifndef DROVER_BENCH_PATHFLOOR_H
#define DROVER_BENCH_PATHFLOOR_H

#include <stddef.h>

#include "benchlib.h"

struct pathfloor_result {
	struct benchlib_stats http;  /* POST and its 201, nothing behind it */
	struct benchlib_stats zmq;   /* ROUTER -> DEALER -> ROUTER, 2 processes */
	struct benchlib_stats whole; /* HTTP -> ZeroMQ -> spawn -> back, synced */
	/* The same, spawned by a supervisor process over a socket. */
	struct benchlib_stats supervised;
	/* Per launch of those two: this process tree's wait for a CPU. */
	double whole_waited_ms, supervised_waited_ms;
};

/*
 * Time n round trips of each (after a warm-up), spawning program (an
 * absolute path, run without arguments), the durable commit's fdatasync
 * made in dir while the spawning process works, as the master commits
 * while its worker starts the app. Returns 0, or -1 with a reason in err.
 */
int pathfloor_measure(const char *dir, const char *program, int n,
    struct pathfloor_result *r, char *err, size_t errlen);

#endif
