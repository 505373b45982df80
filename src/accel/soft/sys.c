/* Privileged and system instructions of the system CPU (Intel SDM vol. 2): MOV CR/DR, CLI/STI
 * and PUSHF/POPF with their IOPL rules, the descriptor-table instructions (LGDT/LIDT/SGDT/
 * SIDT, LLDT/LTR/SLDT/STR, UMIP), LMSW/SMSW/CLTS, INVLPG, WBINVD/INVD, RDMSR/WRMSR (msr.c
 * keeps the MSRs), RDTSC/RDTSCP/RDPID, IN/OUT/INS/OUTS through ops->pio, HLT, SWAPGS,
 * SYSCALL/SYSRET (Intel's rules, #GP for a non-canonical RCX at SYSRET to 64-bit mode raised
 * at CPL 0, except that SYSCALL from compatibility mode goes to CSTAR as on AMD), STAC/CLAC,
 * LAR/LSL/VERR/VERW.
 * In user mode (c->system false) these raise #UD as before. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_sys.h"

#define GP0(c) soft_raise((c), SOFT_VEC_GP, 0, 0)

static void need_system(struct soft_cpu *c, const struct soft_op *op)
{
	if (!c->system)
		soft_h_ud(c, op);
}

void soft_sys_need_cpl0(struct soft_cpu *c)
{
	if (c->sys.cpl)
		GP0(c);
}

static bool prot_mode(const struct soft_cpu *c)
{
	return c->sys.cr0 & SOFT_CR0_PE;
}

static bool mode64(const struct soft_cpu *c)
{
	return (c->sys.efer & SOFT_EFER_LMA) && c->cs_mode == SOFT_CS_64;
}

static unsigned iopl(struct soft_cpu *c)
{
	return (c->rflags >> 12) & 3;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* ---- control registers ---- */

#define CR4_ALLOWED (SOFT_CR4_TSD | SOFT_CR4_DE | SOFT_CR4_PSE | SOFT_CR4_PAE | SOFT_CR4_MCE |   \
		     SOFT_CR4_PGE | SOFT_CR4_PCE | SOFT_CR4_OSFXSR | SOFT_CR4_OSXMMEXCPT |       \
		     SOFT_CR4_UMIP | SOFT_CR4_OSXSAVE | SOFT_CR4_SMEP | SOFT_CR4_SMAP)

static void write_cr0(struct soft_cpu *c, uint64_t v)
{
	struct soft_sys *s = &c->sys;
	uint64_t old = s->cr0;
	if (v >> 32)
		GP0(c);
	v |= SOFT_CR0_ET;
	if (((v & SOFT_CR0_PG) && !(v & SOFT_CR0_PE)) || ((v & SOFT_CR0_NW) && !(v & SOFT_CR0_CD)))
		GP0(c);
	uint64_t efer = s->efer;
	if ((v & SOFT_CR0_PG) && !(old & SOFT_CR0_PG) && (efer & SOFT_EFER_LME)) {
		if (!(s->cr4 & SOFT_CR4_PAE) || (s->seg[SOFT_CS].attr & (1u << 13)))
			GP0(c);
		efer |= SOFT_EFER_LMA;
	}
	if (!(v & SOFT_CR0_PG) && (old & SOFT_CR0_PG) && (efer & SOFT_EFER_LMA)) {
		if (c->cs_mode == SOFT_CS_64)
			GP0(c);
		efer &= ~SOFT_EFER_LMA;
	}
	s->cr0 = v;
	s->efer = efer;
	if ((old ^ v) & (SOFT_CR0_PG | SOFT_CR0_WP | SOFT_CR0_PE))
		soft_tlb_flush_all(c);
	soft_mode_update(c);
}

static void write_cr4(struct soft_cpu *c, uint64_t v)
{
	struct soft_sys *s = &c->sys;
	uint64_t old = s->cr4;
	if (v & ~(uint64_t)CR4_ALLOWED)
		GP0(c);
	if ((s->efer & SOFT_EFER_LMA) && !(v & SOFT_CR4_PAE))
		GP0(c);
	s->cr4 = v;
	if ((old ^ v) & (SOFT_CR4_PSE | SOFT_CR4_PAE | SOFT_CR4_PGE | SOFT_CR4_SMEP | SOFT_CR4_SMAP))
		soft_tlb_flush_all(c);
}

