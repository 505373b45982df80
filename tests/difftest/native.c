/* Native side of the differential tester: lays out prologue (load every GPR, RFLAGS, XMM, MMX
 * register and MXCSR from slots in the code page), the test, and epilogue (store them back, restore the host stack)
 * in one RWX page, and runs batches of tests in a forked child so that faults (#DE, #GP, #PF,
 * #UD, #XM) are caught by signal handlers and reported instead of killing the tester. Compatibility-mode
 * tests far-jump to the 32-bit user code segment after the prologue and back before the
 * epilogue (neither jump touches the stack). */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "difftest.h"

enum { SLOT_HOST_RSP = 0xc00, SLOT_IN_FLAGS = 0xc08, SLOT_IN_GPR = 0xc10, SLOT_OUT_FLAGS = 0xc90,
       SLOT_OUT_GPR = 0xc98, SLOT_IN_XMM = 0xd20, SLOT_OUT_XMM = 0xe20, SLOT_IN_MM = 0xf20,
       SLOT_OUT_MM = 0xf60, SLOT_IN_MXCSR = 0xfa0, SLOT_OUT_MXCSR = 0xfa4, SLOT_HOST_MXCSR = 0xfa8,
       SLOT_FAR_IN = 0xfb0 /* m16:32 far pointer to the compatibility-mode test code */ };
enum { USER32_CS = 0x23, USER_CS = 0x33, USER_DS = 0x2b }; /* Linux x86-64 user selectors */

/* Calls the page entry with callee-saved registers preserved. */
void dt_call(void *entry);
__asm__(".text\n.globl dt_call\n.type dt_call,@function\ndt_call:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"call *%rdi\n"
	"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");

struct emitter {
	uint8_t *p;
	unsigned n;
};

static void byte(struct emitter *e, uint8_t b)
{
	e->p[e->n++] = b;
}

/* prefix bytes, opcode bytes, then ModRM [rip+disp32] addressing slot 'target'. */
static void riprel(struct emitter *e, const uint8_t *pre, unsigned npre, unsigned reg,
		   unsigned target)
{
	for (unsigned i = 0; i < npre; i++)
		byte(e, pre[i]);
	byte(e, (uint8_t)(0x05 | (reg & 7) << 3));
	int32_t disp = (int32_t)target - (int32_t)(e->n + 4);
	memcpy(e->p + e->n, &disp, 4);
	e->n += 4;
}

static void mov_gpr(struct emitter *e, unsigned reg, unsigned slot, bool store)
{
	uint8_t pre[2] = { (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), store ? 0x89 : 0x8b };
	riprel(e, pre, 2, reg, slot);
}

static void movdqu(struct emitter *e, unsigned x, unsigned slot, bool store)
{
	uint8_t pre[4];
	unsigned n = 0;
	pre[n++] = 0xf3;
	if (x >= 8)
		pre[n++] = 0x44;
	pre[n++] = 0x0f;
	pre[n++] = store ? 0x7f : 0x6f;
	riprel(e, pre, n, x, slot);
}

/* movq mm, [slot] / movq [slot], mm */
static void movq_mm(struct emitter *e, unsigned m, unsigned slot, bool store)
{
	uint8_t pre[2] = { 0x0f, store ? 0x7f : 0x6f };
	riprel(e, pre, 2, m, slot);
}

/* ldmxcsr [slot] / stmxcsr [slot] */
static void mxcsr_op(struct emitter *e, unsigned slot, bool store)
{
	riprel(e, (const uint8_t[]){ 0x0f, 0xae }, 2, store ? 3 : 2, slot);
}

