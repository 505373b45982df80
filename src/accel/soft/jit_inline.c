/* Inline templates of the baseline JIT (see soft_jit.h): the hottest forms that alu_fast.c
 * specializes (MOV/MOVZX/MOVSXD/LEA, ADD/SUB/AND/OR/XOR/CMP/TEST, PUSH/POP/CALL/RET/JMP and the
 * fused CMP/TEST+Jcc) are emitted as host instructions. Guest registers and the lazy-flag
 * record live in struct soft_cpu (pinned in rbx); the records written are exactly alu_fast.c's.
 * Memory operands go through an inlined TLB probe; on a miss or a page-splitting access the
 * template has changed nothing yet and jumps to a stub that runs the op's handler instead
 * (which takes the slow path, raises faults with cur_op set, sees self-modifying writes).
 * Host registers: rax, rcx, rdx, rsi are scratch between ops; guest registers are read
 * through the register cache (jit_regs.c). */
#include <stddef.h>
#include <string.h>

#include "accel/soft/jit_emit.h"

#if defined(__x86_64__)

/* Whether ea() handles op's address: 64-bit addressing, with or without FS/GS. */
static bool ea_ok(const struct soft_op *op)
{
	return !(op->seg & SOFT_SEG_ADDR32);
}

/* rax = the effective address of op's memory operand (ea_ok(op)). */
static void ea(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_emit *e = &x->e;
	if (op->base < 16 && op->disp == (int32_t)op->disp) {
		unsigned h = soft_jit_gpr_host(x, op->base);
		rex_rr(e, true, RAX, h, false); /* lea rax, [h + disp32] (r12 needs a SIB) */
		b2(e, 0x8d, 0x80 | (h & 7));
		if ((h & 7) == 4)
			b(e, 0x24);
		soft_emit_u32(e, (uint32_t)op->disp);
	} else if (op->base != SOFT_NOREG) {
		soft_jit_ld_gpr(x, RAX, op->base, 8);
		if (op->disp == (int32_t)op->disp) {
			if (op->disp) {
				b2(e, 0x48, 0x05);
				soft_emit_u32(e, (uint32_t)op->disp);
			}
		} else {
			mov_imm(e, RCX, (uint64_t)op->disp);
			rr(e, 0x01, RAX, RCX, 8);
		}
	} else {
		mov_imm(e, RAX, (uint64_t)op->disp);
	}
	if (op->index < 16) {
		unsigned h = soft_jit_gpr_host(x, op->index);
		b(e, 0x48 | (h >= 8 ? 2 : 0)); /* lea rax, [rax + h * 2^scale] (REX.X) */
		b2(e, 0x8d, 0x04);
		b(e, (unsigned)(op->scale << 6) | ((h & 7) << 3) | RAX);
	} else if (op->index != SOFT_NOREG) {
		soft_jit_ld_gpr(x, RCX, op->index, 8);
		b2(e, 0x48, 0x8d); /* lea rax, [rax + rcx * 2^scale] */
		b2(e, 0x04, (unsigned)(op->scale << 6) | (RCX << 3) | RAX);
	}
	if ((op->seg & SOFT_SEG_MASK) == SOFT_SEG_FS || (op->seg & SOFT_SEG_MASK) == SOFT_SEG_GS) {
		b2(e, 0x48, 0x03); /* add rax, [rbx + fs_base / gs_base] */
		m_rbx(e, RAX, (op->seg & SOFT_SEG_MASK) == SOFT_SEG_FS ? OFF(fs_base) : OFF(gs_base));
	}
}

static struct soft_jit_fix *fix_new(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_jit_fix *f = &x->fix[x->nfix++];
	f->nsite = 0;
	f->op = op;
	f->fn = op->fn;
	f->resume = NULL;
	return f;
}

/* The template of fix f ends here: its stub continues here, with the cache as it is now. */
static void fix_done(struct soft_jit_ctx *x, struct soft_jit_fix *f)
{
	f->resume = x->e.p;
	f->regs = x->regs;
}

/* jcc rel32 to the fix's stub (patched when the stub is emitted). */
static void jcc_stub(struct soft_emit *e, struct soft_jit_fix *f, unsigned cc)
{
	b2(e, 0x0f, 0x80 + cc);
	f->site[f->nsite++] = e->p;
	soft_emit_u32(e, 0);
}

