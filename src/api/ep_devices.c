/* Device endpoints: PUT|PATCH /drives/{id}, PUT|PATCH /network-interfaces/{id}, PUT /vsock,
 * PUT /entropy. Each checks the whole request before it changes anything. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "api/json_fields.h"

static const char no_limiter[] = "hardy has no rate limiters";

static int api_id_matches(const char *what, const char *path_id, const char *body_id,
			  struct error *err)
{
	if (api_check_id(what, body_id, err) < 0)
		return -1;
	if (strcmp(path_id, body_id))
		return error_set(err, ERR_INPUT, "The id from the path does not match the id from "
				 "the body!");
	return 0;
}

int api_put_drive(struct api_vm *vm, const char *id, struct json_object *body,
		  struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "drive_id", "path_on_host", "is_root_device",
					      "is_read_only", "partuuid", "cache_type", "io_engine",
					      "rate_limiter", "socket", NULL };
	const char *drive_id = NULL, *path = NULL, *partuuid = NULL, *cache = NULL, *engine = NULL;
	bool root = false, ro = false;
	if (jf_object(body, "drive", fields, err) < 0 ||
	    jf_string(body, "drive_id", true, &drive_id, err) < 0 ||
	    jf_refuse(body, "socket", "hardy has no vhost-user drives", err) < 0 ||
	    jf_string(body, "path_on_host", true, &path, err) < 0 ||
	    jf_bool(body, "is_root_device", true, &root, err) < 0 ||
	    jf_bool(body, "is_read_only", false, &ro, err) < 0 ||
	    jf_string(body, "partuuid", false, &partuuid, err) < 0 ||
	    jf_string(body, "cache_type", false, &cache, err) < 0 ||
	    jf_string(body, "io_engine", false, &engine, err) < 0 ||
	    jf_refuse(body, "rate_limiter", no_limiter, err) < 0 ||
	    api_id_matches("drive_id", id, drive_id, err) < 0)
		return -1;
	if (cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback"))
		return error_set(err, ERR_INPUT, "cache_type: expected \"Unsafe\" or \"Writeback\"");
	if (engine && strcmp(engine, "Sync") && strcmp(engine, "Async"))
		return error_set(err, ERR_INPUT, "io_engine: expected \"Sync\" or \"Async\"");
	if (partuuid && (!partuuid[0] || strlen(partuuid) > 64 || strpbrk(partuuid, " \t\n")))
		return error_set(err, ERR_INPUT, "partuuid: expected a partition UUID");
	if (partuuid && !root)
		return error_set(err, ERR_INPUT, "partuuid: only for the root device");
	if (!path[0])
		return error_set(err, ERR_INPUT, "path_on_host: must not be empty");
	if (access(path, ro ? R_OK : R_OK | W_OK) != 0)
		return error_set(err, ERR_INPUT, "path_on_host: cannot open '%.200s'%s: %s", path,
				 ro ? "" : " for writing", strerror(errno));

	struct api_drive *old = api_find_drive(vm, drive_id);
	for (unsigned i = 0; i < vm->nr_drives; i++)
		if (root && vm->drives[i].root && &vm->drives[i] != old)
			return error_set(err, ERR_INPUT, "A root block device already exists!");
	if (!old && vm->nr_drives == HARDY_MAX_DISKS)
		return error_set(err, ERR_INPUT, "drives: at most %d", HARDY_MAX_DISKS);

	struct api_drive d = {
		.root = root,
		.readonly = ro,
		.cache = cache && !strcmp(cache, "Writeback") ? API_CACHE_WRITEBACK : API_CACHE_UNSAFE,
		.engine = engine && !strcmp(engine, "Async") ? API_IO_ASYNC : API_IO_SYNC,
	};
	if (api_strdup(&d.drive_id, drive_id, err) < 0 || api_strdup(&d.path, path, err) < 0 ||
	    api_strdup(&d.partuuid, partuuid, err) < 0) {
		free(d.drive_id);
		free(d.path);
		return -1;
	}
	/* The new list: the old one without this id, this drive first when it is the root
	 * (it becomes /dev/vda), else where it was or last. */
	struct api_drive list[HARDY_MAX_DISKS];
	unsigned n = 0;
	if (root)
		list[n++] = d;
	for (unsigned i = 0; i < vm->nr_drives; i++) {
		if (&vm->drives[i] == old) {
			if (!root)
				list[n++] = d;
			continue;
		}
		list[n++] = vm->drives[i];
	}
	if (!root && !old)
		list[n++] = d;
	struct api_drive gone = old ? *old : (struct api_drive){ 0 };
	memcpy(vm->drives, list, sizeof(list[0]) * n);
	vm->nr_drives = n;
	free(gone.drive_id);
	free(gone.path);
	free(gone.partuuid);
	return api_vm_sync(vm, err);
}

