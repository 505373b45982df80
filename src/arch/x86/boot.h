/* Loading a Linux kernel for 64-bit entry: the x86 boot protocol for bzImage and ELF vmlinux.
 *
 * Two steps, so that every input is checked before any VM exists:
 *   1. kernel_image_open() reads and validates the kernel file (status 2 on bad input);
 *   2. x86_boot_setup() writes kernel, initrd, command line, boot_params (with e820), page
 *      tables, GDT and ACPI tables into guest RAM, through the checked accessor only, and returns
 *      the register state the boot vCPU starts with. */
#ifndef HARDY_ARCH_X86_BOOT_H
#define HARDY_ARCH_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "core/guest_mem.h"

struct aml_buf;

/* KERNEL_MULTIBOOT: an ELF32 i386 file with a Multiboot v1 header (multiboot.c), entered in
 * 32-bit protected mode. */
enum kernel_format { KERNEL_BZIMAGE, KERNEL_ELF, KERNEL_MULTIBOOT };

struct kernel_image {
	enum kernel_format format;
	uint8_t *data;         /* whole file, owned */
	size_t size;
	char *path;            /* owned copy, for messages */
	uint64_t load_end;     /* first byte above all memory the kernel uses while it boots */
	/* bzImage: */
	size_t setup_size;     /* (setup_sects + 1) * 512 */
	uint16_t protocol;     /* boot protocol version, e.g. 0x020f */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* max command line length the kernel accepts, without NUL */
	uint32_t init_size;    /* memory the kernel needs from its load address */
	/* ELF, Multiboot: */
	uint64_t elf_entry;    /* physical address of the entry (64-bit; Multiboot: 32-bit) */
	uint64_t load_start;   /* Multiboot: lowest byte a segment occupies */
};

struct x86_boot_config {
	const struct kernel_image *kernel;
	const void *initrd;    /* may be NULL */
	size_t initrd_size;
	const char *initrd_path; /* for messages; may be NULL */
	const char *cmdline;   /* Multiboot: the whole string the kernel gets (see
				* x86_multiboot_cmdline) */
	unsigned ncpus;
	/* The devices' DSDT objects (acpi.h); NULL: none. */
	void (*dsdt_devices)(void *ctx, struct aml_buf *aml);
	void *dsdt_ctx;
};

/* Register state for the boot vCPU: long mode, paging on, identity map of the first 4 GiB; or,
 * for Multiboot, 32-bit protected mode with paging off, EAX/EBX as the spec says. */
struct x86_boot_regs {
	bool protected32;      /* Multiboot entry */
	uint32_t eax, ebx;     /* Multiboot: magic and info address */
	uint64_t rip, rsi, rsp;
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

/* Opens and validates a bzImage (boot protocol 2.12+, 64-bit entry) or an ELF64 x86-64
 * vmlinux. Status 2 with one line naming the file and the problem on bad input. */
int kernel_image_open(struct kernel_image *k, const char *path, struct error *err);
void kernel_image_close(struct kernel_image *k);

/* Kernel files larger than this are refused before they are read. */
#define KERNEL_FILE_MAX (512ULL << 20)

/* Reads a whole regular file or pipe (kernel, initrd) into a malloc'd buffer; status 2 when it
 * is missing, unreadable, a device, or larger than max bytes (checked before reading where the
 * size is known, so a huge file is never pulled into memory). */
int file_read_all(const char *path, const char *what, uint64_t max, uint8_t **data, size_t *size,
		  struct error *err);

/* Checks that kernel + initrd + command line fit a guest of ram_size bytes (status 2 if not). */
int x86_boot_check_fit(const struct x86_boot_config *bc, uint64_t ram_size, struct error *err);

int x86_boot_setup(const struct guest_mem *m, const struct x86_boot_config *bc,
		   struct x86_boot_regs *regs, struct error *err);

/* Turns a vCPU's reset state s (a backend's get_regs) into the 64-bit entry state regs
 * describes; what the boot protocol does not name is left as it was (cpu_state.c). */
struct x86_cpu_state;
void x86_boot_cpu_state(const struct x86_boot_regs *regs, struct x86_cpu_state *s);

/* The Multiboot command line: the kernel's path, then args (GRUB and QEMU do the same: the
 * first word is the program name). malloc'd; NULL when out of memory. */
char *x86_multiboot_cmdline(const char *kernel_path, const char *args);

/* The e820 map the guest sees: RAM below the EBDA, the reserved BIOS/ACPI area up to 1 MiB, RAM
 * from 1 MiB to the low end, RAM above 4 GiB. Returns the number of entries (at most max),
 * sorted by address. */
struct boot_e820_entry;
unsigned x86_e820_build(const struct guest_mem *m, struct boot_e820_entry *tab, unsigned max);

#endif
