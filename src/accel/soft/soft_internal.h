/* Internal contract of the software CPU: the decoded-op format every handler consumes, the
 * lazy-flags encoding, and the inline register/memory/flag helpers shared by the instruction
 * families (alu.c, shift.c, muldiv.c, string.c, bit.c, sse_*.c, x87*.c, ...).
 *
 * A handler executes one decoded instruction. It reads its operands through soft_rd()/soft_ea(),
 * raises exceptions with soft_raise() (which does not return), and for control transfer writes
 * cpu->rip; otherwise cpu->rip already holds the fall-through address of the block. Handlers never
 * look at instruction bytes: everything they need was decoded once into struct soft_op. */
#ifndef HARDY_SOFT_INTERNAL_H
#define HARDY_SOFT_INTERNAL_H

#include <string.h>
#include <xmmintrin.h>

#include "accel/soft/soft_cpu.h"

#define SOFT_LIKELY(x) __builtin_expect(!!(x), 1)
#define SOFT_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum soft_opnd_kind { SOFT_OPND_NONE, SOFT_OPND_REG, SOFT_OPND_MEM, SOFT_OPND_IMM,
		      SOFT_OPND_XMM, SOFT_OPND_ST, SOFT_OPND_MMX, SOFT_OPND_SEG, SOFT_OPND_CR,
		      SOFT_OPND_DR };

/* reg: GPR 0..15, or 16..19 for AH/CH/DH/BH; XMM/ST/MMX index for those kinds. size in bytes. */
struct soft_opnd {
	uint8_t kind, reg, size, pad;
};

enum { SOFT_NOREG = 0xff };
/* op->seg: in 64-bit mode only FS/GS overrides (SOFT_SEG_FS/GS; 0 for everything else, the
 * fast path); outside it every memory access names its segment register (SOFT_SEG_BASED with
 * the register in bits 2-4: the default DS/SS or the override), whose base and limit apply.
 * 16-bit addressing sets both ADDR16 and ADDR32. */
enum { SOFT_SEG_NONE = 0, SOFT_SEG_FS = 1, SOFT_SEG_GS = 2, SOFT_SEG_MASK = 3,
       SOFT_SEG_SREG_SHIFT = 2, SOFT_SEG_SREG_MASK = 0x1c, SOFT_SEG_BASED = 0x20,
       SOFT_SEG_ADDR16 = 0x40, SOFT_SEG_ADDR32 = 0x80 };
enum { SOFT_PFX_LOCK = 1, SOFT_PFX_REP = 2, SOFT_PFX_REPNE = 4, SOFT_PFX_OSIZE = 8,
       SOFT_PFX_REPZ_CMP = 16, SOFT_PFX_COMPAT = 32 /* decoded outside 64-bit mode */ };

typedef void (*soft_handler)(struct soft_cpu *c, const struct soft_op *op);

/* Threaded dispatch: a handler ends by jumping straight into the next op's handler (a sibling
 * call the compiler turns into a jump), recording the position in cur_op for exceptions and for
 * the run loop. Every block ends with a sentinel op (soft_h_block_end) that chains to the next
 * block or returns to the loop, so the loop only starts a chain. */
#define SOFT_NEXT(c, op)                                                                   \
	do {                                                                               \
		const struct soft_op *n_ = (op) + 1;                                       \
		(c)->cur_op = n_;                                                          \
		n_->fn((c), n_);                                                           \
	} while (0)

/* The threaded entry point h_t of a plain handler h (which the compiler inlines into it); the
 * family tables list these. */
#define SOFT_THREADED(h)                                                                   \
	static void h##_t(struct soft_cpu *c, const struct soft_op *op)                    \
	{                                                                                  \
		h(c, op);                                                                  \
		SOFT_NEXT(c, op);                                                          \
	}

/* One decoded instruction: 64 bytes, position-dependent values (rip-relative addresses, branch
 * targets) already resolved. A JIT would read exactly this record to emit code. */
