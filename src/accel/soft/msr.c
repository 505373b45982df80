/* The MSRs the system CPU keeps itself (struct soft_sys): EFER with its checks, the SYSCALL
 * and SYSENTER MSRs, FS/GS/KERNEL_GS bases, TSC (as an offset), TSC_AUX, PAT, the MTRRs (what
 * is written reads back), MISC_ENABLE, PLATFORM_INFO and a few read-only identification MSRs.
 * Everything else goes to the machine's ops->msr (APIC_BASE, TSC_DEADLINE in TSC units,
 * x2APIC); an access nobody knows raises #GP(0). */
#include "accel/soft/soft_sys.h"
#include "arch/x86/cpu_state.h"

enum {
	MSR_TSC = 0x10, MSR_FEATURE_CONTROL = 0x3a, MSR_UCODE_REV = 0x8b, MSR_PLATFORM_INFO = 0xce,
	MSR_MTRRCAP = 0xfe, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
	MSR_SYSENTER_EIP = 0x176, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a,
	MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_VAR = 0x200, MSR_PAT = 0x277, MSR_MTRR_DEF = 0x2ff,
	MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
	MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
	MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

/* The fixed-range MTRRs in sys.mtrr_fixed order. */
static const uint32_t mtrr_fixed_msrs[11] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
					      0x26b, 0x26c, 0x26d, 0x26e, 0x26f };

