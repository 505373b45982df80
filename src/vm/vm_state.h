/* The lifecycle state machines of a VM and of each vCPU: which transitions exist, decided in
 * one place. Pure functions, and vm_state_apply: the one way a VM's state changes (an atomic
 * compare-and-swap over the table, so any thread may request a stop).
 *
 * VM:   NOT_STARTED --start--> RUNNING <--pause/resume--> PAUSED
 *       any of those --stop--> STOPPING --stopped--> STOPPED
 * Pausing a paused VM or resuming a running one changes nothing and succeeds (as Firecracker);
 * every other event outside the diagram is refused with an ERR_INPUT error (the API's 400).
 *
 * vCPU (Firecracker's run states): CREATED --start--> RUNNING <--pause/resume--> PAUSED, and
 * CREATED/RUNNING/PAUSED --exit--> EXITED. */
#ifndef HARDY_VM_VM_STATE_H
#define HARDY_VM_VM_STATE_H

#include <stdbool.h>

#include "util/error.h"

enum vm_state {
	VM_STATE_NOT_STARTED,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_STOPPING,
	VM_STATE_STOPPED,
};
#define VM_STATE_COUNT 5

enum vm_event { VM_EV_START, VM_EV_PAUSE, VM_EV_RESUME, VM_EV_STOP, VM_EV_STOPPED };
#define VM_EVENT_COUNT 5

/* The state after ev in from: 0 with *to set, or -1 with an ERR_INPUT err naming both. */
int vm_state_next(enum vm_state from, enum vm_event ev, enum vm_state *to, struct error *err);
/* Applies ev to *state atomically (the table decides, as vm_state_next); -1 with err when
 * refused, *state unchanged. */
int vm_state_apply(_Atomic enum vm_state *state, enum vm_event ev, struct error *err);
/* "Not started", "Running", "Paused" (Firecracker's words), "Stopping", "Stopped". */
const char *vm_state_name(enum vm_state s);
const char *vm_event_name(enum vm_event ev);

enum vcpu_state { VCPU_CREATED, VCPU_RUNNING, VCPU_PAUSED, VCPU_EXITED };
#define VCPU_STATE_COUNT 4

enum vcpu_event { VCPU_EV_START, VCPU_EV_PAUSE, VCPU_EV_RESUME, VCPU_EV_EXIT };
#define VCPU_EVENT_COUNT 4

/* false: no such transition (*to untouched). */
bool vcpu_state_next(enum vcpu_state from, enum vcpu_event ev, enum vcpu_state *to);
const char *vcpu_state_name(enum vcpu_state s);

#endif
