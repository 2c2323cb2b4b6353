/*
 * copy: how fast `drover copy` moves a big artifact, beside what loopback
 * TCP can carry. The program starts its own master and four workers (c1..c4)
 * on 127.0.0.1, builds a small program with cc and writes a file of SIZE MiB
 * (default 512) of random bytes, then measures:
 *
 * (a) raw: one TCP connection over 127.0.0.1, one thread write()s SIZE MiB,
 *     another read()s and discards them; the time until the last byte read;
 * (b) `drover copy c1 PROG --with DATA`: wall time of the CLI, from exec to
 *     exit (it hashes both files, uploads them through the master, which
 *     relays them to the worker, which stores and installs them); target: at
 *     least 80 % of the raw rate;
 * (c) the artifact is deleted from c1, so no node holds its files, then
 *     `drover copy all PROG --with DATA` under a fresh name to c1..c4;
 *     target: at most 2.5 times the 1-worker time.
 *
 * It also times BLAKE2b-256 of the data file alone (what the client does
 * before it sends anything), to show where the time goes.
 *
 * The children's output goes to TMP/NAME.log, copied to
 * /tmp/bench-copy-NAME.log before TMP is removed.
 *
 * Exit status: 0 when the benchmark ran (missed targets are reported, not
 * failed), 1 when it could not be set up or drover failed, 2 on a usage
 * error, 130 when interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/util.h"
#include "common/xmem.h"

#include "benchlib.h"

#define COPYB_WORKERS 4
#define COPYB_BLOCK (1024 * 1024)
#define COPYB_CLI_TIMEOUT_MS (10 * 60 * 1000)
/* Targets the summary checks. */
#define COPYB_RAW_TARGET_PCT 80.0
#define COPYB_FANOUT_TARGET 2.5

static const char copyb_prog_code[] =
    "#include <stdio.h>\n"
    "int main(void) { puts(\"bench-copy\"); return 0; }\n";

struct copyb {
	const char *drover;
	int size_mib;
	struct benchlib_cluster cl; /* master, c1..c4 */
	char *prog, *data;
	char loadavg[64];
};

/* One `drover copy` run. */
struct copyb_run {
	double seconds;
	int nodes, sent, present;
	long long bytes_sent; /* summed over the nodes */
	char error[256];
};

static double
copyb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- processes ------------------------------------------------------------ */

/*
 * Run argv to completion (its output in TMP/log.log), within timeout_ms;
 * returns its exit status, or -1 (timeout, signal, interrupted). *seconds
 * gets the wall time from fork to exit.
 */
static int
copyb_run_cmd(struct copyb *b, const char *log, char *const argv[],
	      int timeout_ms, double *seconds)
{
	struct benchlib_child c = {0};
	double start;
	int rc = -1;

	snprintf(c.name, sizeof c.name, "%s", log);
	c.logpath = xasprintf("%s/%s.log", b->cl.tmpdir, log);
	start = copyb_now();
	if (benchlib_child_start(&c, argv, false) == -1)
		goto out;
	while (benchlib_child_alive(&c)) {
		if (atomic_load(&benchlib_interrupted) ||
		    copyb_now() - start > timeout_ms / 1000.0 ||
		    !benchlib_cluster_alive(&b->cl, -1)) {
			if (!atomic_load(&benchlib_interrupted))
				fprintf(stderr, "copy: %s %s; stopping it\n",
					argv[0], benchlib_cluster_alive(&b->cl, -1) ?
					"timed out" : "outlived the cluster");
			kill(-c.pid, SIGKILL);
			waitpid(c.pid, &c.status, 0);
			goto out;
		}
		benchlib_sleep_ms(2);
	}
	if (seconds != NULL)
		*seconds = copyb_now() - start;
	if (WIFEXITED(c.status))
		rc = WEXITSTATUS(c.status);
out:
	free(c.logpath);
	return rc;
}

/* The output a copyb_run_cmd() left in TMP/log.log (caller frees). */
static char *
copyb_read_log(struct copyb *b, const char *log)
{
	char *path = xasprintf("%s/%s.log", b->cl.tmpdir, log);
	char *text = util_read_file(path, 16 * 1024 * 1024, NULL);

	free(path);
	return text != NULL ? text : xstrdup("");
}