static int mtrr_fixed_index(uint32_t index)
{
	for (int i = 0; i < 11; i++)
		if (mtrr_fixed_msrs[i] == index)
			return i;
	return -1;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Memory types valid in PAT entries and MTRRs: UC WC WT WP WB (PAT also UC-, 7). */
static bool mem_type_ok(unsigned t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static const uint64_t phys_mask = (1ULL << SOFT_PHYS_ADDR_BITS) - 1;

bool soft_msr_read(struct soft_cpu *c, uint32_t index, uint64_t *v)
{
	const struct soft_sys *s = &c->sys;
	int fx = mtrr_fixed_index(index);
	if (fx >= 0) {
		*v = s->mtrr_fixed[fx];
		return true;
	}
	if (index >= MSR_MTRR_VAR && index < MSR_MTRR_VAR + 16) {
		*v = s->mtrr_var[index - MSR_MTRR_VAR];
		return true;
	}
	switch (index) {
	case MSR_TSC: *v = soft_sys_tsc(c); return true;
	case MSR_FEATURE_CONTROL: *v = 1; return true; /* locked, VMX off */
	case MSR_UCODE_REV: *v = 0; return true;
	case MSR_PLATFORM_INFO: /* max non-turbo ratio: TSC in 100 MHz units */
		*v = (X86_SOFT_TSC_HZ / 100000000ULL) << 8;
		return true;
	case MSR_MTRRCAP: *v = 8 | 1u << 8 /* fixed */ | 1u << 10 /* WC */; return true;
	case MSR_SYSENTER_CS: *v = s->sysenter_cs; return true;
	case MSR_SYSENTER_ESP: *v = s->sysenter_esp; return true;
	case MSR_SYSENTER_EIP: *v = s->sysenter_eip; return true;
	case MSR_MCG_CAP: case MSR_MCG_STATUS: *v = 0; return true;
	case MSR_MISC_ENABLE: *v = s->misc_enable; return true;
	case MSR_PAT: *v = s->pat; return true;
	case MSR_MTRR_DEF: *v = s->mtrr_def_type; return true;
	case MSR_EFER: *v = s->efer; return true;
	case MSR_STAR: *v = s->star; return true;
	case MSR_LSTAR: *v = s->lstar; return true;
	case MSR_CSTAR: *v = s->cstar; return true;
	case MSR_FMASK: *v = s->fmask; return true;
	case MSR_FS_BASE: *v = c->fs_base; return true;
	case MSR_GS_BASE: *v = c->gs_base; return true;
	case MSR_KERNEL_GS_BASE: *v = s->kernel_gs_base; return true;
	case MSR_TSC_AUX: *v = s->tsc_aux; return true;
	default:
		return s->ops->msr && s->ops->msr(s->ctx, index, false, v);
	}
}

static bool write_efer(struct soft_cpu *c, uint64_t v)
{
	struct soft_sys *s = &c->sys;
	const uint64_t writable = SOFT_EFER_SCE | SOFT_EFER_LME | SOFT_EFER_LMA | SOFT_EFER_NXE;
	if (v & ~writable)
		return false;
	/* LME may not change while paging is on; LMA follows LME and CR0.PG, not the write. */
	if ((s->cr0 & SOFT_CR0_PG) && ((v ^ s->efer) & SOFT_EFER_LME))
		return false;
	v = (v & ~SOFT_EFER_LMA) | (s->efer & SOFT_EFER_LMA);
	bool flush = (v ^ s->efer) & SOFT_EFER_NXE;
	s->efer = v;
	if (flush)
		soft_tlb_flush_all(c);
	return true;
}

static bool mtrr_var_ok(uint32_t index, uint64_t v)
{
	if ((index & 1) == 0) /* PHYSBASE: type, bits 11:8 reserved, address */
		return mem_type_ok(v & 0xff, false) && !(v & 0xf00) && !(v & ~phys_mask);
	return !(v & 0x7ff) && !(v & ~phys_mask); /* PHYSMASK: valid bit 11 */
}

bool soft_msr_write(struct soft_cpu *c, uint32_t index, uint64_t v)
{
	struct soft_sys *s = &c->sys;
	int fx = mtrr_fixed_index(index);
	if (fx >= 0) {
		for (unsigned i = 0; i < 8; i++)
			if (!mem_type_ok((v >> (8 * i)) & 0xff, false))
				return false;
		s->mtrr_fixed[fx] = v;
		return true;
	}
	if (index >= MSR_MTRR_VAR && index < MSR_MTRR_VAR + 16) {
		if (!mtrr_var_ok(index, v))
			return false;
		s->mtrr_var[index - MSR_MTRR_VAR] = v;
		return true;
	}
	switch (index) {
	case MSR_TSC: s->tsc_offset = v - s->ops->tsc(s->ctx); return true;
	case MSR_UCODE_REV: return true; /* Linux writes 0 before reading the revision */
	case MSR_SYSENTER_CS: s->sysenter_cs = v & 0xffff; return true;
	case MSR_SYSENTER_ESP:
		if (!canonical(v))
			return false;
		s->sysenter_esp = v;
		return true;
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return false;
		s->sysenter_eip = v;
		return true;
	case MSR_MCG_STATUS: return v == 0;
	case MSR_MISC_ENABLE: s->misc_enable = v; return true;
	case MSR_PAT:
		for (unsigned i = 0; i < 8; i++)
			if (!mem_type_ok((v >> (8 * i)) & 0xff, true))
				return false;
		s->pat = v;
		return true;
	case MSR_MTRR_DEF:
		if ((v & ~0xcffULL) || !mem_type_ok(v & 0xff, false))
			return false;
		s->mtrr_def_type = v;
		return true;
	case MSR_EFER: return write_efer(c, v);
	case MSR_STAR: s->star = v; return true;
	case MSR_LSTAR: case MSR_CSTAR:
		if (!canonical(v))
			return false;
		*(index == MSR_LSTAR ? &s->lstar : &s->cstar) = v;
		return true;
	case MSR_FMASK: s->fmask = v & 0xffffffff; return true;
	case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE:
		if (!canonical(v))
			return false;
		if (index == MSR_FS_BASE)
			c->fs_base = s->seg[SOFT_FS].base = v;
		else if (index == MSR_GS_BASE)
			c->gs_base = s->seg[SOFT_GS].base = v;
		else
			s->kernel_gs_base = v;
		return true;
	case MSR_TSC_AUX:
		if (v >> 32)
			return false;
		s->tsc_aux = v;
		return true;
	case MSR_MTRRCAP: case MSR_PLATFORM_INFO: case MSR_FEATURE_CONTROL: case MSR_MCG_CAP:
		return false; /* read-only */
	default:
		return s->ops->msr && s->ops->msr(s->ctx, index, true, &v);
	}
}
