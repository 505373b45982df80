/* Multiply and divide family: MUL/IMUL (one, two and three operand forms), DIV/IDIV with #DE on
 * a zero divisor or quotient overflow, and BMI2 MULX. After MUL/IMUL, CF=OF report a significant
 * high half; SF/ZF/PF/AF are architecturally undefined (here derived from the low result). */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static void h_mul(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t b = soft_rd(c, op, 0), a = soft_reg_get(c, SOFT_RAX, sz), lo, hi;
	if (sz == 8) {
		u128 p = (u128)a * b;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * b;
		lo = p & soft_mask(sz);
		hi = p >> (sz * 8);
	}
	if (sz == 1) {
		soft_reg_set(c, SOFT_RAX, 2, lo | hi << 8);
	} else {
		soft_reg_set(c, SOFT_RAX, sz, lo);
		soft_reg_set(c, SOFT_RDX, sz, hi);
	}
	soft_setlf_res(c, sz, lo, hi ? (SOFT_CF | SOFT_OF) : 0);
}

/* Signed product of a and b (sign-extended from sz); *ovf set when it does not fit sz. */
static uint64_t imul_core(uint64_t a, uint64_t b, unsigned sz, uint64_t *hi, bool *ovf)
{
	if (sz == 8) {
		s128 p = (s128)(int64_t)a * (int64_t)b;
		*hi = (uint64_t)((u128)p >> 64);
		*ovf = p != (s128)(int64_t)p;
		return (uint64_t)p;
	}
	int64_t p = soft_sext(a, sz) * soft_sext(b, sz);
	*hi = (uint64_t)(p >> (sz * 8));
	*ovf = p != soft_sext((uint64_t)p, sz);
	return (uint64_t)p & soft_mask(sz);
}

static void h_imul(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t hi, r;
	bool ovf;
	if (op->nopnd == 1) {
		r = imul_core(soft_reg_get(c, SOFT_RAX, sz), soft_rd(c, op, 0), sz, &hi, &ovf);
		if (sz == 1) {
			soft_reg_set(c, SOFT_RAX, 2, (r & 0xff) | (hi & 0xff) << 8);
		} else {
			soft_reg_set(c, SOFT_RAX, sz, r);
			soft_reg_set(c, SOFT_RDX, sz, hi);
		}
	} else {
		uint64_t a = op->nopnd == 3 ? soft_rd(c, op, 1) : soft_reg_get(c, op->o[0].reg, sz);
		uint64_t b = op->nopnd == 3 ? op->imm : soft_rd(c, op, 1);
		r = imul_core(a, b, sz, &hi, &ovf);
		soft_reg_set(c, op->o[0].reg, sz, r);
	}
	soft_setlf_res(c, sz, r, ovf ? (SOFT_CF | SOFT_OF) : 0);
}

static void h_div(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t d = soft_rd(c, op, 0);
	if (d == 0)
		soft_raise(c, SOFT_VEC_DE, 0, 0);
	if (sz == 8) {
		u128 n = (u128)c->gpr[SOFT_RDX] << 64 | c->gpr[SOFT_RAX];
		u128 q = n / d;
		if (q >> 64)
			soft_raise(c, SOFT_VEC_DE, 0, 0);
		c->gpr[SOFT_RAX] = (uint64_t)q;
		c->gpr[SOFT_RDX] = (uint64_t)(n % d);
		return;
	}
	uint64_t n = sz == 1 ? soft_reg_get(c, SOFT_RAX, 2)
			     : soft_reg_get(c, SOFT_RDX, sz) << (sz * 8) | soft_reg_get(c, SOFT_RAX, sz);
	uint64_t q = n / d, rem = n % d;
	if (q > soft_mask(sz))
		soft_raise(c, SOFT_VEC_DE, 0, 0);
	if (sz == 1) {
		soft_reg_set(c, SOFT_RAX, 2, q | rem << 8);
	} else {
		soft_reg_set(c, SOFT_RAX, sz, q);
		soft_reg_set(c, SOFT_RDX, sz, rem);
	}
}

static void h_idiv(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	int64_t d = soft_sext(soft_rd(c, op, 0), sz);
	if (d == 0)
		soft_raise(c, SOFT_VEC_DE, 0, 0);
	if (sz == 8) {
		s128 n = (s128)((u128)c->gpr[SOFT_RDX] << 64 | c->gpr[SOFT_RAX]);
		if (d == -1 && n == (s128)((u128)1 << 127))
			soft_raise(c, SOFT_VEC_DE, 0, 0);
		s128 q = n / d;
		if (q != (s128)(int64_t)q)
			soft_raise(c, SOFT_VEC_DE, 0, 0);
		c->gpr[SOFT_RAX] = (uint64_t)q;
		c->gpr[SOFT_RDX] = (uint64_t)(n % d);
		return;
	}
	int64_t n = sz == 1 ? soft_sext(soft_reg_get(c, SOFT_RAX, 2), 2)
			    : soft_sext(soft_reg_get(c, SOFT_RDX, sz) << (sz * 8) |
					soft_reg_get(c, SOFT_RAX, sz), sz * 2);
	if (d == -1 && n == INT64_MIN)
		soft_raise(c, SOFT_VEC_DE, 0, 0);
	int64_t q = n / d, rem = n % d;
	if (q != soft_sext((uint64_t)q, sz))
		soft_raise(c, SOFT_VEC_DE, 0, 0);
	if (sz == 1) {
		soft_reg_set(c, SOFT_RAX, 2, ((uint64_t)q & 0xff) | ((uint64_t)rem & 0xff) << 8);
	} else {
		soft_reg_set(c, SOFT_RAX, sz, (uint64_t)q);
		soft_reg_set(c, SOFT_RDX, sz, (uint64_t)rem);
	}
}

/* MULX hi, lo, src: unsigned rdx * src, flags untouched. */
static void h_mulx(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t a = soft_reg_get(c, SOFT_RDX, sz), b = soft_rd(c, op, 2), lo, hi;
	if (sz == 8) {
		u128 p = (u128)a * b;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * b;
		lo = (uint32_t)p;
		hi = p >> 32;
	}
	soft_reg_set(c, op->o[1].reg, sz, lo);
	soft_reg_set(c, op->o[0].reg, sz, hi);
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_mul)
SOFT_THREADED(h_imul)
SOFT_THREADED(h_div)
SOFT_THREADED(h_idiv)
SOFT_THREADED(h_mulx)

const struct soft_insn_def soft_muldiv_defs[] = {
	{ ZYDIS_MNEMONIC_MUL, h_mul_t }, { ZYDIS_MNEMONIC_IMUL, h_imul_t },
	{ ZYDIS_MNEMONIC_DIV, h_div_t }, { ZYDIS_MNEMONIC_IDIV, h_idiv_t },
	{ ZYDIS_MNEMONIC_MULX, h_mulx_t },
	{ 0, NULL },
};
