/* SSE/SSE2 floating point: packed and scalar add/sub/mul/div/min/max/sqrt, reciprocal
 * estimates, CMPccPS/PD/SS/SD, COMIS/UCOMIS, SHUFPS/SHUFPD and the FP unpacks. Arithmetic goes
 * through the host's SSE2 intrinsics (x86-64 host), so NaN propagation, signed zeros and
 * rounding match hardware bit for bit. The host MXCSR carries the guest's rounding control, FTZ/DAZ and flags during a run
 * (soft_mxcsr_push/pull). */
#include <emmintrin.h>

#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

#define LDPS(x) _mm_loadu_ps((x)->f)
#define LDPD(x) _mm_loadu_pd((x)->df)

#define BINPS(name, expr)                                                                  \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm bv = soft_xsrc(c, op, 1);                                   \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		__m128 a = LDPS(d), b = LDPS(&bv);                                         \
		(void)a;                                                                   \
		_mm_storeu_ps(d->f, expr);                                                 \
	}
#define BINPD(name, expr)                                                                  \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm bv = soft_xsrc(c, op, 1);                                   \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		__m128d a = LDPD(d), b = LDPD(&bv);                                        \
		(void)a;                                                                   \
		_mm_storeu_pd(d->df, expr);                                                \
	}

/* Commutative operations go through inline asm: the compiler may swap the operands of the
 * intrinsics, which changes which NaN propagates. */
#define ASM2(insn, T, a, b) ({ T r_ = (a); __asm__(insn " %1, %0" : "+x"(r_) : "x"(b)); r_; })

BINPS(addps, ASM2("addps", __m128, a, b)) BINPS(subps, _mm_sub_ps(a, b))
BINPS(mulps, ASM2("mulps", __m128, a, b))
BINPS(divps, _mm_div_ps(a, b)) BINPS(minps, _mm_min_ps(a, b)) BINPS(maxps, _mm_max_ps(a, b))
BINPS(addss, ASM2("addss", __m128, a, b)) BINPS(subss, _mm_sub_ss(a, b))
BINPS(mulss, ASM2("mulss", __m128, a, b))
BINPS(divss, _mm_div_ss(a, b)) BINPS(minss, _mm_min_ss(a, b)) BINPS(maxss, _mm_max_ss(a, b))
BINPS(sqrtps, _mm_sqrt_ps(b)) BINPS(sqrtss, _mm_move_ss(a, _mm_sqrt_ss(b)))
BINPS(rcpps, _mm_rcp_ps(b)) BINPS(rcpss, _mm_move_ss(a, _mm_rcp_ss(b)))
BINPS(rsqrtps, _mm_rsqrt_ps(b)) BINPS(rsqrtss, _mm_move_ss(a, _mm_rsqrt_ss(b)))
BINPS(unpcklps, _mm_unpacklo_ps(a, b)) BINPS(unpckhps, _mm_unpackhi_ps(a, b))
BINPD(addpd, ASM2("addpd", __m128d, a, b)) BINPD(subpd, _mm_sub_pd(a, b))
BINPD(mulpd, ASM2("mulpd", __m128d, a, b))
BINPD(divpd, _mm_div_pd(a, b)) BINPD(minpd, _mm_min_pd(a, b)) BINPD(maxpd, _mm_max_pd(a, b))
BINPD(addsd, ASM2("addsd", __m128d, a, b)) BINPD(subsd, _mm_sub_sd(a, b))
BINPD(mulsd, ASM2("mulsd", __m128d, a, b))
BINPD(divsd, _mm_div_sd(a, b)) BINPD(minsd, _mm_min_sd(a, b)) BINPD(maxsd, _mm_max_sd(a, b))
BINPD(sqrtpd, _mm_sqrt_pd(b)) BINPD(sqrtsd, _mm_sqrt_sd(a, b))
BINPD(unpcklpd, _mm_unpacklo_pd(a, b)) BINPD(unpckhpd, _mm_unpackhi_pd(a, b))

/* CMPccPS/PD/SS/SD through the host instruction with the same predicate (bits 2:0 of the
 * immediate), so results and MXCSR flags (invalid on QNaN for the signalling predicates,
 * denormal) are exactly the hardware's. */
