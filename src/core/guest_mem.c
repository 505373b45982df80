/* Guest RAM: one anonymous host mapping split into regions around the 32-bit MMIO hole. */
#include "core/guest_mem.h"

#include <string.h>
#include <sys/mman.h>

/* Maps len bytes aligned to align: KVM (and the host's THP) can back guest 2 MiB pages with
 * host huge pages only when guest and host addresses agree modulo 2 MiB. */
static void *gmem_map_aligned(size_t len, size_t align)
{
	size_t span = len + align;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = start - (uintptr_t)p, tail = span - head - len;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((uint8_t *)start + len, tail);
	return (void *)start;
}

int gmem_init(struct guest_mem *m, uint64_t ram_size, struct error *err)
{
	memset(m, 0, sizeof(*m));
	void *p = gmem_map_aligned(ram_size, GMEM_HUGE_ALIGN);
	if (p == MAP_FAILED)
		return error_errno(err, "cannot map %llu MiB of guest RAM",
				   (unsigned long long)(ram_size >> 20));
	/* Huge pages make the guest faster when the host has them; a hint only. */
	madvise(p, ram_size, MADV_HUGEPAGE);
	m->map = p;
	m->map_size = ram_size;
	m->ram_size = ram_size;

	uint64_t low = ram_size < GMEM_LOW_LIMIT ? ram_size : GMEM_LOW_LIMIT;
	m->region[0] = (struct gmem_region){ .gpa = 0, .size = low, .host = m->map };
	m->nr_regions = 1;
	if (ram_size > low) {
		m->region[1] = (struct gmem_region){
			.gpa = GMEM_HIGH_BASE, .size = ram_size - low, .host = m->map + low };
		m->nr_regions = 2;
	}
	return 0;
}

void gmem_destroy(struct guest_mem *m)
{
	if (m->map)
		munmap(m->map, m->map_size);
	memset(m, 0, sizeof(*m));
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->region[i];
		/* Written so that no sum can overflow: gpa - r->gpa only once gpa >= r->gpa. */
		if (gpa < r->gpa || gpa - r->gpa > r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *src = gmem_ptr(m, gpa, len);
	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);
	if (!dst)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

uint64_t gmem_low_end(const struct guest_mem *m)
{
	return m->region[0].size;
}
