/* Integer ALU family: ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST, INC/DEC/NEG/NOT, MOV and its
 * extending forms, LEA, XCHG, XADD, CMPXCHG and CMPXCHG8B/16B. Flags are recorded lazily. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

enum alu_kind { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_CMP, K_TEST };

static inline uint64_t alu_compute(unsigned k, uint64_t a, uint64_t b, uint64_t cf)
{
	switch (k) {
	case K_ADD: return a + b;
	case K_ADC: return a + b + cf;
	case K_SBB: return a - b - cf;
	case K_SUB: case K_CMP: return a - b;
	case K_AND: case K_TEST: return a & b;
	case K_OR: return a | b;
	default: return a ^ b;
	}
}

static inline void alu_flags(struct soft_cpu *c, unsigned k, unsigned sz, uint64_t r, uint64_t a,
			     uint64_t b, uint64_t cf)
{
	switch (k) {
	case K_ADD: soft_setlf(c, SOFT_LF_ADD, sz, r, a, b); break;
	case K_ADC: soft_setlf(c, SOFT_LF_ADC, sz, r, a, b); c->lf_aux = cf; break;
	case K_SBB: soft_setlf(c, SOFT_LF_SBB, sz, r, a, b); c->lf_aux = cf; break;
	case K_SUB: case K_CMP: soft_setlf(c, SOFT_LF_SUB, sz, r, a, b); break;
	default: soft_setlf(c, SOFT_LF_LOGIC, sz, r, a, b); break;
	}
}

static uint64_t rmw_add(uint64_t o, uint64_t x, uint64_t y) { return o + x + y; }
static uint64_t rmw_sub(uint64_t o, uint64_t x, uint64_t y) { return o - x - y; }
static uint64_t rmw_and(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o & x; }
static uint64_t rmw_or(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o | x; }
static uint64_t rmw_xor(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o ^ x; }

static inline void alu2(struct soft_cpu *c, const struct soft_op *op, unsigned k)
{
	unsigned sz = op->o[0].size;
	uint64_t b = soft_rd(c, op, 1);
	uint64_t cf = (k == K_ADC || k == K_SBB) ? soft_get_cf(c) : 0;
	uint64_t a, r;
	bool writes = k != K_CMP && k != K_TEST;
	if (op->o[0].kind == SOFT_OPND_REG) {
		a = soft_reg_get(c, op->o[0].reg, sz);
		r = alu_compute(k, a, b, cf);
		if (writes)
			soft_reg_set(c, op->o[0].reg, sz, r);
	} else {
		uint64_t addr = soft_ea(c, op);
		if (SOFT_UNLIKELY(op->pfx & SOFT_PFX_LOCK) && writes) {
			soft_rmw_fn f = k == K_ADD || k == K_ADC ? rmw_add : k == K_SUB || k == K_SBB
				? rmw_sub : k == K_AND ? rmw_and : k == K_OR ? rmw_or : rmw_xor;
			a = soft_rmw(c, addr, sz, true, f, b, cf, &r);
		} else {
			a = soft_ld(c, addr, sz);
			r = alu_compute(k, a, b, cf);
			if (writes)
				soft_st(c, addr, sz, r);
		}
	}
	alu_flags(c, k, sz, r, a, b, cf);
}

#define ALU_HANDLER(name, k) \
	static void h_##name(struct soft_cpu *c, const struct soft_op *op) { alu2(c, op, k); }
ALU_HANDLER(add, K_ADD)
ALU_HANDLER(or, K_OR)
ALU_HANDLER(adc, K_ADC)
ALU_HANDLER(sbb, K_SBB)
ALU_HANDLER(and, K_AND)
ALU_HANDLER(sub, K_SUB)
ALU_HANDLER(xor, K_XOR)
ALU_HANDLER(cmp, K_CMP)
ALU_HANDLER(test, K_TEST)

static uint64_t rmw_inc(uint64_t o, uint64_t x, uint64_t y) { (void)x; (void)y; return o + 1; }
static uint64_t rmw_dec(uint64_t o, uint64_t x, uint64_t y) { (void)x; (void)y; return o - 1; }
static uint64_t rmw_neg(uint64_t o, uint64_t x, uint64_t y) { (void)x; (void)y; return 0 - o; }
static uint64_t rmw_not(uint64_t o, uint64_t x, uint64_t y) { (void)x; (void)y; return ~o; }

/* Unary read-modify-write on operand 0; returns the old value, *r the new. */
static inline uint64_t unary(struct soft_cpu *c, const struct soft_op *op, soft_rmw_fn f,
			     uint64_t *r)
{
	unsigned sz = op->o[0].size;
	uint64_t a;
	if (op->o[0].kind == SOFT_OPND_REG) {
		a = soft_reg_get(c, op->o[0].reg, sz);
		*r = f(a, 0, 0);
		soft_reg_set(c, op->o[0].reg, sz, *r);
	} else if (SOFT_UNLIKELY(op->pfx & SOFT_PFX_LOCK)) {
		a = soft_rmw(c, soft_ea(c, op), sz, true, f, 0, 0, r);
	} else {
		uint64_t addr = soft_ea(c, op);
		a = soft_ld(c, addr, sz);
		*r = f(a, 0, 0);
		soft_st(c, addr, sz, *r);
	}
	return a;
}

