/* System mode: turning a CPU into a system CPU, its power-on and INIT states, the embedder's
 * resync after it edits state, and the cross-thread requests (interrupt, NMI, kick). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "accel/soft/soft_sys.h"
#include "accel/soft/soft_code.h"

static const struct soft_mem_ops sys_mem_ops = { soft_mmu_translate };

void soft_cpu_enable_system(struct soft_cpu *c, const struct soft_sys_ops *ops, void *ctx,
			    struct soft_vm_code *vc, uint32_t apic_id)
{
	c->system = true;
	c->mem = &sys_mem_ops;
	c->mem_ctx = c;
	c->sys.ops = ops;
	c->sys.ctx = ctx;
	c->sys.vm_code = vc;
	c->sys.apic_id = apic_id;
	const char *trace = getenv("HARDY_SOFT_TRACE");
	c->sys.trace = trace && *trace == '1';
	if (vc)
		soft_vm_code_attach(vc, c);
	soft_cpu_sys_reset(c, false);
}

static void seg_real(struct soft_seg *s, uint16_t sel, uint64_t base, uint32_t attr)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = attr;
}

void soft_cpu_sys_reset(struct soft_cpu *c, bool init)
{
	struct soft_sys *s = &c->sys;
	memset(c->gpr, 0, sizeof(c->gpr));
	c->gpr[SOFT_RDX] = 0x000306a9; /* family/model/stepping, as CPUID leaf 1 says */
	c->rip = 0xfff0;
	soft_flags_set(c, 2);
	seg_real(&s->seg[SOFT_CS], 0xf000, 0xffff0000, 0x9b);
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		if (i != SOFT_CS)
			seg_real(&s->seg[i], 0, 0, 0x93);
	c->fs_base = c->gs_base = 0;
	seg_real(&s->ldtr, 0, 0, 0x82);
	seg_real(&s->tr, 0, 0, 0x8b);
	s->gdtr = (struct soft_dtr){ 0, 0xffff };
	s->idtr = (struct soft_dtr){ 0, 0xffff };
	s->cr0 = 0x60000010 | (init ? s->cr0 & (SOFT_CR0_CD | SOFT_CR0_NW) : 0);
	s->cr2 = s->cr3 = s->cr4 = s->cr8 = 0;
	s->xcr0 = 1;
	memset(s->dr, 0, sizeof(s->dr));
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->efer = 0;
	s->shadow = 0;
	s->nmi_masked = false;
	s->step_trap = 0;
	s->fault_depth = 0;
	if (!init) {
		s->star = s->lstar = s->cstar = s->fmask = s->kernel_gs_base = 0;
		s->sysenter_cs = s->sysenter_esp = s->sysenter_eip = 0;
		s->tsc_offset = s->tsc_aux = 0;
		s->pat = 0x0007040600070406ULL;
		s->misc_enable = 1; /* fast strings */
		s->mtrr_def_type = 0;
		memset(s->mtrr_fixed, 0, sizeof(s->mtrr_fixed));
		memset(s->mtrr_var, 0, sizeof(s->mtrr_var));
		c->mxcsr = 0x1f80;
		c->fpu_cw = 0x37f;
		c->fpu_sw = c->fpu_top = 0;
		c->fpu_tag = 0;
		memset(c->xmm, 0, sizeof(c->xmm));
	}
	soft_cpu_sys_sync(c);
}

void soft_cpu_sys_sync(struct soft_cpu *c)
{
	c->fs_base = c->sys.seg[SOFT_FS].base;
	c->gs_base = c->sys.seg[SOFT_GS].base;
	soft_mode_update(c);
	soft_tlb_flush_all(c);
}

static void request(struct soft_cpu *c, _Atomic bool *flag)
{
	atomic_store(flag, true);
	__atomic_store_n(&c->chain_left, 0, __ATOMIC_RELAXED);
}

void soft_cpu_request_intr(struct soft_cpu *c)
{
	request(c, &c->intr_req);
}

void soft_cpu_request_nmi(struct soft_cpu *c)
{
	request(c, &c->nmi_req);
}

void soft_cpu_kick(struct soft_cpu *c)
{
	request(c, &c->kick);
}

bool soft_cpu_interruptible(struct soft_cpu *c)
{
	return (c->rflags & SOFT_IF) && !c->sys.shadow;
}