struct soft_op {
	soft_handler fn;
	uint64_t imm;      /* immediate, or absolute branch target */
	int64_t disp;      /* displacement (absolute address for rip-relative operands) */
	uint64_t next_rip; /* address of the following instruction */
	struct soft_opnd o[4];
	uint8_t base, index, scale, seg; /* memory operand: scale is a shift count, seg is
					  * SOFT_SEG_* plus SOFT_SEG_ADDR32 for 32-bit addressing */
	uint8_t len, osize, asize, pfx;  /* osize: operand width in bytes, asize: address width */
	uint16_t mnem;
	uint8_t nopnd, cc;               /* cc: condition code 0..15 for Jcc/SETcc/CMOVcc */
	uint32_t aux;                    /* family-specific (second immediate, SSE predicate...) */
};

_Static_assert(sizeof(struct soft_op) == 64, "decoded op must stay one cache line");

/* ---- lazy flags ---- */
enum soft_lf { SOFT_LF_NONE, SOFT_LF_ADD, SOFT_LF_ADC, SOFT_LF_SUB, SOFT_LF_SBB, SOFT_LF_LOGIC,
	       SOFT_LF_INC, SOFT_LF_DEC, SOFT_LF_NEG, SOFT_LF_RES };

enum { SOFT_CF = 1u << 0, SOFT_PF = 1u << 2, SOFT_AF = 1u << 4, SOFT_ZF = 1u << 6,
       SOFT_SF = 1u << 7, SOFT_TF = 1u << 8, SOFT_IF = 1u << 9, SOFT_DF = 1u << 10,
       SOFT_OF = 1u << 11, SOFT_AC = 1u << 18, SOFT_ID = 1u << 21 };
#define SOFT_ARITH_FLAGS (SOFT_CF | SOFT_PF | SOFT_AF | SOFT_ZF | SOFT_SF | SOFT_OF)

static inline uint64_t soft_mask(unsigned sz)
{
	return sz >= 8 ? ~0ULL : (1ULL << (sz * 8)) - 1;
}

static inline uint64_t soft_sbit(unsigned sz)
{
	return 1ULL << (sz * 8 - 1);
}

static inline int64_t soft_sext(uint64_t v, unsigned sz)
{
	unsigned sh = 64 - sz * 8;
	return (int64_t)(v << sh) >> sh;
}

static inline void soft_setlf(struct soft_cpu *c, unsigned kind, unsigned sz, uint64_t res,
			      uint64_t a, uint64_t b)
{
	c->lf_op = kind;
	c->lf_size = sz;
	c->lf_res = res;
	c->lf_a = a;
	c->lf_b = b;
}

/* Result-based flags: ZF/SF/PF from res, CF/OF/AF given explicitly in aux (rflags bit layout). */
static inline void soft_setlf_res(struct soft_cpu *c, unsigned sz, uint64_t res, uint64_t cfofaf)
{
	c->lf_op = SOFT_LF_RES;
	c->lf_size = sz;
	c->lf_res = res;
	c->lf_aux = cfofaf;
}

uint64_t soft_flags_get(struct soft_cpu *c);              /* full RFLAGS */
void soft_flags_set(struct soft_cpu *c, uint64_t rflags); /* materialize */
bool soft_get_cf(const struct soft_cpu *c);
bool soft_cond(const struct soft_cpu *c, unsigned cc);  /* x86 condition code 0..15 */

/* soft_flags_get() with the materialized and logic-op cases inline. */
static inline uint64_t soft_flags_get_fast(struct soft_cpu *c)
{
	if (c->lf_op == SOFT_LF_NONE)
		return c->rflags | 2;
	if (c->lf_op == SOFT_LF_LOGIC) {
		uint64_t r = c->lf_res & soft_mask(c->lf_size);
		uint64_t f = (c->rflags & ~(uint64_t)SOFT_ARITH_FLAGS) | 2;
		f |= r == 0 ? SOFT_ZF : 0;
		f |= (r & soft_sbit(c->lf_size)) ? SOFT_SF : 0;
		f |= __builtin_parity((unsigned)(r & 0xff)) ? 0 : SOFT_PF;
		return f;
	}
	return soft_flags_get(c);
}

