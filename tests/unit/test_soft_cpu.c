/* Unit tests of the software CPU on a private 3-page memory: arithmetic and lazy flags, a loop
 * with a conditional branch, #DE from DIV, #PF on an unmapped access, SYSCALL exit, and the
 * decoded-code cache dropping code that the guest overwrites (self-modifying code), FS overrides
 * on string instructions, MMX aliasing onto the x87 file, MXCSR rounding control, a #PF in a
 * loop whose load ran from a warm TLB before, #GP from a misaligned MOVDQA, #XM for unmasked
 * SIMD floating-point exceptions, x87 precision/rounding control against the host x87, and 32-bit
 * compatibility mode (the same bytes decoded per mode, the 32-bit stack, upper halves), and a
 * host fork giving the child its own JIT arena. Every test runs on the interpreter and on the
 * JIT (which is how this sanitized build checks the JIT too). */
#include <stdio.h>
#include <xmmintrin.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accel/soft/soft_cpu.h"

#define BASE 0x1000u
#define PAGES 3u

struct mem {
	uint8_t *bytes; /* PAGES pages at guest BASE; page 0 code, pages 1-2 data/stack */
	int failures;
	bool jit;       /* run the tests on the JIT (else the interpreter) */
};

static int translate(void *ctx, uint64_t va, unsigned access, uint8_t **host)
{
	struct mem *m = ctx;
	(void)access;
	if (va < BASE || va >= BASE + PAGES * 4096u)
		return -1;
	*host = m->bytes + (va - BASE);
	return 0;
}

static const struct soft_mem_ops ops = { .translate = translate };

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			m->failures++;                                           \
		}                                                                \
	} while (0)

static struct soft_cpu *setup(struct mem *m, const uint8_t *code, size_t len)
{
	memset(m->bytes, 0, PAGES * 4096u);
	memcpy(m->bytes, code, len);
	struct soft_cpu *c = soft_cpu_create(&ops, m);
	soft_cpu_set_jit(c, m->jit);
	c->rip = BASE;
	c->gpr[SOFT_RSP] = BASE + PAGES * 4096u - 64;
	return c;
}

static void test_arith_flags(struct mem *m)
{
	/* mov eax, 0x7fffffff; add eax, 1; setO bl; setS cl; hlt */
	static const uint8_t code[] = { 0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01, 0x0f, 0x90,
					0xc3, 0x0f, 0x98, 0xc1, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RAX] == 0x80000000u);
	CHECK((c->gpr[SOFT_RBX] & 0xff) == 1);
	CHECK((c->gpr[SOFT_RCX] & 0xff) == 1);
	uint64_t f = soft_cpu_get_rflags(c);
	CHECK((f & 0x800) && (f & 0x80) && !(f & 0x40) && !(f & 1));
	soft_cpu_destroy(c);
}

static void test_loop(struct mem *m)
{
	/* xor eax,eax; mov ecx,100; L: add eax,ecx; dec ecx; jnz L; syscall */
	static const uint8_t code[] = { 0x31, 0xc0, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0xc8, 0xff,
					0xc9, 0x75, 0xfa, 0x0f, 0x05 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100000) == SOFT_EXIT_SYSCALL);
	CHECK(c->gpr[SOFT_RAX] == 5050);
	CHECK(c->rip == BASE + sizeof(code));
	CHECK(c->gpr[SOFT_RCX] == BASE + sizeof(code)); /* SYSCALL saves rip in rcx */
	soft_cpu_destroy(c);
}

static void test_div_fault(struct mem *m)
{
	/* xor edx,edx; mov eax,1; xor ecx,ecx; div ecx */
	static const uint8_t code[] = { 0x31, 0xd2, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc9, 0xf7,
					0xf1 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_DE);
	CHECK(c->rip == BASE + 9); /* faulting instruction */
	soft_cpu_destroy(c);
}

static void test_page_fault(struct mem *m)
{
	/* mov rax, [0x100000] */
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x10, 0x00 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_PF && c->exc_addr == 0x100000);
	CHECK(c->rip == BASE);
	soft_cpu_destroy(c);
}

static void test_self_modifying(struct mem *m)
{
	/* L0: mov eax, 1; syscall — run, then the guest patches the immediate and jumps back:
	 * 0x1000: b8 01 00 00 00      mov eax, 1
	 * 0x1005: 0f 05               syscall
	 * 0x1007: c6 05 f3 ff ff ff 07 mov byte [rip-13], 7   (-> 0x1001)
	 * 0x100e: eb f0               jmp 0x1000 */
	static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc6, 0x05, 0xf3,
					0xff, 0xff, 0xff, 0x07, 0xeb, 0xf0 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL);
	CHECK(c->gpr[SOFT_RAX] == 1);
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL);
	CHECK(c->gpr[SOFT_RAX] == 7); /* the rewritten instruction ran, not the cached one */
	soft_cpu_destroy(c);
}