static void h_inc(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t r, cf = soft_get_cf(c);
	uint64_t a = unary(c, op, rmw_inc, &r);
	soft_setlf(c, SOFT_LF_INC, op->o[0].size, r, a, 1);
	c->lf_aux = cf;
}

static void h_dec(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t r, cf = soft_get_cf(c);
	uint64_t a = unary(c, op, rmw_dec, &r);
	soft_setlf(c, SOFT_LF_DEC, op->o[0].size, r, a, 1);
	c->lf_aux = cf;
}

static void h_neg(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t r;
	uint64_t a = unary(c, op, rmw_neg, &r);
	soft_setlf(c, SOFT_LF_NEG, op->o[0].size, r, a, 0);
}

static void h_not(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t r;
	unary(c, op, rmw_not, &r);
}

static void h_mov(struct soft_cpu *c, const struct soft_op *op)
{
	if (SOFT_UNLIKELY(op->o[0].kind == SOFT_OPND_SEG || op->o[1].kind == SOFT_OPND_SEG)) {
		if (op->o[1].kind == SOFT_OPND_SEG)
			soft_wr(c, op, 0, 0); /* flat 64-bit segments read as selector 0 */
		return;
	}
	soft_wr(c, op, 0, soft_rd(c, op, 1));
}

static void h_movzx(struct soft_cpu *c, const struct soft_op *op)
{
	soft_wr(c, op, 0, soft_rd(c, op, 1));
}

static void h_movsx(struct soft_cpu *c, const struct soft_op *op)
{
	soft_wr(c, op, 0, (uint64_t)soft_sext(soft_rd(c, op, 1), op->o[1].size));
}

static void h_lea(struct soft_cpu *c, const struct soft_op *op)
{
	soft_reg_set(c, op->o[0].reg, op->o[0].size, soft_ea(c, op));
}

static uint64_t rmw_xchg(uint64_t o, uint64_t x, uint64_t y) { (void)o; (void)y; return x; }

static void h_xchg(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	if (op->o[0].kind == SOFT_OPND_REG && op->o[1].kind == SOFT_OPND_REG) {
		uint64_t a = soft_reg_get(c, op->o[0].reg, sz), b = soft_reg_get(c, op->o[1].reg, sz);
		soft_reg_set(c, op->o[0].reg, sz, b);
		soft_reg_set(c, op->o[1].reg, sz, a);
		return;
	}
	unsigned m = op->o[0].kind == SOFT_OPND_MEM ? 0 : 1, r = 1 - m;
	uint64_t nv, v = soft_reg_get(c, op->o[r].reg, sz);
	uint64_t old = soft_rmw(c, soft_ea(c, op), sz, true, rmw_xchg, v, 0, &nv);
	soft_reg_set(c, op->o[r].reg, sz, old);
}

static void h_xadd(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t b = soft_reg_get(c, op->o[1].reg, sz), a, r;
	if (op->o[0].kind == SOFT_OPND_REG) {
		a = soft_reg_get(c, op->o[0].reg, sz);
		r = a + b;
		soft_reg_set(c, op->o[1].reg, sz, a);
		soft_reg_set(c, op->o[0].reg, sz, r);
	} else {
		a = soft_rmw(c, soft_ea(c, op), sz, op->pfx & SOFT_PFX_LOCK, rmw_add, b, 0, &r);
		soft_reg_set(c, op->o[1].reg, sz, a);
	}
	soft_setlf(c, SOFT_LF_ADD, sz, r, a, b);
}

static void h_cmpxchg(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t acc = soft_reg_get(c, SOFT_RAX, sz), src = soft_reg_get(c, op->o[1].reg, sz);
	uint64_t cur;
	if (op->o[0].kind == SOFT_OPND_REG) {
		cur = soft_reg_get(c, op->o[0].reg, sz);
		if (cur == acc)
			soft_reg_set(c, op->o[0].reg, sz, src);
	} else {
		uint64_t addr = soft_ea(c, op);
		void *p = soft_rmw_ptr(c, addr, sz);
		if (p && ((uintptr_t)p & (sz - 1)) == 0) {
			switch (sz) {
			case 1: { uint8_t e = (uint8_t)acc; __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)src, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); cur = e; break; }
			case 2: { uint16_t e = (uint16_t)acc; __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)src, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); cur = e; break; }
			case 4: { uint32_t e = (uint32_t)acc; __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)src, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); cur = e; break; }
			default: { uint64_t e = acc; __atomic_compare_exchange_n((uint64_t *)p, &e, src, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); cur = e; break; }
			}
		} else {
			cur = soft_ld(c, addr, sz);
			soft_st(c, addr, sz, cur == acc ? src : cur);
		}
	}
	if (cur != acc)
		soft_reg_set(c, SOFT_RAX, sz, cur);
	soft_setlf(c, SOFT_LF_SUB, sz, acc - cur, acc, cur);
}