static void write_cr(struct soft_cpu *c, const struct soft_op *op, unsigned cr, uint64_t v)
{
	struct soft_sys *s = &c->sys;
	switch (cr) {
	case 0: write_cr0(c, v); break;
	case 2: s->cr2 = v; break;
	case 3:
		if ((s->efer & SOFT_EFER_LMA) && (v >> SOFT_PHYS_ADDR_BITS))
			GP0(c);
		s->cr3 = (s->efer & SOFT_EFER_LMA) ? v : (uint32_t)v;
		soft_tlb_flush_nonglobal(c); /* global pages stay (only CR4.PGE marks any) */
		break;
	case 4: write_cr4(c, v); break;
	case 8:
		if (v >> 4)
			GP0(c);
		s->cr8 = v;
		break;
	default: soft_h_ud(c, op);
	}
}

static uint64_t read_cr(struct soft_cpu *c, const struct soft_op *op, unsigned cr)
{
	const struct soft_sys *s = &c->sys;
	switch (cr) {
	case 0: return s->cr0;
	case 2: return s->cr2;
	case 3: return s->cr3;
	case 4: return s->cr4;
	case 8: return s->cr8;
	default: soft_h_ud(c, op); return 0;
	}
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD). */
static unsigned dr_index(struct soft_cpu *c, const struct soft_op *op, unsigned dr)
{
	if (dr == 4 || dr == 5) {
		if (c->sys.cr4 & SOFT_CR4_DE)
			soft_h_ud(c, op);
		dr += 2;
	}
	if (dr > 7)
		soft_h_ud(c, op);
	return dr;
}

void soft_h_mov_crdr(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	const struct soft_opnd *d = &op->o[0], *src = &op->o[1];
	if (d->kind == SOFT_OPND_CR) {
		write_cr(c, op, d->reg, soft_reg_get(c, src->reg, src->size));
	} else if (src->kind == SOFT_OPND_CR) {
		soft_reg_set(c, d->reg, d->size, read_cr(c, op, src->reg));
	} else if (d->kind == SOFT_OPND_DR) {
		unsigned i = dr_index(c, op, d->reg);
		uint64_t v = soft_reg_get(c, src->reg, src->size);
		if (i >= 6 && (v >> 32))
			GP0(c);
		c->sys.dr[i] = i == 6 ? v | 0xffff0ff0 : i == 7 ? (v | 0x400) & ~0xd000ULL : v;
	} else {
		unsigned i = dr_index(c, op, src->reg);
		soft_reg_set(c, d->reg, d->size, c->sys.dr[i]);
	}
	SOFT_NEXT(c, op);
}

/* ---- flags: CLI/STI/PUSHF/POPF ---- */

static void check_iopl(struct soft_cpu *c)
{
	if (prot_mode(c) && c->sys.cpl > iopl(c))
		GP0(c);
}

static void h_cli(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	check_iopl(c);
	c->rflags &= ~(uint64_t)SOFT_IF;
}

static void h_sti(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	check_iopl(c);
	if (!(c->rflags & SOFT_IF)) {
		c->rflags |= SOFT_IF;
		c->sys.shadow = 1; /* the next instruction runs before any interrupt */
		c->chain_left = 0;
	}
}

void soft_sys_pushf(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = soft_slot_size(op);
	soft_push_op(c, op, sz, soft_flags_get(c) & ~(uint64_t)(SOFT_RFLAGS_RF | SOFT_RFLAGS_VM));
}

void soft_sys_popf(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = soft_slot_size(op);
	uint64_t v = soft_pop_op(c, op, sz), old = soft_flags_get(c);
	uint64_t mask = SOFT_ARITH_FLAGS | SOFT_TF | SOFT_DF | SOFT_RFLAGS_NT | SOFT_AC | SOFT_ID;
	bool real = !prot_mode(c);
	if (real || c->sys.cpl <= iopl(c))
		mask |= SOFT_IF;
	if (real || c->sys.cpl == 0)
		mask |= SOFT_RFLAGS_IOPL;
	if (sz == 2)
		mask &= 0xffff;
	uint64_t nf = ((old & ~mask) | (v & mask)) & ~(uint64_t)SOFT_RFLAGS_RF;
	soft_flags_set(c, nf);
	if ((nf & ~old & SOFT_IF) || (nf & SOFT_TF))
		c->chain_left = 0; /* an interrupt may be deliverable now; TF steps */
}

/* ---- descriptor tables ---- */

