/* Execution modes and segmentation (Intel SDM vol. 3 ch. 3 and 5): the decoder mode and CPL
 * from CR0.PE, EFLAGS.VM, EFER.LMA and the CS descriptor; segment bases and limits of every
 * access outside 64-bit mode; the stack as SS.B says; descriptor tables; segment register
 * loads with their protected-mode checks; far JMP/CALL/RET.
 *
 * The user-mode CPU (c->system false) has no descriptor tables: it sees Linux's flat user
 * segments (0x23 32-bit code, 0x2b data, 0x33 64-bit code, all DPL 3) at CPL 3, so i386
 * programs can push, pop and far-jump between them as on Linux. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_sys.h"
#include "accel/soft/soft_code.h"

/* struct soft_seg attr bits (descriptor bits 40-47 and 52-55). */
#define A_ACCESSED 0x1u
#define A_RW 0x2u        /* data: writable; code: readable */
#define A_DC 0x4u        /* data: expand-down; code: conforming */
#define A_CODE 0x8u
#define A_S 0x10u        /* code or data (not a system descriptor) */
#define A_P 0x80u
#define A_L (1u << 13)
#define A_DB (1u << 14)
#define A_DPL(a) (((a) >> 5) & 3u)

enum { USER_CS32 = 0x23, USER_DS = 0x2b, USER_CS64 = 0x33 };

static bool long_mode(const struct soft_cpu *c)
{
	return !c->system || (c->sys.efer & SOFT_EFER_LMA);
}

/* Real-address mode or virtual-8086 mode: selectors are paragraph numbers. */
static bool real_like(const struct soft_cpu *c)
{
	return c->system && (!(c->sys.cr0 & SOFT_CR0_PE) || (c->rflags & SOFT_RFLAGS_VM));
}

static unsigned cur_cpl(const struct soft_cpu *c)
{
	return c->system ? c->sys.cpl : 3;
}

_Noreturn static void fault(struct soft_cpu *c, unsigned vector, uint32_t error)
{
	soft_raise(c, vector, error, 0);
}

/* ---- modes ---- */

static enum soft_cs_mode mode_of(const struct soft_cpu *c)
{
	uint32_t cs = c->sys.seg[SOFT_CS].attr;
	if (!c->system)
		return (cs & A_L) ? SOFT_CS_64 : SOFT_CS_32;
	if (real_like(c))
		return SOFT_CS_REAL16;
	if (c->sys.efer & SOFT_EFER_LMA)
		return (cs & A_L) ? SOFT_CS_64 : (cs & A_DB) ? SOFT_CS_32 : SOFT_CS_COMPAT16;
	return (cs & A_DB) ? SOFT_CS_LEGACY32 : SOFT_CS_LEGACY16;
}

/* CPL: 0 in real mode, 3 in virtual-8086 mode, else CS.DPL; a conforming code segment keeps
 * the caller's privilege, which CS.RPL holds after every transfer. */
static unsigned cpl_of(const struct soft_cpu *c)
{
	const struct soft_seg *cs = &c->sys.seg[SOFT_CS];
	if (!c->system)
		return 3;
	if (!(c->sys.cr0 & SOFT_CR0_PE))
		return 0;
	if (c->rflags & SOFT_RFLAGS_VM)
		return 3;
	if ((cs->attr & (A_S | A_CODE | A_DC)) == (A_S | A_CODE | A_DC))
		return cs->sel & 3;
	return A_DPL(cs->attr);
}

void soft_mode_update(struct soft_cpu *c)
{
	enum soft_cs_mode m = mode_of(c);
	uint64_t base = m == SOFT_CS_64 ? 0 : (uint32_t)c->sys.seg[SOFT_CS].base;
	if (!c->system)
		base = 0;
	/* Blocks are found by offset (rip) in the jump cache and successor links: a new CS base
	 * gives the same offsets other code. */
	if (base != c->cs_base) {
		c->cs_base = base;
		soft_code_jump_cache_clear(c);
	}
	soft_cpu_set_cs_mode(c, m);
	unsigned cpl = cpl_of(c);
	if (cpl != c->sys.cpl) {
		c->sys.cpl = (uint8_t)cpl;
		if (c->system)
			soft_tlb_cpl_changed(c);
	}
}

