/* The pieces x86_boot_setup() is made of, shared between the boot files and the unit tests.
 * Nothing outside src/arch/x86/ and tests/ should need this header. */
#ifndef HARDY_ARCH_X86_BOOT_INTERNAL_H
#define HARDY_ARCH_X86_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot.h"

/* Upper bound for command lines of kernels that do not say (ELF vmlinux): x86 COMMAND_LINE_SIZE. */
#define X86_ELF_CMDLINE_SIZE 2047u
/* initrd_addr_max for kernels that do not say (boot protocol < 2.03, ELF vmlinux). */
#define X86_DEFAULT_INITRD_MAX 0x37FFFFFFu

/* kernel_elf.c: is this an ELF file at all (magic only)? */
bool x86_elf_detect(const uint8_t *data, size_t size);
/* What an ELF kernel must be: class (ELFCLASS32/64) and machine, with the message for one that
 * is not; its entry is a virtual address (found through p_vaddr) when at or above vaddr_from,
 * else a physical one. */
struct x86_elf_want {
	unsigned char elf_class;
	uint16_t machine;
	uint64_t vaddr_from;
	const char *not_this;
};
/* The physical entry and the span [lo, hi) the PT_LOAD segments cover. */
struct x86_elf_layout {
	uint64_t entry, lo, hi;
};
/* Checks the ELF header and every PT_LOAD (inside the file, filesz <= memsz, from 1 MiB to below
 * the 3 GiB hole), finds the entry. Status 2 with "kernel '<path>': <problem>" on bad input. */
int x86_elf_layout(const struct kernel_image *k, const struct x86_elf_want *want,
		   struct x86_elf_layout *out, struct error *err);
/* Validates an ELF64 x86-64 vmlinux already read into k->data and fills the ELF fields of k. */
int x86_elf_parse(struct kernel_image *k, struct error *err);
/* Copies every PT_LOAD segment (either class; checked by x86_elf_layout) to its physical
 * address and zeroes its bss tail. */
int x86_elf_load(const struct guest_mem *m, const struct kernel_image *k, struct error *err);

/* multiboot.c: the offset of a valid Multiboot v1 header (magic, checksum) in the first 8 KiB,
 * 4-byte aligned; -1 when there is none, -2 when a magic is there but every checksum is bad. */
long x86_multiboot_find(const uint8_t *data, size_t size);
/* Validates a Multiboot kernel (header flags, ELF32 i386 headers, PT_LOAD segments from 1 MiB
 * to below the 3 GiB hole, entry inside one) and fills k's Multiboot fields. Status 2 with
 * "kernel '<path>': <problem>" on bad input. */
int x86_multiboot_parse(struct kernel_image *k, long hdr_off, struct error *err);
/* The fit check for Multiboot: segments below the low RAM end, command line, module. */
int x86_multiboot_check_fit(const struct x86_boot_config *bc, uint64_t ram_size,
			    struct error *err);
/* Loads the segments, the module, the command line, the memory map and the info structure, a
 * 32-bit GDT, and fills regs for the protected-mode entry. ACPI is the caller's. */
int x86_multiboot_setup(const struct guest_mem *m, const struct x86_boot_config *bc,
			struct x86_boot_regs *regs, struct error *err);
/* Where the module goes: as high as possible in low RAM above the kernel, page aligned. */
int x86_multiboot_module_place(const struct kernel_image *k, uint64_t low_end, uint64_t size,
			       uint64_t *addr);

/* initrd.c: the address for an initrd of size bytes: as high as possible below limit (exclusive),
 * at or above floor, 2 MiB aligned if that fits, else 4 KiB aligned. -1 when it does not fit. */
int x86_initrd_place(uint64_t floor, uint64_t limit, uint64_t size, uint64_t *addr);
/* The exclusive upper limit for the initrd: min(initrd_addr_max + 1, low RAM end). */
uint64_t x86_initrd_limit(const struct kernel_image *k, uint64_t low_end);

/* boot_params.c: the end of a bzImage's setup header in the file (0x202 + the byte at 0x201). */
size_t x86_bz_header_end(const struct kernel_image *k);
/* Fills the zero page: setup header (the kernel's, or synthesized for ELF), command line
 * pointer, initrd, RSDP address and e820 map. */
struct boot_params;
void x86_boot_params_fill(struct boot_params *bp, const struct guest_mem *m,
			  const struct kernel_image *k, uint64_t initrd_gpa, uint64_t initrd_size);

/* cpu_tables.c: identity map of [0, 4 GiB) with 2 MiB pages (PML4, PDPT, four PDs) and the boot
 * GDT; fills cr3, gdt_base and gdt_limit in regs. */
int x86_page_tables_write(const struct guest_mem *m, struct x86_boot_regs *regs);
int x86_gdt_write(const struct guest_mem *m, struct x86_boot_regs *regs);

#endif
