/* The transition tables of the VM and vCPU state machines. A row per state, a column per
 * event; -1 marks an event the state refuses. */
#include "vm/vm_state.h"

#include <stdatomic.h>

static const signed char vm_next[VM_STATE_COUNT][VM_EVENT_COUNT] = {
	/*                      start             pause            resume            stop               stopped */
	[VM_STATE_NOT_STARTED] = { VM_STATE_RUNNING, -1,              -1,               VM_STATE_STOPPING, -1 },
	[VM_STATE_RUNNING]     = { -1,               VM_STATE_PAUSED, VM_STATE_RUNNING, VM_STATE_STOPPING, -1 },
	[VM_STATE_PAUSED]      = { -1,               VM_STATE_PAUSED, VM_STATE_RUNNING, VM_STATE_STOPPING, -1 },
	[VM_STATE_STOPPING]    = { -1,               -1,              -1,               VM_STATE_STOPPING, VM_STATE_STOPPED },
	[VM_STATE_STOPPED]     = { -1,               -1,              -1,               -1,                -1 },
};

/* Why an event is refused, in the words a user of the API or the CLI reads. */
static const char *vm_refusal(enum vm_state from, enum vm_event ev)
{
	switch (from) {
	case VM_STATE_NOT_STARTED: return "the VM is not started yet";
	case VM_STATE_RUNNING:
	case VM_STATE_PAUSED: return ev == VM_EV_START ? "the VM is already started" : "not allowed";
	case VM_STATE_STOPPING: return "the VM is stopping";
	case VM_STATE_STOPPED: return "the VM has stopped";
	}
	return "not allowed";
}

int vm_state_next(enum vm_state from, enum vm_event ev, enum vm_state *to, struct error *err)
{
	if ((unsigned)from >= VM_STATE_COUNT || (unsigned)ev >= VM_EVENT_COUNT)
		return error_set(err, ERR_INPUT, "invalid VM state or event");
	int next = vm_next[from][ev];
	if (next < 0)
		return error_set(err, ERR_INPUT, "cannot %s: %s", vm_event_name(ev),
				 vm_refusal(from, ev));
	*to = (enum vm_state)next;
	return 0;
}

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[VM_STATE_COUNT] = {
		[VM_STATE_NOT_STARTED] = "Not started",
		[VM_STATE_RUNNING] = "Running",
		[VM_STATE_PAUSED] = "Paused",
		[VM_STATE_STOPPING] = "Stopping",
		[VM_STATE_STOPPED] = "Stopped",
	};
	return (unsigned)s < VM_STATE_COUNT ? names[s] : "?";
}

const char *vm_event_name(enum vm_event ev)
{
	static const char *const names[VM_EVENT_COUNT] = {
		[VM_EV_START] = "start", [VM_EV_PAUSE] = "pause", [VM_EV_RESUME] = "resume",
		[VM_EV_STOP] = "stop", [VM_EV_STOPPED] = "finish stopping",
	};
	return (unsigned)ev < VM_EVENT_COUNT ? names[ev] : "?";
}

static const signed char vcpu_next[VCPU_STATE_COUNT][VCPU_EVENT_COUNT] = {
	/*                start          pause         resume         exit */
	[VCPU_CREATED] = { VCPU_RUNNING, -1,           -1,            VCPU_EXITED },
	[VCPU_RUNNING] = { -1,           VCPU_PAUSED,  -1,            VCPU_EXITED },
	[VCPU_PAUSED]  = { -1,           -1,           VCPU_RUNNING,  VCPU_EXITED },
	[VCPU_EXITED]  = { -1,           -1,           -1,            -1 },
};

bool vcpu_state_next(enum vcpu_state from, enum vcpu_event ev, enum vcpu_state *to)
{
	if ((unsigned)from >= VCPU_STATE_COUNT || (unsigned)ev >= VCPU_EVENT_COUNT)
		return false;
	int next = vcpu_next[from][ev];
	if (next < 0)
		return false;
	*to = (enum vcpu_state)next;
	return true;
}

const char *vcpu_state_name(enum vcpu_state s)
{
	static const char *const names[VCPU_STATE_COUNT] = {
		[VCPU_CREATED] = "created", [VCPU_RUNNING] = "running", [VCPU_PAUSED] = "paused",
		[VCPU_EXITED] = "exited",
	};
	return (unsigned)s < VCPU_STATE_COUNT ? names[s] : "?";
}

int vm_state_apply(_Atomic enum vm_state *state, enum vm_event ev, struct error *err)
{
	enum vm_state from = atomic_load(state), to;
	do {
		if (vm_state_next(from, ev, &to, err) < 0)
			return -1;
	} while (!atomic_compare_exchange_weak(state, &from, to));
	return 0;
}
