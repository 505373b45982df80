/* The AML encoder: integer and name-string encodings, PkgLength in 1 to 3 bytes, nesting, and
 * overflow of the caller's buffer. Expected bytes are from the ACPI 6.0 grammar (chapter 20). */
#include "arch/x86/aml.h"
#include "check.h"

static void expect_bytes(const struct aml_buf *b, const uint8_t *want, size_t n, const char *what)
{
	CHECK(!b->overflow && b->len == n, "%s: length %zu, want %zu", what, b->len, n);
	for (size_t i = 0; i < n; i++)
		CHECK(b->data[i] == want[i], "%s: byte %zu is 0x%02x, want 0x%02x", what, i, b->data[i], want[i]);
}

int main(void)
{
	printf("test_aml\n");
	uint8_t mem[8192];
	struct aml_buf b;

	SECTION("integers use the shortest encoding");
	aml_init(&b, mem, sizeof(mem));
	aml_integer(&b, 0);
	aml_integer(&b, 1);
	aml_integer(&b, 5);
	aml_integer(&b, 0x1234);
	aml_integer(&b, 0xFEC00000);
	aml_integer(&b, 0x100000000ULL);
	static const uint8_t ints[] = { 0x00, 0x01, 0x0A, 0x05, 0x0B, 0x34, 0x12, 0x0C, 0x00, 0x00,
					0xC0, 0xFE, 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 };
	expect_bytes(&b, ints, sizeof(ints), "integers");

	SECTION("name strings: root, padding, dual and multi segment");
	aml_init(&b, mem, sizeof(mem));
	aml_namestring(&b, "\\_S5");
	aml_namestring(&b, "_SB.PCI0");
	aml_namestring(&b, "\\_SB.PCI0.ISA");
	aml_namestring(&b, "");
	static const uint8_t names[] = { '\\', '_', 'S', '5', '_', 0x2E, '_', 'S', 'B', '_', 'P', 'C',
		'I', '0', '\\', 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_', 0x00 };
	expect_bytes(&b, names, sizeof(names), "names");

	SECTION("Name(\\_S5, Package(){5, 5, 0, 0})");
	aml_init(&b, mem, sizeof(mem));
	aml_name(&b, "\\_S5");
	size_t pkg = aml_package_begin(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_end(&b, pkg);
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
	expect_bytes(&b, s5, sizeof(s5), "_S5");

	SECTION("EISAID(\"PNP0A03\") and strings");
	aml_init(&b, mem, sizeof(mem));
	aml_eisaid(&b, "PNP0A03");
	aml_string(&b, "ab");
	static const uint8_t eisa[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x03, 0x0D, 'a', 'b', 0 };
	expect_bytes(&b, eisa, sizeof(eisa), "eisaid");

	SECTION("PkgLength: 1 byte up to 63 in all, 2 bytes up to 4095, 3 bytes beyond");
	const size_t bodies[] = { 0, 61, 62, 63, 4093, 4094, 5000 };
	const unsigned lens[] = { 1, 1, 1, 2, 2, 3, 3 };
	for (unsigned i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		aml_init(&b, mem, sizeof(mem));
		size_t mark = aml_package_begin(&b, 0); /* NumElements is one body byte */
		for (size_t j = 1; j < bodies[i]; j++)
			aml_byte(&b, 0x00);
		aml_end(&b, mark);
		size_t body = bodies[i] ? bodies[i] : 1;
		CHECK(b.len == 1 + lens[i] + body, "body %zu: len %zu", bodies[i], b.len);
		unsigned n = (mem[1] >> 6) + 1;
		CHECK(n == lens[i], "body %zu: %u length bytes, want %u", bodies[i], n, lens[i]);
		size_t total = n == 1 ? mem[1] : mem[1] & 0xF;
		for (unsigned k = 1; k < n; k++)
			total |= (size_t)mem[1 + k] << (4 + 8 * (k - 1));
		CHECK(total == body + n, "body %zu: PkgLength %zu", bodies[i], total);
	}

	SECTION("nested Scope/Device");
	aml_init(&b, mem, sizeof(mem));
	size_t scope = aml_scope_begin(&b, "\\_SB");
	size_t dev = aml_device_begin(&b, "PCI0");
	aml_name(&b, "_HID");
	aml_eisaid(&b, "PNP0A03");
	aml_end(&b, dev);
	aml_end(&b, scope);
	static const uint8_t nest[] = { 0x10, 0x17, '\\', '_', 'S', 'B', '_', 0x5B, 0x82, 0x0F, 'P', 'C',
		'I', '0', 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
	expect_bytes(&b, nest, sizeof(nest), "nested");

	SECTION("overflow is remembered, not written past the buffer");
	uint8_t tiny[6];
	aml_init(&b, tiny, sizeof(tiny));
	aml_name(&b, "\\_S5");
	aml_integer(&b, 0x1234);
	CHECK(b.overflow && b.len <= sizeof(tiny), "overflow flagged");
	printf("test_aml: all passed\n");
	return 0;
}