/* soft_get_cf() with the common producers inline. */
static inline bool soft_get_cf_fast(const struct soft_cpu *c)
{
	uint64_t m = soft_mask(c->lf_size);
	switch (c->lf_op) {
	case SOFT_LF_SUB: return (c->lf_a & m) < (c->lf_b & m);
	case SOFT_LF_ADD: return (c->lf_res & m) < (c->lf_a & m);
	case SOFT_LF_LOGIC: return false;
	case SOFT_LF_INC: case SOFT_LF_DEC: return c->lf_aux & 1;
	default: return soft_get_cf(c);
	}
}

/* soft_cond() for a constant cc: the idioms compilers emit (flags from CMP/SUB, TEST/AND/OR,
 * or any result for ZF/SF) are answered inline; everything else goes to soft_cond(). */
static inline __attribute__((always_inline)) bool soft_cond_fast(const struct soft_cpu *c,
								  unsigned cc)
{
	unsigned op = c->lf_op, sz = c->lf_size;
	bool inv = cc & 1;
	switch (cc >> 1) {
	case 2: /* Z */
		if (SOFT_LIKELY(op != SOFT_LF_NONE))
			return ((c->lf_res & soft_mask(sz)) == 0) ^ inv;
		break;
	case 4: /* S */
		if (SOFT_LIKELY(op != SOFT_LF_NONE))
			return ((c->lf_res & soft_sbit(sz)) != 0) ^ inv;
		break;
	case 1: case 3: case 6: case 7:
		if (op == SOFT_LF_SUB) {
			uint64_t m = soft_mask(sz), a = c->lf_a & m, b = c->lf_b & m;
			int64_t sa = soft_sext(a, sz), sb = soft_sext(b, sz);
			bool r = (cc >> 1) == 1 ? a < b : (cc >> 1) == 3 ? a <= b
				: (cc >> 1) == 6 ? sa < sb : sa <= sb;
			return r ^ inv;
		}
		if (op == SOFT_LF_LOGIC) {
			bool zf = (c->lf_res & soft_mask(sz)) == 0, sf = (c->lf_res & soft_sbit(sz)) != 0;
			bool r = (cc >> 1) == 1 ? false : (cc >> 1) == 3 ? zf : (cc >> 1) == 6 ? sf
				: zf || sf;
			return r ^ inv;
		}
		break;
	default:
		break;
	}
	return soft_cond(c, cc);
}

/* ---- registers ---- */
static inline uint64_t soft_reg_get(const struct soft_cpu *c, unsigned r, unsigned sz)
{
	if (SOFT_UNLIKELY(r >= 16))
		return (c->gpr[r - 16] >> 8) & 0xff;
	return c->gpr[r] & soft_mask(sz);
}