/* A host fork (hardy-cpu-run's guest fork): the child takes its own JIT arena, so code it
 * compiles cannot overwrite code its parent compiled at the same arena offset. */
static void test_fork_jit(struct mem *m)
{
	static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05 }; /* mov eax, 1 */
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL && c->gpr[SOFT_RAX] == 1);
	int go[2];
	CHECK(pipe(go) == 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		soft_cpu_after_fork(c);
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(3);
		static const uint8_t child[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x05 };
		memcpy(m->bytes + 0x100, child, sizeof(child));
		c->rip = BASE + 0x100;
		_exit(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL && c->gpr[SOFT_RAX] == 2 ? 0 : 1);
	}
	CHECK(pid > 0);
	/* The parent compiles first; then the child compiles at the same offset of its arena. */
	static const uint8_t parent[] = { 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	memcpy(m->bytes + 0x200, parent, sizeof(parent));
	c->rip = BASE + 0x200;
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL && c->gpr[SOFT_RAX] == 3);
	CHECK(write(go[1], "g", 1) == 1);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	c->rip = BASE + 0x200; /* the parent's compiled block again: still its own code */
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_SYSCALL && c->gpr[SOFT_RAX] == 3);
	close(go[0]);
	close(go[1]);
	soft_cpu_destroy(c);
}

static void test_fault_in_loop(struct mem *m)
{
	/* mov ecx, 5; mov rbx, 0x2000; L: mov rax, [rbx]; add rbx, 0x800; dec ecx; jnz L
	 * The fifth load reads 0x4000 (unmapped): rip at L, four iterations retired. */
	static const uint8_t code[] = { 0xb9, 0x05, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc3, 0x00, 0x20,
					0x00, 0x00, 0x48, 0x8b, 0x03, 0x48, 0x81, 0xc3, 0x00, 0x08,
					0x00, 0x00, 0xff, 0xc9, 0x75, 0xf2 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	m->bytes[0x2800 - BASE] = 0x5a;
	CHECK(soft_cpu_run(c, 1000) == SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_PF && c->exc_addr == 0x4000);
	CHECK(c->rip == BASE + 12);
	CHECK(c->gpr[SOFT_RCX] == 1 && c->gpr[SOFT_RBX] == 0x4000);
	CHECK(c->gpr[SOFT_RAX] == 0); /* the last load that ran read 0x3800 */
	CHECK(c->icount == 2 + 4 * 4);
	soft_cpu_destroy(c);
}

/* The JIT's register cache (soft_jit.h) across what bypasses it, in one block run four times:
 * a load whose first run takes the slow path (cold TLB), an ADC whose carry comes from the
 * record of the ADD before it, a BTS run by its handler (it writes a register the block has
 * cached), and a byte write into a cached register (its upper bits must stay).
 *   mov ebx, 0x2000; mov ecx, 4; xor esi, esi; mov rdi, -1; xor edx, edx; mov r9d, 0x1100;
 *   xor r10d, r10d; xor r11d, r11d
 *   L: mov rax, [rbx]; add rdx, rax; add rsi, rdi; adc rdx, 0; bts rdx, 40; add r11, rdx;
 *      add r10, r9; mov r9b, cl; add r10, r9; add rbx, 8; dec ecx; jnz L; hlt */
static void test_register_cache(struct mem *m)
{
	static const uint8_t code[] = {
		0xbb, 0x00, 0x20, 0x00, 0x00, 0xb9, 0x04, 0x00, 0x00, 0x00, 0x31, 0xf6, 0x48, 0xc7,
		0xc7, 0xff, 0xff, 0xff, 0xff, 0x31, 0xd2, 0x41, 0xb9, 0x00, 0x11, 0x00, 0x00, 0x45,
		0x31, 0xd2, 0x45, 0x31, 0xdb, 0x48, 0x8b, 0x03, 0x48, 0x01, 0xc2, 0x48, 0x01, 0xfe,
		0x48, 0x83, 0xd2, 0x00, 0x48, 0x0f, 0xba, 0xea, 0x28, 0x49, 0x01, 0xd3, 0x4d, 0x01,
		0xca, 0x41, 0x88, 0xc9, 0x4d, 0x01, 0xca, 0x48, 0x83, 0xc3, 0x08, 0xff, 0xc9, 0x75,
		0xda, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	for (uint64_t i = 0; i < 4; i++)
		memcpy(m->bytes + 0x2000 - BASE + 8 * i, &(uint64_t){ i + 1 }, 8);
	CHECK(soft_cpu_run(c, 1000) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RAX] == 4 && c->gpr[SOFT_RBX] == 0x2020 && c->gpr[SOFT_RCX] == 0);
	/* rdx: 1+2+3+4, the carries of iterations 2-4, bit 40 */
	CHECK(c->gpr[SOFT_RDX] == (1ULL << 40) + 13 && c->gpr[SOFT_RSI] == ~3ULL);
	CHECK(c->gpr[11] == (4ULL << 40) + 1 + 4 + 8 + 13);
	CHECK(c->gpr[9] == 0x1101 && c->gpr[10] == 0x8813);
	soft_cpu_destroy(c);
}

static void test_misaligned_movdqa(struct mem *m)
{
	/* mov rbx, 0x2000; mov rax, [rbx] (TLB now warm); movdqa xmm0, [rbx+8] -> #GP */
	static const uint8_t code[] = { 0x48, 0xc7, 0xc3, 0x00, 0x20, 0x00, 0x00, 0x48, 0x8b, 0x03,
					0x66, 0x0f, 0x6f, 0x43, 0x08, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_GP);
	CHECK(c->rip == BASE + 10);
	soft_cpu_destroy(c);
}

static void test_sse_and_fxsave(struct mem *m)
{
	/* pcmpeqb xmm1,xmm1; paddq xmm1,xmm1; movq rax,xmm1; fld1; fadd st0,st0; hlt */
	static const uint8_t code[] = { 0x66, 0x0f, 0x74, 0xc9, 0x66, 0x0f, 0xd4, 0xc9, 0x66, 0x48,
					0x0f, 0x7e, 0xc8, 0xd9, 0xe8, 0xd8, 0xc0, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RAX] == 0xfffffffffffffffeULL);
	uint8_t fx[512];
	soft_cpu_fxsave(c, fx);
	long double st0 = 0;
	memcpy(&st0, fx + 32, 10);
	CHECK(st0 == 2.0L);
	CHECK(fx[4] == 0x80); /* abridged tag: physical register 7 valid */
	soft_cpu_destroy(c);
}

