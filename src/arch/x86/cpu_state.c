/* Helpers over struct x86_cpu_state, and the state the 64-bit Linux boot protocol wants the boot
 * vCPU in (applied by generic code on what the backend's get_regs returned). */
#include "arch/x86/cpu_state.h"

#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "arch/x86/msr.h"

const uint32_t x86_state_msr_list[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE, MSR_IA32_MISC_ENABLE, MSR_MTRRdefType,
	MSR_IA32_CR_PAT,
};
const unsigned x86_state_msr_count = sizeof(x86_state_msr_list) / sizeof(x86_state_msr_list[0]);
_Static_assert(sizeof(x86_state_msr_list) / sizeof(x86_state_msr_list[0]) <= X86_STATE_MSRS_MAX,
	       "struct x86_cpu_state holds every MSR a backend's get_regs reads");

uint64_t x86_state_msr(const struct x86_cpu_state *s, uint32_t index, uint64_t def)
{
	for (unsigned i = 0; i < s->nr_msrs; i++)
		if (s->msrs[i].index == index)
			return s->msrs[i].value;
	return def;
}

int x86_state_set_msr(struct x86_cpu_state *s, uint32_t index, uint64_t value)
{
	for (unsigned i = 0; i < s->nr_msrs; i++) {
		if (s->msrs[i].index == index) {
			s->msrs[i].value = value;
			return 0;
		}
	}
	if (s->nr_msrs >= X86_STATE_MSRS_MAX)
		return -1;
	s->msrs[s->nr_msrs++] = (struct x86_msr){ .index = index, .value = value };
	return 0;
}

static void x86_segment_print(FILE *f, const char *name, const struct x86_segment *g)
{
	fprintf(f, "%s=%04x base=%016llx limit=%08x type=%x s=%d dpl=%u p=%d db=%d l=%d g=%d%s",
		name, g->selector, (unsigned long long)g->base, g->limit, g->type, g->s, g->dpl,
		g->present, g->db, g->l, g->g, g->unusable ? " unusable" : "");
}

void x86_state_print(FILE *f, const struct x86_cpu_state *s)
{
	static const char *const gpr_names[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	for (unsigned i = 0; i < 16; i += 4)
		fprintf(f, "hardy:   %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx\n",
			gpr_names[i], (unsigned long long)s->gpr[i], gpr_names[i + 1],
			(unsigned long long)s->gpr[i + 1], gpr_names[i + 2],
			(unsigned long long)s->gpr[i + 2], gpr_names[i + 3],
			(unsigned long long)s->gpr[i + 3]);
	fprintf(f, "hardy:   rip=%016llx rflags=%016llx efer=%llx apic_base=%llx\n",
		(unsigned long long)s->rip, (unsigned long long)s->rflags,
		(unsigned long long)s->efer, (unsigned long long)s->apic_base);
	const struct { const char *name; const struct x86_segment *seg; } segs[] = {
		{ "cs", &s->cs }, { "ss", &s->ss }, { "ds", &s->ds }, { "es", &s->es },
		{ "fs", &s->fs }, { "gs", &s->gs }, { "tr", &s->tr }, { "ldt", &s->ldt },
	};
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		fputs("hardy:   ", f);
		x86_segment_print(f, segs[i].name, segs[i].seg);
		fputc('\n', f);
	}
	fprintf(f, "hardy:   gdt=%016llx/%04x idt=%016llx/%04x\n", (unsigned long long)s->gdt.base,
		s->gdt.limit, (unsigned long long)s->idt.base, s->idt.limit);
	fprintf(f, "hardy:   cr0=%llx cr2=%016llx cr3=%016llx cr4=%llx cr8=%llx\n",
		(unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->cr8);
	const struct x86_events *e = &s->events;
	fprintf(f, "hardy:   exception=%s%u error=%s%x nmi_masked=%d shadow=%u mp_state=%u\n",
		e->exception_pending ? "" : "none/", e->exception_vector,
		e->exception_has_error ? "" : "none/", e->exception_error, e->nmi_masked,
		e->interrupt_shadow, s->mp_state);
}

/* Multiboot's machine state: protected mode, paging off, flat 4 GiB 32-bit CS and data
 * segments, EAX = magic, EBX = info, interrupts off; the rest as the reset state has it. */
static void x86_multiboot_cpu_state(const struct x86_boot_regs *r, struct x86_cpu_state *s)
{
	struct x86_segment code = {
		.base = 0, .limit = 0xFFFFFFFF, .selector = X86_BOOT_CS, .type = 0xB,
		.present = true, .s = true, .db = true, .g = true,
	};
	struct x86_segment data = code;
	data.selector = X86_BOOT_DS;
	data.type = 0x3;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt = (struct x86_dtable){ .base = r->gdt_base, .limit = r->gdt_limit };
	s->cr0 = (s->cr0 & ~(X86_CR0_CD | X86_CR0_NW | X86_CR0_PG)) | X86_CR0_PE;
	s->cr4 &= ~X86_CR4_PAE;
	s->efer &= ~(X86_EFER_LME | X86_EFER_LMA);
	memset(s->gpr, 0, sizeof(s->gpr));
	s->gpr[X86_RAX] = r->eax;
	s->gpr[X86_RBX] = r->ebx;
	s->rip = r->rip;
	s->rflags = X86_RFLAGS_FIXED;
	s->mp_state = X86_MP_RUNNABLE;
}

/* Long mode with paging on the identity map, flat 64-bit code and data segments from the boot
 * GDT, RSI at boot_params; everything else (MSRs, TR, LDT, IDT, APIC base) stays as the
 * backend's reset state has it. Multiboot kernels get their own entry state instead. */
void x86_boot_cpu_state(const struct x86_boot_regs *r, struct x86_cpu_state *s)
{
	if (r->protected32) {
		x86_multiboot_cpu_state(r, s);
		return;
	}
	struct x86_segment code = {
		.base = 0, .limit = 0xFFFFFFFF, .selector = X86_BOOT_CS, .type = 0xB,
		.present = true, .s = true, .l = true, .g = true,
	};
	struct x86_segment data = code;
	data.selector = X86_BOOT_DS;
	data.type = 0x3;
	data.l = false;
	data.db = true;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt = (struct x86_dtable){ .base = r->gdt_base, .limit = r->gdt_limit };
	s->cr3 = r->cr3;
	s->cr4 |= X86_CR4_PAE;
	/* PE and PG on; CD and NW (set at reset) off, so guest memory is cacheable from the
	 * first instruction: the decompressor never touches CR0 itself. */
	s->cr0 = (s->cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | X86_CR0_PE | X86_CR0_PG;
	s->efer |= X86_EFER_LME | X86_EFER_LMA;
	memset(s->gpr, 0, sizeof(s->gpr));
	s->gpr[X86_RSI] = r->rsi;
	s->gpr[X86_RSP] = r->rsp;
	s->gpr[X86_RBP] = r->rsp;
	s->rip = r->rip;
	s->rflags = X86_RFLAGS_FIXED;
	s->mp_state = X86_MP_RUNNABLE;
}
