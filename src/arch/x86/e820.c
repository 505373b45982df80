/* The e820 memory map handed to the kernel in boot_params: where RAM is, and what is reserved
 * (the EBDA, the ACPI tables and the BIOS area below 1 MiB; nothing is reported in the hole). */
#include "arch/x86/boot.h"

#include <asm/bootparam.h>
#include <asm/e820.h>

#include "arch/x86/layout.h"

#define E820_ONE_MIB 0x100000ULL

static unsigned e820_add(struct boot_e820_entry *tab, unsigned n, unsigned max,
			 uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start || n >= max)
		return n;
	tab[n] = (struct boot_e820_entry){ .addr = start, .size = end - start, .type = type };
	return n + 1;
}

unsigned x86_e820_build(const struct guest_mem *m, struct boot_e820_entry *tab, unsigned max)
{
	uint64_t low_end = gmem_low_end(m);
	unsigned n = 0;
	n = e820_add(tab, n, max, 0, X86_EBDA_START, E820_RAM);
	n = e820_add(tab, n, max, X86_EBDA_START, E820_ONE_MIB, E820_RESERVED);
	n = e820_add(tab, n, max, E820_ONE_MIB, low_end, E820_RAM);
	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->region[i];
		if (r->gpa >= GMEM_HIGH_BASE)
			n = e820_add(tab, n, max, r->gpa, r->gpa + r->size, E820_RAM);
	}
	return n;
}
