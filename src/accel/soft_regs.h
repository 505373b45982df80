/* The soft backend's register state moves (soft_regs.c). */
#ifndef HARDY_ACCEL_SOFT_REGS_H
#define HARDY_ACCEL_SOFT_REGS_H

#include "accel/soft/soft_cpu.h"
#include "arch/x86/cpu_state.h"

void soft_regs_get(struct soft_cpu *c, enum x86_mp_state mp, struct x86_cpu_state *s);
void soft_regs_set(struct soft_cpu *c, const struct x86_cpu_state *s);

#endif
