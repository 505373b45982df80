/* The builder of hardy's x86 machine: which devices exist, in which order, wired to what.
 * Explicit and in one place (no registration by constructors). The device fuzzer builds its
 * machine through the same function, so a device added here is fuzzed without further work. */
#ifndef HARDY_VM_MACHINE_H
#define HARDY_VM_MACHINE_H

#include "accel/accel.h"
#include "devices/device.h"
#include "devices/x86/irqchip.h"
#include "util/error.h"
#include "core/config.h"

struct console;
struct disk;
struct net_backend;
struct vsock_host;
struct apic_bus;

/* What the rest of the VM needs from the devices once they exist. */
struct machine {
	void (*power_button)(void *ctx); /* SIGTERM presses it */
	void *power_button_ctx;
	struct x86_irqchip *irqchip;     /* the user-space interrupt controllers, NULL when the
					  * backend has its own */
	struct i8254 *pit;               /* the user-space PIT, likewise; its owner drives it
					  * (i8254_next_deadline, i8254_advance) */
	struct apic_bus *apic;           /* the vCPUs' LAPICs (lapic.h), likewise; the 8259's
					  * INT and the IOAPIC's messages already lead there */
};

/* The resource ranges of the x86 machine (MMIO hole, device GSIs, MSI GSIs). */
void machine_resources_init(struct resources *r);

/* Creates every device into svc->devices; on failure the list holds what was made (destroy
 * it). caps: what the CPU backend has; without caps->irqchip the builder first creates the
 * user-space interrupt controllers (src/devices/x86/) and points *irq, the router svc's
 * interrupt lines lead to, at them (irq may be NULL when caps->irqchip). con: the serial
 * port's console; disks: cfg->nr_disks opened images; nets: cfg->nr_nets opened network
 * backends; vsock: cfg->vsock's opened backend, NULL without one (all the caller's). */
int machine_build(const struct dev_services *svc, const struct vm_config *cfg,
		  const struct accel_caps *caps, struct irq_router *irq,
		  struct console *con, struct disk *const *disks, struct net_backend *const *nets,
		  struct vsock_host *vsock,
		  struct machine *m, struct error *err);

#endif
