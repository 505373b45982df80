/* CPUID of the system CPU: the user-mode feature set (misc.c's soft_cpuid) plus exactly the
 * system features this CPU implements. Leaf 1: DE PSE TSC MSR PAE CX8 APIC MTRR PGE CMOV PAT
 * CLFSH FXSR SSE SSE2 / CX16 x2APIC POPCNT TSC-deadline XSAVE OSXSAVE (as CR4 says) HYPERVISOR,
 * APIC ID in EBX[31:24]; leaf 7: SMEP SMAP (mmu.c) UMIP RDPID; 0xB: one thread per core, one
 * core per package (package = APIC ID, like QEMU's -smp N); 0xD: XCR0 x87|SSE (576-byte
 * area, XSAVEOPT); 0x15/0x16: the soft time base; 0x80000001: SYSCALL NX LM RDTSCP;
 * 0x80000007: invariant TSC; 0x80000008: 40 physical / 48 linear address bits. Not exposed:
 * VME, MCE/MCA, SEP, PSE-36, MONITOR, VMX/SVM, PCID, FSGSBASE, AVX, RDRAND, 1 GiB pages. */
#include "accel/soft/soft_sys.h"
#include "arch/x86/cpu_state.h"

void soft_cpuid_system(struct soft_cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	soft_cpuid(leaf, sub, r);
	switch (leaf) {
	case 0:
		r[0] = 0x16;
		break;
	case 1:
		r[1] = (c->sys.apic_id & 0xff) << 24 | 1u << 16 | 8u << 8;
		r[2] |= 1u << 21 /* x2APIC */ | 1u << 24 /* TSC deadline */ | 1u << 26 /* XSAVE */ |
			1u << 31 /* hypervisor */;
		if (c->sys.cr4 & SOFT_CR4_OSXSAVE)
			r[2] |= 1u << 27;
		r[3] |= 1u << 2 /* DE */ | 1u << 3 /* PSE */ | 1u << 5 /* MSR */ | 1u << 6 /* PAE */ |
			1u << 9 /* APIC */ | 1u << 12 /* MTRR */ | 1u << 13 /* PGE */ |
			1u << 16 /* PAT */;
		break;
	case 7:
		if (sub == 0) {
			r[1] |= 1u << 7 /* SMEP */ | 1u << 20 /* SMAP */;
			r[2] |= 1u << 2 /* UMIP */ | 1u << 22 /* RDPID */;
		}
		break;
	case 0xb:
		r[2] = sub & 0xff;
		if (sub < 2) {
			r[0] = 0;
			r[1] = 1;
			r[2] |= (sub + 1) << 8; /* 1: SMT, 2: core */
		}
		r[3] = c->sys.apic_id;
		break;
	case 0xd:
		if (sub == 0) {
			r[0] = 3;
			r[1] = 576; /* for the XCR0 in force: both components live in 576 bytes */
			r[2] = 576;
		} else if (sub == 1) {
			r[0] = 1; /* XSAVEOPT */
		}
		break;
	case 0x15:
		r[0] = 1;
		r[1] = (uint32_t)(X86_SOFT_TSC_HZ / X86_SOFT_CRYSTAL_HZ);
		r[2] = (uint32_t)X86_SOFT_CRYSTAL_HZ;
		break;
	case 0x16:
		r[0] = r[1] = (uint32_t)(X86_SOFT_TSC_HZ / 1000000);
		r[2] = 100;
		break;
	case 0x80000000:
		r[0] = 0x80000008;
		break;
	case 0x80000001:
		r[3] |= 1u << 27; /* RDTSCP */
		break;
	case 0x80000007:
		r[3] = 1u << 8;
		break;
	case 0x80000008:
		r[0] = SOFT_LINEAR_ADDR_BITS << 8 | SOFT_PHYS_ADDR_BITS;
		break;
	default:
		break;
	}
}
