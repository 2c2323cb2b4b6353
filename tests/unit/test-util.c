/* Shared helpers: addresses, atomic files, ages, directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "testdir.h"

static char *
test_util_path(void **state, const char *name)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", (char *)*state, name) > 0);
	return path;
}

/* Parse text, expecting host and port. */
static void
test_util_hostport_ok(const char *text, const char *host, int port)
{
	char *h = NULL, *cause = NULL;
	int p = -1;

	if (util_parse_hostport(text, &h, &p, &cause) != 0)
		fail_msg("'%s' refused: %s", text, cause);
	assert_null(cause);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
	free(h);
}

/* Parse text, expecting a refusal whose cause contains want. */
static void
test_util_hostport_bad(const char *text, const char *want)
{
	char *h = (char *)"untouched", *cause = NULL;
	int p = -1;

	if (util_parse_hostport(text, &h, &p, &cause) != -1)
		fail_msg("'%s' accepted as %s port %d", text, h, p);
	assert_null(h);
	assert_int_equal(p, -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': cause '%s' does not contain '%s'", text, cause,
		    want);
	free(cause);
}

static void
test_util_hostport_good(void **state)
{
	(void)state;
	test_util_hostport_ok("127.0.0.1:7070", "127.0.0.1", 7070);
	test_util_hostport_ok("0.0.0.0:1", "0.0.0.0", 1);
	test_util_hostport_ok("master.example.org:65535", "master.example.org",
	    65535);
	test_util_hostport_ok("localhost:80", "localhost", 80);
	test_util_hostport_ok("[::1]:7070", "::1", 7070);
	test_util_hostport_ok("[fe80::1%eth0]:443", "fe80::1%eth0", 443);
	test_util_hostport_ok("[2001:db8::5]:9", "2001:db8::5", 9);
}

static void
test_util_hostport_missing_port(void **state)
{
	(void)state;
	test_util_hostport_bad("127.0.0.1", "expected HOST:PORT");
	test_util_hostport_bad("localhost", "expected HOST:PORT");
	test_util_hostport_bad("127.0.0.1:", "bad port");
	test_util_hostport_bad("[::1]", "expected [V6]:PORT");
	test_util_hostport_bad("[::1]:", "bad port");
	test_util_hostport_bad("[::1]7070", "expected [V6]:PORT");
	test_util_hostport_bad("[::1:7070", "expected [V6]:PORT");
}

static void
test_util_hostport_bad_port(void **state)
{
	(void)state;
	test_util_hostport_bad("host:0", "bad port in 'host:0' (1 to 65535)");
	test_util_hostport_bad("host:65536", "bad port");
	test_util_hostport_bad("host:-1", "bad port");
	test_util_hostport_bad("host:http", "bad port");
	test_util_hostport_bad("host:80x", "bad port");
	test_util_hostport_bad("host:8 0", "bad port");
	test_util_hostport_bad("host:99999999999999999999", "bad port");
	test_util_hostport_bad("[::1]:0", "bad port");
	test_util_hostport_bad("[::1]:65536", "bad port");
	test_util_hostport_bad("[::1]:x", "bad port");
}

static void
test_util_hostport_empty(void **state)
{
	(void)state;
	test_util_hostport_bad("", "empty address");
	test_util_hostport_bad(NULL, "empty address");
	test_util_hostport_bad(":7070", "no host");
	test_util_hostport_bad("[]:7070", "no host");
	test_util_hostport_bad(":", "no host");
}

