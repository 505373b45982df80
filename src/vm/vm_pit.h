/* The user-space PIT's clock (machine.pit, without caps.irqchip): a timerfd on the VM's event
 * loop armed at i8254_next_deadline(); on expiry the main thread calls i8254_advance(), so
 * IRQ0 reaches the 8259 and the IOAPIC with no vCPU involved. A guest reprogramming the PIT
 * re-arms it from its vCPU's thread (i8254_on_reprogram). */
#ifndef HARDY_VM_VM_PIT_H
#define HARDY_VM_VM_PIT_H

#include "core/clock.h"
#include "util/error.h"

struct event_loop;
struct i8254;
struct vm_pit;

/* NULL with err. The clock is the one the PIT reads (a test's fake one works too: the timerfd
 * waits the deadline's distance from its now). */
struct vm_pit *vm_pit_start(struct i8254 *pit, const struct vm_clock *clock,
			    struct event_loop *loop, struct error *err);
/* Before the PIT is destroyed. NULL is fine. */
void vm_pit_stop(struct vm_pit *d);

#endif