int api_patch_drive(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "drive_id", "path_on_host", "rate_limiter", NULL };
	const char *drive_id = NULL, *path = NULL;
	if (jf_object(body, "drive", fields, err) < 0 ||
	    jf_string(body, "drive_id", true, &drive_id, err) < 0 ||
	    jf_string(body, "path_on_host", false, &path, err) < 0 ||
	    jf_refuse(body, "rate_limiter", no_limiter, err) < 0 ||
	    api_id_matches("drive_id", id, drive_id, err) < 0)
		return -1;
	struct api_drive *d = api_find_drive(vm, drive_id);
	if (!d)
		return error_set(err, ERR_INPUT, "drive_id: no drive '%s'", drive_id);
	if (path && strcmp(path, d->path))
		return error_set(err, ERR_INPUT,
				 "path_on_host: hardy cannot replace a running drive's image");
	return 0;
}

/* host_dev_name "user" is hardy's user-mode network (libslirp); anything else a TAP. */
int api_put_iface(struct api_vm *vm, const char *id, struct json_object *body,
		  struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "iface_id", "host_dev_name", "guest_mac",
					      "rx_rate_limiter", "tx_rate_limiter", "hostfwd",
					      NULL };
	const char *iface_id = NULL, *dev = NULL, *mac = NULL;
	if (jf_object(body, "network-interface", fields, err) < 0 ||
	    jf_string(body, "iface_id", true, &iface_id, err) < 0 ||
	    jf_string(body, "host_dev_name", true, &dev, err) < 0 ||
	    jf_string(body, "guest_mac", false, &mac, err) < 0 ||
	    jf_refuse(body, "rx_rate_limiter", no_limiter, err) < 0 ||
	    jf_refuse(body, "tx_rate_limiter", no_limiter, err) < 0 ||
	    api_id_matches("iface_id", id, iface_id, err) < 0)
		return -1;
	if (!dev[0] || strlen(dev) > HARDY_IFNAME_MAX || strpbrk(dev, ",=/: \t\n"))
		return error_set(err, ERR_INPUT, "host_dev_name: expected a TAP interface name "
				 "(1-%d characters) or \"user\"", HARDY_IFNAME_MAX);
	if (mac && (!mac[0] || strpbrk(mac, ",=")))
		return error_set(err, ERR_INPUT, "guest_mac: expected a MAC address");
	struct json_object *fwd = NULL;
	if (json_object_object_get_ex(body, "hostfwd", &fwd) && fwd) {
		if (!json_object_is_type(fwd, json_type_array))
			return error_set(err, ERR_INPUT, "`hostfwd`: expected an array of strings");
		if (strcmp(dev, "user"))
			return error_set(err, ERR_INPUT, "hostfwd: only with host_dev_name \"user\"");
		if (json_object_array_length(fwd) > HARDY_MAX_HOSTFWD)
			return error_set(err, ERR_INPUT, "hostfwd: at most %d rules", HARDY_MAX_HOSTFWD);
	}
	struct api_iface *old = api_find_iface(vm, iface_id);
	if (!old && vm->nr_ifaces == HARDY_MAX_NICS)
		return error_set(err, ERR_INPUT, "network-interfaces: at most %d", HARDY_MAX_NICS);
	for (unsigned i = 0; i < vm->nr_ifaces; i++) {
		const struct api_iface *o = &vm->ifaces[i];
		if (o == old)
			continue;
		if (strcmp(dev, "user") && !strcmp(o->host_dev_name, dev))
			return error_set(err, ERR_INPUT, "host_dev_name: '%s' is used by '%s'", dev,
					 o->iface_id);
		if (mac && o->guest_mac && !strcasecmp(o->guest_mac, mac))
			return error_set(err, ERR_INPUT, "guest_mac: %s is used by '%s'", mac,
					 o->iface_id);
	}

	struct api_iface f = { 0 };
	int rc = api_strdup(&f.iface_id, iface_id, err);
	rc = rc ? rc : api_strdup(&f.host_dev_name, dev, err);
	rc = rc ? rc : api_strdup(&f.guest_mac, mac, err);
	for (size_t i = 0; fwd && rc == 0 && i < json_object_array_length(fwd); i++) {
		struct json_object *r = json_object_array_get_idx(fwd, i);
		if (!r || !json_object_is_type(r, json_type_string) ||
		    strpbrk(json_object_get_string(r), ","))
			rc = error_set(err, ERR_INPUT, "hostfwd[%zu]: expected a rule string "
				       "tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT", i);
		else
			rc = api_strdup(&f.hostfwd[f.nr_hostfwd++], json_object_get_string(r), err);
	}
	unsigned index = old ? (unsigned)(old - vm->ifaces) : vm->nr_ifaces;
	if (rc < 0) {
		free(f.iface_id);
		free(f.host_dev_name);
		free(f.guest_mac);
		for (unsigned i = 0; i < f.nr_hostfwd; i++)
			free(f.hostfwd[i]);
		return -1;
	}
	/* Taken, then judged by the CLI's --net parser (MAC syntax, hostfwd rules) in
	 * api_vm_sync; refused, the old interface (or none) comes back. */
	struct api_iface gone = old ? *old : (struct api_iface){ 0 };
	vm->ifaces[index] = f;
	if (!old)
		vm->nr_ifaces++;
	if (api_vm_sync(vm, err) < 0) {
		if (old)
			vm->ifaces[index] = gone;
		else
			vm->nr_ifaces--;
		api_vm_sync(vm, &(struct error){ 0 });
		free(f.iface_id);
		free(f.host_dev_name);
		free(f.guest_mac);
		for (unsigned i = 0; i < f.nr_hostfwd; i++)
			free(f.hostfwd[i]);
		return -1;
	}
	free(gone.iface_id);
	free(gone.host_dev_name);
	free(gone.guest_mac);
	for (unsigned i = 0; i < gone.nr_hostfwd; i++)
		free(gone.hostfwd[i]);
	return 0;
}

