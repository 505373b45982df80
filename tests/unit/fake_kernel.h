/* Synthetic kernels for the unit tests: a bzImage with a valid 2.15 setup header and a small
 * ELF64 vmlinux with two PT_LOAD segments, built in memory. Header-only. */
#ifndef HARDY_TESTS_FAKE_KERNEL_H
#define HARDY_TESTS_FAKE_KERNEL_H

#include <asm/bootparam.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define FAKE_SETUP_SECTS 4
#define FAKE_SETUP_SIZE  ((FAKE_SETUP_SECTS + 1) * 512)
#define FAKE_INIT_SIZE   (4u << 20)
#define FAKE_PREF_ADDR   0x1000000ULL

static inline uint8_t fake_pm_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static inline struct setup_header fake_hdr_get(const uint8_t *img)
{
	struct setup_header h;
	memcpy(&h, img + 0x1F1, sizeof(h));
	return h;
}

static inline void fake_hdr_put(uint8_t *img, const struct setup_header *h)
{
	memcpy(img + 0x1F1, h, sizeof(*h));
}

/* A bzImage whose protected-mode part is pm_size bytes (rounded up to 16) of a known pattern. */
static inline uint8_t *fake_bzimage(size_t pm_size, size_t *size)
{
	size_t pm = (pm_size + 15) & ~(size_t)15;
	*size = FAKE_SETUP_SIZE + pm;
	uint8_t *img = calloc(1, *size);
	CHECK(img, "calloc");
	img[0x200] = 0xEB;
	img[0x201] = 0x6A; /* header ends at 0x26C, as in 6.1 */
	struct setup_header h = {
		.setup_sects = FAKE_SETUP_SECTS, .syssize = (uint32_t)(pm / 16), .boot_flag = 0xAA55,
		.jump = 0x6AEB, .header = 0x53726448, .version = 0x020F, .loadflags = LOADED_HIGH,
		.code32_start = 0x100000, .initrd_addr_max = 0x7FFFFFFF, .kernel_alignment = 0x200000,
		.relocatable_kernel = 1, .min_alignment = 21, .xloadflags = XLF_KERNEL_64 | 2,
		.cmdline_size = 2047, .pref_address = FAKE_PREF_ADDR, .init_size = FAKE_INIT_SIZE,
	};
	fake_hdr_put(img, &h);
	for (size_t i = 0; i < pm; i++)
		img[FAKE_SETUP_SIZE + i] = fake_pm_byte(i);
	return img;
}

#define FAKE_ELF_PADDR0  0x1000000ULL
#define FAKE_ELF_VADDR0  0xffffffff81000000ULL
#define FAKE_ELF_FILESZ0 0x3000ULL
#define FAKE_ELF_MEMSZ0  0x5000ULL
#define FAKE_ELF_PADDR1  0x1200000ULL
#define FAKE_ELF_SZ1     0x1000ULL
#define FAKE_ELF_OFF0    0x1000ULL
#define FAKE_ELF_OFF1    0x4000ULL
#define FAKE_ELF_ENTRY   0x100ULL /* offset into segment 0 */

/* An ELF vmlinux: PT_LOAD at 16 MiB (with a bss tail), PT_NOTE, PT_LOAD at 18 MiB. */
static inline uint8_t *fake_elf(size_t *size, int virtual_entry)
{
	*size = FAKE_ELF_OFF1 + FAKE_ELF_SZ1;
	uint8_t *img = calloc(1, *size);
	CHECK(img, "calloc");
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = (virtual_entry ? FAKE_ELF_VADDR0 : FAKE_ELF_PADDR0) + FAKE_ELF_ENTRY,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3,
	};
	Elf64_Phdr ph[3] = {
		{ .p_type = PT_LOAD, .p_offset = FAKE_ELF_OFF0, .p_vaddr = FAKE_ELF_VADDR0,
		  .p_paddr = FAKE_ELF_PADDR0, .p_filesz = FAKE_ELF_FILESZ0, .p_memsz = FAKE_ELF_MEMSZ0 },
		{ .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = 0x10, .p_memsz = 0x10 },
		{ .p_type = PT_LOAD, .p_offset = FAKE_ELF_OFF1, .p_vaddr = FAKE_ELF_VADDR0 + 0x200000,
		  .p_paddr = FAKE_ELF_PADDR1, .p_filesz = FAKE_ELF_SZ1, .p_memsz = FAKE_ELF_SZ1 },
	};
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	for (size_t i = FAKE_ELF_OFF0; i < *size; i++)
		img[i] = fake_pm_byte(i);
	return img;
}

static inline Elf64_Phdr *fake_elf_phdr(uint8_t *img, unsigned i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

#endif
