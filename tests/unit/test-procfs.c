/*
 * Unit tests for the /proc parsers and readers. Every parse goes through
 * test_procfs_copy, which hands the parser an exact-size heap buffer with no
 * NUL after it, so a read past len shows under valgrind or ASan.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/procfs.h"

/* Real kernel text, copied from a 6.x machine. */
static const char test_procfs_stat_self_text[] =
    "4932 (head) R 4928 4928 3317 0 -1 4194304 108 0 0 0 7 3 0 0 20 0 1 0 "
    "43268 2998272 428 18446744073709551615 94061979938816 94061979962921 "
    "140734804683152 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94061979978768 "
    "94061979980384 94062644690944 140734804691553 140734804691602 "
    "140734804691602 140734804692970 0\n";
static const char test_procfs_stat_parens_text[] =
    "5326 ((a b) c)) R 5324 5324 3317 0 -1 4194304 2897 6571 1 0 4 1 4 2 20 "
    "0 1 0 47854 17149952 3404 18446744073709551615 94109530546176 "
    "94109530546517 140733723982416 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0 "
    "94109530557872 94109530558488 94109685682176 140733723990014 "
    "140733723990224 140733723990224 140733723992015 0\n";
static const char test_procfs_stat_kthread_text[] =
    "10 (kworker/0:0H-events_highpri) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 "
    "0 -20 1 0 22 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 "
    "17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
static const char test_procfs_stat_zombie_text[] =
    "5311 (python3) Z 5270 5198 3317 0 -1 4227148 226 0 0 0 0 0 0 0 20 0 1 0 "
    "47601 0 0 18446744073709551615 0 0 0 0 0 0 0 16781312 2 1 0 0 17 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0\n";

static const char test_procfs_status_self_text[] =
    "Name:\t(a b) c)\nUmask:\t0022\nState:\tR (running)\nTgid:\t5326\n"
    "Ngid:\t0\nPid:\t5326\nPPid:\t5324\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \nNStgid:\t5326\n"
    "NSpid:\t5326\nNSpgid:\t5324\nNSsid:\t3317\nKthread:\t0\n"
    "VmPeak:\t   16792 kB\nVmSize:\t   16748 kB\nVmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\nVmHWM:\t   13804 kB\nVmRSS:\t   13700 kB\n"
    "RssAnon:\t    7024 kB\nRssFile:\t    6780 kB\nRssShmem:\t       0 kB\n"
    "VmData:\t    7968 kB\nVmStk:\t     132 kB\nVmExe:\t       4 kB\n"
    "VmLib:\t    4760 kB\nVmPTE:\t      68 kB\nVmSwap:\t       0 kB\n"
    "HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n"
    "untag_mask:\t0xffffffffffffffff\nThreads:\t3\nSigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
    "voluntary_ctxt_switches:\t23\nnonvoluntary_ctxt_switches:\t0\n";
static const char test_procfs_status_kthread_text[] =
    "Name:\tkthreadd\nUmask:\t0000\nState:\tS (sleeping)\nTgid:\t2\n"
    "Ngid:\t0\nPid:\t2\nPPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \nNStgid:\t2\nNSpid:\t2\n"
    "NSpgid:\t0\nNSsid:\t0\nKthread:\t1\nThreads:\t1\nSigQ:\t0/96365\n"
    "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\n";

static const char test_procfs_meminfo_text[] =
    "MemTotal:       24684092 kB\nMemFree:        24482620 kB\n"
    "MemAvailable:   24417944 kB\nBuffers:            1448 kB\n"
    "Cached:            63196 kB\nSwapCached:            0 kB\n"
    "HugePages_Total:       0\nHugepagesize:       2048 kB\n"
    "DirectMap1G:           0 kB\n";

static const char test_procfs_cpu_text[] =
    "cpu  2425 0 2213 79627 601 0 128 2494 0 0\n"
    "cpu0 951 0 941 40622 53 0 15 1206 0 0\n"
    "cpu1 1474 0 1272 39004 548 0 112 1287 0 0\n"
    "intr 130030 0 0 0\n";

/* Parse from an exact-size heap copy of the first len bytes of text. */
static char *
test_procfs_copy(const char *text, size_t len)
{
	char *buf = malloc(len == 0 ? 1 : len);

	assert_non_null(buf);
	memcpy(buf, text, len);
	return buf;
}