static void test_segment_string(struct mem *m)
{
	/* fs lodsb; fs movsb; hlt  with FS base 0x1000: the source is fs:rsi */
	static const uint8_t code[] = { 0x64, 0xac, 0x64, 0xa4, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	m->bytes[0x2100 - BASE] = 0x5a;
	m->bytes[0x2101 - BASE] = 0x77;
	c->fs_base = 0x1000;
	c->gpr[SOFT_RSI] = 0x1100;
	c->gpr[SOFT_RDI] = 0x2200;
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK((c->gpr[SOFT_RAX] & 0xff) == 0x5a);
	CHECK(m->bytes[0x2200 - BASE] == 0x77);
	CHECK(c->gpr[SOFT_RSI] == 0x1102 && c->gpr[SOFT_RDI] == 0x2201);
	soft_cpu_destroy(c);
}

static void test_mmx(struct mem *m)
{
	/* movq mm0,rax; paddb mm0,mm0; movq rbx,mm0; emms; hlt */
	static const uint8_t code[] = { 0x48, 0x0f, 0x6e, 0xc0, 0x0f, 0xfc, 0xc0, 0x48, 0x0f, 0x7e,
					0xc3, 0x0f, 0x77, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	c->gpr[SOFT_RAX] = 0x0102030405060708ULL;
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RBX] == 0x020406080a0c0e10ULL);
	uint64_t mm[8];
	soft_cpu_mmx_get(c, mm);
	CHECK(mm[0] == 0x020406080a0c0e10ULL);
	uint8_t fx[512];
	soft_cpu_fxsave(c, fx);
	CHECK(fx[4] == 0);                               /* EMMS: every register empty */
	CHECK(fx[32 + 8] == 0xff && fx[32 + 9] == 0xff); /* MM0 write: exponent and sign all ones */
	soft_cpu_destroy(c);
}

