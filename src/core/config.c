/* Defaults, ownership (copies and frees) and host-independent checks of struct vm_config. */
#include "core/config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "core/guest_mem.h"

int vm_config_set_str(char **field, const char *value, struct error *err)
{
	char *copy = NULL;
	if (value && !(copy = strdup(value)))
		return error_errno(err, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

int vm_config_defaults(struct vm_config *c, struct error *err)
{
	*c = (struct vm_config){
		.ncpus = 1,
		.mem_size = HARDY_DEFAULT_MEM,
		.accel = ACCEL_AUTO,
		.console = CONSOLE_STDIO,
		.console_limit = HARDY_CONSOLE_LIMIT_DEFAULT,
		.rng = true,
	};
	if (vm_config_set_str(&c->cmdline, HARDY_DEFAULT_CMDLINE, err) < 0 ||
	    vm_config_set_str(&c->name, HARDY_DEFAULT_NAME, err) < 0) {
		vm_config_free(c);
		return -1;
	}
	return 0;
}

void vm_config_free(struct vm_config *c)
{
	if (!c)
		return;
	free(c->kernel_path);
	free(c->initrd_path);
	free(c->cmdline);
	free(c->name);
	free(c->console_path);
	free(c->soft_profile);
	for (unsigned i = 0; i < HARDY_MAX_DISKS; i++) {
		free(c->disks[i].path);
		free(c->disks[i].id);
	}
	free(c->vsock.uds_path);
	memset(c, 0, sizeof(*c));
}

int vm_config_copy(struct vm_config *dst, const struct vm_config *src, struct error *err)
{
	*dst = *src;
	/* Every pointer is the source's until replaced: clear them so a failure frees only ours. */
	dst->kernel_path = dst->initrd_path = dst->cmdline = dst->name = dst->console_path = NULL;
	dst->soft_profile = NULL;
	for (unsigned i = 0; i < HARDY_MAX_DISKS; i++)
		dst->disks[i].path = dst->disks[i].id = NULL;
	dst->vsock.uds_path = NULL;
	int rc = 0;
	rc |= vm_config_set_str(&dst->kernel_path, src->kernel_path, err);
	rc |= vm_config_set_str(&dst->initrd_path, src->initrd_path, err);
	rc |= vm_config_set_str(&dst->cmdline, src->cmdline, err);
	rc |= vm_config_set_str(&dst->name, src->name, err);
	rc |= vm_config_set_str(&dst->console_path, src->console_path, err);
	rc |= vm_config_set_str(&dst->soft_profile, src->soft_profile, err);
	for (unsigned i = 0; i < src->nr_disks && i < HARDY_MAX_DISKS; i++) {
		rc |= vm_config_set_str(&dst->disks[i].path, src->disks[i].path, err);
		rc |= vm_config_set_str(&dst->disks[i].id, src->disks[i].id, err);
	}
	rc |= vm_config_set_str(&dst->vsock.uds_path, src->vsock.uds_path, err);
	if (rc) {
		vm_config_free(dst);
		return -1;
	}
	return 0;
}

int vm_config_add_disk(struct vm_config *c, const struct vm_disk_config *d, struct error *err)
{
	if (c->nr_disks == HARDY_MAX_DISKS)
		return error_set(err, ERR_INPUT, "at most %d disks", HARDY_MAX_DISKS);
	struct vm_disk_config *slot = &c->disks[c->nr_disks];
	*slot = (struct vm_disk_config){ .readonly = d->readonly, .aio_sync = d->aio_sync };
	if (vm_config_set_str(&slot->path, d->path, err) < 0 ||
	    vm_config_set_str(&slot->id, d->id, err) < 0) {
		free(slot->path);
		*slot = (struct vm_disk_config){ 0 };
		return -1;
	}
	c->nr_disks++;
	return 0;
}

int vm_config_add_net(struct vm_config *c, const struct vm_net_config *n, struct error *err)
{
	if (c->nr_nets == HARDY_MAX_NICS)
		return error_set(err, ERR_INPUT, "at most %d NICs", HARDY_MAX_NICS);
	c->nets[c->nr_nets++] = *n;
	return 0;
}

int vm_config_set_vsock(struct vm_config *c, const struct vm_vsock_config *v, struct error *err)
{
	char *path = NULL;
	if (vm_config_set_str(&path, v->uds_path, err) < 0)
		return -1;
	free(c->vsock.uds_path);
	c->vsock = (struct vm_vsock_config){ .enabled = true, .cid = v->cid, .uds_path = path };
	return 0;
}

static uint64_t host_ram_bytes(void)
{
	struct sysinfo si;
	if (sysinfo(&si) != 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

int vm_config_validate(const struct vm_config *c, struct error *err)
{
	if (c->ncpus < 1 || c->ncpus > HARDY_MAX_CPUS)
		return error_set(err, ERR_INPUT, "--cpus %u: must be between 1 and %u",
				 c->ncpus, HARDY_MAX_CPUS);
	if (c->mem_size < GMEM_MIN_SIZE)
		return error_set(err, ERR_INPUT, "--mem %llu bytes: guest RAM must be at least %lluM",
				 (unsigned long long)c->mem_size,
				 (unsigned long long)(GMEM_MIN_SIZE >> 20));
	if (c->soft_profile && c->accel != ACCEL_SOFT)
		return error_set(err, ERR_INPUT, "--soft-profile: only with --accel soft");
	if (c->mem_size & 0xFFF)
		return error_set(err, ERR_INPUT, "--mem: must be a multiple of 4K");
	uint64_t host = host_ram_bytes();
	if (host && c->mem_size > host)
		return error_set(err, ERR_INPUT, "--mem %lluM: more than the host's %lluM of RAM",
				 (unsigned long long)(c->mem_size >> 20),
				 (unsigned long long)(host >> 20));
	if (!c->name || c->name[0] == '\0')
		return error_set(err, ERR_INPUT, "--name: must not be empty");
	/* The name is a file name too: the control socket NAME.sock in the runtime directory. */
	size_t len = strlen(c->name);
	if (len > HARDY_NAME_MAX || c->name[0] == '.' || c->name[0] == '-' ||
	    strspn(c->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return error_set(err, ERR_INPUT, "--name '%.80s': 1 to %d letters, digits, '.', '_' or "
				 "'-', not starting with '.' or '-'", c->name, HARDY_NAME_MAX);
	if (!c->cmdline)
		return error_set(err, ERR_INPUT, "no kernel command line");
	return 0;
}
