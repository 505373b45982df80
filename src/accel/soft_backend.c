/* The soft backend: hardy's own x86-64 CPU (src/accel/soft/) in system mode behind the seam.
 * One struct soft_cpu per vCPU, run on the vCPU's thread; guest RAM through the checked
 * accessor, port I/O and MMIO synchronously through the machine's buses (accel_vm_params),
 * interrupts, timers, INIT and SIPI from the machine's LAPIC (struct accel_lapic, vcpu_signal).
 *
 * The TSC counts nanoseconds of the VM's CLOCK_MONOTONIC since the VM was created
 * (X86_SOFT_TSC_HZ), so the LAPIC's TSC-deadline values convert by an offset. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/soft_profile.h"
#include "accel/soft_regs.h"
#include "arch/x86/layout.h"

#define SOFT_RUN_SLICE 100000 /* instructions between checks of timers and requests */
#define MSR_TSC_DEADLINE 0x6e0

struct accel_vm {
	const struct guest_mem *mem;
	struct soft_vm_code *code;
	bool (*pio)(void *io_ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len);
	bool (*mmio)(void *io_ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len);
	void *io_ctx;
	const struct vm_clock *clock;
	int64_t epoch_ns; /* TSC 0 */
	FILE *profile_out;              /* --soft-profile, NULL: not profiling */
	unsigned nr_vcpus;
	struct soft_profile **profiles; /* per vCPU, handed over as each vCPU goes */
};

struct accel_vcpu {
	struct accel_vm *vm;
	unsigned index;
	struct soft_cpu *cpu;
	struct accel_lapic lapic;
	bool has_lapic;
	enum x86_mp_state mp;     /* the vCPU thread's; others only post signals */
	pthread_mutex_t lock;     /* guards the wake-up below */
	pthread_cond_t wake;
	bool wake_pending;        /* something arrived: a waiting vCPU looks again */
	_Atomic bool init_req;
	_Atomic int sipi_req;     /* vector + 1, 0: none */
	/* vcpu_kick's request, the backend's own: the CPU clears its kick flag when it returns
	 * early for it, so that flag cannot tell this loop a kick happened. */
	_Atomic bool kicked;
	struct soft_profile *profile; /* --soft-profile: this vCPU's samples */
};

static int64_t now_ns(const struct accel_vm *vm)
{
	return vm_clock_ns(vm->clock, CLOCK_MONOTONIC);
}

static int soft_probe(struct accel_caps *caps, struct error *err)
{
#if defined(__x86_64__)
	caps->max_vcpus = 64;
	caps->irqchip = false;
	caps->ioeventfd = false;
	caps->msi = false;
	caps->guest_time_is_vm_clock = true;
	return 0;
#else
	return error_set(err, ERR_RUNTIME, "--accel soft: hardy's CPU needs an x86-64 host");
#endif
}

static struct accel_vm *soft_vm_create(const struct accel_vm_params *p, struct error *err)
{
	if (!p->pio || !p->mmio) {
		error_set(err, ERR_RUNTIME, "soft backend: the machine gave no I/O buses");
		return NULL;
	}
	struct accel_vm *vm = calloc(1, sizeof(*vm));
	uint64_t top = 0;
	for (unsigned i = 0; i < p->mem->nr_regions; i++)
		if (p->mem->region[i].gpa + p->mem->region[i].size > top)
			top = p->mem->region[i].gpa + p->mem->region[i].size;
	if (!vm || !(vm->code = soft_vm_code_create(top))) {
		free(vm);
		error_set(err, ERR_RUNTIME, "soft backend: out of memory");
		return NULL;
	}
	if (p->soft_profile) {
		vm->nr_vcpus = p->nr_vcpus;
		vm->profiles = calloc(p->nr_vcpus, sizeof(*vm->profiles));
		vm->profile_out = fopen(p->soft_profile, "we");
		if (!vm->profiles || !vm->profile_out) {
			error_set(err, ERR_INPUT, "--soft-profile %s: %s", p->soft_profile,
				  strerror(errno));
			if (vm->profile_out)
				fclose(vm->profile_out);
			free(vm->profiles);
			soft_vm_code_destroy(vm->code);
			free(vm);
			return NULL;
		}
	}
	vm->mem = p->mem;
	vm->pio = p->pio;
	vm->mmio = p->mmio;
	vm->io_ctx = p->io_ctx;
	vm->clock = p->clock;
	vm->epoch_ns = now_ns(vm);
	return vm;
}

