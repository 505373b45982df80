/* Multiboot v1 (spec 0.6.96) for ELF32 i386 kernels such as kvm-unit-tests': find and check the
 * header, validate the program headers, and at boot load the segments, one module (--initrd),
 * the command line, the memory map (the same RAM layout as the Linux path's e820) and the info
 * structure, all through the checked accessor. Entry: 32-bit protected mode, paging off, flat
 * segments, EAX = the bootloader magic, EBX = the info address (cpu_state.c applies it). */
#include "arch/x86/boot_internal.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"

#define MB_HEADER_MAGIC   0x1BADB002u
#define MB_BOOT_MAGIC     0x2BADB002u
#define MB_SEARCH_END     8192u
#define MB_PAGE           0x1000ULL

/* Header flags: bits 0-15 are requirements a loader must refuse when it cannot meet them. */
#define MB_HF_PAGE_ALIGN  (1u << 0)  /* modules page aligned: always done */
#define MB_HF_MEMORY      (1u << 1)  /* mem_* and mmap: always given */
#define MB_HF_REQUIRED    0xFFFFu
#define MB_HF_ADDRESSES   (1u << 16) /* the a.out kludge's load addresses */

/* Info flags. */
#define MB_IF_MEMORY      (1u << 0)
#define MB_IF_CMDLINE     (1u << 2)
#define MB_IF_MODS        (1u << 3)
#define MB_IF_MMAP        (1u << 6)

/* The info structure as the spec lays it out (everything up to the VBE fields). */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name, apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};
_Static_assert(sizeof(struct mb_info) == 88, "Multiboot info layout");

struct mb_module {
	uint32_t start, end, string, reserved;
};

/* A memory map entry; size counts the bytes after itself. */
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
};
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "Multiboot mmap entry layout");

#define MB_MMAP_MAX ((X86_CMDLINE_GPA - X86_MB_MMAP_GPA) / sizeof(struct mb_mmap_entry))

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

long x86_multiboot_find(const uint8_t *data, size_t size)
{
	size_t end = size < MB_SEARCH_END ? size : MB_SEARCH_END;
	long bad = -1;
	for (size_t off = 0; off + 12 <= end; off += 4) {
		if (rd32(data + off) != MB_HEADER_MAGIC)
			continue;
		uint32_t sum = MB_HEADER_MAGIC + rd32(data + off + 4) + rd32(data + off + 8);
		if (sum == 0)
			return (long)off;
		bad = -2;
	}
	return bad;
}

static int mb_check_flags(const struct kernel_image *k, uint32_t flags, struct error *err)
{
	uint32_t unmet = flags & MB_HF_REQUIRED & ~(MB_HF_PAGE_ALIGN | MB_HF_MEMORY);
	if (unmet)
		return error_set(err, ERR_INPUT, "kernel '%s': Multiboot header requires features "
				 "hardy does not provide (flags 0x%x: video mode or unknown)",
				 k->path, unmet);
	if (flags & MB_HF_ADDRESSES)
		return error_set(err, ERR_INPUT, "kernel '%s': Multiboot header uses load address "
				 "fields (a.out kludge); only ELF32 kernels are supported", k->path);
	return 0;
}

int x86_multiboot_parse(struct kernel_image *k, long hdr_off, struct error *err)
{
	if (hdr_off == -2)
		return error_set(err, ERR_INPUT, "kernel '%s': Multiboot header has a bad checksum",
				 k->path);
	if (mb_check_flags(k, rd32(k->data + hdr_off + 4), err) < 0)
		return -1;
	static const struct x86_elf_want mb_elf = {
		.elf_class = ELFCLASS32, .machine = EM_386, .vaddr_from = 0, /* always through p_vaddr */
		.not_this = "Multiboot kernel is not an ELF32 i386 image",
	};
	if (!x86_elf_detect(k->data, k->size))
		return error_set(err, ERR_INPUT, "kernel '%s': Multiboot kernel is not an ELF file",
				 k->path);
	struct x86_elf_layout l;
	if (x86_elf_layout(k, &mb_elf, &l, err) < 0)
		return -1;
	k->elf_entry = l.entry;
	k->load_start = l.lo;
	k->load_end = l.hi;
	k->init_size = (uint32_t)(l.hi - l.lo);
	k->cmdline_size = X86_CMDLINE_MAX - 1;
	k->initrd_addr_max = (uint32_t)(GMEM_LOW_LIMIT - 1);
	return 0;
}

char *x86_multiboot_cmdline(const char *kernel_path, const char *args)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s", kernel_path, args && *args ? " " : "", args ? args : "") < 0)
		return NULL;
	return s;
}

int x86_multiboot_module_place(const struct kernel_image *k, uint64_t low_end, uint64_t size,
			       uint64_t *addr)
{
	uint64_t floor = (k->load_end + MB_PAGE - 1) & ~(MB_PAGE - 1);
	if (size > low_end || low_end - size < floor)
		return -1;
	*addr = (low_end - size) & ~(MB_PAGE - 1);
	return 0;
}

