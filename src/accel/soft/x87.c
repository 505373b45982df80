/* x87 family, enough for glibc and compiled long double code: loads/stores of every memory
 * format, integer loads/stores with the control word's rounding, arithmetic in all operand
 * forms, compares (FCOM*, FUCOM*, FCOMI*, FTST, FXAM), constants, transcendental helpers,
 * control/status/environment access, FCMOVcc, and FXSAVE/FXRSTOR. Registers are host 80-bit
 * long doubles; the arithmetic and FSQRT follow the control word's precision and rounding
 * control; stack-fault exceptions are not modelled (docs/soft-cpu.md). */
#include <math.h>

#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

#define C0 0x100
#define C1 0x200
#define C2 0x400
#define C3 0x4000

static inline long double *st(struct soft_cpu *c, unsigned i) { return &c->st[(c->fpu_top + i) & 7]; }

static void fpush(struct soft_cpu *c, long double v)
{
	c->fpu_top = (c->fpu_top - 1) & 7;
	c->st[c->fpu_top] = v;
	c->fpu_tag |= (uint16_t)(1u << c->fpu_top);
}

static void fpop(struct soft_cpu *c)
{
	c->fpu_tag &= (uint16_t)~(1u << c->fpu_top);
	c->fpu_top = (c->fpu_top + 1) & 7;
}

static long double ld_mem_fp(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	uint64_t a = soft_ea(c, op);
	switch (op->o[i].size) {
	case 4: { uint32_t v = (uint32_t)soft_ld(c, a, 4); float f; memcpy(&f, &v, 4); return f; }
	case 8: { uint64_t v = soft_ld(c, a, 8); double d; memcpy(&d, &v, 8); return d; }
	default: { long double v = 0; soft_ld_bytes(c, a, &v, 10, SOFT_ACC_READ); return v; }
	}
}

static long double ld_mem_int(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	unsigned sz = op->o[i].size;
	return (long double)soft_sext(soft_ld(c, soft_ea(c, op), sz), sz);
}

/* Source operand i as a value: ST register, FP memory, or integer memory (FI* forms). */
static long double src(struct soft_cpu *c, const struct soft_op *op, unsigned i, bool integer)
{
	if (op->o[i].kind == SOFT_OPND_ST)
		return *st(c, op->o[i].reg);
	return integer ? ld_mem_int(c, op, i) : ld_mem_fp(c, op, i);
}

static void h_fld(struct soft_cpu *c, const struct soft_op *op) { fpush(c, src(c, op, 0, false)); }
static void h_fild(struct soft_cpu *c, const struct soft_op *op) { fpush(c, src(c, op, 0, true)); }

static void store_fp(struct soft_cpu *c, const struct soft_op *op, long double v)
{
	if (op->o[0].kind == SOFT_OPND_ST) {
		*st(c, op->o[0].reg) = v;
		c->fpu_tag |= (uint16_t)(1u << ((c->fpu_top + op->o[0].reg) & 7));
		return;
	}
	uint64_t a = soft_ea(c, op);
	switch (op->o[0].size) {
	case 4: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); soft_st(c, a, 4, u); break; }
	case 8: { double d = (double)v; uint64_t u; memcpy(&u, &d, 8); soft_st(c, a, 8, u); break; }
	default: soft_st_bytes(c, a, &v, 10); break;
	}
}

static void h_fst(struct soft_cpu *c, const struct soft_op *op) { store_fp(c, op, *st(c, 0)); }
static void h_fstp(struct soft_cpu *c, const struct soft_op *op) { store_fp(c, op, *st(c, 0)); fpop(c); }

static long double round_cw(const struct soft_cpu *c, long double v, bool trunc)
{
	if (trunc)
		return truncl(v);
	switch ((c->fpu_cw >> 10) & 3) {
	case 0: return nearbyintl(v);
	case 1: return floorl(v);
	case 2: return ceill(v);
	default: return truncl(v);
	}
}

