/* Host-instruction emitters shared by the baseline JIT's template files (jit_inline.c,
 * jit_regs.c, jit_sse.c): byte output, [rbx + offset] forms on struct soft_cpu (pinned in rbx),
 * register-register forms, and the register cache's interface (jit_regs.c) through which the
 * templates read and write guest GPRs. x86-64 hosts only. */
#ifndef HARDY_JIT_EMIT_H
#define HARDY_JIT_EMIT_H

#include <stddef.h>

#include "accel/soft/soft_jit.h"

enum { RAX = 0, RCX = 1, RDX = 2, RSI = 6 };

#define OFF_GPR(r) ((uint32_t)(offsetof(struct soft_cpu, gpr) + 8u * (r)))
#define OFF(f) ((uint32_t)offsetof(struct soft_cpu, f))

static inline void b(struct soft_emit *e, unsigned v) { soft_emit_u8(e, (uint8_t)v); }

static inline void b2(struct soft_emit *e, unsigned v0, unsigned v1)
{
	b(e, v0);
	b(e, v1);
}

/* ModRM for [rbx + disp32] with reg field r (0..7). */
static inline void m_rbx(struct soft_emit *e, unsigned r, uint32_t off)
{
	b(e, 0x80 | (r << 3) | 3);
	soft_emit_u32(e, off);
}

/* REX prefix for a form with reg field r and r/m field m (any of the 16 registers); emitted
 * when w or a high register needs it, or always for byte forms (so that 4-7 name spl..dil). */
static inline void rex_rr(struct soft_emit *e, bool w, unsigned r, unsigned m, bool byte)
{
	unsigned v = 0x40 | (w ? 8 : 0) | (r >= 8 ? 4 : 0) | (m >= 8 ? 1 : 0);
	if (v != 0x40 || byte)
		b(e, v);
}

/* r (0..7) = zero-extended sz bytes at [rbx + off]. */
static inline void ld(struct soft_emit *e, unsigned r, uint32_t off, unsigned sz)
{
	switch (sz) {
	case 8: b2(e, 0x48, 0x8b); break;
	case 4: b(e, 0x8b); break;
	case 2: b2(e, 0x0f, 0xb7); break;
	default: b2(e, 0x0f, 0xb6); break;
	}
	m_rbx(e, r, off);
}

/* [rbx + off] = r (any of the 16 registers, 64-bit). */
static inline void st64(struct soft_emit *e, unsigned r, uint32_t off)
{
	rex_rr(e, true, r, 0, false);
	b(e, 0x89);
	m_rbx(e, r & 7, off);
}

static inline void st32_imm(struct soft_emit *e, uint32_t off, uint32_t imm)
{
	b(e, 0xc7);
	m_rbx(e, 0, off);
	soft_emit_u32(e, imm);
}

static inline void mov_imm(struct soft_emit *e, unsigned r, uint64_t v)
{
	if (v == (uint32_t)v) {
		b(e, 0xb8 + r);
		soft_emit_u32(e, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) {
		b2(e, 0x48, 0xc7);
		b(e, 0xc0 + r);
		soft_emit_u32(e, (uint32_t)v);
	} else {
		b2(e, 0x48, 0xb8 + r);
		soft_emit_u64(e, v);
	}
}

/* Two-register op (opcode: 01 add, 09 or, 11 adc, 19 sbb, 21 and, 29 sub, 31 xor, 39 cmp,
 * 85 test, 89 mov) at width sz: dst op= src, any of the 16 registers (byte forms: only
 * registers 0-3 and 8-15, whose byte names need no REX decision). */
static inline void rr(struct soft_emit *e, unsigned opc, unsigned dst, unsigned src, unsigned sz)
{
	if (sz == 2)
		b(e, 0x66);
	rex_rr(e, sz == 8, src, dst, false);
	if (sz == 1)
		opc -= 1; /* the byte forms are one below */
	b2(e, opc, 0xc0 | ((src & 7) << 3) | (dst & 7));
}

/* The register cache (jit_regs.c): templates read guest GPR g (0..15 cached; others from
 * memory) into scratch register r zero-extended from sz bytes, write all 64 bits of r to it,
 * or write rax to it at width sz (8/16-bit writes merge); gpr_host gives the host register
 * holding g (loading it first if need be); after a call to C code that writes no guest
 * register, the caller-saved slots are gone. */
void soft_jit_ld_gpr(struct soft_jit_ctx *x, unsigned r, unsigned g, unsigned sz);
void soft_jit_st_gpr(struct soft_jit_ctx *x, unsigned r, unsigned g);
void soft_jit_wr_gpr(struct soft_jit_ctx *x, unsigned g, unsigned sz);
unsigned soft_jit_gpr_host(struct soft_jit_ctx *x, unsigned g);
int soft_jit_gpr_cached(const struct soft_jit_ctx *x, unsigned g); /* host reg, or -1 */
void soft_jit_regs_forget_volatile(struct soft_jit_ctx *x);

#endif