static inline void soft_reg_set(struct soft_cpu *c, unsigned r, unsigned sz, uint64_t v)
{
	switch (sz) {
	case 8: c->gpr[r] = v; break;
	case 4: c->gpr[r] = (uint32_t)v; break;
	case 2: c->gpr[r] = (c->gpr[r] & ~0xffffULL) | (v & 0xffff); break;
	default:
		if (r >= 16)
			c->gpr[r - 16] = (c->gpr[r - 16] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			c->gpr[r] = (c->gpr[r] & ~0xffULL) | (v & 0xff);
	}
}

/* ---- exceptions ---- */
_Noreturn void soft_raise(struct soft_cpu *c, unsigned vector, uint32_t error, uint64_t addr);

/* ---- memory ---- */
uint64_t soft_ld_slow(struct soft_cpu *c, uint64_t a, unsigned sz);
void soft_st_slow(struct soft_cpu *c, uint64_t a, unsigned sz, uint64_t v);
uint8_t *soft_tlb_fill(struct soft_cpu *c, uint64_t a, unsigned access);
void soft_ld_bytes(struct soft_cpu *c, uint64_t a, void *dst, unsigned n, unsigned access);
void soft_st_bytes(struct soft_cpu *c, uint64_t a, const void *src, unsigned n);
/* Host pointer for an atomic read-modify-write of sz bytes, or NULL when the access splits
 * pages (then the caller falls back to a plain read and write). */
void *soft_rmw_ptr(struct soft_cpu *c, uint64_t a, unsigned sz);
/* Read-modify-write of sz bytes at a, atomic across host threads when locked is set (and the
 * access does not split pages): new = f(old, x, y). Returns old; *newv receives new. */
typedef uint64_t (*soft_rmw_fn)(uint64_t old, uint64_t x, uint64_t y);
uint64_t soft_rmw(struct soft_cpu *c, uint64_t a, unsigned sz, bool locked, soft_rmw_fn f,
		  uint64_t x, uint64_t y, uint64_t *newv);

static inline struct soft_tlb_entry *soft_tlbe(struct soft_cpu *c, uint64_t a)
{
	return &c->tlb[(a >> 12) & (SOFT_TLB_SIZE - 1)]; /* c->tlb: the set of the current CPL */
}

static inline uint64_t soft_ld(struct soft_cpu *c, uint64_t a, unsigned sz)
{
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	if (SOFT_LIKELY(e->tag_r == (a & ~0xfffULL) && (a & 0xfff) <= 4096u - sz)) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)(a + e->addend);
		switch (sz) {
		case 1: return *p;
		case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
		case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
		default: { uint64_t v; memcpy(&v, p, 8); return v; }
		}
	}
	return soft_ld_slow(c, a, sz);
}

static inline void soft_st(struct soft_cpu *c, uint64_t a, unsigned sz, uint64_t v)
{
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	if (SOFT_LIKELY(e->tag_w == (a & ~0xfffULL) && (a & 0xfff) <= 4096u - sz)) {
		uint8_t *p = (uint8_t *)(uintptr_t)(a + e->addend);
		switch (sz) {
		case 1: *p = (uint8_t)v; return;
		case 2: { uint16_t t = (uint16_t)v; memcpy(p, &t, 2); return; }
		case 4: { uint32_t t = (uint32_t)v; memcpy(p, &t, 4); return; }
		default: memcpy(p, &v, 8); return;
		}
	}
	soft_st_slow(c, a, sz, v);
}

uint64_t soft_ea_adjust(const struct soft_cpu *c, const struct soft_op *op, uint64_t a);

/* Segmentation outside 64-bit mode (seg.c): the linear address of sreg:off for an access of
 * sz bytes, after the limit check (#GP(0), #SS(0) for SS); the user-mode CPU adds only the
 * FS/GS bases. */
uint64_t soft_seg_linear(struct soft_cpu *c, unsigned sreg, uint64_t off, unsigned sz);
/* The stack outside 64-bit mode: SS:SP or SS:ESP as SS.B says (always ESP in user mode). */
void soft_push_legacy(struct soft_cpu *c, unsigned sz, uint64_t v);
uint64_t soft_pop_legacy(struct soft_cpu *c, unsigned sz);
/* rSP += delta in the stack's width (RET imm16, ENTER, LEAVE outside 64-bit mode). */
void soft_sp_add_legacy(struct soft_cpu *c, int64_t delta);
/* The stack pointer's width outside 64-bit mode: 0xffff or 0xffffffff. */
uint64_t soft_sp_mask(const struct soft_cpu *c);
/* The user-mode CPU's segment registers for a code-segment mode (Linux's flat user
 * selectors; soft_cpu_set_cs_mode calls it). */
