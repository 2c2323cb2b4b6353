/* Allocation wrappers that abort on out-of-memory, so callers need no checks. */
#ifndef DROVER_XMEM_H
#define DROVER_XMEM_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* A copy of n bytes (a message read into a buffer that is reused). */
void *xmemdup(const void *, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