static void umip_check(struct soft_cpu *c)
{
	if ((c->sys.cr4 & SOFT_CR4_UMIP) && c->sys.cpl > 0)
		GP0(c);
}

static void h_lgdt(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	uint64_t a = soft_ea(c, op);
	uint16_t limit = (uint16_t)soft_ld(c, a, 2);
	uint64_t base = mode64(c) ? soft_ld(c, a + 2, 8) : soft_ld(c, a + 2, 4);
	if (!mode64(c) && op->osize == 2)
		base &= 0xffffff;
	if (mode64(c) && !canonical(base))
		GP0(c);
	struct soft_dtr *t = op->mnem == ZYDIS_MNEMONIC_LGDT ? &c->sys.gdtr : &c->sys.idtr;
	t->base = base;
	t->limit = limit;
}

static void h_sgdt(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	umip_check(c);
	const struct soft_dtr *t = op->mnem == ZYDIS_MNEMONIC_SGDT ? &c->sys.gdtr : &c->sys.idtr;
	uint64_t a = soft_ea(c, op);
	uint8_t buf[10];
	memcpy(buf, &t->limit, 2);
	memcpy(buf + 2, &t->base, 8);
	soft_st_bytes(c, a, buf, mode64(c) ? 10 : 6);
}

/* The system descriptor sel names in the GDT (16 bytes in long mode). */
static void gdt_system_desc(struct soft_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
	const struct soft_dtr *g = &c->sys.gdtr;
	unsigned size = (c->sys.efer & SOFT_EFER_LMA) ? 16 : 8;
	uint32_t off = sel & ~7u;
	if ((sel & 4) || off + size - 1 > g->limit)
		soft_raise(c, SOFT_VEC_GP, sel & ~3u, 0);
	*lo = soft_ld_sys(c, g->base + off, 8);
	*hi = size == 16 ? soft_ld_sys(c, g->base + off + 8, 8) : 0;
}

static void h_lldt_ltr(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (!prot_mode(c))
		soft_h_ud(c, op);
	soft_sys_need_cpl0(c);
	uint16_t sel = (uint16_t)soft_rd(c, op, 0);
	bool ltr = op->mnem == ZYDIS_MNEMONIC_LTR;
	struct soft_seg *dst = ltr ? &c->sys.tr : &c->sys.ldtr;
	if (!(sel & ~3u)) {
		if (ltr)
			GP0(c);
		dst->sel = sel;
		dst->base = 0;
		dst->limit = 0;
		dst->attr = SOFT_SEG_ATTR_UNUSABLE | 0x82;
		return;
	}
	uint64_t lo, hi;
	gdt_system_desc(c, sel, &lo, &hi);
	unsigned type = (lo >> 40) & 0x1f;
	bool lm = c->sys.efer & SOFT_EFER_LMA;
	bool ok = ltr ? (type == 9 || (type == 1 && !lm)) : type == 2;
	if (!ok)
		soft_raise(c, SOFT_VEC_GP, sel & ~3u, 0);
	if (!(lo & (1ULL << 47)))
		soft_raise(c, SOFT_VEC_NP, sel & ~3u, 0);
	if (lm && !canonical(((lo >> 16) & 0xffffff) | ((lo >> 56) << 24) | (hi << 32)))
		soft_raise(c, SOFT_VEC_GP, sel & ~3u, 0);
	soft_desc_unpack(lo, hi, dst);
	dst->sel = sel;
	if (ltr) { /* mark the TSS busy, in the GDT and in the cache */
		lo |= 2ULL << 40;
		soft_st_sys(c, c->sys.gdtr.base + (sel & ~7u) + 5, 1, (lo >> 40) & 0xff);
		dst->attr |= 2;
	}
}

/* SLDT/STR/SMSW: a register destination takes the operand size, memory 16 bits. */
static void store_sel(struct soft_cpu *c, const struct soft_op *op, uint64_t v)
{
	if (op->o[0].kind == SOFT_OPND_MEM)
		soft_st(c, soft_ea(c, op), 2, v & 0xffff);
	else
		soft_reg_set(c, op->o[0].reg, op->o[0].size, v & soft_mask(op->o[0].size));
}

static void h_sldt_str(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (!prot_mode(c))
		soft_h_ud(c, op);
	umip_check(c);
	store_sel(c, op, op->mnem == ZYDIS_MNEMONIC_STR ? c->sys.tr.sel : c->sys.ldtr.sel);
}

