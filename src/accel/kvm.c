/* KVM backend, generic half: the VM and vCPU file descriptors, memory slots, the run loop that
 * turns KVM exits into struct vcpu_exit, its kick signal, and interrupt lines. It knows the
 * machine only through accel.h: guest memory and the vCPU count. */
#include "accel/kvm_x86.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/accel.h"

/* The backend's own state: nothing outside this file sees it. */
struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_size;
	unsigned nr_vcpus;
	struct kvm_cpuid2 *supported_cpuid;
};

struct kvm_vcpu {
	struct kvm_vm *kvm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;              /* the vCPU's thread, the kick signal's target */
	_Atomic bool thread_known;     /* thread is set (vcpu_thread_init ran) */
	char error[200]; /* what vcpu_exit.error points to: the last failure, in words */
};

static inline struct kvm_vm *kvm_vm_of(struct accel_vm *v)
{
	return (struct kvm_vm *)v;
}

static inline struct kvm_vcpu *kvm_vcpu_of(struct accel_vcpu *v)
{
	return (struct kvm_vcpu *)v;
}


static int kvm_open(struct error *err)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, ERR_RUNTIME,
				 "KVM is not available on this host (/dev/kvm: %s)", strerror(errno));
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		close(fd);
		return error_set(err, ERR_RUNTIME, "KVM API version %d, hardy needs %d",
				 version, KVM_API_VERSION);
	}
	return fd;
}

static int kvm_probe(struct accel_caps *caps, struct error *err)
{
	if (!kvm_x86_host_has_hw_virt())
		return error_set(err, ERR_RUNTIME,
				 "KVM is not usable on this host: the CPU has no VT-x or AMD-V%s",
				 access("/dev/kvm", F_OK) == 0
					 ? " (its /dev/kvm is a software KVM that cannot run unmodified kernels)"
					 : "");
	int fd = kvm_open(err);
	if (fd < 0)
		return -1;
	int max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_EXT_CPUID, "CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_SIGNAL_MSI, "MSI injection" },
		{ KVM_CAP_VCPU_EVENTS, "vCPU event state" },
		{ KVM_CAP_MP_STATE, "multiprocessor state" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			close(fd);
			return error_set(err, ERR_RUNTIME, "KVM lacks %s", needed[i].name);
		}
	}
	*caps = (struct accel_caps){
		.max_vcpus = max > 0 ? (unsigned)max : 1,
		.irqchip = true, /* KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2, kvm_x86.c */
		.ioeventfd = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0,
		.msi = true,
	};
	close(fd);
	return 0;
}

/* The kick: immediate_exit plus SIGUSR1 sent to the vCPU's thread, whose handler does nothing
 * but make KVM_RUN return EINTR. The signal is the KVM backend's alone: installed here once,
 * blocked in the thread that creates the VM (so threads it starts inherit the block) and
 * unblocked only on vCPU threads (kvm_vcpu_thread_init). */
#define KVM_KICK_SIGNAL SIGUSR1

static void kvm_kick_handler(int sig)
{
	/* Empty: its only job is to make the blocking ioctl return EINTR. */
}

static void kvm_kick_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kvm_kick_handler; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(KVM_KICK_SIGNAL, &sa, NULL);
}

static void kvm_kick_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, kvm_kick_install);
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);
}

static int kvm_set_memory(struct kvm_vm *kvm, const struct guest_mem *m, struct error *err)
{
	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = m->region[i].gpa,
			.memory_size = m->region[i].size,
			.userspace_addr = (uintptr_t)m->region[i].host,
		};
		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return error_errno(err, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

static void kvm_vm_destroy(struct accel_vm *v)
{
	struct kvm_vm *kvm = kvm_vm_of(v);
	if (!kvm)
		return;
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->kvm_fd >= 0)
		close(kvm->kvm_fd);
	free(kvm->supported_cpuid);
	free(kvm);
}

