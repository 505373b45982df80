/* Inline templates of the baseline JIT for the SSE forms glibc's string functions and
 * floating-point code live on (see soft_jit.h): 128-bit moves (MOVDQA/MOVDQU/MOVAPS/MOVUPS/
 * MOVAPD/MOVUPD/LDDQU) between XMM registers and memory, MOVD/MOVQ/MOVSS/MOVSD, the bitwise and byte/word/dword compare forms (PXOR/XORPS/XORPD,
 * POR, PAND, PANDN, PCMPEQB/W/D, PMINUB) and PMOVMSKB, run as the same host instructions on the
 * XMM file in struct soft_cpu (pinned in rbx; host xmm0/xmm1 are scratch). Semantics follow
 * sse_mov.c/sse_int.c: the aligned moves raise #GP on a misaligned address (through the
 * handler), the arithmetic forms read memory without an alignment check. Integer only: MXCSR
 * plays no part. */
#include <stddef.h>

#include "accel/soft/jit_emit.h"

#if defined(__x86_64__)

#define OFF_XMM(r) ((uint32_t)(offsetof(struct soft_cpu, xmm) + 16u * (r)))

/* [prefix] 0F opc with xmm register x and [rbx + off] (or [rax] when off is ~0u). */
static void sse(struct soft_emit *e, unsigned prefix, unsigned opc, unsigned x, uint32_t off)
{
	if (prefix)
		b(e, prefix);
	b(e, 0x0f);
	b(e, opc);
	if (off == ~0u) {
		b(e, x << 3); /* [rax] */
	} else {
		b(e, 0x80 | (x << 3) | 3);
		soft_emit_u32(e, off);
	}
}

enum { AT_RAX = ~0u };

static void movdqu_ld(struct soft_emit *e, unsigned x, uint32_t off) { sse(e, 0xf3, 0x6f, x, off); }
static void movdqu_st(struct soft_emit *e, unsigned x, uint32_t off) { sse(e, 0xf3, 0x7f, x, off); }

static bool is_x(const struct soft_opnd *o) { return o->kind == SOFT_OPND_XMM; }
static bool is_m(const struct soft_opnd *o) { return o->kind == SOFT_OPND_MEM && o->size == 16; }

static bool inline_mov128(struct soft_jit_ctx *x, const struct soft_op *op, bool aligned)
{
	struct soft_emit *e = &x->e;
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	if (is_x(d) && is_x(s)) {
		movdqu_ld(e, 0, OFF_XMM(s->reg));
		movdqu_st(e, 0, OFF_XMM(d->reg));
		return true;
	}
	if (op->seg & SOFT_SEG_ADDR32)
		return false;
	if (is_x(d) && is_m(s)) {
		soft_jit_mem(x, op, 0, 16, aligned);
		movdqu_ld(e, 0, AT_RAX);
		movdqu_st(e, 0, OFF_XMM(d->reg));
		soft_jit_mem_done(x);
		return true;
	}
	if (is_m(d) && is_x(s)) {
		soft_jit_mem(x, op, 8, 16, aligned);
		movdqu_ld(e, 0, OFF_XMM(s->reg));
		movdqu_st(e, 0, AT_RAX);
		soft_jit_mem_done(x);
		return true;
	}
	return false;
}

/* 66 0F opc xmm0, xmm1/m128 on XMM destination d. */
static bool inline_pbinop(struct soft_jit_ctx *x, const struct soft_op *op, unsigned opc)
{
	struct soft_emit *e = &x->e;
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	if (!is_x(d) || op->nopnd != 2)
		return false;
	if (is_x(s)) {
		movdqu_ld(e, 1, OFF_XMM(s->reg));
	} else if (is_m(s) && !(op->seg & SOFT_SEG_ADDR32)) {
		soft_jit_mem(x, op, 0, 16, false);
		movdqu_ld(e, 1, AT_RAX);
	} else {
		return false;
	}
	movdqu_ld(e, 0, OFF_XMM(d->reg));
	b(e, 0x66); /* op xmm0, xmm1 */
	b(e, 0x0f);
	b(e, opc);
	b(e, 0xc1);
	movdqu_st(e, 0, OFF_XMM(d->reg));
	if (!is_x(s))
		soft_jit_mem_done(x);
	return true;
}

/* movd/movq xmm0, [rbx + off] or [rax] (n 4 or 8): the rest of xmm0 becomes zero. */
static void movdq_ld(struct soft_emit *e, unsigned n, uint32_t off)
{
	if (n == 8) {
		sse(e, 0xf3, 0x7e, 0, off);
	} else {
		sse(e, 0x66, 0x6e, 0, off);
	}
}

/* MOVD/MOVQ (n: the GPR or memory size, 4 or 8) and MOVSS/MOVSD (scalar: n 4 or 8; between
 * registers only the low element moves), as sse_mov.c's h_movdq and movs_scalar. */
