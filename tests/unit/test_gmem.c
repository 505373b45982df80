/* gmem_ptr(), the project's one checked guest-memory accessor: ranges inside a region, crossing
 * a region's end, in the 3-4 GiB hole, and lengths or addresses that would overflow. */
#include "check.h"
#include "core/guest_mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

int main(void)
{
	printf("test_gmem\n");
	struct guest_mem m;
	struct error err = { 0 };
	CHECK(gmem_init(&m, 5 * GiB, &err) == 0, "%s", err.msg);
	uint64_t low = gmem_low_end(&m), high_end = GMEM_HIGH_BASE + 5 * GiB - low;
	CHECK(low == GMEM_LOW_LIMIT && m.nr_regions == 2, "two regions");

	SECTION("ranges inside RAM map to the right host bytes");
	CHECK(gmem_ptr(&m, 0, 1) == m.map, "gpa 0");
	CHECK(gmem_ptr(&m, low - 1, 1) == m.map + low - 1, "last low byte");
	CHECK(gmem_ptr(&m, 0, low) == m.map, "all of low RAM");
	CHECK(gmem_ptr(&m, GMEM_HIGH_BASE, 1) == m.map + low, "first high byte");
	CHECK(gmem_ptr(&m, high_end - 8, 8) == m.map + 5 * GiB - 8, "last high qword");

	SECTION("ranges crossing a region's end or in the hole are refused");
	CHECK(!gmem_ptr(&m, low - 1, 2), "crossing the low end");
	CHECK(!gmem_ptr(&m, low, 1), "first hole byte");
	CHECK(!gmem_ptr(&m, 0xFEE00000ULL, 4), "LAPIC page");
	CHECK(!gmem_ptr(&m, GMEM_HIGH_BASE - 1, 2), "crossing into high RAM from the hole");
	CHECK(!gmem_ptr(&m, low - 4, GMEM_HIGH_BASE - low + 8), "spanning the hole");
	CHECK(!gmem_ptr(&m, high_end - 4, 8), "crossing the high end");
	CHECK(!gmem_ptr(&m, high_end, 1), "past the high end");

	SECTION("overflowing addresses and lengths are refused");
	CHECK(!gmem_ptr(&m, UINT64_MAX, 2), "gpa UINT64_MAX len 2");
	CHECK(!gmem_ptr(&m, UINT64_MAX, 1), "gpa UINT64_MAX len 1");
	CHECK(!gmem_ptr(&m, 16, UINT64_MAX), "len UINT64_MAX");
	CHECK(!gmem_ptr(&m, GMEM_HIGH_BASE + 16, UINT64_MAX - 8), "high gpa, len wraps");
	CHECK(!gmem_ptr(&m, 1, UINT64_MAX), "gpa + len == 2^64");

	SECTION("gmem_read/gmem_write fail instead of touching memory outside RAM");
	uint8_t buf[4] = { 1, 2, 3, 4 };
	CHECK(gmem_write(&m, low - 2, buf, 4) < 0, "write crossing the low end");
	CHECK(gmem_read(&m, UINT64_MAX - 1, buf, 4) < 0, "read at the top of the address space");
	CHECK(gmem_write(&m, 0x1000, buf, 4) == 0 && gmem_read(&m, 0x1000, buf, 4) == 0, "round trip");
	gmem_destroy(&m);

	SECTION("a 64 MiB guest has only low RAM");
	CHECK(gmem_init(&m, 64 * MiB, &err) == 0, "%s", err.msg);
	CHECK(m.nr_regions == 1 && gmem_low_end(&m) == 64 * MiB, "one region");
	CHECK(gmem_ptr(&m, 64 * MiB - 1, 1) && !gmem_ptr(&m, 64 * MiB - 1, 2), "end of RAM");
	CHECK(!gmem_ptr(&m, GMEM_HIGH_BASE, 1), "no high RAM");
	gmem_destroy(&m);
	printf("test_gmem: all passed\n");
	return 0;
}
