/* The soft backend's get_regs/set_regs: struct x86_cpu_state (the seam's register state) to and
 * from the system CPU's own state (struct soft_cpu and its struct soft_sys). */
#include "accel/soft_regs.h"

#include <string.h>

#include "arch/x86/msr.h"

static void seg_out(const struct soft_seg *in, struct x86_segment *o)
{
	o->base = in->base;
	o->limit = in->limit;
	o->selector = in->sel;
	o->type = in->attr & 0xf;
	o->s = in->attr >> 4 & 1;
	o->dpl = in->attr >> 5 & 3;
	o->present = in->attr >> 7 & 1;
	o->avl = in->attr >> 12 & 1;
	o->l = in->attr >> 13 & 1;
	o->db = in->attr >> 14 & 1;
	o->g = in->attr >> 15 & 1;
	o->unusable = (in->attr & SOFT_SEG_ATTR_UNUSABLE) != 0;
}

static void seg_in(const struct x86_segment *in, struct soft_seg *o)
{
	o->base = in->base;
	o->limit = in->limit;
	o->sel = in->selector;
	o->attr = (uint32_t)(in->type & 0xf) | (uint32_t)in->s << 4 | (uint32_t)(in->dpl & 3) << 5 |
		  (uint32_t)in->present << 7 | (uint32_t)in->avl << 12 | (uint32_t)in->l << 13 |
		  (uint32_t)in->db << 14 | (uint32_t)in->g << 15 |
		  (in->unusable ? SOFT_SEG_ATTR_UNUSABLE : 0);
}

/* The MSRs struct x86_cpu_state carries, and where the soft CPU keeps each. */
static uint64_t *msr_slot(struct soft_sys *s, uint32_t index)
{
	switch (index) {
	case MSR_IA32_SYSENTER_CS: return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP: return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP: return &s->sysenter_eip;
	case MSR_STAR: return &s->star;
	case MSR_LSTAR: return &s->lstar;
	case MSR_CSTAR: return &s->cstar;
	case MSR_SYSCALL_MASK: return &s->fmask;
	case MSR_KERNEL_GS_BASE: return &s->kernel_gs_base;
	case MSR_IA32_MISC_ENABLE: return &s->misc_enable;
	case MSR_MTRRdefType: return &s->mtrr_def_type;
	case MSR_IA32_CR_PAT: return &s->pat;
	default: return NULL;
	}
}

void soft_regs_get(struct soft_cpu *c, enum x86_mp_state mp, struct x86_cpu_state *s)
{
	struct soft_sys *y = &c->sys;
	memset(s, 0, sizeof(*s));
	memcpy(s->gpr, c->gpr, sizeof(s->gpr));
	s->rip = c->rip;
	s->rflags = soft_cpu_get_rflags(c);
	y->seg[SOFT_FS].base = c->fs_base;
	y->seg[SOFT_GS].base = c->gs_base;
	struct x86_segment *out[SOFT_NSREG] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		seg_out(&y->seg[i], out[i]);
	seg_out(&y->tr, &s->tr);
	seg_out(&y->ldtr, &s->ldt);
	s->gdt = (struct x86_dtable){ y->gdtr.base, y->gdtr.limit };
	s->idt = (struct x86_dtable){ y->idtr.base, y->idtr.limit };
	s->cr0 = y->cr0;
	s->cr2 = y->cr2;
	s->cr3 = y->cr3;
	s->cr4 = y->cr4;
	s->cr8 = y->cr8;
	s->efer = y->efer;
	s->apic_base = 0xfee00000ULL | (1ULL << 11) | (y->apic_id == 0 ? 1ULL << 8 : 0);
	for (unsigned i = 0; i < x86_state_msr_count; i++) {
		uint64_t *slot = msr_slot(y, x86_state_msr_list[i]);
		if (slot)
			x86_state_set_msr(s, x86_state_msr_list[i], *slot);
	}
	s->events.nmi_masked = y->nmi_masked;
	s->events.interrupt_shadow = y->shadow;
	s->mp_state = mp;
}

void soft_regs_set(struct soft_cpu *c, const struct x86_cpu_state *s)
{
	struct soft_sys *y = &c->sys;
	memcpy(c->gpr, s->gpr, sizeof(c->gpr));
	c->rip = s->rip;
	soft_cpu_set_rflags(c, s->rflags | X86_RFLAGS_FIXED);
	const struct x86_segment *in[SOFT_NSREG] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		seg_in(in[i], &y->seg[i]);
	seg_in(&s->tr, &y->tr);
	seg_in(&s->ldt, &y->ldtr);
	y->gdtr = (struct soft_dtr){ s->gdt.base, s->gdt.limit };
	y->idtr = (struct soft_dtr){ s->idt.base, s->idt.limit };
	y->cr0 = s->cr0;
	y->cr2 = s->cr2;
	y->cr3 = s->cr3;
	y->cr4 = s->cr4;
	y->cr8 = s->cr8;
	y->efer = s->efer;
	for (unsigned i = 0; i < s->nr_msrs; i++) {
		uint64_t *slot = msr_slot(y, s->msrs[i].index);
		if (slot)
			*slot = s->msrs[i].value;
	}
	y->nmi_masked = s->events.nmi_masked;
	y->shadow = s->events.interrupt_shadow;
	soft_cpu_sys_sync(c); /* fs_base/gs_base from the segments, mode, CPL, TLB */
}
