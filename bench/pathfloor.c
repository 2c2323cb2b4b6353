/*
 * pathfloor: launch's path with nothing of drover's in it (see pathfloor.h).
 *
 * The forwarder is this process: libmicrohttpd on its own thread (the
 * master's loop is one thread too), whose handler sends each request over
 * a CURVE ROUTER socket, makes its durable write while the other side
 * works, waits for the answer and replies 201. The spawner is a forked
 * child with a CURVE DEALER socket, as a worker: it posix_spawns the
 * program (/bin/true, say) for each request, itself or through a
 * supervisor, a process of its own that spawns on request over a socket
 * (the parent that lets apps outlive their worker, as drover's), and
 * answers with the PID. Messages are about the size of drover's LAUNCH and
 * its answer.
 */
#include "pathfloor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <zmq.h>

#include "common/util.h"
#include "common/xmem.h"

#define PATHFLOOR_WARMUP 20
/* A spawner that has not answered by then is gone. */
#define PATHFLOOR_TIMEOUT_MS 5000
/* Bodies about the size of drover's: a launch request and an app object. */
#define PATHFLOOR_REQUEST_SIZE 300
#define PATHFLOOR_ANSWER_SIZE 600

extern char **environ;

struct pathfloor {
	void *ctx;
	void *router;
	char peer[256]; /* the spawner's routing id */
	size_t peerlen;
	pid_t spawner;
	int sync_fd;
	CURL *curl; /* the client's, reused: the connection stays open */
	const char *forward; /* to the spawner: "spawn", "super"; NULL: answer */
	bool failed; /* the handler could not: the request fails */
	char request[PATHFLOOR_REQUEST_SIZE]; /* the HTTP body */
	char answer[PATHFLOOR_ANSWER_SIZE];   /* the HTTP answer */
};

/*
 * The supervisor: for each message on its socket it spawns the program and
 * sends its PID back, reaping what ended; a small single-threaded process
 * that is the programs' parent, as drover-supervisor is.
 */
