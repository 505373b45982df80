/* The builder of hardy's x86 machine: which devices exist, in which order, wired to what.
 * Explicit and in one place (no registration by constructors). The device fuzzer builds its
 * machine through the same function, so a device added here is fuzzed without further work. */
#ifndef HARDY_VM_MACHINE_H
#define HARDY_VM_MACHINE_H

#include "devices/device.h"
#include "util/error.h"
#include "core/config.h"

struct console;
struct disk;
struct net_backend;
struct vsock_host;

/* What the rest of the VM needs from the devices once they exist. */
struct machine {
	void (*power_button)(void *ctx); /* SIGTERM presses it */
	void *power_button_ctx;
};

/* The resource ranges of the x86 machine (MMIO hole, device GSIs, MSI GSIs). */
void machine_resources_init(struct resources *r);

/* Creates every device into svc->devices; on failure the list holds what was made (destroy
 * it). con: the serial port's console; disks: cfg->nr_disks opened images; nets:
 * cfg->nr_nets opened network backends; vsock: cfg->vsock's opened backend, NULL without one
 * (all the caller's). */
int machine_build(const struct dev_services *svc, const struct vm_config *cfg,
		  struct console *con, struct disk *const *disks, struct net_backend *const *nets,
		  struct vsock_host *vsock,
		  struct machine *m, struct error *err);

#endif
