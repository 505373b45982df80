/* The local APICs of a machine without in-kernel interrupt controllers (accel_caps.irqchip
 * false: the soft CPU), one per vCPU, and the "APIC bus" between them (model: Intel SDM vol. 3,
 * "Advanced Programmable Interrupt Controller").
 *
 * A LAPIC: xAPIC registers in the page at X86_LAPIC_GPA (version 0x50014: 6 LVT entries, no
 * CMCI, no EOI-broadcast suppression), x2APIC through MSRs 0x800-0x8ff (IA32_APIC_BASE bit 10;
 * ID = the initial APIC ID = vCPU index; LDR = cluster << 16 | 1 << (id & 15); SELF_IPI; the
 * ICR as one 64-bit MSR; #GP for the reserved, read-only and write-only accesses the SDM
 * lists), IA32_APIC_BASE (BSP bit on vCPU 0; the base stays at 0xFEE00000: relocation is
 * refused by ignoring it) and IA32_TSC_DEADLINE. IRR/ISR/TMR with TPR/PPR priorities; EOI of a
 * level-triggered vector broadcasts to the IOAPIC (ioapic_eoi). Timer: one-shot, periodic and
 * TSC-deadline, counted from the VM clock at X86_SOFT_CRYSTAL_HZ / divide. IPIs: fixed,
 * lowest priority (the lowest-numbered accepting LAPIC), NMI, INIT (the de-assert form is
 * ignored), STARTUP, shorthands, physical and logical (flat, cluster, x2APIC cluster)
 * destinations; the ICR's delivery status always reads idle. The IOAPIC's messages and MSIs
 * are routed the same way.
 *
 * LINT0 is wired to the 8259's INT output on vCPU 0's LAPIC (virtual-wire mode): in ExtINT mode
 * its level makes an interrupt pending whose vector the acknowledge takes from the 8259
 * (i8259_acknowledge). As KVM does in place of a BIOS, vCPU 0's LINT0 comes out of reset
 * unmasked in ExtINT mode, and with the APIC disabled in IA32_APIC_BASE the 8259 reaches the
 * CPU directly, so a guest that never touches its APIC gets the 8259's interrupts. Fixed
 * interrupts to a software-disabled LAPIC (SVR bit 8 clear) are dropped, as on KVM.
 *
 * Threads and locks: each LAPIC has its own lock (dev.lock). The vCPU's accesses (the
 * struct accel_lapic ops), IPIs from other vCPUs and the IOAPIC's messages (sent with its lock
 * held) take only the target's lock, one LAPIC at a time; the vCPU link's signal, the EOI
 * broadcast and the 8259 acknowledge are called with no LAPIC lock held. */
#ifndef HARDY_DEVICES_X86_LAPIC_H
#define HARDY_DEVICES_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "devices/device.h"
#include "devices/x86/irq_msg.h"

#define LAPIC_VERSION     0x50014u /* max LVT entry 5 (6 entries), version 0x14 */
#define LAPIC_PHYS_BITS   48       /* MAXPHYADDR for IA32_APIC_BASE's reserved bits */

#define MSR_IA32_APIC_BASE    0x1B
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_FIRST      0x800
#define MSR_X2APIC_LAST       0x8FF

#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)

struct lapic;
struct apic_bus;
struct x86_irqchip;

/* How a LAPIC reaches its vCPU (the VM implements it with ops->vcpu_signal). Called from any
 * thread, with no LAPIC lock held. */
struct lapic_cpu_link {
	void (*signal)(void *ctx, enum accel_signal sig, uint8_t vector);
	void *ctx;
};

/* ---- the bus: the set of LAPICs ---- */

/* nr_cpus LAPICs (IDs 0..nr_cpus-1), each a device of svc->devices (reset: power-on state),
 * reading the time from svc->clock. NULL with err. */
struct apic_bus *apic_bus_create(const struct dev_services *svc, unsigned nr_cpus,
				 struct error *err);
/* Connects the user-space controllers: the 8259's INT to LINT0 of LAPIC 0 (and its
 * acknowledge for ExtINT), the IOAPIC's messages and MSIs to the bus, EOIs to the IOAPIC. */
void apic_bus_connect_irqchip(struct apic_bus *b, struct x86_irqchip *c);
/* An interrupt message (IOAPIC, MSI): delivered by its destination. The sink the bus gives
 * x86_irqchip_connect is this. */
void apic_bus_deliver(struct apic_bus *b, const struct x86_irq_msg *m);
unsigned apic_bus_count(const struct apic_bus *b);
struct lapic *apic_bus_lapic(struct apic_bus *b, unsigned index);

/* ---- one LAPIC ---- */

/* Where the LAPIC's signals go (before its vCPU runs); NULL: nowhere (they are dropped, the
 * state they announce stays pending). */
void lapic_connect_cpu(struct lapic *a, const struct lapic_cpu_link *link);
/* The backend's view (struct accel_lapic): ctx = a and the functions below. */
void lapic_accel_iface(struct lapic *a, struct accel_lapic *out);

/* What struct accel_lapic's ops do; all on the vCPU's own thread. */
int lapic_intr_ack(struct lapic *a);
void lapic_mmio(struct lapic *a, uint32_t offset, bool is_write, uint8_t *data, unsigned len);
bool lapic_msr(struct lapic *a, uint32_t index, bool is_write, uint64_t *value);
uint64_t lapic_next_deadline_ns(struct lapic *a);
void lapic_poll(struct lapic *a, uint64_t now_ns);

/* The LINT0/LINT1 input pins (lint 0 or 1): level as driven (the 8259 drives LINT0 of LAPIC 0
 * through apic_bus_connect_irqchip). Any thread. */
void lapic_set_lint(struct lapic *a, unsigned lint, int level);

#endif