static void
test_util_file_round_trip(void **state)
{
	static const char data[] = "line one\n\0binary\xff\nend";
	char *path = test_util_path(state, "state.json"), *buf;
	struct stat st;
	size_t len = 0;

	assert_int_equal(util_write_file_atomic(path, data, sizeof data - 1,
	    0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	buf = util_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, sizeof data - 1);
	assert_memory_equal(buf, data, len);
	assert_int_equal(buf[len], '\0');
	free(buf);

	/* Overwriting replaces content and mode and leaves no temporary. */
	assert_int_equal(util_write_file_atomic(path, "new", 3, 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	buf = util_read_file(path, 1024, NULL);
	assert_string_equal(buf, "new");
	free(buf);

	/* An empty file reads as "". */
	assert_int_equal(util_write_file_atomic(path, "", 0, 0600), 0);
	buf = util_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	{
		DIR *d = opendir(*state);
		struct dirent *e;
		int n = 0;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0) {
				assert_string_equal(e->d_name, "state.json");
				n++;
			}
		closedir(d);
		assert_int_equal(n, 1);
	}
	free(path);
}

/* Written over in the same inode, cut to the new length, made if missing. */
static void
test_util_file_in_place(void **state)
{
	char *path = test_util_path(state, "exit"), *buf;
	struct stat first, st;
	size_t len = 0;

	assert_int_equal(util_write_file_in_place(path, "a longer record\n", 16,
	    0600), 0);
	assert_int_equal(stat(path, &first), 0);
	assert_int_equal(first.st_mode & 07777, 0600);
	assert_int_equal(util_write_file_in_place(path, "short\n", 6, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_ino, first.st_ino);
	buf = util_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "short\n");
	free(buf);
	/* Into a directory that is not there: -1, errno from open. */
	free(path);
	path = test_util_path(state, "no/such/exit");
	assert_int_equal(util_write_file_in_place(path, "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);
	free(path);
}

/* Emptied in the same inode; an empty file is left as it is; none: ENOENT. */
static void
test_util_empty_file(void **state)
{
	char *path = test_util_path(state, "exit"), *buf;
	struct stat first, st;
	size_t len = 1;

	assert_int_equal(util_write_file_in_place(path, "exited 3\n", 9, 0600),
	    0);
	assert_int_equal(stat(path, &first), 0);
	assert_int_equal(util_empty_file(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_ino, first.st_ino);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(util_empty_file(path), 0);
	buf = util_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	free(path);
	path = test_util_path(state, "missing");
	assert_int_equal(util_empty_file(path), -1);
	assert_int_equal(errno, ENOENT);
	free(path);
}

/* The mode is exactly what was asked, whatever the umask. */
static void
test_util_file_mode_ignores_umask(void **state)
{
	char *path = test_util_path(state, "key");
	struct stat st;
	mode_t old = umask(0077);

	assert_int_equal(util_write_file_atomic(path, "k", 1, 0644), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(path);
}

/* Larger than the first 4096-byte buffer: it grows. */
static void
test_util_file_large(void **state)
{
	char *path = test_util_path(state, "big"), *data, *buf;
	size_t n = 100000, len = 0;

	data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(util_write_file_atomic(path, data, n, 0600), 0);
	buf = util_read_file(path, n, &len);
	assert_non_null(buf);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	free(buf);
	errno = 0;
	assert_null(util_read_file(path, n - 1, &len));
	assert_int_equal(errno, EFBIG);
	free(data);
	free(path);
}

static void
test_util_read_file_over_max(void **state)
{
	char *path = test_util_path(state, "f"), *buf;
	size_t len = 12345;

	assert_int_equal(util_write_file_atomic(path, "0123456789", 10, 0600),
	    0);
	errno = 0;
	assert_null(util_read_file(path, 9, &len));
	assert_int_equal(errno, EFBIG);
	assert_int_equal(len, 12345);
	errno = 0;
	assert_null(util_read_file(path, 0, NULL));
	assert_int_equal(errno, EFBIG);
	/* Exactly max bytes is fine. */
	buf = util_read_file(path, 10, &len);
	assert_non_null(buf);
	assert_int_equal(len, 10);
	free(buf);
	free(path);
}

/*
 * A file of exactly max bytes must be read even when max + 1 is the size of
 * the read buffer (4096, 8192, ...).
 */
static void
test_util_read_file_exactly_buffer_size(void **state)
{
	char *path = test_util_path(state, "f"), *buf;
	char data[4095];
	size_t len = 0;

	memset(data, 'x', sizeof data);
	assert_int_equal(util_write_file_atomic(path, data, sizeof data, 0600),
	    0);
	buf = util_read_file(path, sizeof data, &len);
	free(path);
	assert_non_null(buf);
	assert_int_equal(len, sizeof data);
	free(buf);
}

static void
test_util_read_file_missing(void **state)
{
	char *path = test_util_path(state, "absent");

	errno = 0;
	assert_null(util_read_file(path, 100, NULL));
	assert_int_equal(errno, ENOENT);
	free(path);
}

/* Writing into a directory that does not exist fails with errno, no litter. */
static void
test_util_write_file_no_dir(void **state)
{
	char *path = test_util_path(state, "no/such/file");

	errno = 0;
	assert_int_equal(util_write_file_atomic(path, "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);
	free(path);
}

static void
test_util_format_age(void **state)
{
	static const struct {
		int64_t ms;
		const char *text;
	} samples[] = {
		{ -5000, "0.0s" },   { 0, "0.0s" },	   { 400, "0.4s" },
		{ 1250, "1.2s" },    { 9900, "9.9s" },	   { 10000, "10s" },
		{ 59999, "59s" },    { 119999, "119s" },   { 120000, "2m" },
		{ 3599999, "59m" },  { 7199999, "119m" },  { 7200000, "2h" },
		{ 86400000, "24h" }, { 172799999, "47h" }, { 172800000, "2d" },
		{ 864000000, "10d" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		util_format_age(samples[i].ms, buf, sizeof buf);
		if (strcmp(buf, samples[i].text) != 0)
			fail_msg("%lld ms: '%s', expected '%s'",
			    (long long)samples[i].ms, buf, samples[i].text);
	}
	/* A short buffer truncates, never overflows. */
	memset(buf, '#', sizeof buf);
	util_format_age(864000000, buf, 3);
	assert_string_equal(buf, "10");
	assert_int_equal(buf[3], '#');
}

static void
test_util_mkdir_p(void **state)
{
	char *path = test_util_path(state, "a/b/c/d"), *file;
	struct stat st;

	assert_int_equal(util_mkdir_p(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Again: everything exists already. */
	assert_int_equal(util_mkdir_p(path, 0700), 0);
	free(path);

	/* A trailing slash is harmless. */
	path = test_util_path(state, "x/y/");
	assert_int_equal(util_mkdir_p(path, 0755), 0);
	free(path);
	path = test_util_path(state, "x/y");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(path);

	/* A file in the way of a parent is an error. */
	file = test_util_path(state, "file");
	assert_int_equal(util_write_file_atomic(file, "x", 1, 0600), 0);
	path = test_util_path(state, "file/sub");
	errno = 0;
	assert_int_equal(util_mkdir_p(path, 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	free(path);
	free(file);

	errno = 0;
	assert_int_equal(util_mkdir_p("", 0700), -1);
}

/* Like mkdir -p, a regular file where the directory should be is an error. */
static void
test_util_mkdir_p_over_file(void **state)
{
	char *file = test_util_path(state, "file");
	int rc;

	assert_int_equal(util_write_file_atomic(file, "x", 1, 0600), 0);
	rc = util_mkdir_p(file, 0700);
	free(file);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EEXIST);
}

static void
test_util_chomp(void **state)
{
	char a[] = "text\r\n", b[] = "  \t\n", c[] = "keep", d[] = "";

	(void)state;
	util_chomp(a);
	util_chomp(b);
	util_chomp(c);
	util_chomp(d);
	assert_string_equal(a, "text");
	assert_string_equal(b, "");
	assert_string_equal(c, "keep");
	assert_string_equal(d, "");
}

static void
test_util_random_hex(void **state)
{
	char a[33], b[33];

	(void)state;
	util_random_hex(a, 16);
	util_random_hex(b, 16);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
}

static void
test_util_clocks(void **state)
{
	int64_t a = util_now_ms(), b = util_now_ms();

	(void)state;
	assert_true(b >= a);
	/* After 2020-01-01. */
	assert_true(util_wall_ms() > 1577836800000LL);
}

static void
test_util_parse_duration(void **state)
{
	(void)state;
	assert_int_equal(util_parse_duration_ms("250"), 250);
	assert_int_equal(util_parse_duration_ms("500ms"), 500);
	assert_int_equal(util_parse_duration_ms("10s"), 10000);
	assert_int_equal(util_parse_duration_ms("5m"), 300000);
	assert_int_equal(util_parse_duration_ms("2h"), 7200000);
	assert_int_equal(util_parse_duration_ms("30d"), 2592000000LL);
	assert_int_equal(util_parse_duration_ms("0s"), 0);
	assert_int_equal(util_parse_duration_ms(""), -1);
	assert_int_equal(util_parse_duration_ms("s"), -1);
	assert_int_equal(util_parse_duration_ms("-5s"), -1);
	assert_int_equal(util_parse_duration_ms(" 5s"), -1);
	assert_int_equal(util_parse_duration_ms("5 s"), -1);
	assert_int_equal(util_parse_duration_ms("5w"), -1);
	assert_int_equal(util_parse_duration_ms("5sec"), -1);
	assert_int_equal(util_parse_duration_ms("99999999999999999999"), -1);
	assert_int_equal(util_parse_duration_ms("9223372036854775807d"), -1);
	assert_int_equal(util_parse_duration_ms(NULL), -1);
}

/* A datagram and the descriptor passed with it arrive whole, or not at all. */
static void
test_util_msg_with_fd(void **state)
{
	int sv[2], p[2], got;
	char buf[16], c;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(util_send_msg(sv[0], "hello", 6, p[1], 0), 0);
	assert_int_equal(util_recv_msg(sv[1], buf, sizeof buf, &got, 0), 6);
	assert_string_equal(buf, "hello");
	/* The received write end feeds the original read end. */
	assert_int_not_equal(got, -1);
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	close(got);
	/* Without a descriptor: none comes. */
	assert_int_equal(util_send_msg(sv[0], "ab", 3, -1, 0), 0);
	assert_int_equal(util_recv_msg(sv[1], buf, sizeof buf, &got, 0), 3);
	assert_int_equal(got, -1);
	/* Nothing there: EAGAIN without blocking. */
	assert_int_equal(util_recv_msg(sv[1], buf, sizeof buf, &got,
	    MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* Over the buffer: refused, and the descriptor with it closed. */
	assert_int_equal(util_send_msg(sv[0], "0123456789abcdefXYZ", 20, p[1],
	    0), 0);
	assert_int_equal(util_recv_msg(sv[1], buf, sizeof buf, &got, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(got, -1);
	/* The peer gone: 0 on one side, EPIPE (no SIGPIPE) on the other. */
	close(sv[0]);
	assert_int_equal(util_recv_msg(sv[1], buf, sizeof buf, &got, 0), 0);
	assert_int_equal(util_send_msg(sv[1], "x", 2, -1, 0), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void
test_util_parse_since(void **state)
{
	(void)state;
	assert_int_equal(util_parse_since_ms("1700000000000", 5), 1700000000000);
	assert_int_equal(util_parse_since_ms("10m", 3600000), 3000000);
	assert_int_equal(util_parse_since_ms("2h", 3600000), 0);
	assert_int_equal(util_parse_since_ms("0", 3600000), 0);
	assert_int_equal(util_parse_since_ms("-5", 3600000), -1);
	assert_int_equal(util_parse_since_ms("soon", 3600000), -1);
	assert_int_equal(util_parse_since_ms("", 3600000), -1);
	assert_int_equal(util_parse_since_ms(NULL, 3600000), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_hostport_good),
		cmocka_unit_test(test_util_hostport_missing_port),
		cmocka_unit_test(test_util_hostport_bad_port),
		cmocka_unit_test(test_util_hostport_empty),
		cmocka_unit_test_setup_teardown(test_util_file_round_trip,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_file_in_place,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_empty_file,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_util_file_mode_ignores_umask, testdir_setup,
		    testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_file_large,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_read_file_over_max,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_util_read_file_exactly_buffer_size, testdir_setup,
		    testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_read_file_missing,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_write_file_no_dir,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test(test_util_format_age),
		cmocka_unit_test(test_util_parse_duration),
		cmocka_unit_test(test_util_parse_since),
		cmocka_unit_test(test_util_msg_with_fd),
		cmocka_unit_test_setup_teardown(test_util_mkdir_p,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test_setup_teardown(test_util_mkdir_p_over_file,
		    testdir_setup, testdir_teardown),
		cmocka_unit_test(test_util_chomp),
		cmocka_unit_test(test_util_random_hex),
		cmocka_unit_test(test_util_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
