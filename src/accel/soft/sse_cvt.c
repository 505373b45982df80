/* SSE/SSE2 conversions between integers, single and double precision (scalar and packed,
 * rounding and truncating forms), through the host's intrinsics for exact results including
 * the "integer indefinite" value on overflow. */
#include <emmintrin.h>

#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

#define LDPS(x) _mm_loadu_ps((x)->f)
#define LDPD(x) _mm_loadu_pd((x)->df)
#define LDI(x) _mm_loadu_si128((const __m128i *)(x)->b)

static void h_cvtsi2sd(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm *d = soft_xreg(c, op, 0);
	uint64_t v = soft_rd(c, op, 1);
	uint32_t x = soft_fpx_begin(c);
	__m128d dv = LDPD(d);
	SOFT_FPX_BARRIER(dv);
	__m128d r = op->o[1].size == 8 ? _mm_cvtsi64_sd(dv, (long long)v)
				       : _mm_cvtsi32_sd(dv, (int)(uint32_t)v);
	SOFT_FPX_BARRIER(r);
	soft_fpx_end(c, x);
	_mm_storeu_pd(d->df, r);
}

static void h_cvtsi2ss(struct soft_cpu *c, const struct soft_op *op)
{
	union soft_xmm *d = soft_xreg(c, op, 0);
	uint64_t v = soft_rd(c, op, 1);
	uint32_t x = soft_fpx_begin(c);
	__m128 dv = LDPS(d);
	SOFT_FPX_BARRIER(dv);
	__m128 r = op->o[1].size == 8 ? _mm_cvtsi64_ss(dv, (long long)v)
				      : _mm_cvtsi32_ss(dv, (int)(uint32_t)v);
	SOFT_FPX_BARRIER(r);
	soft_fpx_end(c, x);
	_mm_storeu_ps(d->f, r);
}

#define TO_INT(name, T, ld, f64, f32)                                                      \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm s = soft_xsrc(c, op, 1);                                    \
		uint32_t x = soft_fpx_begin(c);                                            \
		T v = ld(&s);                                                              \
		SOFT_FPX_BARRIER(v);                                                       \
		uint64_t r = op->o[0].size == 8 ? (uint64_t)f64(v) : (uint32_t)f32(v);     \
		SOFT_FPX_BARRIER_GPR(r);                                                   \
		soft_fpx_end(c, x);                                                        \
		soft_reg_set(c, op->o[0].reg, op->o[0].size, r);                           \
	}
TO_INT(cvttsd2si, __m128d, LDPD, _mm_cvttsd_si64, _mm_cvttsd_si32)
TO_INT(cvtsd2si, __m128d, LDPD, _mm_cvtsd_si64, _mm_cvtsd_si32)
TO_INT(cvttss2si, __m128, LDPS, _mm_cvttss_si64, _mm_cvttss_si32)
TO_INT(cvtss2si, __m128, LDPS, _mm_cvtss_si64, _mm_cvtss_si32)

/* The result is computed from the raw 128-bit source and destination (r = expr over ds, ss)
 * between soft_fpx_begin and end, then stored. */
#define CVT(name, expr)                                                                    \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op)                 \
	{                                                                                  \
		union soft_xmm s = soft_xsrc(c, op, 1);                                    \
		union soft_xmm *d = soft_xreg(c, op, 0);                                   \
		uint32_t x = soft_fpx_begin(c);                                            \
		__m128i ds = LDI(d), ss = LDI(&s);                                         \
		SOFT_FPX_BARRIER(ds);                                                      \
		SOFT_FPX_BARRIER(ss);                                                      \
		__m128i r = expr;                                                          \
		SOFT_FPX_BARRIER(r);                                                       \
		soft_fpx_end(c, x);                                                        \
		_mm_storeu_si128((__m128i *)d->b, r);                                      \
	}
