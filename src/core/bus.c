/* Address-range dispatch for port I/O and MMIO, with a binary search over sorted ranges. */
#include "core/bus.h"

#include <string.h>

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *dev, const char *name, struct error *err)
{
	if (len == 0 || base + len < base)
		return error_set(err, ERR_RUNTIME, "%s bus: bad range for %s", b->name, name);
	if (b->nr == BUS_MAX_RANGES)
		return error_set(err, ERR_RUNTIME, "%s bus: too many devices", b->name);
	unsigned i = 0;
	while (i < b->nr && b->range[i].base < base)
		i++;
	if ((i > 0 && b->range[i - 1].base + b->range[i - 1].len > base) ||
	    (i < b->nr && base + len > b->range[i].base))
		return error_set(err, ERR_RUNTIME, "%s bus: %s overlaps another device at 0x%llx",
				 b->name, name, (unsigned long long)base);
	memmove(&b->range[i + 1], &b->range[i], (b->nr - i) * sizeof(b->range[0]));
	b->range[i] = (struct bus_range){ base, len, ops, dev, name };
	b->nr++;
	return 0;
}

static const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->nr;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct bus_range *r = &b->range[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool bus_dispatch(const struct bus *b, uint64_t addr, bool is_write, uint8_t *data, unsigned len)
{
	const struct bus_range *r = bus_find(b, addr);
	bool sized = len == 1 || len == 2 || len == 4 || len == 8;
	if (!r || !sized || len > r->len - (addr - r->base)) {
		if (!is_write)
			memset(data, 0xFF, len > 8 ? 8 : len);
		return false;
	}
	uint64_t off = addr - r->base;
	if (is_write) {
		uint64_t v = 0;
		memcpy(&v, data, len);
		if (r->ops->write)
			r->ops->write(r->dev, off, len, v);
	} else {
		uint64_t v = r->ops->read ? r->ops->read(r->dev, off, len) : ~0ULL;
		memcpy(data, &v, len);
	}
	return true;
}
