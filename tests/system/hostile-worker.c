/*
 * hostile-worker: a worker that joins with the real token and then answers
 * every request, and sends unasked, mutated copies of real workers'
 * messages: values of the wrong type, huge numbers and strings, keys
 * dropped and added, app ids a worker would never make, request ids of
 * other nodes' requests, stray binary frames, unknown message types. For
 * test_hostile_worker_cannot_harm_master.py: whatever an authenticated peer
 * sends, the master must neither crash nor list what no worker could run.
 *
 * usage: hostile-worker ENDPOINT TOKEN_FILE NAME SECONDS SEED
 * Prints "sent N received M" and exits 0; 1 if it could not start.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zmq.h>

#include "common/msg.h"
#include "common/proto.h"
#include "common/token.h"
#include "common/util.h"
#include "common/xmem.h"

/* Bodies as a real worker sends them (captured from one), by type. */
static const struct {
	int type;
	const char *json;
} templates[] = {
	{ MSG_HELLO, "{\"name\":\"w\",\"secret\":\"\",\"addresses\":[\"192.0.2.2\"],"
	    "\"cpus\":2,\"mem_total_kb\":24683748,\"hostname\":\"vm\","
	    "\"version\":\"0.1.0\",\"arch\":\"x86_64\",\"artifacts\":[],"
	    "\"apps\":[{\"id\":\"sl-1\",\"name\":\"sl\",\"path\":\"/bin/sleep\","
	    "\"pid\":32676,\"state\":\"sleeping\"}]}" },
	{ MSG_HEARTBEAT, "{\"cpu_pct\":3.0,\"mem_pct\":1.9,\"apps\":1,"
	    "\"app_states\":[{\"id\":\"sl-1\",\"name\":\"sl\",\"path\":"
	    "\"/bin/sleep\",\"artifact\":null,\"args\":[\"1000\"],\"pid\":32676,"
	    "\"started_at\":1796637665784,\"ended_at\":null,\"restarts\":0,"
	    "\"health\":null,\"state\":\"sleeping\",\"cause\":null,"
	    "\"exit_code\":null,\"signal\":null,\"cpu_user_ms\":0,"
	    "\"cpu_sys_ms\":0,\"max_rss_kb\":1888}],\"samples\":[{\"id\":"
	    "\"sl-1\",\"t\":1796637670000,\"cpu_user_pct\":1.5,\"cpu_sys_pct\":"
	    "0.5,\"rss_kb\":1888,\"max_rss_kb\":1888,\"procs\":1,\"threads\":1,"
	    "\"fds\":3,\"read_bytes\":0,\"write_bytes\":10}]}" },
	{ MSG_LAUNCHED, "{\"id\":\"sl-1\",\"name\":\"sl\",\"path\":\"/bin/sleep\","
	    "\"artifact\":null,\"args\":[\"1000\"],\"pid\":32676,\"started_at\":"
	    "1796637665784,\"ended_at\":null,\"restarts\":0,\"health\":null,"
	    "\"state\":\"running\",\"cause\":null,\"exit_code\":null,"
	    "\"signal\":null,\"cpu_user_ms\":0,\"cpu_sys_ms\":0,"
	    "\"max_rss_kb\":1388}" },
	{ MSG_APP_STATE, "{\"id\":\"crash-1\",\"name\":\"crash\",\"path\":"
	    "\"/bin/sh\",\"pid\":32678,\"started_at\":1796637665821,"
	    "\"ended_at\":1796637665825,\"restarts\":0,\"state\":\"dead\","
	    "\"cause\":\"killed by SIGSEGV\",\"exit_code\":null,\"signal\":"
	    "\"SIGSEGV\",\"cpu_user_ms\":0,\"cpu_sys_ms\":3,\"max_rss_kb\":1432}" },
	{ MSG_SIGNALED, "{\"app\":\"sl-1\",\"ended_by\":\"SIGINT\",\"was_dead\":"
	    "false,\"app_state\":{\"id\":\"sl-1\",\"state\":\"dead\",\"cause\":"
	    "\"killed by SIGINT\",\"pid\":32676}}" },
	{ MSG_USAGE_REPLY, "{\"apps\":[{\"cpu_user_ms\":0,\"cpu_sys_ms\":0,"
	    "\"max_rss_kb\":3536,\"id\":\"sl-1\",\"pid\":32685,\"alive\":true}],"
	    "\"total\":{\"cpu_user_ms\":0,\"cpu_sys_ms\":3,\"max_rss_kb\":3536},"
	    "\"children\":{\"cpu_user_ms\":0,\"cpu_sys_ms\":3,"
	    "\"max_rss_kb\":3536}}" },
	{ MSG_LOG_DATA, "{\"stream\":\"s1\",\"eof\":false}" },
	{ MSG_LOG_DATA, "{\"stream\":\"s1\",\"eof\":true}" },
	{ MSG_ARTIFACT_HAVE_REPLY, "{\"present\":[],\"arch\":\"x86_64\","
	    "\"free_bytes\":81602088960}" },
	{ MSG_FILE_CREDIT, "{\"transfer\":\"t1\",\"credit\":8}" },
	{ MSG_FILE_DONE, "{\"transfer\":\"t1\",\"hash\":\"90773ad4222d980e7ee2766a"
	    "dce27536a202231db51221e3833d6eedba9427bc\"}" },
	{ MSG_ARTIFACT_INSTALLED, "{\"name\":\"true\",\"files\":[{\"name\":\"true\","
	    "\"hash\":\"90773ad4222d980e7ee2766adce27536a202231db51221e3833d6eed"
	    "ba9427bc\",\"size\":35664,\"kind\":\"exe\",\"mode\":493}],\"size\":"
	    "35664,\"hash\":\"90773ad4222d980e7ee2766adce27536a202231db51221e3833"
	    "d6eedba9427bc\"}" },
	{ MSG_ARTIFACT_DELETED, "{\"name\":\"true\"}" },
	{ MSG_APPS, "{\"apps\":[]}" },
	{ MSG_ERROR, "{\"error\":\"no such app\"}" },
	{ MSG_BYE, "{\"apps_keep_running\":true}" },
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

static const char *const keys[] = { "id", "name", "state", "pid", "cause",
	"exit_code", "signal", "app", "app_state", "apps", "app_states",
	"samples", "stream", "eof", "transfer", "credit", "hash", "files",
	"present", "error", "ended_by", "was_dead", "started_at", "ended_at",
	"restarts", "cpu_user_ms", "cpu_sys_ms", "max_rss_kb", "alive", "t",
	"size", "kind", "mode", "artifacts", "arch", "free_bytes", "cpu_pct",
	"mem_pct", "health", "path", "args", "addresses", "cpus",
	"mem_total_kb", "moved_from", "orphan", "node", "total", "children" };
/* Strings a worker might or could never send; ids among them. */
static const char *const strs[] = { "sl-1", "crash-1", "ghost-1", "w1",
	"s1", "s2", "t1", "dead", "running", "sleeping", "zombie", "starting",
	"orphan", "SIGKILL", "SIGFOO", "", "../../etc/passwd", "a/b",
	"exited 0", "killed by SIGSEGV", "true", "\xc3\xa9t\xc3\xa9", "a\nb" };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned long long hostile_seed;

/* xorshift: the same run for the same seed, whatever libc's rand does. */
static unsigned
hostile_rand(void)
{
	hostile_seed ^= hostile_seed << 13;
	hostile_seed ^= hostile_seed >> 7;
	hostile_seed ^= hostile_seed << 17;
	return (unsigned)(hostile_seed >> 11);
}

static json_t *
hostile_value(int depth)
{
	static const long long ints[] = { 0, 1, -1, 2147483647LL,
		-2147483648LL, 4294967296LL, 9007199254740993LL,
		0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1, 32676 };
	static const double reals[] = { 0.5, -1e308, 1e308, 3.0, -0.0 };
	json_t *v;
	char *s;

	switch (hostile_rand() % (depth > 2 ? 6 : 8)) {
	case 0:
		return json_null();
	case 1:
		return hostile_rand() % 2 ? json_true() : json_false();
	case 2:
		return json_integer(ints[hostile_rand() % N(ints)]);
	case 3:
		return json_real(reals[hostile_rand() % N(reals)]);
	case 4:
		return json_string(strs[hostile_rand() % N(strs)]);
	case 5:
		/* Long enough for any fixed buffer on the way. */
		s = xmalloc(70000);
		memset(s, 'x', 69999);
		s[69999] = '\0';
		v = json_string(s + (hostile_rand() % 2 ? 0 : 69000));
		free(s);
		return v;
	case 6:
		v = json_array();
		for (unsigned i = hostile_rand() % 4; i > 0; i--)
			json_array_append_new(v, hostile_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (unsigned i = hostile_rand() % 4; i > 0; i--)
			json_object_set_new(v, keys[hostile_rand() % N(keys)],
			    hostile_value(depth + 1));
		return v;
	}
}

static void
hostile_mutate(json_t *j, int depth)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v) {
			unsigned r = hostile_rand() % 12;

			if (r == 0)
				json_object_del(j, k);
			else if (r == 1)
				json_object_set_new(j, k, hostile_value(depth));
			else if (r < 4)
				hostile_mutate(v, depth + 1);
		}
		if (hostile_rand() % 5 == 0)
			json_object_set_new(j, keys[hostile_rand() % N(keys)],
			    hostile_value(depth));
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (hostile_rand() % 4 == 0)
				hostile_mutate(v, depth + 1);
		if (hostile_rand() % 5 == 0)
			json_array_append_new(j, hostile_value(depth));
		if (hostile_rand() % 8 == 0 && json_array_size(j) > 0)
			json_array_remove(j, 0);
	}
}