static struct accel_vm *kvm_vm_create(const struct accel_vm_params *p, struct error *err)
{
	struct kvm_vm *kvm = calloc(1, sizeof(*kvm));
	if (!kvm) {
		error_errno(err, "out of memory");
		return NULL;
	}
	kvm->vm_fd = -1;
	kvm->nr_vcpus = p->nr_vcpus;
	kvm_kick_setup();
	kvm->kvm_fd = kvm_open(err);
	if (kvm->kvm_fd < 0)
		goto fail;
	kvm->run_size = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (int)sizeof(struct kvm_run)) {
		error_errno(err, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	do
		kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
	while (kvm->vm_fd < 0 && errno == EINTR);
	if (kvm->vm_fd < 0) {
		error_errno(err, "KVM_CREATE_VM");
		goto fail;
	}
	if (!(kvm->supported_cpuid = kvm_x86_vm_setup(kvm->kvm_fd, kvm->vm_fd, err)) || kvm_set_memory(kvm, p->mem, err) < 0)
		goto fail;
	return (struct accel_vm *)kvm;
fail:
	kvm_vm_destroy((struct accel_vm *)kvm);
	return NULL;
}

static void kvm_vcpu_destroy(struct accel_vcpu *v)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(v);
	if (!kv)
		return;
	if (kv->run)
		munmap(kv->run, (size_t)kv->kvm->run_size);
	if (kv->fd >= 0)
		close(kv->fd);
	free(kv);
}

static struct accel_vcpu *kvm_vcpu_create(struct accel_vm *v, unsigned index, struct error *err)
{
	struct kvm_vm *kvm = kvm_vm_of(v);
	struct kvm_vcpu *kv = calloc(1, sizeof(*kv));
	if (!kv) {
		error_errno(err, "out of memory");
		return NULL;
	}
	kv->kvm = kvm;
	kv->index = index;
	kv->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (kv->fd < 0) {
		error_errno(err, "KVM_CREATE_VCPU %u", index);
		goto fail;
	}
	void *run = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
	if (run == MAP_FAILED) {
		error_errno(err, "mmap of vCPU %u run area", index);
		goto fail;
	}
	kv->run = run;
	if (kvm_x86_vcpu_setup(kv->fd, kvm->supported_cpuid, kv->index, kvm->nr_vcpus, err) < 0)
		goto fail;
	return (struct accel_vcpu *)kv;
fail:
	kvm_vcpu_destroy((struct accel_vcpu *)kv);
	return NULL;
}

/* On the vCPU's thread: the kick's target, and the only thread where the signal gets through. */
static int kvm_vcpu_thread_init(struct accel_vcpu *v, struct error *err)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(v);
	kv->thread = pthread_self();
	atomic_store(&kv->thread_known, true);
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	return 0;
}

static int kvm_exit_error(struct kvm_vcpu *kv, struct vcpu_exit *exit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kvm_exit_error(struct kvm_vcpu *kv, struct vcpu_exit *exit, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(kv->error, sizeof(kv->error), fmt, ap);
	va_end(ap);
	exit->kind = VCPU_EXIT_ERROR;
	exit->error = kv->error;
	return 0;
}

static const char *kvm_internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "an instruction KVM cannot emulate";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "an exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "an exit while delivering an event";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "a hardware exit KVM does not handle";
	default: return "unknown";
	}
}

/* INIT resets a vCPU to the reset vector, where a PC's firmware would start; hardy has none,
 * so KVM fails to fetch there. For the guest that is a reset of the machine, not a failure. */
static int kvm_exit_internal(struct kvm_vcpu *kv, struct vcpu_exit *exit)
{
	uint32_t sub = kv->run->internal.suberror;
	uint64_t rip = 0, linear = 0;
	bool have_pc = kvm_x86_guest_pc(kv->fd, &rip, &linear) == 0;
	if (have_pc && linear == KVM_X86_RESET_VECTOR) {
		exit->kind = VCPU_EXIT_RESET;
		exit->error = NULL;
		return 0;
	}
	if (!have_pc)
		return kvm_exit_error(kv, exit, "KVM internal error %u (%s), guest RIP unknown", sub,
				      kvm_internal_error_name(sub));
	return kvm_exit_error(kv, exit, "KVM internal error %u (%s) at guest RIP 0x%llx", sub,
			      kvm_internal_error_name(sub), (unsigned long long)rip);
}

