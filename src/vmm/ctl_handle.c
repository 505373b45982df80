/* The control socket's requests and replies (ctl_server.h), without any socket: a route
 * table, strict JSON bodies (unknown fields refused), Firecracker's status codes. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/ctl_server.h"

#ifndef HARDY_VERSION
#define HARDY_VERSION "dev"
#endif

struct ctl_req {
	const struct ctl_ops *ops;
	void *ctx;
	const char *id;
	struct json_object *body; /* NULL for GET */
	struct json_object *reply;
	struct error err;
};

static enum vm_state ctl_state(struct ctl_req *r)
{
	return r->ops->state ? r->ops->state(r->ctx) : VM_STATE_NOT_STARTED;
}

/* The body's one string field named key; every other field is refused. */
static const char *ctl_only_string(struct ctl_req *r, const char *key)
{
	if (!r->body || !json_object_is_type(r->body, json_type_object)) {
		error_set(&r->err, ERR_INPUT, "the body must be a JSON object");
		return NULL;
	}
	const char *val = NULL;
	json_object_object_foreach(r->body, k, v) {
		if (strcmp(k, key)) {
			error_set(&r->err, ERR_INPUT, "unknown field '%.40s'", k);
			return NULL;
		}
		if (!json_object_is_type(v, json_type_string)) {
			error_set(&r->err, ERR_INPUT, "'%s' must be a string", key);
			return NULL;
		}
		val = json_object_get_string(v);
	}
	if (!val)
		error_set(&r->err, ERR_INPUT, "missing field '%s'", key);
	return val;
}

static int ctl_get_root(struct ctl_req *r)
{
	enum vm_state s = ctl_state(r);
	r->reply = json_object_new_object();
	json_object_object_add(r->reply, "id", json_object_new_string(r->id));
	json_object_object_add(r->reply, "state", json_object_new_string(vm_state_name(s)));
	json_object_object_add(r->reply, "vmm_version", json_object_new_string(HARDY_VERSION));
	json_object_object_add(r->reply, "app_name", json_object_new_string("hardy"));
	return 0;
}

static struct json_object *ctl_machine_json(const struct vm_config *c)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "vcpu_count", json_object_new_int((int)c->ncpus));
	json_object_object_add(m, "mem_size_mib", json_object_new_int64((int64_t)(c->mem_size >> 20)));
	json_object_object_add(m, "smt", json_object_new_boolean(0));
	return m;
}

static const struct vm_config *ctl_config(struct ctl_req *r)
{
	const struct vm_config *c = r->ops->config ? r->ops->config(r->ctx) : NULL;
	if (!c)
		error_set(&r->err, ERR_INPUT, "the VM is not configured yet");
	return c;
}

static int ctl_get_machine(struct ctl_req *r)
{
	const struct vm_config *c = ctl_config(r);
	if (!c)
		return -1;
	r->reply = ctl_machine_json(c);
	return 0;
}

static void ctl_add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

/* The VM as GET /vm/config describes it, in the Firecracker config file's section names. */
static int ctl_get_vm_config(struct ctl_req *r)
{
	const struct vm_config *c = ctl_config(r);
	if (!c)
		return -1;
	struct json_object *o = json_object_new_object(), *boot = json_object_new_object();
	ctl_add_str(boot, "kernel_image_path", c->kernel_path);
	ctl_add_str(boot, "initrd_path", c->initrd_path);
	ctl_add_str(boot, "boot_args", c->cmdline);
	json_object_object_add(o, "boot-source", boot);
	json_object_object_add(o, "machine-config", ctl_machine_json(c));
	struct json_object *drives = json_object_new_array();
	for (unsigned i = 0; i < c->nr_disks; i++) {
		struct json_object *d = json_object_new_object();
		char id[16];
		snprintf(id, sizeof(id), "vd%c", 'a' + i);
		ctl_add_str(d, "drive_id", c->disks[i].id ? c->disks[i].id : id);
		ctl_add_str(d, "path_on_host", c->disks[i].path);
		json_object_object_add(d, "is_root_device", json_object_new_boolean(0));
		json_object_object_add(d, "is_read_only", json_object_new_boolean(c->disks[i].readonly));
		json_object_array_add(drives, d);
	}
	json_object_object_add(o, "drives", drives);
	struct json_object *nics = json_object_new_array();
	for (unsigned i = 0; i < c->nr_nets; i++) {
		struct json_object *n = json_object_new_object();
		char id[16], mac[18];
		const uint8_t *m = c->nets[i].mac;
		snprintf(id, sizeof(id), "eth%u", i);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		ctl_add_str(n, "iface_id", id);
		if (c->nets[i].kind == NET_TAP)
			ctl_add_str(n, "host_dev_name", c->nets[i].ifname);
		ctl_add_str(n, "guest_mac", mac);
		json_object_array_add(nics, n);
	}
	json_object_object_add(o, "network-interfaces", nics);
	if (c->vsock.enabled) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "guest_cid", json_object_new_int64((int64_t)c->vsock.cid));
		ctl_add_str(v, "uds_path", c->vsock.uds_path);
		json_object_object_add(o, "vsock", v);
	}
	if (c->rng)
		json_object_object_add(o, "entropy", json_object_new_object());
	r->reply = o;
	return 0;
}