void soft_seg_user_mode(struct soft_cpu *c, enum soft_cs_mode mode);

/* Linear address of an implicit DS-relative operand (string source, XLAT, MASKMOVQ) at
 * offset off (already truncated to the address size): FS/GS base in 64-bit mode, the
 * segment's base and limit check outside it. */
static inline uint64_t soft_seg_implicit(struct soft_cpu *c, const struct soft_op *op,
					 uint64_t off, unsigned sz)
{
	if (SOFT_UNLIKELY(op->seg & SOFT_SEG_BASED))
		return soft_seg_linear(c, (op->seg & SOFT_SEG_SREG_MASK) >> SOFT_SEG_SREG_SHIFT,
				       off, sz);
	unsigned s = op->seg & SOFT_SEG_MASK;
	return off + (s == SOFT_SEG_FS ? c->fs_base : s == SOFT_SEG_GS ? c->gs_base : 0);
}

/* Effective address of the memory operand. Base and index absent are SOFT_NOREG; the rare
 * 32-bit address size and FS/GS bases are folded in by soft_ea_adjust (op->seg != 0). */
static inline uint64_t soft_ea(const struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t a = (uint64_t)op->disp;
	if (op->base != SOFT_NOREG)
		a += c->gpr[op->base];
	if (op->index != SOFT_NOREG)
		a += c->gpr[op->index] << op->scale;
	if (SOFT_UNLIKELY(op->seg))
		a = soft_ea_adjust(c, op, a);
	return a;
}

/* Read operand i (GPR, memory or immediate) zero-extended to 64 bits. */
static inline uint64_t soft_rd(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	const struct soft_opnd *o = &op->o[i];
	if (o->kind == SOFT_OPND_REG)
		return soft_reg_get(c, o->reg, o->size);
	if (o->kind == SOFT_OPND_IMM)
		return op->imm & soft_mask(o->size);
	return soft_ld(c, soft_ea(c, op), o->size);
}

/* Write operand i (GPR or memory). */
static inline void soft_wr(struct soft_cpu *c, const struct soft_op *op, unsigned i, uint64_t v)
{
	const struct soft_opnd *o = &op->o[i];
	if (o->kind == SOFT_OPND_REG)
		soft_reg_set(c, o->reg, o->size, v);
	else
		soft_st(c, soft_ea(c, op), o->size, v);
}

static inline void soft_push(struct soft_cpu *c, unsigned sz, uint64_t v)
{
	uint64_t sp = c->gpr[SOFT_RSP] - sz;
	soft_st(c, sp, sz, v);
	c->gpr[SOFT_RSP] = sp;
}

static inline uint64_t soft_pop(struct soft_cpu *c, unsigned sz)
{
	uint64_t v = soft_ld(c, c->gpr[SOFT_RSP], sz);
	c->gpr[SOFT_RSP] += sz;
	return v;
}

/* The stack as an instruction of op's mode sees it: RSP in 64-bit mode, SS:ESP or SS:SP
 * outside it (soft_push_legacy). */
static inline void soft_push_op(struct soft_cpu *c, const struct soft_op *op, unsigned sz,
				uint64_t v)
{
	if (SOFT_LIKELY(!(op->pfx & SOFT_PFX_COMPAT)))
		soft_push(c, sz, v);
	else
		soft_push_legacy(c, sz, v);
}

static inline uint64_t soft_pop_op(struct soft_cpu *c, const struct soft_op *op, unsigned sz)
{
	if (SOFT_LIKELY(!(op->pfx & SOFT_PFX_COMPAT)))
		return soft_pop(c, sz);
	return soft_pop_legacy(c, sz);
}

/* Stack slot of PUSH/POP/PUSHF/POPF: 16 bits with 66h, else 64 (or 32 in compatibility mode). */
static inline unsigned soft_slot_size(const struct soft_op *op)
{
	return op->osize == 2 ? 2 : (op->pfx & SOFT_PFX_COMPAT) ? 4 : 8;
}