static void soft_vm_destroy(struct accel_vm *vm)
{
	if (!vm)
		return;
	if (vm->profile_out) {
		soft_profile_write(vm->profiles, vm->nr_vcpus, vm->profile_out);
		fclose(vm->profile_out);
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			soft_profile_destroy(vm->profiles[i]);
	}
	free(vm->profiles);
	soft_vm_code_destroy(vm->code);
	free(vm);
}

/* ---- the machine as the CPU sees it (struct soft_sys_ops) ---- */
static uint8_t *op_ram_page(void *ctx, uint64_t gpa)
{
	struct accel_vcpu *v = ctx;
	return gmem_ptr(v->vm->mem, gpa, 4096);
}

static void soft_vcpu_kick(struct accel_vcpu *v);

static void op_mmio(void *ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	struct accel_vcpu *v = ctx;
	if (v->has_lapic && (gpa & ~0xfffULL) == X86_LAPIC_GPA) {
		v->lapic.mmio(v->lapic.ctx, (uint32_t)(gpa & 0xfff), is_write, data, len);
		return;
	}
	if (v->vm->mmio(v->vm->io_ctx, gpa, is_write, data, len))
		soft_vcpu_kick(v);
}

/* A write to the reset port (0xCF9) must end the run before the guest's next instructions:
 * Linux triple-faults on purpose 50 us after it if the machine is still running. */
static void op_pio(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct accel_vcpu *v = ctx;
	if (v->vm->pio(v->vm->io_ctx, port, is_write, data, len))
		soft_vcpu_kick(v);
}

static uint64_t op_tsc(void *ctx)
{
	struct accel_vcpu *v = ctx;
	return (uint64_t)(now_ns(v->vm) - v->vm->epoch_ns);
}

static bool op_msr(void *ctx, uint32_t index, bool is_write, uint64_t *value)
{
	struct accel_vcpu *v = ctx;
	if (!v->has_lapic)
		return false;
	if (index != MSR_TSC_DEADLINE)
		return v->lapic.msr(v->lapic.ctx, index, is_write, value);
	/* Guest TSC units to the clock's nanoseconds and back (0 disarms). */
	int64_t base = v->vm->epoch_ns - (int64_t)v->cpu->sys.tsc_offset;
	uint64_t ns = 0;
	if (is_write) {
		ns = *value ? (uint64_t)((int64_t)*value + base) : 0;
		return v->lapic.msr(v->lapic.ctx, index, true, &ns);
	}
	if (!v->lapic.msr(v->lapic.ctx, index, false, &ns))
		return false;
	*value = ns ? (uint64_t)((int64_t)ns - base) : 0;
	return true;
}

static int op_intr_ack(void *ctx)
{
	struct accel_vcpu *v = ctx;
	return v->has_lapic ? v->lapic.intr_ack(v->lapic.ctx) : -1;
}

static const struct soft_sys_ops soft_machine_ops = {
	.ram_page = op_ram_page, .mmio = op_mmio, .pio = op_pio, .msr = op_msr,
	.intr_ack = op_intr_ack, .tsc = op_tsc,
};

static int no_translate(void *ctx, uint64_t va, unsigned access, uint8_t **host)
{
	return -1;
}

static const struct soft_mem_ops no_mem = { no_translate };

static struct accel_vcpu *soft_vcpu_create(struct accel_vm *vm, unsigned index, struct error *err)
{
	struct accel_vcpu *v = calloc(1, sizeof(*v));
	if (!v || !(v->cpu = soft_cpu_create(&no_mem, NULL))) {
		free(v);
		error_set(err, ERR_RUNTIME, "soft backend: out of memory for vCPU %u", index);
		return NULL;
	}
	if (vm->profile_out && index < vm->nr_vcpus &&
	    !(v->profile = vm->profiles[index] = soft_profile_create())) {
		soft_cpu_destroy(v->cpu);
		free(v);
		error_set(err, ERR_RUNTIME, "soft backend: out of memory for the profile");
		return NULL;
	}
	v->vm = vm;
	v->index = index;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->wake, NULL);
	soft_cpu_enable_system(v->cpu, &soft_machine_ops, v, vm->code, index);
	v->mp = index == 0 ? X86_MP_RUNNABLE : X86_MP_WAIT_SIPI;
	return v;
}

