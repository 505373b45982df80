/* Bump allocators over the ranges the builder gave, with overflow-safe bounds checks. */
#include "core/resources.h"

void resources_init(struct resources *r, uint64_t mmio_base, uint64_t mmio_end,
		    unsigned gsi_first, unsigned gsi_end, unsigned msi_first, unsigned msi_end)
{
	*r = (struct resources){ .mmio_next = mmio_base, .mmio_end = mmio_end,
				 .gsi_next = gsi_first, .gsi_end = gsi_end,
				 .msi_next = msi_first, .msi_end = msi_end };
}

int resources_mmio(struct resources *r, uint64_t size, uint64_t align, uint64_t *base,
		   struct error *err)
{
	if (size == 0 || align == 0 || (align & (align - 1)))
		return error_set(err, ERR_RUNTIME, "MMIO window: bad size or alignment");
	uint64_t start = (r->mmio_next + align - 1) & ~(align - 1);
	if (start < r->mmio_next || start > r->mmio_end || size > r->mmio_end - start)
		return error_set(err, ERR_RUNTIME, "MMIO hole full: no room for 0x%llx bytes",
				 (unsigned long long)size);
	*base = start;
	r->mmio_next = start + size;
	return 0;
}

int resources_gsi(struct resources *r, unsigned *gsi, struct error *err)
{
	if (r->gsi_next >= r->gsi_end)
		return error_set(err, ERR_RUNTIME, "no free interrupt line for another device");
	*gsi = r->gsi_next++;
	return 0;
}

int resources_msi(struct resources *r, unsigned count, unsigned *first, struct error *err)
{
	if (count == 0 || count > r->msi_end - r->msi_next || r->msi_next > r->msi_end)
		return error_set(err, ERR_RUNTIME, "no room for %u more MSI vectors", count);
	*first = r->msi_next;
	r->msi_next += count;
	return 0;
}
