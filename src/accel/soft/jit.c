/* Baseline JIT for x86-64 hosts: turns a decoded block into host code that calls the op
 * handlers directly (call-threaded code) instead of the interpreter's indirect tail jumps.
 *
 * Generated code pins the CPU in rbx. Per op it stores cur_op (so soft_raise finds the faulting
 * instruction) and calls the op's handler with (cpu, op); the handler's threaded tail call lands
 * in soft_jit_ret, because compiling a block points every later op's fn there, so control comes
 * back to the generated code (one predictable jump and a return instead of an indirect jump
 * with many targets). The hottest register-only forms (MOV/ALU/LEA on 32/64-bit registers,
 * jit_inline.c) are emitted as host instructions. The block end charges the budget and jumps
 * straight to the successor found in the block's two successor slots; otherwise
 * soft_jit_block_miss finds (and compiles, and links) it, or returns NULL: back to the loop.
 *
 * Code lives in an arena owned by the code cache, mapped near the program text so that calls
 * are `call rel32`, and is dropped with the decoded blocks on every code-cache flush. The
 * arena is one memory file mapped twice: executable (never writable) near the text, and
 * writable elsewhere, where blocks are emitted. No view is both, and compiling a block needs
 * no mprotect: toggling the protection per block cost two TLB shootdowns across the
 * process's threads each time, about half of hardy's CPU time in a Linux boot. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/soft/soft_jit.h"

#if defined(__x86_64__)

enum { JIT_SIZE = 32u << 20, JIT_EXIT = 32, JIT_BLOCK_RESERVE = 32768 };

void soft_jit_ret(struct soft_cpu *c, const struct soft_op *op)
{
	(void)c;
	(void)op;
}

bool soft_jit_init(struct soft_code_cache *cc)
{
	/* Ask for an address near the handlers so that rel32 calls reach them. */
	uintptr_t near = ((uintptr_t)&soft_jit_ret + (256u << 20)) & ~(uintptr_t)0xffff;
	int fd = memfd_create("hardy-jit", MFD_CLOEXEC);
	if (fd < 0)
		return false;
	void *x = MAP_FAILED, *w = MAP_FAILED;
	if (ftruncate(fd, JIT_SIZE) == 0) {
		x = mmap((void *)near, JIT_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
		w = mmap(NULL, JIT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	close(fd); /* the mappings keep the file */
	if (x == MAP_FAILED || w == MAP_FAILED) {
		if (x != MAP_FAILED)
			munmap(x, JIT_SIZE);
		if (w != MAP_FAILED)
			munmap(w, JIT_SIZE);
		return false;
	}
	cc->jit = x;
	cc->jit_w = w;
	struct soft_emit e = { .p = cc->jit_w, .base = cc->jit_w, .end = cc->jit_w + JIT_EXIT + 16,
			       .exec_delta = cc->jit - cc->jit_w };
	/* Entry (cpu in rdi, code in rsi): save the callee-saved registers the code uses (rbx
	 * pins the CPU; rbp, r12-r15 hold cached guest registers), keep the stack 16-byte
	 * aligned for the calls. Exit at JIT_EXIT restores them. */
	static const uint8_t entry[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41,
					 0x57, 0x48, 0x83, 0xec, 0x08, /* push x6; sub rsp, 8 */
					 0x48, 0x89, 0xfb, 0xff, 0xe6 }; /* mov rbx, rdi; jmp rsi */
	static const uint8_t leave[] = { 0x48, 0x83, 0xc4, 0x08, 0x41, 0x5f, 0x41, 0x5e, 0x41,
					 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
	_Static_assert(sizeof(entry) <= JIT_EXIT, "entry fits before the exit");
	soft_emit_bytes(&e, entry, sizeof(entry));
	while (e.p < cc->jit_w + JIT_EXIT)
		soft_emit_u8(&e, 0xcc);
	soft_emit_bytes(&e, leave, sizeof(leave));
	cc->jit_used = (size_t)(e.p - cc->jit_w + 15) & ~(size_t)15;
	cc->jit_start = cc->jit_used;
	return true;
}

void soft_jit_destroy(struct soft_code_cache *cc)
{
	if (cc->jit) {
		munmap(cc->jit, JIT_SIZE);
		munmap(cc->jit_w, JIT_SIZE);
	}
	cc->jit = cc->jit_w = NULL;
}

void soft_jit_flush(struct soft_code_cache *cc)
{
	cc->jit_used = cc->jit_start;
}

void soft_jit_enter(struct soft_cpu *c, const void *code)
{
	void (*entry)(struct soft_cpu *, const void *) =
		(void (*)(struct soft_cpu *, const void *))(uintptr_t)c->cache->jit;
	entry(c, code);
}

uint64_t soft_jit_get_cf(struct soft_cpu *c)
{
	return soft_get_cf_fast(c);
}

void soft_jit_call_op(struct soft_emit *e, const struct soft_op *op, soft_handler fn)
{
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0xbe);
	soft_emit_u64(e, (uint64_t)(uintptr_t)op);
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0x89);
	soft_emit_u8(e, 0xb3);
	soft_emit_u32(e, (uint32_t)offsetof(struct soft_cpu, cur_op));
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0x89);
	soft_emit_u8(e, 0xdf);
	soft_emit_call(e, (const void *)(uintptr_t)fn);
}