#define PS(v) _mm_castsi128_ps(v)
#define PD(v) _mm_castsi128_pd(v)
#define IPS(v) _mm_castps_si128(v)
#define IPD(v) _mm_castpd_si128(v)
CVT(cvtss2sd, IPD(_mm_cvtss_sd(PD(ds), PS(ss))))
CVT(cvtdq2ps, IPS(_mm_cvtepi32_ps(ss)))
CVT(cvtps2dq, _mm_cvtps_epi32(PS(ss)))
CVT(cvttps2dq, _mm_cvttps_epi32(PS(ss)))
CVT(cvtdq2pd, IPD(_mm_cvtepi32_pd(ss)))
CVT(cvtpd2dq, _mm_cvtpd_epi32(PD(ss)))
CVT(cvttpd2dq, _mm_cvttpd_epi32(PD(ss)))
CVT(cvtps2pd, IPD(_mm_cvtps_pd(PS(ss))))

/* The narrowing conversions can overflow or underflow (see struct soft_fpx_op). */
static __m128i f_cvtsd2ss(__m128i ds, __m128i ss) { return IPS(_mm_cvtsd_ss(PS(ds), PD(ss))); }
static __m128i f_cvtpd2ps(__m128i ds, __m128i ss) { (void)ds; return IPS(_mm_cvtpd_ps(PD(ss))); }
static const struct soft_fpx_op fx_cvtsd2ss = { f_cvtsd2ss, 8, 4, 1, SOFT_FPX_CVT };
static const struct soft_fpx_op fx_cvtpd2ps = { f_cvtpd2ps, 8, 4, 2, SOFT_FPX_CVT };
static void h_cvtsd2ss(struct soft_cpu *c, const struct soft_op *op) { soft_fpx_binop(c, op, &fx_cvtsd2ss); }
static void h_cvtpd2ps(struct soft_cpu *c, const struct soft_op *op) { soft_fpx_binop(c, op, &fx_cvtpd2ps); }

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_cvtsi2sd)
SOFT_THREADED(h_cvtsi2ss)
SOFT_THREADED(h_cvttsd2si)
SOFT_THREADED(h_cvtsd2si)
SOFT_THREADED(h_cvttss2si)
SOFT_THREADED(h_cvtss2si)
SOFT_THREADED(h_cvtss2sd)
SOFT_THREADED(h_cvtsd2ss)
SOFT_THREADED(h_cvtdq2ps)
SOFT_THREADED(h_cvtps2dq)
SOFT_THREADED(h_cvttps2dq)
SOFT_THREADED(h_cvtdq2pd)
SOFT_THREADED(h_cvtpd2dq)
SOFT_THREADED(h_cvttpd2dq)
SOFT_THREADED(h_cvtps2pd)
SOFT_THREADED(h_cvtpd2ps)

const struct soft_insn_def soft_sse_cvt_defs[] = {
	{ ZYDIS_MNEMONIC_CVTSI2SD, h_cvtsi2sd_t }, { ZYDIS_MNEMONIC_CVTSI2SS, h_cvtsi2ss_t },
	{ ZYDIS_MNEMONIC_CVTTSD2SI, h_cvttsd2si_t }, { ZYDIS_MNEMONIC_CVTSD2SI, h_cvtsd2si_t },
	{ ZYDIS_MNEMONIC_CVTTSS2SI, h_cvttss2si_t }, { ZYDIS_MNEMONIC_CVTSS2SI, h_cvtss2si_t },
	{ ZYDIS_MNEMONIC_CVTSS2SD, h_cvtss2sd_t }, { ZYDIS_MNEMONIC_CVTSD2SS, h_cvtsd2ss_t },
	{ ZYDIS_MNEMONIC_CVTDQ2PS, h_cvtdq2ps_t }, { ZYDIS_MNEMONIC_CVTPS2DQ, h_cvtps2dq_t },
	{ ZYDIS_MNEMONIC_CVTTPS2DQ, h_cvttps2dq_t }, { ZYDIS_MNEMONIC_CVTDQ2PD, h_cvtdq2pd_t },
	{ ZYDIS_MNEMONIC_CVTPD2DQ, h_cvtpd2dq_t }, { ZYDIS_MNEMONIC_CVTTPD2DQ, h_cvttpd2dq_t },
	{ ZYDIS_MNEMONIC_CVTPS2PD, h_cvtps2pd_t }, { ZYDIS_MNEMONIC_CVTPD2PS, h_cvtpd2ps_t },
	{ 0, NULL },
};
