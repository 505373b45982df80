/* KVM backend, generic half: the VM and vCPU file descriptors, memory slots, the run loop that
 * turns KVM exits into struct vcpu_exit, kicks and interrupt lines. */
#include "accel/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/vm.h"

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

static int kvm_probe(struct accel_limits *limits, struct error *err)
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
	limits->max_vcpus = max > 0 ? (unsigned)max : 1;
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_EXT_CPUID, "CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_SIGNAL_MSI, "MSI injection" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			close(fd);
			return error_set(err, ERR_RUNTIME, "KVM lacks %s", needed[i].name);
		}
	}
	close(fd);
	return 0;
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

static void kvm_vm_destroy(struct vm *vm)
{
	struct kvm_vm *kvm = vm->accel_data;
	if (!kvm)
		return;
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->kvm_fd >= 0)
		close(kvm->kvm_fd);
	free(kvm->supported_cpuid);
	free(kvm);
	vm->accel_data = NULL;
}

static int kvm_vm_create(struct vm *vm, struct error *err)
{
	struct kvm_vm *kvm = calloc(1, sizeof(*kvm));
	if (!kvm)
		return error_errno(err, "out of memory");
	kvm->vm_fd = -1;
	vm->accel_data = kvm;
	kvm->kvm_fd = kvm_open(err);
	if (kvm->kvm_fd < 0)
		return -1;
	kvm->run_size = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (int)sizeof(struct kvm_run))
		return error_errno(err, "KVM_GET_VCPU_MMAP_SIZE");
	do
		kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
	while (kvm->vm_fd < 0 && errno == EINTR);
	if (kvm->vm_fd < 0)
		return error_errno(err, "KVM_CREATE_VM");
	if (kvm_x86_vm_setup(kvm, err) < 0)
		return -1;
	return kvm_set_memory(kvm, &vm->mem, err);
}

static void kvm_vcpu_destroy(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = vcpu->accel_data;
	if (!kv)
		return;
	if (kv->run)
		munmap(kv->run, (size_t)((struct kvm_vm *)vcpu->vm->accel_data)->run_size);
	if (kv->fd >= 0)
		close(kv->fd);
	free(kv);
	vcpu->accel_data = NULL;
}

static int kvm_vcpu_create(struct vcpu *vcpu, struct error *err)
{
	struct kvm_vm *kvm = vcpu->vm->accel_data;
	struct kvm_vcpu *kv = calloc(1, sizeof(*kv));
	if (!kv)
		return error_errno(err, "out of memory");
	vcpu->accel_data = kv;
	kv->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->index);
	if (kv->fd < 0)
		return error_errno(err, "KVM_CREATE_VCPU %u", vcpu->index);
	void *run = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
	if (run == MAP_FAILED)
		return error_errno(err, "mmap of vCPU %u run area", vcpu->index);
	kv->run = run;
	return kvm_x86_vcpu_setup(kvm, kv, vcpu->index, vcpu->vm->nr_vcpus, err);
}

static int kvm_vcpu_boot_setup(struct vcpu *vcpu, const struct x86_boot_regs *regs,
			       struct error *err)
{
	return kvm_x86_boot_regs(vcpu->accel_data, regs, err);
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
	bool have_pc = kvm_x86_guest_pc(kv, &rip, &linear) == 0;
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

static int kvm_vcpu_run(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	struct kvm_vcpu *kv = vcpu->accel_data;
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

/* Called from any thread: makes the vCPU's next or current KVM_RUN return with EINTR. */
static void kvm_vcpu_kick(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = vcpu->accel_data;
	if (!kv || !kv->run)
		return;
	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, SIGUSR1);
}

/* On the vCPU's thread after a pause: sets the guest's kvmclock "stopped" flag, which the
 * guest's watchdogs read to excuse the time it did not run. EINVAL: the guest has no kvmclock
 * (nothing to tell). */
static void kvm_vcpu_resumed(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = vcpu->accel_data;
	if (kv && ioctl(kv->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL) {
		/* Nothing better to do: the guest may print a soft-lockup warning. */
	}
}

static int kvm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_vm *kvm = vm->accel_data;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq); /* -1 with errno set on failure */
}

static int kvm_irq_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_vm *kvm = vm->accel_data;
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };
	return ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

/* A notification write then completes in the kernel; the device's event loop callback reads
 * the eventfd. */
static int kvm_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	struct kvm_vm *kvm = vm->accel_data;
	struct kvm_ioeventfd io = { .addr = gpa, .len = len, .fd = fd };
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io);
}

const struct accel_ops accel_kvm_ops = {
	.name = "kvm",
	.probe = kvm_probe,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_boot_setup = kvm_vcpu_boot_setup,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_resumed = kvm_vcpu_resumed,
	.vcpu_destroy = kvm_vcpu_destroy,
	.irq_line = kvm_irq_line,
	.irq_msi = kvm_irq_msi,
	.ioeventfd = kvm_ioeventfd,
};