static int
test_procfs_stat(const char *text, size_t len, struct procfs_stat *st)
{
	char *buf = test_procfs_copy(text, len);
	int rc = procfs_parse_stat(buf, len, st);

	free(buf);
	return rc;
}

static int
test_procfs_status(const char *text, size_t len, struct procfs_status *st)
{
	char *buf = test_procfs_copy(text, len);
	int rc = procfs_parse_status(buf, len, st);

	free(buf);
	return rc;
}

static int
test_procfs_io_parse(const char *text, size_t len, struct procfs_io *io)
{
	char *buf = test_procfs_copy(text, len);
	int rc = procfs_parse_io(buf, len, io);

	free(buf);
	return rc;
}

static int
test_procfs_meminfo_parse(const char *text, size_t len,
			  struct procfs_meminfo *mi)
{
	char *buf = test_procfs_copy(text, len);
	int rc = procfs_parse_meminfo(buf, len, mi);

	free(buf);
	return rc;
}

static int
test_procfs_cpu_parse(const char *text, size_t len, struct procfs_cpu *cpu)
{
	char *buf = test_procfs_copy(text, len);
	int rc = procfs_parse_cpu(buf, len, cpu);

	free(buf);
	return rc;
}

/* The whole string, without its NUL. */
#define STAT(s, out) test_procfs_stat((s), strlen(s), (out))
#define STATUS(s, out) test_procfs_status((s), strlen(s), (out))
#define MEMINFO(s, out) test_procfs_meminfo_parse((s), strlen(s), (out))
#define CPU(s, out) test_procfs_cpu_parse((s), strlen(s), (out))

static void
test_procfs_stat_plain(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(STAT(test_procfs_stat_self_text, &st), 0);
	assert_int_equal(st.pid, 4932);
	assert_string_equal(st.comm, "head");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 4928);
	assert_int_equal(st.pgrp, 4928);
	assert_int_equal(st.session, 3317);
	assert_int_equal(st.utime, 7);
	assert_int_equal(st.stime, 3);
	assert_int_equal(st.num_threads, 1);
	assert_int_equal(st.starttime, 43268);
	assert_int_equal(st.rss_pages, 428);
}

static void
test_procfs_stat_comm_with_parens(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(STAT(test_procfs_stat_parens_text, &st), 0);
	assert_int_equal(st.pid, 5326);
	assert_string_equal(st.comm, "(a b) c)");
	/* utime stime cutime cstime: "4 1 4 2". */
	assert_int_equal(st.utime, 4);
	assert_int_equal(st.stime, 1);
	assert_int_equal(st.cutime, 4);
	assert_int_equal(st.cstime, 2);
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 5324);
	assert_int_equal(st.utime, 4);
	assert_int_equal(st.stime, 1);
	assert_int_equal(st.starttime, 47854);
	assert_int_equal(st.rss_pages, 3404);

	/* A comm that looks like the fields that follow it. */
	assert_int_equal(STAT("7 (x) R 1 2 3) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 "
			      "20 0 4 0 99 0 12 0\n",
			      &st),
			 0);
	assert_string_equal(st.comm, "x) R 1 2 3");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.utime, 5);
	assert_int_equal(st.num_threads, 4);
	assert_int_equal(st.rss_pages, 12);

	/* Empty comm. */
	assert_int_equal(STAT("7 () S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 4 0 99 "
			      "0 12 0\n",
			      &st),
			 0);
	assert_string_equal(st.comm, "");
}

static void
test_procfs_stat_kernel_thread(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(STAT(test_procfs_stat_kthread_text, &st), 0);
	assert_int_equal(st.pid, 10);
	assert_string_equal(st.comm, "kworker/0:0H-events_highpri");
	assert_int_equal(st.state, 'I');
	assert_int_equal(st.ppid, 2);
	assert_int_equal(st.pgrp, 0);
	assert_int_equal(st.session, 0);
	assert_int_equal(st.rss_pages, 0);
	assert_int_equal(st.starttime, 22);
}

static void
test_procfs_stat_zombie(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(STAT(test_procfs_stat_zombie_text, &st), 0);
	assert_int_equal(st.pid, 5311);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, 5270);
	assert_int_equal(st.rss_pages, 0);
	assert_int_equal(st.starttime, 47601);
}

