/* vCPU threads: run the backend until an exit, turn the exit into one bus call or a VM-level
 * request, repeat until the VM stops. Exits are dispatched through a table by kind. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vm/vcpu.h"
#include "vm/vm.h"

static void vcpu_exit_pio(struct vcpu *vcpu, struct vcpu_exit *e)
{
	for (uint32_t i = 0; i < e->pio.count; i++)
		bus_dispatch(&vcpu->vm->pio_bus, e->pio.port, e->pio.is_write,
			     e->pio.data + (size_t)i * e->pio.size, e->pio.size);
}

static void vcpu_exit_mmio(struct vcpu *vcpu, struct vcpu_exit *e)
{
	bus_dispatch(&vcpu->vm->mmio_bus, e->mmio.addr, e->mmio.is_write, e->mmio.data, e->mmio.len);
}

static void vcpu_exit_intr(struct vcpu *vcpu, struct vcpu_exit *e)
{
	/* Nothing to do: the loop looks at the VM's state next. */
}

static void vcpu_exit_reset(struct vcpu *vcpu, struct vcpu_exit *e)
{
	char msg[128];
	if (e->error)
		snprintf(msg, sizeof(msg), "vCPU %u: %s: a reset, as on a PC", vcpu->index, e->error);
	vm_request_stop(vcpu->vm, VM_STOP_REBOOT, e->error ? msg : NULL);
}

static void vcpu_exit_poweroff(struct vcpu *vcpu, struct vcpu_exit *e)
{
	vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, NULL);
}

static void vcpu_exit_error(struct vcpu *vcpu, struct vcpu_exit *e)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "vCPU %u: %s", vcpu->index, e->error);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR, msg);
}

static void (*const vcpu_exit_handlers[])(struct vcpu *, struct vcpu_exit *) = {
	[VCPU_EXIT_PIO] = vcpu_exit_pio,
	[VCPU_EXIT_MMIO] = vcpu_exit_mmio,
	[VCPU_EXIT_INTR] = vcpu_exit_intr,
	[VCPU_EXIT_RESET] = vcpu_exit_reset,
	[VCPU_EXIT_POWEROFF] = vcpu_exit_poweroff,
	[VCPU_EXIT_ERROR] = vcpu_exit_error,
};

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);

	/* The kick signal interrupts KVM_RUN only on this thread. */
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!vm_stopping(vm)) {
		struct vcpu_exit e = { 0 };
		vm->accel->vcpu_run(vcpu, &e);
		vcpu_exit_handlers[e.kind](vcpu, &e);
	}
	atomic_store(&vcpu->state, VCPU_EXITED);
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	/* Empty: its only job is to make the blocking ioctl return EINTR. */
}

void vcpu_signals_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_start(struct vcpu *vcpu, struct error *err)
{
	int r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (r != 0)
		return error_set(err, ERR_RUNTIME, "cannot start vCPU %u thread: %s", vcpu->index,
				 strerror(r));
	atomic_store(&vcpu->state, VCPU_RUNNING);
	return 0;
}

void vcpu_stop(struct vcpu *vcpu)
{
	if (atomic_load(&vcpu->state) == VCPU_CREATED)
		return;
	vcpu->vm->accel->vcpu_kick(vcpu);
	pthread_join(vcpu->thread, NULL);
	atomic_store(&vcpu->state, VCPU_CREATED);
}
