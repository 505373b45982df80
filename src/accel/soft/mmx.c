/* MMX family: the MM0-MM7 integer instructions (MOVD/MOVQ, packed add/sub/saturating/compare/
 * logic/multiply/shift/pack/unpack, the SSE additions to MMX such as PSHUFW, PMOVMSKB, PEXTRW,
 * PINSRW, PMINUB, PAVGB, PSADBW, MASKMOVQ, MOVNTQ), the MMX/XMM moves and conversions
 * (MOVQ2DQ, MOVDQ2Q, CVTPI2PS/PD, CVT(T)PS2PI, CVT(T)PD2PI) and EMMS.
 *
 * MMi aliases the 64-bit significand of physical x87 register i; writing it sets that
 * register's sign and exponent bits to all ones. Every MMX instruction except EMMS sets TOP to 0
 * and marks all x87 registers valid; EMMS marks them all empty. Lane arithmetic uses the host's
 * SSE2 intrinsics on the low 64 bits of an XMM value (never host MMX code). The decoder sends
 * forms with an MM operand to soft_mmx_reg_defs; soft_mmx_defs holds EMMS and the conversions
 * whose memory forms name no MM register. */
#include <emmintrin.h>

#include <Zydis/Zydis.h>

#include "accel/soft/simd_int_ops.h"
#include "accel/soft/soft_internal.h"

static uint64_t mm_get(const struct soft_cpu *c, unsigned i)
{
	uint64_t v;
	memcpy(&v, &c->st[i & 7], 8);
	return v;
}

static void mm_set(struct soft_cpu *c, unsigned i, uint64_t v)
{
	uint16_t se = 0xffff;
	memcpy(&c->st[i & 7], &v, 8);
	memcpy((uint8_t *)&c->st[i & 7] + 8, &se, 2);
}

/* The x87-to-MMX transition every MMX instruction makes (after its operands are read, so a
 * faulting instruction leaves the x87 state alone). */
static void mmx_enter(struct soft_cpu *c)
{
	c->fpu_top = 0;
	c->fpu_sw &= (uint16_t)~0x3800u;
	c->fpu_tag = 0xff;
}

void soft_cpu_mmx_get(struct soft_cpu *c, uint64_t out[8])
{
	for (unsigned i = 0; i < 8; i++)
		out[i] = mm_get(c, i);
}

void soft_cpu_mmx_set(struct soft_cpu *c, const uint64_t in[8])
{
	for (unsigned i = 0; i < 8; i++)
		mm_set(c, i, in[i]);
	mmx_enter(c);
}

/* Operand i as a 64-bit value: MM or XMM register (low half), GPR, immediate or memory. */
static uint64_t mm_src(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	const struct soft_opnd *o = &op->o[i];
	switch (o->kind) {
	case SOFT_OPND_MMX: return mm_get(c, o->reg);
	case SOFT_OPND_XMM: return c->xmm[o->reg].q[0];
	case SOFT_OPND_REG: return soft_reg_get(c, o->reg, o->size);
	case SOFT_OPND_IMM: return op->imm;
	default: return soft_ld(c, soft_ea(c, op), o->size);
	}
}

static inline __m128i v64(uint64_t v) { return _mm_cvtsi64_si128((long long)v); }
static inline uint64_t lo64(__m128i v) { return (uint64_t)_mm_cvtsi128_si64(v); }
/* High 64 bits of a 128-bit unpack of two 64-bit values: the MMX "high" unpacks. */
#define HI(x) _mm_srli_si128((x), 8)
/* MMX packs: both 64-bit sources side by side, packed, low 64 bits kept. */
#define PACK(fn) fn(_mm_unpacklo_epi64(a, b), _mm_setzero_si128())

#define BIN(name, expr)                                                                    \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		__m128i b = v64(mm_src(c, op, 1)), a = v64(mm_get(c, op->o[0].reg));      \
		(void)a;                                                                   \
		mmx_enter(c);                                                              \
		mm_set(c, op->o[0].reg, lo64(expr));                                       \
	}

