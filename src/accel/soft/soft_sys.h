/* Internal contract of the system CPU (system mode, soft_cpu.h's "System mode"): the pieces the
 * instruction families, the memory layer and the run loop call across files.
 *
 *   mmu.c     page walk (CR0.PG/WP, CR3, CR4.PAE/PSE/PGE/SMEP/SMAP, EFER.NXE/LMA), #PF with
 *             exact error codes and CR2, A/D bits, physical RAM vs MMIO, TLB per privilege,
 *             INVLPG and flushes, the VM-wide code tracking (soft_vm_code).
 *   seg.c     execution modes (real, 16/32-bit protected, compatibility, 64-bit), segment
 *             loads with their checks, descriptor tables, far transfers, segment bases in
 *             effective addresses.
 *   intr.c    exception and interrupt delivery (IVT, 32-bit and 64-bit IDT gates, IST, error
 *             codes, #DF and shutdown), IRET, INT n/INT3/INTO, NMI, interrupt acceptance.
 *   sys.c     privileged and system instructions (MOV CR/DR, LGDT/LIDT/LLDT/LTR, SGDT...,
 *             RDMSR/WRMSR, CPUID system leaves, IN/OUT/INS/OUTS, CLI/STI, HLT, SWAPGS,
 *             SYSCALL/SYSRET, SYSENTER/SYSEXIT, RDTSC(P), XSAVE family, STAC/CLAC, ...). */
#ifndef HARDY_SOFT_SYS_H
#define HARDY_SOFT_SYS_H

#include "accel/soft/soft_internal.h"

/* Architectural bits the system files share. */
#define SOFT_CR0_PE (1ULL << 0)
#define SOFT_CR0_MP (1ULL << 1)
#define SOFT_CR0_EM (1ULL << 2)
#define SOFT_CR0_TS (1ULL << 3)
#define SOFT_CR0_ET (1ULL << 4)
#define SOFT_CR0_NE (1ULL << 5)
#define SOFT_CR0_WP (1ULL << 16)
#define SOFT_CR0_AM (1ULL << 18)
#define SOFT_CR0_NW (1ULL << 29)
#define SOFT_CR0_CD (1ULL << 30)
#define SOFT_CR0_PG (1ULL << 31)
#define SOFT_CR4_VME (1ULL << 0)
#define SOFT_CR4_PVI (1ULL << 1)
#define SOFT_CR4_TSD (1ULL << 2)
#define SOFT_CR4_DE (1ULL << 3)
#define SOFT_CR4_PSE (1ULL << 4)
#define SOFT_CR4_PAE (1ULL << 5)
#define SOFT_CR4_MCE (1ULL << 6)
#define SOFT_CR4_PGE (1ULL << 7)
#define SOFT_CR4_PCE (1ULL << 8)
#define SOFT_CR4_OSFXSR (1ULL << 9)
#define SOFT_CR4_OSXMMEXCPT (1ULL << 10)
#define SOFT_CR4_UMIP (1ULL << 11)
#define SOFT_CR4_FSGSBASE (1ULL << 16)
#define SOFT_CR4_PCIDE (1ULL << 17)
#define SOFT_CR4_OSXSAVE (1ULL << 18)
#define SOFT_CR4_SMEP (1ULL << 20)
#define SOFT_CR4_SMAP (1ULL << 21)
#define SOFT_EFER_SCE (1ULL << 0)
#define SOFT_EFER_LME (1ULL << 8)
#define SOFT_EFER_LMA (1ULL << 10)
#define SOFT_EFER_NXE (1ULL << 11)
#define SOFT_RFLAGS_IOPL (3ULL << 12)
#define SOFT_RFLAGS_NT (1ULL << 14)
#define SOFT_RFLAGS_RF (1ULL << 16)
#define SOFT_RFLAGS_VM (1ULL << 17)
#define SOFT_RFLAGS_VIF (1ULL << 19)
#define SOFT_RFLAGS_VIP (1ULL << 20)

/* Vectors the system files raise besides soft_cpu.h's. */
enum { SOFT_VEC_NMI = 2, SOFT_VEC_OF = 4, SOFT_VEC_BR = 5, SOFT_VEC_DF = 8, SOFT_VEC_TS = 10,
       SOFT_VEC_NP = 11, SOFT_VEC_SS = 12, SOFT_VEC_MC = 18 };

/* ---- mmu.c ---- */
/* MAXPHYADDR the page walk checks reserved bits against: CPUID 0x80000008 EAX[7:0] must report
 * it (linear address width 48). The walk also implements PSE-36 (4 MiB pages above 4 GiB in
 * 32-bit paging, CPUID.1:EDX bit 17) and 1 GiB pages (CPUID 0x80000001 EDX bit 26), so sys.c may
 * report both; without Page1GB a PDPTE with PS set would have to be a reserved-bit fault. */
