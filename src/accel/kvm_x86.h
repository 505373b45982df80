/* The KVM backend's x86 half (kvm_x86.c): the architecture's ioctls on KVM's descriptors. It
 * knows nothing of the generic half's structs (kvm.c): it gets descriptors and numbers. */
#ifndef HARDY_ACCEL_KVM_X86_H
#define HARDY_ACCEL_KVM_X86_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "util/error.h"

/* Does the host CPU advertise VT-x or AMD-V? Without it a /dev/kvm can only be a software KVM
 * (such as kvm-pvm) that needs specially built guest kernels. */
bool kvm_x86_host_has_hw_virt(void);

/* The VM-wide x86 pieces (TSS, identity map, in-kernel irqchip and PIT); returns KVM's
 * supported CPUID (malloc'd) for the vCPUs, NULL with err. */
struct kvm_cpuid2 *kvm_x86_vm_setup(int kvm_fd, int vm_fd, struct error *err);
/* One vCPU's CPUID (topology for index of nr_vcpus), MSRs, LAPIC and FPU. */
int kvm_x86_vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned index,
		       unsigned nr_vcpus, struct error *err);
/* The register state seam (accel.h's get_regs/set_regs) over KVM's ioctls. */
int kvm_x86_get_regs(int vcpu_fd, struct x86_cpu_state *s, struct error *err);
int kvm_x86_set_regs(int vcpu_fd, const struct x86_cpu_state *s, struct error *err);

/* The guest's RIP and the linear address it fetches from (CS base + RIP); -1 when KVM cannot
 * say. For error messages, and to tell a CPU reset by INIT from other failures. */
int kvm_x86_guest_pc(int vcpu_fd, uint64_t *rip, uint64_t *linear);
/* Linear address of the x86 reset vector (CS base 0xFFFF0000 + IP 0xFFF0), where INIT leaves
 * the boot vCPU; hardy has no firmware there. */
#define KVM_X86_RESET_VECTOR 0xFFFFFFF0ULL

#endif