static void test_mxcsr_rounding(struct mem *m)
{
	/* ldmxcsr [0x2000] (round down); cvtsd2si rax,xmm0; cvttsd2si rbx,xmm0; hlt */
	static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x00, 0x20, 0x00, 0x00, 0xf2, 0x48,
					0x0f, 0x2d, 0xc0, 0xf2, 0x48, 0x0f, 0x2c, 0xd8, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	uint32_t csr = 0x3f80;
	memcpy(m->bytes + 0x2000 - BASE, &csr, 4);
	c->xmm[0].df[0] = -2.5;
	unsigned host = _mm_getcsr();
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RAX] == (uint64_t)-3); /* rounded down */
	CHECK(c->gpr[SOFT_RBX] == (uint64_t)-2); /* truncated */
	CHECK(c->mxcsr == (0x3f80 | 0x20));      /* precision flag recorded */
	CHECK(_mm_getcsr() == host);             /* the host's MXCSR is back */
	soft_cpu_destroy(c);
}

/* ldmxcsr [0x2000]; OP xmm0, xmm1 (4 bytes); hlt, with xmm0/xmm1's low qwords a/b. */
static enum soft_exit run_sse_op(struct mem *m, const uint8_t op4[4], uint32_t csr, uint64_t a,
				 uint64_t b, struct soft_cpu **out)
{
	uint8_t code[13] = { 0x0f, 0xae, 0x14, 0x25, 0x00, 0x20, 0x00, 0x00 };
	memcpy(code + 8, op4, 4);
	code[12] = 0xf4;
	struct soft_cpu *c = setup(m, code, sizeof(code));
	memcpy(m->bytes + 0x2000 - BASE, &csr, 4);
	c->xmm[0].q[0] = a;
	c->xmm[1].q[0] = b;
	*out = c;
	return soft_cpu_run(c, 100);
}

static void test_simd_exceptions(struct mem *m)
{
	static const uint8_t divss[4] = { 0xf3, 0x0f, 0x5e, 0xc1 }, mulsd[4] = { 0xf2, 0x0f, 0x59, 0xc1 };
	struct soft_cpu *c;
	unsigned host = _mm_getcsr();
	/* 1.0f / 0 with divide-by-zero unmasked: #XM at the DIVSS, xmm0 kept, ZE set. */
	CHECK(run_sse_op(m, divss, 0x1d80, 0x3f800000, 0, &c) == SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_XM && c->rip == BASE + 8);
	CHECK(c->xmm[0].q[0] == 0x3f800000 && c->mxcsr == (0x1d80 | 0x4));
	CHECK(_mm_getcsr() == host);
	soft_cpu_destroy(c);
	/* The same, masked: +inf and the flag. */
	CHECK(run_sse_op(m, divss, 0x1f80, 0x3f800000, 0, &c) == SOFT_EXIT_HALT);
	CHECK(c->xmm[0].d[0] == 0x7f800000 && c->mxcsr == (0x1f80 | 0x4));
	soft_cpu_destroy(c);
	/* 2^-1000 * 2^-30: an exact tiny result; with underflow unmasked that is #XM with UE
	 * alone (the masked computation raises nothing). */
	CHECK(run_sse_op(m, mulsd, 0x1780, 0x0170000000000000ull, 0x3e10000000000000ull, &c) ==
	      SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_XM && c->mxcsr == (0x1780 | 0x10));
	CHECK(c->xmm[0].q[0] == 0x0170000000000000ull);
	soft_cpu_destroy(c);
	/* 1.5 * 2^1023 * 2^1023 with overflow unmasked: OE, precision judged on the exact
	 * (unbounded) product, which is exact here. */
	CHECK(run_sse_op(m, mulsd, 0x1b80, 0x7fe8000000000000ull, 0x7fe0000000000000ull, &c) ==
	      SOFT_EXIT_EXCEPTION);
	CHECK(c->exc_vector == SOFT_VEC_XM && c->mxcsr == (0x1b80 | 0x8));
	soft_cpu_destroy(c);
}

/* a / b on the host x87 under control word cw (exceptions masked). */
static long double host_x87_div(uint16_t cw, long double a, long double b)
{
	uint16_t saved, g = (uint16_t)(cw | 0x3f);
	long double r;
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fldcw %3\n\tfdiv %%st(1), %%st\n\tfldcw %4"
			 : "=t"(r) : "0"(a), "u"(b), "m"(g), "m"(saved));
	return r;
}

