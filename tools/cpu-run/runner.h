/* hardy-cpu-run internals: the user-mode runner that executes a static x86-64 (or i386) Linux ELF on the
 * software CPU. Guest virtual addresses equal host addresses (the guest's memory is mapped into
 * this process at the addresses it asks for); a page table of guest protections decides what the
 * guest may touch, and it feeds the CPU's TLB through soft_mem_ops. */
#ifndef HARDY_CPU_RUN_H
#define HARDY_CPU_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/soft/soft_cpu.h"

enum { RUN_PROT_R = 1, RUN_PROT_W = 2, RUN_PROT_X = 4, RUN_PROT_OWNED = 8 };

#define RUN_L1_BITS 17
#define RUN_L2_BITS 18

/* Guest page protections: 2-level radix over the 47-bit user address space. */
struct run_pagetable {
	uint8_t *l1[1u << RUN_L1_BITS];
};

struct run_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct runner {
	struct run_pagetable pt;
	struct soft_cpu *cpu;
	uint64_t brk_start, brk_cur, brk_mapped;
	char self_exe[4096];  /* this runner, for execve */
	char guest_exe[4096]; /* absolute path of the guest program (/proc/self/exe) */
	struct run_sigaction sig[65];
	bool stats;
	bool i386;            /* a 32-bit program in compatibility mode (i386.c) */
};

/* pagetable.c */
void run_pt_set(struct runner *r, uint64_t addr, uint64_t len, uint8_t prot);
uint8_t run_pt_get(const struct runner *r, uint64_t addr);
bool run_pt_range(const struct runner *r, uint64_t addr, uint64_t len, uint8_t need);
extern const struct soft_mem_ops run_mem_ops;

/* loader.c: map the ELF and build the initial stack; returns 0 or an error message. */
const char *run_load(struct runner *r, const char *path, int argc, char **argv, char **envp);

/* i386.c: load a static i386 ELF (open on fd), and perform an `int $0x80` system call. */
const char *run_load_i386(struct runner *r, int fd, int argc, char **argv, char **envp);
bool run_syscall_i386(struct runner *r, int *exit_code);

/* syscall.c: perform the system call in the CPU's registers; sets *exit_code and returns false
 * when the guest exits. */
bool run_syscall(struct runner *r, int *exit_code);

#endif
