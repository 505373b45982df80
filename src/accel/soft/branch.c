/* Control transfer and stack family: JMP, Jcc, CALL, RET, LOOP*, JRCXZ, SETcc, CMOVcc, PUSH,
 * POP, PUSHA, POPA, ENTER, LEAVE. Branch targets of direct forms were resolved at decode time (op->imm). */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

static void h_jcc(struct soft_cpu *c, const struct soft_op *op)
{
	if (soft_cond(c, op->cc))
		c->rip = op->imm;
}

static void h_jmp(struct soft_cpu *c, const struct soft_op *op)
{
	c->rip = op->o[0].kind == SOFT_OPND_IMM ? op->imm : soft_rd(c, op, 0);
}

/* CALL/RET push and pop the operand size: 64 bits in 64-bit mode, 32 (16 with 66h) in
 * compatibility mode. */
static unsigned ret_size(const struct soft_op *op)
{
	return (op->pfx & SOFT_PFX_COMPAT) ? op->osize : 8;
}

static void h_call(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t target = op->o[0].kind == SOFT_OPND_IMM ? op->imm : soft_rd(c, op, 0);
	soft_push_op(c, op, ret_size(op), op->next_rip);
	c->rip = target;
}

static void h_ret(struct soft_cpu *c, const struct soft_op *op)
{
	c->rip = soft_pop_op(c, op, ret_size(op));
	if (op->nopnd) {
		if (op->pfx & SOFT_PFX_COMPAT)
			soft_sp_add_legacy(c, (int64_t)(op->imm & 0xffff));
		else
			c->gpr[SOFT_RSP] += op->imm & 0xffff;
	}
}

static uint64_t count_reg(struct soft_cpu *c, const struct soft_op *op)
{
	return soft_addr_mask(op, c->gpr[SOFT_RCX]);
}

static bool loop_dec(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->asize == 4)
		c->gpr[SOFT_RCX] = (uint32_t)(c->gpr[SOFT_RCX] - 1);
	else if (op->asize == 2)
		soft_reg_set(c, SOFT_RCX, 2, c->gpr[SOFT_RCX] - 1);
	else
		c->gpr[SOFT_RCX]--;
	return count_reg(c, op) != 0;
}

static void h_loop(struct soft_cpu *c, const struct soft_op *op)
{
	if (loop_dec(c, op))
		c->rip = op->imm;
}

static void h_loope(struct soft_cpu *c, const struct soft_op *op)
{
	if (loop_dec(c, op) && soft_cond(c, 4))
		c->rip = op->imm;
}

static void h_loopne(struct soft_cpu *c, const struct soft_op *op)
{
	if (loop_dec(c, op) && soft_cond(c, 5))
		c->rip = op->imm;
}

static void h_jrcxz(struct soft_cpu *c, const struct soft_op *op)
{
	if (count_reg(c, op) == 0)
		c->rip = op->imm;
}

static void h_setcc(struct soft_cpu *c, const struct soft_op *op)
{
	soft_wr(c, op, 0, soft_cond(c, op->cc));
}

static void h_cmovcc(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size, r = op->o[0].reg;
	uint64_t v = soft_rd(c, op, 1);
	if (soft_cond(c, op->cc))
		soft_reg_set(c, r, sz, v);
	else if (sz == 4)
		c->gpr[r] = (uint32_t)c->gpr[r];
}

static void h_push(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = soft_slot_size(op); /* segment registers: seg.c */
	uint64_t v = op->o[0].kind == SOFT_OPND_IMM ? op->imm : soft_rd(c, op, 0);
	soft_push_op(c, op, sz, v);
}

static void h_pop(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = soft_slot_size(op); /* segment registers: seg.c */
	uint64_t v = soft_pop_op(c, op, sz);
	if (op->o[0].kind == SOFT_OPND_REG)
		soft_reg_set(c, op->o[0].reg, sz, v);
	else
		soft_st(c, soft_ea(c, op), sz, v); /* address computed with the new rSP */
}

/* PUSHA/PUSHAD and POPA/POPAD (compatibility mode only): all eight GPRs at the operand size,
 * the pushed rSP being its value before the first push; POP skips the rSP slot. */
static void h_pusha(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	uint64_t sp = c->gpr[SOFT_RSP];
	for (unsigned r = SOFT_RAX; r <= SOFT_RDI; r++)
		soft_push_op(c, op, sz, r == SOFT_RSP ? sp : c->gpr[r]);
}

static void h_popa(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	uint64_t v[8];
	for (unsigned r = 8; r-- > 0;)
		v[r] = soft_pop_op(c, op, sz);
	for (unsigned r = SOFT_RAX; r <= SOFT_RDI; r++)
		if (r != SOFT_RSP)
			soft_reg_set(c, r, sz, v[r]);
}

/* ENTER/LEAVE: frame slots of 64 bits on RSP/RBP, or of the operand size on SS:ESP/EBP
 * (SS:SP/BP with a 16-bit stack) outside 64-bit mode. */
