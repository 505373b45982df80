/* A PC's interrupt controllers as the machine model sees them.
 *
 * Every device interrupt line (GSI) and MSI of the machine goes through one struct irq_router.
 * Where the CPU backend has interrupt controllers of its own (accel_caps.irqchip: KVM's
 * in-kernel LAPICs, IOAPIC, 8259 pair and PIT), the VM points the router at the backend's
 * irq_line/irq_msi. Where it has none (the soft CPU), the machine builder creates them here, in
 * user space, as devices of the machine (x86_irqchip_create), and the router points at them:
 * the 8259 pair (i8259.h) and the IOAPIC (ioapic.h); the builder adds the 8254 PIT (i8254.h).
 *
 * Routing: GSIs 0-15 are the ISA IRQs and go to the 8259s and the IOAPIC, with IRQ0 on IOAPIC
 * pin 2 (the MADT's override, as on PCs) and GSI 2 (the cascade) refused; GSIs 16-23 go to the
 * IOAPIC only. An MSI becomes the same interrupt message an IOAPIC entry sends (irq_msg.h).
 * What takes the outputs, the 8259's INT pin and the messages, is the CPU side: the LAPICs
 * (lapic.h's apic_bus_connect_irqchip calls x86_irqchip_connect); until connected, messages
 * are counted and dropped. */
#ifndef HARDY_DEVICES_X86_IRQCHIP_H
#define HARDY_DEVICES_X86_IRQCHIP_H

#include <stdint.h>

#include "devices/device.h"
#include "devices/x86/i8259.h"
#include "devices/x86/ioapic.h"
#include "devices/x86/irq_msg.h"

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
/* The CPU side: the 8259's INT level (intr, may be NULL) and the interrupt messages of the
 * IOAPIC and of MSIs (sink). Both are called with a controller's lock held. */
void x86_irqchip_connect(struct x86_irqchip *c, void (*intr)(void *ctx, int level),
			 void *intr_ctx, const struct x86_irq_msg_sink *sink);
/* The 8259 pair, for the CPU's acknowledge (i8259_acknowledge), and the IOAPIC, for the
 * LAPICs' EOI broadcast (ioapic_eoi). */
struct i8259 *x86_irqchip_pic(struct x86_irqchip *c);
struct ioapic *x86_irqchip_ioapic(struct x86_irqchip *c);
/* The current level of input gsi (0 for pins the chip does not have), and MSIs seen. */
int x86_irqchip_line_level(struct x86_irqchip *c, unsigned gsi);
unsigned x86_irqchip_msi_count(struct x86_irqchip *c);

#endif