static void h_cmpxchg8b16b(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned half = op->o[0].size / 2;
	uint64_t addr = soft_ea(c, op);
	uint64_t m = soft_mask(half);
	uint64_t ea = c->gpr[SOFT_RAX] & m, ed = c->gpr[SOFT_RDX] & m;
	uint64_t nb = c->gpr[SOFT_RBX] & m, nc = c->gpr[SOFT_RCX] & m;
	uint64_t lo, hi;
	bool eq;
	if (half == 8 && (addr & 15))
		soft_raise(c, SOFT_VEC_GP, 0, addr);
	void *p = soft_rmw_ptr(c, addr, half * 2);
	if (half == 4 && p && ((uintptr_t)p & 7) == 0) {
		uint64_t e = ea | ed << 32;
		eq = __atomic_compare_exchange_n((uint64_t *)p, &e, nb | nc << 32, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		lo = e & m;
		hi = e >> 32;
#if defined(__x86_64__)
	} else if (p) {
		uint64_t ra = ea, rd = ed;
		uint8_t z;
		__asm__ volatile("lock cmpxchg16b %1; sete %0"
				 : "=q"(z), "+m"(*(unsigned __int128 *)p), "+a"(ra), "+d"(rd)
				 : "b"(nb), "c"(nc) : "memory", "cc");
		eq = z;
		lo = ra;
		hi = rd;
#endif
	} else {
		lo = soft_ld(c, addr, half);
		hi = soft_ld(c, addr + half, half);
		eq = lo == ea && hi == ed;
		if (eq) {
			soft_st(c, addr, half, nb);
			soft_st(c, addr + half, half, nc);
		}
	}
	uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ZF;
	if (eq) {
		f |= SOFT_ZF;
	} else {
		soft_reg_set(c, SOFT_RAX, half, lo);
		soft_reg_set(c, SOFT_RDX, half, hi);
	}
	soft_flags_set(c, f);
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_add)
SOFT_THREADED(h_or)
SOFT_THREADED(h_adc)
SOFT_THREADED(h_sbb)
SOFT_THREADED(h_and)
SOFT_THREADED(h_sub)
SOFT_THREADED(h_xor)
SOFT_THREADED(h_cmp)
SOFT_THREADED(h_test)
SOFT_THREADED(h_inc)
SOFT_THREADED(h_dec)
SOFT_THREADED(h_neg)
SOFT_THREADED(h_not)
SOFT_THREADED(h_mov)
SOFT_THREADED(h_movzx)
SOFT_THREADED(h_movsx)
SOFT_THREADED(h_lea)
SOFT_THREADED(h_xchg)
SOFT_THREADED(h_xadd)
SOFT_THREADED(h_cmpxchg)
SOFT_THREADED(h_cmpxchg8b16b)

const struct soft_insn_def soft_alu_defs[] = {
	{ ZYDIS_MNEMONIC_ADD, h_add_t }, { ZYDIS_MNEMONIC_OR, h_or_t }, { ZYDIS_MNEMONIC_ADC, h_adc_t },
	{ ZYDIS_MNEMONIC_SBB, h_sbb_t }, { ZYDIS_MNEMONIC_AND, h_and_t }, { ZYDIS_MNEMONIC_SUB, h_sub_t },
	{ ZYDIS_MNEMONIC_XOR, h_xor_t }, { ZYDIS_MNEMONIC_CMP, h_cmp_t }, { ZYDIS_MNEMONIC_TEST, h_test_t },
	{ ZYDIS_MNEMONIC_INC, h_inc_t }, { ZYDIS_MNEMONIC_DEC, h_dec_t }, { ZYDIS_MNEMONIC_NEG, h_neg_t },
	{ ZYDIS_MNEMONIC_NOT, h_not_t }, { ZYDIS_MNEMONIC_MOV, h_mov_t },
	{ ZYDIS_MNEMONIC_MOVZX, h_movzx_t }, { ZYDIS_MNEMONIC_MOVSX, h_movsx_t },
	{ ZYDIS_MNEMONIC_MOVSXD, h_movsx_t }, { ZYDIS_MNEMONIC_LEA, h_lea_t },
	{ ZYDIS_MNEMONIC_XCHG, h_xchg_t }, { ZYDIS_MNEMONIC_XADD, h_xadd_t },
	{ ZYDIS_MNEMONIC_CMPXCHG, h_cmpxchg_t }, { ZYDIS_MNEMONIC_CMPXCHG8B, h_cmpxchg8b16b_t },
	{ ZYDIS_MNEMONIC_CMPXCHG16B, h_cmpxchg8b16b_t },
	{ 0, NULL },
};
