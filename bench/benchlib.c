/*
 * benchlib: children, temporary directories, ports, the REST API, /proc
 * readings and statistics for the benchmark programs (see benchlib.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "common/xmem.h"

#include "benchlib.h"
#include "worker/procfs.h"

#define BENCHLIB_STOP_TIMEOUT_MS 10000
#define BENCHLIB_TOKENS_TIMEOUT_MS 20000
#define BENCHLIB_READY_TIMEOUT_MS 30000
/* A reply bigger than this from the API is refused (10,000 nodes fit). */
#define BENCHLIB_HTTP_MAX (64 * 1024 * 1024)
/* Lines of a child's log shown when drover failed. */
#define BENCHLIB_TAIL_LINES 15

atomic_int benchlib_interrupted;
static const char *benchlib_name = "bench";

static void
benchlib_on_signal(int sig)
{
	(void)sig;
	atomic_store(&benchlib_interrupted, 1);
}

void
benchlib_init(const char *prog)
{
	struct sigaction sa = {.sa_handler = benchlib_on_signal};

	benchlib_name = prog;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a ^C should cut a wait short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

const char *
benchlib_prog(void)
{
	return benchlib_name;
}

void
benchlib_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

void
benchlib_sleep_until_us(int64_t at_us)
{
	struct timespec ts = {at_us / 1000000, (long)(at_us % 1000000) * 1000};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int
benchlib_free_ports(int *a, int *b)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	int fds[2] = {-1, -1}, rc = -1;
	int *out[2] = {a, b};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 2; i++) {
		sin.sin_port = 0;
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof sin) == -1 ||
		    getsockname(fds[i], (struct sockaddr *)&sin, &len) == -1)
			goto out;
		*out[i] = ntohs(sin.sin_port);
	}
	rc = 0;
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return rc;
}

void
benchlib_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with status 0x%x", status);
}

void
benchlib_loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a[3];

	snprintf(buf, len, "?");
	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &a[0], &a[1], &a[2]) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a[0], a[1], a[2]);
	fclose(f);
}

void
benchlib_print_banner(const char *what, const char *drover, const char *loadavg)
{
	printf("\n== %s: drover %s, %ld CPUs, load average at start %s ==\n",
	       what, drover, sysconf(_SC_NPROCESSORS_ONLN), loadavg);
}