static int ctl_call(struct ctl_req *r, int (*fn)(void *, struct error *), const char *what)
{
	if (!fn)
		return error_set(&r->err, ERR_INPUT, "%s is not supported", what);
	return fn(r->ctx, &r->err);
}

static int ctl_patch_vm(struct ctl_req *r)
{
	const char *state = ctl_only_string(r, "state");
	if (!state)
		return -1;
	if (!strcmp(state, "Paused"))
		return ctl_call(r, r->ops->pause, "pausing");
	if (!strcmp(state, "Resumed"))
		return ctl_call(r, r->ops->resume, "resuming");
	return error_set(&r->err, ERR_INPUT, "state '%.40s': expected Paused or Resumed", state);
}

static int ctl_put_actions(struct ctl_req *r)
{
	const char *action = ctl_only_string(r, "action_type");
	if (!action)
		return -1;
	if (!strcmp(action, "SendCtrlAltDel"))
		return ctl_call(r, r->ops->ctrl_alt_del, "SendCtrlAltDel");
	if (!strcmp(action, "InstanceStart"))
		return error_set(&r->err, ERR_INPUT, "InstanceStart: the control socket cannot "
				 "configure a VM (use --api-sock)");
	if (!strcmp(action, "FlushMetrics"))
		return 0;
	return error_set(&r->err, ERR_INPUT, "action_type '%.40s': unknown", action);
}

static const struct ctl_route {
	const char *method, *path;
	int (*fn)(struct ctl_req *r);
} ctl_routes[] = {
	{ "GET", "/", ctl_get_root },
	{ "GET", "/machine-config", ctl_get_machine },
	{ "GET", "/vm/config", ctl_get_vm_config },
	{ "PATCH", "/vm", ctl_patch_vm },
	{ "PUT", "/actions", ctl_put_actions },
};

static char *ctl_fault(const char *msg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

void ctl_handle(const struct ctl_ops *ops, void *ctx, const char *id, const char *method,
		const char *url, const char *body, size_t len, int *status, char **reply)
{
	struct ctl_req r = { .ops = ops, .ctx = ctx, .id = id };
	const struct ctl_route *route = NULL;
	bool path_known = false;
	for (size_t i = 0; i < sizeof(ctl_routes) / sizeof(ctl_routes[0]); i++) {
		if (strcmp(ctl_routes[i].path, url))
			continue;
		path_known = true;
		if (!strcmp(ctl_routes[i].method, method))
			route = &ctl_routes[i];
	}
	*reply = NULL;
	if (!route) {
		*status = path_known ? 405 : 400;
		*reply = ctl_fault(path_known ? "method not allowed" : "invalid request path");
		return;
	}
	if (strcmp(method, "GET")) {
		struct json_tokener *tok = json_tokener_new();
		r.body = tok && len <= CTL_MAX_BODY ? json_tokener_parse_ex(tok, body ? body : "", (int)len)
						      : NULL;
		if (tok && (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) < len)) {
			json_object_put(r.body);
			r.body = NULL;
		}
		json_tokener_free(tok);
		if (!r.body) {
			*status = 400;
			*reply = ctl_fault("the body is not valid JSON");
			return;
		}
	}
	int rc = route->fn(&r);
	json_object_put(r.body);
	if (rc < 0) {
		json_object_put(r.reply);
		*status = r.err.status == ERR_INPUT ? 400 : 500;
		*reply = ctl_fault(r.err.msg[0] ? r.err.msg : "request failed");
		return;
	}
	if (!r.reply) {
		*status = 204;
		return;
	}
	*status = 200;
	*reply = strdup(json_object_to_json_string_ext(r.reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(r.reply);
}
