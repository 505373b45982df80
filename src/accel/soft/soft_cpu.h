/* Public API of hardy's software x86-64 CPU: architectural state, the memory interface the
 * embedder provides (user-mode runner or, later, the system MMU), and the run loop.
 *
 * Contract: one struct soft_cpu per virtual CPU, used by one host thread at a time. The embedder
 * owns guest memory; the CPU reaches it only through soft_mem_ops.translate, whose results it
 * caches in a software TLB until soft_cpu_tlb_flush(). Decoded code is cached by host ("physical")
 * address and dropped when the guest writes to a page that holds decoded code, or when the
 * embedder calls soft_cpu_code_invalidate() after changing mappings. */
#ifndef HARDY_SOFT_CPU_H
#define HARDY_SOFT_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum soft_gpr {
	SOFT_RAX, SOFT_RCX, SOFT_RDX, SOFT_RBX, SOFT_RSP, SOFT_RBP, SOFT_RSI, SOFT_RDI,
	SOFT_R8, SOFT_R9, SOFT_R10, SOFT_R11, SOFT_R12, SOFT_R13, SOFT_R14, SOFT_R15,
};

/* Why soft_cpu_run() returned. */
enum soft_exit {
	SOFT_EXIT_BUDGET,    /* the instruction budget ran out; state is between instructions */
	SOFT_EXIT_SYSCALL,   /* SYSCALL executed; rip points after it, registers hold the request */
	SOFT_EXIT_EXCEPTION, /* exc_vector/exc_error/exc_addr describe it; rip points at the insn */
	SOFT_EXIT_HALT,      /* HLT executed */
};

enum soft_access { SOFT_ACC_READ = 1, SOFT_ACC_WRITE = 2, SOFT_ACC_EXEC = 4 };

/* Exception vectors the CPU raises. */
enum soft_vector { SOFT_VEC_DE = 0, SOFT_VEC_DB = 1, SOFT_VEC_BP = 3, SOFT_VEC_UD = 6,
		   SOFT_VEC_NM = 7, SOFT_VEC_GP = 13, SOFT_VEC_PF = 14, SOFT_VEC_MF = 16,
		   SOFT_VEC_AC = 17, SOFT_VEC_XM = 19 };

/* The memory interface. translate() maps the 4 KiB page holding vaddr to the host address of
 * that page for the given access, or returns -1 (the CPU then raises #PF). The host page is
 * also the key of the decoded-code cache, so it must be stable while mapped: the user-mode
 * runner returns the host page itself, the system CPU the checked guest-physical accessor. */
struct soft_mem_ops {
	int (*translate)(void *ctx, uint64_t vaddr, unsigned access, uint8_t **host_page);
};

union soft_xmm {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
	float f[4];
	double df[2];
};

#define SOFT_TLB_SIZE 1024

struct soft_tlb_entry {
	uint64_t tag_r, tag_w, tag_x; /* page address, or 1 when that access is not cached */
	uintptr_t addend;             /* host = guest + addend */
};

struct soft_code_cache;
struct soft_op;

/* Code-segment mode: 64-bit (CS.L=1) or 32-bit compatibility mode (CS.L=0, CS.D=1). */
enum soft_cs_mode { SOFT_CS_64, SOFT_CS_32 };

struct soft_cpu {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t fs_base, gs_base;

	/* Lazy flags: the arithmetic flags are a function of the last flag-setting operation. */
	uint32_t lf_op, lf_size;
	uint64_t lf_res, lf_a, lf_b, lf_aux;
	uint64_t rflags; /* non-arithmetic bits always; arithmetic bits when lf_op == NONE */

	union soft_xmm xmm[16];
	uint32_t mxcsr;      /* see soft_mxcsr_pull/push: the host holds part of it during a run */
	uint32_t host_mxcsr; /* the host's MXCSR, restored when soft_cpu_run returns */

	/* x87: registers kept as host 80-bit long double, physical order. */
	long double st[8];
	uint16_t fpu_cw, fpu_sw, fpu_top, fpu_tag; /* fpu_tag: bit i set = register i valid */

	/* Exit information. */
	enum soft_exit exit_reason;
	uint32_t exc_vector, exc_error;
	uint64_t exc_addr;

	/* Execution accounting. */
	uint64_t icount;    /* instructions retired since creation */
	int64_t budget;     /* instructions left in the current soft_cpu_run() */
	int64_t budget_start; /* budget at entry (icount is updated from the difference) */

	/* Memory. */
	const struct soft_mem_ops *mem;
	void *mem_ctx;
	struct soft_tlb_entry tlb[SOFT_TLB_SIZE];

	/* Decoder and executor internals. */
	struct soft_code_cache *cache;
	const struct soft_op *cur_op;
	jmp_buf fault_jmp;
	bool stop;          /* the block-end handler asks the run loop to take over */
	int32_t chain_left; /* blocks the threaded dispatch may still chain without the loop;
			     * anything that needs the loop (an exit, a flush) sets it to 0 */
	enum soft_cs_mode cs_mode; /* set with soft_cpu_set_cs_mode, never by the run loop */
};

/* Create a CPU in 64-bit mode with all registers zero. Returns NULL on allocation failure. */
struct soft_cpu *soft_cpu_create(const struct soft_mem_ops *mem, void *mem_ctx);
void soft_cpu_destroy(struct soft_cpu *cpu);

/* Choose the baseline JIT (x86-64 hosts; the default unless HARDY_SOFT_JIT=0 at creation) or
 * the interpreter. Returns whether the JIT is now in use. */
bool soft_cpu_set_jit(struct soft_cpu *cpu, bool on);

/* Switch the code-segment mode (what a far transfer or a CS descriptor load would do). Takes
 * effect at the next soft_cpu_run; decoded blocks of either mode stay cached. In compatibility
 * mode the operand and address sizes default to 32 bits, the stack is ESP with 32-bit slots,
 * effective addresses wrap at 4 GiB and the upper halves of the GPRs are zero after a write. */
void soft_cpu_set_cs_mode(struct soft_cpu *cpu, enum soft_cs_mode mode);

/* Run until an exit; budget is the instruction count after which to stop (checked at block
 * boundaries, so it may be exceeded by one block). */
enum soft_exit soft_cpu_run(struct soft_cpu *cpu, int64_t budget);

uint64_t soft_cpu_get_rflags(struct soft_cpu *cpu);
void soft_cpu_set_rflags(struct soft_cpu *cpu, uint64_t rflags);

/* Drop cached translations (after the embedder changes page tables or mappings). */
void soft_cpu_tlb_flush(struct soft_cpu *cpu);
/* Drop decoded code that lies in host range [host, host+len) (after munmap/mprotect). */
void soft_cpu_code_invalidate(struct soft_cpu *cpu, const void *host, size_t len);

/* x87 and SSE state in FXSAVE layout (512 bytes), for snapshots and the difftest. */
void soft_cpu_fxsave(struct soft_cpu *cpu, uint8_t out[512]);
void soft_cpu_fxrstor(struct soft_cpu *cpu, const uint8_t in[512]);
/* MM0-MM7 (the significands of the x87 registers); set makes the x87-to-MMX transition. */
void soft_cpu_mmx_get(struct soft_cpu *cpu, uint64_t out[8]);
void soft_cpu_mmx_set(struct soft_cpu *cpu, const uint64_t in[8]);

/* The CPUID values this CPU reports (eax, ebx, ecx, edx) for a leaf and subleaf. */
void soft_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* Format the instruction at rip with its bytes, for diagnostics (best effort). */
void soft_cpu_describe(struct soft_cpu *cpu, uint64_t rip, char *buf, size_t len);

#endif
