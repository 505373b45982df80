/* A PC's interrupt controllers as the machine model sees them.
 *
 * Every device interrupt line (GSI) and MSI of the machine goes through one struct irq_router.
 * Where the CPU backend has interrupt controllers of its own (accel_caps.irqchip: KVM's
 * in-kernel LAPICs, IOAPIC, 8259 pair and PIT), the VM points the router at the backend's
 * irq_line/irq_msi. Where it has none (the soft CPU), the machine builder creates them here, in
 * user space, as devices of the machine (x86_irqchip_create), and the router points at them.
 *
 * Today the user-space controllers are a STUB: the chip keeps the level of each input pin and
 * counts MSIs, so that the routing can be built and tested, but delivers nothing to a vCPU.
 * Next (issue 11, the system CPU): the 8259 pair (ports 0x20/0xA0, ELCR 0x4D0), the IOAPIC at
 * 0xFEC00000 (redirection table, level/edge, remote IRR, EOI), one LAPIC per vCPU at 0xFEE00000
 * (timer, IPIs incl. INIT/SIPI, TPR/PPR, EOI to the IOAPIC), the 8254 PIT (0x40-0x43, 0x61),
 * each its own file beside this one, and an interrupt input op on the backend seam. */
#ifndef HARDY_DEVICES_X86_IRQCHIP_H
#define HARDY_DEVICES_X86_IRQCHIP_H

#include <stdint.h>

#include "devices/device.h"

struct irq_router {
	const char *name; /* for messages: "kvm", "user-space" */
	/* Sets a GSI's level; -1 with errno when it cannot. */
	int (*line)(void *ctx, unsigned gsi, int level);
	/* Delivers one MSI (address and data as in an MSI-X table entry); -1 with errno. */
	int (*msi)(void *ctx, uint64_t addr, uint32_t data);
	void *ctx;
};

struct x86_irqchip;

/* Creates the user-space controllers for nr_vcpus vCPUs into svc->devices and points *router
 * at them. NULL with err. */
struct x86_irqchip *x86_irqchip_create(const struct dev_services *svc, unsigned nr_vcpus,
				       struct irq_router *router, struct error *err);
/* The current level of input gsi (0 for pins the chip does not have), and MSIs seen. */
int x86_irqchip_line_level(struct x86_irqchip *c, unsigned gsi);
unsigned x86_irqchip_msi_count(struct x86_irqchip *c);

#endif