static void store_int(struct soft_cpu *c, const struct soft_op *op, bool trunc)
{
	unsigned sz = op->o[0].size;
	long double v = round_cw(c, *st(c, 0), trunc);
	long double lim = ldexpl(1.0L, (int)sz * 8 - 1);
	uint64_t r = (v != v || v >= lim || v < -lim) ? soft_sbit(sz) : (uint64_t)(int64_t)v;
	soft_st(c, soft_ea(c, op), sz, r);
}

static void h_fist(struct soft_cpu *c, const struct soft_op *op) { store_int(c, op, false); }
static void h_fistp(struct soft_cpu *c, const struct soft_op *op) { store_int(c, op, false); fpop(c); }
static void h_fisttp(struct soft_cpu *c, const struct soft_op *op) { store_int(c, op, true); fpop(c); }

enum { A_ADD, A_SUB, A_SUBR, A_MUL, A_DIV, A_DIVR };

static long double arith(unsigned k, long double a, long double b)
{
	switch (k) {
	case A_ADD: return a + b;
	case A_SUB: return a - b;
	case A_SUBR: return b - a;
	case A_MUL: return a * b;
	case A_DIV: return a / b;
	default: return b / a;
	}
}

/* Precision (PC) or rounding (RC) control other than the default (64-bit, nearest): the host
 * x87 computes under the guest's control word with exceptions masked, so the result is rounded
 * once, to the selected precision, with the full exponent range, as on hardware. The empty asm
 * statements pin the computation between the two FLDCWs. */
static bool cw_default(const struct soft_cpu *c)
{
	return SOFT_LIKELY((c->fpu_cw & 0xf00) == 0x300);
}

static long double arith_cw(const struct soft_cpu *c, unsigned k, long double a, long double b)
{
	if (cw_default(c))
		return arith(k, a, b);
	uint16_t saved, g = (uint16_t)(c->fpu_cw | 0x3f);
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fldcw %1" : "+t"(a) : "m"(g));
	__asm__ volatile("" : "+t"(b));
	long double r = arith(k, a, b);
	__asm__ volatile("" : "+t"(r));
	__asm__ volatile("fldcw %0" : : "m"(saved));
	return r;
}

static long double sqrt_cw(const struct soft_cpu *c, long double x)
{
	if (cw_default(c))
		return sqrtl(x);
	uint16_t saved, g = (uint16_t)(c->fpu_cw | 0x3f);
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fldcw %1\n\tfsqrt\n\tfldcw %2" : "+t"(x) : "m"(g), "m"(saved));
	return x;
}

/* One memory operand: ST0 = ST0 op mem. Two: o0 = o0 op o1. pop: then pop. */
static void farith(struct soft_cpu *c, const struct soft_op *op, unsigned k, bool integer, bool pop)
{
	if (op->nopnd <= 1 && (op->nopnd == 0 || op->o[0].kind != SOFT_OPND_ST)) {
		long double b = op->nopnd ? src(c, op, 0, integer) : *st(c, 0);
		long double *d = op->nopnd ? st(c, 0) : st(c, 1);
		*d = arith_cw(c, k, *d, b);
	} else {
		long double *d = st(c, op->o[0].reg);
		*d = arith_cw(c, k, *d, src(c, op, 1, false));
	}
	if (pop)
		fpop(c);
}

