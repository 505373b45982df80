/* The VM description as one JSON document: GET /vm/config writes it, --config-file reads it.
 * Both use Firecracker's section names; reading goes through the same endpoint functions as
 * the API, so a file is checked exactly as the requests would be. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "api/json_fields.h"

#define API_CONFIG_FILE_MAX (1u << 20)

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *api_drives_json(const struct api_vm *vm)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < vm->nr_drives; i++) {
		const struct api_drive *d = &vm->drives[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "drive_id", json_object_new_string(d->drive_id));
		json_object_object_add(o, "partuuid", jstr_or_null(d->partuuid));
		json_object_object_add(o, "is_root_device", json_object_new_boolean(d->root));
		json_object_object_add(o, "cache_type", json_object_new_string(
			d->cache == API_CACHE_WRITEBACK ? "Writeback" : "Unsafe"));
		json_object_object_add(o, "is_read_only",
				       json_object_new_boolean(vm->cfg->disks[i].readonly));
		json_object_object_add(o, "path_on_host",
				       json_object_new_string(vm->cfg->disks[i].path));
		json_object_object_add(o, "rate_limiter", NULL);
		json_object_object_add(o, "io_engine", json_object_new_string(
			d->engine == API_IO_ASYNC ? "Async" : "Sync"));
		json_object_object_add(o, "socket", NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *api_ifaces_json(const struct api_vm *vm)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < vm->nr_ifaces; i++) {
		const struct api_iface *f = &vm->ifaces[i];
		const uint8_t *m = vm->cfg->nets[i].mac;
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "iface_id", json_object_new_string(f->iface_id));
		json_object_object_add(o, "host_dev_name", json_object_new_string(f->host_dev_name));
		json_object_object_add(o, "guest_mac", json_object_new_string(mac));
		json_object_object_add(o, "rx_rate_limiter", NULL);
		json_object_object_add(o, "tx_rate_limiter", NULL);
		if (f->nr_hostfwd) {
			struct json_object *fw = json_object_new_array();
			for (unsigned r = 0; r < f->nr_hostfwd; r++)
				json_object_array_add(fw, json_object_new_string(f->hostfwd[r]));
			json_object_object_add(o, "hostfwd", fw);
		}
		json_object_array_add(a, o);
	}
	return a;
}

int api_get_vm_config(struct api_vm *vm, const char *id, struct json_object *body,
		      struct json_object **reply, struct error *err)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "balloon", NULL);
	json_object_object_add(o, "drives", api_drives_json(vm));
	struct json_object *boot = NULL;
	if (vm->boot_set) {
		boot = json_object_new_object();
		json_object_object_add(boot, "kernel_image_path",
				       json_object_new_string(vm->cfg->kernel_path));
		json_object_object_add(boot, "initrd_path", jstr_or_null(vm->cfg->initrd_path));
		json_object_object_add(boot, "boot_args", jstr_or_null(vm->boot_args));
	}
	json_object_object_add(o, "boot-source", boot);
	json_object_object_add(o, "cpu-config", NULL);
	struct json_object *logger = NULL;
	if (vm->logger.set) {
		static const char *const names[] = { "Off", "Error", "Warning", "Info", "Debug",
						     "Trace" };
		logger = json_object_new_object();
		json_object_object_add(logger, "log_path", jstr_or_null(vm->logger.path));
		json_object_object_add(logger, "level", json_object_new_string(names[vm->logger.level]));
		json_object_object_add(logger, "show_level",
				       json_object_new_boolean(vm->logger.show_level));
		json_object_object_add(logger, "show_log_origin",
				       json_object_new_boolean(vm->logger.show_origin));
		json_object_object_add(logger, "module", jstr_or_null(vm->logger.module));
	}
	json_object_object_add(o, "logger", logger);
	struct json_object *mc = NULL;
	api_get_machine(vm, NULL, NULL, &mc, err);
	json_object_object_add(o, "machine-config", mc);
	struct json_object *metrics = NULL;
	if (vm->metrics.set) {
		metrics = json_object_new_object();
		json_object_object_add(metrics, "metrics_path",
				       json_object_new_string(vm->metrics.path));
	}
	json_object_object_add(o, "metrics", metrics);
	json_object_object_add(o, "mmds-config", NULL);
	json_object_object_add(o, "network-interfaces", api_ifaces_json(vm));
	struct json_object *vsock = NULL;
	if (vm->vsock_set) {
		vsock = json_object_new_object();
		if (vm->vsock_id)
			json_object_object_add(vsock, "vsock_id", json_object_new_string(vm->vsock_id));
		json_object_object_add(vsock, "guest_cid", json_object_new_uint64(vm->vsock_cid));
		json_object_object_add(vsock, "uds_path", json_object_new_string(vm->vsock_uds));
	}
	json_object_object_add(o, "vsock", vsock);
	json_object_object_add(o, "entropy", vm->cfg->rng ? json_object_new_object() : NULL);
	*reply = o;
	return 0;
}

/* Prefixes err's message with the section that failed ("drives[1]: ..."). */
static int api_section_error(struct error *err, const char *section, int index)
{
	char msg[sizeof(err->msg)];
	size_t n = strlen(section);
	/* The endpoints' messages may name the section already ("drive: ...", "vsock: ..."). */
	const char *m = err->msg;
	if (!strncmp(m, section, n) && m[n] == ':' && m[n + 1] == ' ')
		m += n + 2;
	snprintf(msg, sizeof(msg), "%s", m);
	int status = err->status ? err->status : ERR_INPUT;
	err->status = ERR_OK;
	if (index >= 0)
		return error_set(err, status, "%s[%d]: %s", section, index, msg);
	return error_set(err, status, "%s: %s", section, msg);
}

