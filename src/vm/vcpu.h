/* vCPU threads: one per vCPU, named vcpuN (visible in `ps -L`). */
#ifndef HARDY_VM_VCPU_H
#define HARDY_VM_VCPU_H

#include <signal.h>

#include "util/error.h"

struct vcpu;

/* Interrupts a vCPU thread out of the backend's run call. Blocked everywhere but vCPU threads. */
#define VCPU_KICK_SIGNAL SIGUSR1

void vcpu_signals_init(void);
int vcpu_start(struct vcpu *vcpu, struct error *err);
/* Kicks the vCPU out of the guest and joins its thread; the VM must be stopping. */
void vcpu_stop(struct vcpu *vcpu);

#endif