SOFT_SIMD_INT_LANE_OPS(BIN)
BIN(punpckhbw, HI(_mm_unpacklo_epi8(a, b))) BIN(punpckhwd, HI(_mm_unpacklo_epi16(a, b)))
BIN(punpckhdq, HI(_mm_unpacklo_epi32(a, b)))
BIN(packsswb, PACK(_mm_packs_epi16)) BIN(packssdw, PACK(_mm_packs_epi32))
BIN(packuswb, PACK(_mm_packus_epi16))

/* Shifts by an immediate or by the 64-bit count in an MM register or m64. */
#define SHIFT(name, fn)                                                                    \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		uint64_t n = op->o[1].kind == SOFT_OPND_IMM ? op->imm & 0xff : mm_src(c, op, 1); \
		__m128i a = v64(mm_get(c, op->o[0].reg));                                  \
		mmx_enter(c);                                                              \
		mm_set(c, op->o[0].reg, lo64(fn(a, v64(n))));                              \
	}
SHIFT(psllw, _mm_sll_epi16) SHIFT(pslld, _mm_sll_epi32) SHIFT(psllq, _mm_sll_epi64)
SHIFT(psrlw, _mm_srl_epi16) SHIFT(psrld, _mm_srl_epi32) SHIFT(psrlq, _mm_srl_epi64)
SHIFT(psraw, _mm_sra_epi16) SHIFT(psrad, _mm_sra_epi32)

/* MOVD/MOVQ/MOVNTQ/MOVDQ2Q/MOVQ2DQ: a 32- or 64-bit move between MM, XMM, GPR and memory. */
static void h_movdq(struct soft_cpu *c, const struct soft_op *op)
{
	const struct soft_opnd *d = &op->o[0];
	uint64_t v = mm_src(c, op, 1);
	if (op->o[1].size == 4)
		v = (uint32_t)v;
	switch (d->kind) {
	case SOFT_OPND_MMX:
		mmx_enter(c);
		mm_set(c, d->reg, v);
		break;
	case SOFT_OPND_XMM:
		mmx_enter(c);
		c->xmm[d->reg].q[0] = v;
		c->xmm[d->reg].q[1] = 0;
		break;
	case SOFT_OPND_REG:
		mmx_enter(c);
		soft_reg_set(c, d->reg, d->size, v);
		break;
	default:
		soft_st(c, soft_ea(c, op), d->size, v);
		mmx_enter(c);
		break;
	}
}

static void h_pshufw(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = mm_src(c, op, 1), r = 0;
	for (unsigned i = 0; i < 4; i++)
		r |= ((s >> (16 * ((op->imm >> (2 * i)) & 3))) & 0xffff) << (16 * i);
	mmx_enter(c);
	mm_set(c, op->o[0].reg, r);
}

static void h_pmovmskb(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = mm_get(c, op->o[1].reg);
	mmx_enter(c);
	soft_reg_set(c, op->o[0].reg, op->o[0].size, (uint64_t)(_mm_movemask_epi8(v64(s)) & 0xff));
}

static void h_pextrw(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = mm_get(c, op->o[1].reg);
	mmx_enter(c);
	soft_reg_set(c, op->o[0].reg, op->o[0].size, (s >> (16 * (op->imm & 3))) & 0xffff);
}

static void h_pinsrw(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = mm_src(c, op, 1) & 0xffff, d = mm_get(c, op->o[0].reg);
	unsigned sh = 16 * (unsigned)(op->imm & 3);
	mmx_enter(c);
	mm_set(c, op->o[0].reg, (d & ~(0xffffULL << sh)) | v << sh);
}

/* MASKMOVQ: store the bytes of the first operand whose mask byte has its top bit set, at
 * [RDI] (DS, or the segment override). */
static void h_maskmovq(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = mm_get(c, op->o[0].reg), m = mm_get(c, op->o[1].reg);
	uint64_t a = soft_seg_implicit(c, op, soft_addr_mask(op, c->gpr[SOFT_RDI]), 8);
	for (unsigned i = 0; i < 8; i++)
		if ((m >> (8 * i + 7)) & 1)
			soft_st(c, a + i, 1, (v >> (8 * i)) & 0xff);
	mmx_enter(c);
}

static void h_emms(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	c->fpu_tag = 0;
}

/* Conversions; the ones with an MM operand make the MMX transition, rounding follows MXCSR
 * (the host MXCSR holds the guest's during a run); an unmasked exception raises #XM
 * (soft_fpx_begin) before the transition and the write. CVTPI2PD is exact. */
