/* The system CPU's memory layer on the bare rig: page walks (4-level, PAE, 32-bit, large pages),
 * every #PF error-code bit and CR2, WP, NX, SMEP, SMAP with EFLAGS.AC, A/D bits, TLB flushes
 * (CR3 vs global pages, INVLPG), TLB sets per privilege, MMIO routing, and decoded code shared
 * by two CPUs of one VM. Accesses are made either directly through the memory layer (with the
 * CPU's fault_jmp caught here: soft_raise still exits with the vector, error and address) or by
 * running code, on the JIT and on the interpreter. */
#include <setjmp.h>

#include "check.h"
#include "soft_sys_rig.h"
#include "accel/soft/soft_sys.h"

#define P 0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define PA 0x20ULL
#define PD 0x40ULL
#define G 0x100ULL
#define XD (1ULL << 63)
#define PT_BASE 0x400000u
#define MMIO_GPA 0xfee00000ULL

static uint64_t pt_next;

static uint64_t pt_page(struct rig *r)
{
	uint64_t p = pt_next;
	pt_next += 4096;
	memset(r->ram + p, 0, 4096);
	return p;
}

static uint64_t *ram64(struct rig *r, uint64_t gpa)
{
	return (uint64_t *)(void *)(r->ram + gpa);
}

static uint32_t *ram32(struct rig *r, uint64_t gpa)
{
	return (uint32_t *)(void *)(r->ram + gpa);
}

/* The 4-level entry for la at level (4 PML4E .. 1 PTE), creating tables (P RW US) above it. */
static uint64_t *pte64(struct rig *r, uint64_t pml4, uint64_t la, int level)
{
	uint64_t table = pml4;
	for (int l = 4; l > level; l--) {
		uint64_t *e = ram64(r, table + ((la >> (12 + 9 * (l - 1))) & 511) * 8);
		if (!(*e & P))
			*e = pt_page(r) | P | RW | US;
		table = *e & 0xffffffffff000ULL;
	}
	return ram64(r, table + ((la >> (12 + 9 * (level - 1))) & 511) * 8);
}

/* Map la to gpa with a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static void map64(struct rig *r, uint64_t pml4, uint64_t la, uint64_t gpa, uint64_t flags,
		  int level)
{
	*pte64(r, pml4, la, level) = gpa | flags | (level > 1 ? 0x80 : 0);
}

/* Long mode on fresh tables of our own: the first 2 MiB identity-mapped for the kernel (code
 * at RIG_CODE, stack), supervisor only. Returns the PML4. */
static uint64_t long_mode(struct rig *r)
{
	rig_long_mode(r);
	pt_next = PT_BASE;
	uint64_t pml4 = pt_page(r);
	map64(r, pml4, 0, 0, P | RW, 2);
	r->cpu->sys.cr3 = pml4;
	soft_cpu_sys_sync(r->cpu);
	return pml4;
}

static void set_cpl(struct rig *r, unsigned cpl)
{
	r->cpu->sys.cpl = (uint8_t)cpl;
	soft_tlb_cpl_changed(r->cpu);
}

enum { RD, WR, EX, RD_SYS, WR_SYS };

/* One access through the memory layer. Returns -1 when it completed, else the vector raised
 * (256: SOFT_EXIT_ERROR). */
static int acc(struct rig *r, int kind, uint64_t la, unsigned sz, uint64_t *v)
{
	struct soft_cpu *c = r->cpu;
	c->cur_op = NULL;
	c->exit_reason = SOFT_EXIT_BUDGET;
	/* As if a #DF were being delivered: a fault then ends in shutdown instead of being
	 * delivered (which would change CPL and the registers), and exc_* keep what it was. */
	c->sys.fault_depth = 4;
	if (setjmp(c->fault_jmp)) {
		c->sys.fault_depth = 0;
		return c->exit_reason == SOFT_EXIT_ERROR ? 256 : (int)c->exc_vector;
	}
	switch (kind) {
	case RD: *v = soft_ld(c, la, sz); break;
	case WR: soft_st(c, la, sz, *v); break;
	case EX: soft_tlb_fill(c, la, SOFT_ACC_EXEC); break;
	case RD_SYS: *v = soft_ld_sys(c, la, sz); break;
	default: soft_st_sys(c, la, sz, *v); break;
	}
	c->sys.fault_depth = 0;
	return -1;
}

static uint64_t ld(struct rig *r, uint64_t la)
{
	uint64_t v = 0;
	int e = acc(r, RD, la, 8, &v);
	CHECK(e == -1, "load at %#llx raised %d (error %#x)", (unsigned long long)la, e,
	      r->cpu->exc_error);
	return v;
}

static void st(struct rig *r, uint64_t la, uint64_t v)
{
	int e = acc(r, WR, la, 8, &v);
	CHECK(e == -1, "store at %#llx raised %d (error %#x)", (unsigned long long)la, e,
	      r->cpu->exc_error);
}