static void test_x87_precision(struct mem *m)
{
	/* fldcw [0x2000]; fld1; fld dword [0x2004] (3.0); fdivp st(1), st(0);
	 * fstp tbyte [0x2010]; hlt. PC 24/53/64 bits, and RC up/toward zero/down with PC=24. */
	static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x20, 0x00, 0x00, 0xd9, 0xe8, 0xd9,
					0x04, 0x25, 0x04, 0x20, 0x00, 0x00, 0xde, 0xf9, 0xdb, 0x3c,
					0x25, 0x10, 0x20, 0x00, 0x00, 0xf4 };
	static const uint16_t cws[] = { 0x07f, 0x27f, 0x37f, 0x87f, 0xc7f, 0x47f };
	for (unsigned i = 0; i < sizeof(cws) / sizeof(cws[0]); i++) {
		struct soft_cpu *c = setup(m, code, sizeof(code));
		float three = 3.0f;
		memcpy(m->bytes + 0x2000 - BASE, &cws[i], 2);
		memcpy(m->bytes + 0x2004 - BASE, &three, 4);
		CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
		long double got = 0, want = host_x87_div(cws[i], 1.0L, 3.0L);
		memcpy(&got, m->bytes + 0x2010 - BASE, 10);
		CHECK(memcmp(&got, &want, 10) == 0);
		soft_cpu_destroy(c);
	}
	/* Spot checks of the host reference itself: PC=24 and PC=53 round like float/double. */
	CHECK(host_x87_div(0x07f, 1.0L, 3.0L) == (long double)(1.0f / 3.0f));
	CHECK(host_x87_div(0x27f, 1.0L, 3.0L) == (long double)(1.0 / 3.0));
	CHECK(host_x87_div(0x37f, 1.0L, 3.0L) != (long double)(1.0 / 3.0));
}

static void test_compat_mode(struct mem *m)
{
	/* 64-bit: add rax, 1; compatibility mode: dec eax; add eax, 1 (same bytes); hlt */
	static const uint8_t code[] = { 0x48, 0x05, 0x01, 0x00, 0x00, 0x00, 0xf4 };
	struct soft_cpu *c = setup(m, code, sizeof(code));
	for (int round = 0; round < 3; round++) {
		bool compat = round == 1;
		soft_cpu_set_cs_mode(c, compat ? SOFT_CS_32 : SOFT_CS_64);
		c->rip = BASE;
		c->gpr[SOFT_RAX] = 5;
		CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
		CHECK(c->gpr[SOFT_RAX] == (compat ? 5u : 6u)); /* blocks are cached per mode */
	}
	soft_cpu_destroy(c);
	/* call $+5; pop ebx; push 0x12345678; pop ecx; pushad; popad; mov eax, [ebx+ecx*0+0x100];
	 * hlt. ESP's upper half is not part of the stack pointer. */
	static const uint8_t code32[] = { 0xe8, 0, 0, 0, 0, 0x5b, 0x68, 0x78, 0x56, 0x34, 0x12, 0x59,
					  0x60, 0x61, 0x8b, 0x83, 0x00, 0x01, 0x00, 0x00, 0xf4 };
	c = setup(m, code32, sizeof(code32));
	soft_cpu_set_cs_mode(c, SOFT_CS_32);
	uint64_t sp = c->gpr[SOFT_RSP];
	c->gpr[SOFT_RSP] |= 1ULL << 32;
	c->gpr[SOFT_RBX] = 0xdeadbeef00000000ULL;
	m->bytes[0x105] = 0x42;
	CHECK(soft_cpu_run(c, 100) == SOFT_EXIT_HALT);
	CHECK(c->gpr[SOFT_RBX] == BASE + 5);
	CHECK(c->gpr[SOFT_RCX] == 0x12345678);
	CHECK(c->gpr[SOFT_RSP] == sp);
	CHECK(c->gpr[SOFT_RAX] == 0x42);
	uint32_t slot[2];
	memcpy(slot, m->bytes + sp - 20 - BASE, 8); /* PUSHAD: EBX at -16, ESP (32 bits) at -20 */
	CHECK(slot[0] == (uint32_t)sp && slot[1] == BASE + 5);
	soft_cpu_destroy(c);
}

int main(void)
{
	struct mem m = { .bytes = aligned_alloc(4096, PAGES * 4096u) };
	if (!m.bytes)
		return 1;
	for (int jit = 0; jit < 2; jit++) {
		m.jit = jit;
		test_arith_flags(&m);
		test_loop(&m);
		test_div_fault(&m);
		test_page_fault(&m);
		test_self_modifying(&m);
		test_fork_jit(&m);
		test_fault_in_loop(&m);
		test_register_cache(&m);
		test_misaligned_movdqa(&m);
		test_sse_and_fxsave(&m);
		test_segment_string(&m);
		test_mmx(&m);
		test_mxcsr_rounding(&m);
		test_simd_exceptions(&m);
		test_x87_precision(&m);
		test_compat_mode(&m);
	}
	free(m.bytes);
	if (m.failures) {
		fprintf(stderr, "test_soft_cpu: %d failures\n", m.failures);
		return 1;
	}
	printf("test_soft_cpu: ok\n");
	return 0;
}