/* TLB probe of the sz-byte access at rax (tag: 0 read, 8 write, 16 read and write): rax
 * becomes the host address, or control goes to the stub. The tag is compared with the page of
 * the access's last byte: an access that splits pages names the next page, which can never be
 * the tag of the entry indexed by the first byte's page, so it takes the stub too. Clobbers
 * rcx, rdx. */
static void probe(struct soft_emit *e, struct soft_jit_fix *f, unsigned tag, unsigned sz)
{
	uint32_t tlb = OFF(tlb); /* the pointer to the TLB set in use */
	static const uint8_t idx[] = { 0x48, 0x89, 0xc2,       /* mov rdx, rax */
				       0x48, 0xc1, 0xea, 0x0c, /* shr rdx, 12 */
				       0x81, 0xe2, (SOFT_TLB_SIZE - 1) & 0xff,
				       (SOFT_TLB_SIZE - 1) >> 8, 0, 0, /* and edx, SOFT_TLB_SIZE - 1 */
				       0xc1, 0xe2, 0x05,       /* shl edx, 5 */
				       0x48, 0x8d, 0x48, 0,    /* lea rcx, [rax + sz - 1] */
				       0x48, 0x81, 0xe1, 0x00, 0xf0, 0xff, 0xff }; /* and rcx, ~0xfff */
	_Static_assert(sizeof(struct soft_tlb_entry) == 32 && SOFT_TLB_SIZE <= 65536, "TLB layout");
	uint8_t code[sizeof(idx)];
	memcpy(code, idx, sizeof(idx));
	code[19] = (uint8_t)(sz - 1);
	soft_emit_bytes(e, code, sizeof(code));
	b2(e, 0x48, 0x03); /* add rdx, [rbx + tlb]: rdx = the entry */
	b(e, 0x93);
	soft_emit_u32(e, tlb);
	for (unsigned t = tag == 16 ? 0 : tag; t <= (tag == 16 ? 8u : tag); t += 8) {
		b2(e, 0x48, 0x3b); /* cmp rcx, [rdx + t] */
		b2(e, 0x4a, (uint8_t)t);
		jcc_stub(e, f, 0x5);
	}
	b2(e, 0x48, 0x03); /* add rax, [rdx + addend] */
	b2(e, 0x42, (uint8_t)offsetof(struct soft_tlb_entry, addend));
}

void soft_jit_mem(struct soft_jit_ctx *x, const struct soft_op *op, unsigned tag, unsigned sz,
		  bool align16)
{
	struct soft_jit_fix *fx = fix_new(x, op);
	ea(x, op);
	if (align16) {
		b2(&x->e, 0xa8, 15); /* test al, 15; jnz stub (the handler raises #GP) */
		jcc_stub(&x->e, fx, 0x5);
	}
	probe(&x->e, fx, tag, sz);
}

void soft_jit_mem_done(struct soft_jit_ctx *x)
{
	fix_done(x, &x->fix[x->nfix - 1]);
}

/* r = zero-extended sz bytes at [rax]. */
static void ld_host(struct soft_emit *e, unsigned r, unsigned sz)
{
	switch (sz) {
	case 8: b2(e, 0x48, 0x8b); break;
	case 4: b(e, 0x8b); break;
	case 2: b2(e, 0x0f, 0xb7); break;
	default: b2(e, 0x0f, 0xb6); break;
	}
	b(e, (r << 3) | RAX);
}

/* [base] = low sz bytes of r (base: rax or rsi). */
static void st_host(struct soft_emit *e, unsigned base, unsigned r, unsigned sz)
{
	if (sz == 8)
		b(e, 0x48);
	else if (sz == 2)
		b(e, 0x66);
	b2(e, sz == 1 ? 0x88 : 0x89, (r << 3) | base);
}

/* The second operand (register or immediate) into rcx, zero-extended from sz. */
static void src_b(struct soft_jit_ctx *x, const struct soft_op *op, unsigned shape, unsigned sz)
{
	struct soft_emit *e = &x->e;
	if (shape == SOFT_SHAPE_RI || shape == SOFT_SHAPE_MI)
		mov_imm(e, RCX, op->imm & soft_mask(sz));
	else
		soft_jit_ld_gpr(x, RCX, op->o[1].reg, sz);
}

/* Lazy-flag record of ALU op k on a (rax) and b (rcx), exactly as alu_fast.c's alu(); rdx =
 * the 64-bit result. Host flags are clobbered. */