/* The access must raise #PF with this error code, CR2 and exc_addr = la. */
static void expect_pf(struct rig *r, int kind, uint64_t la, uint32_t err)
{
	uint64_t v = 0;
	r->cpu->sys.cr2 = 0;
	int e = acc(r, kind, la, kind == EX ? 1 : 8, &v);
	CHECK(e == SOFT_VEC_PF, "access %d at %#llx: vector %d, expected #PF", kind,
	      (unsigned long long)la, e);
	CHECK(r->cpu->exc_error == err, "access %d at %#llx: error %#x, expected %#x", kind,
	      (unsigned long long)la, r->cpu->exc_error, err);
	CHECK(r->cpu->sys.cr2 == la && r->cpu->exc_addr == la, "cr2 %#llx exc_addr %#llx",
	      (unsigned long long)r->cpu->sys.cr2, (unsigned long long)r->cpu->exc_addr);
}

static void expect_ok(struct rig *r, int kind, uint64_t la)
{
	uint64_t v = 0;
	int e = acc(r, kind, la, kind == EX ? 1 : 8, &v);
	CHECK(e == -1, "access %d at %#llx raised %d (error %#x)", kind, (unsigned long long)la,
	      e, r->cpu->exc_error);
}

static void test_4level_walks_and_ad_bits(void)
{
	SECTION("4-level walks: 4 KiB, 2 MiB, 1 GiB pages; A on every level, D on the leaf");
	struct rig r;
	rig_init(&r);
	uint64_t pml4 = long_mode(&r);
	const uint64_t la4k = 0x00007f0000001000ULL, la2m = 0x40000000ULL, la1g = 0x8000000000ULL;
	map64(&r, pml4, la4k, 0x10000, P | RW, 1);
	map64(&r, pml4, la2m, 0x200000, P | RW, 2);
	map64(&r, pml4, la1g, 0, P | RW, 3);
	*ram64(&r, 0x10008) = 0x1111;
	*ram64(&r, 0x2abcd8) = 0x2222;
	*ram64(&r, 0x1234560) = 0x3333;
	CHECK(ld(&r, la4k + 8) == 0x1111, "4 KiB page");
	CHECK(ld(&r, la2m + 0xabcd8) == 0x2222, "2 MiB page");
	CHECK(ld(&r, la1g + 0x1234560) == 0x3333, "1 GiB page");
	for (int l = 4; l >= 1; l--) {
		uint64_t e = *pte64(&r, pml4, la4k, l);
		CHECK((e & PA) && !(l == 1 && (e & PD)), "level %d after a read: %#llx", l,
		      (unsigned long long)e);
	}
	st(&r, la4k + 16, 0x4444);
	CHECK(*ram64(&r, 0x10010) == 0x4444, "store reached RAM");
	CHECK(*pte64(&r, pml4, la4k, 1) & PD, "D set by the write");
	CHECK(!(*pte64(&r, pml4, la4k, 2) & PD), "D not set in a non-leaf entry");
	CHECK(!(*pte64(&r, pml4, la2m, 2) & PD), "2 MiB leaf clean after a read");
	st(&r, la2m, 1);
	CHECK(*pte64(&r, pml4, la2m, 2) & PD, "D on the 2 MiB leaf");
	/* A read cached the 1 GiB translation read-only: the first write refills and sets D. */
	CHECK(!(*pte64(&r, pml4, la1g, 3) & PD), "1 GiB leaf clean");
	st(&r, la1g + 0x1234560, 5);
	CHECK(*pte64(&r, pml4, la1g, 3) & PD, "D on the 1 GiB leaf after a write to a page "
					       "first cached for reading");
	SECTION("non-canonical addresses raise #GP(0), not #PF");
	uint64_t v;
	CHECK(acc(&r, RD, 0x0000800000000000ULL, 8, &v) == SOFT_VEC_GP &&
	      r.cpu->exc_error == 0, "non-canonical load");
	rig_fini(&r);
}

