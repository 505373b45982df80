/* The CPU structures the boot vCPU starts with: an identity map of the first 4 GiB in 2 MiB
 * pages, and a GDT with the selectors the 64-bit boot protocol expects (0x10 code, 0x18 data). */
#include "arch/x86/boot_internal.h"

#include "arch/x86/layout.h"

#define PTE_PRESENT 0x1ULL
#define PTE_RW      0x2ULL
#define PTE_PS      0x80ULL  /* 2 MiB page in a PD entry */
#define PT_ENTRIES  512
#define PD_COUNT    4        /* 4 PDs x 512 x 2 MiB = 4 GiB */

/* Long-mode descriptors: flat code (L=1), flat data, and a busy 64-bit TSS at base 0. */
#define GDT_CODE64 0x00AF9B000000FFFFULL
#define GDT_DATA   0x00CF93000000FFFFULL
#define GDT_TSS64  0x00008B0000000067ULL /* limit 0x67, type 0xB, present; upper half zero */

int x86_page_tables_write(const struct guest_mem *m, struct x86_boot_regs *regs)
{
	uint64_t pml4[PT_ENTRIES] = { [0] = X86_PDPT_GPA | PTE_PRESENT | PTE_RW };
	uint64_t pdpt[PT_ENTRIES] = { 0 };
	uint64_t pd[PT_ENTRIES];
	for (unsigned i = 0; i < PD_COUNT; i++) {
		uint64_t pd_gpa = X86_PD_GPA + i * sizeof(pd);
		pdpt[i] = pd_gpa | PTE_PRESENT | PTE_RW;
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			pd[j] = (((uint64_t)i * PT_ENTRIES + j) << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
		if (gmem_write(m, pd_gpa, pd, sizeof(pd)) < 0)
			return -1;
	}
	if (gmem_write(m, X86_PML4_GPA, pml4, sizeof(pml4)) < 0 ||
	    gmem_write(m, X86_PDPT_GPA, pdpt, sizeof(pdpt)) < 0)
		return -1;
	regs->cr3 = X86_PML4_GPA;
	return 0;
}

int x86_gdt_write(const struct guest_mem *m, struct x86_boot_regs *regs)
{
	const uint64_t gdt[X86_GDT_ENTRIES] = {
		[X86_BOOT_CS / 8] = GDT_CODE64,
		[X86_BOOT_DS / 8] = GDT_DATA,
		[X86_BOOT_TSS / 8] = GDT_TSS64,
	};
	if (gmem_write(m, X86_GDT_GPA, gdt, sizeof(gdt)) < 0)
		return -1;
	regs->gdt_base = X86_GDT_GPA;
	regs->gdt_limit = sizeof(gdt) - 1;
	return 0;
}