static void h_enter(struct soft_cpu *c, const struct soft_op *op)
{
	bool compat = op->pfx & SOFT_PFX_COMPAT;
	unsigned sz = compat ? op->osize : 8;
	uint64_t size = op->imm & 0xffff;
	unsigned level = op->aux & 31;
	soft_push_op(c, op, sz, c->gpr[SOFT_RBP]);
	uint64_t frame = c->gpr[SOFT_RSP];
	uint64_t m = compat ? soft_sp_mask(c) : ~0ULL;
	for (unsigned i = 1; i < level; i++) {
		uint64_t a = (c->gpr[SOFT_RBP] - i * sz) & m;
		soft_push_op(c, op, sz, soft_ld(c, compat ? soft_seg_linear(c, SOFT_SS, a, sz) : a,
						 sz));
	}
	if (level)
		soft_push_op(c, op, sz, frame & m);
	soft_reg_set(c, SOFT_RBP, m == 0xffff ? 2 : sz, frame);
	if (compat)
		soft_sp_add_legacy(c, -(int64_t)size);
	else
		c->gpr[SOFT_RSP] -= size;
}

static void h_leave(struct soft_cpu *c, const struct soft_op *op)
{
	if (op->pfx & SOFT_PFX_COMPAT) {
		uint64_t m = soft_sp_mask(c);
		if (m == 0xffff)
			soft_reg_set(c, SOFT_RSP, 2, c->gpr[SOFT_RBP]);
		else
			c->gpr[SOFT_RSP] = (uint32_t)c->gpr[SOFT_RBP];
		soft_reg_set(c, SOFT_RBP, op->osize, soft_pop_op(c, op, op->osize));
		return;
	}
	uint64_t v = soft_ld(c, c->gpr[SOFT_RBP], 8);
	c->gpr[SOFT_RSP] = c->gpr[SOFT_RBP] + 8;
	c->gpr[SOFT_RBP] = v;
}

#define CC_ROWS(prefix, fn)                                                                  \
	{ ZYDIS_MNEMONIC_##prefix##O, fn }, { ZYDIS_MNEMONIC_##prefix##NO, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##B, fn }, { ZYDIS_MNEMONIC_##prefix##NB, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##Z, fn }, { ZYDIS_MNEMONIC_##prefix##NZ, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##BE, fn }, { ZYDIS_MNEMONIC_##prefix##NBE, fn },             \
	{ ZYDIS_MNEMONIC_##prefix##S, fn }, { ZYDIS_MNEMONIC_##prefix##NS, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##P, fn }, { ZYDIS_MNEMONIC_##prefix##NP, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##L, fn }, { ZYDIS_MNEMONIC_##prefix##NL, fn },               \
	{ ZYDIS_MNEMONIC_##prefix##LE, fn }, { ZYDIS_MNEMONIC_##prefix##NLE, fn }

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_jmp)
SOFT_THREADED(h_call)
SOFT_THREADED(h_ret)
SOFT_THREADED(h_loop)
SOFT_THREADED(h_loope)
SOFT_THREADED(h_loopne)
SOFT_THREADED(h_jrcxz)
SOFT_THREADED(h_push)
SOFT_THREADED(h_pop)
SOFT_THREADED(h_enter)
SOFT_THREADED(h_leave)
SOFT_THREADED(h_pusha)
SOFT_THREADED(h_popa)

const struct soft_insn_def soft_branch_defs[] = {
	CC_ROWS(J, h_jcc), CC_ROWS(SET, h_setcc), CC_ROWS(CMOV, h_cmovcc),
	{ ZYDIS_MNEMONIC_JMP, h_jmp_t }, { ZYDIS_MNEMONIC_CALL, h_call_t },
	{ ZYDIS_MNEMONIC_RET, h_ret_t }, { ZYDIS_MNEMONIC_LOOP, h_loop_t },
	{ ZYDIS_MNEMONIC_LOOPE, h_loope_t }, { ZYDIS_MNEMONIC_LOOPNE, h_loopne_t },
	{ ZYDIS_MNEMONIC_JRCXZ, h_jrcxz_t }, { ZYDIS_MNEMONIC_JECXZ, h_jrcxz_t },
	{ ZYDIS_MNEMONIC_PUSH, h_push_t }, { ZYDIS_MNEMONIC_POP, h_pop_t },
	{ ZYDIS_MNEMONIC_ENTER, h_enter_t }, { ZYDIS_MNEMONIC_LEAVE, h_leave_t },
	{ ZYDIS_MNEMONIC_JCXZ, h_jrcxz_t }, { ZYDIS_MNEMONIC_PUSHA, h_pusha_t },
	{ ZYDIS_MNEMONIC_PUSHAD, h_pusha_t }, { ZYDIS_MNEMONIC_POPA, h_popa_t },
	{ ZYDIS_MNEMONIC_POPAD, h_popa_t },
	{ 0, NULL },
};