static void test_error_codes_wp_nx(void)
{
	SECTION("#PF error codes: P, W/R, U/S, RSVD, I/D; CR2; WP; NX");
	struct rig r;
	rig_init(&r);
	uint64_t pml4 = long_mode(&r);
	const uint64_t ro = 0x600000000ULL, sup = 0x600001000ULL, user = 0x600002000ULL,
		       nx = 0x600003000ULL, rsv = 0x600004000ULL, absent = 0x600005000ULL,
		       xd_ro = 0x600006000ULL;
	map64(&r, pml4, ro, 0x11000, P | US, 1);
	map64(&r, pml4, sup, 0x12000, P | RW, 1);
	map64(&r, pml4, user, 0x13000, P | RW | US, 1);
	map64(&r, pml4, nx, 0x14000, P | RW | US | XD, 1);
	map64(&r, pml4, rsv, 0x15000 | (1ULL << 45), P | RW | US, 1); /* above MAXPHYADDR */
	map64(&r, pml4, xd_ro, 0x16000, P | US, 1);
	*pte64(&r, pml4, absent, 1) = 0;
	expect_pf(&r, RD, absent, 0);
	expect_pf(&r, WR, absent, 2);
	expect_pf(&r, EX, absent, 0x10); /* NXE on: I/D reported */
	expect_pf(&r, RD, rsv, 0x9);
	expect_pf(&r, WR, rsv, 0xb);
	expect_pf(&r, EX, nx, 0x11);
	expect_ok(&r, RD, nx);
	SECTION("WP: supervisor writes to read-only pages fault only with CR0.WP");
	expect_pf(&r, WR, ro, 0x3);
	uint64_t cr0 = r.cpu->sys.cr0, cr4 = r.cpu->sys.cr4, efer = r.cpu->sys.efer;
	r.cpu->sys.cr0 &= ~SOFT_CR0_WP;
	soft_mmu_paging_changed(r.cpu, cr0, cr4, efer);
	expect_ok(&r, WR, ro);
	CHECK(*pte64(&r, pml4, ro, 1) & PD, "D set by a WP=0 write");
	r.cpu->sys.cr0 |= SOFT_CR0_WP;
	soft_mmu_paging_changed(r.cpu, cr0 & ~SOFT_CR0_WP, cr4, efer);
	expect_pf(&r, WR, ro, 0x3);
	SECTION("user accesses (CPL 3): U/S and R/W of every level");
	set_cpl(&r, 3);
	expect_pf(&r, RD, sup, 0x5);
	expect_pf(&r, WR, ro, 0x7);
	expect_pf(&r, RD, absent, 0x4);
	expect_pf(&r, EX, nx, 0x15);
	expect_pf(&r, WR, xd_ro, 0x7);
	expect_ok(&r, RD, user);
	expect_ok(&r, WR, user);
	/* U/S clear in the PDPTE: the whole region becomes supervisor-only. */
	*pte64(&r, pml4, user, 3) &= ~US;
	soft_tlb_flush_all(r.cpu);
	expect_pf(&r, RD, user, 0x5);
	*pte64(&r, pml4, user, 3) |= US;
	*pte64(&r, pml4, user, 2) &= ~RW;
	soft_tlb_flush_all(r.cpu);
	expect_ok(&r, RD, user);
	expect_pf(&r, WR, user, 0x7);
	set_cpl(&r, 0);
	SECTION("NXE off: XD is a reserved bit; fetches report no I/D");
	r.cpu->sys.efer &= ~SOFT_EFER_NXE;
	soft_mmu_paging_changed(r.cpu, cr0, cr4, efer);
	expect_pf(&r, RD, nx, 0x9);
	expect_pf(&r, EX, absent, 0x0);
	rig_fini(&r);
}

static void test_smep_smap(void)
{
	SECTION("SMEP: supervisor fetches from user pages; SMAP with EFLAGS.AC; implicit "
		"accesses");
	struct rig r;
	rig_init(&r);
	uint64_t pml4 = long_mode(&r);
	const uint64_t user = 0x700000000ULL, sup = 0x700001000ULL;
	map64(&r, pml4, user, 0x13000, P | RW | US, 1);
	map64(&r, pml4, sup, 0x12000, P | RW, 1);
	expect_ok(&r, EX, user);
	uint64_t cr0 = r.cpu->sys.cr0, cr4 = r.cpu->sys.cr4, efer = r.cpu->sys.efer;
	r.cpu->sys.cr4 |= SOFT_CR4_SMEP;
	soft_mmu_paging_changed(r.cpu, cr0, cr4, efer);
	expect_pf(&r, EX, user, 0x11);
	expect_ok(&r, RD, user); /* SMEP is about fetches only */
	cr4 = r.cpu->sys.cr4;
	r.cpu->sys.cr4 |= SOFT_CR4_SMAP;
	soft_mmu_paging_changed(r.cpu, cr0, cr4, efer);
	expect_pf(&r, RD, user, 0x1);
	expect_pf(&r, WR, user, 0x3);
	soft_cpu_set_rflags(r.cpu, 2 | SOFT_AC);
	expect_ok(&r, RD, user);
	expect_ok(&r, WR, user);
	CHECK(*ram64(&r, 0x13000) == 0, "stored value");
	/* Implicit supervisor accesses ignore AC. */
	expect_pf(&r, RD_SYS, user, 0x1);
	expect_pf(&r, WR_SYS, user, 0x3);
	expect_ok(&r, RD_SYS, sup);
	/* AC cleared again: the earlier allowed access must not have been cached. */
	soft_cpu_set_rflags(r.cpu, 2);
	expect_pf(&r, RD, user, 0x1);
	expect_pf(&r, WR, user, 0x3);
	SECTION("implicit accesses at CPL 3 are supervisor accesses (U/S error bit 0)");
	set_cpl(&r, 3);
	expect_ok(&r, RD, user);
	expect_ok(&r, RD_SYS, sup);
	expect_pf(&r, RD_SYS, user, 0x1); /* SMAP: an implicit access to a user page */
	expect_pf(&r, RD, sup, 0x5);
	*pte64(&r, pml4, sup, 1) = 0;
	soft_tlb_flush_page(r.cpu, sup);
	expect_pf(&r, WR_SYS, sup, 0x2);
	set_cpl(&r, 0);
	rig_fini(&r);
}

