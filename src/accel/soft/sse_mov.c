/* SSE/SSE2 data movement: MOVD/MOVQ, aligned/unaligned 128-bit moves (with #GP on misaligned
 * MOVA*), scalar MOVSS/MOVSD, the half moves (MOVLPS/MOVHPS/MOVHLPS/MOVLHPS...), non-temporal
 * stores, mask extraction (PMOVMSKB, MOVMSKPS/PD), PINSRW/PEXTRW and MXCSR access. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

/* n bytes to guest memory: one TLB probe and a copy when the store stays in one page. */
static inline void soft_st_n(struct soft_cpu *c, uint64_t a, const void *src, unsigned n)
{
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	if (SOFT_LIKELY(n == 16 && e->tag_w == (a & ~0xfffULL) && (a & 0xfff) <= 4096u - 16))
		memcpy((void *)(uintptr_t)(a + e->addend), src, 16);
	else
		soft_st_bytes(c, a, src, n);
}

/* Store the low n bytes of v to operand i (XMM register keeps its other bytes). */
static void xstore(struct soft_cpu *c, const struct soft_op *op, unsigned i, const union soft_xmm *v,
		   unsigned n)
{
	const struct soft_opnd *o = &op->o[i];
	if (o->kind == SOFT_OPND_XMM)
		memcpy(c->xmm[o->reg].b, v->b, n);
	else if (o->kind == SOFT_OPND_REG)
		soft_reg_set(c, o->reg, o->size, v->q[0]);
	else
		soft_st_n(c, soft_ea(c, op), v->b, n);
}

static void check_align(struct soft_cpu *c, const struct soft_op *op)
{
	for (unsigned i = 0; i < 2; i++)
		if (op->o[i].kind == SOFT_OPND_MEM && (soft_ea(c, op) & 15))
			soft_raise(c, SOFT_VEC_GP, 0, 0);
}

static void h_mov128(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm v = soft_xsrc(c, op, 1);
	xstore(c, op, 0, &v, 16);
}

static void h_mova128(struct soft_cpu *c, const struct soft_op *op)
{
	check_align(c, op);
	h_mov128(c, op);
}

/* MOVD/MOVQ: to an XMM register zero-extends; from one stores the low part. */
static void h_movdq(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->o[0].kind == SOFT_OPND_MMX || op->o[1].kind == SOFT_OPND_MMX)
		soft_raise(c, SOFT_VEC_UD, 0, 0);
	unsigned n = op->o[0].kind == SOFT_OPND_XMM ? op->o[1].size : op->o[0].size;
	if (n > 8)
		n = 8;
	union soft_xmm v = soft_xsrc(c, op, 1);
	if (op->o[0].kind == SOFT_OPND_XMM) {
		union soft_xmm z = { .q = { 0, 0 } };
		memcpy(z.b, v.b, n);
		c->xmm[op->o[0].reg] = z;
	} else {
		xstore(c, op, 0, &v, n);
	}
}

/* MOVSS/MOVSD: reg-reg merges the low element; a load zeroes the rest; a store writes it. */
static void movs_scalar(struct soft_cpu *c, const struct soft_op *op, unsigned n)
{
	union soft_xmm v = soft_xsrc(c, op, 1);
	if (op->o[0].kind == SOFT_OPND_XMM && op->o[1].kind == SOFT_OPND_MEM) {
		union soft_xmm z = { .q = { 0, 0 } };
		memcpy(z.b, v.b, n);
		c->xmm[op->o[0].reg] = z;
	} else {
		xstore(c, op, 0, &v, n);
	}
}

void soft_h_movsd_sse(struct soft_cpu *c, const struct soft_op *op)
{
	movs_scalar(c, op, 8);
	SOFT_NEXT(c, op);
}
static void h_movss(struct soft_cpu *c, const struct soft_op *op) { movs_scalar(c, op, 4); }

/* MOVLPS/MOVLPD/MOVHPS/MOVHPD with memory, MOVHLPS/MOVLHPS between registers. */
static void h_movlp(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->o[0].kind == SOFT_OPND_XMM) {
		union soft_xmm v = soft_xsrc(c, op, 1);
		c->xmm[op->o[0].reg].q[0] = v.q[0];
	} else {
		soft_st(c, soft_ea(c, op), 8, c->xmm[op->o[1].reg].q[0]);
	}
}

static void h_movhp(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->o[0].kind == SOFT_OPND_XMM) {
		union soft_xmm v = soft_xsrc(c, op, 1);
		c->xmm[op->o[0].reg].q[1] = v.q[0];
	} else {
		soft_st(c, soft_ea(c, op), 8, c->xmm[op->o[1].reg].q[1]);
	}
}

static void h_movhlps(struct soft_cpu *c, const struct soft_op *op)
{
	c->xmm[op->o[0].reg].q[0] = c->xmm[op->o[1].reg].q[1];
}

static void h_movlhps(struct soft_cpu *c, const struct soft_op *op)
{
	c->xmm[op->o[0].reg].q[1] = c->xmm[op->o[1].reg].q[0];
}

static void h_movnti(struct soft_cpu *c, const struct soft_op *op)
{
	soft_wr(c, op, 0, soft_rd(c, op, 1));
}

