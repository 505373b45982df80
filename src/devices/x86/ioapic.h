/* The IOAPIC (82093AA, version 0x11) at 0xFEC00000: IOREGSEL at +0x00, IOWIN at +0x10, 24
 * redirection entries. An unmasked pin sends its entry as an interrupt message to the sink:
 * edge entries on each rising edge (an edge while masked waits for the unmask), level entries
 * while the line is high and remote IRR is clear; remote IRR is set on sending and cleared by
 * the LAPIC's EOI broadcast (ioapic_eoi), which resends when the line is still high. NMI, INIT,
 * SMI and ExtINT entries are always edge-like (no remote IRR). Lines are assertion levels (1:
 * asserted), as KVM's are: the polarity bit is kept for the guest to read back, not applied. */
#ifndef HARDY_DEVICES_X86_IOAPIC_H
#define HARDY_DEVICES_X86_IOAPIC_H

#include "devices/device.h"
#include "devices/x86/irq_msg.h"

#define IOAPIC_PINS     24
#define IOAPIC_MMIO_LEN 0x1000
#define IOAPIC_VERSION  0x11

struct ioapic;

struct ioapic *ioapic_create(const struct dev_services *svc, uint64_t base, struct error *err);
/* Where messages go (before vCPUs run); without a sink messages are counted and dropped. */
void ioapic_connect(struct ioapic *a, const struct x86_irq_msg_sink *sink);
void ioapic_set_irq(struct ioapic *a, unsigned pin, int level);
/* A LAPIC's EOI of a level-triggered vector: clears remote IRR of entries with that vector. */
void ioapic_eoi(struct ioapic *a, uint8_t vector);
/* Messages sent so far (with or without a sink). */
unsigned ioapic_sent(struct ioapic *a);

#endif