static void test_tlb_flushes_and_privilege(void)
{
	SECTION("CR3 writes keep global pages, INVLPG drops one page (the whole large page)");
	struct rig r;
	rig_init(&r);
	uint64_t pml4 = long_mode(&r);
	const uint64_t glob = 0x800000000ULL, local = 0x800001000ULL, big = 0x900000000ULL;
	map64(&r, pml4, glob, 0x20000, P | RW | G, 1);
	map64(&r, pml4, local, 0x21000, P | RW, 1);
	*ram64(&r, 0x20000) = 1;
	*ram64(&r, 0x21000) = 2;
	*ram64(&r, 0x22000) = 3;
	*ram64(&r, 0x23000) = 4;
	CHECK(ld(&r, glob) == 1 && ld(&r, local) == 2, "initial");
	/* Remap both without a flush: the TLB keeps the old translations. */
	map64(&r, pml4, glob, 0x22000, P | RW | G, 1);
	map64(&r, pml4, local, 0x23000, P | RW, 1);
	CHECK(ld(&r, glob) == 1 && ld(&r, local) == 2, "cached");
	soft_tlb_flush_nonglobal(r.cpu); /* MOV CR3 */
	CHECK(ld(&r, glob) == 1, "global page survives a CR3 write");
	CHECK(ld(&r, local) == 4, "non-global page refilled after a CR3 write");
	soft_tlb_flush_page(r.cpu, glob + 0x123); /* INVLPG */
	CHECK(ld(&r, glob) == 3, "INVLPG drops a global page");
	uint64_t cr0 = r.cpu->sys.cr0, cr4 = r.cpu->sys.cr4, efer = r.cpu->sys.efer;
	map64(&r, pml4, glob, 0x20000, P | RW | G, 1);
	r.cpu->sys.cr4 &= ~SOFT_CR4_PGE;
	soft_mmu_paging_changed(r.cpu, cr0, cr4, efer);
	CHECK(ld(&r, glob) == 1, "toggling CR4.PGE flushes global pages too");
	/* A 2 MiB page cached as 4 KiB pieces: INVLPG of one address drops them all. */
	map64(&r, pml4, big, 0x200000, P | RW, 2);
	*ram64(&r, 0x200000 + 0x5000) = 5;
	*ram64(&r, 0x400000 - 0x1000) = 6;
	CHECK(ld(&r, big + 0x5000) == 5, "big page");
	map64(&r, pml4, big, 0x1000000, P | RW, 2);
	*ram64(&r, 0x1000000 + 0x5000) = 7;
	soft_tlb_flush_page(r.cpu, big + 0x1ff000);
	CHECK(ld(&r, big + 0x5000) == 7, "INVLPG elsewhere in the 2 MiB page dropped it");

	SECTION("a CPL-3 access never reuses a translation checked for CPL 0");
	const uint64_t sup = 0xa00000000ULL;
	map64(&r, pml4, sup, 0x24000, P | RW, 1);
	CHECK(ld(&r, sup) == 0, "supervisor fill");
	st(&r, sup, 9);
	set_cpl(&r, 3);
	expect_pf(&r, RD, sup, 0x5);
	expect_pf(&r, WR, sup, 0x7);
	expect_pf(&r, EX, sup, 0x15);
	set_cpl(&r, 0);
	CHECK(ld(&r, sup) == 9, "supervisor still reaches it");
	rig_fini(&r);
}