#define SOFT_MAXPHYADDR 40
/* The system CPU's soft_mem_ops.translate: a side-effect-free probe for diagnostics
 * (soft_cpu_describe): walks the guest's page tables for a read at the current CPL, sets no
 * A/D bits, raises nothing; -1 on a fault or when the page is not RAM. */
int soft_mmu_translate(void *cpu, uint64_t linear, unsigned access, uint8_t **host_page);
/* The TLB fill of system mode (mem.c's soft_tlb_fill calls it): walks for an explicit access
 * at the current CPL (SMAP as EFLAGS.AC says), sets A/D, raises #PF (error code, CR2 set) or
 * #GP(0) for a non-canonical address, caches what the access may reuse and returns the host
 * address of byte a. NULL: the page is not RAM (*gpa, when not NULL, gets the guest-physical
 * address of a for ops->mmio; nothing is cached); a fetch from there ends soft_cpu_run with
 * SOFT_EXIT_ERROR. */
uint8_t *soft_mmu_fill(struct soft_cpu *c, uint64_t a, unsigned access, uint64_t *gpa);
/* n bytes at guest-physical gpa (within a page, not RAM) through ops->mmio, in pieces of at
 * most 8 bytes. */
void soft_mmio_bytes(struct soft_cpu *c, uint64_t gpa, void *buf, unsigned n, bool write);
/* Loads and stores of len 1..8 at a linear address that translates to MMIO (RAM works too). */
uint64_t soft_mmio_load(struct soft_cpu *c, uint64_t linear, unsigned len);
void soft_mmio_store(struct soft_cpu *c, uint64_t linear, unsigned len, uint64_t v);
/* Supervisor-mode implicit accesses (descriptor tables, IDT, TSS, the stack pushes of a
 * delivery): as soft_ld/soft_st but always at CPL 0 semantics (U/S error bit 0), and SMAP
 * (when on) refuses user pages whatever EFLAGS.AC says. sz 1..8. */
uint64_t soft_ld_sys(struct soft_cpu *c, uint64_t linear, unsigned sz);
void soft_st_sys(struct soft_cpu *c, uint64_t linear, unsigned sz, uint64_t v);
/* Flushes. MOV CR3: soft_tlb_flush_nonglobal (global pages stay). Changes of CR0.PG/WP/PE,
 * CR4.PGE/PAE/PSE/SMEP/SMAP, EFER.NXE/LMA: soft_tlb_flush_all (soft_mmu_paging_changed
 * decides from the old values). INVLPG: soft_tlb_flush_page (the whole large page when the
 * address was mapped by one). Whoever changes sys.cpl calls soft_tlb_cpl_changed: CPL 3 uses
 * its own TLB set, so a user access never reuses a supervisor-checked translation. Each of
 * these zeroes chain_left, so the current block is the last one before the run loop. */
void soft_tlb_flush_all(struct soft_cpu *c);
void soft_tlb_flush_nonglobal(struct soft_cpu *c);
void soft_tlb_flush_page(struct soft_cpu *c, uint64_t linear);
void soft_tlb_cpl_changed(struct soft_cpu *c);
void soft_mmu_paging_changed(struct soft_cpu *c, uint64_t old_cr0, uint64_t old_cr4,
			     uint64_t old_efer);

/* ---- vm_code.c: decoded-code tracking shared by a VM's CPUs ---- */
/* soft_cpu_enable_system attaches the CPU, soft_cpu_destroy detaches it. */
void soft_vm_code_attach(struct soft_vm_code *vc, struct soft_cpu *c);
void soft_vm_code_detach(struct soft_vm_code *vc, struct soft_cpu *c);
/* c decoded code on guest-physical page gpa: every CPU of the VM stops caching writes there
 * (this one at once, the others at their next run-loop iteration, soft_vm_code_sync). */
void soft_vm_code_note(struct soft_cpu *c, uint64_t gpa);
/* c writes to guest-physical page gpa (a slow-path write): when it holds decoded code, the
 * page gets a new generation (its blocks are stale in every CPU) and every CPU clears its jump
 * cache before it runs another block. Returns whether it held code. */
bool soft_vm_code_write(struct soft_cpu *c, uint64_t gpa);
/* The generation of guest-physical page gpa's last code write (0: none since the start);
 * a block decoded at another generation of its page is stale. */
#define SOFT_GEN_NEVER 0xffffffffu /* a block's link_gen when it spans two pages */
uint32_t soft_vm_code_page_gen(const struct soft_vm_code *vc, uint64_t gpa);
/* Run loop: drop write tags of pages that became code in another CPU since the last call. */
void soft_vm_code_sync(struct soft_cpu *c);
/* The pages (gpa >> 12) queued for c's jump cache since the last call, into pages (room for
 * SOFT_JC_INVAL_MAX); more than that: drop the whole jump cache. Clears jc_clear_pending. */
unsigned soft_vm_code_take_written(struct soft_cpu *c, uint64_t *pages);

/* ---- seg.c ---- */
/* Recompute cs_mode (decoder mode), CPL and the stack width from CR0.PE, EFER.LMA and the
 * CS/SS descriptors; call after any change of them. */
