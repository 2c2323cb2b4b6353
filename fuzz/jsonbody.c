/*
 * libFuzzer target for REST request bodies: json_loadb with the flags the
 * API uses, then jsonx_check_fields and every jsonx getter over the result,
 * as the launch route reads its body (api-apps.c).
 *
 * Beyond not crashing: a getter that reads a value hands back one of the
 * right type and range, one that fails says why, and an accepted field list
 * holds only known names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_jsonbody_fields[] = { "node", "artifact",
	"path", "args", "env", "cwd", "name", "log_max", "log_keep",
	"timeout_s", "signal", "follow", "cpu_pct", NULL };

/* rc and cause must agree: -1 with a cause, otherwise none. */
static void
fuzz_jsonbody_check(int rc, char **cause)
{
	if (rc < -1 || rc > 1 || (rc == -1) != (*cause != NULL))
		abort();
	free(*cause);
	*cause = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body, *v, *arr, *obj;
	json_error_t jerr;
	const char *s, *key;
	long long n;
	double d;
	bool b;
	size_t i;
	int rc;
	char *cause = NULL;

	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (body == NULL)
		return 0;

	rc = jsonx_check_fields(body, fuzz_jsonbody_fields, &cause);
	if (rc == 0) {
		json_object_foreach(body, key, v) {
			for (i = 0; fuzz_jsonbody_fields[i] != NULL; i++)
				if (strcmp(fuzz_jsonbody_fields[i], key) == 0)
					break;
			if (fuzz_jsonbody_fields[i] == NULL)
				abort();
		}
	}
	fuzz_jsonbody_check(rc, &cause);

	for (i = 0; fuzz_jsonbody_fields[i] != NULL; i++) {
		const char *f = fuzz_jsonbody_fields[i];
		bool req = i % 2 == 0;

		rc = jsonx_get_str(body, f, req, &s, &cause);
		if (rc == 0 && strlen(s) != json_string_length(
		    json_object_get(body, f)))
			abort();
		fuzz_jsonbody_check(rc, &cause);
		rc = jsonx_get_int(body, f, req, 4096, 1LL << 40, &n, &cause);
		if (rc == 0 && (n < 4096 || n > 1LL << 40))
			abort();
		fuzz_jsonbody_check(rc, &cause);
		rc = jsonx_get_num(body, f, req, &d, &cause);
		if (rc == 0 && d != d)
			abort();
		fuzz_jsonbody_check(rc, &cause);
		rc = jsonx_get_bool(body, f, req, &b, &cause);
		fuzz_jsonbody_check(rc, &cause);
		rc = jsonx_get_array(body, f, req, &arr, &cause);
		if (rc == 0 && !json_is_array(arr))
			abort();
		fuzz_jsonbody_check(rc, &cause);
		rc = jsonx_get_object(body, f, req, &obj, &cause);
		if (rc == 0 && !json_is_object(obj))
			abort();
		fuzz_jsonbody_check(rc, &cause);
	}

	/* Nested: the env object's values and the args array's elements. */
	if (jsonx_get_object(body, "env", false, &obj, &cause) == 0) {
		json_object_foreach(obj, key, v) {
			rc = jsonx_get_str(obj, key, true, &s, &cause);
			fuzz_jsonbody_check(rc, &cause);
		}
	}
	free(cause);
	cause = NULL;
	if (jsonx_get_array(body, "args", false, &arr, &cause) == 0) {
		json_array_foreach(arr, i, v) {
			rc = jsonx_check_fields(v, fuzz_jsonbody_fields, &cause);
			fuzz_jsonbody_check(rc, &cause);
		}
	}
	free(cause);
	json_decref(body);
	return 0;
}
