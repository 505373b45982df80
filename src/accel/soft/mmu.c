/* System-mode memory: the guest's page walk from linear to guest-physical addresses (32-bit
 * paging with PSE/PSE-36, PAE, 4-level; Intel SDM vol. 3 ch. 4) with its permission and
 * reserved-bit checks, A/D bits, #PF; the TLB fill and flushes on top of it (one TLB set per
 * privilege class, global pages, INVLPG); guest-physical RAM through the machine's ram_page op
 * and everything else through its mmio op. */
#include <setjmp.h>
#include <stdio.h>

#include "accel/soft/soft_sys.h"
#include "accel/soft/soft_code.h"

#define PHYS_MASK ((1ULL << SOFT_MAXPHYADDR) - 1)
#define ADDR_MASK (PHYS_MASK & ~0xfffULL)
#define RSVD_HIGH (0x000fffffffffffffULL & ~PHYS_MASK) /* bits 51:MAXPHYADDR */
#define PTE_P 0x1ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_G 0x100ULL
#define PTE_XD (1ULL << 63)
#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_ID 16u

/* How an access is checked: CPL 3 (explicit), implicit supervisor (SMAP ignores AC), or a
 * diagnostic probe that changes nothing. */
enum { MMU_USER = 1, MMU_IMPLICIT = 2, MMU_PROBE = 4 };

struct walk {
	uint64_t gpa;   /* of the byte */
	unsigned shift; /* page size */
	bool global, user_page;
};

/* A paging-structure entry as the walk read it, for the A/D update. */
struct pte {
	void *p;
	uint64_t v, gpa;
	bool wide;
};

static uint64_t pte_read(struct soft_cpu *c, uint64_t gpa, bool wide, struct pte *e)
{
	uint8_t *page = c->sys.ops->ram_page(c->sys.ctx, gpa & ~0xfffULL);
	e->wide = wide;
	e->gpa = gpa;
	e->p = page ? page + (gpa & 0xfff) : NULL;
	/* Tables outside RAM read as not present. */
	if (!e->p)
		e->v = 0;
	else if (wide)
		e->v = __atomic_load_n((uint64_t *)e->p, __ATOMIC_ACQUIRE);
	else
		e->v = __atomic_load_n((uint32_t *)e->p, __ATOMIC_ACQUIRE);
	return e->v;
}

/* Set A (and D) as hardware does: atomically, and only if the entry is still what the walk
 * read (false: another CPU changed it, walk again). */
