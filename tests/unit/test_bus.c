/* Unit test: bus registration (sorted, no overlaps) and dispatch (offsets, sizes, unclaimed). */
#include "check.h"
#include "core/bus.h"

struct rec {
	uint64_t last_off, last_val;
	unsigned last_len, writes;
};

static uint64_t rec_read(void *dev, uint64_t off, unsigned len)
{
	return 0x1122334455667788ULL + off;
}

static void rec_write(void *dev, uint64_t off, unsigned len, uint64_t v)
{
	struct rec *r = dev;
	r->last_off = off;
	r->last_len = len;
	r->last_val = v;
	r->writes++;
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

int main(void)
{
	struct bus b = { .name = "test" };
	struct rec a = { 0 }, c = { 0 };
	struct error err = { 0 };

	SECTION("registration keeps ranges apart");
	CHECK(bus_register(&b, 0x100, 0x10, &rec_ops, &a, "a", &err) == 0, "%s", err.msg);
	CHECK(bus_register(&b, 0x10, 0x10, &rec_ops, &c, "c", &err) == 0, "%s", err.msg);
	CHECK(b.range[0].base == 0x10 && b.range[1].base == 0x100, "not sorted");
	struct error e2 = { 0 };
	CHECK(bus_register(&b, 0x108, 0x10, &rec_ops, &c, "overlap", &e2) < 0, "overlap accepted");
	struct error e3 = { 0 };
	CHECK(bus_register(&b, 0xF8, 0x9, &rec_ops, &c, "overlap-low", &e3) < 0, "overlap accepted");
	struct error e4 = { 0 };
	CHECK(bus_register(&b, ~0ULL - 4, 0x10, &rec_ops, &c, "wrap", &e4) < 0, "wrapping range accepted");

	SECTION("dispatch passes offset, size and value");
	uint8_t data[8] = { 0xEF, 0xBE };
	CHECK(bus_dispatch(&b, 0x104, true, data, 2), "claimed write not dispatched");
	CHECK(a.last_off == 4 && a.last_len == 2 && a.last_val == 0xBEEF, "wrong write");
	CHECK(bus_dispatch(&b, 0x101, false, data, 1) && data[0] == 0x89, "wrong read %x", data[0]);

	SECTION("unclaimed and straddling accesses");
	memset(data, 0, sizeof(data));
	CHECK(!bus_dispatch(&b, 0x50, false, data, 4), "unclaimed read claimed");
	CHECK(data[0] == 0xFF && data[3] == 0xFF, "unclaimed read is not all ones");
	CHECK(!bus_dispatch(&b, 0x10E, true, data, 4), "access crossing the range end dispatched");
	CHECK(!bus_dispatch(&b, 0x100, true, data, 3), "3-byte access dispatched");
	CHECK(a.writes == 1, "device saw %u writes", a.writes);
	puts("test_bus: all passed");
	return 0;
}
