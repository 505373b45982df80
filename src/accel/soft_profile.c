/* The soft CPU's sampling profile (soft_profile.h): an open-addressing table of guest address
 * -> samples per vCPU, grown by doubling; the report sorts the merged table. */
#include "accel/soft_profile.h"

#include <stdlib.h>
#include <string.h>

#define PROFILE_TOP 200 /* addresses in the report */

struct profile_slot {
	uint64_t key;   /* rip << 2 | cpl, plus 1 so that 0 is an empty slot; the two bits shifted out
	                 * are copies of bit 47 (canonical addresses): an arithmetic shift restores them */
	uint64_t count;
};

struct soft_profile {
	struct profile_slot *slot;
	size_t cap, used;
	uint64_t total;
};

struct soft_profile *soft_profile_create(void)
{
	struct soft_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cap = 4096;
	p->slot = calloc(p->cap, sizeof(*p->slot));
	if (!p->slot) {
		free(p);
		return NULL;
	}
	return p;
}

void soft_profile_destroy(struct soft_profile *p)
{
	if (!p)
		return;
	free(p->slot);
	free(p);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
}

static void add(struct soft_profile *p, uint64_t key, uint64_t n);

static void grow(struct soft_profile *p)
{
	struct profile_slot *old = p->slot;
	size_t old_cap = p->cap;
	struct profile_slot *nw = calloc(old_cap * 2, sizeof(*nw));
	if (!nw)
		return; /* keep counting in the full-ish table: probes get longer, nothing is lost */
	p->slot = nw;
	p->cap = old_cap * 2;
	p->used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			add(p, old[i].key, old[i].count);
	free(old);
}

static void add(struct soft_profile *p, uint64_t key, uint64_t n)
{
	if ((p->used + 1) * 4 > p->cap * 3)
		grow(p);
	if (p->used + 1 >= p->cap)
		return; /* could not grow and full: drop the sample */
	for (size_t i = slot_of(key, p->cap);; i = (i + 1) & (p->cap - 1)) {
		if (p->slot[i].key == key) {
			p->slot[i].count += n;
			return;
		}
		if (!p->slot[i].key) {
			p->slot[i] = (struct profile_slot){ key, n };
			p->used++;
			return;
		}
	}
}

void soft_profile_sample(struct soft_profile *p, uint64_t rip, unsigned cpl)
{
	add(p, (rip << 2 | (cpl & 3)) + 1, 1);
	p->total++;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct profile_slot *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

void soft_profile_write(struct soft_profile *const *per_vcpu, unsigned n, FILE *out)
{
	struct soft_profile *all = soft_profile_create();
	if (!all)
		return;
	for (unsigned v = 0; v < n; v++) {
		if (!per_vcpu[v])
			continue;
		for (size_t i = 0; i < per_vcpu[v]->cap; i++)
			if (per_vcpu[v]->slot[i].key)
				add(all, per_vcpu[v]->slot[i].key, per_vcpu[v]->slot[i].count);
		all->total += per_vcpu[v]->total;
	}
	qsort(all->slot, all->cap, sizeof(*all->slot), by_count_desc);
	fprintf(out, "# hardy --soft-profile: %llu samples, one every %u guest instructions, "
		"%u vCPU(s)\n# samples  percent  cumul  address  cpl\n",
		(unsigned long long)all->total, SOFT_PROFILE_PERIOD, n);
	uint64_t cumul = 0;
	for (size_t i = 0; i < all->cap && i < PROFILE_TOP && all->slot[i].key; i++) {
		uint64_t key = all->slot[i].key - 1;
		cumul += all->slot[i].count;
		fprintf(out, "%9llu  %6.2f%%  %5.1f%%  %#018llx  %u\n",
			(unsigned long long)all->slot[i].count,
			100.0 * (double)all->slot[i].count / (double)all->total,
			100.0 * (double)cumul / (double)all->total,
			(unsigned long long)((int64_t)key >> 2), (unsigned)(key & 3));
	}
	soft_profile_destroy(all);
}
