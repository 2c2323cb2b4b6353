/* The REST client every command uses: the same API curl would call. */
#ifndef DROVER_CLIENT_H
#define DROVER_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct client;

/* base: "http://127.0.0.1:7401"; token may be NULL. Strings are copied. */
struct client *client_new(const char *base, const char *token);
void client_free(struct client *);
const char *client_base(const struct client *);

/*
 * Perform method on path with an optional JSON body (borrowed). Returns the
 * HTTP status with *reply set to the parsed JSON body (NULL when it was not
 * JSON), or -1 with *cause (caller frees) when the master could not be
 * reached: "cannot reach master at URL: ...".
 */
int client_call(struct client *, const char *method, const char *path,
    json_t *body, json_t **reply, char **cause);

/*
 * Stream path's body to write(data, len, arg) as it arrives (logs --follow).
 * Returns the HTTP status, or -1 with *cause.
 */
int client_stream(struct client *, const char *path,
    size_t (*write)(const char *, size_t, void *), void *arg, char **cause);

/*
 * PUT size bytes read from f to path, streamed (never all in memory);
 * progress(sent, total, arg) is called as it goes when not NULL. Returns the
 * HTTP status with *reply set to the parsed JSON body, or -1 with *cause.
 */
int client_upload(struct client *, const char *path, FILE *f,
    unsigned long long size,
    void (*progress)(unsigned long long, unsigned long long, void *),
    void *arg, json_t **reply, char **cause);

#endif
