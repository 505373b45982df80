/* Guest page table of the user-mode runner: per-page protections, and the soft_mem_ops
 * translate() that the CPU's TLB calls on a miss. Guest virtual = host virtual. */
#include <stdlib.h>

#include "runner.h"

static uint8_t *leaf(struct runner *r, uint64_t page, bool create)
{
	uint64_t i1 = (page >> RUN_L2_BITS) & ((1u << RUN_L1_BITS) - 1);
	if (!r->pt.l1[i1] && create)
		r->pt.l1[i1] = calloc(1u << RUN_L2_BITS, 1);
	return r->pt.l1[i1];
}

void run_pt_set(struct runner *r, uint64_t addr, uint64_t len, uint8_t prot)
{
	for (uint64_t p = addr >> 12; p < (addr + len + 4095) >> 12; p++) {
		uint8_t *l = leaf(r, p, true);
		if (l)
			l[p & ((1u << RUN_L2_BITS) - 1)] = prot;
	}
}

uint8_t run_pt_get(const struct runner *r, uint64_t addr)
{
	uint64_t p = addr >> 12;
	if (p >> (RUN_L1_BITS + RUN_L2_BITS))
		return 0;
	uint8_t *l = r->pt.l1[(p >> RUN_L2_BITS) & ((1u << RUN_L1_BITS) - 1)];
	return l ? l[p & ((1u << RUN_L2_BITS) - 1)] : 0;
}

bool run_pt_range(const struct runner *r, uint64_t addr, uint64_t len, uint8_t need)
{
	if (addr + len < addr)
		return false;
	for (uint64_t p = addr >> 12; p < (addr + len + 4095) >> 12; p++)
		if ((run_pt_get(r, p << 12) & need) != need)
			return false;
	return true;
}

static int translate(void *ctx, uint64_t vaddr, unsigned access, uint8_t **host)
{
	struct runner *r = ctx;
	uint8_t need = RUN_PROT_OWNED;
	if (access & SOFT_ACC_READ)
		need |= RUN_PROT_R;
	if (access & SOFT_ACC_WRITE)
		need |= RUN_PROT_W;
	if (access & SOFT_ACC_EXEC)
		need |= RUN_PROT_X;
	if ((run_pt_get(r, vaddr) & need) != need)
		return -1;
	*host = (uint8_t *)(uintptr_t)(vaddr & ~0xfffULL);
	return 0;
}

const struct soft_mem_ops run_mem_ops = { .translate = translate };
