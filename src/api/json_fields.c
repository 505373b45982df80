/* Strict JSON object reading for the API and the config file (see json_fields.h). */
#include "api/json_fields.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int jf_parse(const char *body, size_t len, struct json_object **out, struct error *err)
{
	if (len == 0)
		return error_set(err, ERR_INPUT, "the request needs a JSON body");
	if (len > INT32_MAX)
		return error_set(err, ERR_INPUT, "the JSON body is too large");
	/* A NUL after the body tells the tokener the input ends (a bare literal such as null
	 * or 5 would otherwise wait for more). */
	char *buf = malloc(len + 1);
	struct json_tokener *tok = json_tokener_new();
	if (!buf || !tok) {
		free(buf);
		if (tok)
			json_tokener_free(tok);
		return error_set(err, ERR_RUNTIME, "out of memory");
	}
	memcpy(buf, body, len);
	buf[len] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *v = json_tokener_parse_ex(tok, buf, (int)len + 1);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	free(buf);
	if (jerr == json_tokener_continue)
		return error_set(err, ERR_INPUT, "malformed JSON: the body ends inside a value");
	if (jerr != json_tokener_success)
		return error_set(err, ERR_INPUT, "malformed JSON: %s at byte %zu",
				 json_tokener_error_desc(jerr), used);
	/* Only white space may follow the one value (a NUL inside the body ends it early). */
	for (size_t i = used; i < len; i++) {
		if (!body[i] || !strchr(" \t\r\n", body[i])) {
			json_object_put(v);
			return error_set(err, ERR_INPUT, "malformed JSON: trailing characters at byte %zu",
					 i);
		}
	}
	*out = v;
	return 0;
}

int jf_object(struct json_object *v, const char *what, const char *const *allowed,
	      struct error *err)
{
	if (!json_object_is_type(v, json_type_object))
		return error_set(err, ERR_INPUT, "%s: expected a JSON object", what);
	json_object_object_foreach(v, key, val) {
		(void)val;
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = !strcmp(*a, key);
		if (!known)
			return error_set(err, ERR_INPUT, "%s: unknown field `%.64s`", what, key);
	}
	return 0;
}

/* The field's value, or NULL when it is absent or null. */
static struct json_object *jf_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v; /* json null is stored as a NULL value */
}

static int jf_absent(const char *key, bool required, struct error *err)
{
	if (required)
		return error_set(err, ERR_INPUT, "missing field `%s`", key);
	return 0;
}

int jf_string(struct json_object *obj, const char *key, bool required, const char **out,
	      struct error *err)
{
	struct json_object *v = jf_get(obj, key);
	if (!v)
		return jf_absent(key, required, err);
	if (!json_object_is_type(v, json_type_string))
		return error_set(err, ERR_INPUT, "`%s`: expected a string", key);
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return error_set(err, ERR_INPUT, "`%s`: contains a NUL character", key);
	*out = s;
	return 1;
}

int jf_bool(struct json_object *obj, const char *key, bool required, bool *out,
	    struct error *err)
{
	struct json_object *v = jf_get(obj, key);
	if (!v)
		return jf_absent(key, required, err);
	if (!json_object_is_type(v, json_type_boolean))
		return error_set(err, ERR_INPUT, "`%s`: expected true or false", key);
	*out = json_object_get_boolean(v);
	return 1;
}

int jf_uint(struct json_object *obj, const char *key, bool required, uint64_t max,
	    uint64_t *out, struct error *err)
{
	struct json_object *v = jf_get(obj, key);
	if (!v)
		return jf_absent(key, required, err);
	if (!json_object_is_type(v, json_type_int))
		return error_set(err, ERR_INPUT, "`%s`: expected an integer", key);
	/* json-c keeps integers past INT64_MAX as unsigned; negative ones read as 0 unsigned. */
	if (json_object_get_int64(v) < 0)
		return error_set(err, ERR_INPUT, "`%s`: must not be negative", key);
	uint64_t u = json_object_get_uint64(v);
	if (u > max)
		return error_set(err, ERR_INPUT, "`%s`: %" PRIu64 " is more than %" PRIu64, key, u,
				 max);
	*out = u;
	return 1;
}

int jf_refuse(struct json_object *obj, const char *key, const char *why, struct error *err)
{
	if (!jf_get(obj, key))
		return 0;
	return error_set(err, ERR_INPUT, "`%s`: %s", key, why);
}