/* A template of type (any, if none), mutated unless plain. */
static json_t *
hostile_body(int type, bool plain, int *actual)
{
	size_t pick[NTEMPLATES], n = 0;
	size_t t;
	json_t *body;

	for (t = 0; t < NTEMPLATES; t++)
		if (templates[t].type == type)
			pick[n++] = t;
	t = n > 0 ? pick[hostile_rand() % n] : hostile_rand() % NTEMPLATES;
	body = json_loads(templates[t].json, 0, NULL);
	if (body == NULL)
		abort(); /* a template is not JSON: this file's mistake */
	if (!plain)
		hostile_mutate(body, 0);
	*actual = templates[t].type;
	return body;
}

static long hostile_sent;

static void
hostile_send(void *sock, int type, uint32_t id, bool plain)
{
	int actual;
	json_t *body = hostile_body(type, plain, &actual);
	struct msg *m;

	/* Now and then a type no worker sends, or none at all. */
	if (!plain && hostile_rand() % 50 == 0)
		actual = (int)(hostile_rand() % 700);
	m = msg_new(actual, id, body);
	if (!plain && (actual == MSG_LOG_DATA || hostile_rand() % 6 == 0)) {
		size_t len = hostile_rand() % 3 == 0 ?
		    hostile_rand() % 70000 : hostile_rand() % 64;

		m->data = xmalloc(len + 1);
		m->len = len;
		for (size_t k = 0; k < len; k++)
			((unsigned char *)m->data)[k] = (unsigned char)hostile_rand();
	}
	if (msg_send(sock, m, false) == 0)
		hostile_sent++;
	msg_free(m);
}