/* A section holding one object: the endpoint applies it (absent or null: skipped). */
static int api_load_object(struct api_vm *vm, struct json_object *doc, const char *section,
			   api_endpoint_fn fn, struct error *err)
{
	struct json_object *v = NULL, *out = NULL;
	if (!json_object_object_get_ex(doc, section, &v) || !v)
		return 0;
	int rc = fn(vm, NULL, v, &out, err);
	json_object_put(out);
	return rc < 0 ? api_section_error(err, section, -1) : 0;
}

/* A section holding a list of objects, each with its id in id_key. */
static int api_load_list(struct api_vm *vm, struct json_object *doc, const char *section,
			 const char *id_key, api_endpoint_fn fn, struct error *err)
{
	struct json_object *a = NULL;
	if (!json_object_object_get_ex(doc, section, &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return error_set(err, ERR_INPUT, "%s: expected an array", section);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *item = json_object_array_get_idx(a, i), *id = NULL, *out = NULL;
		const char *ids = "";
		if (item && json_object_is_type(item, json_type_object) &&
		    json_object_object_get_ex(item, id_key, &id) && id &&
		    json_object_is_type(id, json_type_string))
			ids = json_object_get_string(id);
		int rc = item ? fn(vm, ids, item, &out, err)
			      : error_set(err, ERR_INPUT, "expected an object");
		json_object_put(out);
		if (rc < 0)
			return api_section_error(err, section, (int)i);
	}
	return 0;
}

int api_vm_load_config(struct api_vm *vm, const char *json, size_t len, struct error *err)
{
	static const char *const sections[] = { "boot-source", "drives", "machine-config",
						"network-interfaces", "vsock", "entropy", "logger",
						"metrics", "balloon", "cpu-config", "mmds-config",
						NULL };
	struct json_object *doc = NULL;
	if (jf_parse(json, len, &doc, err) < 0)
		return -1;
	int rc = jf_object(doc, "config", sections, err);
	rc = rc ? rc : jf_refuse(doc, "balloon", "hardy has no balloon device", err);
	rc = rc ? rc : jf_refuse(doc, "cpu-config", "hardy has no CPU templates", err);
	rc = rc ? rc : jf_refuse(doc, "mmds-config", "hardy has no MMDS", err);
	/* Firecracker's order: the logger and metrics first, so the rest is logged. */
	rc = rc ? rc : api_load_object(vm, doc, "logger", api_put_logger, err);
	rc = rc ? rc : api_load_object(vm, doc, "metrics", api_put_metrics, err);
	rc = rc ? rc : api_load_object(vm, doc, "machine-config", api_put_machine, err);
	rc = rc ? rc : api_load_object(vm, doc, "boot-source", api_put_boot_source, err);
	rc = rc ? rc : api_load_list(vm, doc, "drives", "drive_id", api_put_drive, err);
	rc = rc ? rc : api_load_list(vm, doc, "network-interfaces", "iface_id", api_put_iface,
				     err);
	rc = rc ? rc : api_load_object(vm, doc, "vsock", api_put_vsock, err);
	rc = rc ? rc : api_load_object(vm, doc, "entropy", api_put_entropy, err);
	json_object_put(doc);
	if (rc < 0)
		api_error_oneline(err);
	return rc;
}

int api_vm_load_config_file(struct api_vm *vm, const char *path, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, ERR_INPUT, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > API_CONFIG_FILE_MAX) {
		close(fd);
		return error_set(err, ERR_INPUT, "not a regular file of at most %u bytes",
				 API_CONFIG_FILE_MAX);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return error_errno(err, "out of memory");
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	int rc = api_vm_load_config(vm, buf, got, err);
	free(buf);
	return rc;
}