static void h_smsw(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	umip_check(c);
	store_sel(c, op, op->o[0].kind == SOFT_OPND_MEM ? c->sys.cr0 & 0xffff : c->sys.cr0);
}

static void h_lmsw(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	uint64_t v = soft_rd(c, op, 0) & 0xf, cr0 = c->sys.cr0;
	write_cr0(c, (cr0 & ~0xeULL) | v | (cr0 & SOFT_CR0_PE)); /* PE can be set, not cleared */
}

static void h_clts(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	c->sys.cr0 &= ~SOFT_CR0_TS;
}

static void h_invlpg(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	soft_tlb_flush_page(c, soft_ea(c, op));
}

static void h_cpl0_nop(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
}

/* ---- MSRs, time stamp ---- */

static void h_rdmsr(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	uint64_t v;
	if (!soft_msr_read(c, (uint32_t)c->gpr[SOFT_RCX], &v))
		GP0(c);
	c->gpr[SOFT_RAX] = (uint32_t)v;
	c->gpr[SOFT_RDX] = v >> 32;
}

static void h_wrmsr(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_need_cpl0(c);
	uint64_t v = (c->gpr[SOFT_RDX] << 32) | (uint32_t)c->gpr[SOFT_RAX];
	if (!soft_msr_write(c, (uint32_t)c->gpr[SOFT_RCX], v))
		GP0(c);
}

uint64_t soft_sys_tsc(struct soft_cpu *c)
{
	return c->sys.ops->tsc(c->sys.ctx) + c->sys.tsc_offset;
}

void soft_sys_rdtsc(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	if ((c->sys.cr4 & SOFT_CR4_TSD) && c->sys.cpl > 0 && prot_mode(c))
		GP0(c);
	uint64_t t = soft_sys_tsc(c);
	c->gpr[SOFT_RAX] = (uint32_t)t;
	c->gpr[SOFT_RDX] = t >> 32;
}

static void h_rdtscp(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_sys_rdtsc(c, op);
	c->gpr[SOFT_RCX] = (uint32_t)c->sys.tsc_aux;
}

static void h_rdpid(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	soft_reg_set(c, op->o[0].reg, op->o[0].size, c->sys.tsc_aux);
}

/* ---- port I/O ---- */

/* IOPL, then the TSS I/O permission bitmap, for len bytes at port. */
static void io_check(struct soft_cpu *c, uint16_t port, unsigned len)
{
	if (!prot_mode(c) || c->sys.cpl <= iopl(c))
		return;
	const struct soft_seg *tr = &c->sys.tr;
	if (tr->limit < 0x67)
		GP0(c);
	uint32_t base = (uint32_t)soft_ld_sys(c, tr->base + 0x66, 2);
	uint32_t off = base + port / 8;
	if (off + 1 > tr->limit)
		GP0(c);
	uint32_t bits = (uint32_t)soft_ld_sys(c, tr->base + off, 2);
	if ((bits >> (port & 7)) & ((1u << len) - 1))
		GP0(c);
}

static uint32_t pio_in(struct soft_cpu *c, uint16_t port, unsigned len)
{
	uint32_t v = 0;
	c->sys.ops->pio(c->sys.ctx, port, false, (uint8_t *)&v, len);
	return v;
}

static void pio_out(struct soft_cpu *c, uint16_t port, unsigned len, uint32_t v)
{
	c->sys.ops->pio(c->sys.ctx, port, true, (uint8_t *)&v, len);
}

static void h_in(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	unsigned len = op->o[0].size;
	uint16_t port = (uint16_t)soft_rd(c, op, 1);
	io_check(c, port, len);
	soft_reg_set(c, SOFT_RAX, len, pio_in(c, port, len));
}

static void h_out(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	unsigned len = op->o[1].size;
	uint16_t port = (uint16_t)soft_rd(c, op, 0);
	io_check(c, port, len);
	pio_out(c, port, len, (uint32_t)soft_reg_get(c, SOFT_RAX, len));
}

/* Linear base of a string operand's segment (64-bit mode: only FS/GS have one). */
static uint64_t str_base(const struct soft_cpu *c, unsigned sreg)
{
	if (mode64(c))
		return sreg == SOFT_FS ? c->fs_base : sreg == SOFT_GS ? c->gs_base : 0;
	return c->sys.seg[sreg].base;
}

