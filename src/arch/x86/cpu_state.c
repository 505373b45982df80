/* Helpers over struct x86_cpu_state, and the state the 64-bit Linux boot protocol wants the boot
 * vCPU in (applied by generic code on what the backend's get_regs returned). */
#include "arch/x86/cpu_state.h"

#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"

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
