/* Endpoints about the instance and its machine: GET /, GET /version, PUT /boot-source,
 * GET|PUT|PATCH /machine-config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "api/json_fields.h"
#include "core/guest_mem.h"

#ifndef HARDY_VERSION
#define HARDY_VERSION "dev"
#endif

static const char *api_state_name(enum api_vm_state s)
{
	switch (s) {
	case API_VM_RUNNING: return "Running";
	case API_VM_PAUSED: return "Paused";
	case API_VM_NOT_STARTED: default: return "Not started";
	}
}

int api_get_root(struct api_vm *vm, const char *id, struct json_object *body,
		 struct json_object **reply, struct error *err)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(vm->cfg->name));
	json_object_object_add(o, "state", json_object_new_string(api_state_name(api_vm_state(vm))));
	json_object_object_add(o, "vmm_version", json_object_new_string(HARDY_VERSION));
	json_object_object_add(o, "app_name", json_object_new_string("hardy"));
	*reply = o;
	return 0;
}

int api_get_version(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "firecracker_version", json_object_new_string(HARDY_VERSION));
	*reply = o;
	return 0;
}

/* Firecracker opens boot files when they are configured; hardy checks they can be read. */
static int api_check_readable(const char *field, const char *path, struct error *err)
{
	if (!path[0])
		return error_set(err, ERR_INPUT, "%s: must not be empty", field);
	if (access(path, R_OK) != 0)
		return error_set(err, ERR_INPUT, "%s: cannot read '%.200s': %s", field, path,
				 strerror(errno));
	return 0;
}

int api_put_boot_source(struct api_vm *vm, const char *id, struct json_object *body,
			struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "kernel_image_path", "initrd_path", "boot_args",
					      NULL };
	const char *kernel = NULL, *initrd = NULL, *args = NULL;
	if (jf_object(body, "boot-source", fields, err) < 0 ||
	    jf_string(body, "kernel_image_path", true, &kernel, err) < 0 ||
	    jf_string(body, "initrd_path", false, &initrd, err) < 0 ||
	    jf_string(body, "boot_args", false, &args, err) < 0)
		return -1;
	if (api_check_readable("kernel_image_path", kernel, err) < 0 ||
	    (initrd && api_check_readable("initrd_path", initrd, err) < 0))
		return -1;
	if (args && strlen(args) >= X86_CMDLINE_MAX)
		return error_set(err, ERR_INPUT, "boot_args: longer than %u bytes",
				 X86_CMDLINE_MAX - 1);
	char *k, *i, *a;
	if (api_strdup(&k, kernel, err) < 0)
		return -1;
	if (api_strdup(&i, initrd, err) < 0 || api_strdup(&a, args, err) < 0) {
		free(k);
		free(i);
		return -1;
	}
	/* Keep the old strings until the config points at the new ones. */
	char *old[3] = { vm->kernel, vm->initrd, vm->boot_args };
	vm->kernel = k;
	vm->initrd = i;
	vm->boot_args = a;
	if (api_vm_sync(vm, err) < 0) {
		vm->kernel = old[0];
		vm->initrd = old[1];
		vm->boot_args = old[2];
		free(k);
		free(i);
		free(a);
		api_vm_sync(vm, &(struct error){ 0 });
		return -1;
	}
	for (unsigned n = 0; n < 3; n++)
		free(old[n]);
	vm->boot_set = true;
	return 0;
}

int api_get_machine(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "vcpu_count", json_object_new_int(vm->cfg->ncpus));
	json_object_object_add(o, "mem_size_mib",
			       json_object_new_uint64(vm->cfg->mem_size >> 20));
	json_object_object_add(o, "smt", json_object_new_boolean(false));
	json_object_object_add(o, "track_dirty_pages", json_object_new_boolean(false));
	json_object_object_add(o, "huge_pages", json_object_new_string("None"));
	*reply = o;
	return 0;
}

/* PUT (all of vcpu_count and mem_size_mib required) and PATCH (any subset). */
static int api_machine_update(struct api_vm *vm, struct json_object *body, bool full,
			      struct error *err)
{
	static const char *const fields[] = { "vcpu_count", "mem_size_mib", "smt", "cpu_template",
					      "track_dirty_pages", "huge_pages", NULL };
	uint64_t vcpus = vm->cfg->ncpus, mib = vm->cfg->mem_size >> 20;
	bool smt = false, dirty = false;
	const char *tmpl = NULL, *huge = NULL;
	if (jf_object(body, "machine-config", fields, err) < 0 ||
	    jf_uint(body, "vcpu_count", full, HARDY_MAX_CPUS, &vcpus, err) < 0 ||
	    jf_uint(body, "mem_size_mib", full, UINT64_MAX >> 20, &mib, err) < 0 ||
	    jf_bool(body, "smt", false, &smt, err) < 0 ||
	    jf_bool(body, "track_dirty_pages", false, &dirty, err) < 0 ||
	    jf_string(body, "cpu_template", false, &tmpl, err) < 0 ||
	    jf_string(body, "huge_pages", false, &huge, err) < 0)
		return -1;
	if (vcpus < 1)
		return error_set(err, ERR_INPUT, "vcpu_count: must be between 1 and %u",
				 HARDY_MAX_CPUS);
	if (mib < (GMEM_MIN_SIZE >> 20))
		return error_set(err, ERR_INPUT, "mem_size_mib: must be at least %llu",
				 (unsigned long long)(GMEM_MIN_SIZE >> 20));
	if (smt)
		return error_set(err, ERR_INPUT, "smt: hardy has no simultaneous multithreading");
	if (dirty)
		return error_set(err, ERR_INPUT, "track_dirty_pages: hardy has no dirty page tracking");
	if (tmpl && strcmp(tmpl, "None"))
		return error_set(err, ERR_INPUT, "cpu_template: hardy has no CPU templates (\"None\" only)");
	if (huge && strcmp(huge, "None"))
		return error_set(err, ERR_INPUT, "huge_pages: hardy has no huge pages (\"None\" only)");
	vm->cfg->ncpus = (unsigned)vcpus;
	vm->cfg->mem_size = mib << 20;
	return 0;
}

int api_put_machine(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	return api_machine_update(vm, body, true, err);
}

int api_patch_machine(struct api_vm *vm, const char *id, struct json_object *body,
		      struct json_object **reply, struct error *err)
{
	return api_machine_update(vm, body, false, err);
}