/* Block end: charge the budget (out to the loop when it is spent or chain_left was zeroed),
 * then jump to the successor whose guest rip matches one of the block's two successor slots
 * (read from the header, so linking and unlinking never patch code), else ask
 * soft_jit_block_miss. */
static void emit_epilogue(struct soft_cpu *c, struct soft_emit *e, struct soft_block *b)
{
	uint8_t *exit = e->base + JIT_EXIT;
	soft_emit_u8(e, 0x48); /* sub qword [rbx + budget], n; jle exit */
	soft_emit_u8(e, 0x81);
	soft_emit_u8(e, 0xab);
	soft_emit_u32(e, (uint32_t)offsetof(struct soft_cpu, budget));
	soft_emit_u32(e, b->n);
	soft_emit_u8(e, 0x0f);
	soft_emit_u8(e, 0x8e);
	soft_emit_rel32(e, exit);
	soft_emit_u8(e, 0x83); /* cmp dword [rbx + chain_left], 0; jle exit */
	soft_emit_u8(e, 0xbb);
	soft_emit_u32(e, (uint32_t)offsetof(struct soft_cpu, chain_left));
	soft_emit_u8(e, 0);
	soft_emit_u8(e, 0x0f);
	soft_emit_u8(e, 0x8e);
	soft_emit_rel32(e, exit);
	soft_emit_u8(e, 0x48); /* mov rax, [rbx + rip] */
	soft_emit_u8(e, 0x8b);
	soft_emit_u8(e, 0x83);
	soft_emit_u32(e, (uint32_t)offsetof(struct soft_cpu, rip));
	soft_emit_u8(e, 0x48); /* mov rdx, b */
	soft_emit_u8(e, 0xba);
	soft_emit_u64(e, (uint64_t)(uintptr_t)b);
	for (unsigned k = 0; k < 2; k++) {
		/* cmp rax, [rdx + succ_va[k]]; jne next; mov rcx, [rdx + succ[k]]; jmp [rcx + jit] */
		static const uint8_t slot[] = { 0x48, 0x3b, 0x42, 0, 0x75, 7, 0x48, 0x8b, 0x4a, 0,
						0xff, 0x61, 0 };
		uint8_t code[sizeof(slot)];
		memcpy(code, slot, sizeof(slot));
		code[3] = (uint8_t)(offsetof(struct soft_block, succ_va) + 8 * k);
		code[9] = (uint8_t)(offsetof(struct soft_block, succ) + 8 * k);
		code[12] = (uint8_t)offsetof(struct soft_block, jit);
		soft_emit_bytes(e, code, sizeof(code));
	}
	/* Neither slot: probe the jump cache (rax = rip, rdx = b); a block with code found there
	 * takes the slot succ_next and is jumped to. */
	static const uint8_t jc1[] = { 0x48, 0x89, 0xc1,             /* mov rcx, rax */
				       0x48, 0xd1, 0xe9,             /* shr rcx, 1 */
				       0x81, 0xe1 };                 /* and ecx, imm32 */
	static const uint8_t jc2[] = {
		0x48, 0x8b, 0x0c, 0xce,   /* mov rcx, [rsi + rcx * 8] */
		0x48, 0x85, 0xc9,         /* test rcx, rcx */
		0x74, 34,                 /* jz miss */
		0x48, 0x3b, 0x01,         /* cmp rax, [rcx] (va) */
		0x75, 29,                 /* jne miss */
		0x48, 0x83, 0x79, 0, 0,   /* cmp qword [rcx + jit], 0 */
		0x74, 22,                 /* je miss */
		0x8b, 0x72, 0,            /* mov esi, [rdx + succ_next] */
		0x48, 0x89, 0x44, 0xf2, 0, /* mov [rdx + rsi * 8 + succ_va], rax */
		0x48, 0x89, 0x4c, 0xf2, 0, /* mov [rdx + rsi * 8 + succ], rcx */
		0x83, 0xf6, 0x01,         /* xor esi, 1 */
		0x89, 0x72, 0,            /* mov [rdx + succ_next], esi */
		0xff, 0x61, 0 };          /* jmp [rcx + jit] */
	_Static_assert(offsetof(struct soft_block, va) == 0, "block layout");
	uint8_t j2[sizeof(jc2)];
	memcpy(j2, jc2, sizeof(jc2));
	_Static_assert(sizeof(jc2) == 43, "jump distances above");
	j2[17] = j2[42] = (uint8_t)offsetof(struct soft_block, jit);
	j2[23] = j2[39] = (uint8_t)offsetof(struct soft_block, succ_next);
	j2[28] = (uint8_t)offsetof(struct soft_block, succ_va);
	j2[33] = (uint8_t)offsetof(struct soft_block, succ);
	soft_emit_bytes(e, jc1, sizeof(jc1));
	soft_emit_u32(e, SOFT_JC_SIZE - 1);
	soft_emit_u8(e, 0x48); /* mov rsi, &jc of b's privilege (a CPL change ends the chain) */
	soft_emit_u8(e, 0xbe);
	soft_emit_u64(e, (uint64_t)(uintptr_t)c->cache->jc[b->priv]);
	if (c->system) {
		/* System mode links only within the block's linear page and between blocks
		 * of the same link_gen (code.c, block_link_ok): another successor is jumped
		 * to without taking a slot. */
		static const uint8_t same_page[] = {
			0x48, 0x89, 0xc6,       /* mov rsi, rax */
			0x48, 0x33, 0x32,       /* xor rsi, [rdx] (b->va) */
			0x48, 0xc1, 0xee, 0x0c, /* shr rsi, 12 */
			0x75, 27,               /* jnz to the jmp, over the slot fill */
			0x8b, 0x71, 0,          /* mov esi, [rcx + link_gen] */
			0x3b, 0x72, 0,          /* cmp esi, [rdx + link_gen] */
			0x75, 19 };             /* jne to the jmp, over the slot fill */
		_Static_assert(offsetof(struct soft_block, link_gen) < 128, "disp8");
		uint8_t j3[sizeof(j2) + sizeof(same_page)];
		memcpy(j3, j2, 21);
		memcpy(j3 + 21, same_page, sizeof(same_page));
		j3[21 + 14] = j3[21 + 17] = (uint8_t)offsetof(struct soft_block, link_gen);
		memcpy(j3 + 21 + sizeof(same_page), j2 + 21, sizeof(j2) - 21);
		j3[8] += sizeof(same_page); /* the three jumps to miss */
		j3[13] += sizeof(same_page);
		j3[20] += sizeof(same_page);
		soft_emit_bytes(e, j3, sizeof(j3));
	} else {
		soft_emit_bytes(e, j2, sizeof(j2));
	}
	static const uint8_t tail[] = { 0x48, 0x85, 0xc0, 0x0f, 0x84 };
	soft_emit_u8(e, 0x48); /* miss: mov rdi, rbx; mov rsi, b; call soft_jit_block_miss */
	soft_emit_u8(e, 0x89);
	soft_emit_u8(e, 0xdf);
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0xbe);
	soft_emit_u64(e, (uint64_t)(uintptr_t)b);
	soft_emit_call(e, (const void *)(uintptr_t)soft_jit_block_miss);
	soft_emit_bytes(e, tail, sizeof(tail)); /* test rax, rax; jz exit; jmp rax */
	soft_emit_rel32(e, exit);
	soft_emit_u8(e, 0xff);
	soft_emit_u8(e, 0xe0);
}