static void flat(struct soft_seg *s, uint16_t sel, uint32_t attr)
{
	s->base = 0;
	s->limit = 0xffffffff;
	s->sel = sel;
	s->attr = attr;
}

void soft_seg_user_mode(struct soft_cpu *c, enum soft_cs_mode mode)
{
	struct soft_sys *s = &c->sys;
	if (s->seg[SOFT_SS].sel == 0) {
		flat(&s->seg[SOFT_DS], USER_DS, 0xc0f3);
		flat(&s->seg[SOFT_ES], USER_DS, 0xc0f3);
		flat(&s->seg[SOFT_SS], USER_DS, 0xc0f3);
	}
	if (mode == SOFT_CS_64)
		flat(&s->seg[SOFT_CS], USER_CS64, 0xa0fb);
	else
		flat(&s->seg[SOFT_CS], USER_CS32, 0xc0fb);
	s->cpl = 3;
}

void soft_seg_set_flat(struct soft_cpu *c, unsigned sreg, uint16_t sel, bool code64,
		       unsigned dpl)
{
	struct soft_seg *s = &c->sys.seg[sreg];
	uint32_t attr = A_P | A_S | A_ACCESSED | A_RW | (dpl << 5);
	if (sreg == SOFT_CS)
		attr |= A_CODE | (code64 ? A_L : A_DB) | (1u << 15);
	else
		attr |= A_DB | (1u << 15);
	flat(s, sel, attr);
	if (sreg == SOFT_CS)
		soft_mode_update(c);
}

/* ---- addresses ---- */

uint64_t soft_seg_linear(struct soft_cpu *c, unsigned sreg, uint64_t off, unsigned sz)
{
	if (!c->system)
		return off + (sreg == SOFT_FS ? c->fs_base : sreg == SOFT_GS ? c->gs_base : 0);
	const struct soft_seg *s = &c->sys.seg[sreg];
	uint64_t base = sreg == SOFT_FS ? c->fs_base : sreg == SOFT_GS ? c->gs_base : s->base;
	uint64_t last = off + sz - 1;
	bool bad;
	if (SOFT_UNLIKELY((s->attr & SOFT_SEG_ATTR_UNUSABLE) && c->cs_mode != SOFT_CS_REAL16))
		bad = true;
	else if ((s->attr & (A_S | A_CODE | A_DC)) == (A_S | A_DC)) /* expand-down data */
		bad = off <= s->limit || last > ((s->attr & A_DB) ? 0xffffffffULL : 0xffffULL);
	else
		bad = last > s->limit;
	if (SOFT_UNLIKELY(bad))
		fault(c, sreg == SOFT_SS ? SOFT_VEC_SS : SOFT_VEC_GP, 0);
	return (uint32_t)(base + off);
}

uint64_t soft_sp_mask(const struct soft_cpu *c)
{
	return !c->system || (c->sys.seg[SOFT_SS].attr & A_DB) ? 0xffffffffULL : 0xffffULL;
}

/* Write the stack pointer in the stack's width: SP keeps the upper bits, ESP zero-extends. */
static void sp_set(struct soft_cpu *c, uint64_t mask, uint64_t sp)
{
	if (mask == 0xffff)
		c->gpr[SOFT_RSP] = (c->gpr[SOFT_RSP] & ~0xffffULL) | (sp & 0xffff);
	else
		c->gpr[SOFT_RSP] = (uint32_t)sp;
}

void soft_push_legacy(struct soft_cpu *c, unsigned sz, uint64_t v)
{
	uint64_t m = soft_sp_mask(c), sp = (c->gpr[SOFT_RSP] - sz) & m;
	soft_st(c, soft_seg_linear(c, SOFT_SS, sp, sz), sz, v);
	sp_set(c, m, sp);
}