const char *
benchlib_verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static int
benchlib_rm_entry(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
benchlib_rm_tree(const char *path)
{
	nftw(path, benchlib_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
benchlib_parse_int(const char *opt, const char *arg, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
			"%s: %s wants a number from %d to %d, not '%s'\n",
			benchlib_name, opt, min, max, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int
benchlib_parse_args(int argc, char **argv, const struct benchlib_opt *opts,
		    const char **drover, void (*usage)(FILE *))
{
	struct option longopts[18];
	char name[64];
	int n = 0, ch;

	for (; opts[n].name != NULL && n < 16; n++)
		longopts[n] = (struct option){opts[n].name, required_argument,
					      NULL, n};
	longopts[n] = (struct option){"drover", required_argument, NULL, 'd'};
	longopts[n + 1] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n + 2] = (struct option){NULL, 0, NULL, 0};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch >= 0 && ch < n) {
			snprintf(name, sizeof name, "--%s", opts[ch].name);
			if (benchlib_parse_int(name, optarg, opts[ch].min,
					       opts[ch].max,
					       opts[ch].out) == -1)
				return -1;
		} else if (ch == 'd')
			*drover = optarg;
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int
benchlib_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, "%s: pthread_create: %s\n", benchlib_name,
			strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- statistics ---------------------------------------------------------- */

int
benchlib_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
benchlib_stats_of(double *v, size_t n, struct benchlib_stats *s)
{
	double sum = 0;

	memset(s, 0, sizeof *s);
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, benchlib_cmp_double);
#define BENCHLIB_RANK(p) v[(size_t)((p) * (double)n + 0.999999) - 1]
	s->p50 = BENCHLIB_RANK(0.50);
	s->p90 = BENCHLIB_RANK(0.90);
	s->p99 = BENCHLIB_RANK(0.99);
#undef BENCHLIB_RANK
	s->max = v[n - 1];
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / (double)n;
	s->n = n;
}

/* ---- /proc/PID ------------------------------------------------------------
 */

/* pid's /proc/PID/stat, parsed; -1 when it is gone. */
static int
benchlib_read_stat(pid_t pid, struct procfs_stat *st)
{
	char path[64], *text;
	size_t len;
	int rc;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((text = util_read_file(path, 4096, &len)) == NULL)
		return -1;
	rc = procfs_parse_stat(text, len, st);
	free(text);
	return rc;
}

int
benchlib_sample(pid_t pid, struct benchlib_sample *s)
{
	struct procfs_stat st;
	char path[64], *text, *p;

	s->t_us = util_now_us();
	if (benchlib_read_stat(pid, &st) == -1)
		return -1;
	s->ticks = st.utime + st.stime;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((text = util_read_file(path, 65536, NULL)) == NULL)
		return -1;
	s->rss_kb = s->hwm_kb = -1;
	if ((p = strstr(text, "\nVmRSS:")) != NULL)
		s->rss_kb = strtol(p + 7, NULL, 10);
	if ((p = strstr(text, "\nVmHWM:")) != NULL)
		s->hwm_kb = strtol(p + 7, NULL, 10);
	free(text);
	return 0;
}

double
benchlib_cpu_pct(const struct benchlib_sample *a,
		 const struct benchlib_sample *b)
{
	if (b->t_us <= a->t_us)
		return 0;
	return (double)(b->ticks - a->ticks) / (double)sysconf(_SC_CLK_TCK) *
	       100.0 * 1e6 / (double)(b->t_us - a->t_us);
}

/* ---- waiting for a CPU ----------------------------------------------------
 */

/* The parent of a process; 0 where unreadable. */
static pid_t
benchlib_parent_of(pid_t pid)
{
	struct procfs_stat st;

	return benchlib_read_stat(pid, &st) == 0 ? (pid_t)st.ppid : 0;
}

/* Append each thread of pid with its run-queue delay to w. */
static void
benchlib_waits_add(struct benchlib_waits *w, size_t *cap, pid_t pid)
{
	char path[96], *text;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		unsigned long long on_cpu, waited;
		int tid = atoi(e->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat",
			 (int)pid, tid);
		if ((text = util_read_file(path, 256, NULL)) == NULL)
			continue;
		if (sscanf(text, "%llu %llu", &on_cpu, &waited) == 2) {
			if (w->n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				w->threads = xreallocarray(w->threads, *cap,
							   sizeof *w->threads);
			}
			w->threads[w->n].tid = (pid_t)tid;
			w->threads[w->n++].ns = waited;
		}
		free(text);
	}
	closedir(d);
}

static int
benchlib_wait_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct benchlib_wait *)a)->tid;
	pid_t y = ((const struct benchlib_wait *)b)->tid;

	return (x > y) - (x < y);
}

void
benchlib_waits_read(struct benchlib_waits *w)
{
	pid_t *tree = NULL, *procs = NULL, *parents = NULL;
	size_t ntree = 0, nprocs = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	w->n = 0;
	w->threads = NULL;
	/* Every process and its parent, then the tree under this one. */
	if ((d = opendir("/proc")) != NULL) {
		size_t pcap = 0;

		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			if (nprocs == pcap) {
				pcap = pcap ? pcap * 2 : 256;
				procs = xreallocarray(procs, pcap,
						      sizeof *procs);
				parents = xreallocarray(parents, pcap,
							sizeof *parents);
			}
			procs[nprocs] = (pid_t)atoi(e->d_name);
			parents[nprocs] = benchlib_parent_of(procs[nprocs]);
			nprocs++;
		}
		closedir(d);
	}
	tree = xcalloc(nprocs + 1, sizeof *tree);
	tree[ntree++] = getpid();
	for (size_t i = 0; i < ntree; i++)
		for (size_t k = 0; k < nprocs; k++)
			if (parents[k] == tree[i])
				tree[ntree++] = procs[k];
	for (size_t i = 0; i < ntree; i++)
		benchlib_waits_add(w, &cap, tree[i]);
	qsort(w->threads, w->n, sizeof *w->threads, benchlib_wait_cmp);
	free(tree);
	free(procs);
	free(parents);
}

