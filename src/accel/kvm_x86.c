/* KVM backend, x86 half: in-kernel interrupt controllers and PIT, per-vCPU CPUID (KVM's supported
 * set plus hypervisor leaves and a topology of ncpus single-thread cores), initial MSRs, LAPIC
 * wiring, FPU state, and the whole register state moved through the seam (get/set_regs). */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm_x86.h"
#include "arch/x86/layout.h"
#include "arch/x86/msr.h"

#define KVM_TSS_GPA          0xFFFBD000ULL /* three pages below the BIOS area, inside the hole */
#define KVM_IDENTITY_MAP_GPA 0xFFFBC000ULL
#define CPUID_MAX_ENTRIES    256

static struct kvm_cpuid2 *kvm_get_supported_cpuid(int kvm_fd, struct error *err)
{
	for (unsigned n = CPUID_MAX_ENTRIES; n <= 4 * CPUID_MAX_ENTRIES; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			break;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			error_errno(err, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	error_set(err, ERR_RUNTIME, "KVM_GET_SUPPORTED_CPUID: too many entries");
	return NULL;
}

bool kvm_x86_host_has_hw_virt(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 5))) /* VMX */
		return true;
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2)); /* SVM */
}

static struct kvm_cpuid2 *kvm_x86_fail(struct error *err, const char *what)
{
	error_errno(err, what);
	return NULL;
}

struct kvm_cpuid2 *kvm_x86_vm_setup(int kvm_fd, int vm_fd, struct error *err)
{
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return kvm_x86_fail(err, "KVM_SET_TSS_ADDR");
	uint64_t idmap = KVM_IDENTITY_MAP_GPA;
	if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return kvm_x86_fail(err, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_x86_fail(err, "KVM_CREATE_IRQCHIP");
	/* The dummy speaker makes KVM answer port 0x61 itself (PIT gate/output for calibration). */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return kvm_x86_fail(err, "KVM_CREATE_PIT2");
	return kvm_get_supported_cpuid(kvm_fd, err);
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Topology: ncpus cores of one thread each in one package; APIC ID = vCPU index. */
static void cpuid_fix_entry(struct kvm_cpuid_entry2 *e, unsigned apic_id, unsigned ncpus)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000FFFF) | (apic_id << 24) | ((ncpus & 0xFF) << 16);
		e->ecx |= 1u << 31; /* running under a hypervisor */
		e->ecx &= ~(1u << 5); /* no VMX: nested virtualization is not offered (as Firecracker) */
		if (ncpus > 1)
			e->edx |= 1u << 28; /* HTT: the logical processor count field is valid */
		break;
	case 4:
		/* Cores per package; caches private to a core except the last level. */
		e->eax &= 0x3FFF;
		e->eax |= (ncpus - 1) << 26;
		if (((e->eax >> 5) & 7) >= 3)
			e->eax |= (ncpus - 1) << 14;
		break;
	case 0xB:
	case 0x1F:
		e->edx = apic_id;
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;
		} else if (e->index == 1) {
			e->eax = bits_for(ncpus);
			e->ebx = ncpus;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0x80000001:
		if (ncpus > 1)
			e->ecx |= 1u << 1; /* CmpLegacy */
		e->ecx &= ~(1u << 2); /* no SVM: the guest does not load kvm_amd for nothing */
		break;
	case 0x8000000A: /* SVM features: none, with SVM off */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xF0FFu) | (bits_for(ncpus) << 12) | (ncpus - 1);
		break;
	case 0x8000001E:
		e->eax = apic_id;
		e->ebx = apic_id; /* core id, one thread per core */
		e->ecx = 0;
		break;
	case 0x40000000:
		e->eax = 0x40000001; /* "KVMKVMKVM": the guest uses kvmclock and PV features */
		break;
	default:
		break;
	}
}

/* Drop XSAVE components that the host cannot really save, so that the XSAVE sizes the guest
 * reads agree with the features it enables. Seen under nested emulation: KVM offers AVX (YMM)
 * state in leaf 0xD while the host CPU it runs on reports no size for it, and the guest kernel
 * warns "XSAVE consistency problem". */