/* Run `drover --api A --token T ARGS...` (at most 12 args). */
static int
copyb_drover(struct copyb *b, const char *log, const char *const args[],
	     double *seconds)
{
	char *argv[20];
	int n = 0;

	argv[n++] = (char *)b->drover;
	argv[n++] = "--api";
	argv[n++] = b->cl.api_base;
	argv[n++] = "--token";
	argv[n++] = b->cl.admin;
	for (int i = 0; args[i] != NULL && n < 19; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	return copyb_run_cmd(b, log, argv, COPYB_CLI_TIMEOUT_MS, seconds);
}

/* ---- setup ---------------------------------------------------------------- */

/* SIZE MiB of random bytes: a xoshiro256** stream seeded by getrandom. */
static int
copyb_write_data(struct copyb *b)
{
	uint64_t s[4], *buf = xmalloc(COPYB_BLOCK);
	int fd, rc = -1;

	if (getrandom(s, sizeof s, 0) != (ssize_t)sizeof s) {
		fprintf(stderr, "copy: getrandom: %s\n", strerror(errno));
		free(buf);
		return -1;
	}
	if ((fd = open(b->data, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		fprintf(stderr, "copy: %s: %s\n", b->data, strerror(errno));
		free(buf);
		return -1;
	}
	for (int m = 0; m < b->size_mib; m++) {
		for (size_t i = 0; i < COPYB_BLOCK / sizeof *buf; i++) {
			uint64_t r = s[1] * 5, t = s[1] << 17;

			buf[i] = ((r << 7) | (r >> 57)) * 9;
			s[2] ^= s[0];
			s[3] ^= s[1];
			s[1] ^= s[2];
			s[0] ^= s[3];
			s[2] ^= t;
			s[3] = (s[3] << 45) | (s[3] >> 19);
		}
		if (write(fd, buf, COPYB_BLOCK) != COPYB_BLOCK) {
			fprintf(stderr, "copy: writing %s: %s\n", b->data,
				strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	free(buf);
	return rc;
}

static int
copyb_build_prog(struct copyb *b)
{
	char *src = xasprintf("%s/prog.c", b->cl.tmpdir);
	char *argv[] = {"cc", "-O2", "-o", b->prog, src, NULL};
	int rc;

	rc = util_write_file_atomic(src, copyb_prog_code,
				    strlen(copyb_prog_code), 0644);
	if (rc == 0 && (rc = copyb_run_cmd(b, "cc", argv, 120000, NULL)) != 0) {
		char *out = copyb_read_log(b, "cc");

		fprintf(stderr, "copy: cc failed:\n%s", out);
		free(out);
		rc = -1;
	}
	free(src);
	return rc;
}

static int
copyb_setup(struct copyb *b)
{
	static const char *const names[] = {"master", "c1", "c2", "c3", "c4"};
	struct benchlib_http *h = NULL;
	int rc = -1;

	if (benchlib_cluster_init(&b->cl, "bench-copy", b->drover, names,
				  1 + COPYB_WORKERS) == -1)
		return -1;
	b->prog = xasprintf("%s/bench-prog", b->cl.tmpdir);
	b->data = xasprintf("%s/bench-data.bin", b->cl.tmpdir);
	if (benchlib_cluster_start_master(&b->cl, NULL) == -1)
		goto out;
	for (int i = 1; i <= COPYB_WORKERS; i++)
		if (benchlib_cluster_start_worker(&b->cl, i, NULL) == -1)
			goto out;
	if ((h = benchlib_http_new(&b->cl)) != NULL)
		rc = benchlib_wait_ready(&b->cl, h, (1 << COPYB_WORKERS) - 1);
out:
	benchlib_http_free(h);
	return rc;
}

static void
copyb_cleanup(struct copyb *b)
{
	benchlib_cluster_free(&b->cl);
	free(b->prog);
	free(b->data);
}

/* ---- measurements --------------------------------------------------------- */

struct copyb_raw {
	int fd;
	long long bytes;
	int error;
};

static void *
copyb_raw_send(void *arg)
{
	struct copyb_raw *r = arg;
	char *buf = xmalloc(COPYB_BLOCK);
	long long left = r->bytes;

	memset(buf, 0x5a, COPYB_BLOCK);
	while (left > 0) {
		ssize_t n = write(r->fd, buf, left < COPYB_BLOCK ? (size_t)left :
				  COPYB_BLOCK);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->error = errno;
			break;
		}
		left -= n;
	}
	shutdown(r->fd, SHUT_WR);
	free(buf);
	return NULL;
}

/* Seconds to move bytes over one loopback TCP connection, or -1. */
static double
copyb_raw_tcp(long long bytes)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	int lfd, cfd = -1, afd = -1;
	struct copyb_raw r = {.bytes = bytes};
	pthread_t t;
	char *buf = NULL;
	long long got = 0;
	double start, secs = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (cfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(cfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (afd = accept(lfd, NULL, NULL)) == -1) {
		fprintf(stderr, "copy: loopback TCP: %s\n", strerror(errno));
		goto out;
	}
	buf = xmalloc(COPYB_BLOCK);
	r.fd = cfd;
	start = copyb_now();
	if (pthread_create(&t, NULL, copyb_raw_send, &r) != 0) {
		fprintf(stderr, "copy: pthread_create failed\n");
		goto out;
	}
	for (;;) {
		ssize_t n = read(afd, buf, COPYB_BLOCK);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	secs = copyb_now() - start;
	pthread_join(t, NULL);
	if (got != bytes || r.error != 0) {
		fprintf(stderr, "copy: loopback TCP moved %lld of %lld bytes "
			"(%s)\n", got, bytes, strerror(r.error));
		secs = -1;
	}
out:
	free(buf);
	if (afd != -1)
		close(afd);
	if (cfd != -1)
		close(cfd);
	if (lfd != -1)
		close(lfd);
	return secs;
}

/* Seconds to hash the data file with BLAKE2b-256, as the client does. */
static double
copyb_hash_time(struct copyb *b)
{
	unsigned char *buf = xmalloc(65536), out[32];
	crypto_generichash_state st;
	double start = copyb_now();
	FILE *fp = fopen(b->data, "rb");
	size_t n;

	if (fp == NULL) {
		free(buf);
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof out);
	while ((n = fread(buf, 1, 65536, fp)) > 0)
		crypto_generichash_update(&st, buf, n);
	crypto_generichash_final(&st, out, sizeof out);
	fclose(fp);
	free(buf);
	return copyb_now() - start;
}

/* `drover --json copy NODE PROG --with DATA --name NAME`, timed. */
static int
copyb_copy(struct copyb *b, const char *node, const char *name,
	   struct copyb_run *r)
{
	const char *const args[] = {"--json", "copy", node, b->prog, "--with",
				    b->data, "--name", name, NULL};
	char *log = xasprintf("copy-%s", name), *text;
	json_t *j, *n, *f;
	size_t i, k;
	int status;

	memset(r, 0, sizeof *r);
	status = copyb_drover(b, log, args, &r->seconds);
	text = copyb_read_log(b, log);
	free(log);
	if (status != 0) {
		snprintf(r->error, sizeof r->error, "drover copy %s exited %d: "
			 "%.200s", node, status, text);
		free(text);
		b->cl.drover_failed = true;
		return -1;
	}
	j = json_loads(text, 0, NULL);
	free(text);
	json_array_foreach(json_object_get(j, "nodes"), i, n) {
		r->nodes++;
		json_array_foreach(json_object_get(n, "files"), k, f) {
			const char *st = json_string_value(json_object_get(f,
			    "status"));

			if (st != NULL && strcmp(st, "sent") == 0) {
				r->sent++;
				r->bytes_sent += json_integer_value(
				    json_object_get(f, "size"));
			} else {
				r->present++;
			}
		}
	}
	json_decref(j);
	return 0;
}

static void
copyb_usage(FILE *f)
{
	fprintf(f, "usage: copy [--size MIB] [--drover PATH]\n"
		"  --size MIB     size of the random data file (default 512)\n"
		"  --drover PATH  the drover binary (default ./build/drover)\n");
}

static int
copyb_parse_args(int argc, char **argv, struct copyb *b)
{
	const struct benchlib_opt opts[] = {
	    {"size", &b->size_mib, 1, 65536},
	    {NULL, NULL, 0, 0},
	};

	b->size_mib = 512;
	b->drover = "./build/drover";
	return benchlib_parse_args(argc, argv, opts, &b->drover, copyb_usage);
}

int
main(int argc, char **argv)
{
	struct copyb b = {0};
	struct copyb_run one, all;
	const char *const del[] = {"delete", "c1", "bench-one", NULL};
	double raw, hash, mib, prog_mib, raw_rate, one_rate, pct, ratio;
	struct stat sb;
	int rc = 1;

	benchlib_init("copy");
	if (copyb_parse_args(argc, argv, &b) == -1)
		return 2;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	benchlib_loadavg(b.loadavg, sizeof b.loadavg);

	fprintf(stderr, "copy: starting a master and workers c1..c4\n");
	if (copyb_setup(&b) == -1)
		goto out;
	fprintf(stderr, "copy: building a program, writing %d MiB of random "
		"bytes\n", b.size_mib);
	if (copyb_build_prog(&b) == -1 || copyb_write_data(&b) == -1 ||
	    stat(b.prog, &sb) == -1)
		goto out;
	mib = b.size_mib;
	prog_mib = (double)sb.st_size / (1024.0 * 1024.0);

	fprintf(stderr, "copy: (a) raw loopback TCP\n");
	if ((raw = copyb_raw_tcp((long long)b.size_mib << 20)) <= 0)
		goto out;
	hash = copyb_hash_time(&b);
	if (atomic_load(&benchlib_interrupted))
		goto out;

	fprintf(stderr, "copy: (b) drover copy c1\n");
	if (copyb_copy(&b, "c1", "bench-one", &one) == -1) {
		fprintf(stderr, "copy: %s\n", one.error);
		goto out;
	}
	/* Gone from c1 (and from its store): nothing is present anywhere. */
	if (copyb_drover(&b, "delete", del, NULL) != 0) {
		char *text = copyb_read_log(&b, "delete");

		fprintf(stderr, "copy: drover delete c1 bench-one: %s", text);
		free(text);
		b.cl.drover_failed = true;
		goto out;
	}
	fprintf(stderr, "copy: (c) drover copy all (4 workers)\n");
	if (copyb_copy(&b, "all", "bench-all", &all) == -1) {
		fprintf(stderr, "copy: %s\n", all.error);
		goto out;
	}

	raw_rate = mib / raw;
	one_rate = (mib + prog_mib) / one.seconds;
	pct = 100.0 * one_rate / raw_rate;
	ratio = all.seconds / one.seconds;
	benchlib_print_banner("copy", b.drover, b.loadavg);
	printf("artifact: a %.1f KiB program --with %d MiB of random bytes\n",
	       prog_mib * 1024.0, b.size_mib);
	printf("(a) raw loopback TCP, one connection, write()/read() of %d "
	       "MiB: %8.1f MiB/s  (%.2f s)\n", b.size_mib, raw_rate, raw);
	printf("    BLAKE2b-256 of the data file alone (client side):  "
	       "%8.1f MiB/s  (%.2f s)\n", mib / hash, hash);
	printf("(b) drover copy c1:  %.2f s  %8.1f MiB/s  (%d files sent, %d "
	       "present)\n", one.seconds, one_rate, one.sent, one.present);
	printf("    drover/raw %.1f %%   target >= %.0f %%   %s\n", pct,
	       COPYB_RAW_TARGET_PCT,
	       benchlib_verdict(one.sent == 2 && pct >= COPYB_RAW_TARGET_PCT));
	printf("(c) drover copy all (%d nodes):  %.2f s  %8.1f MiB/s "
	       "delivered  (%d files sent, %d present)\n", all.nodes,
	       all.seconds, (double)all.bytes_sent / (1024.0 * 1024.0) /
	       all.seconds, all.sent, all.present);
	printf("    %.2f x the 1-worker time   target <= %.1f x   %s\n", ratio,
	       COPYB_FANOUT_TARGET,
	       benchlib_verdict(all.nodes == COPYB_WORKERS && all.present == 0 &&
			     ratio <= COPYB_FANOUT_TARGET));
	if (all.present > 0)
		printf("    (%d files were already present: not a fresh copy)\n",
		       all.present);
	fflush(stdout);
	rc = benchlib_cluster_alive(&b.cl, -1) ? 0 : 1;
out:
	if (atomic_load(&benchlib_interrupted))
		fprintf(stderr, "copy: interrupted\n");
	copyb_cleanup(&b);
	curl_global_cleanup();
	if (atomic_load(&benchlib_interrupted))
		return 130;
	return rc != 0 || b.cl.drover_failed ? 1 : 0;
}