uint64_t soft_pop_legacy(struct soft_cpu *c, unsigned sz)
{
	uint64_t m = soft_sp_mask(c), sp = c->gpr[SOFT_RSP] & m;
	uint64_t v = soft_ld(c, soft_seg_linear(c, SOFT_SS, sp, sz), sz);
	sp_set(c, m, sp + sz);
	return v;
}

void soft_sp_add_legacy(struct soft_cpu *c, int64_t delta)
{
	uint64_t m = soft_sp_mask(c);
	sp_set(c, m, (c->gpr[SOFT_RSP] + (uint64_t)delta) & m);
}

/* rSP += delta as the current mode's stack sees it. */
static void sp_add(struct soft_cpu *c, uint64_t delta)
{
	if (c->cs_mode == SOFT_CS_64)
		c->gpr[SOFT_RSP] += delta;
	else
		soft_sp_add_legacy(c, (int64_t)delta);
}

/* ---- descriptors ---- */

/* The user-mode CPU's descriptor table: Linux's user segments. */
static bool user_desc(uint16_t sel, uint64_t *desc)
{
	switch (sel | 3) {
	case USER_CS32: *desc = 0x00cffb000000ffffULL; return true;
	case USER_DS: *desc = 0x00cff3000000ffffULL; return true;
	case USER_CS64: *desc = 0x00affb000000ffffULL; return true;
	default: return false;
	}
}

/* Linear address of sel's descriptor, or false when sel lies past its table's limit. */
static bool desc_addr(struct soft_cpu *c, uint16_t sel, uint64_t *addr)
{
	const struct soft_sys *s = &c->sys;
	uint64_t base;
	uint32_t limit;
	if (sel & 4) {
		if ((s->ldtr.sel & ~3u) == 0 || (s->ldtr.attr & SOFT_SEG_ATTR_UNUSABLE))
			return false;
		base = s->ldtr.base;
		limit = s->ldtr.limit;
	} else {
		base = s->gdtr.base;
		limit = s->gdtr.limit;
	}
	if ((uint32_t)(sel | 7) > limit)
		return false;
	*addr = base + (sel & ~7u);
	if (!(s->efer & SOFT_EFER_LMA))
		*addr = (uint32_t)*addr;
	return true;
}

bool soft_desc_read(struct soft_cpu *c, uint16_t sel, uint64_t *desc)
{
	uint64_t a;
	if (!c->system)
		return user_desc(sel, desc);
	if (!desc_addr(c, sel, &a))
		return false;
	*desc = soft_ld_sys(c, a, 8);
	return true;
}

/* Loading a segment marks its descriptor accessed (a locked write of the type byte). */
static void set_accessed(struct soft_cpu *c, uint16_t sel, uint64_t desc)
{
	uint64_t a;
	if (!c->system || (desc & (1ULL << 40)) || !desc_addr(c, sel, &a))
		return;
	soft_st_sys(c, a + 5, 1, ((desc >> 40) & 0xff) | 1);
}

void soft_desc_unpack(uint64_t d, uint64_t hi, struct soft_seg *out)
{
	uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
	if (d & (1ULL << 55))
		limit = (limit << 12) | 0xfff;
	out->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000ULL) |
		    ((hi & 0xffffffffULL) << 32);
	out->limit = limit;
	out->attr = (uint32_t)((d >> 40) & 0xff) | (uint32_t)(((d >> 52) & 0xf) << 12);
}

/* The fast copies of the FS/GS bases follow their descriptor caches. */
static void sync_fast(struct soft_cpu *c, unsigned sreg)
{
	if (sreg == SOFT_FS)
		c->fs_base = c->sys.seg[SOFT_FS].base;
	else if (sreg == SOFT_GS)
		c->gs_base = c->sys.seg[SOFT_GS].base;
}