static void alu_record(struct soft_emit *e, unsigned k, unsigned sz)
{
	static const uint8_t opc[] = { 0x01, 0x09, 0x21, 0x29, 0x31, 0x29, 0x21 };
	bool arith = k == SOFT_ALU_ADD || k == SOFT_ALU_SUB || k == SOFT_ALU_CMP;
	if (arith) {
		st64(e, RAX, OFF(lf_a));
		st64(e, RCX, OFF(lf_b));
	}
	rr(e, 0x89, RDX, RAX, 8);
	rr(e, opc[k], RDX, RCX, 8);
	st64(e, RDX, OFF(lf_res));
	st32_imm(e, OFF(lf_op), k == SOFT_ALU_ADD ? SOFT_LF_ADD : arith ? SOFT_LF_SUB : SOFT_LF_LOGIC);
	st32_imm(e, OFF(lf_size), sz);
}

static bool inline_alu(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	unsigned sz = f.size, k = f.alu;
	bool writes = k != SOFT_ALU_CMP && k != SOFT_ALU_TEST;
	if (f.shape >= SOFT_SHAPE_RM && !ea_ok(op))
		return false;
	struct soft_jit_fix *fx = NULL;
	switch (f.shape) {
	case SOFT_SHAPE_RR: case SOFT_SHAPE_RI:
		soft_jit_ld_gpr(x, RAX, op->o[0].reg, sz);
		src_b(x, op, f.shape, sz);
		break;
	case SOFT_SHAPE_RM:
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, 0, sz);
		ld_host(e, RCX, sz);
		soft_jit_ld_gpr(x, RAX, op->o[0].reg, sz);
		break;
	default: /* MR, MI: read-modify-write through the write tag (writable implies readable) */
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, writes ? 16 : 0, sz);
		rr(e, 0x89, RSI, RAX, 8);
		ld_host(e, RAX, sz);
		src_b(x, op, f.shape, sz);
		break;
	}
	if (x->flags_dead) { /* rdx = the result only */
		static const uint8_t opc[] = { 0x01, 0x09, 0x21, 0x29, 0x31 };
		if (writes) {
			rr(e, 0x89, RDX, RAX, 8);
			rr(e, opc[k], RDX, RCX, 8);
		}
	} else {
		alu_record(e, k, sz);
	}
	if (writes) {
		if (f.shape <= SOFT_SHAPE_RM) {
			rr(e, 0x89, RAX, RDX, 8);
			soft_jit_wr_gpr(x, op->o[0].reg, sz);
		} else {
			st_host(e, RSI, RDX, sz);
		}
	}
	if (fx)
		fix_done(x, fx);
	return true;
}

/* Fused CMP/TEST + the block's final Jcc (op + 1): record the flags, then compare on the host
 * at the guest's width so the host condition is the guest's, and set rip when taken. */
static bool inline_cmpj(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	const struct soft_op *j = op + 1;
	unsigned sz = f.size;
	if (f.shape >= SOFT_SHAPE_RM && !ea_ok(op))
		return false;
	struct soft_jit_fix *fx = NULL;
	if (f.shape == SOFT_SHAPE_RR || f.shape == SOFT_SHAPE_RI) {
		soft_jit_ld_gpr(x, RAX, op->o[0].reg, sz);
		src_b(x, op, f.shape, sz);
	} else {
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, 0, sz);
		if (f.shape == SOFT_SHAPE_RM) {
			ld_host(e, RCX, sz);
			soft_jit_ld_gpr(x, RAX, op->o[0].reg, sz);
		} else {
			ld_host(e, RAX, sz);
			src_b(x, op, f.shape, sz);
		}
	}
	alu_record(e, f.alu, sz);
	rr(e, f.alu == SOFT_ALU_CMP ? 0x39 : 0x85, RAX, RCX, sz);
	b2(e, 0x70 + ((j->cc & 15) ^ 1), 17); /* not taken: skip the rip store */
	b2(e, 0x48, 0xb8);
	soft_emit_u64(e, j->imm);
	st64(e, RAX, OFF(rip));
	if (fx)
		fix_done(x, fx);
	return true;
}

/* rsp - 8 into rax, probed for an 8-byte write. */
static struct soft_jit_fix *push_slot(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_jit_fix *fx = fix_new(x, op);
	soft_jit_ld_gpr(x, RAX, SOFT_RSP, 8);
	b2(&x->e, 0x48, 0x83); /* sub rax, 8 */
	b2(&x->e, 0xe8, 8);
	probe(&x->e, fx, 8, 8);
	return fx;
}

