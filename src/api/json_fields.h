/* Strict reading of one JSON request object with json-c, as Firecracker's serde models read
 * theirs: every key must be one the endpoint knows (unknown fields are refused), every value
 * must have the field's type, and a required field must be present and not null. An optional
 * field given as null counts as absent. Problems become one-line fault messages. */
#ifndef HARDY_API_JSON_FIELDS_H
#define HARDY_API_JSON_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util/error.h"

/* Parses body (len bytes, need not be NUL-terminated) as one JSON value in strict mode; 0 with
 * *out (the caller puts it), or -1 with err (ERR_INPUT). */
int jf_parse(const char *body, size_t len, struct json_object **out, struct error *err);

/* The value must be an object whose keys all appear in the NULL-terminated list allowed. */
int jf_object(struct json_object *v, const char *what, const char *const *allowed,
	      struct error *err);

/* Getters: 1 when the field is present, 0 when absent (or null), -1 with err on a wrong type,
 * or when required and absent. Strings stay owned by obj. */
int jf_string(struct json_object *obj, const char *key, bool required, const char **out,
	      struct error *err);
int jf_bool(struct json_object *obj, const char *key, bool required, bool *out,
	    struct error *err);
/* A non-negative integer no larger than max (a fraction, a negative or larger value: -1). */
int jf_uint(struct json_object *obj, const char *key, bool required, uint64_t max,
	    uint64_t *out, struct error *err);
/* A present field that hardy does not implement (rate limiters, ...): -1 unless absent/null. */
int jf_refuse(struct json_object *obj, const char *key, const char *why, struct error *err);

#endif