static bool xsave_component_usable(const struct kvm_cpuid2 *c, unsigned i)
{
	unsigned a, b, cx, d;
	__cpuid_count(0xD, i, a, b, cx, d);
	if (a == 0)
		return false; /* the host has no room for it */
	if (i == 2) {     /* YMM: needs AVX in leaf 1 */
		for (unsigned k = 0; k < c->nent; k++)
			if (c->entries[k].function == 1)
				return c->entries[k].ecx & (1u << 28);
	}
	return true;
}

static void cpuid_sanitize_xsave(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *xsave0 = NULL;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xD && c->entries[i].index == 0)
			xsave0 = &c->entries[i];
	if (!xsave0)
		return;
	for (unsigned i = 2; i < 32; i++)
		if ((xsave0->eax & (1u << i)) && !xsave_component_usable(c, i))
			xsave0->eax &= ~(1u << i);
	uint32_t size = 576; /* legacy area + XSAVE header */
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 0xD && e->index >= 2 && e->index < 32 &&
		    (xsave0->eax & (1u << e->index)) && e->eax + e->ebx > size)
			size = e->eax + e->ebx;
	}
	xsave0->ebx = xsave0->ecx = size;
}

static int kvm_set_cpuid(int fd, const struct kvm_cpuid2 *sup, unsigned index, unsigned ncpus,
			 struct error *err)
{
	size_t bytes = sizeof(*sup) + (sup->nent + 8) * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(bytes);
	if (!c)
		return error_errno(err, "out of memory");
	c->nent = 0;
	c->padding = 0;
	bool have_leaf_b[3] = { false };
	for (unsigned i = 0; i < sup->nent; i++) {
		struct kvm_cpuid_entry2 e = sup->entries[i];
		if (e.function == 0xB && e.index < 3)
			have_leaf_b[e.index] = true;
		c->entries[c->nent++] = e;
	}
	/* Make sure the extended topology leaf has its SMT, core and terminating levels. */
	for (unsigned lvl = 0; lvl < 3; lvl++) {
		if (have_leaf_b[lvl])
			continue;
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = 0xB, .index = lvl, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	}
	for (unsigned i = 0; i < c->nent; i++)
		cpuid_fix_entry(&c->entries[i], index, ncpus);
	cpuid_sanitize_xsave(c);
	int r = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	return r < 0 ? error_errno(err, "KVM_SET_CPUID2") : 0;
}

static void kvm_set_msrs(int fd)
{
	static const struct { uint32_t index; uint64_t value; } msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING },
		/* MTRRs enabled, default type write-back: guest RAM is cacheable. */
		{ MSR_MTRRdefType, (1u << 11) | 6 },
	};
	/* One at a time: an MSR this CPU lacks must not keep the others from being set. */
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry entry;
		} one = { .hdr.nmsrs = 1, .entry = { .index = msrs[i].index, .data = msrs[i].value } };
		ioctl(fd, KVM_SET_MSRS, &one);
	}
}

/* LINT0 delivers the 8259's ExtINT, LINT1 delivers NMIs, as on a PC. */
static int kvm_set_lapic(int fd, struct error *err)
{
	struct kvm_lapic_state lapic;
	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return error_errno(err, "KVM_GET_LAPIC");
	uint32_t lvt0, lvt1;
	memcpy(&lvt0, &lapic.regs[0x350], 4);
	memcpy(&lvt1, &lapic.regs[0x360], 4);
	lvt0 = (lvt0 & ~0x700u) | (7u << 8);
	lvt1 = (lvt1 & ~0x700u) | (4u << 8);
	memcpy(&lapic.regs[0x350], &lvt0, 4);
	memcpy(&lapic.regs[0x360], &lvt1, 4);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return error_errno(err, "KVM_SET_LAPIC");
	return 0;
}