void soft_seg_load(struct soft_cpu *c, unsigned sreg, uint16_t sel)
{
	struct soft_seg *sg = &c->sys.seg[sreg];
	if (real_like(c)) {
		/* Base = sel << 4; the cached limit and attributes stay ("unreal mode"), except
		 * that virtual-8086 mode has fixed 64 KiB writable segments. */
		sg->sel = sel;
		sg->base = (uint32_t)sel << 4;
		sg->attr = (sg->attr & ~SOFT_SEG_ATTR_UNUSABLE) | A_P | A_S;
		if (c->rflags & SOFT_RFLAGS_VM) {
			sg->limit = 0xffff;
			sg->attr = 0xf3;
		}
		sync_fast(c, sreg);
		return;
	}
	unsigned cpl = cur_cpl(c), rpl = sel & 3u;
	uint32_t err = sel & 0xfffcu;
	if ((sel & ~3u) == 0) {
		/* Null: DS/ES/FS/GS become unusable (base 0 on Intel); SS only in 64-bit mode
		 * below CPL 3, and then its DPL keeps the CPL. */
		if (sreg == SOFT_SS && !(c->cs_mode == SOFT_CS_64 && cpl < 3 && rpl == cpl))
			fault(c, SOFT_VEC_GP, 0);
		sg->sel = sel;
		sg->base = 0;
		sg->limit = 0;
		sg->attr = SOFT_SEG_ATTR_UNUSABLE | (sreg == SOFT_SS ? cpl << 5 : 0);
		sync_fast(c, sreg);
		return;
	}
	uint64_t d;
	if (!soft_desc_read(c, sel, &d))
		fault(c, SOFT_VEC_GP, err);
	struct soft_seg n;
	soft_desc_unpack(d, 0, &n);
	uint32_t a = n.attr;
	unsigned dpl = A_DPL(a);
	if (sreg == SOFT_SS) {
		if (rpl != cpl || dpl != cpl || !(a & A_S) || (a & A_CODE) || !(a & A_RW))
			fault(c, SOFT_VEC_GP, err);
		if (!(a & A_P))
			fault(c, SOFT_VEC_SS, err);
	} else {
		if (!(a & A_S) || ((a & A_CODE) && !(a & A_RW)))
			fault(c, SOFT_VEC_GP, err); /* system descriptor, execute-only code */
		bool conforming = (a & (A_CODE | A_DC)) == (A_CODE | A_DC);
		if (!conforming && (dpl < cpl || dpl < rpl))
			fault(c, SOFT_VEC_GP, err);
		if (!(a & A_P))
			fault(c, SOFT_VEC_NP, err);
	}
	set_accessed(c, sel, d);
	n.sel = sel;
	n.attr |= A_ACCESSED;
	*sg = n;
	sync_fast(c, sreg);
}

void soft_seg_load_cs(struct soft_cpu *c, uint16_t sel, const struct soft_seg *desc, unsigned cpl)
{
	struct soft_seg n = *desc;
	n.sel = (uint16_t)((sel & ~3u) | cpl);
	n.attr &= ~SOFT_SEG_ATTR_UNUSABLE;
	c->sys.seg[SOFT_CS] = n;
	soft_mode_update(c);
}

/* ---- segment register moves ---- */

static void after_ss_load(struct soft_cpu *c, unsigned sreg)
{
	if (sreg == SOFT_SS && c->system)
		c->sys.shadow = 2; /* no interrupt before the next instruction completes */
}

void soft_h_mov_sreg(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->o[0].kind == SOFT_OPND_SEG) {
		unsigned sreg = op->o[0].reg;
		if (sreg == SOFT_CS || sreg >= SOFT_NSREG)
			soft_h_ud(c, op);
		soft_seg_load(c, sreg, (uint16_t)soft_rd(c, op, 1));
		after_ss_load(c, sreg);
	} else {
		uint16_t sel = c->sys.seg[op->o[1].reg].sel;
		if (op->o[0].kind == SOFT_OPND_REG) /* zero-extended to the register's size */
			soft_reg_set(c, op->o[0].reg, op->o[0].size, sel);
		else
			soft_st(c, soft_ea(c, op), 2, sel);
	}
	SOFT_NEXT(c, op);
}

