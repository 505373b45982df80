/* A small AML encoder for the DSDT: integers, strings, name strings, Name, Package, Scope and
 * Device, with PkgLength fixed up when an open object ends. It writes into a caller's buffer and
 * remembers overflow instead of failing each call, so a builder checks once at the end. */
#ifndef HARDY_ARCH_X86_AML_H
#define HARDY_ARCH_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	bool overflow;   /* something did not fit: the contents are not usable */
};

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap);
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/* Data objects: the shortest integer encoding (ZeroOp, OneOp, Byte/Word/DWord/QWordConst),
 * a String, an EISA id such as "PNP0A03" as a DWordConst. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s);
void aml_eisaid(struct aml_buf *b, const char *id);

/* Buffer(n) { data }: resource templates (_CRS) are buffers. */
void aml_buffer(struct aml_buf *b, const void *data, size_t n);

/* A NameString: "\\_SB.PCI0", "_S5", "^FOO"; segments shorter than 4 are padded with '_'. */
void aml_namestring(struct aml_buf *b, const char *path);

/* Name(name, <object>): the caller appends the object right after. */
void aml_name(struct aml_buf *b, const char *name);

/* Objects with a PkgLength: *_begin returns a mark that aml_end() takes once the contents have
 * been appended. Nesting is fine; end them innermost first. */
size_t aml_package_begin(struct aml_buf *b, uint8_t nelem);
size_t aml_scope_begin(struct aml_buf *b, const char *name);
size_t aml_device_begin(struct aml_buf *b, const char *name);
void aml_end(struct aml_buf *b, size_t mark);

#endif