static void test_pae_walk(void)
{
	SECTION("PAE paging (legacy mode): PDPTEs, 4 KiB and 2 MiB pages, reserved bits, NX");
	struct rig r;
	rig_init(&r);
	rig_long_mode(&r);
	struct soft_sys *s = &r.cpu->sys;
	pt_next = PT_BASE;
	uint64_t pdpt = pt_page(&r) + 0x40; /* 32-byte aligned is enough */
	uint64_t pd0 = pt_page(&r), pd1 = pt_page(&r), pt = pt_page(&r);
	*ram64(&r, pdpt) = pd0 | P;
	*ram64(&r, pdpt + 8) = pd1 | P;
	*ram64(&r, pdpt + 16) = pt_page(&r) | P | (1ULL << 5); /* reserved in a PDPTE */
	*ram64(&r, pd0) = 0 | P | RW | 0x80;               /* 0-2 MiB identity */
	*ram64(&r, pd1 + 8) = pt | P | RW | US;           /* 0x40200000 */
	*ram64(&r, pt + 3 * 8) = 0x30000 | P | RW | US;   /* 0x40203000 */
	*ram64(&r, pt + 4 * 8) = 0x31000 | P | RW | US | XD;
	*ram64(&r, pd1 + 16) = 0x600000 | P | RW | 0x80;  /* 0x40400000: 2 MiB */
	*ram64(&r, pd1 + 24) = 0x800000 | P | RW | 0x80 | (1ULL << 13); /* reserved */
	*ram64(&r, 0x30010) = 0xaaaa;
	*ram64(&r, 0x612340) = 0xbbbb;
	s->cr3 = pdpt;
	s->cr4 = SOFT_CR4_PAE | SOFT_CR4_OSFXSR;
	s->efer = SOFT_EFER_NXE;
	s->cr0 = 0x80010033;
	rig_seg(&s->seg[SOFT_CS], 0x18, 0xc09b);
	soft_cpu_sys_sync(r.cpu);
	CHECK(ld(&r, 0x40203010) == 0xaaaa, "PAE 4 KiB");
	CHECK(ld(&r, 0x40412340) == 0xbbbb, "PAE 2 MiB");
	CHECK(*ram64(&r, pt + 3 * 8) & PA, "PAE A bit");
	expect_pf(&r, RD, 0x80000000, 0x9);  /* reserved PDPTE bit */
	expect_pf(&r, RD, 0xc0000000, 0x0);  /* PDPTE not present */
	expect_pf(&r, RD, 0x40600000, 0x9);  /* 2 MiB PDE, bit 13 reserved */
	expect_pf(&r, EX, 0x40204000, 0x11); /* XD */
	s->efer = 0;
	soft_tlb_flush_all(r.cpu);
	expect_pf(&r, RD, 0x40204000, 0x9); /* XD without NXE is reserved */
	expect_pf(&r, EX, 0x40205000, 0x0); /* no I/D without NXE or SMEP */
	rig_fini(&r);
}

static void test_32bit_walk(void)
{
	SECTION("32-bit paging: 4 KiB pages, PSE 4 MiB pages with PSE-36, PS without PSE");
	struct rig r;
	rig_init(&r);
	rig_long_mode(&r);
	struct soft_sys *s = &r.cpu->sys;
	pt_next = PT_BASE;
	uint64_t pd = pt_page(&r), pt = pt_page(&r);
	*ram32(&r, pd) = 0 | P | RW | 0x80;                      /* 0-4 MiB: 4 MiB page */
	*ram32(&r, pd + 4 * 1) = (uint32_t)(pt | P | RW | US);   /* 4-8 MiB */
	*ram32(&r, pt + 5 * 4) = 0x40000 | P | RW | US;          /* 0x405000 */
	/* 0x800000: a 4 MiB page at guest-physical 0x1_00400000 (PSE-36 bits 20:13) */
	*ram32(&r, pd + 4 * 2) = 0x00400000 | (1u << 13) | P | RW | 0x80;
	*ram32(&r, pd + 4 * 3) = 0x00c00000 | (1u << 21) | P | RW | 0x80; /* reserved bit 21 */
	*ram32(&r, 0x40020) = 0x12345678;
	*ram32(&r, 0x123450) = 0x9abcdef0;
	s->cr3 = pd;
	s->cr4 = SOFT_CR4_PSE | SOFT_CR4_OSFXSR;
	s->efer = 0;
	s->cr0 = 0x80010033;
	rig_seg(&s->seg[SOFT_CS], 0x18, 0xc09b);
	soft_cpu_sys_sync(r.cpu);
	CHECK((uint32_t)ld(&r, 0x405020) == 0x12345678, "4 KiB page");
	CHECK((uint32_t)ld(&r, 0x123450) == 0x9abcdef0, "4 MiB page");
	CHECK(*ram32(&r, pd) & PA, "A on the 4 MiB PDE");
	CHECK((*ram32(&r, pd + 4) & PA) && (*ram32(&r, pt + 20) & PA), "A on PDE and PTE");
	st(&r, 0x405020, 1);
	CHECK((*ram32(&r, pt + 20) & PD) && !(*ram32(&r, pd + 4) & PD), "D on the PTE only");
	uint64_t v = 0;
	unsigned n = r.mmio_count;
	CHECK(acc(&r, RD, 0x800010, 4, &v) == -1, "PSE-36 page");
	CHECK(r.mmio_count == n + 1 && r.mmio_last_gpa == 0x100400010ULL,
	      "PSE-36 address %#llx", (unsigned long long)r.mmio_last_gpa);
	expect_pf(&r, RD, 0xc00000, 0x9);
	expect_pf(&r, RD, 0x1000000, 0x0);
	set_cpl(&r, 3);
	expect_pf(&r, RD, 0x1000, 0x5);
	expect_pf(&r, EX, 0x1000, 0x5); /* no I/D in 32-bit paging without SMEP */
	set_cpl(&r, 0);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a page table (here the
	 * page at 0, whose entry 0x23 is zero: not present). */
	s->cr4 = SOFT_CR4_OSFXSR;
	soft_tlb_flush_all(r.cpu);
	expect_pf(&r, RD, 0x23000, 0x0);
	rig_fini(&r);
}

