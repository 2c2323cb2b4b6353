/*
 * Parsers for the kernel's /proc files. Each parse function takes the file's
 * text, so unit tests and fuzz targets can feed it anything; each read
 * function reads the live file. All return 0, or -1 when the text is not
 * what the kernel writes (or the file cannot be read: errno set).
 */
#ifndef DROVER_PROCFS_H
#define DROVER_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat drover uses. */
struct procfs_stat {
	int pid;
	char comm[64];	      /* may hold spaces and ')' */
	char state;	      /* R S D I T t Z X ... */
	int ppid;
	int pgrp;
	int session;
	unsigned long long utime;     /* clock ticks */
	unsigned long long stime;     /* clock ticks */
	unsigned long long cutime;    /* of its children it waited for */
	unsigned long long cstime;
	unsigned long long starttime; /* clock ticks after boot */
	long num_threads;
	long rss_pages;
};

/* The fields of /proc/PID/status drover uses (-1 where absent: kernel threads). */
struct procfs_status {
	long vm_hwm_kb;
	long vm_rss_kb;
	long threads;
};

/*
 * /proc/PID/io: bytes the task read and wrote through system calls (pipes
 * and sockets included, not only storage). Readable by root or the owner.
 */
struct procfs_io {
	long long read_bytes;  /* rchar */
	long long write_bytes; /* wchar */
};

/* /proc/meminfo. */
struct procfs_meminfo {
	long long mem_total_kb;
	long long mem_available_kb;
};

/* The first ("cpu ") line of /proc/stat, in clock ticks. */
struct procfs_cpu {
	unsigned long long total; /* user..steal summed (guest is inside user) */
	unsigned long long idle;  /* idle + iowait */
};

int procfs_parse_stat(const char *text, size_t len, struct procfs_stat *out);
int procfs_parse_status(const char *text, size_t len, struct procfs_status *out);
int procfs_parse_io(const char *text, size_t len, struct procfs_io *out);
int procfs_parse_meminfo(const char *text, size_t len, struct procfs_meminfo *out);
int procfs_parse_cpu(const char *text, size_t len, struct procfs_cpu *out);

int procfs_read_stat(pid_t pid, struct procfs_stat *out);
int procfs_read_status(pid_t pid, struct procfs_status *out);
int procfs_read_io(pid_t pid, struct procfs_io *out);
/* The number of open descriptors of pid, or -1 when unreadable. */
long procfs_count_fds(pid_t pid);
int procfs_read_meminfo(struct procfs_meminfo *out);
int procfs_read_cpu(struct procfs_cpu *out);

/* Clock ticks to milliseconds (sysconf(_SC_CLK_TCK)). */
long long procfs_ticks_to_ms(unsigned long long ticks);

#endif
