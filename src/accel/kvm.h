/* KVM backend internals shared by its generic half (kvm.c) and its x86 half (kvm_x86.c). */
#ifndef HARDY_ACCEL_KVM_H
#define HARDY_ACCEL_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "accel/accel.h"

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct kvm_cpuid2 *supported_cpuid;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
};

/* Does the host CPU advertise VT-x or AMD-V? Without it a /dev/kvm can only be a software KVM
 * (such as kvm-pvm) that needs specially built guest kernels. */
bool kvm_x86_host_has_hw_virt(void);

/* x86 half: set up the VM-wide x86 pieces and each vCPU's CPUID, MSRs, LAPIC and FPU. */
int kvm_x86_vm_setup(struct kvm_vm *kvm, struct error *err);
int kvm_x86_vcpu_setup(struct kvm_vm *kvm, struct kvm_vcpu *kv, unsigned index, unsigned ncpus,
		       struct error *err);
int kvm_x86_boot_regs(struct kvm_vcpu *kv, const struct x86_boot_regs *regs, struct error *err);

#endif
