/* x86 MSR numbers hardy sets (the kernel's msr-index.h is not part of its UAPI headers). */
#ifndef HARDY_ARCH_X86_MSR_H
#define HARDY_ARCH_X86_MSR_H

#define MSR_IA32_SYSENTER_CS    0x00000174
#define MSR_IA32_SYSENTER_ESP   0x00000175
#define MSR_IA32_SYSENTER_EIP   0x00000176
#define MSR_IA32_MISC_ENABLE    0x000001A0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1ULL
#define MSR_IA32_CR_PAT         0x00000277
#define MSR_MTRRdefType         0x000002FF
#define MSR_STAR                0xC0000081
#define MSR_LSTAR               0xC0000082
#define MSR_CSTAR               0xC0000083
#define MSR_SYSCALL_MASK        0xC0000084
#define MSR_KERNEL_GS_BASE      0xC0000102

#endif