/* add/sub qword [rbx + rsp], 8 */
static void rsp_adjust(struct soft_jit_ctx *x, bool add)
{
	struct soft_emit *e = &x->e;
	b2(e, 0x48, 0x83);
	m_rbx(e, add ? 0 : 5, OFF_GPR(SOFT_RSP));
	b(e, 8);
	int h = soft_jit_gpr_cached(x, SOFT_RSP);
	if (h >= 0) { /* the same on the cached copy */
		rex_rr(e, true, 0, (unsigned)h, false);
		b2(e, 0x83, 0xc0 | (add ? 0u : 5u << 3) | ((unsigned)h & 7));
		b(e, 8);
	}
}

static bool inline_stack(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	struct soft_jit_fix *fx;
	switch (f.kind) {
	case SOFT_FORM_PUSH:
		fx = push_slot(x, op);
		soft_jit_ld_gpr(x, RCX, op->o[0].reg, 8);
		st_host(e, RAX, RCX, 8);
		rsp_adjust(x, false);
		break;
	case SOFT_FORM_CALL:
		fx = push_slot(x, op);
		mov_imm(e, RCX, op->next_rip);
		st_host(e, RAX, RCX, 8);
		rsp_adjust(x, false);
		mov_imm(e, RAX, op->imm);
		st64(e, RAX, OFF(rip));
		break;
	default: /* POP, RET */
		fx = fix_new(x, op);
		soft_jit_ld_gpr(x, RAX, SOFT_RSP, 8);
		probe(e, fx, 0, 8);
		ld_host(e, RAX, 8);
		rsp_adjust(x, true);
		if (f.kind == SOFT_FORM_RET)
			st64(e, RAX, OFF(rip));
		else
			soft_jit_st_gpr(x, RAX, op->o[0].reg);
		break;
	}
	fix_done(x, fx);
	return true;
}

static bool inline_move(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	unsigned sz = f.size, d = op->o[0].reg;
	struct soft_jit_fix *fx = NULL;
	if (f.shape >= SOFT_SHAPE_RM && !ea_ok(op))
		return false;
	switch (f.kind * 8 + f.shape) {
	case SOFT_FORM_MOV * 8 + SOFT_SHAPE_RR:
		soft_jit_ld_gpr(x, RAX, op->o[1].reg, sz);
		soft_jit_wr_gpr(x, d, sz);
		break;
	case SOFT_FORM_MOV * 8 + SOFT_SHAPE_RI:
		mov_imm(e, RAX, op->imm & soft_mask(sz));
		soft_jit_wr_gpr(x, d, sz);
		break;
	case SOFT_FORM_MOV * 8 + SOFT_SHAPE_RM:
	case SOFT_FORM_MOVZX * 8 + SOFT_SHAPE_RM:
	case SOFT_FORM_MOVSXD * 8 + SOFT_SHAPE_RM:
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, 0, sz);
		ld_host(e, RAX, sz);
		if (f.kind == SOFT_FORM_MOVSXD) {
			b2(e, 0x48, 0x63); /* movsxd rax, eax */
			b(e, 0xc0);
		}
		if (f.kind == SOFT_FORM_MOV)
			soft_jit_wr_gpr(x, d, sz);
		else
			soft_jit_st_gpr(x, RAX, d);
		break;
	case SOFT_FORM_MOV * 8 + SOFT_SHAPE_MR:
	case SOFT_FORM_MOV * 8 + SOFT_SHAPE_MI:
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, 8, sz);
		if (f.shape == SOFT_SHAPE_MR)
			soft_jit_ld_gpr(x, RCX, op->o[1].reg, 8);
		else
			mov_imm(e, RCX, op->imm);
		st_host(e, RAX, RCX, sz);
		break;
	case SOFT_FORM_MOVSX * 8 + SOFT_SHAPE_RM:
	case SOFT_FORM_MOVSX * 8 + SOFT_SHAPE_RR:
		if (f.shape == SOFT_SHAPE_RM) {
			fx = fix_new(x, op);
			ea(x, op);
			probe(e, fx, 0, sz);
			b2(e, 0x48, 0x0f); /* movsx rax, byte/word [rax] */
			b2(e, sz == 1 ? 0xbe : 0xbf, 0x00);
		} else {
			b2(e, 0x48, 0x0f); /* movsx rax, byte [rbx + src] */
			b(e, 0xbe);
			m_rbx(e, RAX, OFF_GPR(op->o[1].reg));
		}
		soft_jit_wr_gpr(x, d, f.alu);
		break;
	case SOFT_FORM_MOVZX * 8 + SOFT_SHAPE_RR:
		soft_jit_ld_gpr(x, RAX, op->o[1].reg, 1);
		soft_jit_st_gpr(x, RAX, d);
		break;
	case SOFT_FORM_MOVSXD * 8 + SOFT_SHAPE_RR:
		b2(e, 0x48, 0x63); /* movsxd rax, dword [rbx + src] */
		m_rbx(e, RAX, OFF_GPR(op->o[1].reg));
		soft_jit_st_gpr(x, RAX, d);
		break;
	case SOFT_FORM_LEA * 8 + SOFT_SHAPE_RM:
		if (op->seg)
			return false;
		ea(x, op);
		soft_jit_wr_gpr(x, d, sz);
		break;
	default:
		return false;
	}
	if (fx)
		fix_done(x, fx);
	return true;
}

