/* The full architectural state of one x86-64 vCPU as the backend seam moves it (accel.h's
 * get_regs/set_regs): what INIT/SIPI, a reset, a debugger or a snapshot needs to read or write,
 * independent of how a backend keeps it (KVM: KVM_GET/SET_REGS, SREGS, MSRS, VCPU_EVENTS,
 * MP_STATE; the soft CPU: its own struct). x87/SSE state is not here yet (FXSAVE layout later). */
#ifndef HARDY_ARCH_X86_CPU_STATE_H
#define HARDY_ARCH_X86_CPU_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* GPR indexes: the hardware register numbers. */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* A segment register with its hidden descriptor part. */
struct x86_segment {
	uint64_t base;
	uint32_t limit;          /* in bytes (g already applied) */
	uint16_t selector;
	uint8_t type;            /* descriptor type field (4 bits) */
	bool present, s, db, l, g, avl, unusable;
	uint8_t dpl;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

/* The MSRs Linux needs carried across set_regs (fast system calls, per-CPU base, MTRR
 * default, fast strings). TSC and APIC base are not among them: the backend keeps the TSC
 * running, and apic_base has its own field. */
#define X86_STATE_MSRS_MAX 16
struct x86_msr {
	uint32_t index;
	uint64_t value;
};

/* What the vCPU is doing besides executing (the multiprocessor state of the SDM's INIT/SIPI
 * protocol). */
enum x86_mp_state {
	X86_MP_RUNNABLE,
	X86_MP_HALTED,        /* HLT: waits for an interrupt */
	X86_MP_WAIT_SIPI,     /* after INIT (or an AP at power-on): waits for a startup IPI */
};

/* Events in flight: an exception or interrupt being delivered, NMI state, the STI/MOV SS
 * shadow. */
struct x86_events {
	bool exception_pending;
	uint8_t exception_vector;
	bool exception_has_error;
	uint32_t exception_error;
	bool interrupt_pending;  /* an external interrupt accepted but not yet delivered */
	uint8_t interrupt_vector;
	bool nmi_pending;
	bool nmi_masked;         /* inside an NMI handler, until IRET */
	uint8_t interrupt_shadow; /* 1: after STI, 2: after MOV SS/POP SS */
	uint8_t sipi_vector;
};

struct x86_cpu_state {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	struct x86_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t apic_base;
	unsigned nr_msrs;
	struct x86_msr msrs[X86_STATE_MSRS_MAX];
	struct x86_events events;
	enum x86_mp_state mp_state;
};

/* The time base of a backend without timers of its own (soft): the TSC counts nanoseconds of
 * the VM's CLOCK_MONOTONIC (1 GHz), which CPUID leaf 0x15 announces as a 25 MHz crystal times
 * 40; the crystal is also the LAPIC timer's input clock. Linux then calibrates neither. */
#define X86_SOFT_TSC_HZ     1000000000ULL
#define X86_SOFT_CRYSTAL_HZ 25000000ULL

/* Control register and EFER bits the boot setup and backends name. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_NW (1ULL << 29)
#define X86_CR0_CD (1ULL << 30)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_RFLAGS_FIXED 0x2ULL /* bit 1 always reads 1 */

/* The MSRs a backend's get_regs puts in the state (every backend the same list). */
extern const uint32_t x86_state_msr_list[];
extern const unsigned x86_state_msr_count;

/* The value of MSR index in s, or def when s does not carry it. */
uint64_t x86_state_msr(const struct x86_cpu_state *s, uint32_t index, uint64_t def);
/* Sets (or adds) MSR index; -1 when the table is full. */
int x86_state_set_msr(struct x86_cpu_state *s, uint32_t index, uint64_t value);
/* Writes s as a few "hardy:   ..." lines (GPRs, RIP/RFLAGS, segments, tables, control
 * registers, events) for the report of a guest that faulted beyond repair. */
void x86_state_print(FILE *f, const struct x86_cpu_state *s);

#endif
