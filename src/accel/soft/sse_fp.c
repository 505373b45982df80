/* SSE/SSE2 floating point: packed and scalar add/sub/mul/div/min/max/sqrt, reciprocal
 * estimates, CMPccPS/PD/SS/SD, COMIS/UCOMIS, SHUFPS/SHUFPD and the FP unpacks. Arithmetic goes
 * through the host's SSE2 intrinsics (x86-64 host), so NaN propagation, signed zeros and
 * rounding match hardware bit for bit. The host MXCSR carries the guest's rounding control,
 * FTZ/DAZ and flags during a run (soft_mxcsr_push/pull); unmasked exceptions raise #XM
 * (soft_fpx_begin/end, soft_fpx_fault, soft_fpx_check here). */
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
		uint32_t x_ = soft_fpx_begin(c);                                          \
		__m128 a = LDPS(d), b = LDPS(&bv);                                        \
		SOFT_FPX_BARRIER(a);                                                       \
		SOFT_FPX_BARRIER(b);                                                       \
		__m128 res_ = expr;                                                         \
		SOFT_FPX_BARRIER(res_);                                                      \
		soft_fpx_end(c, x_);                                                       \
		_mm_storeu_ps(d->f, res_);                                                \
	}
#define BINPD(name, expr)                                                                  \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm bv = soft_xsrc(c, op, 1);                                   \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		uint32_t x_ = soft_fpx_begin(c);                                          \
		__m128d a = LDPD(d), b = LDPD(&bv);                                        \
		SOFT_FPX_BARRIER(a);                                                       \
		SOFT_FPX_BARRIER(b);                                                       \
		__m128d res_ = expr;                                                         \
		SOFT_FPX_BARRIER(res_);                                                      \
		soft_fpx_end(c, x_);                                                       \
		_mm_storeu_pd(d->df, res_);                                                \
	}

/* Commutative operations go through inline asm: the compiler may swap the operands of the
 * intrinsics, which changes which NaN propagates. */
#define ASM2(insn, T, a, b) ({ T r_ = (a); __asm__(insn " %1, %0" : "+x"(r_) : "x"(b)); r_; })

/* The operations that can overflow or underflow (see struct soft_fpx_op). */
#define OU(name, T, CI, CO, w, lanes, kind, expr)                                          \
	static __m128i f_##name(__m128i ai, __m128i bi)                                    \
	{                                                                                  \
		T a = CI(ai), b = CI(bi);                                                  \
		return CO(expr);                                                           \
	}                                                                                  \
	static const struct soft_fpx_op fx_##name = { f_##name, w, w, lanes, kind };       \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		soft_fpx_binop(c, op, &fx_##name);                                         \
	}