#define CMP_SEL(W, T, a, b, pred)                                                          \
	((pred) == 0 ? _mm_cmpeq_##W(a, b) : (pred) == 1 ? _mm_cmplt_##W(a, b)             \
	 : (pred) == 2 ? _mm_cmple_##W(a, b) : (pred) == 3 ? _mm_cmpunord_##W(a, b)        \
	 : (pred) == 4 ? _mm_cmpneq_##W(a, b) : (pred) == 5 ? _mm_cmpnlt_##W(a, b)         \
	 : (pred) == 6 ? _mm_cmpnle_##W(a, b) : _mm_cmpord_##W(a, b))
#define CMPF(name, W, T, LD, ST)                                                           \
	static void name(struct soft_cpu *c, const struct soft_op *op)                     \
	{                                                                                  \
		union soft_xmm bv = soft_xsrc(c, op, 1), *d = soft_xreg(c, op, 0);         \
		T a = LD(d), b = LD(&bv);                                                  \
		unsigned p = (unsigned)op->imm & 7;                                        \
		ST(d, CMP_SEL(W, T, a, b, p));                                             \
	}
#define STPS(x, v) _mm_storeu_ps((x)->f, v)
#define STPD(x, v) _mm_storeu_pd((x)->df, v)
CMPF(h_cmpps, ps, __m128, LDPS, STPS) CMPF(h_cmpss, ss, __m128, LDPS, STPS)
CMPF(h_cmppd, pd, __m128d, LDPD, STPD) CMPF(cmp_sd, sd, __m128d, LDPD, STPD)
void soft_h_cmpsd_sse(struct soft_cpu *c, const struct soft_op *op)
{
	cmp_sd(c, op);
	SOFT_NEXT(c, op);
}

/* COMIS/UCOMIS through the host instruction itself: the ordered forms signal invalid on QNaN
 * operands, the unordered ones only on SNaN, and the flags land in the guest MXCSR. */
#define COMI(name, insn, T, lane)                                                          \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm b = soft_xsrc(c, op, 1);                                    \
		T x = c->xmm[op->o[0].reg].lane[0], y = b.lane[0];                         \
		uint64_t hf;                                                               \
		__asm__ volatile(insn " %2, %1\n\tpushfq\n\tpopq %0" : "=r"(hf) : "x"(x), "x"(y) : "cc"); \
		uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ARITH_FLAGS;              \
		soft_flags_set(c, f | (hf & (SOFT_ZF | SOFT_PF | SOFT_CF)));               \
	}
COMI(comiss, "comiss", float, f) COMI(ucomiss, "ucomiss", float, f)
COMI(comisd, "comisd", double, df) COMI(ucomisd, "ucomisd", double, df)

static void h_shufps(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm b = soft_xsrc(c, op, 1), *d = soft_xreg(c, op, 0), r;
	unsigned i = (unsigned)op->imm;
	r.d[0] = d->d[i & 3];
	r.d[1] = d->d[(i >> 2) & 3];
	r.d[2] = b.d[(i >> 4) & 3];
	r.d[3] = b.d[(i >> 6) & 3];
	*d = r;
}

static void h_shufpd(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm b = soft_xsrc(c, op, 1), *d = soft_xreg(c, op, 0), r;
	r.q[0] = d->q[op->imm & 1];
	r.q[1] = b.q[(op->imm >> 1) & 1];
	*d = r;
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_addps)
SOFT_THREADED(h_subps)
SOFT_THREADED(h_mulps)
SOFT_THREADED(h_divps)
SOFT_THREADED(h_minps)
SOFT_THREADED(h_maxps)
SOFT_THREADED(h_addss)
SOFT_THREADED(h_subss)
SOFT_THREADED(h_mulss)
SOFT_THREADED(h_divss)
SOFT_THREADED(h_minss)
SOFT_THREADED(h_maxss)
SOFT_THREADED(h_sqrtps)
SOFT_THREADED(h_sqrtss)
SOFT_THREADED(h_rcpps)
SOFT_THREADED(h_rcpss)
SOFT_THREADED(h_rsqrtps)
SOFT_THREADED(h_rsqrtss)
SOFT_THREADED(h_unpcklps)
SOFT_THREADED(h_unpckhps)
SOFT_THREADED(h_addpd)
SOFT_THREADED(h_subpd)
SOFT_THREADED(h_mulpd)
SOFT_THREADED(h_divpd)
SOFT_THREADED(h_minpd)
SOFT_THREADED(h_maxpd)
SOFT_THREADED(h_addsd)
SOFT_THREADED(h_subsd)
SOFT_THREADED(h_mulsd)
SOFT_THREADED(h_divsd)
SOFT_THREADED(h_minsd)
SOFT_THREADED(h_maxsd)
SOFT_THREADED(h_sqrtpd)
SOFT_THREADED(h_sqrtsd)
SOFT_THREADED(h_unpcklpd)
SOFT_THREADED(h_unpckhpd)
SOFT_THREADED(h_cmpps)
SOFT_THREADED(h_cmpss)
SOFT_THREADED(h_cmppd)
SOFT_THREADED(h_comiss)
SOFT_THREADED(h_comisd)
SOFT_THREADED(h_ucomiss)
SOFT_THREADED(h_ucomisd)
SOFT_THREADED(h_shufps)
SOFT_THREADED(h_shufpd)