static bool has_mm(const struct soft_op *op)
{
	return op->o[0].kind == SOFT_OPND_MMX || op->o[1].kind == SOFT_OPND_MMX;
}

static void h_cvtpi2ps(struct soft_cpu *c, const struct soft_op *op)
{
	__m128i v = v64(mm_src(c, op, 1));
	uint32_t x = soft_fpx_begin(c);
	SOFT_FPX_BARRIER(v);
	__m128 r = _mm_cvtepi32_ps(v);
	SOFT_FPX_BARRIER(r);
	soft_fpx_end(c, x);
	union soft_xmm *d = soft_xreg(c, op, 0);
	if (has_mm(op))
		mmx_enter(c);
	memcpy(d->f, &r, 8);
}

static void h_cvtpi2pd(struct soft_cpu *c, const struct soft_op *op)
{
	__m128d r = _mm_cvtepi32_pd(v64(mm_src(c, op, 1)));
	if (has_mm(op))
		mmx_enter(c);
	_mm_storeu_pd(soft_xreg(c, op, 0)->df, r);
}

#define CVT2PI(name, T, load, fn)                                                          \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm s = soft_xsrc(c, op, 1);                                    \
		uint32_t x = soft_fpx_begin(c);                                            \
		T v = load(s);                                                             \
		SOFT_FPX_BARRIER(v);                                                       \
		__m128i r = fn(v);                                                         \
		SOFT_FPX_BARRIER(r);                                                       \
		soft_fpx_end(c, x);                                                        \
		mmx_enter(c);                                                              \
		mm_set(c, op->o[0].reg, lo64(r));                                          \
	}
/* Only the two low singles take part (the upper lanes would raise flags of their own). */
#define LPS(s) _mm_castsi128_ps(_mm_move_epi64(_mm_loadu_si128((const __m128i *)(s).b)))
#define LPD(s) _mm_loadu_pd((s).df)
CVT2PI(cvtps2pi, __m128, LPS, _mm_cvtps_epi32) CVT2PI(cvttps2pi, __m128, LPS, _mm_cvttps_epi32)
CVT2PI(cvtpd2pi, __m128d, LPD, _mm_cvtpd_epi32) CVT2PI(cvttpd2pi, __m128d, LPD, _mm_cvttpd_epi32)

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_paddb) SOFT_THREADED(h_paddw) SOFT_THREADED(h_paddd) SOFT_THREADED(h_paddq)
SOFT_THREADED(h_psubb) SOFT_THREADED(h_psubw) SOFT_THREADED(h_psubd) SOFT_THREADED(h_psubq)
SOFT_THREADED(h_paddsb) SOFT_THREADED(h_paddsw) SOFT_THREADED(h_paddusb) SOFT_THREADED(h_paddusw)
SOFT_THREADED(h_psubsb) SOFT_THREADED(h_psubsw) SOFT_THREADED(h_psubusb) SOFT_THREADED(h_psubusw)
SOFT_THREADED(h_pcmpeqb) SOFT_THREADED(h_pcmpeqw) SOFT_THREADED(h_pcmpeqd)
SOFT_THREADED(h_pcmpgtb) SOFT_THREADED(h_pcmpgtw) SOFT_THREADED(h_pcmpgtd)
SOFT_THREADED(h_pand) SOFT_THREADED(h_pandn) SOFT_THREADED(h_por) SOFT_THREADED(h_pxor)
SOFT_THREADED(h_pminub) SOFT_THREADED(h_pmaxub) SOFT_THREADED(h_pminsw) SOFT_THREADED(h_pmaxsw)
SOFT_THREADED(h_pavgb) SOFT_THREADED(h_pavgw) SOFT_THREADED(h_pmullw) SOFT_THREADED(h_pmulhw)
SOFT_THREADED(h_pmulhuw) SOFT_THREADED(h_pmuludq) SOFT_THREADED(h_pmaddwd) SOFT_THREADED(h_psadbw)
SOFT_THREADED(h_punpcklbw) SOFT_THREADED(h_punpcklwd) SOFT_THREADED(h_punpckldq)
SOFT_THREADED(h_punpckhbw) SOFT_THREADED(h_punpckhwd) SOFT_THREADED(h_punpckhdq)
SOFT_THREADED(h_packsswb) SOFT_THREADED(h_packssdw) SOFT_THREADED(h_packuswb)
SOFT_THREADED(h_psllw) SOFT_THREADED(h_pslld) SOFT_THREADED(h_psllq) SOFT_THREADED(h_psrlw)
SOFT_THREADED(h_psrld) SOFT_THREADED(h_psrlq) SOFT_THREADED(h_psraw) SOFT_THREADED(h_psrad)
SOFT_THREADED(h_movdq) SOFT_THREADED(h_pshufw) SOFT_THREADED(h_pmovmskb) SOFT_THREADED(h_pextrw)
SOFT_THREADED(h_pinsrw) SOFT_THREADED(h_maskmovq) SOFT_THREADED(h_emms)
SOFT_THREADED(h_cvtpi2ps) SOFT_THREADED(h_cvtpi2pd) SOFT_THREADED(h_cvtps2pi)
SOFT_THREADED(h_cvttps2pi) SOFT_THREADED(h_cvtpd2pi) SOFT_THREADED(h_cvttpd2pi)