static void
hostile_hello(void *sock, const char *name, const char *secret)
{
	int type;
	json_t *h = hostile_body(MSG_HELLO, hostile_rand() % 3 != 0, &type);
	struct msg *m;

	json_object_set_new(h, "name", json_string(name));
	json_object_set_new(h, "secret", json_string(secret));
	if (!json_is_array(json_object_get(h, "apps")))
		json_object_set_new(h, "apps", json_array());
	m = msg_new(MSG_HELLO, 1, h);
	if (msg_send(sock, m, false) == 0)
		hostile_sent++;
	msg_free(m);
}

/* The reply a worker would give to a request of type, or 0. */
static int
hostile_reply_type(int type)
{
	switch (type) {
	case MSG_LAUNCH: return MSG_LAUNCHED;
	case MSG_SIGNAL: return MSG_SIGNALED;
	case MSG_USAGE: return MSG_USAGE_REPLY;
	case MSG_LOGS: return MSG_LOG_DATA;
	case MSG_ARTIFACT_HAVE: return MSG_ARTIFACT_HAVE_REPLY;
	case MSG_FILE_BEGIN: return MSG_FILE_CREDIT;
	case MSG_FILE_END: return MSG_FILE_DONE;
	case MSG_ARTIFACT_INSTALL: return MSG_ARTIFACT_INSTALLED;
	case MSG_ARTIFACT_DELETE: return MSG_ARTIFACT_DELETED;
	case MSG_PS: return MSG_APPS;
	default: return 0;
	}
}

