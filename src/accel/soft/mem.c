/* Software TLB slow paths: translation through the embedder's soft_mem_ops, accesses that split
 * pages, and the write check that invalidates decoded code (soft_code_page_written). */
#include "accel/soft/soft_internal.h"
#include "accel/soft/soft_code.h"

static uint32_t pf_error(unsigned access)
{
	uint32_t e = 4; /* user */
	if (access & SOFT_ACC_WRITE)
		e |= 2;
	if (access & SOFT_ACC_EXEC)
		e |= 16;
	return e;
}

uint8_t *soft_tlb_fill(struct soft_cpu *c, uint64_t a, unsigned access)
{
	uint64_t page = a & ~0xfffULL;
	uint8_t *host;
	if (c->mem->translate(c->mem_ctx, page, access, &host) != 0)
		soft_raise(c, SOFT_VEC_PF, pf_error(access), a);
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	uintptr_t addend = (uintptr_t)host - (uintptr_t)page;
	if (e->addend != addend || (e->tag_r != page && e->tag_w != page && e->tag_x != page)) {
		e->tag_r = e->tag_w = e->tag_x = 1;
		e->addend = addend;
	}
	if (access & SOFT_ACC_WRITE) {
		/* A write to a page holding decoded code drops that code first. */
		if (soft_code_page_written(c, (uintptr_t)host))
			e->tag_x = 1;
		e->tag_w = page;
	} else if (access & SOFT_ACC_EXEC) {
		e->tag_x = page;
	} else {
		e->tag_r = page;
	}
	return host + (a & 0xfff);
}

void soft_ld_bytes(struct soft_cpu *c, uint64_t a, void *dst, unsigned n, unsigned access)
{
	uint8_t *d = dst;
	while (n) {
		unsigned chunk = 4096 - (unsigned)(a & 0xfff);
		if (chunk > n)
			chunk = n;
		struct soft_tlb_entry *e = soft_tlbe(c, a);
		uint64_t tag = access == SOFT_ACC_EXEC ? e->tag_x : e->tag_r;
		const uint8_t *p = tag == (a & ~0xfffULL) ? (const uint8_t *)(uintptr_t)(a + e->addend)
							  : soft_tlb_fill(c, a, access);
		memcpy(d, p, chunk);
		d += chunk;
		a += chunk;
		n -= chunk;
	}
}

void soft_st_bytes(struct soft_cpu *c, uint64_t a, const void *src, unsigned n)
{
	const uint8_t *s = src;
	/* Check both pages before writing anything, so a fault leaves memory unchanged. */
	if ((a & 0xfff) + n > 4096) {
		struct soft_tlb_entry *e = soft_tlbe(c, a + n - 1);
		if (e->tag_w != ((a + n - 1) & ~0xfffULL))
			soft_tlb_fill(c, a + n - 1, SOFT_ACC_WRITE);
	}
	while (n) {
		unsigned chunk = 4096 - (unsigned)(a & 0xfff);
		if (chunk > n)
			chunk = n;
		struct soft_tlb_entry *e = soft_tlbe(c, a);
		uint8_t *p = e->tag_w == (a & ~0xfffULL) ? (uint8_t *)(uintptr_t)(a + e->addend)
							 : soft_tlb_fill(c, a, SOFT_ACC_WRITE);
		memcpy(p, s, chunk);
		s += chunk;
		a += chunk;
		n -= chunk;
	}
}

uint64_t soft_ld_slow(struct soft_cpu *c, uint64_t a, unsigned sz)
{
	uint64_t v = 0;
	soft_ld_bytes(c, a, &v, sz, SOFT_ACC_READ);
	return v;
}

void soft_st_slow(struct soft_cpu *c, uint64_t a, unsigned sz, uint64_t v)
{
	soft_st_bytes(c, a, &v, sz);
}

void *soft_rmw_ptr(struct soft_cpu *c, uint64_t a, unsigned sz)
{
	if ((a & 0xfff) + sz > 4096)
		return NULL;
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	if (e->tag_w == (a & ~0xfffULL))
		return (void *)(uintptr_t)(a + e->addend);
	return soft_tlb_fill(c, a, SOFT_ACC_WRITE);
}

void soft_cpu_tlb_flush(struct soft_cpu *c)
{
	for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
		c->tlb[i].tag_r = c->tlb[i].tag_w = c->tlb[i].tag_x = 1;
		c->tlb[i].addend = 0;
	}
	soft_code_jump_cache_clear(c);
}

#define SOFT_CAS_LOOP(T)                                                                  \
	do {                                                                              \
		T *p = ptr, old = __atomic_load_n(p, __ATOMIC_RELAXED), nw;               \
		do {                                                                      \
			nw = (T)f(old, x, y);                                             \
		} while (!__atomic_compare_exchange_n(p, &old, nw, false, __ATOMIC_SEQ_CST, \
						      __ATOMIC_RELAXED));                 \
		*newv = nw;                                                               \
		return old;                                                               \
	} while (0)

uint64_t soft_rmw(struct soft_cpu *c, uint64_t a, unsigned sz, bool locked, soft_rmw_fn f,
		  uint64_t x, uint64_t y, uint64_t *newv)
{
	void *ptr = locked ? soft_rmw_ptr(c, a, sz) : NULL;
	if (ptr && ((uintptr_t)ptr & (sz - 1)) == 0) {
		switch (sz) {
		case 1: SOFT_CAS_LOOP(uint8_t);
		case 2: SOFT_CAS_LOOP(uint16_t);
		case 4: SOFT_CAS_LOOP(uint32_t);
		default: SOFT_CAS_LOOP(uint64_t);
		}
	}
	/* Unlocked, or a split lock: plain read and write (a split lock is not atomic). */
	if (ptr == NULL && (a & 0xfff) + sz <= 4096) {
		struct soft_tlb_entry *e = soft_tlbe(c, a);
		if (e->tag_w != (a & ~0xfffULL))
			soft_tlb_fill(c, a, SOFT_ACC_WRITE);
	}
	uint64_t old = soft_ld(c, a, sz);
	uint64_t nw = f(old, x, y);
	soft_st(c, a, sz, nw);
	*newv = nw;
	return old;
}

uint64_t soft_ea_adjust(const struct soft_cpu *c, const struct soft_op *op, uint64_t a)
{
	if (op->seg & SOFT_SEG_ADDR16)
		a = (uint16_t)a;
	else if (op->seg & SOFT_SEG_ADDR32)
		a = (uint32_t)a;
	switch (op->seg & SOFT_SEG_MASK) {
	case SOFT_SEG_FS: return a + c->fs_base;
	case SOFT_SEG_GS: return a + c->gs_base;
	default: return a;
	}
}