#define D(m, h) { ZYDIS_MNEMONIC_##m, h_##h##_t }
const struct soft_insn_def soft_mmx_reg_defs[] = {
	D(PADDB, paddb), D(PADDW, paddw), D(PADDD, paddd), D(PADDQ, paddq), D(PSUBB, psubb),
	D(PSUBW, psubw), D(PSUBD, psubd), D(PSUBQ, psubq), D(PADDSB, paddsb), D(PADDSW, paddsw),
	D(PADDUSB, paddusb), D(PADDUSW, paddusw), D(PSUBSB, psubsb), D(PSUBSW, psubsw),
	D(PSUBUSB, psubusb), D(PSUBUSW, psubusw), D(PCMPEQB, pcmpeqb), D(PCMPEQW, pcmpeqw),
	D(PCMPEQD, pcmpeqd), D(PCMPGTB, pcmpgtb), D(PCMPGTW, pcmpgtw), D(PCMPGTD, pcmpgtd),
	D(PAND, pand), D(PANDN, pandn), D(POR, por), D(PXOR, pxor), D(PMINUB, pminub),
	D(PMAXUB, pmaxub), D(PMINSW, pminsw), D(PMAXSW, pmaxsw), D(PAVGB, pavgb), D(PAVGW, pavgw),
	D(PMULLW, pmullw), D(PMULHW, pmulhw), D(PMULHUW, pmulhuw), D(PMULUDQ, pmuludq),
	D(PMADDWD, pmaddwd), D(PSADBW, psadbw), D(PUNPCKLBW, punpcklbw), D(PUNPCKLWD, punpcklwd),
	D(PUNPCKLDQ, punpckldq), D(PUNPCKHBW, punpckhbw), D(PUNPCKHWD, punpckhwd),
	D(PUNPCKHDQ, punpckhdq), D(PACKSSWB, packsswb), D(PACKSSDW, packssdw),
	D(PACKUSWB, packuswb), D(PSLLW, psllw), D(PSLLD, pslld), D(PSLLQ, psllq), D(PSRLW, psrlw),
	D(PSRLD, psrld), D(PSRLQ, psrlq), D(PSRAW, psraw), D(PSRAD, psrad),
	D(MOVD, movdq), D(MOVQ, movdq), D(MOVNTQ, movdq), D(MOVQ2DQ, movdq), D(MOVDQ2Q, movdq),
	D(PSHUFW, pshufw), D(PMOVMSKB, pmovmskb), D(PEXTRW, pextrw), D(PINSRW, pinsrw),
	D(MASKMOVQ, maskmovq), D(CVTPI2PS, cvtpi2ps), D(CVTPI2PD, cvtpi2pd),
	D(CVTPS2PI, cvtps2pi), D(CVTTPS2PI, cvttps2pi), D(CVTPD2PI, cvtpd2pi),
	D(CVTTPD2PI, cvttpd2pi),
	{ 0, NULL },
};

const struct soft_insn_def soft_mmx_defs[] = {
	D(EMMS, emms), D(CVTPI2PS, cvtpi2ps), D(CVTPI2PD, cvtpi2pd),
	{ 0, NULL },
};