int kvm_x86_vcpu_setup(int fd, const struct kvm_cpuid2 *supported, unsigned index,
		       unsigned nr_vcpus, struct error *err)
{
	if (kvm_set_cpuid(fd, supported, index, nr_vcpus, err) < 0)
		return -1;
	kvm_set_msrs(fd);
	if (kvm_set_lapic(fd, err) < 0)
		return -1;
	struct kvm_fpu fpu = { .fcw = 0x37F, .mxcsr = 0x1F80 };
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return error_errno(err, "KVM_SET_FPU");
	return 0;
}

/* The register state seam. MSRs go one at a time, so that one this CPU lacks neither fails
 * the others nor the whole call; the state carries those that read back. */

static void seg_from_kvm(struct x86_segment *d, const struct kvm_segment *k)
{
	*d = (struct x86_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .s = k->s, .db = k->db, .l = k->l, .g = k->g, .avl = k->avl,
		.unusable = k->unusable, .dpl = k->dpl,
	};
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_segment *d)
{
	*k = (struct kvm_segment){
		.base = d->base, .limit = d->limit, .selector = d->selector, .type = d->type,
		.present = d->present, .s = d->s, .db = d->db, .l = d->l, .g = d->g, .avl = d->avl,
		.unusable = d->unusable, .dpl = d->dpl,
	};
}

static enum x86_mp_state mp_from_kvm(uint32_t s)
{
	switch (s) {
	case KVM_MP_STATE_HALTED: return X86_MP_HALTED;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED: return X86_MP_WAIT_SIPI;
	default: return X86_MP_RUNNABLE;
	}
}

static uint32_t mp_to_kvm(enum x86_mp_state s)
{
	switch (s) {
	case X86_MP_HALTED: return KVM_MP_STATE_HALTED;
	case X86_MP_WAIT_SIPI: return KVM_MP_STATE_INIT_RECEIVED;
	default: return KVM_MP_STATE_RUNNABLE;
	}
}

int kvm_x86_get_regs(int fd, struct x86_cpu_state *s, struct error *err)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	if (ioctl(fd, KVM_GET_REGS, &r) < 0)
		return error_errno(err, "KVM_GET_REGS");
	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return error_errno(err, "KVM_GET_SREGS");
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return error_errno(err, "KVM_GET_VCPU_EVENTS");
	if (ioctl(fd, KVM_GET_MP_STATE, &mp) < 0)
		return error_errno(err, "KVM_GET_MP_STATE");
	memset(s, 0, sizeof(*s));
	const uint64_t gpr[16] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
				   r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };
	memcpy(s->gpr, gpr, sizeof(gpr));
	s->rip = r.rip;
	s->rflags = r.rflags;
	seg_from_kvm(&s->cs, &sr.cs);
	seg_from_kvm(&s->ds, &sr.ds);
	seg_from_kvm(&s->es, &sr.es);
	seg_from_kvm(&s->fs, &sr.fs);
	seg_from_kvm(&s->gs, &sr.gs);
	seg_from_kvm(&s->ss, &sr.ss);
	seg_from_kvm(&s->tr, &sr.tr);
	seg_from_kvm(&s->ldt, &sr.ldt);
	s->gdt = (struct x86_dtable){ .base = sr.gdt.base, .limit = sr.gdt.limit };
	s->idt = (struct x86_dtable){ .base = sr.idt.base, .limit = sr.idt.limit };
	s->cr0 = sr.cr0;
	s->cr2 = sr.cr2;
	s->cr3 = sr.cr3;
	s->cr4 = sr.cr4;
	s->cr8 = sr.cr8;
	s->efer = sr.efer;
	s->apic_base = sr.apic_base;
	for (unsigned i = 0; i < x86_state_msr_count; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry entry;
		} one = { .hdr.nmsrs = 1, .entry.index = x86_state_msr_list[i] };
		if (ioctl(fd, KVM_GET_MSRS, &one) == 1)
			s->msrs[s->nr_msrs++] = (struct x86_msr){ .index = one.entry.index,
								  .value = one.entry.data };
	}
	s->events = (struct x86_events){
		.exception_pending = ev.exception.injected || ev.exception.pending,
		.exception_vector = ev.exception.nr,
		.exception_has_error = ev.exception.has_error_code,
		.exception_error = ev.exception.error_code,
		.interrupt_pending = ev.interrupt.injected,
		.interrupt_vector = ev.interrupt.nr,
		.nmi_pending = ev.nmi.pending,
		.nmi_masked = ev.nmi.masked,
		.interrupt_shadow = ev.interrupt.shadow,
		.sipi_vector = (uint8_t)ev.sipi_vector,
	};
	s->mp_state = mp_from_kvm(mp.mp_state);
	return 0;
}

