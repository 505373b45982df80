/* SSE2 packed-integer family: add/sub (wrapping and saturating), compares, logic (also the
 * bitwise PS/PD forms), min/max/avg, multiplies, PSADBW, shifts by register/immediate and the
 * byte shifts, unpacks, packs and shuffles. Lane arithmetic uses the SSE2 intrinsics of the
 * x86-64 host, which define every edge case exactly as the guest expects. */
#include <emmintrin.h>

#include <Zydis/Zydis.h>

#include "accel/soft/simd_int_ops.h"
#include "accel/soft/soft_internal.h"

static inline __m128i ld(const union soft_xmm *x) { return _mm_loadu_si128((const __m128i *)x->b); }
static inline void st(union soft_xmm *x, __m128i v) { _mm_storeu_si128((__m128i *)x->b, v); }

#define BIN(name, expr)                                                                    \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm bv = soft_xsrc(c, op, 1);                                   \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		__m128i a = ld(d), b = ld(&bv);                                            \
		st(d, expr);                                                               \
	}

SOFT_SIMD_INT_LANE_OPS(BIN)
BIN(punpcklqdq, _mm_unpacklo_epi64(a, b))
BIN(punpckhbw, _mm_unpackhi_epi8(a, b)) BIN(punpckhwd, _mm_unpackhi_epi16(a, b))
BIN(punpckhdq, _mm_unpackhi_epi32(a, b)) BIN(punpckhqdq, _mm_unpackhi_epi64(a, b))
BIN(packsswb, _mm_packs_epi16(a, b)) BIN(packssdw, _mm_packs_epi32(a, b))
BIN(packuswb, _mm_packus_epi16(a, b))

/* Shift count: immediate form or the low 64 bits of an XMM/m128 source. */
static __m128i shift_count(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->o[1].kind == SOFT_OPND_IMM)
		return _mm_cvtsi64_si128((long long)(op->imm & 0xff));
	union soft_xmm v = soft_xsrc(c, op, 1);
	return ld(&v);
}

#define SHIFT(name, fn)                                                                    \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		st(d, fn(ld(d), shift_count(c, op)));                                      \
	}

SHIFT(psllw, _mm_sll_epi16) SHIFT(pslld, _mm_sll_epi32) SHIFT(psllq, _mm_sll_epi64)
SHIFT(psrlw, _mm_srl_epi16) SHIFT(psrld, _mm_srl_epi32) SHIFT(psrlq, _mm_srl_epi64)
SHIFT(psraw, _mm_sra_epi16) SHIFT(psrad, _mm_sra_epi32)

static void h_pslldq(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm *d = soft_xreg(c, op, 0), r = { .q = { 0, 0 } };
	unsigned n = (unsigned)(op->imm & 0xff);
	for (unsigned i = n; i < 16; i++)
		r.b[i] = d->b[i - n];
	*d = r;
}

static void h_psrldq(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm *d = soft_xreg(c, op, 0), r = { .q = { 0, 0 } };
	unsigned n = (unsigned)(op->imm & 0xff);
	for (unsigned i = 0; i + n < 16; i++)
		r.b[i] = d->b[i + n];
	*d = r;
}

static void h_pshufd(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm s = soft_xsrc(c, op, 1), r;
	for (unsigned i = 0; i < 4; i++)
		r.d[i] = s.d[(op->imm >> (2 * i)) & 3];
	c->xmm[op->o[0].reg] = r;
}

static void h_pshuflw(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm s = soft_xsrc(c, op, 1), r = s;
	for (unsigned i = 0; i < 4; i++)
		r.w[i] = s.w[(op->imm >> (2 * i)) & 3];
	c->xmm[op->o[0].reg] = r;
}