void dt_native_layout(uint8_t *page, const struct dt_test *t)
{
	struct emitter e = { page, 0 };
	memcpy(page + SLOT_IN_GPR, t->in.gpr, sizeof(t->in.gpr));
	memcpy(page + SLOT_IN_FLAGS, &t->in.flags, 8);
	memcpy(page + SLOT_IN_XMM, t->in.xmm, sizeof(t->in.xmm));
	memcpy(page + SLOT_IN_MM, t->in.mm, sizeof(t->in.mm));
	memcpy(page + SLOT_IN_MXCSR, &t->in.mxcsr, 4);
	mov_gpr(&e, 4, SLOT_HOST_RSP, true);
	mxcsr_op(&e, SLOT_HOST_MXCSR, true);
	if (t->compat) {
		/* Compatibility mode uses DS/ES (null in a 64-bit process): load the user data
		 * selector, which SS already holds. */
		const uint8_t ds[] = { 0xb8, USER_DS, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0 };
		for (unsigned i = 0; i < sizeof(ds); i++)
			byte(&e, ds[i]);
		uint32_t off = (uint32_t)(DT_CODE_ADDR + DT_TEST_OFF);
		uint16_t sel = USER32_CS;
		memcpy(page + SLOT_FAR_IN, &off, 4);
		memcpy(page + SLOT_FAR_IN + 4, &sel, 2);
	}
	for (unsigned x = 0; x < 16; x++)
		movdqu(&e, x, SLOT_IN_XMM + 16 * x, false);
	for (unsigned m = 0; m < 8; m++)
		movq_mm(&e, m, SLOT_IN_MM + 8 * m, false);
	mxcsr_op(&e, SLOT_IN_MXCSR, false);
	riprel(&e, (const uint8_t[]){ 0xff }, 1, 6, SLOT_IN_FLAGS); /* push [rip+flags] */
	byte(&e, 0x9d);                                                /* popfq */
	for (unsigned r = 0; r < 16; r++)
		if (r != 4)
			mov_gpr(&e, r, SLOT_IN_GPR + 8 * r, false);
	mov_gpr(&e, 4, SLOT_IN_GPR + 32, false);
	if (t->compat) /* jmp far [rip+SLOT_FAR_IN]: into the 32-bit code segment */
		riprel(&e, (const uint8_t[]){ 0xff }, 1, 5, SLOT_FAR_IN);
	while (e.n < DT_TEST_OFF)
		byte(&e, 0x90);
	memcpy(page + DT_TEST_OFF, t->code, t->len);
	e.n = DT_TEST_OFF + t->len;
	if (t->compat) { /* jmp far 0x33:next, back to 64-bit mode (no stack used either way) */
		uint32_t back = (uint32_t)(DT_CODE_ADDR + e.n + 7);
		byte(&e, 0xea);
		memcpy(page + e.n, &back, 4);
		e.n += 4;
		byte(&e, USER_CS);
		byte(&e, 0);
	}
	for (unsigned r = 0; r < 16; r++)
		mov_gpr(&e, r, SLOT_OUT_GPR + 8 * r, true);
	mov_gpr(&e, 4, SLOT_HOST_RSP, false);
	byte(&e, 0x9c); /* pushfq */
	byte(&e, 0x58); /* pop rax */
	mov_gpr(&e, 0, SLOT_OUT_FLAGS, true);
	byte(&e, 0xfc); /* cld */
	for (unsigned x = 0; x < 16; x++)
		movdqu(&e, x, SLOT_OUT_XMM + 16 * x, true);
	for (unsigned m = 0; m < 8; m++)
		movq_mm(&e, m, SLOT_OUT_MM + 8 * m, true);
	mxcsr_op(&e, SLOT_OUT_MXCSR, true);
	mxcsr_op(&e, SLOT_HOST_MXCSR, false);
	byte(&e, 0x0f); /* emms */
	byte(&e, 0x77);
	byte(&e, 0xc3);
}

struct child_ctx {
	sigjmp_buf jb;
	volatile int sig;
	volatile bool xm;            /* SIGFPE from a SIMD floating-point exception (#XM) */
	uint8_t xm_xmm[16][16];      /* XMM registers and MXCSR at the #XM */
	uint32_t xm_mxcsr;
};

/* The child is single-threaded; the handler finds its context through this pointer, which is
 * set only in the child process. */