#define ARITH(name, k, integer, pop) \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op) { farith(c, op, k, integer, pop); }
ARITH(fadd, A_ADD, false, false) ARITH(faddp, A_ADD, false, true) ARITH(fiadd, A_ADD, true, false)
ARITH(fsub, A_SUB, false, false) ARITH(fsubp, A_SUB, false, true) ARITH(fisub, A_SUB, true, false)
ARITH(fsubr, A_SUBR, false, false) ARITH(fsubrp, A_SUBR, false, true) ARITH(fisubr, A_SUBR, true, false)
ARITH(fmul, A_MUL, false, false) ARITH(fmulp, A_MUL, false, true) ARITH(fimul, A_MUL, true, false)
ARITH(fdiv, A_DIV, false, false) ARITH(fdivp, A_DIV, false, true) ARITH(fidiv, A_DIV, true, false)
ARITH(fdivr, A_DIVR, false, false) ARITH(fdivrp, A_DIVR, false, true) ARITH(fidivr, A_DIVR, true, false)

static void set_cc(struct soft_cpu *c, uint16_t cc)
{
	c->fpu_sw = (uint16_t)((c->fpu_sw & ~(C0 | C1 | C2 | C3)) | cc);
}

static uint16_t compare_cc(long double a, long double b)
{
	if (a != a || b != b)
		return C0 | C2 | C3;
	if (a < b)
		return C0;
	if (a == b)
		return C3;
	return 0;
}

/* FCOM/FUCOM family: ST0 against operand (default ST1); pops given count. */
static void fcom(struct soft_cpu *c, const struct soft_op *op, unsigned pops, bool integer)
{
	long double b;
	if (op->nopnd == 0)
		b = *st(c, 1);
	else if (op->nopnd == 2)
		b = *st(c, op->o[1].reg);
	else
		b = src(c, op, 0, integer);
	set_cc(c, compare_cc(*st(c, 0), b));
	while (pops--)
		fpop(c);
}

static void h_fcom(struct soft_cpu *c, const struct soft_op *op) { fcom(c, op, 0, false); }
static void h_fcomp(struct soft_cpu *c, const struct soft_op *op) { fcom(c, op, 1, false); }
static void h_fcompp(struct soft_cpu *c, const struct soft_op *op) { fcom(c, op, 2, false); }
static void h_ficom(struct soft_cpu *c, const struct soft_op *op) { fcom(c, op, 0, true); }
static void h_ficomp(struct soft_cpu *c, const struct soft_op *op) { fcom(c, op, 1, true); }
static void h_ftst(struct soft_cpu *c, const struct soft_op *op) { (void)op; set_cc(c, compare_cc(*st(c, 0), 0.0L)); }

static void fcomi(struct soft_cpu *c, const struct soft_op *op, bool pop)
{
	uint16_t cc = compare_cc(*st(c, 0), *st(c, op->o[op->nopnd == 2 ? 1 : 0].reg));
	uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ARITH_FLAGS;
	f |= (cc & C0 ? SOFT_CF : 0) | (cc & C2 ? SOFT_PF : 0) | (cc & C3 ? SOFT_ZF : 0);
	soft_flags_set(c, f);
	if (pop)
		fpop(c);
}

static void h_fcomi(struct soft_cpu *c, const struct soft_op *op) { fcomi(c, op, false); }
static void h_fcomip(struct soft_cpu *c, const struct soft_op *op) { fcomi(c, op, true); }

static void h_fxam(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	long double v = *st(c, 0);
	uint16_t cc = signbit(v) ? C1 : 0;
	if (!(c->fpu_tag & (1u << c->fpu_top)))
		cc |= C3 | C0;
	else if (isnan(v))
		cc |= C0;
	else if (isinf(v))
		cc |= C2 | C0;
	else if (v == 0)
		cc |= C3;
	else if (fpclassify(v) == FP_SUBNORMAL)
		cc |= C3 | C2;
	else
		cc |= C2;
	set_cc(c, cc);
}

static void h_fxch(struct soft_cpu *c, const struct soft_op *op)
{
	long double *a = st(c, 0), *b = st(c, op->nopnd ? op->o[op->nopnd - 1].reg : 1), t = *a;
	*a = *b;
	*b = t;
}