static void h_pshufhw(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm s = soft_xsrc(c, op, 1), r = s;
	for (unsigned i = 0; i < 4; i++)
		r.w[4 + i] = s.w[4 + ((op->imm >> (2 * i)) & 3)];
	c->xmm[op->o[0].reg] = r;
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_paddb)
SOFT_THREADED(h_paddw)
SOFT_THREADED(h_paddd)
SOFT_THREADED(h_paddq)
SOFT_THREADED(h_psubb)
SOFT_THREADED(h_psubw)
SOFT_THREADED(h_psubd)
SOFT_THREADED(h_psubq)
SOFT_THREADED(h_paddsb)
SOFT_THREADED(h_paddsw)
SOFT_THREADED(h_paddusb)
SOFT_THREADED(h_paddusw)
SOFT_THREADED(h_psubsb)
SOFT_THREADED(h_psubsw)
SOFT_THREADED(h_psubusb)
SOFT_THREADED(h_psubusw)
SOFT_THREADED(h_pcmpeqb)
SOFT_THREADED(h_pcmpeqw)
SOFT_THREADED(h_pcmpeqd)
SOFT_THREADED(h_pcmpgtb)
SOFT_THREADED(h_pcmpgtw)
SOFT_THREADED(h_pcmpgtd)
SOFT_THREADED(h_pand)
SOFT_THREADED(h_pandn)
SOFT_THREADED(h_por)
SOFT_THREADED(h_pxor)
SOFT_THREADED(h_pminub)
SOFT_THREADED(h_pmaxub)
SOFT_THREADED(h_pminsw)
SOFT_THREADED(h_pmaxsw)
SOFT_THREADED(h_pavgb)
SOFT_THREADED(h_pavgw)
SOFT_THREADED(h_pmullw)
SOFT_THREADED(h_pmulhw)
SOFT_THREADED(h_pmulhuw)
SOFT_THREADED(h_pmuludq)
SOFT_THREADED(h_pmaddwd)
SOFT_THREADED(h_psadbw)
SOFT_THREADED(h_punpcklbw)
SOFT_THREADED(h_punpcklwd)
SOFT_THREADED(h_punpckldq)
SOFT_THREADED(h_punpcklqdq)
SOFT_THREADED(h_punpckhbw)
SOFT_THREADED(h_punpckhwd)
SOFT_THREADED(h_punpckhdq)
SOFT_THREADED(h_punpckhqdq)
SOFT_THREADED(h_packsswb)
SOFT_THREADED(h_packssdw)
SOFT_THREADED(h_packuswb)
SOFT_THREADED(h_psllw)
SOFT_THREADED(h_pslld)
SOFT_THREADED(h_psllq)
SOFT_THREADED(h_psrlw)
SOFT_THREADED(h_psrld)
SOFT_THREADED(h_psrlq)
SOFT_THREADED(h_psraw)
SOFT_THREADED(h_psrad)
SOFT_THREADED(h_pslldq)
SOFT_THREADED(h_psrldq)
SOFT_THREADED(h_pshufd)
SOFT_THREADED(h_pshuflw)
SOFT_THREADED(h_pshufhw)