static void
test_procfs_stat_long_comm_truncated(void **state)
{
	struct procfs_stat st;
	char text[512];

	(void)state;
	snprintf(text, sizeof text,
		 "9 (%0100d) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 "
		 "20 0 4 0 99 0 12 0\n",
		 0);
	assert_int_equal(STAT(text, &st), 0);
	assert_int_equal(strlen(st.comm), sizeof st.comm - 1);
	assert_int_equal(st.rss_pages, 12);
}

static void
test_procfs_stat_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    "4932",
	    "4932 ",
	    "4932 (",
	    "4932 (head",
	    "4932 (head R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "4932 head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "(head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 4\n",
	    "x (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "0 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "-1 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "2147483648 (h) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 4\n",
	    "4932  (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head)",
	    "4932 (head) ",
	    "4932 (head)R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "4932 (head) 5 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R\n",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0\n",
	    /* rss cut: no separator after field 24 */
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "34",
	    /* non-numeric, empty or signed where unsigned */
	    "4932 (head) R x 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7x 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 -7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R -1 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "-3 4\n",
	    "4932 (head) R 4928 4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 -1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R 4928 4928 3317 0 - 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 3 "
	    "4\n",
	    "4932 (head) R 4928  4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R 4928\t4928 3317 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    /* out of range */
	    "4932 (head) R 2147483648 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "3 4\n",
	    "4932 (head) R 1 1 1 0 -1 0 0 0 0 0 18446744073709551616 3 0 0 20 "
	    "0 1 "
	    "0 1 2 3 4\n",
	    "4932 (head) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 2 "
	    "99999999999999999999999 4\n",
	};
	struct procfs_stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (STAT(bad[i], &st) != -1)
			fail_msg("accepted bad stat %zu: %s", i, bad[i]);
	}
}

static void
test_procfs_stat_rejects_nul_in_comm(void **state)
{
	static const char text[] =
	    "7 (a\0b) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 "
	    "4 0 99 0 12 0\n";
	struct procfs_stat st;

	(void)state;
	assert_int_equal(test_procfs_stat(text, sizeof text - 1, &st), -1);
}

/* len shorter than the string: what lies past len must not be read. */
static void
test_procfs_stat_respects_len(void **state)
{
	const char *text = test_procfs_stat_self_text;
	const char *rss = strstr(text, " 428 ");
	struct procfs_stat st;
	size_t len;

	(void)state;
	assert_non_null(rss);
	/* Cut inside rss, then right after it, then before the last ')'. */
	assert_int_equal(test_procfs_stat(text, (size_t)(rss - text) + 3, &st),
			 -1);
	assert_int_equal(test_procfs_stat(text, (size_t)(rss - text) + 4, &st),
			 -1);
	assert_int_equal(test_procfs_stat(text, (size_t)(rss - text) + 5, &st),
			 0);
	assert_int_equal(st.rss_pages, 428);
	assert_int_equal(test_procfs_stat(text, 10, &st), -1);
	assert_int_equal(test_procfs_stat(text, 0, &st), -1);
	for (len = 0; len < strlen(text); len++)
		(void)test_procfs_stat(text, len, &st);
	/* A cut that drops the real ')' leaves only an earlier one. */
	assert_int_equal(
	    test_procfs_stat(test_procfs_stat_parens_text, 14, &st), -1);
}

static void
test_procfs_status_plain(void **state)
{
	struct procfs_status st;

	(void)state;
	assert_int_equal(STATUS(test_procfs_status_self_text, &st), 0);
	assert_int_equal(st.vm_hwm_kb, 13804);
	assert_int_equal(st.vm_rss_kb, 13700);
	assert_int_equal(st.threads, 3);
}

static void
test_procfs_status_kernel_thread(void **state)
{
	struct procfs_status st;

	(void)state;
	assert_int_equal(STATUS(test_procfs_status_kthread_text, &st), 0);
	assert_int_equal(st.vm_hwm_kb, -1);
	assert_int_equal(st.vm_rss_kb, -1);
	assert_int_equal(st.threads, 1);

	/* Nothing wanted at all: every field absent. */
	assert_int_equal(STATUS("Name:\tx\n", &st), 0);
	assert_int_equal(st.vm_hwm_kb, -1);
	assert_int_equal(st.vm_rss_kb, -1);
	assert_int_equal(st.threads, -1);
}

