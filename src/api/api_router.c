/* Request dispatch: a table of routes (method, path, whether it takes {id} and a body, when it
 * may be called), Firecracker's rules for what may change before and after start, and the
 * replies (200 with JSON, 204, or 400/500 with {"fault_message": ...}). */
#include <stdlib.h>
#include <string.h>

#include "api/api_vm.h"
#include "api/json_fields.h"

enum api_when { API_ANYTIME, API_PRE_BOOT, API_POST_BOOT };

struct api_route {
	const char *method;
	const char *path; /* ending in '/' when it takes an {id} */
	bool body;
	enum api_when when;
	api_endpoint_fn fn;
};

static const struct api_route api_routes[] = {
	{ "GET", "/", false, API_ANYTIME, api_get_root },
	{ "GET", "/version", false, API_ANYTIME, api_get_version },
	{ "GET", "/vm/config", false, API_ANYTIME, api_get_vm_config },
	{ "GET", "/machine-config", false, API_ANYTIME, api_get_machine },
	{ "PUT", "/machine-config", true, API_PRE_BOOT, api_put_machine },
	{ "PATCH", "/machine-config", true, API_PRE_BOOT, api_patch_machine },
	{ "PUT", "/boot-source", true, API_PRE_BOOT, api_put_boot_source },
	{ "PUT", "/drives/", true, API_PRE_BOOT, api_put_drive },
	{ "PATCH", "/drives/", true, API_POST_BOOT, api_patch_drive },
	{ "PUT", "/network-interfaces/", true, API_PRE_BOOT, api_put_iface },
	{ "PATCH", "/network-interfaces/", true, API_POST_BOOT, api_patch_iface },
	{ "PUT", "/vsock", true, API_PRE_BOOT, api_put_vsock },
	{ "PUT", "/entropy", true, API_PRE_BOOT, api_put_entropy },
	{ "PUT", "/logger", true, API_PRE_BOOT, api_put_logger },
	{ "PUT", "/metrics", true, API_PRE_BOOT, api_put_metrics },
	{ "PUT", "/actions", true, API_ANYTIME, api_put_actions },
	{ "PATCH", "/vm", true, API_POST_BOOT, api_patch_vm },
};

/* The route for method and path; *id points into path for {id} routes. */
static const struct api_route *api_route_find(const char *method, const char *path,
					      const char **id)
{
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		const struct api_route *r = &api_routes[i];
		if (strcmp(r->method, method))
			continue;
		size_t n = strlen(r->path);
		if (n > 1 && r->path[n - 1] == '/') {
			if (strncmp(path, r->path, n) || !path[n] || strchr(path + n, '/'))
				continue;
			*id = path + n;
			return r;
		}
		if (!strcmp(path, r->path)) {
			*id = NULL;
			return r;
		}
	}
	return NULL;
}

static char *api_json_string(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	return s ? strdup(s) : NULL;
}

static void api_fault(struct api_reply *reply, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	reply->status = status;
	reply->body = api_json_string(o);
	json_object_put(o);
}

static int api_dispatch(struct api_vm *vm, const char *method, const char *path,
			const char *body, size_t len, struct api_reply *reply, struct error *err)
{
	const char *id = NULL;
	const struct api_route *r = api_route_find(method, path, &id);
	if (!r)
		return error_set(err, ERR_INPUT, "Invalid request method and/or path: %.10s %.200s",
				 method, path);
	if (r->when == API_PRE_BOOT && vm->started)
		return error_set(err, ERR_INPUT, "The requested operation is not supported after "
				 "starting the microVM.");
	if (r->when == API_POST_BOOT && !vm->started)
		return error_set(err, ERR_INPUT, "The requested operation is not supported before "
				 "starting the microVM.");
	struct json_object *req = NULL, *out = NULL;
	if (r->body && jf_parse(body, len, &req, err) < 0)
		return -1;
	int rc = r->fn(vm, id, req, &out, err);
	json_object_put(req);
	if (rc < 0) {
		json_object_put(out);
		return -1;
	}
	reply->status = out ? 200 : 204;
	if (out) {
		reply->body = api_json_string(out);
		json_object_put(out);
		if (!reply->body)
			return error_set(err, ERR_RUNTIME, "out of memory");
	}
	return 0;
}

void api_vm_handle(struct api_vm *vm, const char *method, const char *path, const char *body,
		   size_t len, struct api_reply *reply)
{
	*reply = (struct api_reply){ 0 };
	struct error err = { 0 };
	vm->requests++;
	if (api_dispatch(vm, method, path, body, len, reply, &err) < 0) {
		vm->failed_requests++;
		api_error_oneline(&err);
		free(reply->body);
		api_fault(reply, err.status == ERR_INPUT ? 400 : 500, err.msg);
		api_log(vm, API_LOG_WARNING, "%.10s %.200s: %d %s", method, path, reply->status,
			err.msg);
		return;
	}
	api_log(vm, API_LOG_INFO, "%.10s %.200s: %d", method, path, reply->status);
}

void api_reply_free(struct api_reply *reply)
{
	free(reply->body);
	reply->body = NULL;
}
