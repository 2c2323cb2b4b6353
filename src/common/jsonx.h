/*
 * Typed access to the fields of a JSON object, for messages from workers and
 * request bodies from users alike. Every getter returns 0 when the field was
 * read, 1 when an optional field is absent (or null), and -1 with *cause set
 * (caller frees) naming the field when it is missing or of the wrong type.
 * Returned strings are borrowed from the object.
 */
#ifndef DROVER_JSONX_H
#define DROVER_JSONX_H

#include <jansson.h>
#include <stdbool.h>

int jsonx_get_str(json_t *obj, const char *key, bool required, const char **out,
    char **cause);
int jsonx_get_int(json_t *obj, const char *key, bool required, long long min,
    long long max, long long *out, char **cause);
int jsonx_get_num(json_t *obj, const char *key, bool required, double *out,
    char **cause);
int jsonx_get_bool(json_t *obj, const char *key, bool required, bool *out,
    char **cause);
/* Arrays and objects are borrowed too; the caller checks element types. */
int jsonx_get_array(json_t *obj, const char *key, bool required, json_t **out,
    char **cause);
int jsonx_get_object(json_t *obj, const char *key, bool required, json_t **out,
    char **cause);

/* Refuse any field not in the NULL-terminated list (REST bodies are strict). */
int jsonx_check_fields(json_t *obj, const char *const *known, char **cause);

/* json_pack that aborts when the format is wrong: formats are constants. */
json_t *jsonx_pack(const char *fmt, ...);
/*
 * j as compact text (caller frees), taking the reference to j; aborts when
 * out of memory, the only way json_dumps fails on a built document.
 */
char *jsonx_dumps(json_t *j);

#endif