/* Truncate an address register value to op's address size. */
static inline uint64_t soft_addr_mask(const struct soft_op *op, uint64_t v)
{
	return op->asize == 8 ? v : op->asize == 4 ? (uint32_t)v : (uint16_t)v;
}

static inline uint64_t soft_op_rip(const struct soft_op *op)
{
	return op->next_rip - op->len;
}

/* ---- instruction tables: each family lists the mnemonics it implements ---- */
struct soft_insn_def {
	uint16_t mnem; /* ZydisMnemonic */
	soft_handler fn;
};

#define SOFT_FAMILIES(X) X(alu) X(shift) X(muldiv) X(branch) X(string) X(bit) X(misc) \
	X(sse_mov) X(sse_int) X(sse_fp) X(sse_cvt) X(x87) X(mmx) X(intr) X(sys) X(seg)
#define SOFT_DECLARE_FAMILY(f) extern const struct soft_insn_def soft_##f##_defs[];
SOFT_FAMILIES(SOFT_DECLARE_FAMILY)
/* Forms with an MM register operand (mmx.c): a table of their own, the mnemonics are shared. */
extern const struct soft_insn_def soft_mmx_reg_defs[];

/* Specialized handler for a hot form of op, or NULL (alu_fast.c). */
soft_handler soft_fast_handler(const struct soft_op *op);
/* Fused handler for `first` followed by the block's final Jcc `jcc`, or NULL (alu_fast.c). */
soft_handler soft_fuse_handler(const struct soft_op *first, const struct soft_op *jcc);

/* The hot form a specialized handler implements, for the JIT's inline templates (alu_fast.c):
 * kind, the ALU operation (SOFT_ALU_*, for ALU and the fused compare-and-branch; MOVSX: the
 * destination size), the operand shape (SOFT_SHAPE_*: destination/source register, immediate
 * or memory) and the (source) size. */
enum soft_form_kind { SOFT_FORM_NONE, SOFT_FORM_ALU, SOFT_FORM_MOV, SOFT_FORM_LEA,
		      SOFT_FORM_MOVZX, SOFT_FORM_MOVSXD, SOFT_FORM_PUSH, SOFT_FORM_POP,
		      SOFT_FORM_CALL, SOFT_FORM_RET, SOFT_FORM_JMP, SOFT_FORM_CMPJ, SOFT_FORM_MOVSX,
		      SOFT_FORM_JCC, SOFT_FORM_SHNF, SOFT_FORM_INCDEC };
/* SOFT_FORM_SHNF (flag-free shift/rotate/INC/DEC of a register): the operation in alu;
 * SOFT_FORM_INCDEC (INC/DEC of a register with flags): alu 0 INC, 1 DEC. */
enum { SOFT_SHNF_SHL, SOFT_SHNF_SHR, SOFT_SHNF_SAR, SOFT_SHNF_ROL, SOFT_SHNF_ROR, SOFT_SHNF_INC,
       SOFT_SHNF_DEC };
enum { SOFT_ALU_ADD, SOFT_ALU_OR, SOFT_ALU_AND, SOFT_ALU_SUB, SOFT_ALU_XOR, SOFT_ALU_CMP,
       SOFT_ALU_TEST };
enum { SOFT_SHAPE_RR, SOFT_SHAPE_RI, SOFT_SHAPE_RM, SOFT_SHAPE_MR, SOFT_SHAPE_MI };
struct soft_form {
	uint8_t kind, alu, shape, size;
};
struct soft_form soft_fast_form(const struct soft_op *op);

/* Dead-flag elimination (alu_fast.c): the effect of op on flag liveness, and the flag-free
 * variant of op to use when no flag it writes is live (NULL: none). */
