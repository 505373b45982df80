/* Defaults and host-independent checks of struct vm_config. */
#include "core/config.h"

#include <sys/sysinfo.h>

#include "core/guest_mem.h"

void vm_config_defaults(struct vm_config *c)
{
	*c = (struct vm_config){
		.cmdline = HARDY_DEFAULT_CMDLINE,
		.ncpus = 1,
		.mem_size = HARDY_DEFAULT_MEM,
		.name = HARDY_DEFAULT_NAME,
		.accel = ACCEL_AUTO,
		.console = CONSOLE_STDIO,
		.console_limit = HARDY_CONSOLE_LIMIT_DEFAULT,
		.rng = true,
	};
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
	if (c->mem_size & 0xFFF)
		return error_set(err, ERR_INPUT, "--mem: must be a multiple of 4K");
	uint64_t host = host_ram_bytes();
	if (host && c->mem_size > host)
		return error_set(err, ERR_INPUT, "--mem %lluM: more than the host's %lluM of RAM",
				 (unsigned long long)(c->mem_size >> 20),
				 (unsigned long long)(host >> 20));
	if (c->name[0] == '\0')
		return error_set(err, ERR_INPUT, "--name: must not be empty");
	return 0;
}
