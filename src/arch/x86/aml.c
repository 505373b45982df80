/* AML byte encoding (ACPI 6.0 chapter 20): just what hardy's DSDT needs. */
#include "arch/x86/aml.h"

#include <string.h>

#define AML_ZERO        0x00
#define AML_ONE         0x01
#define AML_NAME        0x08
#define AML_BYTE        0x0A
#define AML_WORD        0x0B
#define AML_DWORD       0x0C
#define AML_STRING      0x0D
#define AML_QWORD       0x0E
#define AML_SCOPE       0x10
#define AML_BUFFER      0x11
#define AML_PACKAGE     0x12
#define AML_DUAL_NAME   0x2E
#define AML_MULTI_NAME  0x2F
#define AML_EXT         0x5B
#define AML_EXT_DEVICE  0x82
#define AML_PKGLEN_MAX  4       /* bytes a PkgLength takes at most */

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap)
{
	*b = (struct aml_buf){ .data = data, .cap = cap };
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(b, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	if (v == 0 || v == 1)
		aml_byte(b, v ? AML_ONE : AML_ZERO);
	else if (v <= UINT8_MAX)
		aml_byte(b, AML_BYTE), aml_le(b, v, 1);
	else if (v <= UINT16_MAX)
		aml_byte(b, AML_WORD), aml_le(b, v, 2);
	else if (v <= UINT32_MAX)
		aml_byte(b, AML_DWORD), aml_le(b, v, 4);
	else
		aml_byte(b, AML_QWORD), aml_le(b, v, 8);
}

void aml_string(struct aml_buf *b, const char *s)
{
	aml_byte(b, AML_STRING);
	aml_bytes(b, s, strlen(s) + 1);
}

/* "PNP0A03": three letters in 5 bits each, then four hex digits, stored big-endian. */
void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 3 && id[i]; i++)
		v = (v << 5) | ((id[i] - 0x40) & 0x1F);
	for (unsigned i = 3; i < 7 && id[i]; i++) {
		char c = id[i];
		v = (v << 4) | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	aml_byte(b, AML_DWORD);
	aml_byte(b, (uint8_t)(v >> 24));
	aml_byte(b, (uint8_t)(v >> 16));
	aml_byte(b, (uint8_t)(v >> 8));
	aml_byte(b, (uint8_t)v);
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	while (*path == '\\' || *path == '^')
		aml_byte(b, (uint8_t)*path++);
	unsigned nseg = *path ? 1 : 0;
	for (const char *c = path; *c; c++)
		nseg += *c == '.';
	if (nseg == 0) {
		aml_byte(b, AML_ZERO); /* NullName */
		return;
	}
	if (nseg == 2)
		aml_byte(b, AML_DUAL_NAME);
	else if (nseg > 2)
		aml_byte(b, AML_MULTI_NAME), aml_byte(b, (uint8_t)nseg);
	while (*path) {
		char seg[4] = { '_', '_', '_', '_' };
		for (unsigned i = 0; *path && *path != '.'; path++)
			if (i < 4)
				seg[i++] = *path;
		aml_bytes(b, seg, 4);
		if (*path == '.')
			path++;
	}
}

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME);
	aml_namestring(b, name);
}

/* Reserves the largest PkgLength; aml_end() writes the real one and closes the gap. */
static size_t aml_pkg_begin(struct aml_buf *b)
{
	size_t mark = b->len;
	aml_le(b, 0, AML_PKGLEN_MAX);
	return mark;
}

void aml_end(struct aml_buf *b, size_t mark)
{
	if (b->overflow)
		return;
	size_t body = b->len - mark - AML_PKGLEN_MAX;
	unsigned n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	size_t total = body + n;
	if (total >= 0x10000000) {
		b->overflow = true;
		return;
	}
	uint8_t *p = b->data + mark;
	memmove(p + n, p + AML_PKGLEN_MAX, body);
	if (n == 1) {
		p[0] = (uint8_t)total;
	} else {
		p[0] = (uint8_t)(((n - 1) << 6) | (total & 0xF));
		for (unsigned i = 1; i < n; i++)
			p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	b->len = mark + n + body;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelem)
{
	aml_byte(b, AML_PACKAGE);
	size_t mark = aml_pkg_begin(b);
	aml_byte(b, nelem);
	return mark;
}

size_t aml_scope_begin(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_SCOPE);
	size_t mark = aml_pkg_begin(b);
	aml_namestring(b, name);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_EXT);
	aml_byte(b, AML_EXT_DEVICE);
	size_t mark = aml_pkg_begin(b);
	aml_namestring(b, name);
	return mark;
}

void aml_buffer(struct aml_buf *b, const void *data, size_t n)
{
	aml_byte(b, AML_BUFFER);
	size_t mark = aml_pkg_begin(b);
	aml_integer(b, n);
	aml_bytes(b, data, n);
	aml_end(b, mark);
}
