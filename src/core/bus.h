/* Port I/O and MMIO buses: address ranges mapped to a device's {read, write} handlers.
 *
 * Contract: a vCPU exit becomes one bus_dispatch() call. Handlers get the offset inside their
 * range and a length of 1, 2, 4 or 8 already checked against the range; they run on vCPU threads
 * and lock their own device state. Ranges are registered before vCPUs start and never change
 * while they run, so dispatch takes no lock. Unclaimed reads return all ones, writes vanish. */
#ifndef HARDY_CORE_BUS_H
#define HARDY_CORE_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct bus_ops {
	uint64_t (*read)(void *dev, uint64_t offset, unsigned len);
	void (*write)(void *dev, uint64_t offset, unsigned len, uint64_t value);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	struct bus_range range[BUS_MAX_RANGES]; /* sorted by base, non-overlapping */
	unsigned nr;
};

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *dev, const char *name, struct error *err);

/* data holds len bytes, little-endian; returns false when no device claims the address. */
bool bus_dispatch(const struct bus *b, uint64_t addr, bool is_write, uint8_t *data, unsigned len);

#endif