static void test_mmio(void)
{
	SECTION("MMIO: loads and stores reach ops->mmio with the guest-physical address, never "
		"cached; 16 bytes split; locked RMW is a read then a write; fetch ends the run");
	for (int jit = 1; jit >= 0; jit--) {
		struct rig r;
		rig_init(&r);
		soft_cpu_set_jit(r.cpu, jit);
		uint64_t pml4 = long_mode(&r);
		const uint64_t la = 0xb00000000ULL;
		map64(&r, pml4, la, MMIO_GPA, P | RW, 1);
		uint64_t v = 0;
		r.mmio_read_value = 0x1122334455667788ULL;
		CHECK(acc(&r, RD, la + 0x10, 4, &v) == -1 && v == 0x55667788, "load %#llx",
		      (unsigned long long)v);
		CHECK(r.mmio_count == 1 && r.mmio_last_gpa == MMIO_GPA + 0x10 && !r.mmio_last_write,
		      "load reached mmio");
		CHECK(acc(&r, RD, la + 0x10, 4, &v) == -1 && r.mmio_count == 2, "not cached");
		v = 0xdeadbeefcafef00dULL;
		CHECK(acc(&r, WR, la + 0x20, 8, &v) == -1, "store");
		CHECK(r.mmio_count == 3 && r.mmio_last_gpa == MMIO_GPA + 0x20 && r.mmio_last_write &&
		      r.mmio_last_val == 0xdeadbeefcafef00dULL, "store reached mmio");
		uint8_t buf[16];
		soft_ld_bytes(r.cpu, la + 0x30, buf, 16, SOFT_ACC_READ);
		CHECK(r.mmio_count == 5 && r.mmio_last_gpa == MMIO_GPA + 0x38, "16 bytes in two");

		/* Code: mov eax, [rbx]; lock add [rbx+8], ecx; mov [rbx+16], edx; hlt */
		static const uint8_t code[] = { 0x8b, 0x03, 0xf0, 0x01, 0x4b, 0x08,
						0x89, 0x53, 0x10, 0xf4 };
		rig_code(&r, RIG_CODE, code, sizeof(code));
		r.cpu->gpr[SOFT_RBX] = la + 0x100;
		r.cpu->gpr[SOFT_RCX] = 5;
		r.cpu->gpr[SOFT_RDX] = 0x77;
		r.mmio_count = 0;
		r.mmio_read_value = 40;
		enum soft_exit e = rig_run(&r, 100);
		CHECK(e == SOFT_EXIT_HALT, "exit %d (jit %d)", e, jit);
		CHECK(r.cpu->gpr[SOFT_RAX] == 40, "mov from mmio");
		CHECK(r.mmio_count == 4 && r.mmio_last_gpa == MMIO_GPA + 0x110 &&
		      r.mmio_last_val == 0x77, "mmio accesses %u last %#llx", r.mmio_count,
		      (unsigned long long)r.mmio_last_gpa);
		/* Run it again warm: still every access to mmio. */
		r.cpu->rip = RIG_CODE;
		r.mmio_count = 0;
		e = rig_run(&r, 100);
		CHECK(e == SOFT_EXIT_HALT && r.mmio_count == 4, "warm run: %u", r.mmio_count);

		/* jmp rbx into the MMIO page */
		static const uint8_t jmp[] = { 0xff, 0xe3 };
		rig_code(&r, RIG_CODE, jmp, sizeof(jmp));
		soft_cpu_code_invalidate(r.cpu, r.ram + RIG_CODE, 2);
		soft_vm_code_written(r.vc, RIG_CODE, sizeof(jmp));
		r.cpu->rip = RIG_CODE;
		e = rig_run(&r, 100);
		CHECK(e == SOFT_EXIT_ERROR && strstr(r.cpu->error_msg, "0xfee00100"),
		      "fetch from mmio: exit %d '%s'", e, r.cpu->error_msg);
		CHECK(r.cpu->rip == la + 0x100, "rip at the fetch %#llx",
		      (unsigned long long)r.cpu->rip);
		rig_fini(&r);
	}
}

