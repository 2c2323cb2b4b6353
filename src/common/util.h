/* Small helpers shared by every role: clocks, addresses, files. */
#ifndef DROVER_UTIL_H
#define DROVER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds on the monotonic clock: for timeouts and ages. */
int64_t util_now_ms(void);
/* Microseconds on the monotonic clock: for measuring short spans. */
int64_t util_now_us(void);
/* Milliseconds since the epoch: for timestamps shown to users. */
int64_t util_wall_ms(void);

/*
 * A duration for people: "500ms", "10s", "5m", "2h", "7d", or a plain
 * number of milliseconds. Returns milliseconds, or -1 when the text is not
 * one (or would not fit in 64 bits).
 */
int64_t util_parse_duration_ms(const char *text);
/*
 * A point in time for --since and ?since=: a duration back from now_ms
 * ("10m", "2h", "7d") or a bare number of milliseconds since the epoch.
 * Returns epoch ms (never below 0), or -1 when the text is neither.
 */
int64_t util_parse_since_ms(const char *text, int64_t now_ms);

/*
 * Split "HOST:PORT" (or "[V6]:PORT") into host and port. Returns 0, or -1
 * with *cause set (caller frees) when the text is not an address.
 */
int util_parse_hostport(const char *text, char **host, int *port, char **cause);

/* The default state dir: /var/lib/drover for root, else the XDG state dir. */
char *util_default_state_dir(void);

/* mkdir -p with the given mode for created directories. Returns 0 or -1. */
int util_mkdir_p(const char *path, unsigned mode);

/*
 * One datagram over a Unix socket (SOCK_SEQPACKET), with at most one
 * descriptor passed along (SCM_RIGHTS).
 * util_send_msg sends len bytes of data (len > 0) and fd (-1: none), with
 * flags added to MSG_NOSIGNAL (MSG_DONTWAIT, say): 0 once sent whole, or
 * -1 with errno (EAGAIN, EPIPE: never SIGPIPE).
 * util_recv_msg reads one into buf (cap bytes), with flags added to
 * MSG_CMSG_CLOEXEC: its length, with *fd the descriptor that came with it
 * (close-on-exec, the caller's) or -1; 0 when the peer closed the socket;
 * -1 with errno (EAGAIN, or EMSGSIZE for a datagram over cap, dropped).
 */
int util_send_msg(int sock, const void *data, size_t len, int fd, int flags);
ssize_t util_recv_msg(int sock, void *buf, size_t cap, int *fd, int flags);

/* Close fd after a failure, keeping the failure's errno: returns -1. */
int util_close_failed(int fd);

/* write() all of data to fd, again after EINTR. 0, or -1 with errno. */
int util_write_all(int fd, const void *data, size_t len);

/*
 * Write a whole file atomically: temporary name, fsync, rename, fsync of
 * the directory, so a crash leaves the old content or the new, never half.
 * Returns 0, or -1 with errno set.
 */
int util_write_file_atomic(const char *path, const void *data, size_t len,
    unsigned mode);

/*
 * Write data over path's content, in the same inode (created if missing,
 * given mode either way), and cut it to len: no new inode (see
 * util_write_file_swap), but a reader may see it half written. For a file
 * read only once its writer is gone, whose reader takes a short or empty
 * one for none. Not fsynced.
 */
int util_write_file_in_place(const char *path, const void *data, size_t len,
    unsigned mode);

/*
 * Cut an existing file to nothing, if it holds anything: 0, or -1 with
 * errno (ENOENT when it is missing). Through an open descriptor, closed
 * again, never truncate(2) by name: on ext4 (auto_da_alloc) a file cut to
 * nothing has its next writer's close start writing it out, until a close
 * through the descriptor that cut it clears that.
 */
int util_empty_file(const char *path);

/*
 * A whole file replaced without fsync, for one rewritten again and again:
 * other processes see the old content or the new, never half, and so does
 * a process that crashed and started again (the page cache outlives it); a
 * power loss or a kernel crash may leave either, or an empty file. For
 * files that only serve a restart of a process, not of the machine. The
 * bytes go over the previous version, kept as PATH.prev
 * (util_write_file_in_place), and the two names are then exchanged
 * (renameat2 RENAME_EXCHANGE), so no file is created or
 * deleted per write (on ext4 without a journal, each new file costs a scan
 * past the recently deleted ones) and no rename replaces an existing file
 * (on ext4, auto_da_alloc then starts writing the new one out: 4 times the
 * time of a swap here). On a file system without exchange it renames.
 */
int util_write_file_swap(const char *path, const void *data, size_t len,
    unsigned mode);

/*
 * A large file is being written to fd, written bytes so far: once
 * UTIL_WRITEBACK_STEP more than *started have been written, start their
 * writeback (sync_file_range, without waiting) and move *started. The
 * fsync at the end then has little left to do, so a single-threaded loop
 * does not stall on a large file's worth of dirty pages (with 24 GiB of
 * memory the kernel's own writeback waits for 2.4 GiB of them).
 */
#define UTIL_WRITEBACK_STEP (8ULL << 20)
void util_start_writeback(int fd, unsigned long long *started,
    unsigned long long written);

/*
 * Read a small file (at most max bytes) into a NUL-terminated buffer the
 * caller frees. Returns NULL with errno set (EFBIG when over max).
 */
char *util_read_file(const char *path, size_t max, size_t *lenp);

/* Fill buf with 2*n hex characters of n random bytes (getrandom) plus NUL. */
void util_random_hex(char *buf, size_t n);

/* Format an age in milliseconds for people: "0.4s", "12s", "3m", "2h". */
void util_format_age(int64_t ms, char *buf, size_t len);

/*
 * Block the n signals in sigs and return a non-blocking signalfd for them,
 * so the loop reads signals like any descriptor; SIGPIPE is ignored.
 * Fatal on failure (start-up only).
 */
int util_signalfd(const int *sigs, int n);

/*
 * Whether s may name something that becomes a file or path component: 1 to
 * max of letters, digits and the characters in also, not starting with '.'
 * or '-' (so never "..", a dotfile or an option).
 */
bool util_name_valid(const char *s, size_t max, const char *also);

/* Free a NULL-terminated array of strings and the strings (NULL is fine). */
void util_strv_free(char **v);

/* Remove trailing whitespace (newline) in place. */
void util_chomp(char *s);

#endif