enum soft_flag_effect { SOFT_FLAGS_USE, SOFT_FLAGS_KILL, SOFT_FLAGS_NEUTRAL };
enum soft_flag_effect soft_flag_effect(const struct soft_op *op);
soft_handler soft_flags_dead_handler(const struct soft_op *op);

/* Handlers the decoder references directly. */
void soft_h_ud(struct soft_cpu *c, const struct soft_op *op);
void soft_h_block_end(struct soft_cpu *c, const struct soft_op *op);
void soft_h_movsd_sse(struct soft_cpu *c, const struct soft_op *op);
void soft_h_cmpsd_sse(struct soft_cpu *c, const struct soft_op *op);
/* MOV to/from a control or debug register (sys.c). */
void soft_h_mov_crdr(struct soft_cpu *c, const struct soft_op *op);
/* Segment register moves and far transfers (seg.c): the decoder picks these by operand kind
 * (a segment register operand) and branch type (far). */
void soft_h_mov_sreg(struct soft_cpu *c, const struct soft_op *op);
void soft_h_push_sreg(struct soft_cpu *c, const struct soft_op *op);
void soft_h_pop_sreg(struct soft_cpu *c, const struct soft_op *op);
void soft_h_jmp_far(struct soft_cpu *c, const struct soft_op *op);
void soft_h_call_far(struct soft_cpu *c, const struct soft_op *op);
void soft_h_ret_far(struct soft_cpu *c, const struct soft_op *op);

/* MXCSR: while soft_cpu_run() runs, the host MXCSR holds the guest's rounding control, FTZ,
 * DAZ and sticky exception flags with every exception masked, so the host SSE instructions the
 * handlers use round and flush exactly as the guest asked and record its flags; c->mxcsr is
 * authoritative for the mask bits, and for everything once run returns. pull brings the host's
 * flags into c->mxcsr (before the guest reads MXCSR), push loads c->mxcsr into the host (after
 * the guest writes it). Unmasked exceptions raise #XM through soft_fpx_begin/end below. */
static inline void soft_mxcsr_pull(struct soft_cpu *c)
{
	c->mxcsr = (c->mxcsr & ~0x3fu) | (_mm_getcsr() & 0x3fu);
}

static inline void soft_mxcsr_push(const struct soft_cpu *c)
{
	_mm_setcsr(c->mxcsr | 0x1f80u);
}

/* #XM: a handler that can raise SIMD floating-point exceptions computes between
 * soft_fpx_begin() and soft_fpx_end() and commits its result after end. With every exception
 * masked in the guest (the common case) both are one test of c->mxcsr. Otherwise begin clears
 * the host's sticky flags (returning them, tagged with SOFT_FPX_ACTIVE), so that end sees
 * exactly what this instruction raised: an unmasked one goes to soft_fpx_fault (#XM, result
 * not committed), else the old flags are merged back. The host still computes with every
 * exception masked, so it never takes SIGFPE. SOFT_FPX_BARRIER keeps the compiler from moving
 * the computation across the MXCSR accesses: inputs pass through it after begin, results
 * before end. */
#define SOFT_FPX_ACTIVE 0x80000000u
#define SOFT_FPX_BARRIER(v) __asm__ volatile("" : "+x"(v))
#define SOFT_FPX_BARRIER_GPR(v) __asm__ volatile("" : "+r"(v))
_Noreturn void soft_fpx_fault(struct soft_cpu *c, uint32_t saved, uint32_t raised);

static inline uint32_t soft_fpx_begin(const struct soft_cpu *c)
{
	if (SOFT_LIKELY((c->mxcsr & 0x1f80u) == 0x1f80u))
		return 0;
	uint32_t m = _mm_getcsr();
	_mm_setcsr(m & ~0x3fu);
	return m | SOFT_FPX_ACTIVE;
}