static void soft_vcpu_destroy(struct accel_vcpu *v)
{
	if (!v)
		return;
	soft_cpu_destroy(v->cpu);
	pthread_cond_destroy(&v->wake);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static int soft_get_regs(struct accel_vcpu *v, struct x86_cpu_state *s, struct error *err)
{
	soft_regs_get(v->cpu, v->mp, s);
	return 0;
}

static int soft_set_regs(struct accel_vcpu *v, const struct x86_cpu_state *s, struct error *err)
{
	soft_regs_set(v->cpu, s);
	v->mp = s->mp_state;
	return 0;
}

static int soft_set_lapic(struct accel_vcpu *v, const struct accel_lapic *lapic,
			  struct error *err)
{
	v->lapic = *lapic;
	v->has_lapic = true;
	return 0;
}

static void wake(struct accel_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->wake_pending = true;
	pthread_cond_signal(&v->wake);
	pthread_mutex_unlock(&v->lock);
}

static void soft_vcpu_kick(struct accel_vcpu *v)
{
	atomic_store(&v->kicked, true);
	soft_cpu_kick(v->cpu);
	wake(v);
}

static void soft_vcpu_signal(struct accel_vcpu *v, enum accel_signal sig, uint8_t vector)
{
	switch (sig) {
	case ACCEL_SIGNAL_INTR: soft_cpu_request_intr(v->cpu); break;
	case ACCEL_SIGNAL_NMI: soft_cpu_request_nmi(v->cpu); break;
	case ACCEL_SIGNAL_INIT:
		/* A SIPI posted before this INIT is void; one posted after it (even before the
		 * vCPU thread looks) must survive, so the INIT clears here, not on the vCPU. */
		atomic_store(&v->sipi_req, 0);
		atomic_store(&v->init_req, true);
		soft_cpu_kick(v->cpu);
		break;
	case ACCEL_SIGNAL_SIPI:
		atomic_store(&v->sipi_req, vector + 1);
		soft_cpu_kick(v->cpu);
		break;
	}
	wake(v);
}

/* INIT and SIPI, on the vCPU's own thread. false: INIT on the boot vCPU (a reset).
 * An INIT goes before a SIPI: one pending with a SIPI came first (soft_vcpu_signal clears
 * sipi_req before it sets init_req), so the SIPI then starts the CPU the INIT reset. */
static bool take_init_sipi(struct accel_vcpu *v)
{
	for (;;) {
		if (atomic_exchange(&v->init_req, false)) {
			if (v->index == 0)
				return false;
			soft_cpu_sys_reset(v->cpu, true);
			v->mp = X86_MP_WAIT_SIPI;
		}
		int sipi = atomic_load(&v->sipi_req);
		if (!sipi)
			return true;
		if (atomic_load(&v->init_req))
			continue; /* an INIT arrived meanwhile: take it first */
		if (!atomic_compare_exchange_strong(&v->sipi_req, &sipi, 0))
			continue;
		if (v->mp == X86_MP_WAIT_SIPI) {
			struct soft_seg *cs = &v->cpu->sys.seg[SOFT_CS];
			cs->sel = (uint16_t)((sipi - 1) << 8);
			cs->base = (uint64_t)(sipi - 1) << 12;
			v->cpu->rip = 0;
			soft_cpu_sys_sync(v->cpu);
			v->mp = X86_MP_RUNNABLE;
		}
		return true;
	}
}

/* Something for a halted or waiting vCPU to look at: a kick, INIT/SIPI, an NMI, or an
 * interrupt it can take. */
static bool has_event(struct accel_vcpu *v)
{
	struct soft_cpu *c = v->cpu;
	if (atomic_load(&v->kicked) || atomic_load(&v->init_req) || atomic_load(&v->sipi_req))
		return true;
	if (v->mp == X86_MP_WAIT_SIPI)
		return false;
	return atomic_load(&c->nmi_req) || (atomic_load(&c->intr_req) && soft_cpu_interruptible(c));
}

/* Sleeps until has_event or the LAPIC's next timer expiry. */
static void wait_event(struct accel_vcpu *v)
{
	uint64_t deadline = v->has_lapic ? v->lapic.next_deadline_ns(v->lapic.ctx) : UINT64_MAX;
	pthread_mutex_lock(&v->lock);
	while (!v->wake_pending && !has_event(v)) {
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&v->wake, &v->lock);
			continue;
		}
		int64_t left = (int64_t)deadline - now_ns(v->vm);
		if (left <= 0)
			break;
		/* The condition variable waits on CLOCK_REALTIME: wait at most the time left. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (left > 100000000 ? 100000000 : left);
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		pthread_cond_timedwait(&v->wake, &v->lock, &ts);
		if (now_ns(v->vm) >= (int64_t)deadline)
			break;
	}
	v->wake_pending = false;
	pthread_mutex_unlock(&v->lock);
}

static int exit_error(struct accel_vcpu *v, struct vcpu_exit *exit, const char *why)
{
	/* The registers follow on stderr: the VMM dumps the vCPU's state at any error. */
	static _Thread_local char msg[256];
	snprintf(msg, sizeof(msg), "soft CPU: %s", why);
	exit->kind = VCPU_EXIT_ERROR;
	exit->error = msg;
	return 0;
}