int
main(int argc, char **argv)
{
	static const int unasked[] = { MSG_HEARTBEAT, MSG_HEARTBEAT,
		MSG_APP_STATE, MSG_ERROR, MSG_LOG_DATA, MSG_LAUNCHED,
		MSG_SIGNALED, MSG_FILE_CREDIT, MSG_FILE_DONE, MSG_APPS,
		MSG_USAGE_REPLY, MSG_ARTIFACT_INSTALLED, MSG_BYE };
	char key[41], pub[41], sec[41], *token, *secret = NULL, *cause = NULL;
	void *ctx, *sock;
	int linger = 0;
	long received = 0;
	int64_t end, next_hello = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: hostile-worker ENDPOINT TOKEN_FILE NAME "
		    "SECONDS SEED\n");
		return 1;
	}
	if ((token = util_read_file(argv[2], 4096, NULL)) == NULL) {
		fprintf(stderr, "hostile-worker: %s: %s\n", argv[2],
		    strerror(errno));
		return 1;
	}
	util_chomp(token);
	if (token_parse(token, key, &secret, &cause) == -1) {
		fprintf(stderr, "hostile-worker: %s\n", cause);
		return 1;
	}
	hostile_seed = strtoull(argv[5], NULL, 10) * 2654435761ULL + 1;
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	if (zmq_curve_keypair(pub, sec) == -1 ||
	    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, key, 40) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40) == -1 ||
	    zmq_connect(sock, argv[1]) == -1) {
		fprintf(stderr, "hostile-worker: %s\n", zmq_strerror(errno));
		return 1;
	}
	end = util_now_ms() + strtol(argv[4], NULL, 10) * 1000;
	while (util_now_ms() < end) {
		zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };

		/* Registered again and again: hellos are mutated too. */
		if (util_now_ms() >= next_hello) {
			hostile_hello(sock, argv[3], secret);
			next_hello = util_now_ms() + 3000;
		}
		zmq_poll(&item, 1, 20);
		while (item.revents & ZMQ_POLLIN) {
			struct msg *in = NULL;
			int reply;

			if (msg_recv(sock, false, &in, &cause) == -1) {
				free(cause);
				cause = NULL;
				break;
			}
			received++;
			if ((reply = hostile_reply_type(in->type)) != 0)
				for (int k = hostile_rand() % 4 == 0 ? 2 : 1;
				    k > 0; k--)
					hostile_send(sock, hostile_rand() % 10 ==
					    0 ? MSG_ERROR : reply, hostile_rand() %
					    8 == 0 ? hostile_rand() : in->id,
					    hostile_rand() % 3 == 0);
			msg_free(in);
			zmq_poll(&item, 1, 0);
		}
		hostile_send(sock, unasked[hostile_rand() % N(unasked)],
		    hostile_rand() % 3 == 0 ? 0 : hostile_rand() % 200,
		    hostile_rand() % 4 == 0);
	}
	printf("sent %ld received %ld\n", hostile_sent, received);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	free(token);
	free(secret);
	return 0;
}
