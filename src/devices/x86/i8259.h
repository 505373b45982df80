/* The PC's 8259A pair: master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on the master's IRQ2,
 * and the PIIX-style edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 * Supported: the ICW1-ICW4 init sequence (8086 mode; ICW1's LTIM is ignored, the ELCR decides
 * each line's trigger as on PCs), OCW1 masks, OCW2 EOIs (non-specific, specific, and the
 * rotations and set-priority, which are cheap with a rotating priority base), OCW3 (read IRR or
 * ISR, poll mode, special mask mode), auto-EOI, special fully nested mode on the master, edge
 * and level inputs, and spurious IRQ7/IRQ15: a request that went away before the CPU's
 * acknowledge gives the chip's base + 7 with no ISR bit set (for IRQ15 the master's IRQ2 ISR bit
 * is set, as on hardware, and the OS must EOI the master). Not modelled: 8080 mode, buffered
 * mode (ICW4 bits that change nothing a guest can see).
 *
 * Output: the master's INT pin, through the intr callback, called with the device lock held
 * whenever its level changes (the callback must not call back into the PIC: a CPU backend
 * records the level and kicks its vCPU), and i8259_acknowledge, the CPU's INTA cycle. */
#ifndef HARDY_DEVICES_X86_I8259_H
#define HARDY_DEVICES_X86_I8259_H

#include "devices/device.h"

#define I8259_MASTER_PORT 0x20
#define I8259_SLAVE_PORT  0xA0
#define I8259_ELCR_PORT   0x4D0
#define I8259_CASCADE_IRQ 2

struct i8259;

struct i8259 *i8259_create(const struct dev_services *svc, struct error *err);
/* Where the INT output goes; intr may be NULL (nothing listens yet). Call before vCPUs run. */
void i8259_connect(struct i8259 *p, void (*intr)(void *ctx, int level), void *ctx);
/* Sets the level of input irq (0-15; 2 is the cascade and is ignored). */
void i8259_set_irq(struct i8259 *p, unsigned irq, int level);
/* The CPU's interrupt acknowledge: the vector of the highest-priority request, whose ISR bit
 * is now set (unless auto-EOI); base + 7 of the master or slave for a spurious one. */
uint8_t i8259_acknowledge(struct i8259 *p);
/* The INT output's level now. */
int i8259_intr_level(struct i8259 *p);

#endif