#define UNARY(name, expr) \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op) { (void)op; long double x = *st(c, 0); *st(c, 0) = (expr); }
UNARY(fchs, -x) UNARY(fabs, fabsl(x)) UNARY(fsqrt, sqrt_cw(c, x)) UNARY(frndint, round_cw(c, x, false))
UNARY(f2xm1, exp2l(x) - 1.0L) UNARY(fsin, sinl(x)) UNARY(fcos, cosl(x))

static void h_fscale(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	long double n = truncl(*st(c, 1));
	int e = n > 65536 ? 65536 : n < -65536 ? -65536 : (int)n;
	*st(c, 0) = scalbnl(*st(c, 0), e);
}

static void fprem(struct soft_cpu *c, bool ieee)
{
	long double a = *st(c, 0), b = *st(c, 1);
	long double q = ieee ? nearbyintl(a / b) : truncl(a / b);
	*st(c, 0) = ieee ? remainderl(a, b) : fmodl(a, b);
	uint64_t qi = isfinite(q) ? (uint64_t)(int64_t)fmodl(fabsl(q), 8.0L) : 0;
	set_cc(c, (uint16_t)((qi & 4 ? C0 : 0) | (qi & 1 ? C1 : 0) | (qi & 2 ? C3 : 0)));
}

static void h_fprem(struct soft_cpu *c, const struct soft_op *op) { (void)op; fprem(c, false); }
static void h_fprem1(struct soft_cpu *c, const struct soft_op *op) { (void)op; fprem(c, true); }

static void h_fyl2x(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	*st(c, 1) = *st(c, 1) * log2l(*st(c, 0));
	fpop(c);
}

static void h_fyl2xp1(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	*st(c, 1) = *st(c, 1) * log2l(1.0L + *st(c, 0));
	fpop(c);
}

static void h_fpatan(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	*st(c, 1) = atan2l(*st(c, 1), *st(c, 0));
	fpop(c);
}

static void h_fptan(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	*st(c, 0) = tanl(*st(c, 0));
	fpush(c, 1.0L);
	set_cc(c, 0);
}

static void h_fsincos(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	long double x = *st(c, 0);
	*st(c, 0) = sinl(x);
	fpush(c, cosl(x));
	set_cc(c, 0);
}

static void h_fxtract(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	long double x = *st(c, 0);
	int e = 0;
	long double m = frexpl(x, &e);
	*st(c, 0) = (long double)(e - 1);
	fpush(c, m * 2.0L);
}

#define CONST(name, v) \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op) { (void)op; fpush(c, v); }
CONST(fldz, 0.0L) CONST(fld1, 1.0L) CONST(fldpi, 3.14159265358979323846264338327950288L)
CONST(fldl2e, 1.44269504088896340735992468100189214L) CONST(fldl2t, 3.32192809488736234787031942948939018L)
CONST(fldlg2, 0.301029995663981195213738894724493027L) CONST(fldln2, 0.693147180559945309417232121458176568L)

static uint16_t status(const struct soft_cpu *c)
{
	return (uint16_t)((c->fpu_sw & ~0x3800u) | (c->fpu_top & 7u) << 11);
}

static void h_fnstsw(struct soft_cpu *c, const struct soft_op *op)
{
	soft_wr(c, op, 0, status(c));
}

static void h_fnstcw(struct soft_cpu *c, const struct soft_op *op) { soft_wr(c, op, 0, c->fpu_cw); }
static void h_fldcw(struct soft_cpu *c, const struct soft_op *op) { c->fpu_cw = (uint16_t)soft_rd(c, op, 0); }
static void h_fnclex(struct soft_cpu *c, const struct soft_op *op) { (void)op; c->fpu_sw &= 0x7f00; }

static void h_fninit(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	c->fpu_cw = 0x37f;
	c->fpu_sw = 0;
	c->fpu_top = 0;
	c->fpu_tag = 0;
}

static void h_ffree(struct soft_cpu *c, const struct soft_op *op)
{
	c->fpu_tag &= (uint16_t)~(1u << ((c->fpu_top + op->o[0].reg) & 7));
}

