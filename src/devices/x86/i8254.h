/* The 8254 PIT at 0x40-0x43, and port 0x61's channel-2 bits (gate, speaker enable, OUT2) as
 * Linux's TSC calibration uses them. The counters are derived from the VM's monotonic clock at
 * 1.193182 MHz, so reading one costs no timer; channel 0's output drives IRQ0 (GSI 0).
 *
 * Supported: modes 0 (interrupt on terminal count), 2 (rate generator), 3 (square wave) and 4
 * (software strobe), 6 and 7 as 2 and 3; modes 1 and 5 (hardware-triggered) count as 0 and 4
 * from the gate's rising edge; BCD counting is kept in the status but counts in binary;
 * lobyte, hibyte and lobyte-then-hibyte access, the latch command and read-back (count and
 * status). A new count takes effect at once (hardware waits for the period's end in modes 2/3).
 *
 * Time source: IRQ0 moves only when the owner calls i8254_advance(); i8254_next_deadline()
 * says when it next has to (the VM: a timerfd on its event loop, src/vm/vm_pit.c). Missed periods collapse into
 * one edge (as KVM's PIT without reinjection). */
#ifndef HARDY_DEVICES_X86_I8254_H
#define HARDY_DEVICES_X86_I8254_H

#include "devices/device.h"

#define I8254_PORT      0x40
#define I8254_PORT_B    0x61 /* the PC's system control port B */
#define I8254_HZ        1193182u
#define I8254_IRQ       0    /* ISA IRQ0; the MADT sends it to IOAPIC pin 2 */

struct i8254;

struct i8254 *i8254_create(const struct dev_services *svc, struct irq_line irq,
			   struct error *err);
/* The monotonic time (ns, the VM clock's) of channel 0's next rising edge, INT64_MAX when none
 * is coming (not programmed, or a one-shot that fired). */
int64_t i8254_next_deadline(struct i8254 *p);
/* Brings IRQ0 up to now_ns: one edge when channel 0's output rose since the last call. */
void i8254_advance(struct i8254 *p, int64_t now_ns);
/* Called after every guest write to the PIT's ports (on the vCPU's thread, no PIT lock held),
 * so that whoever drives it can take the new i8254_next_deadline(); set before vCPUs run. */
void i8254_on_reprogram(struct i8254 *p, void (*fn)(void *ctx), void *ctx);

#endif