#define CC_MNEMS(p) ZYDIS_MNEMONIC_##p##O, ZYDIS_MNEMONIC_##p##NO, ZYDIS_MNEMONIC_##p##B,     \
	ZYDIS_MNEMONIC_##p##NB, ZYDIS_MNEMONIC_##p##Z, ZYDIS_MNEMONIC_##p##NZ,                 \
	ZYDIS_MNEMONIC_##p##BE, ZYDIS_MNEMONIC_##p##NBE, ZYDIS_MNEMONIC_##p##S,                \
	ZYDIS_MNEMONIC_##p##NS, ZYDIS_MNEMONIC_##p##P, ZYDIS_MNEMONIC_##p##NP,                 \
	ZYDIS_MNEMONIC_##p##L, ZYDIS_MNEMONIC_##p##NL, ZYDIS_MNEMONIC_##p##LE,                 \
	ZYDIS_MNEMONIC_##p##NLE

static bool is_mnem(const struct soft_op *op, const uint16_t *list)
{
	for (unsigned i = 0; i < 16; i++)
		if (op->mnem == list[i])
			return op->fn != soft_h_ud;
	return false;
}

static const uint16_t setcc_mnems[16] = { CC_MNEMS(SET) };
static const uint16_t cmovcc_mnems[16] = { CC_MNEMS(CMOV) };

/* Host flags equal to the guest's (for every condition; AF aside, which no condition reads;
 * after INC/DEC only ZF, SF and PF) from the statically known lazy-flag record: redo the
 * recorded operation at its width. */
static void host_flags(struct soft_jit_ctx *x)
{
	struct soft_emit *e = &x->e;
	unsigned sz = x->lf_size;
	if (x->lf_kind == SOFT_LF_LOGIC || x->lf_kind == SOFT_LF_INC || x->lf_kind == SOFT_LF_DEC) {
		ld(e, RAX, OFF(lf_res), 8);
		rr(e, 0x85, RAX, RAX, sz);
		return;
	}
	ld(e, RAX, OFF(lf_a), 8);
	ld(e, RCX, OFF(lf_b), 8);
	rr(e, x->lf_kind == SOFT_LF_ADD ? 0x01 : 0x39, RAX, RCX, sz);
}

/* rax = CF of the lazy-flag record, whatever wrote it: mov rdi, rbx; call soft_jit_get_cf. */
static void call_get_cf(struct soft_jit_ctx *x)
{
	b2(&x->e, 0x48, 0x89);
	b(&x->e, 0xdf);
	soft_emit_call(&x->e, (const void *)(uintptr_t)soft_jit_get_cf);
	soft_jit_regs_forget_volatile(x);
}

/* INC/DEC of a 32/64-bit register with live flags: CF survives from the previous record
 * (statically when the block knows it, else through soft_jit_get_cf). */