static struct child_ctx *child_ctx_ptr;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	struct child_ctx *ctx = child_ctx_ptr;
	const ucontext_t *uc = uc_;
	ctx->sig = sig;
	ctx->xm = sig == SIGFPE && si->si_code >= FPE_FLTDIV && si->si_code <= FPE_FLTSUB;
	if (ctx->xm && uc->uc_mcontext.fpregs) {
		memcpy(ctx->xm_xmm, uc->uc_mcontext.fpregs->_xmm, sizeof(ctx->xm_xmm));
		ctx->xm_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	}
	siglongjmp(ctx->jb, 1);
}

static int fault_class(int sig)
{
	switch (sig) {
	case 0: return DT_OK;
	case SIGFPE: return DT_FAULT_DE;
	case SIGSEGV: case SIGBUS: return DT_FAULT_MEM;
	case SIGILL: return DT_FAULT_UD;
	default: return DT_FAULT_OTHER;
	}
}

static void child_run(const struct dt_test *tests, struct dt_result *res, unsigned n,
		      bool with_compat)
{
	struct child_ctx ctx;
	child_ctx_ptr = &ctx;
	static uint8_t altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER | SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	uint8_t *page = (uint8_t *)(uintptr_t)DT_CODE_ADDR;
	for (unsigned i = 0; i < n; i++) {
		const struct dt_test *t = &tests[i];
		if (!t->len || (t->compat && !with_compat))
			continue;
		memset(page, 0xcc, 0xc00);
		dt_native_layout(page, t);
		dt_fill_data(t->data_seed, (uint8_t *)(uintptr_t)DT_DATA_ADDR);
		ctx.sig = 0;
		ctx.xm = false;
		unsigned host_mxcsr = __builtin_ia32_stmxcsr();
		if (sigsetjmp(ctx.jb, 1) == 0)
			dt_call(page);
		__asm__ volatile("cld; emms");
		__builtin_ia32_ldmxcsr(host_mxcsr);
		res[i].fault = ctx.xm ? DT_FAULT_XM : fault_class(ctx.sig);
		memcpy(res[i].out.gpr, page + SLOT_OUT_GPR, sizeof(res[i].out.gpr));
		memcpy(&res[i].out.flags, page + SLOT_OUT_FLAGS, 8);
		memcpy(res[i].out.xmm, page + SLOT_OUT_XMM, sizeof(res[i].out.xmm));
		memcpy(res[i].out.mm, page + SLOT_OUT_MM, sizeof(res[i].out.mm));
		memcpy(&res[i].out.mxcsr, page + SLOT_OUT_MXCSR, 4);
		memcpy(res[i].data, (void *)(uintptr_t)DT_DATA_ADDR, DT_DATA_SIZE);
		if (ctx.xm) {
			memcpy(res[i].out.xmm, ctx.xm_xmm, sizeof(res[i].out.xmm));
			res[i].out.mxcsr = ctx.xm_mxcsr;
		}
	}
}

int dt_native_run(const struct dt_test *tests, struct dt_result *res, unsigned n, bool with_compat)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		child_run(tests, res, n, with_compat);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

bool dt_native_compat_supported(void)
{
	static int known = -1;
	if (known >= 0)
		return known;
	/* mov eax, 0x1234abcd in the 32-bit code segment: a kernel that refuses compatibility
	 * mode faults on the far jump (#GP) or before. */
	struct dt_test t;
	memset(&t, 0, sizeof(t));
	t.compat = true;
	t.form = -1;
	t.in.flags = 2;
	t.in.mxcsr = 0x1f80;
	t.in.gpr[4] = DT_DATA_ADDR + DT_DATA_SIZE / 2;
	const uint8_t code[] = { 0xb8, 0xcd, 0xab, 0x34, 0x12 };
	memcpy(t.code, code, sizeof(code));
	t.len = sizeof(code);
	struct dt_result *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return false;
	r->fault = DT_FAULT_OTHER;
	known = dt_native_run(&t, r, 1, true) == 0 && r->fault == DT_OK &&
		(uint32_t)r->out.gpr[0] == 0x1234abcd;
	munmap(r, sizeof(*r));
	return known;
}