unsigned long long
benchlib_waits_between(const struct benchlib_waits *a,
		       const struct benchlib_waits *b)
{
	unsigned long long sum = 0;
	size_t i = 0, k = 0;

	/*
	 * Threads that started or ended in between are left out: a program
	 * spawned and gone has no first reading to subtract.
	 */
	while (i < a->n && k < b->n) {
		if (a->threads[i].tid < b->threads[k].tid) {
			i++;
		} else if (a->threads[i].tid > b->threads[k].tid) {
			k++;
		} else {
			if (b->threads[k].ns > a->threads[i].ns)
				sum += b->threads[k].ns - a->threads[i].ns;
			i++;
			k++;
		}
	}
	return sum;
}

void
benchlib_waits_free(struct benchlib_waits *w)
{
	free(w->threads);
	w->threads = NULL;
	w->n = 0;
}

/* ---- children --------------------------------------------------------------
 */

bool
benchlib_child_alive(struct benchlib_child *c)
{
	if (c->pid <= 0 || c->exited)
		return false;
	if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->exited = true;
		return false;
	}
	return true;
}

int
benchlib_child_start(struct benchlib_child *c, char *const argv[], bool append)
{
	int logfd, nullfd;

	if ((logfd = open(c->logpath,
			  O_WRONLY | O_CREAT | O_CLOEXEC |
			      (append ? O_APPEND : O_TRUNC),
			  0644)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", benchlib_name, c->logpath,
			strerror(errno));
		return -1;
	}
	c->exited = false;
	switch (c->pid = fork()) {
	case -1:
		fprintf(stderr, "%s: fork: %s\n", benchlib_name,
			strerror(errno));
		close(logfd);
		return -1;
	case 0:
		/*
		 * Its own process group, so a ^C reaches only us and we stop
		 * the cluster in order; and it dies with us should we be
		 * killed (the main thread forks and outlives every child).
		 * Caught signals are reset by exec; ignored ones are not.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGPIPE, SIG_DFL);
		if ((nullfd = open("/dev/null", O_RDONLY)) != -1)
			dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execvp(argv[0], argv);
		dprintf(2, "%s: cannot run %s: %s\n", benchlib_name, argv[0],
			strerror(errno));
		_exit(127);
	}
	close(logfd);
	return 0;
}

int
benchlib_child_stop(struct benchlib_child *c, bool group)
{
	int64_t start = util_now_ms();
	pid_t target = group ? -c->pid : c->pid;
	char status[128];

	if (!benchlib_child_alive(c))
		return 0;
	kill(target, SIGTERM);
	while (benchlib_child_alive(c)) {
		if (util_now_ms() - start > BENCHLIB_STOP_TIMEOUT_MS) {
			fprintf(stderr,
				"%s: %s did not exit within %d s of SIGTERM; "
				"killing it\n",
				benchlib_name, c->name,
				BENCHLIB_STOP_TIMEOUT_MS / 1000);
			kill(target, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			c->exited = true;
			return -1;
		}
		benchlib_sleep_ms(10);
	}
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
		benchlib_describe_status(c->status, status, sizeof status);
		fprintf(stderr, "%s: on SIGTERM %s %s\n", benchlib_name,
			c->name, status);
		return -1;
	}
	return 0;
}

/* ---- the cluster
 * -------------------------------------------------------------- */

int
benchlib_cluster_init(struct benchlib_cluster *cl, const char *name,
		      const char *drover, const char *const names[], int n)
{
	char *tmpl;

	cl->name = name;
	cl->drover = drover;
	if (access(drover, X_OK) == -1) {
		fprintf(stderr,
			"%s: %s: %s (build drover first, or pass --drover)\n",
			benchlib_name, drover, strerror(errno));
		return -1;
	}
	tmpl = xasprintf("/tmp/%s.XXXXXX", name);
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "%s: mkdtemp: %s\n", benchlib_name,
			strerror(errno));
		free(tmpl);
		return -1;
	}
	cl->tmpdir = tmpl;
	cl->state = xasprintf("%s/m", cl->tmpdir);
	cl->nkids = n < BENCHLIB_KIDS_MAX ? n : BENCHLIB_KIDS_MAX;
	for (int i = 0; i < cl->nkids; i++) {
		snprintf(cl->kids[i].name, sizeof cl->kids[i].name, "%s",
			 names[i]);
		cl->kids[i].logpath =
		    xasprintf("%s/%s.log", cl->tmpdir, names[i]);
	}
	if (benchlib_free_ports(&cl->port, &cl->api_port) == -1) {
		fprintf(stderr, "%s: no free port: %s\n", benchlib_name,
			strerror(errno));
		return -1;
	}
	cl->api_base = xasprintf("http://127.0.0.1:%d", cl->api_port);
	return 0;
}