void soft_h_push_sreg(struct soft_cpu *c, const struct soft_op *op)
{
	soft_push_op(c, op, soft_slot_size(op), c->sys.seg[op->o[0].reg].sel);
	SOFT_NEXT(c, op);
}

void soft_h_pop_sreg(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sreg = op->o[0].reg;
	if (sreg == SOFT_CS || sreg >= SOFT_NSREG)
		soft_h_ud(c, op);
	uint64_t sp0 = c->gpr[SOFT_RSP];
	uint16_t sel = (uint16_t)soft_pop_op(c, op, soft_slot_size(op));
	uint64_t sp1 = c->gpr[SOFT_RSP];
	c->gpr[SOFT_RSP] = sp0; /* a faulting load leaves rSP unchanged */
	soft_seg_load(c, sreg, sel);
	c->gpr[SOFT_RSP] = sp1;
	after_ss_load(c, sreg);
	SOFT_NEXT(c, op);
}

/* LDS/LES/LFS/LGS/LSS r, m16:16/32/64: the offset, then the selector after it. */
static void h_load_far_ptr(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size, sreg;
	switch (op->mnem) {
	case ZYDIS_MNEMONIC_LDS: sreg = SOFT_DS; break;
	case ZYDIS_MNEMONIC_LES: sreg = SOFT_ES; break;
	case ZYDIS_MNEMONIC_LFS: sreg = SOFT_FS; break;
	case ZYDIS_MNEMONIC_LGS: sreg = SOFT_GS; break;
	default: sreg = SOFT_SS; break;
	}
	uint64_t a = soft_ea(c, op);
	uint64_t off = soft_ld(c, a, sz);
	uint16_t sel = (uint16_t)soft_ld(c, a + sz, 2);
	soft_seg_load(c, sreg, sel);
	soft_reg_set(c, op->o[0].reg, sz, off);
}

/* ---- far transfers ---- */

/* The selector and offset of a far JMP/CALL: ptr16:16/32 (decoded into imm and aux) or
 * m16:16/32/64. */
static void far_target(struct soft_cpu *c, const struct soft_op *op, uint16_t *sel,
		       uint64_t *off)
{
	unsigned sz = op->osize;
	if (op->o[0].kind == SOFT_OPND_IMM) {
		*off = op->imm & soft_mask(sz);
		*sel = (uint16_t)op->aux;
		return;
	}
	uint64_t a = soft_ea(c, op);
	*off = soft_ld(c, a, sz);
	*sel = (uint16_t)soft_ld(c, a + sz, 2);
}

static bool canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* The offset check of a transfer into code segment n: its limit, or canonical form when
 * it is a 64-bit code segment. */
static void check_offset(struct soft_cpu *c, const struct soft_seg *n, uint64_t off)
{
	bool to64 = long_mode(c) && (n->attr & A_L);
	if (to64 ? !canonical(off) : off > n->limit)
		fault(c, SOFT_VEC_GP, 0);
}

/* The code segment descriptor for a far JMP/CALL to sel with its privilege checks
 * (conforming: DPL <= CPL; non-conforming: RPL <= CPL and DPL == CPL). Call gates, task
 * gates and TSS targets are not modelled: #GP(sel). */
static uint64_t code_target(struct soft_cpu *c, uint16_t sel, struct soft_seg *n)
{
	unsigned cpl = cur_cpl(c), rpl = sel & 3u;
	uint32_t err = sel & 0xfffcu;
	uint64_t d;
	if ((sel & ~3u) == 0)
		fault(c, SOFT_VEC_GP, 0);
	if (!soft_desc_read(c, sel, &d))
		fault(c, SOFT_VEC_GP, err);
	soft_desc_unpack(d, 0, n);
	uint32_t a = n->attr;
	unsigned dpl = A_DPL(a);
	if (!(a & A_S) || !(a & A_CODE))
		fault(c, SOFT_VEC_GP, err);
	if ((a & A_DC) ? dpl > cpl : (rpl > cpl || dpl != cpl))
		fault(c, SOFT_VEC_GP, err);
	if (!(a & A_P))
		fault(c, SOFT_VEC_NP, err);
	if (long_mode(c) && (a & A_L) && (a & A_DB))
		fault(c, SOFT_VEC_GP, err);
	return d;
}

