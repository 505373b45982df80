/* ELF kernels of either class (an ELF64 x86-64 vmlinux; Multiboot's ELF32 i386 kernels, through
 * multiboot.c): validation of the headers (every PT_LOAD inside the file and at a sane physical
 * address, entry inside a segment) and loading of the segments into guest RAM. */
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

/* The ELF header fields the loader uses, whichever the class (widened). */
struct elf_view {
	bool is64;
	uint16_t type, machine, phentsize;
	uint64_t entry, phoff;
	unsigned phnum;
};

/* A program header of either class, widened. */
struct elf_seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* The header at k->data (at least an Elf64_Ehdr or Elf32_Ehdr of its class there). */
static void elf_view(const struct kernel_image *k, struct elf_view *v)
{
	v->is64 = k->data[EI_CLASS] == ELFCLASS64;
	if (v->is64) {
		Elf64_Ehdr eh;
		memcpy(&eh, k->data, sizeof(eh));
		*v = (struct elf_view){ true, eh.e_type, eh.e_machine, eh.e_phentsize, eh.e_entry,
					eh.e_phoff, eh.e_phnum };
	} else {
		Elf32_Ehdr eh;
		memcpy(&eh, k->data, sizeof(eh));
		*v = (struct elf_view){ false, eh.e_type, eh.e_machine, eh.e_phentsize, eh.e_entry,
					eh.e_phoff, eh.e_phnum };
	}
}

/* Program header i; the caller has checked that the table lies inside the file. */
static struct elf_seg elf_seg(const struct kernel_image *k, const struct elf_view *v, unsigned i)
{
	if (v->is64) {
		Elf64_Phdr ph;
		memcpy(&ph, k->data + v->phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		return (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_paddr,
					 ph.p_filesz, ph.p_memsz };
	}
	Elf32_Phdr ph;
	memcpy(&ph, k->data + v->phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
	return (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_paddr, ph.p_filesz,
				 ph.p_memsz };
}

static int elf_check_header(const struct kernel_image *k, const struct x86_elf_want *w,
			    struct elf_view *v, struct error *err)
{
	const char *p = k->path;
	size_t ehsize = w->elf_class == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = w->elf_class == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (k->size < ehsize)
		return error_set(err, ERR_INPUT, "kernel '%s': truncated ELF header", p);
	if (k->data[EI_CLASS] != w->elf_class || k->data[EI_DATA] != ELFDATA2LSB)
		return error_set(err, ERR_INPUT, "kernel '%s': %s", p, w->not_this);
	elf_view(k, v);
	if (v->machine != w->machine)
		return error_set(err, ERR_INPUT, "kernel '%s': %s", p, w->not_this);
	if (v->type != ET_EXEC)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file is not an executable (type %u)",
				 p, v->type);
	if (v->phentsize != phsize || v->phnum == 0 || v->phnum == PN_XNUM)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file has no usable program headers", p);
	uint64_t table = (uint64_t)v->phnum * phsize;
	if (v->phoff > k->size || table > k->size - v->phoff)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF program headers lie outside the file", p);
	return 0;
}

/* One PT_LOAD: file range inside the file, memory range from 1 MiB to below the 3 GiB hole. */
static int elf_check_load(const struct kernel_image *k, const struct elf_seg *ph, unsigned i,
			  struct error *err)
{
	const char *p = k->path;
	if (ph->offset > k->size || ph->filesz > k->size - ph->offset)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u lies outside the file "
				 "(truncated?)", p, i);
	if (ph->filesz > ph->memsz)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u has filesz > memsz", p, i);
	if (ph->paddr < X86_KERNEL_GPA || ph->paddr > GMEM_LOW_LIMIT ||
	    ph->memsz > GMEM_LOW_LIMIT - ph->paddr)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u at physical 0x%llx+0x%llx "
				 "is outside [1 MiB, 3 GiB) (below 1 MiB are hardy's boot tables)", p, i,
				 (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
	return 0;
}

/* Empty segments load nothing and are skipped everywhere. */
static bool elf_loads(const struct elf_seg *ph)
{
	return ph->type == PT_LOAD && ph->memsz != 0;
}

int x86_elf_layout(const struct kernel_image *k, const struct x86_elf_want *w,
		   struct x86_elf_layout *out, struct error *err)
{
	struct elf_view v;
	if (elf_check_header(k, w, &v, err) < 0)
		return -1;
	uint64_t lo = UINT64_MAX, hi = 0, entry = 0;
	bool virt = v.entry >= w->vaddr_from, found = false;
	for (unsigned i = 0; i < v.phnum; i++) {
		struct elf_seg ph = elf_seg(k, &v, i);
		if (!elf_loads(&ph))
			continue;
		if (elf_check_load(k, &ph, i, err) < 0)
			return -1;
		lo = ph.paddr < lo ? ph.paddr : lo;
		hi = ph.paddr + ph.memsz > hi ? ph.paddr + ph.memsz : hi;
		uint64_t base = virt ? ph.vaddr : ph.paddr;
		if (!found && v.entry >= base && v.entry - base < ph.memsz) {
			entry = ph.paddr + (v.entry - base);
			found = true;
		}
	}
	if (hi == 0)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF file has no loadable segments", k->path);
	if (!found)
		return error_set(err, ERR_INPUT, "kernel '%s': ELF entry 0x%llx is outside every loadable "
				 "segment", k->path, (unsigned long long)v.entry);
	*out = (struct x86_elf_layout){ .entry = entry, .lo = lo, .hi = hi };
	return 0;
}

int x86_elf_parse(struct kernel_image *k, struct error *err)
{
	static const struct x86_elf_want vmlinux = {
		.elf_class = ELFCLASS64, .machine = EM_X86_64, .vaddr_from = ELF_KERNEL_VBASE,
		.not_this = "ELF file is not a 64-bit x86-64 image",
	};
	struct x86_elf_layout l;
	if (x86_elf_layout(k, &vmlinux, &l, err) < 0)
		return -1;
	k->elf_entry = l.entry;
	k->load_end = l.hi;
	k->init_size = (uint32_t)(l.hi - l.lo); /* below 3 GiB, fits */
	k->protocol = 0x020f;               /* what the synthesized setup header says */
	k->cmdline_size = X86_ELF_CMDLINE_SIZE;
	k->initrd_addr_max = X86_DEFAULT_INITRD_MAX;
	k->setup_size = 0;
	return 0;
}

int x86_elf_load(const struct guest_mem *m, const struct kernel_image *k, struct error *err)
{
	struct elf_view v;
	elf_view(k, &v); /* validated by x86_elf_layout */
	for (unsigned i = 0; i < v.phnum; i++) {
		struct elf_seg ph = elf_seg(k, &v, i);
		if (!elf_loads(&ph))
			continue;
		uint8_t *dst = gmem_ptr(m, ph.paddr, ph.memsz);
		if (!dst)
			return error_set(err, ERR_INPUT, "kernel '%s': ELF segment %u (0x%llx+0x%llx) is "
					 "outside guest RAM", k->path, i, (unsigned long long)ph.paddr,
					 (unsigned long long)ph.memsz);
		memcpy(dst, k->data + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	return 0;
}