int api_patch_iface(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "iface_id", "rx_rate_limiter", "tx_rate_limiter",
					      NULL };
	const char *iface_id = NULL;
	if (jf_object(body, "network-interface", fields, err) < 0 ||
	    jf_string(body, "iface_id", true, &iface_id, err) < 0 ||
	    jf_refuse(body, "rx_rate_limiter", no_limiter, err) < 0 ||
	    jf_refuse(body, "tx_rate_limiter", no_limiter, err) < 0 ||
	    api_id_matches("iface_id", id, iface_id, err) < 0)
		return -1;
	if (!api_find_iface(vm, iface_id))
		return error_set(err, ERR_INPUT, "iface_id: no network interface '%s'", iface_id);
	return 0;
}

#define API_VSOCK_CID_MIN 3u          /* 0-2: hypervisor, local, host */
#define API_VSOCK_CID_MAX 0xFFFFFFFEu /* 32 bits, -1 is "any" */

int api_put_vsock(struct api_vm *vm, const char *id, struct json_object *body,
		  struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "guest_cid", "uds_path", "vsock_id", NULL };
	uint64_t cid = 0;
	const char *uds = NULL, *vsock_id = NULL;
	if (jf_object(body, "vsock", fields, err) < 0 ||
	    jf_uint(body, "guest_cid", true, UINT64_MAX, &cid, err) < 0 ||
	    jf_string(body, "uds_path", true, &uds, err) < 0 ||
	    jf_string(body, "vsock_id", false, &vsock_id, err) < 0)
		return -1;
	if (cid < API_VSOCK_CID_MIN || cid > API_VSOCK_CID_MAX)
		return error_set(err, ERR_INPUT, "guest_cid: must be between %u and %u",
				 API_VSOCK_CID_MIN, API_VSOCK_CID_MAX);
	if (!uds[0] || strlen(uds) >= 108)
		return error_set(err, ERR_INPUT, "uds_path: must be 1 to 107 bytes");
	if (vsock_id && api_check_id("vsock_id", vsock_id, err) < 0)
		return -1;
	char *u, *v;
	if (api_strdup(&u, uds, err) < 0)
		return -1;
	if (api_strdup(&v, vsock_id, err) < 0) {
		free(u);
		return -1;
	}
	free(vm->vsock_uds);
	free(vm->vsock_id);
	vm->vsock_uds = u;
	vm->vsock_id = v;
	vm->vsock_cid = cid;
	vm->vsock_set = true;
	return api_vm_sync(vm, err);
}

int api_put_entropy(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "rate_limiter", NULL };
	if (jf_object(body, "entropy", fields, err) < 0 ||
	    jf_refuse(body, "rate_limiter", no_limiter, err) < 0)
		return -1;
	vm->cfg->rng = true;
	return 0;
}