/* Real or virtual-8086 mode: CS = sel, base sel << 4, cached limit and attributes kept. */
static void real_cs(struct soft_cpu *c, uint16_t sel, uint64_t off)
{
	struct soft_seg *cs = &c->sys.seg[SOFT_CS];
	if (off > cs->limit)
		fault(c, SOFT_VEC_GP, 0);
	cs->sel = sel;
	cs->base = (uint32_t)sel << 4;
	cs->attr &= ~SOFT_SEG_ATTR_UNUSABLE;
	soft_mode_update(c);
	c->rip = off;
}

/* JMP/CALL far: check the target, push the return address (CALL), then switch CS (and with
 * it the mode when CS.L/D change). */
static void far_transfer(struct soft_cpu *c, const struct soft_op *op, bool call)
{
	uint16_t sel;
	uint64_t off;
	far_target(c, op, &sel, &off);
	unsigned sz = op->osize;
	if (real_like(c)) {
		if (c->sys.seg[SOFT_CS].limit < off)
			fault(c, SOFT_VEC_GP, 0);
		if (call) {
			soft_push_op(c, op, sz, c->sys.seg[SOFT_CS].sel);
			soft_push_op(c, op, sz, op->next_rip);
		}
		real_cs(c, sel, off);
		return;
	}
	struct soft_seg n;
	uint64_t d = code_target(c, sel, &n);
	check_offset(c, &n, off);
	if (call) {
		soft_push_op(c, op, sz, c->sys.seg[SOFT_CS].sel);
		soft_push_op(c, op, sz, op->next_rip);
	}
	set_accessed(c, sel, d);
	n.attr |= A_ACCESSED;
	soft_seg_load_cs(c, sel, &n, cur_cpl(c));
	c->rip = off;
}

void soft_h_jmp_far(struct soft_cpu *c, const struct soft_op *op)
{
	far_transfer(c, op, false);
	SOFT_NEXT(c, op);
}

void soft_h_call_far(struct soft_cpu *c, const struct soft_op *op)
{
	far_transfer(c, op, true);
	SOFT_NEXT(c, op);
}

/* A stack segment for a return to privilege rpl (RET far to an outer level). */
static uint64_t stack_target(struct soft_cpu *c, uint16_t sel, unsigned rpl, bool to64,
			     struct soft_seg *n)
{
	uint32_t err = sel & 0xfffcu;
	uint64_t d;
	if ((sel & ~3u) == 0) {
		if (!to64 || rpl == 3)
			fault(c, SOFT_VEC_GP, 0);
		*n = (struct soft_seg){ 0, 0, sel, SOFT_SEG_ATTR_UNUSABLE | (rpl << 5) };
		return 1ULL << 40; /* nothing to mark accessed */
	}
	if ((sel & 3u) != rpl || !soft_desc_read(c, sel, &d))
		fault(c, SOFT_VEC_GP, err);
	soft_desc_unpack(d, 0, n);
	uint32_t a = n->attr;
	if (A_DPL(a) != rpl || !(a & A_S) || (a & A_CODE) || !(a & A_RW))
		fault(c, SOFT_VEC_GP, err);
	if (!(a & A_P))
		fault(c, SOFT_VEC_SS, err);
	n->sel = sel;
	return d;
}

/* After a return to an outer privilege level, data segments the new level may not use
 * become null. */
static void drop_inner_segments(struct soft_cpu *c, unsigned cpl)
{
	static const unsigned regs[] = { SOFT_ES, SOFT_DS, SOFT_FS, SOFT_GS };
	for (unsigned i = 0; i < 4; i++) {
		struct soft_seg *s = &c->sys.seg[regs[i]];
		bool conforming = (s->attr & (A_CODE | A_DC)) == (A_CODE | A_DC);
		if (!(s->attr & SOFT_SEG_ATTR_UNUSABLE) && !conforming && A_DPL(s->attr) < cpl) {
			*s = (struct soft_seg){ 0, 0, 0, SOFT_SEG_ATTR_UNUSABLE };
			sync_fast(c, regs[i]);
		}
	}
}