int kvm_x86_set_regs(int fd, const struct x86_cpu_state *s, struct error *err)
{
	struct kvm_sregs sr = {
		.cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3, .cr4 = s->cr4, .cr8 = s->cr8,
		.efer = s->efer, .apic_base = s->apic_base,
		.gdt = { .base = s->gdt.base, .limit = s->gdt.limit },
		.idt = { .base = s->idt.base, .limit = s->idt.limit },
	};
	seg_to_kvm(&sr.cs, &s->cs);
	seg_to_kvm(&sr.ds, &s->ds);
	seg_to_kvm(&sr.es, &s->es);
	seg_to_kvm(&sr.fs, &s->fs);
	seg_to_kvm(&sr.gs, &s->gs);
	seg_to_kvm(&sr.ss, &s->ss);
	seg_to_kvm(&sr.tr, &s->tr);
	seg_to_kvm(&sr.ldt, &s->ldt);
	/* interrupt_bitmap stays empty: a pending interrupt travels in the events below. */
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0)
		return error_errno(err, "KVM_SET_SREGS");
	const uint64_t *g = s->gpr;
	struct kvm_regs r = {
		.rax = g[X86_RAX], .rcx = g[X86_RCX], .rdx = g[X86_RDX], .rbx = g[X86_RBX],
		.rsp = g[X86_RSP], .rbp = g[X86_RBP], .rsi = g[X86_RSI], .rdi = g[X86_RDI],
		.r8 = g[X86_R8], .r9 = g[X86_R9], .r10 = g[X86_R10], .r11 = g[X86_R11],
		.r12 = g[X86_R12], .r13 = g[X86_R13], .r14 = g[X86_R14], .r15 = g[X86_R15],
		.rip = s->rip, .rflags = s->rflags,
	};
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		return error_errno(err, "KVM_SET_REGS");
	for (unsigned i = 0; i < s->nr_msrs; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry entry;
		} one = { .hdr.nmsrs = 1,
			  .entry = { .index = s->msrs[i].index, .data = s->msrs[i].value } };
		if (ioctl(fd, KVM_SET_MSRS, &one) != 1)
			return error_set(err, ERR_RUNTIME, "KVM_SET_MSRS: MSR 0x%x refused",
					 s->msrs[i].index);
	}
	const struct x86_events *e = &s->events;
	struct kvm_vcpu_events ev = {
		.exception = { .injected = e->exception_pending, .nr = e->exception_vector,
			       .has_error_code = e->exception_has_error,
			       .error_code = e->exception_error },
		.interrupt = { .injected = e->interrupt_pending, .nr = e->interrupt_vector,
			       .soft = 0, .shadow = e->interrupt_shadow },
		.nmi = { .pending = e->nmi_pending, .masked = e->nmi_masked },
		.sipi_vector = e->sipi_vector,
		.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			 KVM_VCPUEVENT_VALID_SHADOW,
	};
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return error_errno(err, "KVM_SET_VCPU_EVENTS");
	struct kvm_mp_state mp = { .mp_state = mp_to_kvm(s->mp_state) };
	if (ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)
		return error_errno(err, "KVM_SET_MP_STATE");
	return 0;
}

int kvm_x86_guest_pc(int fd, uint64_t *rip, uint64_t *linear)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(fd, KVM_GET_REGS, &regs) < 0 || ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	*rip = regs.rip;
	*linear = sregs.cs.base + regs.rip;
	return 0;
}