static void str_step(struct soft_cpu *c, const struct soft_op *op, unsigned r, unsigned len)
{
	uint64_t v = c->gpr[r], d = (c->rflags & SOFT_DF) ? -(uint64_t)len : len;
	uint64_t n = soft_addr_mask(op, v + d);
	if (op->asize == 8)
		c->gpr[r] = n;
	else
		soft_reg_set(c, r, op->asize, n);
}

/* INS/OUTS one element at a time (each a pio call; a fault leaves the count exact). */
static void h_ins_outs(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	unsigned len = op->osize;
	bool out = op->mnem == ZYDIS_MNEMONIC_OUTSB || op->mnem == ZYDIS_MNEMONIC_OUTSW ||
		   op->mnem == ZYDIS_MNEMONIC_OUTSD;
	uint16_t port = (uint16_t)c->gpr[SOFT_RDX];
	io_check(c, port, len);
	bool rep = op->pfx & (SOFT_PFX_REP | SOFT_PFX_REPNE);
	unsigned seg = (op->seg & SOFT_SEG_MASK) == SOFT_SEG_FS ? SOFT_FS
		       : (op->seg & SOFT_SEG_MASK) == SOFT_SEG_GS ? SOFT_GS : SOFT_DS;
	for (;;) {
		if (rep && soft_addr_mask(op, c->gpr[SOFT_RCX]) == 0)
			break;
		if (out) {
			uint64_t a = str_base(c, seg) + soft_addr_mask(op, c->gpr[SOFT_RSI]);
			pio_out(c, port, len, (uint32_t)soft_ld(c, a, len));
			str_step(c, op, SOFT_RSI, len);
		} else {
			uint64_t a = str_base(c, SOFT_ES) + soft_addr_mask(op, c->gpr[SOFT_RDI]);
			soft_st(c, a, len, 0); /* a fault before the device sees the read */
			soft_st(c, a, len, pio_in(c, port, len));
			str_step(c, op, SOFT_RDI, len);
		}
		if (!rep)
			break;
		uint64_t n = soft_addr_mask(op, c->gpr[SOFT_RCX] - 1);
		if (op->asize == 8)
			c->gpr[SOFT_RCX] = n;
		else
			soft_reg_set(c, SOFT_RCX, op->asize, n);
	}
}

/* ---- HLT, SWAPGS, SYSCALL/SYSRET, STAC/CLAC ---- */

void soft_sys_hlt(struct soft_cpu *c, const struct soft_op *op)
{
	soft_sys_need_cpl0(c);
	c->rip = op->next_rip; /* the handler of the waking interrupt returns after the HLT */
	c->exit_reason = SOFT_EXIT_HALT;
	c->chain_left = 0;
}

static void h_swapgs(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (!mode64(c))
		soft_h_ud(c, op);
	soft_sys_need_cpl0(c);
	uint64_t t = c->gs_base;
	c->gs_base = c->sys.kernel_gs_base;
	c->sys.kernel_gs_base = t;
	c->sys.seg[SOFT_GS].base = c->gs_base;
}