/* Wait for the master to write its tokens and read them. */
static int
benchlib_cluster_read_tokens(struct benchlib_cluster *cl)
{
	char *jpath, *apath;
	int64_t deadline = util_now_ms() + BENCHLIB_TOKENS_TIMEOUT_MS;
	int rc = -1;

	jpath = xasprintf("%s/join.token", cl->state);
	apath = xasprintf("%s/admin.token", cl->state);
	while (access(jpath, R_OK) == -1 || access(apath, R_OK) == -1) {
		if (!benchlib_cluster_alive(cl, -1) ||
		    atomic_load(&benchlib_interrupted))
			goto out;
		if (util_now_ms() > deadline) {
			fprintf(stderr, "%s: no %s and %s after %d s\n",
				benchlib_name, jpath, apath,
				BENCHLIB_TOKENS_TIMEOUT_MS / 1000);
			cl->drover_failed = true;
			goto out;
		}
		benchlib_sleep_ms(20);
	}
	/* Written atomically by the master, so present means complete. */
	if ((cl->join = util_read_file(jpath, 4096, NULL)) == NULL ||
	    (cl->admin = util_read_file(apath, 4096, NULL)) == NULL) {
		fprintf(stderr, "%s: reading the tokens: %s\n", benchlib_name,
			strerror(errno));
		goto out;
	}
	util_chomp(cl->join);
	util_chomp(cl->admin);
	cl->auth = xasprintf("Authorization: Bearer %s", cl->admin);
	rc = 0;
out:
	free(jpath);
	free(apath);
	return rc;
}

int
benchlib_cluster_start_master(struct benchlib_cluster *cl,
			      const char *const extra[])
{
	char bind[64], api[64];
	char *argv[24] = {
	    (char *)cl->drover, "master", "--bind", bind, "--api", api,
	    "--state",		cl->state};
	int n = 8;

	snprintf(bind, sizeof bind, "127.0.0.1:%d", cl->port);
	snprintf(api, sizeof api, "127.0.0.1:%d", cl->api_port);
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	if (benchlib_child_start(&cl->kids[0], argv, false) == -1)
		return -1;
	return benchlib_cluster_read_tokens(cl);
}

int
benchlib_cluster_start_worker(struct benchlib_cluster *cl, int i,
			      const char *dir)
{
	struct benchlib_child *c = &cl->kids[i];
	char master[64], *owned = NULL;
	int rc;

	if (dir == NULL)
		dir = owned = xasprintf("%s/%s", cl->tmpdir, c->name);
	snprintf(master, sizeof master, "127.0.0.1:%d", cl->port);
	{
		const char *base[] = { cl->drover, "worker", "--join", master,
			"--token", cl->join, "--name", c->name, "--dir", dir };
		const char *argv[sizeof base / sizeof base[0] + 16] = { 0 };
		size_t n = 0;

		for (size_t k = 0; k < sizeof base / sizeof base[0]; k++)
			argv[n++] = base[k];
		for (const char *const *e = cl->worker_args[i];
		     e != NULL && *e != NULL && n + 1 < sizeof argv / sizeof argv[0];
		     e++)
			argv[n++] = *e;
		/* Appended: a worker restarted keeps its earlier output. */
		rc = benchlib_child_start(c, (char *const *)argv, true);
	}
	free(owned);
	return rc;
}