/* RET far [imm16]: pop rIP and CS (and, to an outer level, rSP and SS); rSP is unchanged
 * when a check faults. */
static void ret_far(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	uint64_t imm = op->nopnd ? op->imm & 0xffff : 0, sp0 = c->gpr[SOFT_RSP];
	uint64_t off = soft_pop_op(c, op, sz);
	uint16_t sel = (uint16_t)soft_pop_op(c, op, sz);
	uint64_t sp1 = c->gpr[SOFT_RSP];
	if (real_like(c)) {
		c->gpr[SOFT_RSP] = sp0;
		real_cs(c, sel, off & soft_mask(sz));
		c->gpr[SOFT_RSP] = sp1;
		sp_add(c, imm);
		return;
	}
	c->gpr[SOFT_RSP] = sp0;
	unsigned cpl = cur_cpl(c), rpl = sel & 3u;
	uint32_t err = sel & 0xfffcu;
	uint64_t d;
	struct soft_seg n;
	if ((sel & ~3u) == 0)
		fault(c, SOFT_VEC_GP, 0);
	if (!soft_desc_read(c, sel, &d))
		fault(c, SOFT_VEC_GP, err);
	soft_desc_unpack(d, 0, &n);
	uint32_t a = n.attr;
	if (!(a & A_S) || !(a & A_CODE) || rpl < cpl)
		fault(c, SOFT_VEC_GP, err);
	if ((a & A_DC) ? A_DPL(a) > rpl : A_DPL(a) != rpl)
		fault(c, SOFT_VEC_GP, err);
	if (!(a & A_P))
		fault(c, SOFT_VEC_NP, err);
	if (long_mode(c) && (a & A_L) && (a & A_DB))
		fault(c, SOFT_VEC_GP, err);
	check_offset(c, &n, off);
	c->gpr[SOFT_RSP] = sp1;
	n.attr |= A_ACCESSED;
	if (rpl == cpl) {
		set_accessed(c, sel, d);
		soft_seg_load_cs(c, sel, &n, cpl);
		c->rip = off;
		sp_add(c, imm);
		return;
	}
	/* To an outer level: the caller's rSP and SS follow on the stack. */
	sp_add(c, imm);
	uint64_t nsp = soft_pop_op(c, op, sz);
	uint16_t nss = (uint16_t)soft_pop_op(c, op, sz);
	bool to64 = long_mode(c) && (a & A_L);
	struct soft_seg ss;
	c->gpr[SOFT_RSP] = sp0;
	uint64_t ssd = stack_target(c, nss, rpl, to64, &ss);
	set_accessed(c, sel, d);
	set_accessed(c, nss, ssd);
	ss.attr |= (ss.attr & SOFT_SEG_ATTR_UNUSABLE) ? 0 : A_ACCESSED;
	c->sys.seg[SOFT_SS] = ss;
	soft_seg_load_cs(c, sel, &n, rpl);
	c->rip = off;
	if (to64)
		c->gpr[SOFT_RSP] = nsp;
	else
		sp_set(c, soft_sp_mask(c), nsp);
	sp_add(c, imm);
	drop_inner_segments(c, rpl);
}

void soft_h_ret_far(struct soft_cpu *c, const struct soft_op *op)
{
	ret_far(c, op);
	SOFT_NEXT(c, op);
}

SOFT_THREADED(h_load_far_ptr)

const struct soft_insn_def soft_seg_defs[] = {
	{ ZYDIS_MNEMONIC_LDS, h_load_far_ptr_t }, { ZYDIS_MNEMONIC_LES, h_load_far_ptr_t },
	{ ZYDIS_MNEMONIC_LFS, h_load_far_ptr_t }, { ZYDIS_MNEMONIC_LGS, h_load_far_ptr_t },
	{ ZYDIS_MNEMONIC_LSS, h_load_far_ptr_t },
	{ 0, NULL },
};
