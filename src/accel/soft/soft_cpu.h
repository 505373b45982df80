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
	SOFT_EXIT_HALT,      /* HLT executed (system mode: rip after it, waiting for an event) */
	SOFT_EXIT_SHUTDOWN,  /* system mode: triple fault; exc_* hold the last fault */
	SOFT_EXIT_ERROR,     /* system mode: the CPU cannot go on (error_msg says why: code
			      * fetched from outside RAM, an unmodelled state); state is dumped
			      * by the embedder */
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

/* System mode: what an entry's translation is, beside it (the entry layout above is what the
 * fast paths and the JIT's probe read). */
struct soft_tlb_aux {
	uint64_t gpa;    /* guest-physical page */
	uint32_t global; /* G bit with CR4.PGE: survives CR3 writes */
	uint32_t shift;  /* page size of the translation (12, 21, 22, 30): INVLPG drops it all */
};

struct soft_code_cache;
struct soft_op;
struct soft_vm_code;

/* ---- System mode (the soft accel backend): the state a kernel sees ---- */

/* Segment registers in hardware encoding order (Zydis segment register ids too). */
enum soft_sreg { SOFT_ES, SOFT_CS, SOFT_SS, SOFT_DS, SOFT_FS, SOFT_GS, SOFT_NSREG };

/* A segment register with its descriptor cache. attr: descriptor bits 40-47 in bits 0-7
 * (type 0-3, S 4, DPL 5-6, P 7) and bits 52-55 in bits 12-15 (AVL 12, L 13, D/B 14, G 15),
 * the VMX access-rights layout; bit 16 set = unusable (a null selector loaded). */
struct soft_seg {
	uint64_t base;
	uint32_t limit; /* in bytes, granularity applied */
	uint16_t sel;
	uint32_t attr;
};
#define SOFT_SEG_ATTR_UNUSABLE (1u << 16)

struct soft_dtr {
	uint64_t base;
	uint16_t limit;
};

/* The machine as a system CPU sees it. Every call is on the CPU's own thread. */
struct soft_sys_ops {
	/* Host address of the 4 KiB guest-physical page gpa when it is RAM (through the checked
	 * accessor gmem_ptr), else NULL: accesses there go to mmio, fetches are an error. */
	uint8_t *(*ram_page)(void *ctx, uint64_t gpa);
	/* An access of len 1..8 bytes to guest-physical memory outside RAM; reads fill data. */
	void (*mmio)(void *ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len);
	/* IN/OUT (and each element of INS/OUTS), len 1, 2 or 4. */
	void (*pio)(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len);
	/* MSRs the CPU does not keep itself (IA32_APIC_BASE, IA32_TSC_DEADLINE in TSC units,
	 * x2APIC 0x800-0x8ff, anything unknown). false: the access raises #GP(0). */
	bool (*msr)(void *ctx, uint32_t index, bool is_write, uint64_t *value);
	/* Interrupt acknowledge (IF=1, no shadow, intr_req set): the vector of the external
	 * interrupt to deliver now, or -1 when none is pending (the CPU clears intr_req). */
	int (*intr_ack)(void *ctx);
	/* The TSC before the guest's offset (IA32_TSC writes set sys.tsc_offset). */
	uint64_t (*tsc)(void *ctx);
};

/* Everything privileged. The embedder (backend get/set_regs, INIT/SIPI) may read and write
 * these fields while the CPU is not running, then call soft_cpu_sys_sync(). */
struct soft_sys {
	struct soft_seg seg[SOFT_NSREG]; /* seg[FS].base/seg[GS].base mirror fs_base/gs_base */
	struct soft_seg ldtr, tr;
	struct soft_dtr gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, cr8, xcr0;
	uint64_t dr[8];
	uint64_t efer;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_offset, tsc_aux, pat, misc_enable, mtrr_def_type;
	uint64_t mtrr_fixed[11], mtrr_var[16];
	uint32_t apic_id;   /* CPUID's initial APIC ID (leaf 1 EBX, 0xB) */
	uint8_t cpl;        /* current privilege level (CS.DPL, SS.DPL in real mode 0) */
	uint8_t shadow;     /* interrupt shadow: 1 after STI or MOV/POP SS, for one instruction */
	bool nmi_masked;    /* inside an NMI handler until IRET */
	uint8_t step_trap;  /* set by SYSCALL/SYSRET, whose single-step trap follows the TF they
			     * leave, not the TF they began with: 2 #DB due, 1 none, 0 not set */
	uint8_t fault_depth; /* 0, or 1 + the class (benign, contributory, #PF, #DF) of the event
			      * being delivered (intr.c): escalation to #DF, then shutdown */
	const struct soft_sys_ops *ops;
	void *ctx;
	struct soft_vm_code *vm_code; /* code tracking shared by the VM's CPUs */
	bool trace;         /* HARDY_SOFT_TRACE=1: every exception on stderr (debugging) */
};

/* Code-segment mode, one Zydis machine mode each: 64-bit (CS.L=1), 32-bit compatibility mode
 * (EFER.LMA, CS.L=0, CS.D=1; the user-mode CPU's i386 mode), and for the system CPU 16-bit
 * compatibility mode, 32/16-bit protected mode (CS.D) and real mode (CR0.PE=0, or EFLAGS.VM). */
