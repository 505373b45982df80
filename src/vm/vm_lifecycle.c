/* The running half of a VM's lifecycle: start, pause, resume, wait, and vm_run() which strings
 * create, start, wait and destroy together. Every state change goes through vm_state_apply()
 * (vm_state.h's table). */
#include "vm/vm.h"

#include <stdio.h>
#include <string.h>

#include "core/event_loop.h"
#include "vm/signals.h"
#include "vm/vcpu.h"

/* How long vm_pause waits for one vCPU to leave the guest. A vCPU thread only ever waits on the
 * guest or on a device's non-blocking handler, so this is generous. */
#define VM_PAUSE_TIMEOUT_MS 2000u

enum vm_state vm_state(const struct vm *vm)
{
	return atomic_load(&((struct vm *)vm)->state);
}

double vm_uptime(const struct vm *vm)
{
	if (vm->started.tv_sec == 0 && vm->started.tv_nsec == 0)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - vm->started.tv_sec) +
	       (double)(now.tv_nsec - vm->started.tv_nsec) / 1e9;
}

int vm_start(struct vm *vm, struct error *err)
{
	if (vm_state_apply(&vm->state, VM_EV_START, err) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_start(&vm->vcpus[i], err) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR, err->msg);
			return -1;
		}
	}
	return 0;
}

int vm_pause(struct vm *vm, struct error *err)
{
	if (atomic_load(&vm->state) == VM_STATE_PAUSED)
		return 0; /* already parked: pausing again changes nothing */
	if (vm_state_apply(&vm->state, VM_EV_PAUSE, err) < 0)
		return -1;
	/* Kick them all first, then wait: the vCPUs leave the guest in parallel. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_request_pause(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_wait_paused(&vm->vcpus[i], VM_PAUSE_TIMEOUT_MS) < 0) {
			error_set(err, ERR_RUNTIME, "vCPU %u did not stop within %u ms", i,
				  VM_PAUSE_TIMEOUT_MS);
			vm_request_stop(vm, VM_STOP_ERROR, err->msg);
			return -1;
		}
	}
	/* Every vCPU is parked: the guest's clock can stand still without one of them seeing it. */
	if (vm->caps.guest_time_is_vm_clock)
		vm_clock_stop(&vm->clock);
	return 0;
}

int vm_resume(struct vm *vm, struct error *err)
{
	if (vm_state_apply(&vm->state, VM_EV_RESUME, err) < 0)
		return -1;
	vm_clock_go(&vm->clock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_request_resume(&vm->vcpus[i]);
	return 0;
}

int vm_press_power_button(struct vm *vm, struct error *err)
{
	enum vm_state s = vm_state(vm);
	if (s != VM_STATE_RUNNING)
		return error_set(err, ERR_INPUT, "cannot press the power button: the VM is %s",
				 s == VM_STATE_PAUSED ? "paused" : vm_state_name(s));
	if (!vm->power_button)
		return error_set(err, ERR_INPUT, "the machine has no power button");
	vm->power_button(vm->power_button_ctx);
	return 0;
}

static int vm_exit_status(struct vm *vm, struct error *err)
{
	switch (atomic_load(&vm->stop_reason)) {
	case VM_STOP_REBOOT:
		/* A reset the guest did not ask for (a triple fault) still ends with status 0, but
		 * one line on stderr says what happened. */
		if (vm->stop_msg[0])
			fprintf(stderr, "hardy: %s\n", vm->stop_msg);
		return 0;
	case VM_STOP_POWEROFF:
	case VM_STOP_ESCAPE:
		return 0;
	case VM_STOP_DEBUG_EXIT: {
		/* The line on stderr (main prints it) tells a test's verdict from hardy's own 1. */
		unsigned code = 0;
		if (sscanf(vm->stop_msg, "debug-exit code %u", &code) != 1)
			code = 0;
		error_set(err, (int)(((code << 1) | 1) & 0xFF), "%s", vm->stop_msg);
		return err->status;
	}
	case VM_STOP_KILLED:
	case VM_STOP_ERROR:
	default:
		error_set(err, ERR_RUNTIME, "%s",
			  vm->stop_msg[0] ? vm->stop_msg : "the VM stopped unexpectedly");
		return ERR_RUNTIME;
	}
}

int vm_wait(struct vm *vm, struct error *err)
{
	/* Others may share the loop and quit it (to hand over between phases): run it again
	 * until the VM itself is stopping. */
	while (!vm_stopping(vm)) {
		struct error loop_err = { 0 };
		if (event_loop_run(vm->loop, &loop_err) < 0)
			vm_request_stop(vm, VM_STOP_ERROR, loop_err.msg);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_stop(&vm->vcpus[i]);
	vm_state_apply(&vm->state, VM_EV_STOPPED, NULL);
	return vm_exit_status(vm, err);
}

int vm_run(const struct vm_config *cfg, struct error *err)
{
	struct event_loop *loop = event_loop_create(err);
	if (!loop)
		return err->status;
	struct vm_signals sigs = { .sigfd = -1, .timerfd = -1 };
	struct vm *vm = vm_create(cfg, loop, err);
	if (vm) {
		sigs.stop = vm_stopper(vm);
		sigs.power_button = vm->power_button;
		sigs.power_button_ctx = vm->power_button_ctx;
		if (vm_signals_watch(&sigs, loop, err) == 0 && vm_start(vm, err) == 0)
			vm_wait(vm, err);
		else
			vm_request_stop(vm, VM_STOP_ERROR, err->msg);
	}
	/* Fixed before the VM goes: its stop eventfd and signal descriptors leave the loop. */
	vm_signals_close(&sigs);
	vm_destroy(vm);
	event_loop_destroy(loop);
	return err->status;
}