static void flat_seg(struct soft_seg *s, uint16_t sel, uint32_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

void soft_sys_syscall(struct soft_cpu *c, const struct soft_op *op)
{
	struct soft_sys *s = &c->sys;
	/* From compatibility mode as AMD does it (Intel: #UD): to CSTAR, otherwise the same.
	 * Legacy-mode SYSCALL (AMD's STAR[31:0] target) is not modelled: #UD. */
	if (!(s->efer & SOFT_EFER_SCE) || !(s->efer & SOFT_EFER_LMA))
		soft_h_ud(c, op);
	bool compat = !mode64(c);
	uint64_t f = soft_flags_get(c);
	c->gpr[SOFT_RCX] = op->next_rip;
	c->gpr[SOFT_R11] = f & ~(uint64_t)SOFT_RFLAGS_RF;
	uint16_t sel = (uint16_t)(s->star >> 32) & 0xfffc;
	flat_seg(&s->seg[SOFT_SS], (uint16_t)(sel + 8), 0xc093);
	struct soft_seg cs;
	flat_seg(&cs, sel, 0xa09b);
	soft_seg_load_cs(c, sel, &cs, 0);
	uint64_t nf = f & ~(s->fmask | SOFT_RFLAGS_RF | SOFT_RFLAGS_VM);
	soft_flags_set(c, nf);
	c->rip = compat ? s->cstar : s->lstar;
	s->step_trap = nf & SOFT_TF ? 2 : 1;
	c->chain_left = 0;
}

static void h_sysret(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	struct soft_sys *s = &c->sys;
	if (!(s->efer & SOFT_EFER_SCE) || !mode64(c))
		soft_h_ud(c, op);
	soft_sys_need_cpl0(c);
	bool to64 = op->osize == 8;
	if (to64 && !canonical(c->gpr[SOFT_RCX]))
		GP0(c); /* Intel: at CPL 0, with the kernel's stack */
	uint16_t base = (uint16_t)(s->star >> 48);
	struct soft_seg cs;
	uint16_t sel = to64 ? (uint16_t)((base + 16) | 3) : (uint16_t)(base | 3);
	flat_seg(&cs, sel, to64 ? 0xa0fb : 0xc0fb);
	flat_seg(&s->seg[SOFT_SS], (uint16_t)((base + 8) | 3), 0xc0f3);
	uint64_t rip = to64 ? c->gpr[SOFT_RCX] : (uint32_t)c->gpr[SOFT_RCX];
	soft_flags_set(c, (c->gpr[SOFT_R11] & 0x3c7fd7) | 2);
	soft_seg_load_cs(c, sel, &cs, 3);
	c->rip = rip;
	s->step_trap = soft_flags_get(c) & SOFT_TF ? 2 : 1;
	c->chain_left = 0;
}

static void h_stac_clac(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (c->sys.cpl > 0)
		soft_h_ud(c, op);
	if (op->mnem == ZYDIS_MNEMONIC_STAC)
		c->rflags |= SOFT_AC;
	else
		c->rflags &= ~(uint64_t)SOFT_AC;
}

/* ---- LAR/LSL/VERR/VERW: descriptor checks that answer in ZF ---- */

static void set_zf(struct soft_cpu *c, bool zf)
{
	uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ZF;
	soft_flags_set(c, f | (zf ? SOFT_ZF : 0));
}

/* The descriptor sel names if the current privilege may see it (code/data: DPL >= CPL and
 * RPL unless conforming code), else false. */
static bool visible_desc(struct soft_cpu *c, uint16_t sel, struct soft_seg *d, uint64_t *raw)
{
	if (!(sel & ~3u) || !soft_desc_read(c, sel, raw))
		return false;
	soft_desc_unpack(*raw, 0, d);
	unsigned dpl = (d->attr >> 5) & 3;
	bool conforming = (d->attr & 0x1c) == 0x1c;
	return conforming || (dpl >= c->sys.cpl && dpl >= (sel & 3u));
}

static void h_lar_lsl(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (!prot_mode(c))
		soft_h_ud(c, op);
	uint16_t sel = (uint16_t)soft_rd(c, op, 1);
	struct soft_seg d;
	uint64_t raw;
	bool lsl = op->mnem == ZYDIS_MNEMONIC_LSL, lm = c->sys.efer & SOFT_EFER_LMA;
	bool ok = visible_desc(c, sel, &d, &raw);
	if (ok && !(d.attr & 0x10)) { /* system descriptors: only some types answer */
		unsigned t = d.attr & 0xf;
		ok = lm ? (t == 2 || t == 9 || t == 0xb || (!lsl && t == 0xc))
			: (t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb ||
			   (!lsl && (t == 4 || t == 5 || t == 0xc)));
	}
	set_zf(c, ok);
	if (ok)
		soft_reg_set(c, op->o[0].reg, op->o[0].size,
			     lsl ? d.limit : (raw >> 32) & 0x00f0ff00);
}

static void h_verr_verw(struct soft_cpu *c, const struct soft_op *op)
{
	need_system(c, op);
	if (!prot_mode(c))
		soft_h_ud(c, op);
	struct soft_seg d;
	uint64_t raw;
	bool ok = visible_desc(c, (uint16_t)soft_rd(c, op, 0), &d, &raw) && (d.attr & 0x10);
	if (ok)
		ok = op->mnem == ZYDIS_MNEMONIC_VERW ? (d.attr & 0x1a) == 0x12
						     : !(d.attr & 8) || (d.attr & 2);
	set_zf(c, ok);
}

SOFT_THREADED(h_cli)
SOFT_THREADED(h_sti)
SOFT_THREADED(h_lgdt)
SOFT_THREADED(h_sgdt)
SOFT_THREADED(h_lldt_ltr)
SOFT_THREADED(h_sldt_str)
SOFT_THREADED(h_smsw)
SOFT_THREADED(h_lmsw)
SOFT_THREADED(h_clts)
SOFT_THREADED(h_invlpg)
SOFT_THREADED(h_cpl0_nop)
SOFT_THREADED(h_rdmsr)
SOFT_THREADED(h_wrmsr)
SOFT_THREADED(h_rdtscp)
SOFT_THREADED(h_rdpid)
SOFT_THREADED(h_in)
SOFT_THREADED(h_out)
SOFT_THREADED(h_ins_outs)
SOFT_THREADED(h_swapgs)
SOFT_THREADED(h_sysret)
SOFT_THREADED(h_stac_clac)
SOFT_THREADED(h_lar_lsl)
SOFT_THREADED(h_verr_verw)

const struct soft_insn_def soft_sys_defs[] = {
	{ ZYDIS_MNEMONIC_CLI, h_cli_t }, { ZYDIS_MNEMONIC_STI, h_sti_t },
	{ ZYDIS_MNEMONIC_LGDT, h_lgdt_t }, { ZYDIS_MNEMONIC_LIDT, h_lgdt_t },
	{ ZYDIS_MNEMONIC_SGDT, h_sgdt_t }, { ZYDIS_MNEMONIC_SIDT, h_sgdt_t },
	{ ZYDIS_MNEMONIC_LLDT, h_lldt_ltr_t }, { ZYDIS_MNEMONIC_LTR, h_lldt_ltr_t },
	{ ZYDIS_MNEMONIC_SLDT, h_sldt_str_t }, { ZYDIS_MNEMONIC_STR, h_sldt_str_t },
	{ ZYDIS_MNEMONIC_SMSW, h_smsw_t }, { ZYDIS_MNEMONIC_LMSW, h_lmsw_t },
	{ ZYDIS_MNEMONIC_CLTS, h_clts_t }, { ZYDIS_MNEMONIC_INVLPG, h_invlpg_t },
	{ ZYDIS_MNEMONIC_WBINVD, h_cpl0_nop_t }, { ZYDIS_MNEMONIC_INVD, h_cpl0_nop_t },
	{ ZYDIS_MNEMONIC_RDMSR, h_rdmsr_t }, { ZYDIS_MNEMONIC_WRMSR, h_wrmsr_t },
	{ ZYDIS_MNEMONIC_RDTSCP, h_rdtscp_t }, { ZYDIS_MNEMONIC_RDPID, h_rdpid_t },
	{ ZYDIS_MNEMONIC_IN, h_in_t }, { ZYDIS_MNEMONIC_OUT, h_out_t },
	{ ZYDIS_MNEMONIC_INSB, h_ins_outs_t }, { ZYDIS_MNEMONIC_INSW, h_ins_outs_t },
	{ ZYDIS_MNEMONIC_INSD, h_ins_outs_t }, { ZYDIS_MNEMONIC_OUTSB, h_ins_outs_t },
	{ ZYDIS_MNEMONIC_OUTSW, h_ins_outs_t }, { ZYDIS_MNEMONIC_OUTSD, h_ins_outs_t },
	{ ZYDIS_MNEMONIC_SWAPGS, h_swapgs_t }, { ZYDIS_MNEMONIC_SYSRET, h_sysret_t },
	{ ZYDIS_MNEMONIC_STAC, h_stac_clac_t }, { ZYDIS_MNEMONIC_CLAC, h_stac_clac_t },
	{ ZYDIS_MNEMONIC_LAR, h_lar_lsl_t }, { ZYDIS_MNEMONIC_LSL, h_lar_lsl_t },
	{ ZYDIS_MNEMONIC_VERR, h_verr_verw_t }, { ZYDIS_MNEMONIC_VERW, h_verr_verw_t },
	{ ZYDIS_MNEMONIC_XGETBV, soft_h_xgetbv }, { ZYDIS_MNEMONIC_XSETBV, soft_h_xsetbv },
	{ ZYDIS_MNEMONIC_XSAVE, soft_h_xsave }, { ZYDIS_MNEMONIC_XSAVE64, soft_h_xsave },
	{ ZYDIS_MNEMONIC_XSAVEOPT, soft_h_xsave }, { ZYDIS_MNEMONIC_XSAVEOPT64, soft_h_xsave },
	{ ZYDIS_MNEMONIC_XRSTOR, soft_h_xrstor }, { ZYDIS_MNEMONIC_XRSTOR64, soft_h_xrstor },
	{ 0, NULL },
};
