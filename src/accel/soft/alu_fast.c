/* Specialized handlers for the hottest instruction forms (MOV/MOVZX/MOVSX/LEA and the
 * ADD/SUB/AND/OR/XOR/CMP/TEST family on 32/64-bit register, immediate and memory operands,
 * and Jcc per condition). Semantics are those of alu.c and branch.c; these only drop the
 * operand-kind and size dispatch that the generic handlers do at run time. The decoder asks
 * soft_fast_handler() after choosing the generic handler; NULL keeps the generic one. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

#define HOT static void __attribute__((hot))

#define NEXT(c, op) SOFT_NEXT(c, op)

static inline uint64_t msk(unsigned sz) { return soft_mask(sz); }

/* Register write for the low registers (AH..BH never reach these handlers). */
static inline void wreg(struct soft_cpu *c, unsigned r, unsigned sz, uint64_t v)
{
	switch (sz) {
	case 8: c->gpr[r] = v; break;
	case 4: c->gpr[r] = (uint32_t)v; break;
	case 2: c->gpr[r] = (c->gpr[r] & ~0xffffULL) | (v & 0xffff); break;
	default: c->gpr[r] = (c->gpr[r] & ~0xffULL) | (v & 0xff); break;
	}
}

enum { F_ADD, F_OR, F_AND, F_SUB, F_XOR, F_CMP, F_TEST };

static inline __attribute__((always_inline)) void alu(struct soft_cpu *c, unsigned k, unsigned sz,
						      uint64_t a, uint64_t b, uint64_t *r)
{
	switch (k) {
	case F_ADD: *r = a + b; soft_setlf(c, SOFT_LF_ADD, sz, *r, a, b); break;
	case F_SUB: case F_CMP: *r = a - b; soft_setlf(c, SOFT_LF_SUB, sz, *r, a, b); break;
	case F_AND: case F_TEST: *r = a & b; c->lf_op = SOFT_LF_LOGIC; c->lf_size = sz; c->lf_res = *r; break;
	case F_OR: *r = a | b; c->lf_op = SOFT_LF_LOGIC; c->lf_size = sz; c->lf_res = *r; break;
	default: *r = a ^ b; c->lf_op = SOFT_LF_LOGIC; c->lf_size = sz; c->lf_res = *r; break;
	}
}

#define WRITES(k) ((k) != F_CMP && (k) != F_TEST)