bool
benchlib_cluster_alive(struct benchlib_cluster *cl, int skip)
{
	char status[128];
	bool ok = true;

	for (int i = 0; i < cl->nkids; i++) {
		struct benchlib_child *c = &cl->kids[i];

		if (i == skip)
			continue;
		if (c->pid > 0 && !c->exited && !benchlib_child_alive(c)) {
			benchlib_describe_status(c->status, status,
						 sizeof status);
			fprintf(stderr, "%s: %s %s (see /tmp/%s-%s.log)\n",
				benchlib_name, c->name, status, cl->name,
				c->name);
			cl->drover_failed = true;
		}
		if (c->pid > 0 && c->exited)
			ok = false;
	}
	return ok;
}

/* Print the end of a child's log, to show why it failed. */
static void
benchlib_show_log_tail(struct benchlib_cluster *cl, struct benchlib_child *c,
		       const char *text, size_t len)
{
	const char *p = text + len;
	int lines = 0;

	if (len == 0) {
		fprintf(stderr, "--- %s's log is empty ---\n", c->name);
		return;
	}
	while (p > text && lines <= BENCHLIB_TAIL_LINES)
		if (*--p == '\n')
			lines++;
	fprintf(stderr, "--- last lines of %s's log (/tmp/%s-%s.log) ---\n%s%s",
		c->name, cl->name, c->name, p == text ? "" : "...", p);
	if (text[len - 1] != '\n')
		fputc('\n', stderr);
}

/* Keep copies of the children's logs as /tmp/NAME-CHILD.log. */
static void
benchlib_cluster_keep_logs(struct benchlib_cluster *cl)
{
	for (int i = 0; i < cl->nkids; i++) {
		struct benchlib_child *c = &cl->kids[i];
		char *copy, *text = NULL;
		size_t len;

		copy = xasprintf("/tmp/%s-%s.log", cl->name, c->name);
		if (c->pid > 0 && c->logpath != NULL)
			text =
			    util_read_file(c->logpath, 256 * 1024 * 1024, &len);
		if (text == NULL) {
			/* Not started: no stale copy from an earlier run. */
			unlink(copy);
			free(copy);
			continue;
		}
		if (util_write_file_atomic(copy, text, len, 0644) == -1)
			fprintf(stderr, "%s: %s: %s\n", benchlib_name, copy,
				strerror(errno));
		if (cl->drover_failed)
			benchlib_show_log_tail(cl, c, text, len);
		free(copy);
		free(text);
	}
}

void
benchlib_cluster_free(struct benchlib_cluster *cl)
{
	/* First, so a child that died unnoticed is reported as such. */
	benchlib_cluster_alive(cl, -1);
	/* Workers first (each stops its apps), then the master. */
	for (int i = cl->nkids - 1; i >= 0; i--)
		if (benchlib_child_stop(&cl->kids[i], false) == -1)
			cl->drover_failed = true;
	benchlib_cluster_keep_logs(cl);
	if (cl->tmpdir != NULL)
		benchlib_rm_tree(cl->tmpdir);
	for (int i = 0; i < cl->nkids; i++)
		free(cl->kids[i].logpath);
	free(cl->tmpdir);
	free(cl->state);
	free(cl->api_base);
	free(cl->join);
	free(cl->admin);
	free(cl->auth);
}

/* ---- the REST API
 * ------------------------------------------------------------ */

size_t
benchlib_buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct benchlib_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > BENCHLIB_HTTP_MAX)
		return 0;
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void
benchlib_http_free(struct benchlib_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	free(h->body.data);
	free(h);
}