static inline void soft_fpx_end(struct soft_cpu *c, uint32_t saved)
{
	if (SOFT_LIKELY(!saved))
		return;
	uint32_t raised = _mm_getcsr() & 0x3fu;
	if (SOFT_UNLIKELY(raised & ~(c->mxcsr >> 7) & 0x3fu))
		soft_fpx_fault(c, saved, raised);
	_mm_setcsr((saved & ~SOFT_FPX_ACTIVE) | raised);
}

/* SSE helpers shared by the sse_* files. */
static inline union soft_xmm *soft_xreg(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	return &c->xmm[op->o[i].reg];
}

/* Read a 128-bit (or narrower, zero-filled) SSE source operand: XMM register or memory. */
static inline union soft_xmm soft_xsrc(struct soft_cpu *c, const struct soft_op *op, unsigned i)
{
	union soft_xmm v;
	const struct soft_opnd *o = &op->o[i];
	if (o->kind == SOFT_OPND_XMM)
		return c->xmm[o->reg];
	v.q[0] = v.q[1] = 0;
	if (o->kind == SOFT_OPND_REG) {
		v.q[0] = soft_reg_get(c, o->reg, o->size);
		return v;
	}
	uint64_t a = soft_ea(c, op);
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	if (SOFT_LIKELY(o->size == 16 && e->tag_r == (a & ~0xfffULL) && (a & 0xfff) <= 4096u - 16))
		memcpy(&v, (const void *)(uintptr_t)(a + e->addend), 16);
	else
		soft_ld_bytes(c, a, &v, o->size, SOFT_ACC_READ);
	return v;
}

/* Operations that can overflow or underflow (ADD/SUB/MUL/DIV, CVTSD2SS/CVTPD2PS) need more
 * than the instruction's flags when such an exception is unmasked: hardware reports precision
 * per element (not for an element that faults on overflow/underflow) and, with underflow
 * unmasked, signals an exact tiny result too; the precision it reports for a faulting
 * element is that of the result rounded with an unbounded exponent. fn computes the whole operation on raw 128-bit
 * values; soft_fpx_check reruns it one element at a time (lanes elements of in_w bytes in,
 * out_w bytes out) on that rare path. */
enum soft_fpx_kind { SOFT_FPX_ADD, SOFT_FPX_SUB, SOFT_FPX_MUL, SOFT_FPX_DIV, SOFT_FPX_CVT };
struct soft_fpx_op {
	__m128i (*fn)(__m128i a, __m128i b);
	uint8_t in_w, out_w, lanes, kind; /* kind: a op b elementwise (CVT: b) */
};
void soft_fpx_check(struct soft_cpu *c, uint32_t saved, uint32_t raised,
		    const struct soft_fpx_op *d, __m128i a, __m128i b);

/* dst = fn(dst, src) for a soft_fpx_op, with #XM. */
static inline void soft_fpx_binop(struct soft_cpu *c, const struct soft_op *op,
				  const struct soft_fpx_op *d)
{
	union soft_xmm bv = soft_xsrc(c, op, 1), *dst = soft_xreg(c, op, 0);
	uint32_t x = soft_fpx_begin(c);
	__m128i a = _mm_loadu_si128((const __m128i *)dst->b), b = _mm_loadu_si128((const __m128i *)bv.b);
	SOFT_FPX_BARRIER(a);
	SOFT_FPX_BARRIER(b);
	__m128i r = d->fn(a, b);
	SOFT_FPX_BARRIER(r);
	if (SOFT_UNLIKELY(x)) {
		uint32_t raised = _mm_getcsr() & 0x3fu, unmasked = ~(c->mxcsr >> 7) & 0x3fu;
		if (raised & unmasked || (unmasked & 0x10u))
			soft_fpx_check(c, x, raised, d, a, b);
		else
			_mm_setcsr((x & ~SOFT_FPX_ACTIVE) | raised);
	}
	_mm_storeu_si128((__m128i *)dst->b, r);
}


#endif