const void *soft_jit_compile(struct soft_cpu *c, struct soft_block *b)
{
	struct soft_code_cache *cc = c->cache;
	if (cc->jit_used + JIT_BLOCK_RESERVE > JIT_SIZE)
		return NULL;
	uint8_t *start = cc->jit_w + cc->jit_used;
	struct soft_jit_ctx ctx, *x = &ctx;
	x->e = (struct soft_emit){ .p = start, .base = cc->jit_w, .end = start + JIT_BLOCK_RESERVE,
				   .exec_delta = cc->jit - cc->jit_w };
	x->nfix = 0;
	x->lf_kind = SOFT_LF_NONE;
	memset(&x->regs, 0, sizeof(x->regs));
	soft_jit_regs_forget(x);
	struct soft_emit *e = &x->e;
	unsigned n = b->n;
	/* Entry: rip holds the fall-through address while the block runs. */
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0xb8);
	soft_emit_u64(e, b->end_rip);
	soft_emit_u8(e, 0x48);
	soft_emit_u8(e, 0x89);
	soft_emit_u8(e, 0x83);
	soft_emit_u32(e, (uint32_t)offsetof(struct soft_cpu, rip));
	/* A fused CMP/TEST+Jcc handler runs both ops: the Jcc gets no code of its own. */
	unsigned last = b->fused ? n - 1 : n;
	/* Flag liveness after each op (as in the decoder's dead-flag pass). */
	bool dead[SOFT_BLOCK_MAX_OPS];
	bool live = true;
	for (unsigned i = n; i-- > 0;) {
		dead[i] = !live;
		enum soft_flag_effect fx = soft_flag_effect(&b->ops[i]);
		if (fx == SOFT_FLAGS_USE)
			live = true;
		else if (fx == SOFT_FLAGS_KILL)
			live = false;
	}
	for (unsigned i = 0; i < last; i++) {
		const struct soft_op *op = &b->ops[i];
		x->flags_dead = dead[i];
		/* The templates assume 64-bit addressing and stack: a compatibility-mode block
		 * calls every handler. */
		if (b->mode != SOFT_CS_64 || !soft_jit_inline(x, op)) {
			soft_jit_call_op(e, op, op->fn);
			soft_jit_regs_forget(x); /* the handler may write any register */
		}
	}
	emit_epilogue(c, e, b);
	/* Slow-path stubs of the inline templates: run the handler, continue after the op. */
	for (unsigned i = 0; i < x->nfix && !e->overflow; i++) {
		struct soft_jit_fix *f = &x->fix[i];
		for (unsigned s = 0; s < f->nsite; s++) {
			intptr_t rel = e->p - (f->site[s] + 4);
			for (unsigned k = 0; k < 4; k++)
				f->site[s][k] = (uint8_t)((uint64_t)rel >> (8 * k));
		}
		soft_jit_call_op(e, f->op, f->fn);
		soft_jit_regs_reload(e, &f->regs);
		soft_emit_u8(e, 0xe9);
		soft_emit_rel32(e, f->resume);
	}
	if (e->overflow)
		return NULL;
	/* Every handler's threaded tail call now returns to the generated code. */
	for (unsigned i = 1; i <= n; i++)
		b->ops[i].fn = soft_jit_ret;
	cc->jit_used = (size_t)(e->p - cc->jit_w + 15) & ~(size_t)15;
	b->jit = cc->jit + (start - cc->jit_w); /* where it runs */
	return b->jit;
}

#else /* not an x86-64 host: the interpreter runs everything */

void soft_jit_ret(struct soft_cpu *c, const struct soft_op *op) { (void)c; (void)op; }
bool soft_jit_init(struct soft_code_cache *cc) { cc->jit = NULL; return false; }
void soft_jit_destroy(struct soft_code_cache *cc) { (void)cc; }
void soft_jit_flush(struct soft_code_cache *cc) { (void)cc; }
void soft_jit_enter(struct soft_cpu *c, const void *code) { (void)c; (void)code; }
uint64_t soft_jit_get_cf(struct soft_cpu *c)
{
	(void)c;
	return 0;
}

const void *soft_jit_compile(struct soft_cpu *c, struct soft_block *b)
{
	(void)c;
	(void)b;
	return NULL;
}

#endif