const struct soft_insn_def soft_sse_int_defs[] = {
	{ ZYDIS_MNEMONIC_PADDB, h_paddb_t }, { ZYDIS_MNEMONIC_PADDW, h_paddw_t },
	{ ZYDIS_MNEMONIC_PADDD, h_paddd_t }, { ZYDIS_MNEMONIC_PADDQ, h_paddq_t },
	{ ZYDIS_MNEMONIC_PSUBB, h_psubb_t }, { ZYDIS_MNEMONIC_PSUBW, h_psubw_t },
	{ ZYDIS_MNEMONIC_PSUBD, h_psubd_t }, { ZYDIS_MNEMONIC_PSUBQ, h_psubq_t },
	{ ZYDIS_MNEMONIC_PADDSB, h_paddsb_t }, { ZYDIS_MNEMONIC_PADDSW, h_paddsw_t },
	{ ZYDIS_MNEMONIC_PADDUSB, h_paddusb_t }, { ZYDIS_MNEMONIC_PADDUSW, h_paddusw_t },
	{ ZYDIS_MNEMONIC_PSUBSB, h_psubsb_t }, { ZYDIS_MNEMONIC_PSUBSW, h_psubsw_t },
	{ ZYDIS_MNEMONIC_PSUBUSB, h_psubusb_t }, { ZYDIS_MNEMONIC_PSUBUSW, h_psubusw_t },
	{ ZYDIS_MNEMONIC_PCMPEQB, h_pcmpeqb_t }, { ZYDIS_MNEMONIC_PCMPEQW, h_pcmpeqw_t },
	{ ZYDIS_MNEMONIC_PCMPEQD, h_pcmpeqd_t }, { ZYDIS_MNEMONIC_PCMPGTB, h_pcmpgtb_t },
	{ ZYDIS_MNEMONIC_PCMPGTW, h_pcmpgtw_t }, { ZYDIS_MNEMONIC_PCMPGTD, h_pcmpgtd_t },
	{ ZYDIS_MNEMONIC_PAND, h_pand_t }, { ZYDIS_MNEMONIC_PANDN, h_pandn_t },
	{ ZYDIS_MNEMONIC_POR, h_por_t }, { ZYDIS_MNEMONIC_PXOR, h_pxor_t },
	{ ZYDIS_MNEMONIC_ANDPS, h_pand_t }, { ZYDIS_MNEMONIC_ANDPD, h_pand_t },
	{ ZYDIS_MNEMONIC_ANDNPS, h_pandn_t }, { ZYDIS_MNEMONIC_ANDNPD, h_pandn_t },
	{ ZYDIS_MNEMONIC_ORPS, h_por_t }, { ZYDIS_MNEMONIC_ORPD, h_por_t },
	{ ZYDIS_MNEMONIC_XORPS, h_pxor_t }, { ZYDIS_MNEMONIC_XORPD, h_pxor_t },
	{ ZYDIS_MNEMONIC_PMINUB, h_pminub_t }, { ZYDIS_MNEMONIC_PMAXUB, h_pmaxub_t },
	{ ZYDIS_MNEMONIC_PMINSW, h_pminsw_t }, { ZYDIS_MNEMONIC_PMAXSW, h_pmaxsw_t },
	{ ZYDIS_MNEMONIC_PAVGB, h_pavgb_t }, { ZYDIS_MNEMONIC_PAVGW, h_pavgw_t },
	{ ZYDIS_MNEMONIC_PMULLW, h_pmullw_t }, { ZYDIS_MNEMONIC_PMULHW, h_pmulhw_t },
	{ ZYDIS_MNEMONIC_PMULHUW, h_pmulhuw_t }, { ZYDIS_MNEMONIC_PMULUDQ, h_pmuludq_t },
	{ ZYDIS_MNEMONIC_PMADDWD, h_pmaddwd_t }, { ZYDIS_MNEMONIC_PSADBW, h_psadbw_t },
	{ ZYDIS_MNEMONIC_PUNPCKLBW, h_punpcklbw_t }, { ZYDIS_MNEMONIC_PUNPCKLWD, h_punpcklwd_t },
	{ ZYDIS_MNEMONIC_PUNPCKLDQ, h_punpckldq_t }, { ZYDIS_MNEMONIC_PUNPCKLQDQ, h_punpcklqdq_t },
	{ ZYDIS_MNEMONIC_PUNPCKHBW, h_punpckhbw_t }, { ZYDIS_MNEMONIC_PUNPCKHWD, h_punpckhwd_t },
	{ ZYDIS_MNEMONIC_PUNPCKHDQ, h_punpckhdq_t }, { ZYDIS_MNEMONIC_PUNPCKHQDQ, h_punpckhqdq_t },
	{ ZYDIS_MNEMONIC_PACKSSWB, h_packsswb_t }, { ZYDIS_MNEMONIC_PACKSSDW, h_packssdw_t },
	{ ZYDIS_MNEMONIC_PACKUSWB, h_packuswb_t },
	{ ZYDIS_MNEMONIC_PSLLW, h_psllw_t }, { ZYDIS_MNEMONIC_PSLLD, h_pslld_t },
	{ ZYDIS_MNEMONIC_PSLLQ, h_psllq_t }, { ZYDIS_MNEMONIC_PSRLW, h_psrlw_t },
	{ ZYDIS_MNEMONIC_PSRLD, h_psrld_t }, { ZYDIS_MNEMONIC_PSRLQ, h_psrlq_t },
	{ ZYDIS_MNEMONIC_PSRAW, h_psraw_t }, { ZYDIS_MNEMONIC_PSRAD, h_psrad_t },
	{ ZYDIS_MNEMONIC_PSLLDQ, h_pslldq_t }, { ZYDIS_MNEMONIC_PSRLDQ, h_psrldq_t },
	{ ZYDIS_MNEMONIC_PSHUFD, h_pshufd_t }, { ZYDIS_MNEMONIC_PSHUFLW, h_pshuflw_t },
	{ ZYDIS_MNEMONIC_PSHUFHW, h_pshufhw_t },
	{ 0, NULL },
};