void soft_mode_update(struct soft_cpu *c);
/* MOV/POP to a data or stack segment register (and LDS/LES/LFS/LGS/LSS) with the protected-
 * mode checks: #GP/#SS/#NP with the selector's error code. Real mode: base = sel << 4. */
void soft_seg_load(struct soft_cpu *c, unsigned sreg, uint16_t sel);
/* Load CS for a far transfer to sel:offset that has passed its checks (target privilege cpl). */
void soft_seg_load_cs(struct soft_cpu *c, uint16_t sel, const struct soft_seg *desc, unsigned cpl);
/* Read the 8-byte descriptor for sel from the GDT or LDT; false when sel is past the limit. */
bool soft_desc_read(struct soft_cpu *c, uint16_t sel, uint64_t *desc);
/* Unpack a descriptor (low 8 bytes; hi: the upper 8 of a 16-byte system descriptor in
 * long mode, else 0) into a descriptor cache. */
void soft_desc_unpack(uint64_t desc, uint64_t hi, struct soft_seg *out);
/* Set sreg's descriptor cache to a flat 4 GiB segment (base 0, accessed, present, G) with
 * selector sel and privilege dpl: CS a readable code segment, 64-bit (L) when code64 else
 * 32-bit (D), others a writable 32-bit (B) data segment; a CS load updates the mode and CPL.
 * What SYSCALL/SYSRET/SYSENTER/SYSEXIT load. */
void soft_seg_set_flat(struct soft_cpu *c, unsigned sreg, uint16_t sel, bool code64,
		       unsigned dpl);

/* Address widths CPUID 0x80000008 reports (the mmu's reserved-bit checks agree). */
#define SOFT_PHYS_ADDR_BITS 40
#define SOFT_LINEAR_ADDR_BITS 48

/* ---- intr.c ---- */
/* Deliver an exception, an external interrupt or a software interrupt (INT n) now, through
 * the IVT (real mode) or the IDT; error < 0: none. ret_rip is the rip pushed. Escalates to
 * #DF and to shutdown (SOFT_EXIT_SHUTDOWN). Does not return (continues at the handler). */
enum soft_event_kind { SOFT_EV_EXCEPTION, SOFT_EV_EXTINT, SOFT_EV_NMI, SOFT_EV_SOFTINT };
_Noreturn void soft_deliver(struct soft_cpu *c, enum soft_event_kind kind, unsigned vector,
			    int64_t error, uint64_t ret_rip);
/* soft_raise in system mode: an exception of the executing instruction (or of the delivery
 * in progress), through soft_deliver; #PF also sets CR2 = addr. */
_Noreturn void soft_sys_exception(struct soft_cpu *c, unsigned vector, uint32_t error,
				  uint64_t addr);
/* Whether the vector pushes an error code (#DF #TS #NP #SS #GP #PF #AC #CP). */
bool soft_vector_has_error(unsigned vector);
/* INT n / INT3 / INTO in system mode: a software interrupt (gate DPL checked), return
 * address after op. */
_Noreturn void soft_sys_softint(struct soft_cpu *c, const struct soft_op *op, unsigned vector);
/* At an instruction boundary in the run loop: deliver a pending NMI or external interrupt
 * when the state allows (returns whether it did; the CPU then continues at the handler). */
bool soft_check_events(struct soft_cpu *c);

/* ---- sys.c (and msr.c, xsave.c, cpuid_sys.c) ---- */
/* System-mode forms of misc.c's instructions (misc.c calls them when c->system). */
void soft_sys_syscall(struct soft_cpu *c, const struct soft_op *op);
void soft_sys_hlt(struct soft_cpu *c, const struct soft_op *op);
void soft_sys_rdtsc(struct soft_cpu *c, const struct soft_op *op);
void soft_sys_pushf(struct soft_cpu *c, const struct soft_op *op);
void soft_sys_popf(struct soft_cpu *c, const struct soft_op *op);
/* RDMSR/WRMSR of one MSR: false when the access raises #GP(0) (msr.c). */
bool soft_msr_read(struct soft_cpu *c, uint32_t index, uint64_t *value);
bool soft_msr_write(struct soft_cpu *c, uint32_t index, uint64_t value);
/* The TSC the guest reads (ops->tsc() + sys.tsc_offset). */
uint64_t soft_sys_tsc(struct soft_cpu *c);
/* XSAVE family (xsave.c), threaded entry points for sys.c's table. */
void soft_h_xgetbv(struct soft_cpu *c, const struct soft_op *op);
void soft_h_xsetbv(struct soft_cpu *c, const struct soft_op *op);
void soft_h_xsave(struct soft_cpu *c, const struct soft_op *op);
void soft_h_xrstor(struct soft_cpu *c, const struct soft_op *op);
/* #GP(0) unless CPL is 0. */
void soft_sys_need_cpl0(struct soft_cpu *c);

#endif