static void h_fincstp(struct soft_cpu *c, const struct soft_op *op) { (void)op; c->fpu_top = (c->fpu_top + 1) & 7; }
static void h_fdecstp(struct soft_cpu *c, const struct soft_op *op) { (void)op; c->fpu_top = (c->fpu_top - 1) & 7; }

static void h_fcmov(struct soft_cpu *c, const struct soft_op *op)
{
	static const uint8_t cc[8] = { 2, 4, 6, 10, 3, 5, 7, 11 }; /* B E BE U NB NE NBE NU */
	unsigned idx;
	switch (op->mnem) {
	case ZYDIS_MNEMONIC_FCMOVB: idx = 0; break;
	case ZYDIS_MNEMONIC_FCMOVE: idx = 1; break;
	case ZYDIS_MNEMONIC_FCMOVBE: idx = 2; break;
	case ZYDIS_MNEMONIC_FCMOVU: idx = 3; break;
	case ZYDIS_MNEMONIC_FCMOVNB: idx = 4; break;
	case ZYDIS_MNEMONIC_FCMOVNE: idx = 5; break;
	case ZYDIS_MNEMONIC_FCMOVNBE: idx = 6; break;
	default: idx = 7; break;
	}
	if (soft_cond(c, cc[idx]))
		*st(c, 0) = *st(c, op->o[1].reg);
}

/* FNSTENV/FLDENV, 28-byte protected-mode layout; full tags are valid (00) or empty (11). */
static void h_fnstenv(struct soft_cpu *c, const struct soft_op *op)
{
	uint8_t env[28] = { 0 };
	uint32_t tw = 0;
	for (unsigned i = 0; i < 8; i++)
		if (!(c->fpu_tag & (1u << i)))
			tw |= 3u << (2 * i);
	uint32_t v[3] = { c->fpu_cw | 0xffff0000u, status(c) | 0xffff0000u, tw | 0xffff0000u };
	memcpy(env, v, sizeof(v));
	soft_st_bytes(c, soft_ea(c, op), env, 28);
	c->fpu_cw |= 0x3f; /* FNSTENV masks all exceptions */
}

static void h_fldenv(struct soft_cpu *c, const struct soft_op *op)
{
	uint8_t env[28];
	uint32_t v[3];
	soft_ld_bytes(c, soft_ea(c, op), env, 28, SOFT_ACC_READ);
	memcpy(v, env, sizeof(v));
	c->fpu_cw = (uint16_t)v[0];
	c->fpu_sw = (uint16_t)v[1];
	c->fpu_top = (v[1] >> 11) & 7;
	c->fpu_tag = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((v[2] >> (2 * i)) & 3) != 3)
			c->fpu_tag |= (uint16_t)(1u << i);
}

void soft_cpu_fxsave(struct soft_cpu *c, uint8_t out[512])
{
	memset(out, 0, 512);
	uint16_t sw = status(c);
	memcpy(out, &c->fpu_cw, 2);
	memcpy(out + 2, &sw, 2);
	out[4] = (uint8_t)c->fpu_tag;
	memcpy(out + 24, &c->mxcsr, 4);
	uint32_t mask = 0xffff;
	memcpy(out + 28, &mask, 4);
	for (unsigned i = 0; i < 8; i++)
		memcpy(out + 32 + 16 * i, st(c, i), 10);
	memcpy(out + 160, c->xmm, 256);
}

void soft_cpu_fxrstor(struct soft_cpu *c, const uint8_t in[512])
{
	uint16_t sw;
	memcpy(&c->fpu_cw, in, 2);
	memcpy(&sw, in + 2, 2);
	c->fpu_sw = sw;
	c->fpu_top = (sw >> 11) & 7;
	c->fpu_tag = in[4];
	memcpy(&c->mxcsr, in + 24, 4);
	for (unsigned i = 0; i < 8; i++) {
		long double v = 0;
		memcpy(&v, in + 32 + 16 * i, 10);
		*st(c, i) = v;
	}
	memcpy(c->xmm, in + 160, 256);
}