#define OUPS(name, lanes, k, expr)                                                         \
	OU(name, __m128, _mm_castsi128_ps, _mm_castps_si128, 4, lanes, SOFT_FPX_##k, expr)
#define OUPD(name, lanes, k, expr)                                                         \
	OU(name, __m128d, _mm_castsi128_pd, _mm_castpd_si128, 8, lanes, SOFT_FPX_##k, expr)

OUPS(addps, 4, ADD, ASM2("addps", __m128, a, b)) OUPS(subps, 4, SUB, _mm_sub_ps(a, b))
OUPS(mulps, 4, MUL, ASM2("mulps", __m128, a, b)) OUPS(divps, 4, DIV, _mm_div_ps(a, b))
OUPS(addss, 1, ADD, ASM2("addss", __m128, a, b)) OUPS(subss, 1, SUB, _mm_sub_ss(a, b))
OUPS(mulss, 1, MUL, ASM2("mulss", __m128, a, b)) OUPS(divss, 1, DIV, _mm_div_ss(a, b))
OUPD(addpd, 2, ADD, ASM2("addpd", __m128d, a, b)) OUPD(subpd, 2, SUB, _mm_sub_pd(a, b))
OUPD(mulpd, 2, MUL, ASM2("mulpd", __m128d, a, b)) OUPD(divpd, 2, DIV, _mm_div_pd(a, b))
OUPD(addsd, 1, ADD, ASM2("addsd", __m128d, a, b)) OUPD(subsd, 1, SUB, _mm_sub_sd(a, b))
OUPD(mulsd, 1, MUL, ASM2("mulsd", __m128d, a, b)) OUPD(divsd, 1, DIV, _mm_div_sd(a, b))

BINPS(minps, _mm_min_ps(a, b)) BINPS(maxps, _mm_max_ps(a, b))
BINPS(minss, _mm_min_ss(a, b)) BINPS(maxss, _mm_max_ss(a, b))
BINPS(sqrtps, _mm_sqrt_ps(b)) BINPS(sqrtss, _mm_move_ss(a, _mm_sqrt_ss(b)))
BINPS(rcpps, _mm_rcp_ps(b)) BINPS(rcpss, _mm_move_ss(a, _mm_rcp_ss(b)))
BINPS(rsqrtps, _mm_rsqrt_ps(b)) BINPS(rsqrtss, _mm_move_ss(a, _mm_rsqrt_ss(b)))
BINPS(unpcklps, _mm_unpacklo_ps(a, b)) BINPS(unpckhps, _mm_unpackhi_ps(a, b))
BINPD(minpd, _mm_min_pd(a, b)) BINPD(maxpd, _mm_max_pd(a, b))
BINPD(minsd, _mm_min_sd(a, b)) BINPD(maxsd, _mm_max_sd(a, b))
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
		uint32_t x_ = soft_fpx_begin(c);                                           \
		T a = LD(d), b = LD(&bv);                                                  \
		SOFT_FPX_BARRIER(a);                                                       \
		SOFT_FPX_BARRIER(b);                                                       \
		unsigned p = (unsigned)op->imm & 7;                                        \
		T res_ = CMP_SEL(W, T, a, b, p);                                             \
		SOFT_FPX_BARRIER(res_);                                                      \
		soft_fpx_end(c, x_);                                                       \
		ST(d, res_);                                                                 \
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
		uint32_t x_ = soft_fpx_begin(c);                                           \
		__asm__ volatile(insn " %2, %1\n\tpushfq\n\tpopq %0" : "=r"(hf) : "x"(x), "x"(y) : "cc"); \
		soft_fpx_end(c, x_);                                                       \
		uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ARITH_FLAGS;              \
		soft_flags_set(c, f | (hf & (SOFT_ZF | SOFT_PF | SOFT_CF)));               \
	}
COMI(comiss, "comiss", float, f) COMI(ucomiss, "ucomiss", float, f)
COMI(comisd, "comisd", double, df) COMI(ucomisd, "ucomisd", double, df)

/* #XM (see soft_fpx_begin): as on hardware, when an unmasked pre-computation exception
 * (invalid, denormal, divide-by-zero) occurs in any element, only the pre-computation flags are
 * set and nothing is computed; otherwise every flag the (masked) computation raised is set.
 * Either way the destination is left unchanged. */
_Noreturn void soft_fpx_fault(struct soft_cpu *c, uint32_t saved, uint32_t raised)
{
	uint32_t unmasked = ~(c->mxcsr >> 7) & 0x3fu, pre = raised & 0x7u;
	uint32_t report = (pre & unmasked) ? pre : raised;
	_mm_setcsr((saved & ~SOFT_FPX_ACTIVE) | report);
	soft_raise(c, SOFT_VEC_XM, 0, 0);
}

/* v with every element but i (w bytes wide) replaced by 1.0, which every operation of a
 * soft_fpx_op handles exactly. */
static __m128i one_lane(__m128i v, unsigned w, unsigned i)
{
	union soft_xmm u;
	_mm_storeu_si128((__m128i *)u.b, v);
	for (unsigned j = 0; j < 16 / w; j++)
		if (j != i) {
			if (w == 4)
				u.f[j] = 1.0f;
			else
				u.df[j] = 1.0;
		}
	return _mm_loadu_si128((const __m128i *)u.b);
}

/* Whether element i of a op b (struct soft_fpx_op), rounded to the destination's precision
 * with an unbounded exponent, is inexact: computed in the host's x87 extended precision (wide
 * enough in range; for precision, an inexact extended result is inexact at any narrower one,
 * and an exact one is checked for significant bits beyond the destination's). */
static bool wide_inexact(const struct soft_fpx_op *d, __m128i a, __m128i b, unsigned i)
{
	union soft_xmm ua, ub;
	_mm_storeu_si128((__m128i *)ua.b, a);
	_mm_storeu_si128((__m128i *)ub.b, b);
	volatile long double x = d->in_w == 4 ? (long double)ua.f[i] : (long double)ua.df[i];
	volatile long double y = d->in_w == 4 ? (long double)ub.f[i] : (long double)ub.df[i];
	volatile long double r;
	uint16_t sw;
	__asm__ volatile("fnclex" ::: "memory");
	switch (d->kind) {
	case SOFT_FPX_ADD: r = x + y; break;
	case SOFT_FPX_SUB: r = x - y; break;
	case SOFT_FPX_MUL: r = x * y; break;
	case SOFT_FPX_DIV: r = x / y; break;
	default: r = y; break;
	}
	__asm__ volatile("fnstsw %0" : "=am"(sw) : : "memory");
	long double rv = r;
	uint64_t mant;
	memcpy(&mant, &rv, 8);
	unsigned extra = d->out_w == 4 ? 40 : 11;
	return (sw & 0x20) || (mant & ((1ull << extra) - 1));
}

static bool lane_denormal(__m128i v, unsigned w, unsigned i)
{
	union soft_xmm u;
	_mm_storeu_si128((__m128i *)u.b, v);
	if (w == 4)
		return !(u.d[i] & 0x7f800000u) && (u.d[i] & 0x7fffffu);
	return !(u.q[i] & 0x7ff0000000000000ull) && (u.q[i] & 0xfffffffffffffull);
}

/* The exact #XM decision for an operation that can overflow/underflow (struct soft_fpx_op):
 * with no unmasked pre-computation exception, each element is recomputed alone; an element
 * whose overflow or underflow is unmasked reports precision as wide_inexact finds it, and with
 * underflow unmasked
 * a denormal (exact tiny) result is an underflow too (with underflow unmasked hardware does
 * not flush to zero, so the masked result shows it). Returns, flags merged, when nothing
 * unmasked occurred. */
void soft_fpx_check(struct soft_cpu *c, uint32_t saved, uint32_t raised,
		    const struct soft_fpx_op *d, __m128i a, __m128i b)
{
	uint32_t unmasked = ~(c->mxcsr >> 7) & 0x3fu, base = saved & ~SOFT_FPX_ACTIVE;
	if (!(raised & unmasked & 0x7u)) {
		uint32_t report = 0;
		for (unsigned i = 0; i < d->lanes; i++) {
			__m128i ai = one_lane(a, d->in_w, i), bi = one_lane(b, d->in_w, i);
			_mm_setcsr(base & ~0x3fu);
			SOFT_FPX_BARRIER(ai);
			SOFT_FPX_BARRIER(bi);
			__m128i r = d->fn(ai, bi);
			SOFT_FPX_BARRIER(r);
			uint32_t f = _mm_getcsr() & 0x3fu;
			if ((unmasked & 0x10u) && !(f & 0x10u) && lane_denormal(r, d->out_w, i))
				f |= 0x10u;
			if (f & unmasked & 0x18u)
				f = (f & ~0x20u) | (wide_inexact(d, a, b, i) ? 0x20u : 0);
			report |= f;
		}
		if (!(report & unmasked)) {
			_mm_setcsr(base | raised);
			return;
		}
		raised = report;
	}
	soft_fpx_fault(c, saved, raised);
}

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
