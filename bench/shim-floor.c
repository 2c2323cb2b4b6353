/*
 * shim-floor: the most launches per second a supervisor per app leaves,
 * for bench/launch (b). Each of PROCS single-threaded processes loops for
 * SECONDS: fork a child (the shim), which posix_spawns /bin/true, reaps it
 * and exits; then reap the child. That is the least of what a launch
 * through drover's shim costs (issue 5's design: a shim per app, the app's
 * real parent), with nothing else: no worker, no master, no messages.
 * Linked statically, outside sanitizer builds, like drover-shim, whose
 * zygote is the small process forking here.
 *
 * Prints the number of launches. Exit status 0, 1 when a fork or spawn
 * failed, 2 on a usage error.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long
shim_floor_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void
shim_floor_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* The shim: start the app, wait for it, exit (0 if it ran). */
static void
shim_floor_shim(void)
{
	char *const argv[] = { "/bin/true", NULL };
	pid_t pid;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		_exit(1);
	shim_floor_reap(pid);
	_exit(0);
}

/* One process's loop until end_us; the launches, or -1 on a failure. */
static long
shim_floor_loop(long long end_us)
{
	long n = 0;

	while (shim_floor_now_us() < end_us) {
		pid_t pid = fork();
		int status;

		if (pid == 0)
			shim_floor_shim();
		if (pid == -1)
			return -1;
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -1;
		n++;
	}
	return n;
}

int
main(int argc, char **argv)
{
	int seconds, procs, fds[2];
	long long end_us;
	long total = 0, n;
	pid_t kids[64];

	if (argc != 3 || (seconds = atoi(argv[1])) < 1 ||
	    (procs = atoi(argv[2])) < 1 || procs > 64) {
		fprintf(stderr, "usage: shim-floor SECONDS PROCS (1 to 64)\n");
		return 2;
	}
	if (pipe(fds) == -1) {
		perror("shim-floor: pipe");
		return 1;
	}
	end_us = shim_floor_now_us() + (long long)seconds * 1000000;
	/* PROCS loops side by side, each in its own process; counts by pipe. */
	for (int i = 0; i < procs; i++) {
		if ((kids[i] = fork()) == 0) {
			close(fds[0]);
			n = shim_floor_loop(end_us);
			if (write(fds[1], &n, sizeof n) != (ssize_t)sizeof n)
				_exit(1);
			_exit(0);
		}
		if (kids[i] == -1) {
			perror("shim-floor: fork");
			return 1;
		}
	}
	close(fds[1]);
	for (int i = 0; i < procs; i++) {
		if (read(fds[0], &n, sizeof n) != (ssize_t)sizeof n || n < 0) {
			fprintf(stderr, "shim-floor: a loop failed\n");
			return 1;
		}
		total += n;
	}
	for (int i = 0; i < procs; i++)
		shim_floor_reap(kids[i]);
	printf("%ld\n", total);
	return 0;
}