static void h_pmovmskb(struct soft_cpu *c, const struct soft_op *op)
{
	const union soft_xmm *s = &c->xmm[op->o[1].reg];
	uint64_t m = 0;
	for (unsigned i = 0; i < 16; i++)
		m |= (uint64_t)(s->b[i] >> 7) << i;
	soft_reg_set(c, op->o[0].reg, op->o[0].size == 8 ? 8 : 4, m);
}

static void h_movmskps(struct soft_cpu *c, const struct soft_op *op)
{
	const union soft_xmm *s = &c->xmm[op->o[1].reg];
	uint64_t m = 0;
	for (unsigned i = 0; i < 4; i++)
		m |= (uint64_t)(s->d[i] >> 31) << i;
	soft_reg_set(c, op->o[0].reg, op->o[0].size == 8 ? 8 : 4, m);
}

static void h_movmskpd(struct soft_cpu *c, const struct soft_op *op)
{
	const union soft_xmm *s = &c->xmm[op->o[1].reg];
	uint64_t m = (s->q[0] >> 63) | (s->q[1] >> 63) << 1;
	soft_reg_set(c, op->o[0].reg, op->o[0].size == 8 ? 8 : 4, m);
}

static void h_pextrw(struct soft_cpu *c, const struct soft_op *op)
{
	const union soft_xmm *s = &c->xmm[op->o[1].reg];
	soft_wr(c, op, 0, s->w[op->imm & 7]);
}

static void h_pinsrw(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = soft_rd(c, op, 1);
	c->xmm[op->o[0].reg].w[op->imm & 7] = (uint16_t)v;
}

static void h_ldmxcsr(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = soft_ld(c, soft_ea(c, op), 4);
	if (v & ~0xffffULL)
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	c->mxcsr = (uint32_t)v;
	soft_mxcsr_push(c);
}

static void h_stmxcsr(struct soft_cpu *c, const struct soft_op *op)
{
	soft_mxcsr_pull(c);
	soft_st(c, soft_ea(c, op), 4, c->mxcsr);
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_mov128)
SOFT_THREADED(h_mova128)
SOFT_THREADED(h_movnti)
SOFT_THREADED(h_movdq)
SOFT_THREADED(h_movss)
SOFT_THREADED(h_movlp)
SOFT_THREADED(h_movhp)
SOFT_THREADED(h_movhlps)
SOFT_THREADED(h_movlhps)
SOFT_THREADED(h_pmovmskb)
SOFT_THREADED(h_movmskps)
SOFT_THREADED(h_movmskpd)
SOFT_THREADED(h_pextrw)
SOFT_THREADED(h_pinsrw)
SOFT_THREADED(h_ldmxcsr)
SOFT_THREADED(h_stmxcsr)

const struct soft_insn_def soft_sse_mov_defs[] = {
	{ ZYDIS_MNEMONIC_MOVDQU, h_mov128_t }, { ZYDIS_MNEMONIC_MOVUPS, h_mov128_t },
	{ ZYDIS_MNEMONIC_MOVUPD, h_mov128_t }, { ZYDIS_MNEMONIC_LDDQU, h_mov128_t },
	{ ZYDIS_MNEMONIC_MOVDQA, h_mova128_t }, { ZYDIS_MNEMONIC_MOVAPS, h_mova128_t },
	{ ZYDIS_MNEMONIC_MOVAPD, h_mova128_t }, { ZYDIS_MNEMONIC_MOVNTDQ, h_mova128_t },
	{ ZYDIS_MNEMONIC_MOVNTPS, h_mova128_t }, { ZYDIS_MNEMONIC_MOVNTPD, h_mova128_t },
	{ ZYDIS_MNEMONIC_MOVNTDQA, h_mova128_t }, { ZYDIS_MNEMONIC_MOVNTI, h_movnti_t },
	{ ZYDIS_MNEMONIC_MOVD, h_movdq_t }, { ZYDIS_MNEMONIC_MOVQ, h_movdq_t },
	{ ZYDIS_MNEMONIC_MOVSS, h_movss_t },
	{ ZYDIS_MNEMONIC_MOVLPS, h_movlp_t }, { ZYDIS_MNEMONIC_MOVLPD, h_movlp_t },
	{ ZYDIS_MNEMONIC_MOVHPS, h_movhp_t }, { ZYDIS_MNEMONIC_MOVHPD, h_movhp_t },
	{ ZYDIS_MNEMONIC_MOVHLPS, h_movhlps_t }, { ZYDIS_MNEMONIC_MOVLHPS, h_movlhps_t },
	{ ZYDIS_MNEMONIC_PMOVMSKB, h_pmovmskb_t }, { ZYDIS_MNEMONIC_MOVMSKPS, h_movmskps_t },
	{ ZYDIS_MNEMONIC_MOVMSKPD, h_movmskpd_t }, { ZYDIS_MNEMONIC_PEXTRW, h_pextrw_t },
	{ ZYDIS_MNEMONIC_PINSRW, h_pinsrw_t }, { ZYDIS_MNEMONIC_LDMXCSR, h_ldmxcsr_t },
	{ ZYDIS_MNEMONIC_STMXCSR, h_stmxcsr_t },
	{ 0, NULL },
};
