/* Unit test: the VM and vCPU state machines, every (state, event) pair against a list of the
 * legal transitions written out here, independently of the tables in vm_state.c. */
#include "check.h"
#include "vm/vm_state.h"

struct vm_edge { enum vm_state from; enum vm_event ev; enum vm_state to; };

static const struct vm_edge vm_legal[] = {
	{ VM_STATE_NOT_STARTED, VM_EV_START, VM_STATE_RUNNING },
	{ VM_STATE_NOT_STARTED, VM_EV_STOP, VM_STATE_STOPPING },
	{ VM_STATE_RUNNING, VM_EV_PAUSE, VM_STATE_PAUSED },
	{ VM_STATE_RUNNING, VM_EV_RESUME, VM_STATE_RUNNING },  /* no-op, as Firecracker */
	{ VM_STATE_RUNNING, VM_EV_STOP, VM_STATE_STOPPING },
	{ VM_STATE_PAUSED, VM_EV_PAUSE, VM_STATE_PAUSED },     /* no-op */
	{ VM_STATE_PAUSED, VM_EV_RESUME, VM_STATE_RUNNING },
	{ VM_STATE_PAUSED, VM_EV_STOP, VM_STATE_STOPPING },
	{ VM_STATE_STOPPING, VM_EV_STOP, VM_STATE_STOPPING },  /* a second reason: ignored */
	{ VM_STATE_STOPPING, VM_EV_STOPPED, VM_STATE_STOPPED },
};

struct vcpu_edge { enum vcpu_state from; enum vcpu_event ev; enum vcpu_state to; };

static const struct vcpu_edge vcpu_legal[] = {
	{ VCPU_CREATED, VCPU_EV_START, VCPU_RUNNING },
	{ VCPU_CREATED, VCPU_EV_EXIT, VCPU_EXITED },
	{ VCPU_RUNNING, VCPU_EV_PAUSE, VCPU_PAUSED },
	{ VCPU_RUNNING, VCPU_EV_EXIT, VCPU_EXITED },
	{ VCPU_PAUSED, VCPU_EV_RESUME, VCPU_RUNNING },
	{ VCPU_PAUSED, VCPU_EV_EXIT, VCPU_EXITED },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_vm(void)
{
	SECTION("VM: every state x event, legal ones land where they should");
	unsigned legal = 0;
	for (int s = 0; s < VM_STATE_COUNT; s++) {
		for (int e = 0; e < VM_EVENT_COUNT; e++) {
			const struct vm_edge *want = NULL;
			for (size_t i = 0; i < COUNT(vm_legal); i++)
				if (vm_legal[i].from == (enum vm_state)s && vm_legal[i].ev == (enum vm_event)e)
					want = &vm_legal[i];
			struct error err = { 0 };
			enum vm_state to = (enum vm_state)99;
			int rc = vm_state_next((enum vm_state)s, (enum vm_event)e, &to, &err);
			if (want) {
				legal++;
				CHECK(rc == 0 && to == want->to, "%s --%s--> %s, want %s (%s)",
				      vm_state_name(s), vm_event_name(e), vm_state_name(to),
				      vm_state_name(want->to), err.msg);
			} else {
				CHECK(rc < 0 && err.status == ERR_INPUT && to == (enum vm_state)99,
				      "%s --%s--> accepted", vm_state_name(s), vm_event_name(e));
				CHECK(err.msg[0] && !strchr(err.msg, '\n') && strstr(err.msg, vm_event_name(e)),
				      "refusal of %s in %s is not one line naming it: '%s'",
				      vm_event_name(e), vm_state_name(s), err.msg);
			}
		}
	}
	CHECK(legal == COUNT(vm_legal), "%u legal transitions found, want %zu", legal,
	      COUNT(vm_legal));

	SECTION("VM: refusals say why");
	struct error err = { 0 };
	enum vm_state to;
	vm_state_next(VM_STATE_NOT_STARTED, VM_EV_PAUSE, &to, &err);
	CHECK(strstr(err.msg, "not started"), "pause before start: '%s'", err.msg);
	err = (struct error){ 0 };
	vm_state_next(VM_STATE_RUNNING, VM_EV_START, &to, &err);
	CHECK(strstr(err.msg, "already started"), "second start: '%s'", err.msg);
	err = (struct error){ 0 };
	vm_state_next(VM_STATE_STOPPED, VM_EV_RESUME, &to, &err);
	CHECK(strstr(err.msg, "stopped"), "resume after stop: '%s'", err.msg);
	err = (struct error){ 0 };
	CHECK(vm_state_next((enum vm_state)VM_STATE_COUNT, VM_EV_START, &to, &err) < 0 &&
	      vm_state_next(VM_STATE_RUNNING, (enum vm_event)-1, &to, &err) < 0,
	      "out-of-range state or event accepted");

	SECTION("VM: Firecracker's state words");
	CHECK(!strcmp(vm_state_name(VM_STATE_NOT_STARTED), "Not started") &&
	      !strcmp(vm_state_name(VM_STATE_RUNNING), "Running") &&
	      !strcmp(vm_state_name(VM_STATE_PAUSED), "Paused"), "state names");
}

static void test_vcpu(void)
{
	SECTION("vCPU: every state x event");
	unsigned legal = 0;
	for (int s = 0; s < VCPU_STATE_COUNT; s++) {
		for (int e = 0; e < VCPU_EVENT_COUNT; e++) {
			const struct vcpu_edge *want = NULL;
			for (size_t i = 0; i < COUNT(vcpu_legal); i++)
				if (vcpu_legal[i].from == (enum vcpu_state)s &&
				    vcpu_legal[i].ev == (enum vcpu_event)e)
					want = &vcpu_legal[i];
			enum vcpu_state to = (enum vcpu_state)99;
			bool ok = vcpu_state_next((enum vcpu_state)s, (enum vcpu_event)e, &to);
			if (want) {
				legal++;
				CHECK(ok && to == want->to, "vCPU %s --%d--> %s, want %s",
				      vcpu_state_name(s), e, vcpu_state_name(to), vcpu_state_name(want->to));
			} else {
				CHECK(!ok && to == (enum vcpu_state)99, "vCPU %s --%d--> accepted",
				      vcpu_state_name(s), e);
			}
		}
	}
	CHECK(legal == COUNT(vcpu_legal), "%u legal vCPU transitions, want %zu", legal,
	      COUNT(vcpu_legal));
	enum vcpu_state to;
	CHECK(!vcpu_state_next((enum vcpu_state)VCPU_STATE_COUNT, VCPU_EV_EXIT, &to),
	      "out-of-range vCPU state accepted");
}

int main(void)
{
	test_vm();
	test_vcpu();
	puts("test_vm_state: all passed");
	return 0;
}