static void
test_procfs_status_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    "\n",
	    "Name:\tx\n\nThreads:\t1\n",
	    "Name x\n",
	    "VmRSS:\t 1380\n",
	    "VmRSS:\t 1380 kb\n",
	    "VmRSS:\t 1380 kB extra\n",
	    "VmRSS:\t kB\n",
	    "VmRSS:\t x kB\n",
	    "VmRSS:\t -5 kB\n",
	    "VmRSS:\t 1380 kB",
	    "VmHWM:\t 99999999999999999999 kB\n",
	    "VmHWM:\t 18446744073709551615 kB\n",
	    "Threads:\t1 kB\n",
	    "Threads:\t\n",
	    "Threads:\t1",
	    "Threads:\t1\nThreads:\t2\n",
	    "Name:\tx\nVmRSS",
	};
	struct procfs_status st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (STATUS(bad[i], &st) != -1)
			fail_msg("accepted bad status %zu: %s", i, bad[i]);
	}
}

static void
test_procfs_status_respects_len(void **state)
{
	const char *text = test_procfs_status_self_text;
	const char *rss = strstr(text, "VmRSS:");
	const char *hwm = strstr(text, "VmHWM:");
	struct procfs_status st;
	size_t len;

	(void)state;
	assert_non_null(rss);
	assert_non_null(hwm);
	/* Cut inside the VmRSS number. */
	assert_int_equal(
	    test_procfs_status(text, (size_t)(rss - text) + 10, &st), -1);
	/* Cut at a line boundary before VmHWM: the fields are simply absent. */
	assert_int_equal(test_procfs_status(text, (size_t)(hwm - text), &st),
			 0);
	assert_int_equal(st.vm_hwm_kb, -1);
	assert_int_equal(st.vm_rss_kb, -1);
	assert_int_equal(st.threads, -1);
	for (len = 0; len < strlen(text); len++)
		(void)test_procfs_status(text, len, &st);
}

static void
test_procfs_meminfo_plain(void **state)
{
	struct procfs_meminfo mi;

	(void)state;
	assert_int_equal(MEMINFO(test_procfs_meminfo_text, &mi), 0);
	assert_int_equal(mi.mem_total_kb, 24684092);
	assert_int_equal(mi.mem_available_kb, 24417944);
}

static void
test_procfs_meminfo_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    "MemTotal:       24684092 kB\n",
	    "MemAvailable:   24417944 kB\n",
	    "MemTotal:       0 kB\nMemAvailable:   0 kB\n",
	    "MemTotal:       x kB\nMemAvailable:   1 kB\n",
	    "MemTotal:       10\nMemAvailable:   1 kB\n",
	    "MemTotal:       10 kB\nMemAvailable:   1 kB",
	    "MemTotal:       10 kB\nMemAvailable:   1",
	    "MemTotal:       10 kB\nMemTotal:       10 kB\nMemAvailable: 1 "
	    "kB\n",
	    "MemTotal:       10 kB\nbogus\nMemAvailable:   1 kB\n",
	    "MemTotal:       9223372036854775808 kB\nMemAvailable:   1 kB\n",
	};
	struct procfs_meminfo mi;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (MEMINFO(bad[i], &mi) != -1)
			fail_msg("accepted bad meminfo %zu: %s", i, bad[i]);
	}
}

static void
test_procfs_meminfo_respects_len(void **state)
{
	const char *text = test_procfs_meminfo_text;
	const char *avail = strstr(text, "MemAvailable:");
	struct procfs_meminfo mi;
	size_t len;

	(void)state;
	assert_non_null(avail);
	assert_int_equal(
	    test_procfs_meminfo_parse(text, (size_t)(avail - text), &mi), -1);
	assert_int_equal(
	    test_procfs_meminfo_parse(text, (size_t)(avail - text) + 20, &mi),
	    -1);
	for (len = 0; len < strlen(text); len++)
		(void)test_procfs_meminfo_parse(text, len, &mi);
}

static void
test_procfs_cpu_plain(void **state)
{
	struct procfs_cpu cpu;

	(void)state;
	assert_int_equal(CPU(test_procfs_cpu_text, &cpu), 0);
	assert_int_equal(cpu.total, 2425 + 2213 + 79627 + 601 + 128 + 2494);
	assert_int_equal(cpu.idle, 79627 + 601);

	/* Old kernels: four fields, no iowait. */
	assert_int_equal(CPU("cpu  1 2 3 4\n", &cpu), 0);
	assert_int_equal(cpu.total, 10);
	assert_int_equal(cpu.idle, 4);

	/* Guest time is already inside user and nice; later fields ignored. */
	assert_int_equal(CPU("cpu  10 20 1 100 5 0 0 0 7 9 11\n", &cpu), 0);
	assert_int_equal(cpu.total, 136);
	assert_int_equal(cpu.idle, 105);
}

