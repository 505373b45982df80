/* The API's VM description: creation with Firecracker's defaults, keeping struct vm_config in
 * step with the model (api_vm_sync), and InstanceStart. */
#include "api/api_vm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/parse.h"

struct api_vm *api_vm_create(struct vm_config *cfg, const struct api_ops *ops, void *ctx,
			     struct error *err)
{
	struct api_vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		error_errno(err, "out of memory");
		return NULL;
	}
	vm->cfg = cfg;
	vm->ops = ops;
	vm->ctx = ctx;
	vm->logger.fd = -1;
	vm->metrics.fd = -1;
	vm->logger.level = API_LOG_INFO;
	vm->open_sink = api_open_sink;
	/* Firecracker's defaults where hardy's flags differ. */
	cfg->ncpus = 1;
	cfg->mem_size = (uint64_t)API_DEFAULT_MEM_MIB << 20;
	cfg->rng = false;
	/* api_vm_sync empties the rest (kernel, disks, NICs, vsock) from the empty model. */
	if (api_vm_sync(vm, err) < 0) {
		free(vm);
		return NULL;
	}
	return vm;
}

static void api_drive_free(struct api_drive *d)
{
	free(d->drive_id);
	free(d->path);
	free(d->partuuid);
}

static void api_iface_free(struct api_iface *f)
{
	free(f->iface_id);
	free(f->host_dev_name);
	free(f->guest_mac);
	for (unsigned i = 0; i < f->nr_hostfwd; i++)
		free(f->hostfwd[i]);
}

void api_vm_destroy(struct api_vm *vm)
{
	if (!vm)
		return;
	free(vm->kernel);
	free(vm->initrd);
	free(vm->boot_args);
	for (unsigned i = 0; i < vm->nr_drives; i++)
		api_drive_free(&vm->drives[i]);
	for (unsigned i = 0; i < vm->nr_ifaces; i++)
		api_iface_free(&vm->ifaces[i]);
	free(vm->vsock_uds);
	free(vm->vsock_id);
	if (vm->logger.fd >= 0)
		close(vm->logger.fd);
	if (vm->metrics.fd >= 0)
		close(vm->metrics.fd);
	free(vm->logger.path);
	free(vm->logger.module);
	free(vm->metrics.path);
	free(vm);
}

void api_error_oneline(struct error *err)
{
	for (char *c = err->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

int api_strdup(char **dst, const char *src, struct error *err)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : error_errno(err, "out of memory");
}

struct api_drive *api_find_drive(struct api_vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->nr_drives; i++)
		if (!strcmp(vm->drives[i].drive_id, id))
			return &vm->drives[i];
	return NULL;
}

struct api_iface *api_find_iface(struct api_vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->nr_ifaces; i++)
		if (!strcmp(vm->ifaces[i].iface_id, id))
			return &vm->ifaces[i];
	return NULL;
}

int api_check_id(const char *what, const char *id, struct error *err)
{
	size_t n = strlen(id);
	if (n == 0 || n > API_ID_MAX)
		return error_set(err, ERR_INPUT, "%s: must be 1 to %d characters", what, API_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return error_set(err, ERR_INPUT,
					 "%s: only letters, digits and '_' are allowed", what);
	}
	return 0;
}

/* Firecracker's rule: a root drive adds root=/dev/vda (or root=PARTUUID=...) and ro or rw. */
static int api_sync_cmdline(struct api_vm *vm, struct error *err)
{
	const char *base = vm->boot_args ? vm->boot_args : HARDY_DEFAULT_CMDLINE;
	int n;
	const struct api_drive *root = vm->nr_drives && vm->drives[0].root ? &vm->drives[0] : NULL;
	if (!root)
		n = snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", base);
	else if (root->partuuid)
		n = snprintf(vm->cmdline, sizeof(vm->cmdline), "%s root=PARTUUID=%s %s", base,
			     root->partuuid, root->readonly ? "ro" : "rw");
	else
		n = snprintf(vm->cmdline, sizeof(vm->cmdline), "%s root=/dev/vda %s", base,
			     root->readonly ? "ro" : "rw");
	if (n < 0 || (size_t)n >= sizeof(vm->cmdline))
		return error_set(err, ERR_INPUT, "boot_args: the command line would exceed %u bytes",
				 X86_CMDLINE_MAX - 1);
	return vm_config_set_str(&vm->cfg->cmdline, vm->cmdline, err);
}