static bool inline_incdec(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	unsigned sz = f.size, r = op->o[0].reg, k = x->lf_kind;
	bool keep_cf = k == SOFT_LF_INC || k == SOFT_LF_DEC; /* lf_aux already holds it */
	if (!keep_cf) {
		if (k == SOFT_LF_NONE) {
			call_get_cf(x);
		} else if (k == SOFT_LF_LOGIC) {
			b2(e, 0x31, 0xc0); /* xor eax, eax */
		} else {
			host_flags(x);
			b2(e, 0x0f, 0x92); /* setc al; movzx eax, al */
			b(e, 0xc0);
			b2(e, 0x0f, 0xb6);
			b(e, 0xc0);
		}
		st64(e, RAX, OFF(lf_aux));
	}
	soft_jit_ld_gpr(x, RAX, r, sz);
	st64(e, RAX, OFF(lf_a));
	rr(e, 0x89, RDX, RAX, 8);
	b2(e, 0x48, 0x83); /* add/sub rdx, 1 */
	b2(e, f.alu ? 0xea : 0xc2, 1);
	st64(e, RDX, OFF(lf_res));
	b2(e, 0x48, 0xc7); /* mov qword [rbx + lf_b], 1 */
	m_rbx(e, 0, OFF(lf_b));
	soft_emit_u32(e, 1);
	st32_imm(e, OFF(lf_op), f.alu ? SOFT_LF_DEC : SOFT_LF_INC);
	st32_imm(e, OFF(lf_size), sz);
	rr(e, 0x89, RAX, RDX, 8);
	soft_jit_wr_gpr(x, r, sz);
	return true;
}

/* Jcc, SETcc, CMOVcc (register forms) on known flags. */
static bool inline_cond(struct soft_jit_ctx *x, const struct soft_op *op, bool jcc)
{
	struct soft_emit *e = &x->e;
	unsigned cc = op->cc & 15;
	if (x->lf_kind == SOFT_LF_NONE)
		return false;
	if ((x->lf_kind == SOFT_LF_INC || x->lf_kind == SOFT_LF_DEC) &&
	    (cc >> 1) != 2 && (cc >> 1) != 4 && (cc >> 1) != 5)
		return false; /* only ZF, SF, PF come straight from the result */
	if (jcc) {
		host_flags(x);
		b2(e, 0x70 + (cc ^ 1), 17); /* not taken: skip the rip store */
		b2(e, 0x48, 0xb8);
		soft_emit_u64(e, op->imm);
		st64(e, RAX, OFF(rip));
		return true;
	}
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	if (is_mnem(op, setcc_mnems)) {
		if (d->kind != SOFT_OPND_REG || d->size != 1)
			return false;
		host_flags(x);
		b2(e, 0x0f, 0x90 + cc); /* setcc al; mov [rbx + reg byte], al */
		b(e, 0xc0);
		b(e, 0x88);
		m_rbx(e, RAX, d->reg < 16 ? OFF_GPR(d->reg) : OFF_GPR(d->reg - 16) + 1);
		soft_jit_gpr_written(x, d->reg);
		return true;
	}
	if (d->kind != SOFT_OPND_REG || s->kind != SOFT_OPND_REG || d->reg >= 16 || s->reg >= 16 ||
	    (d->size != 4 && d->size != 8) || s->size != d->size)
		return false;
	host_flags(x);
	soft_jit_ld_gpr(x, RAX, d->reg, d->size); /* cmovcc rax/eax, rcx/ecx: 32-bit zero-extends */
	soft_jit_ld_gpr(x, RCX, s->reg, d->size);
	if (d->size == 8)
		b(e, 0x48);
	b2(e, 0x0f, 0x40 + cc);
	b(e, 0xc0 | (RAX << 3) | RCX);
	soft_jit_st_gpr(x, RAX, d->reg);
	return true;
}

/* Flag-free shift/rotate/INC/DEC of a 32/64-bit register, and NOT/BSWAP of one. */
static bool inline_unary(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	struct soft_emit *e = &x->e;
	const struct soft_opnd *d = &op->o[0];
	unsigned sz = f.size, r = d->reg;
	if (f.kind == SOFT_FORM_NONE) {
		if (d->kind != SOFT_OPND_REG || r >= 16 || (d->size != 4 && d->size != 8) ||
		    op->fn == soft_h_ud)
			return false;
		sz = d->size;
	}
	soft_jit_ld_gpr(x, RAX, r, sz);
	if (sz == 8)
		b(e, 0x48);
	if (f.kind == SOFT_FORM_NONE) {
		b2(e, op->mnem == ZYDIS_MNEMONIC_NOT ? 0xf7 : 0x0f, /* not eax / bswap eax */
		   op->mnem == ZYDIS_MNEMONIC_NOT ? 0xd0 : 0xc8);
	} else if (f.alu >= SOFT_SHNF_INC) {
		b2(e, 0x83, f.alu == SOFT_SHNF_INC ? 0xc0 : 0xe8); /* add/sub eax, 1 */
		b(e, 1);
	} else {
		static const uint8_t ext[5] = { 4, 5, 7, 0, 1 }; /* shl shr sar rol ror */
		b2(e, 0xc1, 0xc0 | (unsigned)(ext[f.alu] << 3));
		b(e, (unsigned)(op->imm & (sz == 8 ? 63 : 31)));
	}
	soft_jit_st_gpr(x, RAX, r);
	return true;
}