int x86_multiboot_check_fit(const struct x86_boot_config *bc, uint64_t ram_size,
			    struct error *err)
{
	const struct kernel_image *k = bc->kernel;
	uint64_t low_end = ram_size < GMEM_LOW_LIMIT ? ram_size : GMEM_LOW_LIMIT;
	if (k->load_end > low_end)
		return error_set(err, ERR_INPUT, "kernel '%s' is loaded up to %llu MiB; guest RAM "
				 "(%llu MiB) is too small", k->path ? k->path : "",
				 (unsigned long long)((k->load_end + (1ULL << 20) - 1) >> 20),
				 (unsigned long long)(ram_size >> 20));
	size_t len = bc->cmdline ? strlen(bc->cmdline) : 0;
	if (len > X86_CMDLINE_MAX - 1)
		return error_set(err, ERR_INPUT, "command line (with the kernel's path) is %zu bytes; "
				 "at most %u", len, X86_CMDLINE_MAX - 1);
	if (bc->initrd_path && strlen(bc->initrd_path) > X86_CMDLINE_MAX - 1)
		return error_set(err, ERR_INPUT, "initrd path is longer than %u bytes", X86_CMDLINE_MAX - 1);
	if (bc->ncpus == 0 || bc->ncpus > ACPI_MAX_CPUS)
		return error_set(err, ERR_INPUT, "%u vCPUs: must be 1 to %u", bc->ncpus, ACPI_MAX_CPUS);
	uint64_t addr;
	if (bc->initrd_size && x86_multiboot_module_place(k, low_end, bc->initrd_size, &addr) < 0)
		return error_set(err, ERR_INPUT, "initrd '%s' (%llu KiB) does not fit in guest RAM "
				 "above the Multiboot kernel", bc->initrd_path ? bc->initrd_path : "(initrd)",
				 (unsigned long long)(bc->initrd_size >> 10));
	return 0;
}

static int mb_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len,
		    const char *what, struct error *err)
{
	if (gmem_write(m, gpa, src, len) < 0)
		return error_set(err, ERR_RUNTIME, "boot: %s (0x%llx+0x%llx) is outside guest RAM", what,
				 (unsigned long long)gpa, (unsigned long long)len);
	return 0;
}

/* The e820 map in Multiboot's form (the type numbers are the same); its byte length. */
static int mb_write_mmap(const struct guest_mem *m, uint32_t *length, struct error *err)
{
	struct boot_e820_entry e820[32];
	unsigned n = x86_e820_build(m, e820, 32);
	struct mb_mmap_entry map[32];
	_Static_assert(32 <= MB_MMAP_MAX, "the memory map fits below the command line");
	for (unsigned i = 0; i < n; i++)
		map[i] = (struct mb_mmap_entry){ .size = sizeof(map[i]) - sizeof(map[i].size),
						 .addr = e820[i].addr, .len = e820[i].size,
						 .type = e820[i].type };
	*length = (uint32_t)(n * sizeof(map[0]));
	return mb_write(m, X86_MB_MMAP_GPA, map, *length, "Multiboot memory map", err);
}

/* Flat 4 GiB code (32-bit) and data at the selectors the entry state names. The spec lets the
 * GDTR be invalid; a valid one costs nothing and keeps a segment reload harmless. */
static int mb_write_gdt(const struct guest_mem *m, struct x86_boot_regs *regs, struct error *err)
{
	uint64_t gdt[4] = { 0, 0, 0x00CF9B000000FFFFULL, 0x00CF93000000FFFFULL };
	_Static_assert(X86_BOOT_CS == 2 * 8 && X86_BOOT_DS == 3 * 8, "GDT slots");
	regs->gdt_base = X86_GDT_GPA;
	regs->gdt_limit = sizeof(gdt) - 1;
	return mb_write(m, X86_GDT_GPA, gdt, sizeof(gdt), "GDT", err);
}

int x86_multiboot_setup(const struct guest_mem *m, const struct x86_boot_config *bc,
			struct x86_boot_regs *regs, struct error *err)
{
	const struct kernel_image *k = bc->kernel;
	memset(regs, 0, sizeof(*regs));
	if (x86_multiboot_check_fit(bc, m->ram_size, err) < 0 || x86_elf_load(m, k, err) < 0)
		return -1;

	struct mb_info info = { .flags = MB_IF_MEMORY | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP };
	uint64_t low_end = gmem_low_end(m);
	info.mem_lower = (uint32_t)(X86_EBDA_START >> 10);
	info.mem_upper = (uint32_t)((low_end - X86_KERNEL_GPA) >> 10);

	const char *cmdline = bc->cmdline ? bc->cmdline : "";
	if (mb_write(m, X86_CMDLINE_GPA, cmdline, strlen(cmdline) + 1, "command line", err) < 0)
		return -1;
	info.cmdline = (uint32_t)X86_CMDLINE_GPA;

	info.mods_addr = (uint32_t)X86_MB_MODS_GPA;
	if (bc->initrd && bc->initrd_size) {
		uint64_t addr;
		const char *name = bc->initrd_path ? bc->initrd_path : "";
		if (x86_multiboot_module_place(k, low_end, bc->initrd_size, &addr) < 0)
			return error_set(err, ERR_RUNTIME, "boot: cannot place the Multiboot module");
		struct mb_module mod = { .start = (uint32_t)addr,
					 .end = (uint32_t)(addr + bc->initrd_size),
					 .string = (uint32_t)X86_MB_MODSTR_GPA };
		if (mb_write(m, addr, bc->initrd, bc->initrd_size, "module", err) < 0 ||
		    mb_write(m, X86_MB_MODSTR_GPA, name, strlen(name) + 1, "module string", err) < 0 ||
		    mb_write(m, X86_MB_MODS_GPA, &mod, sizeof(mod), "module list", err) < 0)
			return -1;
		info.mods_count = 1;
	}

	if (mb_write_mmap(m, &info.mmap_length, err) < 0)
		return -1;
	info.mmap_addr = (uint32_t)X86_MB_MMAP_GPA;
	if (mb_write(m, X86_MB_INFO_GPA, &info, sizeof(info), "Multiboot info", err) < 0 ||
	    mb_write_gdt(m, regs, err) < 0)
		return -1;

	regs->protected32 = true;
	regs->rip = k->elf_entry;
	regs->eax = MB_BOOT_MAGIC;
	regs->ebx = (uint32_t)X86_MB_INFO_GPA;
	return 0;
}