static bool pte_set(struct soft_cpu *c, struct pte *e, uint64_t bits)
{
	if ((e->v & bits) == bits)
		return true;
	bool ok;
	if (e->wide) {
		uint64_t old = e->v;
		ok = __atomic_compare_exchange_n((uint64_t *)e->p, &old, e->v | bits, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	} else {
		uint32_t old = (uint32_t)e->v;
		ok = __atomic_compare_exchange_n((uint32_t *)e->p, &old, (uint32_t)(e->v | bits),
						 false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	}
	if (ok)
		soft_vm_code_write(c, e->gpa & ~0xfffULL);
	return ok;
}

/* Linear to guest-physical for one access; false with the #PF error code in *err. */
static bool walk(struct soft_cpu *c, uint64_t la, unsigned acc, unsigned mode, struct walk *w,
		 uint32_t *err)
{
	const struct soft_sys *s = &c->sys;
	bool write = acc & SOFT_ACC_WRITE, fetch = acc & SOFT_ACC_EXEC, user = mode & MMU_USER;
	bool lma = s->efer & SOFT_EFER_LMA;
	w->shift = 12;
	w->global = false;
	w->user_page = true;
	if (!(s->cr0 & SOFT_CR0_PG)) {
		w->gpa = (uint32_t)la;
		return true;
	}
	bool pae = s->cr4 & SOFT_CR4_PAE, pse = s->cr4 & SOFT_CR4_PSE;
	bool nxe = pae && (s->efer & SOFT_EFER_NXE);
	/* I/D is reported only where execute protection exists (SDM 4.7). */
	uint32_t ebase = (write ? PF_W : 0) | (user ? PF_U : 0) |
			 (fetch && ((s->cr4 & SOFT_CR4_SMEP) || nxe) ? PF_ID : 0);
	if (!lma)
		la = (uint32_t)la;
restart:;
	struct pte ent[4];
	unsigned n = 0, level, shift;
	uint64_t table, leaf, rw = 1, us = 1, xd = 0;
	bool wide = pae;
	if (!pae) {
		table = s->cr3 & 0xfffff000;
		level = 2;
	} else if (lma) {
		table = s->cr3 & ADDR_MASK;
		level = 4;
	} else {
		/* PAE: the PDPTE (hardware loads the four at MOV CR3; read here at walk time). */
		struct pte pd;
		uint64_t v = pte_read(c, (s->cr3 & 0xffffffe0) + ((la >> 30) & 3) * 8, true, &pd);
		if (!(v & PTE_P))
			goto not_present;
		if (v & (RSVD_HIGH | PTE_XD | 0x1e6))
			goto reserved;
		table = v & ADDR_MASK;
		level = 2;
	}
	for (;; level--) {
		shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		uint64_t idx = (la >> shift) & (wide ? 511 : 1023);
		struct pte *e = &ent[n++];
		uint64_t v = pte_read(c, table + idx * (wide ? 8 : 4), wide, e);
		if (!(v & PTE_P))
			goto not_present;
		bool ps = level > 1 && level < 4 && (v & PTE_PS) && (wide || pse);
		uint64_t rsvd = 0;
		if (wide) {
			rsvd = RSVD_HIGH | (nxe ? 0 : PTE_XD);
			if (level == 4)
				rsvd |= PTE_PS;
			else if (ps)
				rsvd |= level == 3 ? 0x3fffe000ULL : 0x1fe000ULL; /* 1 GiB, 2 MiB */
		} else if (ps) {
			rsvd = 1u << 21; /* PSE-36: bits 20:13 are address bits 39:32 */
		}
		if (v & rsvd)
			goto reserved;
		rw &= v >> 1;
		us &= v >> 2;
		if (nxe)
			xd |= v >> 63;
		if (ps || level == 1) {
			leaf = v;
			break;
		}
		table = v & (wide ? ADDR_MASK : 0xfffff000);
	}
	rw &= 1;
	us &= 1;
	xd &= 1;
	bool ok;
	if (user) {
		ok = us && (!write || rw);
	} else {
		ok = !(write && !rw && (s->cr0 & SOFT_CR0_WP));
		if (us && fetch && (s->cr4 & SOFT_CR4_SMEP))
			ok = false;
		if (us && !fetch && (s->cr4 & SOFT_CR4_SMAP) &&
		    ((mode & MMU_IMPLICIT) || !(c->rflags & SOFT_AC)))
			ok = false;
	}
	if (fetch && xd)
		ok = false;
	if (!ok) {
		*err = ebase | PF_P;
		return false;
	}
	if (!(mode & MMU_PROBE))
		for (unsigned i = 0; i < n; i++)
			if (!pte_set(c, &ent[i], PTE_A | (i == n - 1 && write ? PTE_D : 0)))
				goto restart;
	uint64_t psz = 1ULL << shift, base;
	if (!wide && shift == 22)
		base = (leaf & 0xffc00000) | ((leaf >> 13) & 0xff) << 32;
	else
		base = leaf & (wide ? ADDR_MASK : 0xfffff000) & ~(psz - 1);
	w->gpa = base | (la & (psz - 1));
	w->shift = shift;
	w->global = (leaf & PTE_G) && (s->cr4 & SOFT_CR4_PGE);
	w->user_page = us;
	return true;
not_present:
	*err = ebase;
	return false;
reserved:
	*err = ebase | PF_P | PF_RSVD;
	return false;
}

static bool canonical(const struct soft_cpu *c, uint64_t la)
{
	return !(c->sys.efer & SOFT_EFER_LMA) || (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* Walk or raise: #GP(0) for a non-canonical address (#SS for the stack is not told apart),
 * #PF with CR2 otherwise. */
static void translate(struct soft_cpu *c, uint64_t la, unsigned acc, unsigned mode,
		      struct walk *w)
{
	uint32_t err;
	if (!canonical(c, la))
		soft_raise(c, SOFT_VEC_GP, 0, la);
	if (!walk(c, la, acc, mode, w, &err)) {
		c->sys.cr2 = la;
		soft_raise(c, SOFT_VEC_PF, err, la);
	}
}

static _Noreturn void fetch_outside_ram(struct soft_cpu *c, uint64_t la, uint64_t gpa)
{
	snprintf(c->error_msg, sizeof(c->error_msg),
		 "code fetch at linear %#llx: guest-physical %#llx is not RAM",
		 (unsigned long long)la, (unsigned long long)gpa);
	c->exit_reason = SOFT_EXIT_ERROR;
	if (c->cur_op)
		c->rip = soft_op_rip(c->cur_op);
	longjmp(c->fault_jmp, 1);
}

static void tlb_reset(struct soft_tlb_entry *e)
{
	e->tag_r = e->tag_w = e->tag_x = 1;
	e->addend = 0;
}

uint8_t *soft_mmu_fill(struct soft_cpu *c, uint64_t a, unsigned access, uint64_t *gpa)
{
	unsigned set = c->sys.cpl == 3;
	if (c->tlb != c->tlb_set[set])
		soft_tlb_cpl_changed(c); /* a CPL change nobody reported */
	struct walk w;
	translate(c, a, access, set ? MMU_USER : 0, &w);
	uint8_t *host = c->sys.ops->ram_page(c->sys.ctx, w.gpa & ~0xfffULL);
	if (!host) {
		if (access & SOFT_ACC_EXEC)
			fetch_outside_ram(c, a, w.gpa);
		if (gpa)
			*gpa = w.gpa;
		return NULL;
	}
	uint64_t page = a & ~0xfffULL;
	unsigned i = (unsigned)(a >> 12) & (SOFT_TLB_SIZE - 1);
	struct soft_tlb_entry *e = &c->tlb[i];
	struct soft_tlb_aux *x = &c->tlb_aux[set][i];
	uintptr_t addend = (uintptr_t)host - (uintptr_t)page;
	if (e->addend != addend || (e->tag_r != page && e->tag_w != page && e->tag_x != page))
		tlb_reset(e);
	e->addend = addend;
	x->gpa = w.gpa & ~0xfffULL;
	x->global = w.global;
	x->shift = w.shift;
	if (w.shift > c->tlb_shift)
		c->tlb_shift = w.shift;
	/* With SMAP, a supervisor access to a user page depends on EFLAGS.AC: check each one. */
	bool cache = set || !w.user_page || !(c->sys.cr4 & SOFT_CR4_SMAP) ||
		     (access & SOFT_ACC_EXEC);
	if (access & SOFT_ACC_WRITE) {
		/* A write to a page holding decoded code drops that code (every CPU's) first. */
		if (soft_vm_code_write(c, x->gpa))
			e->tag_x = 1;
		if (cache)
			e->tag_w = e->tag_r = page; /* writable implies readable */
	} else if (access & SOFT_ACC_EXEC) {
		e->tag_x = page;
	} else if (cache) {
		e->tag_r = page;
	}
	return host + (a & 0xfff);
}

int soft_mmu_translate(void *cpu, uint64_t linear, unsigned access, uint8_t **host_page)
{
	struct soft_cpu *c = cpu;
	struct walk w;
	uint32_t err;
	if (!canonical(c, linear) ||
	    !walk(c, linear, access, MMU_PROBE | (c->sys.cpl == 3 ? MMU_USER : 0), &w, &err))
		return -1;
	uint8_t *p = c->sys.ops->ram_page(c->sys.ctx, w.gpa & ~0xfffULL);
	if (!p)
		return -1;
	*host_page = p;
	return 0;
}

/* n bytes at guest-physical gpa, within one page: RAM (a write there may hit decoded code) or
 * MMIO in pieces of at most 8 bytes. */
static void phys_access(struct soft_cpu *c, uint64_t gpa, uint8_t *buf, unsigned n, bool write)
{
	uint8_t *host = c->sys.ops->ram_page(c->sys.ctx, gpa & ~0xfffULL);
	if (!host) {
		soft_mmio_bytes(c, gpa, buf, n, write);
		return;
	}
	if (write) {
		soft_vm_code_write(c, gpa & ~0xfffULL);
		memcpy(host + (gpa & 0xfff), buf, n);
	} else {
		memcpy(buf, host + (gpa & 0xfff), n);
	}
}

void soft_mmio_bytes(struct soft_cpu *c, uint64_t gpa, void *buf, unsigned n, bool write)
{
	uint8_t *b = buf;
	while (n) {
		unsigned len = n > 8 ? 8 : n;
		c->sys.ops->mmio(c->sys.ctx, gpa, write, b, len);
		gpa += len;
		b += len;
		n -= len;
	}
}

/* An access of n <= 8 bytes, walked (both pages before anything is accessed) and done through
 * guest-physical memory without the TLB. */
static void walked_access(struct soft_cpu *c, uint64_t la, uint8_t *buf, unsigned n,
			  bool write, unsigned mode)
{
	unsigned first = 4096 - (unsigned)(la & 0xfff);
	if (first > n)
		first = n;
	unsigned acc = write ? SOFT_ACC_WRITE : SOFT_ACC_READ;
	struct walk w[2];
	translate(c, la, acc, mode, &w[0]);
	if (first < n)
		translate(c, la + first, acc, mode, &w[1]);
	phys_access(c, w[0].gpa, buf, first, write);
	if (first < n)
		phys_access(c, w[1].gpa, buf + first, n - first, write);
}

uint64_t soft_mmio_load(struct soft_cpu *c, uint64_t linear, unsigned len)
{
	uint64_t v = 0;
	walked_access(c, linear, (uint8_t *)&v, len, false, c->sys.cpl == 3 ? MMU_USER : 0);
	return v;
}

void soft_mmio_store(struct soft_cpu *c, uint64_t linear, unsigned len, uint64_t v)
{
	walked_access(c, linear, (uint8_t *)&v, len, true, c->sys.cpl == 3 ? MMU_USER : 0);
}

/* Implicit accesses may use the supervisor TLB: its entries for user pages never exist while
 * SMAP is on (not cached, and toggling SMAP flushes), so a hit is what a walk would allow. */
uint64_t soft_ld_sys(struct soft_cpu *c, uint64_t linear, unsigned sz)
{
	struct soft_tlb_entry *e = soft_tlbe(c, linear);
	if (c->tlb == c->tlb_set[0] && e->tag_r == (linear & ~0xfffULL) &&
	    (linear & 0xfff) <= 4096u - sz) {
		uint64_t v = 0;
		memcpy(&v, (const void *)(uintptr_t)(linear + e->addend), sz);
		return v;
	}
	uint64_t v = 0;
	walked_access(c, linear, (uint8_t *)&v, sz, false, MMU_IMPLICIT);
	return v;
}

void soft_st_sys(struct soft_cpu *c, uint64_t linear, unsigned sz, uint64_t v)
{
	struct soft_tlb_entry *e = soft_tlbe(c, linear);
	if (c->tlb == c->tlb_set[0] && e->tag_w == (linear & ~0xfffULL) &&
	    (linear & 0xfff) <= 4096u - sz) {
		memcpy((void *)(uintptr_t)(linear + e->addend), &v, sz);
		return;
	}
	walked_access(c, linear, (uint8_t *)&v, sz, true, MMU_IMPLICIT);
}

/* ---- flushes ---- */

static void select_set(struct soft_cpu *c)
{
	unsigned set = c->system && c->sys.cpl == 3;
	c->tlb = c->tlb_set[set];
	c->code_priv = set;
}

void soft_tlb_flush_all(struct soft_cpu *c)
{
	select_set(c);
	soft_cpu_tlb_flush(c);
	c->chain_left = 0;
}

void soft_tlb_flush_nonglobal(struct soft_cpu *c)
{
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < SOFT_TLB_SIZE; i++)
			if (!c->tlb_aux[s][i].global)
				tlb_reset(&c->tlb_set[s][i]);
	soft_code_jump_cache_clear_nonglobal(c);
	c->chain_left = 0;
}

static uint64_t entry_page(const struct soft_tlb_entry *e)
{
	return e->tag_r != 1 ? e->tag_r : e->tag_w != 1 ? e->tag_w : e->tag_x;
}

void soft_tlb_flush_page(struct soft_cpu *c, uint64_t linear)
{
	uint64_t page = linear & ~0xfffULL;
	struct soft_code_cache *cc = c->cache;
	if (c->tlb_shift == 12) {
		unsigned i = (unsigned)(linear >> 12) & (SOFT_TLB_SIZE - 1);
		for (unsigned s = 0; s < 2; s++)
			if (entry_page(&c->tlb_set[s][i]) == page)
				tlb_reset(&c->tlb_set[s][i]);
		/* The jump-cache slots of this page's rips. */
		for (unsigned p = 0; p < 2; p++)
			for (unsigned k = 0; k < 2048; k++) {
				struct soft_block **slot = soft_jc_slot(cc, p, page + 2 * k);
				if (*slot && ((*slot)->va & ~0xfffULL) == page)
					*slot = NULL;
			}
	} else {
		/* Large pages are cached as 4 KiB pieces: drop every piece the address's page
		 * could have (an over-flush of 4 KiB entries there is harmless). */
		uint64_t m = ~((1ULL << c->tlb_shift) - 1);
		for (unsigned s = 0; s < 2; s++)
			for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
				struct soft_tlb_entry *e = &c->tlb_set[s][i];
				if ((entry_page(e) & m) == (linear & m))
					tlb_reset(e);
			}
		soft_code_jump_cache_clear(c);
	}
	c->chain_left = 0;
}

void soft_tlb_cpl_changed(struct soft_cpu *c)
{
	struct soft_tlb_entry *t = c->tlb_set[c->system && c->sys.cpl == 3];
	if (c->tlb == t)
		return;
	select_set(c); /* and with it the jump cache of the new privilege */
	c->chain_left = 0;
}

void soft_mmu_paging_changed(struct soft_cpu *c, uint64_t old_cr0, uint64_t old_cr4,
			     uint64_t old_efer)
{
	const struct soft_sys *s = &c->sys;
	if (((old_cr0 ^ s->cr0) & (SOFT_CR0_PG | SOFT_CR0_WP | SOFT_CR0_PE)) ||
	    ((old_cr4 ^ s->cr4) & (SOFT_CR4_PGE | SOFT_CR4_PAE | SOFT_CR4_PSE | SOFT_CR4_SMEP |
				   SOFT_CR4_SMAP)) ||
	    ((old_efer ^ s->efer) & (SOFT_EFER_NXE | SOFT_EFER_LMA)))
		soft_tlb_flush_all(c);
}