/* MUL/IMUL of 32/64-bit registers or memory whose flags are dead: IMUL r, r/m (rax *= rcx),
 * IMUL r, r/m, imm and the one-operand MUL/IMUL r/m (rdx:rax = rax * rcx). With live flags
 * the handler writes the record. */
static bool inline_mul(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_emit *e = &x->e;
	bool one = op->nopnd == 1;
	const struct soft_opnd *d = &op->o[0], *src = &op->o[one ? 0 : 1];
	unsigned sz = d->size;
	if (!x->flags_dead || (sz != 4 && sz != 8) || src->size != sz ||
	    (op->mnem == ZYDIS_MNEMONIC_MUL && !one) ||
	    (!one && (d->kind != SOFT_OPND_REG || d->reg >= 16)))
		return false;
	struct soft_jit_fix *fx = NULL;
	if (src->kind == SOFT_OPND_REG && src->reg < 16) {
		soft_jit_ld_gpr(x, RCX, src->reg, sz);
	} else if (src->kind == SOFT_OPND_MEM && ea_ok(op)) {
		fx = fix_new(x, op);
		ea(x, op);
		probe(e, fx, 0, sz);
		ld_host(e, RCX, sz);
	} else {
		return false;
	}
	if (one) {
		soft_jit_ld_gpr(x, RAX, 0, sz);
		if (sz == 8)
			b(e, 0x48);
		b2(e, 0xf7, op->mnem == ZYDIS_MNEMONIC_MUL ? 0xe1 : 0xe9); /* mul/imul rcx */
		soft_jit_st_gpr(x, RAX, 0);  /* 32-bit results are zero-extended on the host too */
		soft_jit_st_gpr(x, RDX, 2);
	} else if (op->nopnd == 3) {
		if (sz == 8)
			b(e, 0x48);
		b2(e, 0x69, 0xc1); /* imul rax, rcx, imm32 */
		soft_emit_u32(e, (uint32_t)op->imm);
		soft_jit_wr_gpr(x, d->reg, sz);
	} else {
		soft_jit_ld_gpr(x, RAX, d->reg, sz);
		if (sz == 8)
			b(e, 0x48);
		b2(e, 0x0f, 0xaf); /* imul rax, rcx */
		b(e, 0xc0 | (RAX << 3) | RCX);
		soft_jit_wr_gpr(x, d->reg, sz);
	}
	if (fx)
		fix_done(x, fx);
	return true;
}

/* ADC/SBB of a 32/64-bit register with a register or an immediate, flags dead (the carry
 * chains of big-number code): the host's CF is set to the guest's (from the known record, else
 * through soft_jit_get_cf), then the host instruction runs. */
static bool inline_adc(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_emit *e = &x->e;
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	unsigned sz = d->size, k = x->lf_kind;
	bool sbb = op->mnem == ZYDIS_MNEMONIC_SBB;
	if (!x->flags_dead || op->fn == soft_h_ud || (sz != 4 && sz != 8) ||
	    d->kind != SOFT_OPND_REG || d->reg >= 16 ||
	    !((s->kind == SOFT_OPND_REG && s->reg < 16 && s->size == sz) || s->kind == SOFT_OPND_IMM))
		return false;
	if (k == SOFT_LF_ADD || k == SOFT_LF_SUB || k == SOFT_LF_LOGIC) {
		host_flags(x); /* CF as the guest's (0 after a logic op) */
	} else {
		call_get_cf(x);
		b2(e, 0x0f, 0xba); /* bt eax, 0 */
		b2(e, 0xe0, 0);
	}
	/* Only moves from here to the host ADC/SBB: CF survives them. */
	soft_jit_ld_gpr(x, RAX, d->reg, sz);
	if (s->kind == SOFT_OPND_IMM)
		mov_imm(e, RCX, op->imm & soft_mask(s->size));
	else
		soft_jit_ld_gpr(x, RCX, s->reg, sz);
	rr(e, sbb ? 0x19 : 0x11, RAX, RCX, sz);
	soft_jit_wr_gpr(x, d->reg, sz);
	return true;
}

