/* Loading a Linux kernel for 64-bit entry: the x86 boot protocol for bzImage and ELF vmlinux.
 *
 * Two steps, so that every input is checked before any VM exists:
 *   1. kernel_image_open() reads and validates the kernel file (status 2 on bad input);
 *   2. x86_boot_setup() writes kernel, initrd, command line, boot_params (with e820), page
 *      tables, GDT and ACPI tables into guest RAM, through the checked accessor only, and returns
 *      the register state the boot vCPU starts with. */
#ifndef HARDY_ARCH_X86_BOOT_H
#define HARDY_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "vm/guest_mem.h"

enum kernel_format { KERNEL_BZIMAGE, KERNEL_ELF };

struct kernel_image {
	enum kernel_format format;
	uint8_t *data;         /* whole file, owned */
	size_t size;
	/* bzImage: */
	size_t setup_size;     /* (setup_sects + 1) * 512 */
	uint16_t protocol;     /* boot protocol version, e.g. 0x020f */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* max command line length the kernel accepts, without NUL */
	uint32_t init_size;    /* memory the kernel needs from its load address */
	/* ELF: */
	uint64_t elf_entry;    /* physical address of the 64-bit entry */
};

struct x86_boot_config {
	const struct kernel_image *kernel;
	const void *initrd;    /* may be NULL */
	size_t initrd_size;
	const char *cmdline;
	unsigned ncpus;
};

/* Register state for the boot vCPU (long mode, paging on, identity map of the first 4 GiB). */
struct x86_boot_regs {
	uint64_t rip, rsi, rsp;
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

int kernel_image_open(struct kernel_image *k, const char *path, struct error *err);
void kernel_image_close(struct kernel_image *k);

/* Reads a whole file (initrd) into a malloc'd buffer; status 2 when missing or unreadable. */
int file_read_all(const char *path, const char *what, uint8_t **data, size_t *size, struct error *err);

/* Checks that kernel + initrd + command line fit a guest of ram_size bytes (status 2 if not). */
int x86_boot_check_fit(const struct x86_boot_config *bc, uint64_t ram_size, struct error *err);

int x86_boot_setup(const struct guest_mem *m, const struct x86_boot_config *bc,
		   struct x86_boot_regs *regs, struct error *err);

#endif