/* A NIC goes through the CLI's --net parser: one set of rules for flags, file and API. */
static int api_sync_net(const struct api_iface *f, unsigned index, struct vm_net_config *out,
			struct error *err)
{
	char spec[1024], problem[160];
	size_t used;
	if (!strcmp(f->host_dev_name, "user"))
		used = (size_t)snprintf(spec, sizeof(spec), "user");
	else
		used = (size_t)snprintf(spec, sizeof(spec), "tap=%s", f->host_dev_name);
	for (unsigned i = 0; i < f->nr_hostfwd && used < sizeof(spec); i++)
		used += (size_t)snprintf(spec + used, sizeof(spec) - used, ",hostfwd=%s",
					 f->hostfwd[i]);
	if (f->guest_mac && used < sizeof(spec))
		used += (size_t)snprintf(spec + used, sizeof(spec) - used, ",mac=%s", f->guest_mac);
	if (used >= sizeof(spec))
		return error_set(err, ERR_INPUT, "network-interfaces: %s: too long", f->iface_id);
	if (parse_net(spec, index, out, problem, sizeof(problem)) < 0)
		return error_set(err, ERR_INPUT, "network-interfaces: %s: %s", f->iface_id, problem);
	return 0;
}

int api_vm_sync(struct api_vm *vm, struct error *err)
{
	struct vm_config *c = vm->cfg;
	/* NICs first: parse_net may refuse one, and then nothing has changed. */
	struct vm_net_config nets[HARDY_MAX_NICS];
	for (unsigned i = 0; i < vm->nr_ifaces; i++)
		if (api_sync_net(&vm->ifaces[i], i, &nets[i], err) < 0)
			return -1;
	if (vm_config_set_str(&c->kernel_path, vm->kernel, err) < 0 ||
	    vm_config_set_str(&c->initrd_path, vm->initrd, err) < 0)
		return -1;
	for (unsigned i = 0; i < c->nr_disks; i++) {
		free(c->disks[i].path);
		free(c->disks[i].id);
		c->disks[i] = (struct vm_disk_config){ 0 };
	}
	c->nr_disks = 0;
	for (unsigned i = 0; i < vm->nr_drives; i++) {
		const struct api_drive *d = &vm->drives[i];
		/* drive_id doubles as the virtio-blk serial when it fits (a hardy addition). */
		const struct vm_disk_config disk = {
			.path = d->path,
			.readonly = d->readonly,
			.id = strlen(d->drive_id) <= HARDY_DISK_ID_MAX ? d->drive_id : NULL,
			/* io_engine Sync: one request at a time, no io_uring (as --disk aio=sync) */
			.aio_sync = d->engine == API_IO_SYNC,
		};
		/* cache_type: hardy always honours the guest's flushes (Writeback behaviour). */
		if (vm_config_add_disk(c, &disk, err) < 0)
			return -1;
	}
	memcpy(c->nets, nets, sizeof(nets[0]) * vm->nr_ifaces);
	c->nr_nets = vm->nr_ifaces;
	if (vm->vsock_set) {
		const struct vm_vsock_config v = { .enabled = true, .cid = vm->vsock_cid,
						   .uds_path = vm->vsock_uds };
		if (vm_config_set_vsock(c, &v, err) < 0)
			return -1;
	} else {
		free(c->vsock.uds_path);
		c->vsock = (struct vm_vsock_config){ 0 };
	}
	return api_sync_cmdline(vm, err);
}

enum api_vm_state api_vm_state(struct api_vm *vm)
{
	if (!vm->started)
		return API_VM_NOT_STARTED;
	return vm->ops->state ? vm->ops->state(vm->ctx) : API_VM_RUNNING;
}