struct benchlib_http *
benchlib_http_new(struct benchlib_cluster *cl)
{
	struct benchlib_http *h = xcalloc(1, sizeof *h);

	if ((h->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "%s: curl_easy_init failed\n", benchlib_name);
		free(h);
		return NULL;
	}
	h->base = cl->api_base;
	h->hdrs = curl_slist_append(NULL, cl->auth);
	h->hdrs = curl_slist_append(h->hdrs, "Content-Type: application/json");
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	/* The master gives a launch 15 s before it answers 504. */
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->err);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, benchlib_buf_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->body);
	return h;
}

long
benchlib_http_call(struct benchlib_http *h, const char *url, const char *body)
{
	long status = 0;
	CURLcode cc;

	h->body.len = 0;
	h->err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	} else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	if ((cc = curl_easy_perform(h->curl)) != CURLE_OK) {
		if (h->err[0] == '\0')
			snprintf(h->err, sizeof h->err, "%s",
				 curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

json_t *
benchlib_http_json(struct benchlib_http *h)
{
	return json_loadb(h->body.data != NULL ? h->body.data : "", h->body.len,
			  0, NULL);
}

void
benchlib_http_describe(struct benchlib_http *h, long status, char *buf,
		       size_t len)
{
	if (status == -1)
		snprintf(buf, len, "cannot reach the API: %.200s", h->err);
	else
		snprintf(buf, len, "HTTP %ld: %.200s", status,
			 h->body.len > 0 ? h->body.data : "(no body)");
	util_chomp(buf);
}

bool
benchlib_http_launched(struct benchlib_http *h, long status)
{
	json_t *j;
	bool ok;

	json_t *apps, *a;
	size_t i;

	if (status != 201 || (j = benchlib_http_json(h)) == NULL)
		return false;
	/* One app, or with count {"apps":[...]}: each with its pid. */
	if ((apps = json_object_get(j, "apps")) != NULL) {
		ok = json_array_size(apps) > 0;
		json_array_foreach(apps, i, a)
			ok = ok && json_integer_value(json_object_get(a,
				      "pid")) > 0;
	} else
		ok = json_integer_value(json_object_get(j, "pid")) > 0;
	json_decref(j);
	return ok;
}

json_t *
benchlib_http_get(struct benchlib_http *h, const char *path, char *err,
		  size_t errlen)
{
	char *url = xasprintf("%s%s", h->base, path);
	json_error_t jerr;
	long status;
	json_t *j;

	status = benchlib_http_call(h, url, NULL);
	free(url);
	if (status != 200) {
		if (err != NULL)
			benchlib_http_describe(h, status, err, errlen);
		return NULL;
	}
	if ((j = json_loadb(h->body.len > 0 ? h->body.data : "", h->body.len, 0,
			    &jerr)) == NULL &&
	    err != NULL)
		snprintf(err, errlen, "bad JSON: %s", jerr.text);
	return j;
}

int
benchlib_wait_ready(struct benchlib_cluster *cl, struct benchlib_http *h,
		    int mask)
{
	int64_t deadline = util_now_ms() + BENCHLIB_READY_TIMEOUT_MS;
	char last[512] = "";

	for (;;) {
		json_t *j =
		    benchlib_http_get(h, "/v1/nodes", last, sizeof last);
		int ready = 0;
		json_t *v;
		size_t i;

		if (j != NULL)
			snprintf(last, sizeof last, "%.400s", h->body.data);
		json_array_foreach(j, i, v)
		{
			const char *state =
			    json_string_value(json_object_get(v, "state"));
			const char *name =
			    json_string_value(json_object_get(v, "name"));

			for (int k = 0; k + 1 < cl->nkids; k++)
				if (name != NULL && state != NULL &&
				    strcmp(name, cl->kids[1 + k].name) == 0 &&
				    strcmp(state, "ready") == 0)
					ready |= 1 << k;
		}
		json_decref(j);
		if ((ready & mask) == mask)
			return 0;
		/* kids[1] may be down on purpose when it is not waited for. */
		if (!benchlib_cluster_alive(cl, (mask & 1) != 0 ? -1 : 1) ||
		    atomic_load(&benchlib_interrupted))
			return -1;
		if (util_now_ms() > deadline) {
			fprintf(stderr,
				"%s: workers not ready after %d s; GET "
				"/v1/nodes said: %s\n",
				benchlib_name, BENCHLIB_READY_TIMEOUT_MS / 1000,
				last);
			cl->drover_failed = true;
			return -1;
		}
		benchlib_sleep_ms(50);
	}
}

/* ---- launch throughput ----------------------------------------------------
 */

/* One client thread of benchlib_load(). */
struct benchlib_load_thread {
	struct benchlib_cluster *cl;
	int index;
	int count; /* launches per request; 0: one, no count field */
	int64_t start_us, end_us;
	struct benchlib_load r;
};

static void *
benchlib_load_run(void *arg)
{
	struct benchlib_load_thread *t = arg;
	struct benchlib_http *h = benchlib_http_new(t->cl);
	char *url = xasprintf("%s/v1/apps", t->cl->api_base), *body[2];

	int per = t->count > 0 ? t->count : 1;

	for (int k = 0; k < 2; k++)
		body[k] = t->count > 0 ?
		    xasprintf("{\"node\":\"%s\",\"path\":\"/bin/true\","
			      "\"count\":%d}", t->cl->kids[1 + k].name,
			      t->count) :
		    xasprintf("{\"node\":\"%s\",\"path\":\"/bin/true\"}",
			      t->cl->kids[1 + k].name);
	if (h == NULL) {
		snprintf(t->r.error, sizeof t->r.error, "no curl handle");
		goto out;
	}
	benchlib_sleep_until_us(t->start_us);
	for (long i = 0; !atomic_load(&benchlib_interrupted); i++) {
		int k = (int)((t->index + i) % 2);
		int64_t t0 = util_now_us(), t1;
		long status;

		if (t0 >= t->end_us)
			break;
		status = benchlib_http_call(h, url, body[k]);
		t1 = util_now_us();
		/* Only what completed inside the window counts. */
		if (t1 > t->end_us)
			break;
		if (benchlib_http_launched(h, status)) {
			t->r.ok += per;
			t->r.per_node[k] += per;
			t->r.requests++;
			t->r.sum_us += t1 - t0;
		} else {
			t->r.failed += per;
			if (t->r.error[0] == '\0')
				benchlib_http_describe(h, status, t->r.error,
						       sizeof t->r.error);
			if (status == -1)
				benchlib_sleep_ms(10);
		}
	}
out:
	for (int k = 0; k < 2; k++)
		free(body[k]);
	free(url);
	benchlib_http_free(h);
	return NULL;
}

int
benchlib_load(struct benchlib_cluster *cl, int threads, int seconds,
	      int count, struct benchlib_load *r)
{
	struct benchlib_load_thread *t = xcalloc((size_t)threads, sizeof *t);
	pthread_t *tid = xcalloc((size_t)threads, sizeof *tid);
	/* A common start a little ahead, so every thread begins together. */
	int64_t start = util_now_us() + 100000;
	int started = 0;

	memset(r, 0, sizeof *r);
	for (int i = 0; i < threads; i++) {
		t[i].cl = cl;
		t[i].index = i;
		t[i].count = count;
		t[i].start_us = start;
		t[i].end_us = start + (int64_t)seconds * 1000000;
		if (benchlib_thread_start(&tid[i], benchlib_load_run, &t[i]) ==
		    -1)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		r->ok += t[i].r.ok;
		r->failed += t[i].r.failed;
		for (int k = 0; k < 2; k++)
			r->per_node[k] += t[i].r.per_node[k];
		r->sum_us += t[i].r.sum_us;
		r->requests += t[i].r.requests;
		if (r->error[0] == '\0' && t[i].r.error[0] != '\0')
			snprintf(r->error, sizeof r->error, "%s", t[i].r.error);
	}
	free(tid);
	free(t);
	return started == threads && !atomic_load(&benchlib_interrupted) ? 0
									 : -1;
}