static void h_fxsave(struct soft_cpu *c, const struct soft_op *op)
{
	uint8_t buf[512];
	uint64_t a = soft_ea(c, op);
	if (a & 15)
		soft_raise(c, SOFT_VEC_GP, 0, a);
	soft_mxcsr_pull(c);
	soft_cpu_fxsave(c, buf);
	soft_st_bytes(c, a, buf, 512);
}

static void h_fxrstor(struct soft_cpu *c, const struct soft_op *op)
{
	uint8_t buf[512];
	uint64_t a = soft_ea(c, op);
	if (a & 15)
		soft_raise(c, SOFT_VEC_GP, 0, a);
	soft_ld_bytes(c, a, buf, 512, SOFT_ACC_READ);
	soft_cpu_fxrstor(c, buf);
	soft_mxcsr_push(c);
}

static void h_fwait(struct soft_cpu *c, const struct soft_op *op) { (void)c; (void)op; }

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_fld)
SOFT_THREADED(h_fild)
SOFT_THREADED(h_fst)
SOFT_THREADED(h_fstp)
SOFT_THREADED(h_fist)
SOFT_THREADED(h_fistp)
SOFT_THREADED(h_fisttp)
SOFT_THREADED(h_fadd)
SOFT_THREADED(h_faddp)
SOFT_THREADED(h_fiadd)
SOFT_THREADED(h_fsub)
SOFT_THREADED(h_fsubp)
SOFT_THREADED(h_fisub)
SOFT_THREADED(h_fsubr)
SOFT_THREADED(h_fsubrp)
SOFT_THREADED(h_fisubr)
SOFT_THREADED(h_fmul)
SOFT_THREADED(h_fmulp)
SOFT_THREADED(h_fimul)
SOFT_THREADED(h_fdiv)
SOFT_THREADED(h_fdivp)
SOFT_THREADED(h_fidiv)
SOFT_THREADED(h_fdivr)
SOFT_THREADED(h_fdivrp)
SOFT_THREADED(h_fidivr)
SOFT_THREADED(h_fcom)
SOFT_THREADED(h_fcomp)
SOFT_THREADED(h_fcompp)
SOFT_THREADED(h_ficom)
SOFT_THREADED(h_ficomp)
SOFT_THREADED(h_fcomi)
SOFT_THREADED(h_fcomip)
SOFT_THREADED(h_ftst)
SOFT_THREADED(h_fxam)
SOFT_THREADED(h_fxch)
SOFT_THREADED(h_fchs)
SOFT_THREADED(h_fabs)
SOFT_THREADED(h_fsqrt)
SOFT_THREADED(h_frndint)
SOFT_THREADED(h_f2xm1)
SOFT_THREADED(h_fsin)
SOFT_THREADED(h_fcos)
SOFT_THREADED(h_fsincos)
SOFT_THREADED(h_fptan)
SOFT_THREADED(h_fpatan)
SOFT_THREADED(h_fyl2x)
SOFT_THREADED(h_fyl2xp1)
SOFT_THREADED(h_fscale)
SOFT_THREADED(h_fprem)
SOFT_THREADED(h_fprem1)
SOFT_THREADED(h_fxtract)
SOFT_THREADED(h_fldz)
SOFT_THREADED(h_fld1)
SOFT_THREADED(h_fldpi)
SOFT_THREADED(h_fldl2e)
SOFT_THREADED(h_fldl2t)
SOFT_THREADED(h_fldlg2)
SOFT_THREADED(h_fldln2)
SOFT_THREADED(h_fnstsw)
SOFT_THREADED(h_fnstcw)
SOFT_THREADED(h_fldcw)
SOFT_THREADED(h_fnclex)
SOFT_THREADED(h_fninit)
SOFT_THREADED(h_ffree)
SOFT_THREADED(h_fincstp)
SOFT_THREADED(h_fdecstp)
SOFT_THREADED(h_fwait)
SOFT_THREADED(h_fcmov)
SOFT_THREADED(h_fnstenv)
SOFT_THREADED(h_fldenv)
SOFT_THREADED(h_fxsave)
SOFT_THREADED(h_fxrstor)

