/* vCPU threads: run the backend until an exit, turn the exit into one bus call or a VM-level
 * request, park while the VM is paused, repeat until the VM stops. Exits are dispatched
 * through a table by kind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch/x86/cpu_state.h"
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

/* A guest that faulted beyond repair: its registers on stderr, for whoever reads the report.
 * Several vCPUs may fault at once; the lock keeps each dump in one piece. */
static void vcpu_dump_state(struct vcpu *vcpu, const char *what)
{
	static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
	struct x86_cpu_state s = { 0 };
	struct error err = { 0 };
	pthread_mutex_lock(&dump_lock);
	if (vcpu->vm->accel->get_regs(vcpu->accel_vcpu, &s, &err) == 0) {
		fprintf(stderr, "hardy: vCPU %u state at %s:\n", vcpu->index, what);
		x86_state_print(stderr, &s);
	} else {
		fprintf(stderr, "hardy: vCPU %u state unreadable: %s\n", vcpu->index, err.msg);
	}
	pthread_mutex_unlock(&dump_lock);
}

static void vcpu_exit_reset(struct vcpu *vcpu, struct vcpu_exit *e)
{
	char msg[128];
	if (e->error) {
		vcpu_dump_state(vcpu, "the fault");
		snprintf(msg, sizeof(msg), "vCPU %u: %s: a reset, as on a PC", vcpu->index, e->error);
	}
	vm_request_stop(vcpu->vm, VM_STOP_REBOOT, e->error ? msg : NULL);
}

static void vcpu_exit_poweroff(struct vcpu *vcpu, struct vcpu_exit *e)
{
	vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, NULL);
}

static void vcpu_exit_error(struct vcpu *vcpu, struct vcpu_exit *e)
{
	char msg[256];
	vcpu_dump_state(vcpu, "the error");
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

/* Applies ev to the vCPU's state; the caller holds vcpu->lock. A transition the table refuses
 * is a bug in this file: the state is left alone rather than made up. */
static void vcpu_apply(struct vcpu *vcpu, enum vcpu_event ev)
{
	enum vcpu_state to;
	if (vcpu_state_next(atomic_load(&vcpu->state), ev, &to)) {
		atomic_store(&vcpu->state, to);
		pthread_cond_broadcast(&vcpu->cond);
	}
}

/* Between two runs: parks while the main thread wants the vCPU paused. false: exit. */
static bool vcpu_may_run(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool was_paused = false;
	pthread_mutex_lock(&vcpu->lock);
	while (vcpu->want == VCPU_PAUSED && !vm_stopping(vm)) {
		if (atomic_load(&vcpu->state) == VCPU_RUNNING)
			vcpu_apply(vcpu, VCPU_EV_PAUSE);
		was_paused = true;
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	}
	bool go = vcpu->want == VCPU_RUNNING && !vm_stopping(vm);
	if (go && atomic_load(&vcpu->state) == VCPU_PAUSED)
		vcpu_apply(vcpu, VCPU_EV_RESUME);
	pthread_mutex_unlock(&vcpu->lock);
	/* On this thread, before the next run: the guest learns it was stopped for a while. */
	if (go && was_paused && vm->accel->vcpu_resumed)
		vm->accel->vcpu_resumed(vcpu->accel_vcpu);
	return go;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);

	/* Whatever the backend's kick needs from this thread (KVM: its signal unblocked here). */
	struct error err = { 0 };
	if (vm->accel->vcpu_thread_init && vm->accel->vcpu_thread_init(vcpu->accel_vcpu, &err) < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "vCPU %u: %.200s", vcpu->index, err.msg);
		vm_request_stop(vm, VM_STOP_ERROR, msg);
	}

	while (vcpu_may_run(vcpu)) {
		struct vcpu_exit e = { 0 };
		vm->accel->vcpu_run(vcpu->accel_vcpu, &e);
		vcpu_exit_handlers[e.kind](vcpu, &e);
	}
	pthread_mutex_lock(&vcpu->lock);
	vcpu_apply(vcpu, VCPU_EV_EXIT);
	pthread_mutex_unlock(&vcpu->lock);
	return NULL;
}

/* Kicks only a thread that exists and is not joined yet: the backend may signal it. */
static void vcpu_kick(struct vcpu *vcpu)
{
	if (atomic_load(&vcpu->thread_started))
		vcpu->vm->accel->vcpu_kick(vcpu->accel_vcpu);
}

int vcpu_init(struct vcpu *vcpu, struct error *err)
{
	int r = pthread_mutex_init(&vcpu->lock, NULL);
	if (r == 0 && (r = pthread_cond_init(&vcpu->cond, NULL)) != 0)
		pthread_mutex_destroy(&vcpu->lock);
	if (r != 0)
		return error_set(err, ERR_RUNTIME, "vCPU %u: %s", vcpu->index, strerror(r));
	atomic_store(&vcpu->state, VCPU_CREATED);
	vcpu->want = VCPU_RUNNING;
	return 0;
}

void vcpu_fini(struct vcpu *vcpu)
{
	pthread_cond_destroy(&vcpu->cond);
	pthread_mutex_destroy(&vcpu->lock);
}

int vcpu_start(struct vcpu *vcpu, struct error *err)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu_apply(vcpu, VCPU_EV_START);
	int r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (r != 0)
		vcpu_apply(vcpu, VCPU_EV_EXIT);
	else
		vcpu->thread_started = true;
	pthread_mutex_unlock(&vcpu->lock);
	if (r != 0)
		return error_set(err, ERR_RUNTIME, "cannot start vCPU %u thread: %s", vcpu->index,
				 strerror(r));
	return 0;
}

void vcpu_request_pause(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->want == VCPU_RUNNING)
		vcpu->want = VCPU_PAUSED;
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
}

int vcpu_wait_paused(struct vcpu *vcpu, unsigned timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	pthread_mutex_lock(&vcpu->lock);
	while (atomic_load(&vcpu->state) == VCPU_RUNNING && !vm_stopping(vcpu->vm)) {
		if (pthread_cond_timedwait(&vcpu->cond, &vcpu->lock, &until) == ETIMEDOUT) {
			rc = atomic_load(&vcpu->state) == VCPU_RUNNING ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&vcpu->lock);
	return rc;
}

void vcpu_request_resume(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->want == VCPU_PAUSED) {
		vcpu->want = VCPU_RUNNING;
		pthread_cond_broadcast(&vcpu->cond);
	}
	pthread_mutex_unlock(&vcpu->lock);
}

void vcpu_stop(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->want = VCPU_EXITED;
	pthread_cond_broadcast(&vcpu->cond);
	bool started = vcpu->thread_started;
	pthread_mutex_unlock(&vcpu->lock);
	if (!started)
		return;
	vcpu_kick(vcpu);
	pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
}