static bool inline_movdq(struct soft_jit_ctx *x, const struct soft_op *op, bool scalar, unsigned n)
{
	struct soft_emit *e = &x->e;
	const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
	bool dreg = d->kind == SOFT_OPND_REG && d->reg < 16, sreg = s->kind == SOFT_OPND_REG;
	bool dm = d->kind == SOFT_OPND_MEM && d->size == n, sm = s->kind == SOFT_OPND_MEM && s->size == n;
	if (op->nopnd != 2 || (n != 4 && n != 8) || (op->seg & SOFT_SEG_ADDR32))
		return false;
	if (is_x(d) && is_x(s)) {
		if (scalar) { /* low element only */
			b(e, n == 8 ? 0x48 : 0x40);
			b(e, 0x8b);
			b(e, 0x83);
			soft_emit_u32(e, OFF_XMM(s->reg));
			b(e, n == 8 ? 0x48 : 0x40);
			b(e, 0x89);
			b(e, 0x83);
			soft_emit_u32(e, OFF_XMM(d->reg));
			return true;
		}
		if (n != 8)
			return false;
		movdq_ld(e, 8, OFF_XMM(s->reg));
		movdqu_st(e, 0, OFF_XMM(d->reg));
		return true;
	}
	if (is_x(d) && ((sreg && !scalar && s->reg < 16 && s->size == n) || sm)) {
		if (sm)
			soft_jit_mem(x, op, 0, n, false);
		movdq_ld(e, n, sm ? AT_RAX : (uint32_t)(offsetof(struct soft_cpu, gpr) + 8u * s->reg));
		movdqu_st(e, 0, OFF_XMM(d->reg));
		if (sm)
			soft_jit_mem_done(x);
		return true;
	}
	if (is_x(s) && ((dreg && !scalar && d->size == n) || dm)) {
		if (dm)
			soft_jit_mem(x, op, 8, n, false);
		b(e, n == 8 ? 0x48 : 0x40); /* mov rcx/ecx, [rbx + xmm] */
		b(e, 0x8b);
		b(e, 0x8b);
		soft_emit_u32(e, OFF_XMM(s->reg));
		if (dm) {
			b(e, n == 8 ? 0x48 : 0x40); /* mov [rax], rcx/ecx */
			b(e, 0x89);
			b(e, 0x08);
			soft_jit_mem_done(x);
		} else {
			soft_jit_st_gpr(x, RCX, d->reg); /* a 32-bit load zero-extended it */
		}
		return true;
	}
	return false;
}

bool soft_jit_inline_sse(struct soft_jit_ctx *x, const struct soft_op *op)
{
	if (op->fn == soft_h_ud || (op->pfx & SOFT_PFX_LOCK))
		return false;
	switch (op->mnem) {
	case ZYDIS_MNEMONIC_MOVDQU: case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD:
	case ZYDIS_MNEMONIC_LDDQU:
		return inline_mov128(x, op, false);
	case ZYDIS_MNEMONIC_MOVDQA: case ZYDIS_MNEMONIC_MOVAPS: case ZYDIS_MNEMONIC_MOVAPD:
		return inline_mov128(x, op, true);
	case ZYDIS_MNEMONIC_PXOR: case ZYDIS_MNEMONIC_XORPS: case ZYDIS_MNEMONIC_XORPD:
		return inline_pbinop(x, op, 0xef);
	case ZYDIS_MNEMONIC_POR: return inline_pbinop(x, op, 0xeb);
	case ZYDIS_MNEMONIC_PAND: return inline_pbinop(x, op, 0xdb);
	case ZYDIS_MNEMONIC_PANDN: return inline_pbinop(x, op, 0xdf);
	case ZYDIS_MNEMONIC_PCMPEQB: return inline_pbinop(x, op, 0x74);
	case ZYDIS_MNEMONIC_PCMPEQW: return inline_pbinop(x, op, 0x75);
	case ZYDIS_MNEMONIC_PCMPEQD: return inline_pbinop(x, op, 0x76);
	case ZYDIS_MNEMONIC_PMINUB: return inline_pbinop(x, op, 0xda);
	case ZYDIS_MNEMONIC_MOVD: case ZYDIS_MNEMONIC_MOVQ: {
		unsigned n = is_x(&op->o[0]) ? op->o[1].size : op->o[0].size;
		return inline_movdq(x, op, false, n > 8 ? 8 : n);
	}
	case ZYDIS_MNEMONIC_MOVSS: return inline_movdq(x, op, true, 4);
	case ZYDIS_MNEMONIC_MOVSD: return inline_movdq(x, op, true, 8);
	case ZYDIS_MNEMONIC_PMOVMSKB: {
		const struct soft_opnd *d = &op->o[0], *s = &op->o[1];
		if (d->kind != SOFT_OPND_REG || d->reg >= 16 || !is_x(s))
			return false;
		movdqu_ld(&x->e, 0, OFF_XMM(s->reg));
		b(&x->e, 0x66); /* pmovmskb eax, xmm0 */
		b(&x->e, 0x0f);
		b(&x->e, 0xd7);
		b(&x->e, 0xc0);
		soft_jit_st_gpr(x, RAX, d->reg);
		return true;
	}
	default:
		return false;
	}
}

#else

bool soft_jit_inline_sse(struct soft_jit_ctx *x, const struct soft_op *op)
{
	(void)x;
	(void)op;
	return false;
}

#endif