const struct soft_insn_def soft_x87_defs[] = {
	{ ZYDIS_MNEMONIC_FLD, h_fld_t }, { ZYDIS_MNEMONIC_FILD, h_fild_t }, { ZYDIS_MNEMONIC_FST, h_fst_t },
	{ ZYDIS_MNEMONIC_FSTP, h_fstp_t }, { ZYDIS_MNEMONIC_FIST, h_fist_t },
	{ ZYDIS_MNEMONIC_FISTP, h_fistp_t }, { ZYDIS_MNEMONIC_FISTTP, h_fisttp_t },
	{ ZYDIS_MNEMONIC_FADD, h_fadd_t }, { ZYDIS_MNEMONIC_FADDP, h_faddp_t },
	{ ZYDIS_MNEMONIC_FIADD, h_fiadd_t }, { ZYDIS_MNEMONIC_FSUB, h_fsub_t },
	{ ZYDIS_MNEMONIC_FSUBP, h_fsubp_t }, { ZYDIS_MNEMONIC_FISUB, h_fisub_t },
	{ ZYDIS_MNEMONIC_FSUBR, h_fsubr_t }, { ZYDIS_MNEMONIC_FSUBRP, h_fsubrp_t },
	{ ZYDIS_MNEMONIC_FISUBR, h_fisubr_t }, { ZYDIS_MNEMONIC_FMUL, h_fmul_t },
	{ ZYDIS_MNEMONIC_FMULP, h_fmulp_t }, { ZYDIS_MNEMONIC_FIMUL, h_fimul_t },
	{ ZYDIS_MNEMONIC_FDIV, h_fdiv_t }, { ZYDIS_MNEMONIC_FDIVP, h_fdivp_t },
	{ ZYDIS_MNEMONIC_FIDIV, h_fidiv_t }, { ZYDIS_MNEMONIC_FDIVR, h_fdivr_t },
	{ ZYDIS_MNEMONIC_FDIVRP, h_fdivrp_t }, { ZYDIS_MNEMONIC_FIDIVR, h_fidivr_t },
	{ ZYDIS_MNEMONIC_FCOM, h_fcom_t }, { ZYDIS_MNEMONIC_FCOMP, h_fcomp_t },
	{ ZYDIS_MNEMONIC_FCOMPP, h_fcompp_t }, { ZYDIS_MNEMONIC_FUCOM, h_fcom_t },
	{ ZYDIS_MNEMONIC_FUCOMP, h_fcomp_t }, { ZYDIS_MNEMONIC_FUCOMPP, h_fcompp_t },
	{ ZYDIS_MNEMONIC_FICOM, h_ficom_t }, { ZYDIS_MNEMONIC_FICOMP, h_ficomp_t },
	{ ZYDIS_MNEMONIC_FCOMI, h_fcomi_t }, { ZYDIS_MNEMONIC_FCOMIP, h_fcomip_t },
	{ ZYDIS_MNEMONIC_FUCOMI, h_fcomi_t }, { ZYDIS_MNEMONIC_FUCOMIP, h_fcomip_t },
	{ ZYDIS_MNEMONIC_FTST, h_ftst_t }, { ZYDIS_MNEMONIC_FXAM, h_fxam_t },
	{ ZYDIS_MNEMONIC_FXCH, h_fxch_t }, { ZYDIS_MNEMONIC_FCHS, h_fchs_t },
	{ ZYDIS_MNEMONIC_FABS, h_fabs_t }, { ZYDIS_MNEMONIC_FSQRT, h_fsqrt_t },
	{ ZYDIS_MNEMONIC_FRNDINT, h_frndint_t }, { ZYDIS_MNEMONIC_F2XM1, h_f2xm1_t },
	{ ZYDIS_MNEMONIC_FSIN, h_fsin_t }, { ZYDIS_MNEMONIC_FCOS, h_fcos_t },
	{ ZYDIS_MNEMONIC_FSINCOS, h_fsincos_t }, { ZYDIS_MNEMONIC_FPTAN, h_fptan_t },
	{ ZYDIS_MNEMONIC_FPATAN, h_fpatan_t }, { ZYDIS_MNEMONIC_FYL2X, h_fyl2x_t },
	{ ZYDIS_MNEMONIC_FYL2XP1, h_fyl2xp1_t }, { ZYDIS_MNEMONIC_FSCALE, h_fscale_t },
	{ ZYDIS_MNEMONIC_FPREM, h_fprem_t }, { ZYDIS_MNEMONIC_FPREM1, h_fprem1_t },
	{ ZYDIS_MNEMONIC_FXTRACT, h_fxtract_t },
	{ ZYDIS_MNEMONIC_FLDZ, h_fldz_t }, { ZYDIS_MNEMONIC_FLD1, h_fld1_t },
	{ ZYDIS_MNEMONIC_FLDPI, h_fldpi_t }, { ZYDIS_MNEMONIC_FLDL2E, h_fldl2e_t },
	{ ZYDIS_MNEMONIC_FLDL2T, h_fldl2t_t }, { ZYDIS_MNEMONIC_FLDLG2, h_fldlg2_t },
	{ ZYDIS_MNEMONIC_FLDLN2, h_fldln2_t }, { ZYDIS_MNEMONIC_FNSTSW, h_fnstsw_t },
	{ ZYDIS_MNEMONIC_FNSTCW, h_fnstcw_t }, { ZYDIS_MNEMONIC_FLDCW, h_fldcw_t },
	{ ZYDIS_MNEMONIC_FNCLEX, h_fnclex_t }, { ZYDIS_MNEMONIC_FNINIT, h_fninit_t },
	{ ZYDIS_MNEMONIC_FFREE, h_ffree_t }, { ZYDIS_MNEMONIC_FINCSTP, h_fincstp_t },
	{ ZYDIS_MNEMONIC_FDECSTP, h_fdecstp_t }, { ZYDIS_MNEMONIC_FWAIT, h_fwait_t },
	{ ZYDIS_MNEMONIC_FCMOVB, h_fcmov_t }, { ZYDIS_MNEMONIC_FCMOVE, h_fcmov_t },
	{ ZYDIS_MNEMONIC_FCMOVBE, h_fcmov_t }, { ZYDIS_MNEMONIC_FCMOVU, h_fcmov_t },
	{ ZYDIS_MNEMONIC_FCMOVNB, h_fcmov_t }, { ZYDIS_MNEMONIC_FCMOVNE, h_fcmov_t },
	{ ZYDIS_MNEMONIC_FCMOVNBE, h_fcmov_t }, { ZYDIS_MNEMONIC_FCMOVNU, h_fcmov_t },
	{ ZYDIS_MNEMONIC_FNSTENV, h_fnstenv_t }, { ZYDIS_MNEMONIC_FLDENV, h_fldenv_t },
	{ ZYDIS_MNEMONIC_FXSAVE, h_fxsave_t }, { ZYDIS_MNEMONIC_FXRSTOR, h_fxrstor_t },
	{ ZYDIS_MNEMONIC_FXSAVE64, h_fxsave_t }, { ZYDIS_MNEMONIC_FXRSTOR64, h_fxrstor_t },
	{ 0, NULL },
};