int api_vm_instance_start(struct api_vm *vm, struct error *err)
{
	if (vm->started)
		return error_set(err, ERR_INPUT, "InstanceStart: the microVM is already running");
	if (!vm->boot_set)
		return error_set(err, ERR_INPUT,
				 "InstanceStart: no boot source configured (PUT /boot-source first)");
	if (api_vm_sync(vm, err) < 0)
		return -1;
	struct error verr = { 0 };
	if (vm_config_validate(vm->cfg, &verr) < 0)
		return error_set(err, ERR_INPUT, "InstanceStart: %s", verr.msg);
	if (!vm->ops->instance_start)
		return error_set(err, ERR_INPUT, "InstanceStart: not supported");
	if (vm->ops->instance_start(vm->ctx, vm->cfg, err) < 0)
		return -1;
	vm->started = true;
	api_log(vm, API_LOG_INFO, "the microVM started (%u vCPUs, %llu MiB)", vm->cfg->ncpus,
		(unsigned long long)(vm->cfg->mem_size >> 20));
	return 0;
}

/* "tcp:HADDR:HPORT-GADDR:GPORT", as --net's hostfwd= takes it (an empty address for any). */
static int api_hostfwd_string(const struct vm_hostfwd *f, char **out, struct error *err)
{
	char host[INET_ADDRSTRLEN] = "", guest[INET_ADDRSTRLEN] = "", rule[96];
	if (f->host_addr)
		inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
	if (f->guest_addr)
		inet_ntop(AF_INET, &f->guest_addr, guest, sizeof(guest));
	snprintf(rule, sizeof(rule), "%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", host,
		 f->host_port, guest, f->guest_port);
	return api_strdup(out, rule, err);
}

/* The model's drive and interface entries for a description made elsewhere. */
static int api_model_from(struct api_vm *vm, const struct vm_config *cfg, struct error *err)
{
	if (api_strdup(&vm->kernel, cfg->kernel_path, err) < 0 ||
	    api_strdup(&vm->initrd, cfg->initrd_path, err) < 0 ||
	    api_strdup(&vm->boot_args, cfg->cmdline, err) < 0)
		return -1;
	vm->boot_set = true;
	for (unsigned i = 0; i < cfg->nr_disks; i++, vm->nr_drives++) {
		const struct vm_disk_config *d = &cfg->disks[i];
		struct api_drive *a = &vm->drives[i];
		char id[8];
		snprintf(id, sizeof(id), "vd%c", 'a' + i);
		*a = (struct api_drive){ .readonly = d->readonly, .cache = API_CACHE_WRITEBACK,
					 .engine = d->aio_sync ? API_IO_SYNC : API_IO_ASYNC };
		if (api_strdup(&a->drive_id, d->id ? d->id : id, err) < 0 ||
		    api_strdup(&a->path, d->path, err) < 0)
			return -1;
	}
	for (unsigned i = 0; i < cfg->nr_nets; i++, vm->nr_ifaces++) {
		const struct vm_net_config *n = &cfg->nets[i];
		struct api_iface *f = &vm->ifaces[i];
		char id[16];
		snprintf(id, sizeof(id), "eth%u", i);
		*f = (struct api_iface){ 0 };
		if (api_strdup(&f->iface_id, id, err) < 0 ||
		    api_strdup(&f->host_dev_name, n->kind == NET_TAP ? n->ifname : "user", err) < 0)
			return -1;
		for (unsigned r = 0; r < n->nr_fwd; r++, f->nr_hostfwd++)
			if (api_hostfwd_string(&n->fwd[r], &f->hostfwd[r], err) < 0)
				return -1;
	}
	vm->vsock_set = cfg->vsock.enabled;
	vm->vsock_cid = cfg->vsock.cid;
	return api_strdup(&vm->vsock_uds, cfg->vsock.uds_path, err);
}

int api_vm_start_from(struct api_vm *vm, const struct vm_config *cfg, struct error *err)
{
	if (vm->started || vm->boot_set || vm->nr_drives || vm->nr_ifaces || vm->vsock_set)
		return error_set(err, ERR_INPUT, "the microVM is already configured");
	if (!vm->ops->instance_start)
		return error_set(err, ERR_INPUT, "InstanceStart: not supported");
	/* Keep what only the caller's config has (name, console, accel) from cfg too. */
	struct vm_config copy;
	if (vm_config_copy(&copy, cfg, err) < 0)
		return -1;
	vm_config_free(vm->cfg);
	*vm->cfg = copy;
	if (api_model_from(vm, cfg, err) < 0 ||
	    vm->ops->instance_start(vm->ctx, vm->cfg, err) < 0)
		return -1;
	vm->started = true;
	return 0;
}