static int soft_vcpu_run(struct accel_vcpu *v, struct vcpu_exit *exit)
{
	struct soft_cpu *c = v->cpu;
	for (;;) {
		if (atomic_exchange(&v->kicked, false)) {
			exit->kind = VCPU_EXIT_INTR;
			return 0;
		}
		if (!take_init_sipi(v)) {
			exit->kind = VCPU_EXIT_RESET;
			exit->error = NULL;
			return 0;
		}
		if (v->has_lapic)
			v->lapic.poll(v->lapic.ctx, (uint64_t)now_ns(v->vm));
		if (v->mp != X86_MP_RUNNABLE) {
			if (v->mp == X86_MP_HALTED && has_event(v) && !atomic_load(&v->kicked))
				v->mp = X86_MP_RUNNABLE;
			else {
				wait_event(v);
				continue;
			}
		}
		enum soft_exit e = soft_cpu_run(c, v->profile ? SOFT_PROFILE_PERIOD : SOFT_RUN_SLICE);
		if (v->profile)
			soft_profile_sample(v->profile, c->sys.seg[SOFT_CS].base + c->rip, c->sys.cpl);
		switch (e) {
		case SOFT_EXIT_BUDGET:
			break;
		case SOFT_EXIT_HALT:
			v->mp = X86_MP_HALTED;
			break;
		case SOFT_EXIT_SHUTDOWN: {
			static _Thread_local char msg[160];
			snprintf(msg, sizeof(msg), "the guest triple-faulted (last exception %u at %#llx)",
				 c->exc_vector, (unsigned long long)c->exc_addr);
			exit->kind = VCPU_EXIT_RESET;
			exit->error = msg;
			return 0;
		}
		case SOFT_EXIT_ERROR:
			return exit_error(v, exit, c->error_msg);
		case SOFT_EXIT_EXCEPTION: {
			char why[96];
			snprintf(why, sizeof(why), "exception %u (error %#x) not delivered",
				 c->exc_vector, c->exc_error);
			return exit_error(v, exit, why);
		}
		case SOFT_EXIT_SYSCALL:
			return exit_error(v, exit, "SYSCALL left the system CPU");
		}
	}
}

const struct accel_ops accel_soft_ops = {
	.name = "soft",
	.probe = soft_probe,
	.vm_create = soft_vm_create,
	.vm_destroy = soft_vm_destroy,
	.vcpu_create = soft_vcpu_create,
	.vcpu_destroy = soft_vcpu_destroy,
	.get_regs = soft_get_regs,
	.set_regs = soft_set_regs,
	.vcpu_run = soft_vcpu_run,
	.vcpu_kick = soft_vcpu_kick,
	.vcpu_set_lapic = soft_set_lapic,
	.vcpu_signal = soft_vcpu_signal,
};
