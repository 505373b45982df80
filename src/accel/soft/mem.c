/* Software TLB slow paths: translation through the embedder's soft_mem_ops (system mode: the
 * page walk, soft_mmu_fill), accesses that split pages, MMIO (system mode: pages outside RAM
 * are never cached, their accesses go to ops->mmio), and the write check that invalidates
 * decoded code (soft_code_page_written). */
#include "accel/soft/soft_sys.h"
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

/* Host address of byte a for access, filling the TLB; NULL (system mode): a is MMIO at *gpa. */
static uint8_t *fill(struct soft_cpu *c, uint64_t a, unsigned access, uint64_t *gpa)
{
	if (c->system)
		return soft_mmu_fill(c, a, access, gpa);
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

uint8_t *soft_tlb_fill(struct soft_cpu *c, uint64_t a, unsigned access)
{
	return fill(c, a, access, NULL);
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
		uint64_t gpa = 0;
		const uint8_t *p = tag == (a & ~0xfffULL) ? (const uint8_t *)(uintptr_t)(a + e->addend)
							  : fill(c, a, access, &gpa);
		if (SOFT_LIKELY(p != NULL))
			memcpy(d, p, chunk);
		else
			soft_mmio_bytes(c, gpa, d, chunk, false);
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
		/* System mode: a fault there reports the first byte of that page in CR2. */
		uint64_t b = c->system ? (a + n - 1) & ~0xfffULL : a + n - 1;
		if (e->tag_w != ((a + n - 1) & ~0xfffULL))
			fill(c, b, SOFT_ACC_WRITE, NULL);
	}
	while (n) {
		unsigned chunk = 4096 - (unsigned)(a & 0xfff);
		if (chunk > n)
			chunk = n;
		struct soft_tlb_entry *e = soft_tlbe(c, a);
		uint64_t gpa = 0;
		uint8_t *p = e->tag_w == (a & ~0xfffULL) ? (uint8_t *)(uintptr_t)(a + e->addend)
							 : fill(c, a, SOFT_ACC_WRITE, &gpa);
		if (SOFT_LIKELY(p != NULL))
			memcpy(p, s, chunk);
		else
			soft_mmio_bytes(c, gpa, (void *)s, chunk, true);
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
	return fill(c, a, SOFT_ACC_WRITE, NULL); /* NULL for MMIO: a plain read and write */
}

void soft_cpu_tlb_flush(struct soft_cpu *c)
{
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
			struct soft_tlb_entry *e = &c->tlb_set[s][i];
			e->tag_r = e->tag_w = e->tag_x = 1;
			e->addend = 0;
		}
	c->tlb_shift = 12;
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
			fill(c, a, SOFT_ACC_WRITE, NULL); /* the write check comes first */
	}
	uint64_t old = soft_ld(c, a, sz);
	uint64_t nw = f(old, x, y);
	soft_st(c, a, sz, nw);
	*newv = nw;
	return old;
}

/* Size of op's memory operand for the segment limit check (at least 1; FXSAVE's 512 bytes
 * do not fit the operand's size byte and are checked as 1). */
static unsigned mem_size(const struct soft_op *op)
{
	for (unsigned i = 0; i < 4; i++)
		if (op->o[i].kind == SOFT_OPND_MEM)
			return op->o[i].size ? op->o[i].size : 1;
	return 1;
}

uint64_t soft_ea_adjust(const struct soft_cpu *c, const struct soft_op *op, uint64_t a)
{
	if (op->seg & SOFT_SEG_ADDR16)
		a = (uint16_t)a;
	else if (op->seg & SOFT_SEG_ADDR32)
		a = (uint32_t)a;
	if (op->seg & SOFT_SEG_BASED) /* outside 64-bit mode; the CPU is never really const */
		return soft_seg_linear((struct soft_cpu *)(uintptr_t)c,
				       (op->seg & SOFT_SEG_SREG_MASK) >> SOFT_SEG_SREG_SHIFT, a,
				       mem_size(op));
	switch (op->seg & SOFT_SEG_MASK) {
	case SOFT_SEG_FS: return a + c->fs_base;
	case SOFT_SEG_GS: return a + c->gs_base;
	default: return a;
	}
}