static void __attribute__((noreturn))
pathfloor_supervisor(int sock, const char *program)
{
	char *const argv[] = { (char *)program, NULL };
	char go;
	pid_t pid;

	while (read(sock, &go, 1) == 1) {
		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
			pid = -1;
		(void)!write(sock, &pid, sizeof pid);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	_exit(0);
}

/* Spawn through the supervisor; the program's PID, or -1. */
static pid_t
pathfloor_spawn_by_supervisor(int supervisor)
{
	pid_t pid;

	if (write(supervisor, "g", 1) != 1 ||
	    read(supervisor, &pid, sizeof pid) != (ssize_t)sizeof pid)
		return -1;
	return pid;
}

/*
 * The spawner's whole life: spawn the program per message, itself
 * ("spawn") or through the supervisor ("super"), and answer its PID.
 */
static void __attribute__((noreturn))
pathfloor_spawner(int port, const char *server_key, const char *program)
{
	char pub[41], sec[41], endpoint[64], msg[PATHFLOOR_REQUEST_SIZE + 1];
	char answer[PATHFLOOR_ANSWER_SIZE];
	char *const argv[] = { (char *)program, NULL };
	void *ctx, *sock;
	int linger = 0, n, super[2];
	pid_t pid;

	/* The supervisor first, while this process has no threads to copy. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, super) == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid == 0) {
		close(super[0]);
		pathfloor_supervisor(super[1], program);
	}
	close(super[1]);
	snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
	if ((ctx = zmq_ctx_new()) == NULL ||
	    (sock = zmq_socket(ctx, ZMQ_DEALER)) == NULL ||
	    zmq_curve_keypair(pub, sec) == -1 ||
	    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, 40) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40) == -1 ||
	    zmq_connect(sock, endpoint) == -1 ||
	    zmq_send(sock, "hello", 5, 0) == -1)
		_exit(1);
	memset(answer, ' ', sizeof answer);
	for (;;) {
		if ((n = zmq_recv(sock, msg, sizeof msg - 1, 0)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		msg[n < (int)sizeof msg - 1 ? n : (int)sizeof msg - 1] = '\0';
		if (strcmp(msg, "quit") == 0)
			break;
		if (strncmp(msg, "spawn", 5) == 0) {
			if (posix_spawn(&pid, argv[0], NULL, NULL, argv,
			    environ) != 0)
				pid = -1;
		} else if (strncmp(msg, "super", 5) == 0)
			pid = pathfloor_spawn_by_supervisor(super[0]);
		if (strncmp(msg, "echo", 4) != 0) {
			n = snprintf(answer, sizeof answer, "{\"pid\":%d,",
			    (int)pid);
			answer[n] = ' ';
		}
		if (zmq_send(sock, answer, sizeof answer, 0) == -1)
			_exit(1);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
	/* The supervisor sees its socket close and exits. */
	_exit(0);
}

/* One message to the spawner and its answer; the durable write between. */
static int
pathfloor_ask(struct pathfloor *pf, const char *what, bool sync)
{
	static char page[4096];
	char id[256], msg[PATHFLOOR_REQUEST_SIZE], answer[PATHFLOOR_ANSWER_SIZE];

	memset(msg, ' ', sizeof msg);
	memcpy(msg, what, strlen(what));
	if (zmq_send(pf->router, pf->peer, pf->peerlen, ZMQ_SNDMORE) == -1 ||
	    zmq_send(pf->router, msg, sizeof msg, 0) == -1)
		return -1;
	if (sync && (write(pf->sync_fd, page, sizeof page) !=
	    (ssize_t)sizeof page || fdatasync(pf->sync_fd) == -1))
		return -1;
	if (zmq_recv(pf->router, id, sizeof id, 0) == -1 ||
	    zmq_recv(pf->router, answer, sizeof answer, 0) == -1)
		return -1;
	return 0;
}

static enum MHD_Result
pathfloor_handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **state)
{
	static int seen;
	struct pathfloor *pf = cls;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	(void)url, (void)method, (void)version, (void)data;
	if (*state == NULL) {
		*state = &seen; /* the headers: the body comes next */
		return MHD_YES;
	}
	if (*size != 0) {
		*size = 0;
		return MHD_YES;
	}
	if (pf->forward != NULL && pathfloor_ask(pf, pf->forward, true) == -1) {
		pf->failed = true;
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(sizeof pf->answer, pf->answer,
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	rc = MHD_queue_response(c, MHD_HTTP_CREATED, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Whether a ^C came (benchlib): the measurement stops, saying so. */
static bool
pathfloor_interrupted(char *err, size_t errlen)
{
	if (!atomic_load(&benchlib_interrupted))
		return false;
	snprintf(err, errlen, "interrupted");
	return true;
}

static size_t
pathfloor_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr, (void)arg;
	return size * nmemb;
}

/* One POST to the forwarder, answered 201. 0, or -1 with why in err. */
static int
pathfloor_post(struct pathfloor *pf, char *err, size_t errlen)
{
	CURLcode cc = curl_easy_perform(pf->curl);
	long status;

	if (cc == CURLE_OK && curl_easy_getinfo(pf->curl,
	    CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 201)
		return 0;
	snprintf(err, errlen, "HTTP request failed: %s%s",
	    curl_easy_strerror(cc), pf->failed ?
	    " (the spawner did not answer)" : "");
	return -1;
}

/* One bare round trip to the spawner. 0, or -1 with why in err. */
static int
pathfloor_echo(struct pathfloor *pf, char *err, size_t errlen)
{
	if (pathfloor_ask(pf, "echo", false) == 0)
		return 0;
	snprintf(err, errlen, "ZeroMQ round trip: %s", zmq_strerror(errno));
	return -1;
}

/*
 * Time n exchanges by once (after the warm-up) into s; into waited_ms,
 * unless NULL, the time this process tree spent waiting for a CPU per
 * exchange.
 */
static int
pathfloor_time(struct pathfloor *pf, int (*once)(struct pathfloor *, char *,
    size_t), int n, struct benchlib_stats *s, double *waited_ms, char *err,
    size_t errlen)
{
	double *v = xcalloc((size_t)n, sizeof *v);
	struct benchlib_waits before = { 0 }, after = { 0 };
	size_t got = 0;
	int rc = -1;

	for (int i = 0; i < PATHFLOOR_WARMUP + n; i++) {
		int64_t t0;

		if (i == PATHFLOOR_WARMUP && waited_ms != NULL)
			benchlib_waits_read(&before);
		if (pathfloor_interrupted(err, errlen))
			goto out;
		t0 = util_now_us();
		if (once(pf, err, errlen) == -1)
			goto out;
		if (i >= PATHFLOOR_WARMUP)
			v[got++] = (double)(util_now_us() - t0) / 1000.0;
	}
	if (waited_ms != NULL) {
		benchlib_waits_read(&after);
		*waited_ms = got == 0 ? 0 :
		    (double)benchlib_waits_between(&before, &after) / 1e6 /
		    (double)got;
	}
	benchlib_stats_of(v, got, s);
	rc = 0;
out:
	benchlib_waits_free(&before);
	benchlib_waits_free(&after);
	free(v);
	return rc;
}

/* The ROUTER, bound on port, and the spawner's first message. */
static int
pathfloor_connect(struct pathfloor *pf, int port, const char *secret,
    char *err, size_t errlen)
{
	char endpoint[64], hello[16];
	int one = 1, linger = 0, timeout = PATHFLOOR_TIMEOUT_MS, n;

	snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
	if ((pf->ctx = zmq_ctx_new()) == NULL ||
	    (pf->router = zmq_socket(pf->ctx, ZMQ_ROUTER)) == NULL ||
	    zmq_setsockopt(pf->router, ZMQ_LINGER, &linger, sizeof linger) ==
	    -1 ||
	    zmq_setsockopt(pf->router, ZMQ_RCVTIMEO, &timeout, sizeof timeout)
	    == -1 ||
	    zmq_setsockopt(pf->router, ZMQ_SNDTIMEO, &timeout, sizeof timeout)
	    == -1 ||
	    zmq_setsockopt(pf->router, ZMQ_CURVE_SERVER, &one, sizeof one) ==
	    -1 ||
	    zmq_setsockopt(pf->router, ZMQ_CURVE_SECRETKEY, secret, 40) == -1 ||
	    zmq_bind(pf->router, endpoint) == -1) {
		snprintf(err, errlen, "ROUTER on %s: %s", endpoint,
		    zmq_strerror(errno));
		return -1;
	}
	if ((n = zmq_recv(pf->router, pf->peer, sizeof pf->peer, 0)) == -1 ||
	    zmq_recv(pf->router, hello, sizeof hello, 0) == -1) {
		snprintf(err, errlen, "the spawner never connected: %s",
		    zmq_strerror(errno));
		return -1;
	}
	pf->peerlen = (size_t)n;
	return 0;
}

static void
pathfloor_free(struct pathfloor *pf)
{
	int status;

	if (pf->router != NULL && pf->peerlen > 0) {
		zmq_send(pf->router, pf->peer, pf->peerlen, ZMQ_SNDMORE);
		zmq_send(pf->router, "quit", 4, 0);
	}
	if (pf->spawner > 0) {
		/* It quits on the message; a spawner that cannot is killed. */
		for (int i = 0; i < 100; i++) {
			if (waitpid(pf->spawner, &status, WNOHANG) != 0)
				break;
			benchlib_sleep_ms(10);
			if (i == 99) {
				kill(pf->spawner, SIGKILL);
				waitpid(pf->spawner, &status, 0);
			}
		}
	}
	if (pf->router != NULL)
		zmq_close(pf->router);
	if (pf->ctx != NULL)
		zmq_ctx_term(pf->ctx);
	if (pf->sync_fd != -1)
		close(pf->sync_fd);
}

int
pathfloor_measure(const char *dir, const char *program, int n,
    struct pathfloor_result *r, char *err, size_t errlen)
{
	struct pathfloor pf = { .sync_fd = -1 };
	struct MHD_Daemon *d = NULL;
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	char pub[41], sec[41], url[64], *path;
	int http_port, zmq_port, rc = -1;

	memset(pf.request, ' ', sizeof pf.request);
	memset(pf.answer, ' ', sizeof pf.answer);
	path = xasprintf("%s/pathfloor-sync", dir);
	pf.sync_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (pf.sync_fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (benchlib_free_ports(&http_port, &zmq_port) == -1 ||
	    zmq_curve_keypair(pub, sec) == -1) {
		snprintf(err, errlen, "no free ports or no CURVE keys");
		goto out;
	}
	/* Before this process has a ZeroMQ context's threads to copy. */
	if ((pf.spawner = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pf.spawner == 0)
		pathfloor_spawner(zmq_port, pub, program);
	if (pathfloor_connect(&pf, zmq_port, sec, err, errlen) == -1 ||
	    pathfloor_time(&pf, pathfloor_echo, n, &r->zmq, NULL, err,
	    errlen) == -1)
		goto out;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)http_port, NULL, NULL, pathfloor_handle, &pf,
	    MHD_OPTION_END);
	if (d == NULL) {
		snprintf(err, errlen, "libmicrohttpd on port %d failed",
		    http_port);
		goto out;
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/apps", http_port);
	if ((curl = pf.curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, pf.request);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)sizeof pf.request);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, pathfloor_discard);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)PATHFLOOR_TIMEOUT_MS);

	pf.forward = NULL;
	if (pathfloor_time(&pf, pathfloor_post, n, &r->http, NULL, err,
	    errlen) == -1)
		goto out;
	/* The handler's thread has the socket now; this one waits on curl. */
	pf.forward = "spawn";
	if (pathfloor_time(&pf, pathfloor_post, n, &r->whole,
	    &r->whole_waited_ms, err, errlen) == -1)
		goto out;
	pf.forward = "super";
	if (pathfloor_time(&pf, pathfloor_post, n, &r->supervised,
	    &r->supervised_waited_ms, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (d != NULL)
		MHD_stop_daemon(d);
	pathfloor_free(&pf);
	unlink(path);
	free(path);
	return rc;
}
