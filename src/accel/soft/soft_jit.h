/* Contract of the baseline JIT (jit.c, jit_inline.c): host x86-64 code per decoded block,
 * owned by the code cache (arena, flushed with it). Generated code runs with the CPU pinned in
 * rbx and the stack 16-byte aligned at every call; it calls handlers with (cpu, op) after
 * storing cur_op, so exceptions see exactly the state the interpreter would leave. The run
 * loop (code.c) enters it through soft_jit_enter and gets control back when the budget or
 * chain_left runs out, or soft_jit_block_miss returns NULL. On other hosts soft_jit_init fails and the interpreter
 * runs everything. */
#ifndef HARDY_SOFT_JIT_H
#define HARDY_SOFT_JIT_H

#include "accel/soft/soft_code.h"

/* A write cursor into the arena; overflow is sticky (the block is then not installed). */
struct soft_emit {
	uint8_t *p, *end;
	uint8_t *base; /* arena start, for rel32 targets */
	intptr_t exec_delta; /* where the code runs minus where it is written (dual mapping) */
	bool overflow;
};

static inline void soft_emit_u8(struct soft_emit *e, uint8_t v)
{
	if (e->p < e->end)
		*e->p++ = v;
	else
		e->overflow = true;
}

static inline void soft_emit_bytes(struct soft_emit *e, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		soft_emit_u8(e, v[i]);
}

static inline void soft_emit_u32(struct soft_emit *e, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		soft_emit_u8(e, (uint8_t)(v >> (8 * i)));
}

static inline void soft_emit_u64(struct soft_emit *e, uint64_t v)
{
	soft_emit_u32(e, (uint32_t)v);
	soft_emit_u32(e, (uint32_t)(v >> 32));
}

/* The rel32 field of a jump/call ending right after it, aimed at target in the arena (both
 * in the writable view, so the distance is the executable one too). */
static inline void soft_emit_rel32(struct soft_emit *e, const void *target)
{
	intptr_t rel = (intptr_t)target - (intptr_t)(e->p + 4);
	soft_emit_u32(e, (uint32_t)(int32_t)rel);
}

/* call target (outside the arena): rel32 from where the code runs when it reaches, else
 * mov rax, imm64; call rax. */
static inline void soft_emit_call(struct soft_emit *e, const void *target)
{
	intptr_t rel = (intptr_t)target - ((intptr_t)e->p + e->exec_delta + 5);
	if (rel == (int32_t)rel) {
		soft_emit_u8(e, 0xe8);
		soft_emit_u32(e, (uint32_t)(int32_t)rel);
	} else {
		soft_emit_u8(e, 0x48);
		soft_emit_u8(e, 0xb8);
		soft_emit_u64(e, (uint64_t)(uintptr_t)target);
		soft_emit_u8(e, 0xff);
		soft_emit_u8(e, 0xd0);
	}
}

/* Block-local cache of guest GPRs in host registers (jit_regs.c). It is write-through: the
 * copy in struct soft_cpu is always current, so handlers, stubs and exceptions see the guest
 * state without a flush; templates read cached registers from host registers instead of
 * memory. Slots 0-4 are callee-saved host registers (rbp, r12-r15, saved by the JIT entry),
 * 5-9 caller-saved ones (rdi, r8-r11) that any call clobbers. A handler call forgets the
 * cache; a slow-path stub reloads the slots its resume point expects. */
enum { SOFT_JIT_NREGS = 10, SOFT_JIT_NSAVED = 5 };
struct soft_jit_regs {
	int8_t guest[SOFT_JIT_NREGS]; /* the guest GPR a slot holds, or -1 */
	uint32_t stamp[SOFT_JIT_NREGS]; /* last use, for LRU replacement */
	uint32_t clock;
};

/* An inline template's way out: when its TLB probe misses (or the access splits a page), the
 * jumps at site[] go to a stub that calls the op's handler fn, reloads the register cache as
 * regs says it is at resume, and continues at resume. */
struct soft_jit_fix {
	uint8_t *site[3];
	unsigned nsite;
	const struct soft_op *op;
	soft_handler fn;
	uint8_t *resume;
	struct soft_jit_regs regs;
};

/* lf_kind/lf_size: the lazy-flag record the ops emitted so far leave behind when the block
 * knows it statically (an ALU op and flag-free ops after it), else lf_kind SOFT_LF_NONE; a
 * condition reader (Jcc, SETcc, CMOVcc) then recomputes the host flags from the record.
 * flags_dead comes from the same backward liveness pass as the decoder's dead-flag
 * elimination: an inlined ALU op then writes no lazy-flag record at all. */
struct soft_jit_ctx {
	struct soft_emit e;
	struct soft_jit_fix fix[SOFT_BLOCK_MAX_OPS];
	unsigned nfix;
	unsigned lf_kind, lf_size;
	bool flags_dead; /* the current op's flags are overwritten before anything reads them */
	struct soft_jit_regs regs;
};

bool soft_jit_init(struct soft_code_cache *cc);
void soft_jit_destroy(struct soft_code_cache *cc);
void soft_jit_flush(struct soft_code_cache *cc);
/* Host code for block b (b->jit), or NULL when the arena is full (flush, then retry). */
const void *soft_jit_compile(struct soft_cpu *c, struct soft_block *b);
void soft_jit_enter(struct soft_cpu *c, const void *code);
/* Called by generated code at a block end that its successor slots do not cover: the next
 * block's code, or NULL (code.c). */
const void *soft_jit_block_miss(struct soft_cpu *c, struct soft_block *b);
/* The handler every compiled op's fn points to: the threaded tail call returns. */
void soft_jit_ret(struct soft_cpu *c, const struct soft_op *op);
/* Emit op as host instructions when it is one of the inlined forms (jit_inline.c). */
bool soft_jit_inline(struct soft_jit_ctx *x, const struct soft_op *op);
/* rax = the host address of op's sz-byte memory operand (tag as the probe: 0 read, 8 write,
 * 16 both; align16: misaligned goes to the handler too), else the handler runs; the template
 * ends with soft_jit_mem_done (jit_inline.c). The ea must be ea_ok (64-bit addressing). */
void soft_jit_mem(struct soft_jit_ctx *x, const struct soft_op *op, unsigned tag, unsigned sz,
		  bool align16);
void soft_jit_mem_done(struct soft_jit_ctx *x);
/* The register cache: empty (block entry, after a handler call); reload what regs says from
 * struct soft_cpu (a stub, after its handler ran); guest GPR reg was written in memory by code
 * that bypassed the cache (jit_regs.c). */
void soft_jit_regs_forget(struct soft_jit_ctx *x);
void soft_jit_regs_reload(struct soft_emit *e, const struct soft_jit_regs *regs);
void soft_jit_gpr_written(struct soft_jit_ctx *x, unsigned reg);
/* 128-bit SSE moves and integer logic/compare forms (jit_sse.c). */
bool soft_jit_inline_sse(struct soft_jit_ctx *x, const struct soft_op *op);
/* CF of the current lazy-flag record, for INC/DEC after an unknown producer (jit.c). */
uint64_t soft_jit_get_cf(struct soft_cpu *c);
/* mov rsi, op; mov [rbx + cur_op], rsi; mov rdi, rbx; call fn (jit.c). */
void soft_jit_call_op(struct soft_emit *e, const struct soft_op *op, soft_handler fn);

#endif
