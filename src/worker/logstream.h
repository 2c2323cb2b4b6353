/*
 * Sending an app's log to the master in chunks (the binary frame of
 * LOG_DATA), with credit-based flow control: the worker sends a chunk only
 * while the master has granted credit, so neither side ever holds more than
 * a few chunks of a log however large it is, and a slow reader slows the
 * stream instead of filling memory.
 */
#ifndef DROVER_LOGSTREAM_H
#define DROVER_LOGSTREAM_H

struct worker;
struct msg;
struct app;

/* Chunks the master may have in flight before granting more. */
#define LOGSTREAM_INITIAL_CREDIT 4

void logstream_start(struct worker *, struct msg *);  /* MSG_LOGS */
void logstream_credit(struct worker *, struct msg *); /* MSG_LOG_CREDIT */
void logstream_cancel(struct worker *, struct msg *); /* MSG_LOG_CANCEL */
/* New output from app: followers may send more. */
void logstream_on_output(struct worker *, struct app *);
struct applog_rotation;
/* app's log was rotated in place: its readers follow (applog_reader_rotated). */
void logstream_on_rotate(struct worker *, struct app *,
    const struct applog_rotation *);
/*
 * app is about to be forgotten, its log emptied in place for a later launch
 * (appdirs_recycle): end its streams first, each with an error to its
 * reader, before a descriptor they hold reads another app's output.
 */
void logstream_on_forget(struct worker *, struct app *);
/* Drop every stream (the master connection is gone, or shutdown). */
void logstream_free_all(struct worker *);

#endif
