/*
 * The worker's side of artifact copies: which files it holds, receiving
 * files in chunks with credit-based flow control, installing and deleting
 * artifacts. The files themselves live in the store (store.c).
 */
#ifndef DROVER_ARTIFACTS_H
#define DROVER_ARTIFACTS_H

struct worker;
struct msg;

/* Chunks the master may have in flight for one file. */
#define ARTIFACTS_CREDIT 8

void artifacts_have(struct worker *, struct msg *);	  /* ARTIFACT_HAVE */
void artifacts_file_begin(struct worker *, struct msg *); /* FILE_BEGIN */
void artifacts_file_chunk(struct worker *, struct msg *); /* FILE_CHUNK */
void artifacts_file_end(struct worker *, struct msg *);	  /* FILE_END */
void artifacts_file_abort(struct worker *, struct msg *); /* FILE_ABORT */
void artifacts_install(struct worker *, struct msg *);	  /* ARTIFACT_INSTALL */
void artifacts_delete(struct worker *, struct msg *);	  /* ARTIFACT_DELETE */
/* The master connection is gone: files half received are dropped. */
void artifacts_abort_all(struct worker *);
/* This machine's architecture as uname -m says it ("x86_64"). */
const char *artifacts_arch(void);

#endif