#define ALU_FORMS(name, k, sz)                                                             \
	HOT name##_rr_##sz(struct soft_cpu *c, const struct soft_op *op)                   \
	{                                                                                  \
		uint64_t r, a = c->gpr[op->o[0].reg] & msk(sz), b = c->gpr[op->o[1].reg] & msk(sz); \
		alu(c, k, sz, a, b, &r);                                                   \
		if (WRITES(k))                                                             \
			wreg(c, op->o[0].reg, sz, r);                                      \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT name##_ri_##sz(struct soft_cpu *c, const struct soft_op *op)                   \
	{                                                                                  \
		uint64_t r, a = c->gpr[op->o[0].reg] & msk(sz), b = op->imm & msk(sz);     \
		alu(c, k, sz, a, b, &r);                                                   \
		if (WRITES(k))                                                             \
			wreg(c, op->o[0].reg, sz, r);                                      \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT name##_rm_##sz(struct soft_cpu *c, const struct soft_op *op)                   \
	{                                                                                  \
		uint64_t r, a = c->gpr[op->o[0].reg] & msk(sz), b = soft_ld(c, soft_ea(c, op), sz); \
		alu(c, k, sz, a, b, &r);                                                   \
		if (WRITES(k))                                                             \
			wreg(c, op->o[0].reg, sz, r);                                      \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT name##_mr_##sz(struct soft_cpu *c, const struct soft_op *op)                   \
	{                                                                                  \
		uint64_t r, ea = soft_ea(c, op), a = soft_ld(c, ea, sz);                   \
		uint64_t b = c->gpr[op->o[1].reg] & msk(sz);                               \
		if (WRITES(k)) {                                                           \
			uint64_t t = (k) == F_ADD ? a + b : (k) == F_SUB ? a - b : (k) == F_AND ? a & b \
				: (k) == F_OR ? a | b : a ^ b;                             \
			soft_st(c, ea, sz, t);                                             \
		}                                                                          \
		alu(c, k, sz, a, b, &r);                                                   \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT name##_mi_##sz(struct soft_cpu *c, const struct soft_op *op)                   \
	{                                                                                  \
		uint64_t r, ea = soft_ea(c, op), a = soft_ld(c, ea, sz), b = op->imm & msk(sz); \
		if (WRITES(k)) {                                                           \
			uint64_t t = (k) == F_ADD ? a + b : (k) == F_SUB ? a - b : (k) == F_AND ? a & b \
				: (k) == F_OR ? a | b : a ^ b;                             \
			soft_st(c, ea, sz, t);                                             \
		}                                                                          \
		alu(c, k, sz, a, b, &r);                                                   \
		NEXT(c, op);                                                               \
	}

#define ALU_BOTH(name, k) ALU_FORMS(name, k, 1) ALU_FORMS(name, k, 2) ALU_FORMS(name, k, 4) \
	ALU_FORMS(name, k, 8)
ALU_BOTH(add, F_ADD) ALU_BOTH(or, F_OR) ALU_BOTH(and, F_AND) ALU_BOTH(sub, F_SUB)
ALU_BOTH(xor, F_XOR) ALU_BOTH(cmp, F_CMP) ALU_BOTH(test, F_TEST)

#define MOV_FORMS(sz)                                                                      \
	HOT mov_rr_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		wreg(c, op->o[0].reg, sz, c->gpr[op->o[1].reg]);                           \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT mov_ri_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		wreg(c, op->o[0].reg, sz, op->imm);                                        \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT mov_rm_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		wreg(c, op->o[0].reg, sz, soft_ld(c, soft_ea(c, op), sz));                 \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT mov_mr_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		soft_st(c, soft_ea(c, op), sz, c->gpr[op->o[1].reg]);                      \
		NEXT(c, op);                                                                     \
	}                                                                                  \
	HOT mov_mi_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		soft_st(c, soft_ea(c, op), sz, op->imm);                                   \
		NEXT(c, op);                                                                     \
	}
MOV_FORMS(1) MOV_FORMS(2) MOV_FORMS(4) MOV_FORMS(8)

#define LEA(sz)                                                                            \
	HOT lea_##sz(struct soft_cpu *c, const struct soft_op *op)                         \
	{                                                                                  \
		wreg(c, op->o[0].reg, sz, soft_ea(c, op));                                 \
		NEXT(c, op);                                                                     \
	}
LEA(2) LEA(4) LEA(8)

/* INC/DEC keep CF: read it from the lazy state before replacing it. */
#define INCDEC(name, delta, kind, sz)                                                      \
	HOT name##_##sz(struct soft_cpu *c, const struct soft_op *op)                      \
	{                                                                                  \
		unsigned r = op->o[0].reg;                                                 \
		uint64_t cf = soft_get_cf_fast(c), a = c->gpr[r] & msk(sz), v = a + (delta); \
		wreg(c, r, sz, v);                                                         \
		soft_setlf(c, kind, sz, v, a, 1);                                          \
		c->lf_aux = cf;                                                            \
		NEXT(c, op);                                                                     \
	}
INCDEC(inc, 1, SOFT_LF_INC, 4) INCDEC(inc, 1, SOFT_LF_INC, 8)
INCDEC(dec, (uint64_t)-1, SOFT_LF_DEC, 4) INCDEC(dec, (uint64_t)-1, SOFT_LF_DEC, 8)

HOT movzx_m1(struct soft_cpu *c, const struct soft_op *op)
{
	c->gpr[op->o[0].reg] = soft_ld(c, soft_ea(c, op), 1);
	NEXT(c, op);
}

HOT movzx_m2(struct soft_cpu *c, const struct soft_op *op)
{
	c->gpr[op->o[0].reg] = soft_ld(c, soft_ea(c, op), 2);
	NEXT(c, op);
}

HOT movzx_r1(struct soft_cpu *c, const struct soft_op *op)
{
	c->gpr[op->o[0].reg] = c->gpr[op->o[1].reg] & 0xff;
	NEXT(c, op);
}

HOT movsxd_m(struct soft_cpu *c, const struct soft_op *op)
{
	c->gpr[op->o[0].reg] = (uint64_t)(int64_t)(int32_t)soft_ld(c, soft_ea(c, op), 4);
	NEXT(c, op);
}

HOT movsxd_r(struct soft_cpu *c, const struct soft_op *op)
{
	c->gpr[op->o[0].reg] = (uint64_t)(int64_t)(int32_t)c->gpr[op->o[1].reg];
	NEXT(c, op);
}

HOT push_r(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t sp = c->gpr[SOFT_RSP] - 8;
	soft_st(c, sp, 8, c->gpr[op->o[0].reg]);
	c->gpr[SOFT_RSP] = sp;
	NEXT(c, op);
}

HOT pop_r(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = soft_ld(c, c->gpr[SOFT_RSP], 8);
	c->gpr[SOFT_RSP] += 8;
	c->gpr[op->o[0].reg] = v;
	NEXT(c, op);
}

HOT call_rel(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t sp = c->gpr[SOFT_RSP] - 8;
	soft_st(c, sp, 8, op->next_rip);
	c->gpr[SOFT_RSP] = sp;
	c->rip = op->imm;
	NEXT(c, op);
}

HOT ret_near(struct soft_cpu *c, const struct soft_op *op)
{
	c->rip = soft_ld(c, c->gpr[SOFT_RSP], 8);
	c->gpr[SOFT_RSP] += 8;
	NEXT(c, op);
}

HOT jmp_rel(struct soft_cpu *c, const struct soft_op *op)
{
	c->rip = op->imm;
	NEXT(c, op);
}

/* MOVSX to a 32/64-bit register from an 8/16/32-bit register or memory source. */
#define MOVSX(name, dsz, ssz, src)                                                         \
	HOT name(struct soft_cpu *c, const struct soft_op *op)                             \
	{                                                                                  \
		wreg(c, op->o[0].reg, dsz, (uint64_t)soft_sext(src, ssz));                  \
		NEXT(c, op);                                                               \
	}
MOVSX(movsx_m1_4, 4, 1, soft_ld(c, soft_ea(c, op), 1))
MOVSX(movsx_m1_8, 8, 1, soft_ld(c, soft_ea(c, op), 1))
MOVSX(movsx_m2_4, 4, 2, soft_ld(c, soft_ea(c, op), 2))
MOVSX(movsx_m2_8, 8, 2, soft_ld(c, soft_ea(c, op), 2))
MOVSX(movsx_r1_4, 4, 1, c->gpr[op->o[1].reg])
MOVSX(movsx_r1_8, 8, 1, c->gpr[op->o[1].reg])

/* SHL/SHR/SAR reg, imm for 32/64-bit registers. */
#define SHIFT_RI(name, sz, expr_r, expr_cf, expr_of)                                       \
	HOT name(struct soft_cpu *c, const struct soft_op *op)                             \
	{                                                                                  \
		unsigned r = op->o[0].reg, n = (unsigned)(op->imm & (sz == 8 ? 63 : 31));   \
		uint64_t a = c->gpr[r] & msk(sz);                                          \
		if (n) {                                                                   \
			uint64_t res = (expr_r) & msk(sz), cf = (expr_cf) & 1, of = (expr_of) & 1; \
			wreg(c, r, sz, res);                                               \
			soft_setlf_res(c, sz, res, (cf ? SOFT_CF : 0) | (of ? SOFT_OF : 0)); \
		} else {                                                                   \
			wreg(c, r, sz, a);                                                 \
		}                                                                          \
		NEXT(c, op);                                                               \
	}
SHIFT_RI(shl_ri_4, 4, a << n, a >> (32 - n), ((a << n) >> 31) ^ (a >> (32 - n)))
SHIFT_RI(shl_ri_8, 8, a << n, a >> (64 - n), ((a << n) >> 63) ^ (a >> (64 - n)))
SHIFT_RI(shr_ri_4, 4, a >> n, a >> (n - 1), a >> 31)
SHIFT_RI(shr_ri_8, 8, a >> n, a >> (n - 1), a >> 63)
SHIFT_RI(sar_ri_4, 4, (uint64_t)((int64_t)(int32_t)a >> n), (uint64_t)((int64_t)(int32_t)a >> (n - 1)), 0)
SHIFT_RI(sar_ri_8, 8, (uint64_t)((int64_t)a >> n), (uint64_t)((int64_t)a >> (n - 1)), 0)

/* ROL/ROR reg, imm for 32/64-bit registers: only CF and OF change (when the count is not 0). */
#define ROT_RI(name, sz, left)                                                             \
	HOT name(struct soft_cpu *c, const struct soft_op *op)                             \
	{                                                                                  \
		unsigned r = op->o[0].reg, bits = sz * 8;                                  \
		unsigned n = (unsigned)(op->imm & (sz == 8 ? 63 : 31)), k = n & (bits - 1); \
		uint64_t a = c->gpr[r] & msk(sz), res = a, cf, of;                         \
		if (n) {                                                                   \
			if (left) {                                                        \
				res = k ? ((a << k) | (a >> (bits - k))) & msk(sz) : a;    \
				cf = res & 1;                                              \
				of = ((res >> (bits - 1)) & 1) ^ cf;                       \
			} else {                                                           \
				res = k ? ((a >> k) | (a << (bits - k))) & msk(sz) : a;    \
				cf = (res >> (bits - 1)) & 1;                              \
				of = ((res >> (bits - 1)) ^ (res >> (bits - 2))) & 1;      \
			}                                                                  \
			uint64_t f = soft_flags_get_fast(c) & ~(uint64_t)(SOFT_CF | SOFT_OF); \
			c->rflags = f | (cf ? SOFT_CF : 0) | (of ? SOFT_OF : 0);           \
			c->lf_op = SOFT_LF_NONE;                                           \
		}                                                                          \
		wreg(c, r, sz, res);                                                       \
		NEXT(c, op);                                                               \
	}
ROT_RI(rol_ri_4, 4, 1) ROT_RI(rol_ri_8, 8, 1) ROT_RI(ror_ri_4, 4, 0) ROT_RI(ror_ri_8, 8, 0)

/* Flag-free variants, chosen by soft_flags_dead_handler() when every flag the instruction
 * writes is overwritten before anything can observe it (see soft_flag_effect()). */
#define NF_RI(name, sz, expr)                                                              \
	HOT name(struct soft_cpu *c, const struct soft_op *op)                             \
	{                                                                                  \
		unsigned r = op->o[0].reg, n = (unsigned)(op->imm & (sz == 8 ? 63 : 31));   \
		uint64_t a = c->gpr[r] & msk(sz);                                          \
		(void)n;                                                                   \
		wreg(c, r, sz, (expr));                                                    \
		NEXT(c, op);                                                               \
	}
NF_RI(shl_nf_4, 4, a << n) NF_RI(shl_nf_8, 8, a << n)
NF_RI(shr_nf_4, 4, a >> n) NF_RI(shr_nf_8, 8, a >> n)
NF_RI(sar_nf_4, 4, (uint64_t)((int64_t)(int32_t)a >> n)) NF_RI(sar_nf_8, 8, (uint64_t)((int64_t)a >> n))
NF_RI(rol_nf_4, 4, (n & 31) ? (a << (n & 31)) | (a >> (32 - (n & 31))) : a)
NF_RI(rol_nf_8, 8, (n & 63) ? (a << (n & 63)) | (a >> (64 - (n & 63))) : a)
NF_RI(ror_nf_4, 4, (n & 31) ? (a >> (n & 31)) | (a << (32 - (n & 31))) : a)
NF_RI(ror_nf_8, 8, (n & 63) ? (a >> (n & 63)) | (a << (64 - (n & 63))) : a)
NF_RI(inc_nf_4, 4, a + 1) NF_RI(inc_nf_8, 8, a + 1)
NF_RI(dec_nf_4, 4, a - 1) NF_RI(dec_nf_8, 8, a - 1)

#define JCC(cc)                                                                            \
	HOT jcc_##cc(struct soft_cpu *c, const struct soft_op *op)                         \
	{                                                                                  \
		if (soft_cond_fast(c, cc))                                                 \
			c->rip = op->imm;                                                  \
		NEXT(c, op);                                                               \
	}
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)

static const soft_handler jcc_fns[16] = { jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
	jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15 };

/* Compare-and-branch superinstructions: CMP/TEST immediately followed by Jcc (the last op of
 * the block) run as one handler. Flags are still recorded lazily for later readers; the Jcc op
 * stays in the block (cur_op points at it while it "executes"). */
static inline __attribute__((always_inline)) bool cond_sub(uint64_t a, uint64_t b, unsigned sz,
							   unsigned cc)
{
	uint64_t m = soft_mask(sz), r = (a - b) & m;
	int64_t sa = soft_sext(a, sz), sb = soft_sext(b, sz);
	bool v;
	switch (cc >> 1) {
	case 0: v = ((a ^ b) & (a ^ r) & soft_sbit(sz)) != 0; break;
	case 1: v = a < b; break;
	case 2: v = a == b; break;
	case 3: v = a <= b; break;
	case 4: v = (r & soft_sbit(sz)) != 0; break;
	case 5: v = !__builtin_parity((unsigned)(r & 0xff)); break;
	case 6: v = sa < sb; break;
	default: v = sa <= sb; break;
	}
	return v ^ (cc & 1);
}

static inline __attribute__((always_inline)) bool cond_logic(uint64_t r, unsigned sz, unsigned cc)
{
	bool zf = (r & soft_mask(sz)) == 0, sf = (r & soft_sbit(sz)) != 0, v;
	switch (cc >> 1) {
	case 0: case 1: v = false; break;
	case 2: case 3: v = zf; break;
	case 4: v = sf; break;
	case 5: v = !__builtin_parity((unsigned)(r & 0xff)); break;
	case 6: v = sf; break;
	default: v = zf || sf; break;
	}
	return v ^ (cc & 1);
}

#define FUSED(name, sz, geta, getb, logic)                                                 \
	HOT name(struct soft_cpu *c, const struct soft_op *op)                             \
	{                                                                                  \
		uint64_t a = (geta) & msk(sz), b = (getb) & msk(sz);                       \
		const struct soft_op *j = op + 1;                                          \
		bool t;                                                                    \
		if (logic) {                                                               \
			uint64_t r = a & b;                                                \
			c->lf_op = SOFT_LF_LOGIC;                                          \
			c->lf_size = sz;                                                   \
			c->lf_res = r;                                                     \
			t = cond_logic(r, sz, j->cc);                                      \
		} else {                                                                   \
			soft_setlf(c, SOFT_LF_SUB, sz, a - b, a, b);                       \
			t = cond_sub(a, b, sz, j->cc);                                     \
		}                                                                          \
		if (t)                                                                     \
			c->rip = j->imm;                                                   \
		c->cur_op = j;                                                             \
		NEXT(c, j);                                                                \
	}
#define RR_A c->gpr[op->o[0].reg]
#define RR_B c->gpr[op->o[1].reg]
#define FUSED_SZ(sz)                                                                       \
	FUSED(cmpj_rr_##sz, sz, RR_A, RR_B, 0) FUSED(cmpj_ri_##sz, sz, RR_A, op->imm, 0)     \
	FUSED(cmpj_rm_##sz, sz, RR_A, soft_ld(c, soft_ea(c, op), sz), 0)                  \
	FUSED(cmpj_mr_##sz, sz, soft_ld(c, soft_ea(c, op), sz), RR_B, 0)                  \
	FUSED(cmpj_mi_##sz, sz, soft_ld(c, soft_ea(c, op), sz), op->imm, 0)                \
	FUSED(testj_rr_##sz, sz, RR_A, RR_B, 1) FUSED(testj_ri_##sz, sz, RR_A, op->imm, 1)  \
	FUSED(testj_mr_##sz, sz, soft_ld(c, soft_ea(c, op), sz), RR_B, 1)                  \
	FUSED(testj_mi_##sz, sz, soft_ld(c, soft_ea(c, op), sz), op->imm, 1)
FUSED_SZ(1) FUSED_SZ(2) FUSED_SZ(4) FUSED_SZ(8)

struct fuse_row {
	soft_handler from, to;
};

#define FUSE_ROWS(sz)                                                                      \
	{ cmp_rr_##sz, cmpj_rr_##sz }, { cmp_ri_##sz, cmpj_ri_##sz }, { cmp_rm_##sz, cmpj_rm_##sz }, \
	{ cmp_mr_##sz, cmpj_mr_##sz }, { cmp_mi_##sz, cmpj_mi_##sz },                      \
	{ test_rr_##sz, testj_rr_##sz }, { test_ri_##sz, testj_ri_##sz },                  \
	{ test_mr_##sz, testj_mr_##sz }, { test_mi_##sz, testj_mi_##sz }
static const struct fuse_row fuse_rows[] = { FUSE_ROWS(1), FUSE_ROWS(2), FUSE_ROWS(4), FUSE_ROWS(8) };

soft_handler soft_fuse_handler(const struct soft_op *first, const struct soft_op *jcc)
{
	if (jcc->mnem < ZYDIS_MNEMONIC_JB || jcc->mnem > ZYDIS_MNEMONIC_JZ ||
	    jcc->mnem == ZYDIS_MNEMONIC_JMP || jcc->mnem == ZYDIS_MNEMONIC_JRCXZ ||
	    jcc->mnem == ZYDIS_MNEMONIC_JECXZ || jcc->mnem == ZYDIS_MNEMONIC_JCXZ ||
	    jcc->mnem == ZYDIS_MNEMONIC_JKNZD || jcc->mnem == ZYDIS_MNEMONIC_JKZD)
		return NULL;
	for (unsigned i = 0; i < sizeof(fuse_rows) / sizeof(fuse_rows[0]); i++)
		if (fuse_rows[i].from == first->fn)
			return fuse_rows[i].to;
	return NULL;
}

/* Rows: handler for forms rr, ri, rm, mr, mi; sizes 4 and 8. */
struct alu_row {
	uint16_t mnem;
	soft_handler f[4][5];
};

#define FORMS5(n, z) { n##_rr_##z, n##_ri_##z, n##_rm_##z, n##_mr_##z, n##_mi_##z }
#define ROW(M, n) { ZYDIS_MNEMONIC_##M, { FORMS5(n, 1), FORMS5(n, 2), FORMS5(n, 4), FORMS5(n, 8) } }
static const struct alu_row rows[] = {
	ROW(ADD, add), ROW(OR, or), ROW(AND, and), ROW(SUB, sub), ROW(XOR, xor), ROW(CMP, cmp),
	ROW(TEST, test),
	ROW(MOV, mov),
};

static bool is_gpr(const struct soft_opnd *o) { return o->kind == SOFT_OPND_REG && o->reg < 16; }

soft_handler soft_fast_handler(const struct soft_op *op)
{
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	if (op->pfx & SOFT_PFX_LOCK)
		return NULL;
	switch (op->mnem) {
	case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JNO: case ZYDIS_MNEMONIC_JB:
	case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JNZ:
	case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JNBE: case ZYDIS_MNEMONIC_JS:
	case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JNP:
	case ZYDIS_MNEMONIC_JL: case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JLE:
	case ZYDIS_MNEMONIC_JNLE:
		return jcc_fns[op->cc & 15];
	case ZYDIS_MNEMONIC_PUSH:
		return is_gpr(d) && d->size == 8 ? push_r : NULL;
	case ZYDIS_MNEMONIC_POP:
		return is_gpr(d) && d->size == 8 ? pop_r : NULL;
	case ZYDIS_MNEMONIC_CALL:
		return d->kind == SOFT_OPND_IMM && !(op->pfx & SOFT_PFX_COMPAT) ? call_rel : NULL;
	case ZYDIS_MNEMONIC_JMP:
		return d->kind == SOFT_OPND_IMM ? jmp_rel : NULL;
	case ZYDIS_MNEMONIC_RET:
		return op->nopnd == 0 && !(op->pfx & SOFT_PFX_COMPAT) ? ret_near : NULL;
	case ZYDIS_MNEMONIC_MOVSX:
		if (!is_gpr(d) || d->size < 4 || (s->kind != SOFT_OPND_MEM && !is_gpr(s)))
			return NULL;
		if (s->kind == SOFT_OPND_MEM && s->size == 1)
			return d->size == 8 ? movsx_m1_8 : movsx_m1_4;
		if (s->kind == SOFT_OPND_MEM && s->size == 2)
			return d->size == 8 ? movsx_m2_8 : movsx_m2_4;
		if (s->kind == SOFT_OPND_REG && s->size == 1)
			return d->size == 8 ? movsx_r1_8 : movsx_r1_4;
		return NULL;
	case ZYDIS_MNEMONIC_SHL:
	case ZYDIS_MNEMONIC_SHR:
	case ZYDIS_MNEMONIC_SAR:
		if (!is_gpr(d) || (d->size != 4 && d->size != 8) || op->nopnd != 2 ||
		    s->kind != SOFT_OPND_IMM)
			return NULL;
		if (op->mnem == ZYDIS_MNEMONIC_SHL)
			return d->size == 8 ? shl_ri_8 : shl_ri_4;
		if (op->mnem == ZYDIS_MNEMONIC_SHR)
			return d->size == 8 ? shr_ri_8 : shr_ri_4;
		return d->size == 8 ? sar_ri_8 : sar_ri_4;
	case ZYDIS_MNEMONIC_ROL:
	case ZYDIS_MNEMONIC_ROR:
		if (!is_gpr(d) || (d->size != 4 && d->size != 8) || op->nopnd != 2 ||
		    s->kind != SOFT_OPND_IMM)
			return NULL;
		if (op->mnem == ZYDIS_MNEMONIC_ROL)
			return d->size == 8 ? rol_ri_8 : rol_ri_4;
		return d->size == 8 ? ror_ri_8 : ror_ri_4;
	case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC:
		if (!is_gpr(d) || (d->size != 4 && d->size != 8))
			return NULL;
		if (op->mnem == ZYDIS_MNEMONIC_INC)
			return d->size == 8 ? inc_8 : inc_4;
		return d->size == 8 ? dec_8 : dec_4;
	case ZYDIS_MNEMONIC_LEA:
		if (is_gpr(d) && (d->size == 4 || d->size == 8))
			return d->size == 8 ? lea_8 : lea_4;
		if (is_gpr(d) && d->size == 2)
			return lea_2;
		return NULL;
	case ZYDIS_MNEMONIC_MOVZX:
		if (!is_gpr(d) || d->size < 4)
			return NULL;
		if (s->kind == SOFT_OPND_MEM)
			return s->size == 1 ? movzx_m1 : movzx_m2;
		if (is_gpr(s) && s->size == 1)
			return movzx_r1;
		return NULL;
	case ZYDIS_MNEMONIC_MOVSXD:
		if (!is_gpr(d) || d->size != 8 || s->size != 4)
			return NULL;
		return s->kind == SOFT_OPND_MEM ? movsxd_m : is_gpr(s) ? movsxd_r : NULL;
	default:
		break;
	}
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].mnem != op->mnem || op->nopnd != 2)
			continue;
		unsigned z = d->size == 8 ? 3 : d->size == 4 ? 2 : d->size == 2 ? 1 : 0;
		if (d->size != 1u << z || (d->kind != SOFT_OPND_REG && d->kind != SOFT_OPND_MEM))
			return NULL;
		if (s->kind != SOFT_OPND_IMM && s->size != d->size)
			return NULL;
		if (is_gpr(d) && is_gpr(s))
			return rows[i].f[z][0];
		if (is_gpr(d) && s->kind == SOFT_OPND_IMM)
			return rows[i].f[z][1];
		if (is_gpr(d) && s->kind == SOFT_OPND_MEM)
			return rows[i].f[z][2];
		if (d->kind == SOFT_OPND_MEM && is_gpr(s))
			return rows[i].f[z][3];
		if (d->kind == SOFT_OPND_MEM && s->kind == SOFT_OPND_IMM)
			return rows[i].f[z][4];
		return NULL;
	}
	return NULL;
}

struct soft_form soft_fast_form(const struct soft_op *op)
{
	static const uint8_t sizes[4] = { 1, 2, 4, 8 };
	static const uint8_t test_shapes[4] = { SOFT_SHAPE_RR, SOFT_SHAPE_RI, SOFT_SHAPE_MR,
						SOFT_SHAPE_MI };
	soft_handler fn = op->fn;
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (unsigned z = 0; z < 4; z++)
			for (unsigned k = 0; k < 5; k++)
				if (rows[i].f[z][k] == fn)
					return (struct soft_form){ i == 7 ? SOFT_FORM_MOV : SOFT_FORM_ALU,
								   (uint8_t)i, (uint8_t)k, sizes[z] };
	for (unsigned j = 0; j < sizeof(fuse_rows) / sizeof(fuse_rows[0]); j++)
		if (fuse_rows[j].to == fn) {
			unsigned x = j % 9;
			return (struct soft_form){ SOFT_FORM_CMPJ, x < 5 ? SOFT_ALU_CMP : SOFT_ALU_TEST,
						   x < 5 ? (uint8_t)x : test_shapes[x - 5], sizes[j / 9] };
		}
	if (fn == lea_4 || fn == lea_8)
		return (struct soft_form){ SOFT_FORM_LEA, 0, SOFT_SHAPE_RM, fn == lea_8 ? 8 : 4 };
	if (fn == movzx_m1 || fn == movzx_m2)
		return (struct soft_form){ SOFT_FORM_MOVZX, 0, SOFT_SHAPE_RM, fn == movzx_m2 ? 2 : 1 };
	if (fn == movzx_r1)
		return (struct soft_form){ SOFT_FORM_MOVZX, 0, SOFT_SHAPE_RR, 1 };
	if (fn == movsxd_m || fn == movsxd_r)
		return (struct soft_form){ SOFT_FORM_MOVSXD, 0,
					   fn == movsxd_m ? SOFT_SHAPE_RM : SOFT_SHAPE_RR, 4 };
	static const struct {
		soft_handler fn;
		uint8_t dsz, shape, ssz;
	} sx[] = { { movsx_m1_4, 4, SOFT_SHAPE_RM, 1 }, { movsx_m1_8, 8, SOFT_SHAPE_RM, 1 },
		   { movsx_m2_4, 4, SOFT_SHAPE_RM, 2 }, { movsx_m2_8, 8, SOFT_SHAPE_RM, 2 },
		   { movsx_r1_4, 4, SOFT_SHAPE_RR, 1 }, { movsx_r1_8, 8, SOFT_SHAPE_RR, 1 } };
	for (unsigned i = 0; i < sizeof(sx) / sizeof(sx[0]); i++)
		if (sx[i].fn == fn)
			return (struct soft_form){ SOFT_FORM_MOVSX, sx[i].dsz, sx[i].shape, sx[i].ssz };
	if (fn == push_r)
		return (struct soft_form){ SOFT_FORM_PUSH, 0, SOFT_SHAPE_MR, 8 };
	if (fn == pop_r)
		return (struct soft_form){ SOFT_FORM_POP, 0, SOFT_SHAPE_RM, 8 };
	if (fn == call_rel)
		return (struct soft_form){ SOFT_FORM_CALL, 0, SOFT_SHAPE_MI, 8 };
	if (fn == ret_near)
		return (struct soft_form){ SOFT_FORM_RET, 0, SOFT_SHAPE_RM, 8 };
	static const soft_handler nf[7][2] = {
		{ shl_nf_4, shl_nf_8 }, { shr_nf_4, shr_nf_8 }, { sar_nf_4, sar_nf_8 },
		{ rol_nf_4, rol_nf_8 }, { ror_nf_4, ror_nf_8 }, { inc_nf_4, inc_nf_8 },
		{ dec_nf_4, dec_nf_8 } };
	for (unsigned i = 0; i < 7; i++)
		for (unsigned z = 0; z < 2; z++)
			if (fn == nf[i][z])
				return (struct soft_form){ SOFT_FORM_SHNF, (uint8_t)i, SOFT_SHAPE_RI,
							   z ? 8 : 4 };
	if (fn == inc_4 || fn == inc_8 || fn == dec_4 || fn == dec_8)
		return (struct soft_form){ SOFT_FORM_INCDEC, fn == dec_4 || fn == dec_8, SOFT_SHAPE_RR,
					   fn == inc_8 || fn == dec_8 ? 8 : 4 };
	for (unsigned i = 0; i < 16; i++)
		if (fn == jcc_fns[i])
			return (struct soft_form){ SOFT_FORM_JCC, 0, SOFT_SHAPE_RI, 8 };
	if (fn == jmp_rel)
		return (struct soft_form){ SOFT_FORM_JMP, 0, SOFT_SHAPE_RI, 8 };
	return (struct soft_form){ SOFT_FORM_NONE, 0, 0, 0 };
}

/* ---- dead-flag elimination (used by the block decoder, code.c) ---- */
struct nf_row {
	soft_handler from, to;
};

static const struct nf_row nf_rows[] = {
	{ shl_ri_4, shl_nf_4 }, { shl_ri_8, shl_nf_8 }, { shr_ri_4, shr_nf_4 }, { shr_ri_8, shr_nf_8 },
	{ sar_ri_4, sar_nf_4 }, { sar_ri_8, sar_nf_8 }, { rol_ri_4, rol_nf_4 }, { rol_ri_8, rol_nf_8 },
	{ ror_ri_4, ror_nf_4 }, { ror_ri_8, ror_nf_8 }, { inc_4, inc_nf_4 }, { inc_8, inc_nf_8 },
	{ dec_4, dec_nf_4 }, { dec_8, dec_nf_8 },
};

soft_handler soft_flags_dead_handler(const struct soft_op *op)
{
	for (unsigned i = 0; i < sizeof(nf_rows) / sizeof(nf_rows[0]); i++)
		if (nf_rows[i].from == op->fn)
			return nf_rows[i].to;
	return NULL;
}

#define KILL_ROW(n, z) n##_rr_##z, n##_ri_##z
#define KILL_SZ(z) KILL_ROW(add, z), KILL_ROW(or, z), KILL_ROW(and, z), KILL_ROW(sub, z), \
	KILL_ROW(xor, z), KILL_ROW(cmp, z), KILL_ROW(test, z)
static const soft_handler kill_fns[] = { KILL_SZ(1), KILL_SZ(2), KILL_SZ(4), KILL_SZ(8) };

static const soft_handler neutral_fns[] = {
	mov_rr_1, mov_rr_2, mov_rr_4, mov_rr_8, mov_ri_1, mov_ri_2, mov_ri_4, mov_ri_8,
	lea_2, lea_4, lea_8, movzx_r1, movsxd_r, movsx_r1_4, movsx_r1_8,
	/* partial writers that read nothing: liveness passes through unchanged */
	rol_ri_4, rol_ri_8, ror_ri_4, ror_ri_8, inc_4, inc_8, dec_4, dec_8,
	shl_nf_4, shl_nf_8, shr_nf_4, shr_nf_8, sar_nf_4, sar_nf_8, rol_nf_4, rol_nf_8,
	ror_nf_4, ror_nf_8, inc_nf_4, inc_nf_8, dec_nf_4, dec_nf_8,
};

static bool mul_of_registers(const struct soft_op *op)
{
	for (unsigned i = 0; i < op->nopnd; i++)
		if (op->o[i].kind != SOFT_OPND_REG && op->o[i].kind != SOFT_OPND_IMM)
			return false;
	return op->nopnd > 0;
}

/* How op affects the liveness of the arithmetic flags, walking a block backwards: KILL (writes
 * all of them, reads none, cannot fault), NEUTRAL (reads none, cannot fault; may write some),
 * USE (anything else: reads flags, may fault so that the flags before it become visible to an
 * exception handler, or is not classified). */
enum soft_flag_effect soft_flag_effect(const struct soft_op *op)
{
	for (unsigned i = 0; i < sizeof(kill_fns) / sizeof(kill_fns[0]); i++)
		if (kill_fns[i] == op->fn)
			return SOFT_FLAGS_KILL;
	if ((op->mnem == ZYDIS_MNEMONIC_IMUL || op->mnem == ZYDIS_MNEMONIC_MUL) &&
	    op->fn != soft_h_ud && mul_of_registers(op))
		return SOFT_FLAGS_KILL; /* all six flags from the product; no memory: no fault */
	if (op->fn == shl_ri_4 || op->fn == shl_ri_8 || op->fn == shr_ri_4 || op->fn == shr_ri_8 ||
	    op->fn == sar_ri_4 || op->fn == sar_ri_8)
		return (op->imm & (op->o[0].size == 8 ? 63 : 31)) ? SOFT_FLAGS_KILL : SOFT_FLAGS_NEUTRAL;
	for (unsigned i = 0; i < sizeof(neutral_fns) / sizeof(neutral_fns[0]); i++)
		if (neutral_fns[i] == op->fn)
			return SOFT_FLAGS_NEUTRAL;
	return SOFT_FLAGS_USE;
}