enum soft_cs_mode { SOFT_CS_64, SOFT_CS_32, SOFT_CS_COMPAT16, SOFT_CS_LEGACY32, SOFT_CS_LEGACY16,
		    SOFT_CS_REAL16, SOFT_CS_NMODES };

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
	struct soft_tlb_entry *tlb; /* the set in use: tlb_set[0] (supervisor, and user mode) or
				     * tlb_set[1] (CPL 3), chosen by soft_tlb_cpl_changed */
	struct soft_tlb_entry tlb_set[2][SOFT_TLB_SIZE];
	struct soft_tlb_aux tlb_aux[2][SOFT_TLB_SIZE];
	uint32_t code_priv;    /* 1 at CPL 3: decoded blocks are keyed by it (system mode) */
	uint32_t tlb_shift;    /* largest page size cached since the last full flush */
	uint64_t vm_code_gen;  /* the soft_vm_code generation this CPU's write tags follow */

	/* Decoder and executor internals. */
	struct soft_code_cache *cache;
	const struct soft_op *cur_op;
	jmp_buf fault_jmp;
	bool stop;          /* the block-end handler asks the run loop to take over */
	int32_t chain_left; /* blocks the threaded dispatch may still chain without the loop;
			     * anything that needs the loop (an exit, a flush) sets it to 0 */
	enum soft_cs_mode cs_mode; /* soft_cpu_set_cs_mode, or a far transfer (seg.c) */
	uint64_t cs_base;   /* linear address of CS:0 outside 64-bit mode (else 0): code is
			     * fetched at cs_base + rip, rip being the offset (soft_mode_update) */

	/* System mode (NULL ops: the user-mode CPU of part 1). */
	bool system;
	struct soft_sys sys;
	/* Set from any thread: intr_req (an interrupt may be pending: ask intr_ack when IF
	 * allows), nmi_req (deliver an NMI), kick (return from soft_cpu_run soon). Each also
	 * zeroes chain_left so the dispatch returns to the run loop at the next block end. */
	_Atomic bool intr_req, nmi_req, kick;
	char error_msg[160]; /* SOFT_EXIT_ERROR */
};

/* Create a CPU in 64-bit mode with all registers zero. Returns NULL on allocation failure. */
struct soft_cpu *soft_cpu_create(const struct soft_mem_ops *mem, void *mem_ctx);
void soft_cpu_destroy(struct soft_cpu *cpu);

/* Choose the baseline JIT (x86-64 hosts; the default unless HARDY_SOFT_JIT=0 at creation) or
 * the interpreter. Returns whether the JIT is now in use. */
bool soft_cpu_set_jit(struct soft_cpu *cpu, bool on);
/* In the child of a host fork: the JIT arena is a shared mapping (jit.c), so the child takes
 * a fresh one (its code cache starts over) instead of writing into its parent's. */
void soft_cpu_after_fork(struct soft_cpu *cpu);

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

/* ---- System mode ---- */
/* Code tracking shared by the CPUs of one VM: which guest-physical pages hold decoded code
 * in any CPU, and invalidation of every CPU's blocks when any CPU (or a device, through
 * soft_vm_code_written) writes there. */
struct soft_vm_code *soft_vm_code_create(uint64_t phys_size);
void soft_vm_code_destroy(struct soft_vm_code *vc);
/* A write to [gpa, gpa+len) that did not go through a CPU (DMA): drops decoded code there. */
void soft_vm_code_written(struct soft_vm_code *vc, uint64_t gpa, uint64_t len);

/* Make cpu a system CPU of the VM that vc tracks: from now on it translates through its own
 * page walk (CR0.PG, CR3, CR4, EFER) into ops, delivers exceptions and interrupts through the
 * guest's IVT/IDT, and runs privileged instructions. The state is the power-on state (real
 * mode, CS:IP = F000:FFF0), see soft_cpu_sys_reset. */
void soft_cpu_enable_system(struct soft_cpu *cpu, const struct soft_sys_ops *ops, void *ctx,
			    struct soft_vm_code *vc, uint32_t apic_id);
/* RESET (init false) or INIT (init true: keeps x87/SSE state, MTRRs, EFER... as the SDM
 * says) state. */
void soft_cpu_sys_reset(struct soft_cpu *cpu, bool init);
/* After the embedder changed sys fields, rip or rflags directly: recompute the execution
 * mode and CPL, drop cached translations. */
void soft_cpu_sys_sync(struct soft_cpu *cpu);
/* Any thread: see intr_req/nmi_req/kick above. */
void soft_cpu_request_intr(struct soft_cpu *cpu);
void soft_cpu_request_nmi(struct soft_cpu *cpu);
void soft_cpu_kick(struct soft_cpu *cpu);
/* Whether the CPU would accept an external interrupt now (IF=1 and no shadow). */
bool soft_cpu_interruptible(struct soft_cpu *cpu);
/* The CPUID values a system CPU reports (per-CPU APIC ID, system features). */
void soft_cpuid_system(struct soft_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);

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