static void test_fetch_fault_rip(void)
{
	SECTION("a #PF on a fetch reports the target rip, from a cold and a warm run");
	for (int jit = 1; jit >= 0; jit--) {
		struct rig r;
		rig_init(&r);
		soft_cpu_set_jit(r.cpu, jit);
		long_mode(&r);
		/* jmp rbx (to an unmapped page); the #PF handler halts */
		static const uint8_t code[] = { 0xff, 0xe3 };
		static const uint8_t handler[] = { 0xf4 };
		rig_code(&r, RIG_CODE, code, sizeof(code));
		rig_code(&r, RIG_CODE + 0x100, handler, sizeof(handler));
		rig_idt_gate(&r, SOFT_VEC_PF, RIG_CODE + 0x100, 0);
		for (int pass = 0; pass < 2; pass++) {
			r.cpu->rip = RIG_CODE;
			r.cpu->gpr[SOFT_RSP] = RIG_STACK;
			r.cpu->gpr[SOFT_RBX] = 0xc00000000ULL;
			enum soft_exit e = rig_run(&r, 100);
			uint64_t sp = r.cpu->gpr[SOFT_RSP];
			CHECK(e == SOFT_EXIT_HALT && r.cpu->exc_vector == SOFT_VEC_PF &&
			      *ram64(&r, sp) == 0x10 && *ram64(&r, sp + 8) == 0xc00000000ULL &&
			      r.cpu->sys.cr2 == 0xc00000000ULL,
			      "exit %d vector %u error %#llx rip %#llx", e, r.cpu->exc_vector,
			      (unsigned long long)*ram64(&r, sp),
			      (unsigned long long)*ram64(&r, sp + 8));
		}
		rig_fini(&r);
	}
}

