/* The machine's allocatable resources: MMIO windows in the hole below 4 GiB, interrupt lines
 * (GSIs) for devices, and GSIs for MSI routes. Devices ask for what they need instead of
 * hard-coding addresses or lines; the builder decides the ranges (arch/x86/layout.h on x86).
 * Main thread, while the machine is built. Nothing is ever given back: a failed build tears
 * down the whole VM. */
#ifndef HARDY_CORE_RESOURCES_H
#define HARDY_CORE_RESOURCES_H

#include <stdint.h>

#include "util/error.h"

struct resources {
	uint64_t mmio_next, mmio_end; /* [mmio_next, mmio_end) is still free */
	unsigned gsi_next, gsi_end;   /* device interrupt lines */
	unsigned msi_next, msi_end;   /* GSI numbers for MSI routes */
};

void resources_init(struct resources *r, uint64_t mmio_base, uint64_t mmio_end,
		    unsigned gsi_first, unsigned gsi_end, unsigned msi_first, unsigned msi_end);

/* A window of size bytes aligned to align (a power of two, at least 4 KiB is sensible). */
int resources_mmio(struct resources *r, uint64_t size, uint64_t align, uint64_t *base,
		   struct error *err);
int resources_gsi(struct resources *r, unsigned *gsi, struct error *err);
/* count consecutive MSI GSIs; *first is the first. */
int resources_msi(struct resources *r, unsigned count, unsigned *first, struct error *err);

#endif