/* How op changes what the block knows about the lazy-flag record. */
static void track_flags(struct soft_jit_ctx *x, const struct soft_op *op, struct soft_form f)
{
	switch (f.kind) {
	case SOFT_FORM_ALU:
		if (x->flags_dead) { /* no record written (or none that is read) */
			x->lf_kind = SOFT_LF_NONE;
			return;
		}
		x->lf_kind = f.alu == SOFT_ALU_ADD ? SOFT_LF_ADD
			: f.alu == SOFT_ALU_SUB || f.alu == SOFT_ALU_CMP ? SOFT_LF_SUB : SOFT_LF_LOGIC;
		x->lf_size = f.size;
		return;
	case SOFT_FORM_INCDEC:
		x->lf_kind = f.alu ? SOFT_LF_DEC : SOFT_LF_INC;
		x->lf_size = f.size;
		return;
	case SOFT_FORM_MOV: case SOFT_FORM_LEA: case SOFT_FORM_MOVZX: case SOFT_FORM_MOVSXD:
	case SOFT_FORM_MOVSX: case SOFT_FORM_PUSH: case SOFT_FORM_POP: case SOFT_FORM_CALL:
	case SOFT_FORM_RET: case SOFT_FORM_JMP: case SOFT_FORM_JCC: case SOFT_FORM_SHNF:
		return; /* no flags written (SHNF: flags dead, the record is left as it was) */
	default:
		if (is_mnem(op, setcc_mnems) || is_mnem(op, cmovcc_mnems) ||
		    op->mnem == ZYDIS_MNEMONIC_NOT || op->mnem == ZYDIS_MNEMONIC_BSWAP)
			return;
		x->lf_kind = SOFT_LF_NONE;
	}
}

bool soft_jit_inline(struct soft_jit_ctx *x, const struct soft_op *op)
{
	struct soft_form f = soft_fast_form(op);
	uint8_t *mark = x->e.p;
	unsigned nfix = x->nfix;
	struct soft_jit_regs regs = x->regs;
	bool ok;
	switch (f.kind) {
	case SOFT_FORM_JCC: ok = inline_cond(x, op, true); break;
	case SOFT_FORM_ALU: ok = inline_alu(x, op, f); break;
	case SOFT_FORM_CMPJ: ok = inline_cmpj(x, op, f); break;
	case SOFT_FORM_PUSH: case SOFT_FORM_POP: case SOFT_FORM_CALL: case SOFT_FORM_RET:
		ok = inline_stack(x, op, f);
		break;
	case SOFT_FORM_JMP:
		mov_imm(&x->e, RAX, op->imm);
		st64(&x->e, RAX, OFF(rip));
		ok = true;
		break;
	case SOFT_FORM_SHNF: ok = inline_unary(x, op, f); break;
	case SOFT_FORM_INCDEC: ok = inline_incdec(x, op, f); break;
	case SOFT_FORM_NONE:
		if (op->mnem == ZYDIS_MNEMONIC_NOT || op->mnem == ZYDIS_MNEMONIC_BSWAP) {
			ok = inline_unary(x, op, f);
		} else if (op->mnem == ZYDIS_MNEMONIC_IMUL || op->mnem == ZYDIS_MNEMONIC_MUL) {
			ok = inline_mul(x, op);
		} else if (op->mnem == ZYDIS_MNEMONIC_ADC || op->mnem == ZYDIS_MNEMONIC_SBB) {
			ok = inline_adc(x, op);
		} else if (soft_jit_inline_sse(x, op)) {
			return true; /* no flags written */
		} else
			ok = (is_mnem(op, setcc_mnems) || is_mnem(op, cmovcc_mnems)) &&
			     inline_cond(x, op, false);
		break;
	default: ok = inline_move(x, op, f); break;
	}
	if (!ok) { /* nothing of it stays */
		x->e.p = mark;
		x->nfix = nfix;
		x->regs = regs;
	}
	track_flags(x, op, f);
	return ok;
}

#else

bool soft_jit_inline(struct soft_jit_ctx *x, const struct soft_op *op)
{
	(void)x;
	(void)op;
	return false;
}

#endif
