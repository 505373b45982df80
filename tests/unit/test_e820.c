/* x86_e820_build() for small to large guests: sorted, non-overlapping, RAM adds up to --mem,
 * nothing in the [3 GiB, 4 GiB) hole, the BIOS/ACPI area below 1 MiB reserved. */
#include <asm/bootparam.h>
#include <asm/e820.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "check.h"

#define MiB (1ULL << 20)

static void check_map(uint64_t ram)
{
	SECTION("e820 for a %llu MiB guest", (unsigned long long)(ram / MiB));
	struct guest_mem m;
	struct error err = { 0 };
	CHECK(gmem_init(&m, ram, &err) == 0, "%s", err.msg);
	struct boot_e820_entry tab[E820_MAX_ENTRIES_ZEROPAGE];
	unsigned n = x86_e820_build(&m, tab, E820_MAX_ENTRIES_ZEROPAGE);
	CHECK(n == (ram > GMEM_LOW_LIMIT ? 4u : 3u), "%u entries", n);
	uint64_t total = 0, all = 0, prev_end = 0;
	int acpi_reserved = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = tab[i].addr, s = tab[i].size, e = a + s;
		printf("    [0x%010llx, 0x%010llx) type %u\n", (unsigned long long)a,
		       (unsigned long long)e, tab[i].type);
		CHECK(s > 0, "entry %u empty", i);
		CHECK(a >= prev_end, "entry %u overlaps or is out of order", i);
		CHECK(e <= GMEM_LOW_LIMIT || a >= GMEM_HIGH_BASE, "entry %u reaches into the hole", i);
		if (tab[i].type == E820_RAM) {
			total += s;
			CHECK(gmem_ptr(&m, a, s) != NULL, "RAM entry %u is not backed by guest RAM", i);
		} else {
			CHECK(tab[i].type == E820_RESERVED, "entry %u type %u", i, tab[i].type);
			acpi_reserved |= a <= X86_ACPI_GPA && X86_ACPI_GPA + X86_ACPI_SIZE <= e;
		}
		prev_end = e;
		all += s;
	}
	/* RAM reported = --mem minus the EBDA..1 MiB window, which is RAM the guest does not get. */
	CHECK(total == ram - (0x100000 - X86_EBDA_START), "RAM total %llu", (unsigned long long)total);
	CHECK(all == ram, "all entries together cover exactly --mem");
	CHECK(acpi_reserved, "the ACPI area is inside a reserved entry");
	CHECK(tab[0].addr == 0 && tab[0].type == E820_RAM && tab[0].size == X86_EBDA_START, "low 640K");
	CHECK(x86_e820_build(&m, tab, 2) == 2, "max is respected");
	gmem_destroy(&m);
}

int main(void)
{
	printf("test_e820\n");
	check_map(64 * MiB);
	check_map(512 * MiB);
	check_map(3072 * MiB);
	check_map(5120 * MiB);
	check_map(3072 * MiB + 2 * MiB);
	printf("test_e820: all passed\n");
	return 0;
}
