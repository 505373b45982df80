/* An interrupt message as an IOAPIC sends it and an MSI write carries it: what a local APIC
 * (lapic.h) accepts. The delivery modes are the IOAPIC's and MSI's encoding. */
#ifndef HARDY_DEVICES_X86_IRQ_MSG_H
#define HARDY_DEVICES_X86_IRQ_MSG_H

#include <stdbool.h>
#include <stdint.h>

enum x86_delivery_mode {
	X86_DM_FIXED = 0, X86_DM_LOWEST = 1, X86_DM_SMI = 2, X86_DM_NMI = 4, X86_DM_INIT = 5,
	X86_DM_EXTINT = 7,
};

struct x86_irq_msg {
	uint8_t vector;
	uint8_t delivery_mode;  /* enum x86_delivery_mode (3 and 6 are reserved, passed on) */
	uint8_t dest;           /* an APIC ID, or a logical mask when dest_logical */
	bool dest_logical;
	bool level_triggered;   /* the LAPIC marks it in TMR and broadcasts its EOI (ioapic_eoi) */
};

/* Where messages go; called with the sender's lock held: must not call back into it. */
struct x86_irq_msg_sink {
	void (*deliver)(void *ctx, const struct x86_irq_msg *m);
	void *ctx;
};

#endif
