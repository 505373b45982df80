/* KVM backend internals shared by its generic half (kvm.c) and its x86 half (kvm_x86.c). Its
 * state is its own: nothing outside src/accel/kvm*.c sees these structs. */
#ifndef HARDY_ACCEL_KVM_H
#define HARDY_ACCEL_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "accel/accel.h"

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

/* Does the host CPU advertise VT-x or AMD-V? Without it a /dev/kvm can only be a software KVM
 * (such as kvm-pvm) that needs specially built guest kernels. */
bool kvm_x86_host_has_hw_virt(void);

/* x86 half: set up the VM-wide x86 pieces and each vCPU's CPUID, MSRs, LAPIC and FPU. */
int kvm_x86_vm_setup(struct kvm_vm *kvm, struct error *err);
int kvm_x86_vcpu_setup(struct kvm_vm *kvm, struct kvm_vcpu *kv, struct error *err);
/* The register state seam (accel.h's get_regs/set_regs) over KVM's ioctls. */
int kvm_x86_get_regs(struct accel_vcpu *v, struct x86_cpu_state *s, struct error *err);
int kvm_x86_set_regs(struct accel_vcpu *v, const struct x86_cpu_state *s, struct error *err);

/* The guest's RIP and the linear address it fetches from (CS base + RIP); -1 when KVM cannot
 * say. For error messages, and to tell a CPU reset by INIT from other failures. */
int kvm_x86_guest_pc(struct kvm_vcpu *kv, uint64_t *rip, uint64_t *linear);
/* Linear address of the x86 reset vector (CS base 0xFFFF0000 + IP 0xFFF0), where INIT leaves
 * the boot vCPU; hardy has no firmware there. */
#define KVM_X86_RESET_VECTOR 0xFFFFFFF0ULL

#endif
