/*
 * Signal names both ways, for the CLI ("drover stop --signal TERM"), the
 * worker's reports ("killed by SIGSEGV") and anything read from a peer.
 */
#ifndef DROVER_SIGNAME_H
#define DROVER_SIGNAME_H

/*
 * Returns the number of the signal called name: "SIGINT", "INT", "sigint",
 * "int", a decimal number ("2", "SIG2"), or a real-time form ("RTMIN",
 * "RTMIN+3", "SIGRTMAX-1"). Returns -1 for NULL, anything unknown, or a
 * number outside 1..SIGRTMAX. Accepts any bytes without crashing.
 */
int signame_to_number(const char *name);

/*
 * Returns the name of sig ("SIGKILL", "SIGRTMIN+2"), or "SIG<n>" for a
 * number with no name (32 and 33, which glibc keeps, or one out of range).
 * The result is static and never NULL; for an out-of-range sig it is
 * overwritten by the next such call. Not thread-safe (the daemons are
 * single-threaded).
 */
const char *signame_from_number(int sig);

#endif
