/* vCPU threads: one per vCPU, named vcpuN (visible in `ps -L`). Each runs the backend until an
 * exit, handles it, and between runs looks at what the main thread wants of it (vcpu->want):
 * keep running, park (PAUSED: blocked on its condition variable, out of the backend's run
 * call), or exit. Getting a vCPU out of the guest is the backend's kick (accel.h).
 * The transitions are vcpu_state_next()'s (vm_state.h). */
#ifndef HARDY_VM_VCPU_H
#define HARDY_VM_VCPU_H

#include "util/error.h"

struct vcpu;

/* Fills the lock, condition and state of a zeroed vcpu (CREATED); -1 with err. */
int vcpu_init(struct vcpu *vcpu, struct error *err);
void vcpu_fini(struct vcpu *vcpu);
/* CREATED -> RUNNING: starts the thread. */
int vcpu_start(struct vcpu *vcpu, struct error *err);
/* Asks the vCPU to park and kicks it out of the guest; returns at once. */
void vcpu_request_pause(struct vcpu *vcpu);
/* Waits until the vCPU is parked (or exited), at most timeout_ms; -1 on timeout. */
int vcpu_wait_paused(struct vcpu *vcpu, unsigned timeout_ms);
/* Lets a parked vCPU run again; it tells the backend it was paused before re-entering. */
void vcpu_request_resume(struct vcpu *vcpu);
/* Asks the vCPU to exit, kicks it out of the guest (or of its park) and joins its thread. */
void vcpu_stop(struct vcpu *vcpu);

#endif