const struct soft_insn_def soft_sse_fp_defs[] = {
	{ ZYDIS_MNEMONIC_ADDPS, h_addps_t }, { ZYDIS_MNEMONIC_SUBPS, h_subps_t },
	{ ZYDIS_MNEMONIC_MULPS, h_mulps_t }, { ZYDIS_MNEMONIC_DIVPS, h_divps_t },
	{ ZYDIS_MNEMONIC_MINPS, h_minps_t }, { ZYDIS_MNEMONIC_MAXPS, h_maxps_t },
	{ ZYDIS_MNEMONIC_ADDSS, h_addss_t }, { ZYDIS_MNEMONIC_SUBSS, h_subss_t },
	{ ZYDIS_MNEMONIC_MULSS, h_mulss_t }, { ZYDIS_MNEMONIC_DIVSS, h_divss_t },
	{ ZYDIS_MNEMONIC_MINSS, h_minss_t }, { ZYDIS_MNEMONIC_MAXSS, h_maxss_t },
	{ ZYDIS_MNEMONIC_SQRTPS, h_sqrtps_t }, { ZYDIS_MNEMONIC_SQRTSS, h_sqrtss_t },
	{ ZYDIS_MNEMONIC_RCPPS, h_rcpps_t }, { ZYDIS_MNEMONIC_RCPSS, h_rcpss_t },
	{ ZYDIS_MNEMONIC_RSQRTPS, h_rsqrtps_t }, { ZYDIS_MNEMONIC_RSQRTSS, h_rsqrtss_t },
	{ ZYDIS_MNEMONIC_UNPCKLPS, h_unpcklps_t }, { ZYDIS_MNEMONIC_UNPCKHPS, h_unpckhps_t },
	{ ZYDIS_MNEMONIC_ADDPD, h_addpd_t }, { ZYDIS_MNEMONIC_SUBPD, h_subpd_t },
	{ ZYDIS_MNEMONIC_MULPD, h_mulpd_t }, { ZYDIS_MNEMONIC_DIVPD, h_divpd_t },
	{ ZYDIS_MNEMONIC_MINPD, h_minpd_t }, { ZYDIS_MNEMONIC_MAXPD, h_maxpd_t },
	{ ZYDIS_MNEMONIC_ADDSD, h_addsd_t }, { ZYDIS_MNEMONIC_SUBSD, h_subsd_t },
	{ ZYDIS_MNEMONIC_MULSD, h_mulsd_t }, { ZYDIS_MNEMONIC_DIVSD, h_divsd_t },
	{ ZYDIS_MNEMONIC_MINSD, h_minsd_t }, { ZYDIS_MNEMONIC_MAXSD, h_maxsd_t },
	{ ZYDIS_MNEMONIC_SQRTPD, h_sqrtpd_t }, { ZYDIS_MNEMONIC_SQRTSD, h_sqrtsd_t },
	{ ZYDIS_MNEMONIC_UNPCKLPD, h_unpcklpd_t }, { ZYDIS_MNEMONIC_UNPCKHPD, h_unpckhpd_t },
	{ ZYDIS_MNEMONIC_CMPPS, h_cmpps_t }, { ZYDIS_MNEMONIC_CMPSS, h_cmpss_t },
	{ ZYDIS_MNEMONIC_CMPPD, h_cmppd_t },
	{ ZYDIS_MNEMONIC_COMISS, h_comiss_t }, { ZYDIS_MNEMONIC_UCOMISS, h_ucomiss_t },
	{ ZYDIS_MNEMONIC_COMISD, h_comisd_t }, { ZYDIS_MNEMONIC_UCOMISD, h_ucomisd_t },
	{ ZYDIS_MNEMONIC_SHUFPS, h_shufps_t }, { ZYDIS_MNEMONIC_SHUFPD, h_shufpd_t },
	{ 0, NULL },
};