static int kvm_vcpu_run(struct accel_vcpu *v, struct vcpu_exit *exit)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(v);
	struct kvm_run *run = kv->run;

	if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			run->immediate_exit = 0;
			exit->kind = VCPU_EXIT_INTR;
			return 0;
		}
		return kvm_exit_error(kv, exit, "KVM_RUN failed: %s", strerror(errno));
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->kind = VCPU_EXIT_PIO;
		exit->pio.port = run->io.port;
		exit->pio.size = run->io.size;
		exit->pio.is_write = run->io.direction == KVM_EXIT_IO_OUT;
		exit->pio.count = run->io.count;
		exit->pio.data = (uint8_t *)run + run->io.data_offset;
		return 0;
	case KVM_EXIT_MMIO:
		exit->kind = VCPU_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = (uint8_t)run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;
		return 0;
	case KVM_EXIT_INTR:
		exit->kind = VCPU_EXIT_INTR;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: a PC resets, and so does hardy (status 0), but says so. */
		exit->kind = VCPU_EXIT_RESET;
		exit->error = "the guest triple-faulted (KVM_EXIT_SHUTDOWN)";
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->kind = run->system_event.type == KVM_SYSTEM_EVENT_RESET ? VCPU_EXIT_RESET
									       : VCPU_EXIT_POWEROFF;
		exit->error = NULL;
		return 0;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; with it, HLT never leaves the kernel. */
		exit->kind = VCPU_EXIT_INTR;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		return kvm_exit_error(kv, exit, "KVM could not enter the guest (hardware reason 0x%llx)",
				      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return kvm_exit_internal(kv, exit);
	default:
		return kvm_exit_error(kv, exit, "unexpected KVM exit %u", run->exit_reason);
	}
}

/* Called from any thread: makes the vCPU's next or current KVM_RUN return with EINTR. The
 * caller keeps the thread joinable while it kicks (vcpu.c kicks only started, unjoined ones). */
static void kvm_vcpu_kick(struct accel_vcpu *v)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(v);
	if (!kv || !kv->run)
		return;
	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&kv->thread_known))
		pthread_kill(kv->thread, KVM_KICK_SIGNAL);
}

/* On the vCPU's thread after a pause: sets the guest's kvmclock "stopped" flag, which the
 * guest's watchdogs read to excuse the time it did not run. EINVAL: the guest has no kvmclock
 * (nothing to tell). */
static void kvm_vcpu_resumed(struct accel_vcpu *v)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(v);
	if (kv && ioctl(kv->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL) {
		/* Nothing better to do: the guest may print a soft-lockup warning. */
	}
}

static int kvm_irq_line(struct accel_vm *v, unsigned gsi, int level)
{
	struct kvm_vm *kvm = kvm_vm_of(v);
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq); /* -1 with errno set on failure */
}

static int kvm_irq_msi(struct accel_vm *v, uint64_t addr, uint32_t data)
{
	struct kvm_vm *kvm = kvm_vm_of(v);
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };
	return ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

/* A notification write then completes in the kernel; the device's event loop callback reads
 * the eventfd. */
static int kvm_ioeventfd(struct accel_vm *v, uint64_t gpa, unsigned len, int fd)
{
	struct kvm_vm *kvm = kvm_vm_of(v);
	struct kvm_ioeventfd io = { .addr = gpa, .len = len, .fd = fd };
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io);
}

static int kvm_get_regs(struct accel_vcpu *v, struct x86_cpu_state *s, struct error *err)
{
	return kvm_x86_get_regs(kvm_vcpu_of(v)->fd, s, err);
}

static int kvm_set_regs(struct accel_vcpu *v, const struct x86_cpu_state *s, struct error *err)
{
	return kvm_x86_set_regs(kvm_vcpu_of(v)->fd, s, err);
}

const struct accel_ops accel_kvm_ops = {
	.name = "kvm",
	.probe = kvm_probe,
	.process_init = kvm_kick_setup,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.vcpu_thread_init = kvm_vcpu_thread_init,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_resumed = kvm_vcpu_resumed,
	.irq_line = kvm_irq_line,
	.irq_msi = kvm_irq_msi,
	.ioeventfd = kvm_ioeventfd,
};
