/* The boot page tables and GDT: walking PML4 -> PDPT -> PD from guest RAM identity-maps sample
 * addresses across all of [0, 4 GiB); the GDT has the boot protocol's selectors. */
#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"
#include "check.h"

#define MiB (1ULL << 20)
#define ADDR_MASK 0x000FFFFFFFFFF000ULL

static uint64_t entry(const struct guest_mem *m, uint64_t table, unsigned i)
{
	uint64_t e;
	CHECK(gmem_read(m, (table & ADDR_MASK) + i * 8ULL, &e, 8) == 0, "table 0x%llx in RAM",
	      (unsigned long long)table);
	return e;
}

/* Translates va like the MMU would with 4-level paging; returns UINT64_MAX when not mapped. */
static uint64_t walk(const struct guest_mem *m, uint64_t cr3, uint64_t va)
{
	uint64_t e = entry(m, cr3, (va >> 39) & 511);
	if (!(e & 1))
		return UINT64_MAX;
	e = entry(m, e, (va >> 30) & 511);
	if (!(e & 1))
		return UINT64_MAX;
	CHECK(!(e & 0x80), "no 1 GiB pages expected");
	e = entry(m, e, (va >> 21) & 511);
	if (!(e & 1))
		return UINT64_MAX;
	CHECK((e & 0x80) && (e & 2), "2 MiB writable page expected for 0x%llx", (unsigned long long)va);
	return (e & ADDR_MASK & ~((2 * MiB) - 1)) | (va & (2 * MiB - 1));
}

int main(void)
{
	printf("test_page_tables\n");
	struct guest_mem m;
	struct error err = { 0 };
	CHECK(gmem_init(&m, 64 * MiB, &err) == 0, "%s", err.msg);
	struct x86_boot_regs r = { 0 };
	CHECK(x86_page_tables_write(&m, &r) == 0 && x86_gdt_write(&m, &r) == 0, "written");

	SECTION("identity map of sample addresses below 4 GiB");
	CHECK(r.cr3 == X86_PML4_GPA, "cr3");
	const uint64_t va[] = { 0, 0x7000, X86_KERNEL_GPA + 0x200, 0x1FFFFF, 0x200000, 16 * MiB + 123,
				0x3FFFFFFF, 0x40000000, 0xBFFFFFFF, 0xC0000000, 0xFEE00000, 0xFFFFFFFF };
	for (unsigned i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		CHECK(walk(&m, r.cr3, va[i]) == va[i], "0x%llx maps to 0x%llx", (unsigned long long)va[i],
		      (unsigned long long)walk(&m, r.cr3, va[i]));
	SECTION("every 2 MiB page of 4 GiB, and nothing above");
	for (uint64_t a = 0; a < (4ULL << 30); a += 2 * MiB)
		CHECK(walk(&m, r.cr3, a + 4095) == a + 4095, "page 0x%llx", (unsigned long long)a);
	CHECK(walk(&m, r.cr3, 4ULL << 30) == UINT64_MAX, "4 GiB not mapped");
	CHECK(walk(&m, r.cr3, 0xffffffff81000000ULL) == UINT64_MAX, "kernel high half not mapped");

	SECTION("GDT: null, null, 0x10 code64, 0x18 data, 0x20 TSS");
	uint64_t gdt[X86_GDT_ENTRIES];
	CHECK(r.gdt_base == X86_GDT_GPA && r.gdt_limit == sizeof(gdt) - 1, "GDTR");
	CHECK(gmem_read(&m, X86_GDT_GPA, gdt, sizeof(gdt)) == 0, "GDT readable");
	CHECK(gdt[0] == 0 && gdt[1] == 0, "null descriptors");
	CHECK(gdt[X86_BOOT_CS / 8] == 0x00AF9B000000FFFFULL, "code: 0x%llx", (unsigned long long)gdt[2]);
	CHECK(gdt[X86_BOOT_DS / 8] == 0x00CF93000000FFFFULL, "data: 0x%llx", (unsigned long long)gdt[3]);
	CHECK(((gdt[X86_BOOT_TSS / 8] >> 40) & 0x9F) == 0x8B, "TSS present, type busy 64-bit TSS");
	CHECK(X86_GDT_GPA + sizeof(gdt) <= X86_BOOT_PARAMS_GPA, "GDT below boot_params");
	gmem_destroy(&m);
	printf("test_page_tables: all passed\n");
	return 0;
}