static void
test_procfs_cpu_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    "cpu",
	    "cpu ",
	    "cpu\n",
	    "cpu  \n",
	    "cpu  1 2 3\n",
	    "cpu  1 2 3 4",
	    "cpu  1 2 3 4 5",
	    "cpu0 1 2 3 4 5\n",
	    "cpu\t1 2 3 4 5\n",
	    "intr 1 2 3 4 5\ncpu  1 2 3 4\n",
	    " cpu  1 2 3 4 5\n",
	    "cpu  1 2 x 4 5\n",
	    "cpu  1 2 -3 4 5\n",
	    "cpu  1 2 3 4 5 \n",
	    "cpu  1 2 3 4 5x\n",
	    "cpu  18446744073709551615 1 2 3\n",
	    "cpu  1 2 3 184467440737095516150\n",
	};
	struct procfs_cpu cpu;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (CPU(bad[i], &cpu) != -1)
			fail_msg("accepted bad cpu line %zu: %s", i, bad[i]);
	}
}

static void
test_procfs_cpu_respects_len(void **state)
{
	struct procfs_cpu cpu;
	size_t len,
	    nl = strchr(test_procfs_cpu_text, '\n') - test_procfs_cpu_text;

	(void)state;
	for (len = 0; len <= nl; len++)
		assert_int_equal(
		    test_procfs_cpu_parse(test_procfs_cpu_text, len, &cpu), -1);
	assert_int_equal(
	    test_procfs_cpu_parse(test_procfs_cpu_text, nl + 1, &cpu), 0);
}

static void
test_procfs_read_self(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;

	(void)state;
	assert_int_equal(procfs_read_stat(getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.pgrp, getpgrp());
	assert_int_equal(st.session, getsid(0));
	assert_true(st.num_threads >= 1);
	assert_true(st.rss_pages > 0);

	assert_int_equal(procfs_read_status(getpid(), &ss), 0);
	assert_true(ss.vm_rss_kb > 0);
	assert_true(ss.vm_hwm_kb >= ss.vm_rss_kb);
	assert_int_equal(ss.threads, st.num_threads);
}

/* The name a process gives itself is what makes the last ')' rule matter. */
static void
test_procfs_read_self_odd_comm(void **state)
{
	struct procfs_stat st;
	char saved[17] = "";

	(void)state;
	assert_int_equal(prctl(PR_GET_NAME, saved), 0);
	assert_int_equal(prctl(PR_SET_NAME, "(a b) c) S 1"), 0);
	assert_int_equal(procfs_read_stat(getpid(), &st), 0);
	assert_int_equal(prctl(PR_SET_NAME, saved), 0);
	assert_string_equal(st.comm, "(a b) c) S 1");
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.state, 'R');
}

static void
test_procfs_read_zombie(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;
	siginfo_t info;
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0)
		_exit(0);
	assert_true(pid > 0);
	/* WNOWAIT: wait until it is a zombie but leave it one. */
	assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
	assert_int_equal(procfs_read_stat(pid, &st), 0);
	assert_int_equal(procfs_read_status(pid, &ss), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, getpid());
	assert_int_equal(st.rss_pages, 0);
	assert_int_equal(ss.vm_rss_kb, -1);
}

