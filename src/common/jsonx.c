#include "common/jsonx.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "common/log.h"
#include "common/xmem.h"

/* Look up key; 1 if absent/null and optional, -1 if absent and required. */
static int
jsonx_lookup(json_t *obj, const char *key, bool required, json_t **v,
    char **cause)
{
	if (!json_is_object(obj)) {
		*cause = xstrdup("expected a JSON object");
		return -1;
	}
	*v = json_object_get(obj, key);
	if (*v == NULL || json_is_null(*v)) {
		if (!required)
			return 1;
		*cause = xasprintf("missing field '%s'", key);
		return -1;
	}
	return 0;
}

int
jsonx_get_str(json_t *obj, const char *key, bool required, const char **out,
    char **cause)
{
	json_t *v;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_string(v)) {
		*cause = xasprintf("field '%s' must be a string", key);
		return -1;
	}
	/* Strings go into C APIs and file names: an embedded NUL would cut them. */
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		*cause = xasprintf("field '%s' contains a NUL byte", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
jsonx_get_int(json_t *obj, const char *key, bool required, long long min,
    long long max, long long *out, char **cause)
{
	json_t *v;
	long long n;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_integer(v)) {
		*cause = xasprintf("field '%s' must be an integer", key);
		return -1;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		*cause = xasprintf("field '%s' must be between %lld and %lld",
		    key, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
jsonx_get_num(json_t *obj, const char *key, bool required, double *out,
    char **cause)
{
	json_t *v;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_number(v) || !isfinite(json_number_value(v))) {
		*cause = xasprintf("field '%s' must be a number", key);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

int
jsonx_get_bool(json_t *obj, const char *key, bool required, bool *out,
    char **cause)
{
	json_t *v;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_boolean(v)) {
		*cause = xasprintf("field '%s' must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
jsonx_get_array(json_t *obj, const char *key, bool required, json_t **out,
    char **cause)
{
	json_t *v;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_array(v)) {
		*cause = xasprintf("field '%s' must be an array", key);
		return -1;
	}
	*out = v;
	return 0;
}

int
jsonx_get_object(json_t *obj, const char *key, bool required, json_t **out,
    char **cause)
{
	json_t *v;
	int rc;

	if ((rc = jsonx_lookup(obj, key, required, &v, cause)) != 0)
		return rc;
	if (!json_is_object(v)) {
		*cause = xasprintf("field '%s' must be an object", key);
		return -1;
	}
	*out = v;
	return 0;
}

int
jsonx_check_fields(json_t *obj, const char *const *known, char **cause)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		*cause = xstrdup("expected a JSON object");
		return -1;
	}
	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			*cause = xasprintf("unknown field '%s'", key);
			return -1;
		}
	}
	return 0;
}

json_t *
jsonx_pack(const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	if (j == NULL)
		fatalx("jsonx_pack '%s': %s", fmt, err.text);
	return j;
}

char *
jsonx_dumps(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	if (text == NULL)
		fatalx("json_dumps: out of memory");
	return text;
}