static void test_code_remap_and_privilege(void)
{
	SECTION("code across pages: INVLPG and CR3 writes remap it, CPL 3 cannot run "
		"supervisor code the kernel ran");
	for (int jit = 1; jit >= 0; jit--) {
		struct rig r;
		rig_init(&r);
		soft_cpu_set_jit(r.cpu, jit);
		uint64_t pml4 = long_mode(&r);
		const uint64_t code = 0xd00000000ULL, fn = code + 0x2000;
		map64(&r, pml4, code, 0x300000, P | RW, 1);
		map64(&r, pml4, fn, 0x302000, P | RW, 1);
		/* mov ecx, 1000; xor eax, eax; loop: call fn; dec ecx; jnz loop; hlt */
		static const uint8_t main_code[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0,
						     0xe8, 0xf4, 0x1f, 0x00, 0x00, 0xff, 0xc9,
						     0x75, 0xf7, 0xf4 };
		static const uint8_t add1[] = { 0x83, 0xc0, 0x01, 0xc3 }; /* add eax, 1; ret */
		static const uint8_t add2[] = { 0x83, 0xc0, 0x02, 0xc3 };
		rig_code(&r, 0x300000, main_code, sizeof(main_code));
		rig_code(&r, 0x302000, add1, sizeof(add1));
		rig_code(&r, 0x305000, add2, sizeof(add2));
		r.cpu->rip = code;
		CHECK(rig_run(&r, 100000) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 1000,
		      "first run: eax %llu", (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		map64(&r, pml4, fn, 0x305000, P | RW, 1);
		soft_tlb_flush_page(r.cpu, fn);
		r.cpu->rip = code;
		CHECK(rig_run(&r, 100000) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 2000,
		      "after INVLPG: eax %llu (jit %d)", (unsigned long long)r.cpu->gpr[SOFT_RAX],
		      jit);
		map64(&r, pml4, fn, 0x302000, P | RW, 1);
		soft_tlb_flush_nonglobal(r.cpu);
		r.cpu->rip = code;
		CHECK(rig_run(&r, 100000) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 1000,
		      "after a CR3 write: eax %llu", (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		/* The same rip at CPL 3 (user code segment): a supervisor page, #PF. */
		rig_seg(&r.cpu->sys.seg[SOFT_CS], 0x2b, 0xa0fb);
		rig_seg(&r.cpu->sys.seg[SOFT_SS], 0x23, 0xc0f3);
		soft_cpu_sys_sync(r.cpu);
		CHECK(r.cpu->sys.cpl == 3, "cpl %u", r.cpu->sys.cpl);
		r.cpu->rip = code;
		r.cpu->sys.fault_depth = 4; /* the fault ends the run (shutdown), exc_* say which */
		enum soft_exit e = rig_run(&r, 100000);
		r.cpu->sys.fault_depth = 0;
		CHECK(e == SOFT_EXIT_SHUTDOWN && r.cpu->exc_vector == SOFT_VEC_PF &&
		      r.cpu->exc_error == 0x15 && r.cpu->rip == code,
		      "user fetch of kernel code: exit %d vector %u error %#x", e,
		      r.cpu->exc_vector, r.cpu->exc_error);
		/* Made user-accessible, the same code runs at CPL 3 too. */
		for (int l = 4; l >= 1; l--) {
			*pte64(&r, pml4, code, l) |= US;
			*pte64(&r, pml4, fn, l) |= US;
		}
		r.cpu->gpr[SOFT_RSP] = 0x1000000;
		map64(&r, pml4, 0xfff000, 0xfff000, P | RW | US, 1);
		soft_tlb_flush_all(r.cpu);
		r.cpu->rip = code;
		/* HLT at CPL 3 is #GP(0): with the fault ending the run, it marks the end. */
		r.cpu->sys.fault_depth = 4;
		e = rig_run(&r, 100000);
		r.cpu->sys.fault_depth = 0;
		CHECK(e == SOFT_EXIT_SHUTDOWN && r.cpu->exc_vector == SOFT_VEC_GP &&
		      r.cpu->gpr[SOFT_RAX] == 1000,
		      "user run: exit %d eax %llu", e, (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		rig_fini(&r);
	}
}

/* A second CPU of the rig's VM with the same long-mode state. */
static struct soft_cpu *second_cpu(struct rig *r, bool jit)
{
	struct soft_cpu *c = soft_cpu_create(&rig_mem_unused, NULL);
	CHECK(c, "cpu");
	soft_cpu_set_jit(c, jit);
	soft_cpu_enable_system(c, &rig_ops, r, r->vc, 1);
	struct soft_vm_code *vc = c->sys.vm_code;
	c->sys = r->cpu->sys;
	c->sys.apic_id = 1;
	c->sys.vm_code = vc;
	soft_cpu_set_rflags(c, 2);
	c->gpr[SOFT_RSP] = RIG_STACK - 0x1000;
	soft_cpu_sys_sync(c);
	return c;
}

static void test_shared_code(void)
{
	SECTION("two CPUs of one VM: code decoded by one, modified by the other (whose TLB "
		"could write there before), and by DMA");
	for (int jit = 1; jit >= 0; jit--) {
		struct rig r;
		rig_init(&r);
		soft_cpu_set_jit(r.cpu, jit);
		long_mode(&r);
		struct soft_cpu *b = second_cpu(&r, jit);
		const uint64_t pa = RIG_CODE, pb = RIG_CODE + 0x10000;
		/* A: mov eax, 1; hlt */
		static const uint8_t ca[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };
		rig_code(&r, pa, ca, sizeof(ca));
		/* B: mov [rbx+0x800], eax; hlt (a data write into A's page first), then at +0x10:
		 * mov dword [rbx+1], ecx; hlt */
		static const uint8_t cb[] = { 0x89, 0x83, 0x00, 0x08, 0x00, 0x00, 0xf4 };
		static const uint8_t cb2[] = { 0x89, 0x4b, 0x01, 0xf4 };
		rig_code(&r, pb, cb, sizeof(cb));
		rig_code(&r, pb + 0x10, cb2, sizeof(cb2));
		b->gpr[SOFT_RBX] = pa;
		b->rip = pb;
		CHECK(soft_cpu_run(b, 100) == SOFT_EXIT_HALT, "B data write");
		r.cpu->rip = pa;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 1,
		      "A first run");
		b->gpr[SOFT_RCX] = 2;
		b->rip = pb + 0x10;
		CHECK(soft_cpu_run(b, 100) == SOFT_EXIT_HALT, "B modifies A's code");
		CHECK(r.ram[pa + 1] == 2, "the write reached RAM");
		r.cpu->rip = pa;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 2,
		      "A sees B's modification: eax %llu (jit %d)",
		      (unsigned long long)r.cpu->gpr[SOFT_RAX], jit);
		/* Again, now that A decoded the page a second time. */
		b->gpr[SOFT_RCX] = 3;
		b->rip = pb + 0x10;
		CHECK(soft_cpu_run(b, 100) == SOFT_EXIT_HALT, "B modifies again");
		r.cpu->rip = pa;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 3,
		      "second modification: eax %llu", (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		/* DMA: a device writes the immediate. */
		r.ram[pa + 1] = 4;
		soft_vm_code_written(r.vc, pa + 1, 1);
		r.cpu->rip = pa;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 4,
		      "DMA modification: eax %llu", (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		/* Self-modifying code on one CPU through its own store. */
		r.cpu->gpr[SOFT_RBX] = pa;
		r.cpu->gpr[SOFT_RCX] = 5;
		r.cpu->rip = pb + 0x10;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT, "A modifies its own code");
		r.cpu->rip = pa;
		CHECK(soft_cpu_run(r.cpu, 100) == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == 5,
		      "own modification: eax %llu", (unsigned long long)r.cpu->gpr[SOFT_RAX]);
		soft_cpu_destroy(b);
		rig_fini(&r);
	}
}

int main(void)
{
	test_4level_walks_and_ad_bits();
	test_error_codes_wp_nx();
	test_smep_smap();
	test_tlb_flushes_and_privilege();
	test_pae_walk();
	test_32bit_walk();
	test_mmio();
	test_fetch_fault_rip();
	test_code_remap_and_privilege();
	test_shared_code();
	printf("soft_mmu: ok\n");
	return 0;
}
