/* Guest physical memory: the region table and the one checked accessor.
 *
 * Contract: every guest physical address that comes from the guest or from boot code is turned
 * into a host pointer only through gmem_ptr(), which checks that the whole range [gpa, gpa+len)
 * lies inside one RAM region. Nothing else does arithmetic on guest addresses. */
#ifndef HARDY_CORE_GUEST_MEM_H
#define HARDY_CORE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* RAM below 4 GiB stops here; [3 GiB, 4 GiB) is the hole for MMIO, the IOAPIC and the LAPIC. */
#define GMEM_LOW_LIMIT  0xC0000000ULL
#define GMEM_HIGH_BASE  0x100000000ULL
#define GMEM_MIN_SIZE   (64ULL << 20)
#define GMEM_HUGE_ALIGN (2ULL << 20) /* host mapping alignment, for 2 MiB pages */

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct gmem_region region[2]; /* low RAM, and RAM above 4 GiB for larger guests */
	unsigned nr_regions;
	uint64_t ram_size;            /* total guest RAM, what --mem asked for */
	uint8_t *map;                 /* one host mapping backs all regions */
	size_t map_size;
};

int gmem_init(struct guest_mem *m, uint64_t ram_size, struct error *err);
void gmem_destroy(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len), or NULL when any byte of it is outside guest RAM. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies that fail (return -1) instead of touching memory outside guest RAM. */
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);

/* End of the RAM region that starts at 0 (at most GMEM_LOW_LIMIT). */
uint64_t gmem_low_end(const struct guest_mem *m);

#endif