static void
test_procfs_read_errors(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;

	(void)state;
	errno = 0;
	assert_int_equal(procfs_read_stat(0, &st), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(procfs_read_status(-1, &ss), -1);
	assert_int_equal(errno, EINVAL);
	/* Above any pid_max the kernel allows (4194304). */
	assert_int_equal(procfs_read_stat(INT_MAX, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(procfs_read_status(INT_MAX, &ss), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_procfs_read_node(void **state)
{
	struct procfs_meminfo mi;
	struct procfs_cpu cpu;

	(void)state;
	assert_int_equal(procfs_read_meminfo(&mi), 0);
	assert_true(mi.mem_total_kb > 0);
	assert_true(mi.mem_available_kb >= 0);
	assert_int_equal(procfs_read_cpu(&cpu), 0);
	assert_true(cpu.total > 0);
	assert_true(cpu.idle <= cpu.total);
}

static void
test_procfs_ticks(void **state)
{
	long hz = sysconf(_SC_CLK_TCK);

	(void)state;
	assert_true(hz > 0);
	assert_int_equal(procfs_ticks_to_ms(0), 0);
	assert_int_equal(procfs_ticks_to_ms((unsigned long long)hz), 1000);
	assert_int_equal(procfs_ticks_to_ms((unsigned long long)hz * 90),
			 90000);
	assert_int_equal(procfs_ticks_to_ms((unsigned long long)hz / 2), 500);
	assert_int_equal(procfs_ticks_to_ms(ULLONG_MAX), LLONG_MAX);
}

/* /proc/PID/io as a 6.x kernel writes it. */
static const char test_procfs_io_text[] =
    "rchar: 4292\nwchar: 1048576\nsyscr: 9\nsyscw: 256\n"
    "read_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n";

static void
test_procfs_io_plain(void **state)
{
	struct procfs_io io;

	(void)state;
	assert_int_equal(test_procfs_io_parse(test_procfs_io_text,
	    strlen(test_procfs_io_text), &io), 0);
	assert_int_equal(io.read_bytes, 4292);
	assert_int_equal(io.write_bytes, 1048576);
}

static void
test_procfs_io_rejects(void **state)
{
	static const char *const bad[] = {
		"", "rchar: 1\n", "wchar: 1\n", "rchar: x\nwchar: 1\n",
		"rchar: 1\nwchar: 99999999999999999999\n",
		"rchar: 1\nrchar: 2\nwchar: 1\n", "rchar 1\nwchar: 1\n",
	};
	struct procfs_io io;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(test_procfs_io_parse(bad[i], strlen(bad[i]),
		    &io), -1);
	/* Cut inside the wchar number: refused, not misread. */
	assert_int_equal(test_procfs_io_parse(test_procfs_io_text, 24, &io),
	    -1);
}

static void
test_procfs_read_own_io_and_fds(void **state)
{
	struct procfs_io io;
	long before, after;
	int fd;

	(void)state;
	assert_int_equal(procfs_read_io(getpid(), &io), 0);
	assert_true(io.read_bytes >= 0 && io.write_bytes >= 0);
	before = procfs_count_fds(getpid());
	assert_true(before >= 0);
	fd = dup(0);
	after = procfs_count_fds(getpid());
	close(fd);
	assert_int_equal(after, before + 1);
	assert_int_equal(procfs_count_fds(INT_MAX), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_procfs_stat_plain),
	    cmocka_unit_test(test_procfs_stat_comm_with_parens),
	    cmocka_unit_test(test_procfs_stat_kernel_thread),
	    cmocka_unit_test(test_procfs_stat_zombie),
	    cmocka_unit_test(test_procfs_stat_long_comm_truncated),
	    cmocka_unit_test(test_procfs_stat_rejects),
	    cmocka_unit_test(test_procfs_stat_rejects_nul_in_comm),
	    cmocka_unit_test(test_procfs_stat_respects_len),
	    cmocka_unit_test(test_procfs_status_plain),
	    cmocka_unit_test(test_procfs_status_kernel_thread),
	    cmocka_unit_test(test_procfs_status_rejects),
	    cmocka_unit_test(test_procfs_status_respects_len),
	    cmocka_unit_test(test_procfs_meminfo_plain),
	    cmocka_unit_test(test_procfs_meminfo_rejects),
	    cmocka_unit_test(test_procfs_meminfo_respects_len),
	    cmocka_unit_test(test_procfs_io_plain),
	    cmocka_unit_test(test_procfs_io_rejects),
	    cmocka_unit_test(test_procfs_read_own_io_and_fds),
	    cmocka_unit_test(test_procfs_cpu_plain),
	    cmocka_unit_test(test_procfs_cpu_rejects),
	    cmocka_unit_test(test_procfs_cpu_respects_len),
	    cmocka_unit_test(test_procfs_read_self),
	    cmocka_unit_test(test_procfs_read_self_odd_comm),
	    cmocka_unit_test(test_procfs_read_zombie),
	    cmocka_unit_test(test_procfs_read_errors),
	    cmocka_unit_test(test_procfs_read_node),
	    cmocka_unit_test(test_procfs_ticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
