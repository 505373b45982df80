/* ELF64 x86-64 vmlinux: validation of the headers (every PT_LOAD inside the file and at a sane
 * physical address, entry inside a segment) and loading of the segments into guest RAM. */
#include "arch/x86/boot_internal.h"

#include <elf.h>
#include <string.h>

#include "arch/x86/layout.h"

/* Kernel virtual addresses (the -2 GiB kernel mapping) that e_entry may be given in. */
#define ELF_KERNEL_VBASE 0xffffffff80000000ULL

bool x86_elf_detect(const uint8_t *data, size_t size)
{
	return size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0;
}

/* Program header i; the caller has checked that the table lies inside the file. */
static Elf64_Phdr elf_phdr(const struct kernel_image *k, const Elf64_Ehdr *eh, unsigned i)
{
	Elf64_Phdr ph;
	memcpy(&ph, k->data + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
	return ph;
}

static int elf_check_ehdr(const struct kernel_image *k, Elf64_Ehdr *eh, struct error *err)
{
	const char *p = k->path;
	if (k->size < sizeof(*eh))
		return error_set(err, ERR_INPUT, "kernel '%s': truncated ELF header", p);
	memcpy(eh, k->data, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file is not a 64-bit x86-64 image", p);
	if (eh->e_type != ET_EXEC)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file is not an executable (type %u)",
				 p, eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file has no usable program headers", p);
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > k->size || table > k->size - eh->e_phoff)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF program headers lie outside the file", p);
	return 0;
}

/* One PT_LOAD: file range inside the file, memory range from 1 MiB to below the 3 GiB hole. */
static int elf_check_load(const struct kernel_image *k, const Elf64_Phdr *ph, unsigned i,
			  struct error *err)
{
	const char *p = k->path;
	if (ph->p_offset > k->size || ph->p_filesz > k->size - ph->p_offset)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u lies outside the file "
				 "(truncated?)", p, i);
	if (ph->p_filesz > ph->p_memsz)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u has filesz > memsz", p, i);
	if (ph->p_paddr < X86_KERNEL_GPA || ph->p_paddr > GMEM_LOW_LIMIT ||
	    ph->p_memsz > GMEM_LOW_LIMIT - ph->p_paddr)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u at physical 0x%llx+0x%llx "
				 "is outside [1 MiB, 3 GiB)", p, i, (unsigned long long)ph->p_paddr,
				 (unsigned long long)ph->p_memsz);
	return 0;
}

int x86_elf_parse(struct kernel_image *k, struct error *err)
{
	Elf64_Ehdr eh;
	if (elf_check_ehdr(k, &eh, err) < 0)
		return -1;
	uint64_t lo = UINT64_MAX, hi = 0, entry = 0;
	bool virt = eh.e_entry >= ELF_KERNEL_VBASE, found = false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = elf_phdr(k, &eh, i);
		if (ph.p_type != PT_LOAD)
			continue;
		if (elf_check_load(k, &ph, i, err) < 0)
			return -1;
		lo = ph.p_paddr < lo ? ph.p_paddr : lo;
		hi = ph.p_paddr + ph.p_memsz > hi ? ph.p_paddr + ph.p_memsz : hi;
		uint64_t base = virt ? ph.p_vaddr : ph.p_paddr;
		if (!found && eh.e_entry >= base && eh.e_entry - base < ph.p_memsz) {
			entry = ph.p_paddr + (eh.e_entry - base);
			found = true;
		}
	}
	if (hi == 0)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file has no loadable segments", k->path);
	if (!found)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF entry 0x%llx is outside every loadable "
				 "segment", k->path, (unsigned long long)eh.e_entry);
	k->elf_entry = entry;
	k->load_end = hi;
	k->init_size = (uint32_t)(hi - lo); /* below 3 GiB, fits */
	k->protocol = 0x020f;               /* what the synthesized setup header says */
	k->cmdline_size = X86_ELF_CMDLINE_SIZE;
	k->initrd_addr_max = X86_DEFAULT_INITRD_MAX;
	k->setup_size = 0;
	return 0;
}

int x86_elf_load(const struct guest_mem *m, const struct kernel_image *k, struct error *err)
{
	Elf64_Ehdr eh;
	memcpy(&eh, k->data, sizeof(eh)); /* validated by x86_elf_parse */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = elf_phdr(k, &eh, i);
		if (ph.p_type != PT_LOAD)
			continue;
		uint8_t *dst = gmem_ptr(m, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u (0x%llx+0x%llx) is "
					 "outside guest RAM", k->path, i, (unsigned long long)ph.p_paddr,
					 (unsigned long long)ph.p_memsz);
		memcpy(dst, k->data + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}
