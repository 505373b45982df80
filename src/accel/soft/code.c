/* The decoded-block cache and the run loop. Blocks are decoded once (decode.c) into an arena
 * and executed by the baseline JIT's host code (jit.c) or, without it, by calling each op's
 * handler in turn; a direct-mapped jump cache maps guest rip to the block, a hash keyed by host
 * address backs it. Any write to a page holding decoded code
 * flushes the whole cache at the next block boundary (simple, and self-modifying code is rare in
 * the programs this CPU targets). */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "accel/soft/soft_jit.h"
#include "accel/soft/soft_sys.h"

struct soft_code_cache *soft_code_create(void)
{
	struct soft_code_cache *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return NULL;
	cc->arena = mmap(NULL, SOFT_ARENA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (cc->arena == MAP_FAILED) {
		free(cc);
		return NULL;
	}
	/* The stack width only shapes Zydis' implicit stack operands, which the handlers do not
	 * use: they follow SS.B at run time (soft_push_legacy), so a block stays valid when SS
	 * changes. */
	for (unsigned m = 0; m < SOFT_CS_NMODES; m++) {
		ZydisMachineMode zm = soft_zydis_mode((enum soft_cs_mode)m);
		ZydisDecoderInit(&cc->dec[m], zm,
				 m == SOFT_CS_64 ? ZYDIS_STACK_WIDTH_64
				 : zm == ZYDIS_MACHINE_MODE_LONG_COMPAT_32 ||
						 zm == ZYDIS_MACHINE_MODE_LEGACY_32
					 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16);
	}
	cc->lo = UINTPTR_MAX;
	return cc;
}

void soft_code_destroy(struct soft_code_cache *cc)
{
	if (!cc)
		return;
	munmap(cc->arena, SOFT_ARENA_SIZE);
	soft_jit_destroy(cc);
	free(cc);
}

static void code_flush(struct soft_cpu *c)
{
	struct soft_code_cache *cc = c->cache;
	cc->arena_used = 0;
	/* Other CPUs of the VM may set it (vm_code.c): cleared before the blocks go, so a
	 * request arriving meanwhile is served by this flush. */
	__atomic_store_n(&cc->flush_pending, false, __ATOMIC_RELEASE);
	__atomic_store_n(&cc->jc_clear_pending, false, __ATOMIC_RELEASE);
	cc->lo = UINTPTR_MAX;
	cc->hi = 0;
	cc->npages = 0;
	memset(cc->hash, 0, sizeof(cc->hash));
	memset(cc->jc, 0, sizeof(cc->jc));
	memset(cc->jc_global, 0, sizeof(cc->jc_global));
	memset(cc->pages, 0, sizeof(cc->pages));
	soft_jit_flush(cc);
}

static size_t block_bytes(const struct soft_block *b)
{
	size_t sz = sizeof(struct soft_block) + (b->n + 1) * sizeof(struct soft_op);
	return (sz + 63) & ~(size_t)63;
}

static void block_unchain(struct soft_block *b)
{
	b->succ_va[0] = b->succ_va[1] = SOFT_NO_SUCC;
	b->succ[0] = b->succ[1] = NULL;
	b->succ_next = 0;
}

/* The guest-rip-to-block mapping may have changed (new mappings): forget the jump cache and
 * every block's successor links; blocks stay (they are keyed by host address). In system mode
 * successor links never leave their block's linear page (block_link_ok), so a block reached
 * through a fresh translation only ever links to blocks of that same translation: clearing
 * the jump cache is enough, which keeps CR3 writes, INVLPG and CPL changes cheap. */
void soft_code_jump_cache_clear(struct soft_cpu *c)
{
	struct soft_code_cache *cc = c->cache;
	memset(cc->jc, 0, sizeof(cc->jc));
	memset(cc->jc_global, 0, sizeof(cc->jc_global));
	cc->jc_ndirty[0] = cc->jc_ndirty[1] = 0;
	if (c->system)
		return;
	for (size_t off = 0; off < cc->arena_used;) {
		struct soft_block *b = (struct soft_block *)(cc->arena + off);
		block_unchain(b);
		off += block_bytes(b);
	}
}

/* System mode, MOV CR3: global translations stay, and so do the jump-cache entries filled
 * through them (the kernel's, with CR4.PGE), in both privileges' caches. */
void soft_code_jump_cache_clear_nonglobal(struct soft_cpu *c)
{
	struct soft_code_cache *cc = c->cache;
	for (unsigned p = 0; p < 2; p++) {
		if (cc->jc_ndirty[p] <= SOFT_JC_DIRTY_MAX) {
			for (unsigned k = 0; k < cc->jc_ndirty[p]; k++) {
				unsigned i = cc->jc_dirty[p][k];
				if (!cc->jc_global[p][i]) /* else refilled since, through a global page */
					cc->jc[p][i] = NULL;
			}
		} else {
			for (unsigned i = 0; i < SOFT_JC_SIZE; i++)
				if (!cc->jc_global[p][i])
					cc->jc[p][i] = NULL;
		}
		cc->jc_ndirty[p] = 0;
	}
}

void soft_code_jump_cache_drop_written(struct soft_cpu *c)
{
	struct soft_code_cache *cc = c->cache;
	uint64_t pages[SOFT_JC_INVAL_MAX];
	unsigned n = soft_vm_code_take_written(c, pages);
	if (n > SOFT_JC_INVAL_MAX) {
		soft_code_jump_cache_clear(c);
		return;
	}
	for (unsigned p = 0; p < 2; p++)
		for (unsigned i = 0; i < SOFT_JC_SIZE; i++) {
			uint64_t pg = cc->jc_page[p][i];
			bool drop = pg == SOFT_JC_ANY_PAGE;
			for (unsigned k = 0; k < n && !drop; k++)
				drop = pg == pages[k];
			if (drop)
				cc->jc[p][i] = NULL;
		}
}

/* The jump cache and the successor links only ever hold blocks of the current mode, so they
 * are cleared on a switch; the hash (which also matches the mode) keeps both modes' blocks. */
void soft_cpu_set_cs_mode(struct soft_cpu *c, enum soft_cs_mode mode)
{
	if (!c->system) /* the user-mode CPU: Linux's flat user selectors (seg.c) */
		soft_seg_user_mode(c, mode);
	if (c->cs_mode == mode)
		return;
	c->cs_mode = mode;
	soft_code_jump_cache_clear(c);
}

static unsigned page_slot(uintptr_t page)
{
	return (unsigned)((page >> 12) * 0x9E3779B1u) & (SOFT_CODE_PAGES - 1);
}

static bool page_has_code(const struct soft_code_cache *cc, uintptr_t page)
{
	for (unsigned i = page_slot(page);; i = (i + 1) & (SOFT_CODE_PAGES - 1)) {
		if (cc->pages[i] == page)
			return true;
		if (cc->pages[i] == 0)
			return false;
	}
}

/* The guest-physical page of linear code address la, just fetched (system mode). */
static uint64_t code_gpa(const struct soft_cpu *c, uint64_t la)
{
	return c->tlb_aux[c->code_priv][(la >> 12) & (SOFT_TLB_SIZE - 1)].gpa;
}

/* Record that host page (at linear la, just fetched) holds code, and make writes to it take
 * the slow path; system mode: in every CPU of the VM, by guest-physical page. */
static void page_add(struct soft_cpu *c, uintptr_t page, uint64_t la)
{
	struct soft_code_cache *cc = c->cache;
	if (c->system) {
		soft_vm_code_note(c, code_gpa(c, la));
		return;
	}
	if (page_has_code(cc, page))
		return;
	if (cc->npages >= SOFT_CODE_PAGES / 2) {
		cc->flush_pending = true; /* table full: start over at the next block */
		c->chain_left = 0;
		return;
	}
	unsigned i = page_slot(page);
	while (cc->pages[i])
		i = (i + 1) & (SOFT_CODE_PAGES - 1);
	cc->pages[i] = page;
	cc->npages++;
	for (unsigned t = 0; t < SOFT_TLB_SIZE; t++) {
		struct soft_tlb_entry *e = &c->tlb[t];
		if (e->tag_w != 1 && e->tag_w + e->addend == page)
			e->tag_w = 1;
	}
}

bool soft_code_page_written(struct soft_cpu *c, uintptr_t host_page)
{
	struct soft_code_cache *cc = c->cache;
	if (cc->npages == 0 || !page_has_code(cc, host_page))
		return false;
	cc->flush_pending = true;
	c->chain_left = 0;
	return true;
}

void soft_cpu_code_invalidate(struct soft_cpu *c, const void *host, size_t len)
{
	uintptr_t h = (uintptr_t)host;
	if (h < c->cache->hi && h + len > c->cache->lo) {
		c->cache->flush_pending = true;
		c->chain_left = 0;
	}
	soft_cpu_tlb_flush(c);
}

static unsigned hash_slot(uintptr_t host)
{
	return (unsigned)((host * 0x9E3779B97F4A7C15ULL) >> (64 - SOFT_HASH_BITS));
}

/* Fetch up to 15 instruction bytes at linear address lin; returns how many could be read (at least the
 * rest of the page; the next page only when it is mapped executable). */
static unsigned fetch(struct soft_cpu *c, uint64_t lin, uint8_t *buf, uintptr_t *host)
{
	uint64_t rip = lin; /* the linear address: cs_base + offset */
	unsigned avail = 4096 - (unsigned)(rip & 0xfff);
	if (avail > 15)
		avail = 15;
	struct soft_tlb_entry *e = soft_tlbe(c, rip);
	const uint8_t *p = e->tag_x == (rip & ~0xfffULL) ? (const uint8_t *)(uintptr_t)(rip + e->addend)
							  : soft_tlb_fill(c, rip, SOFT_ACC_EXEC);
	memcpy(buf, p, avail);
	*host = (uintptr_t)p;
	return avail;
}

static struct soft_block *decode_block(struct soft_cpu *c, uint64_t rip, uintptr_t host)
{
	struct soft_code_cache *cc = c->cache;
	size_t need = sizeof(struct soft_block) + (SOFT_BLOCK_MAX_OPS + 1) * sizeof(struct soft_op);
	if (cc->arena_used + need > SOFT_ARENA_SIZE)
		code_flush(c);
	struct soft_block *b = (struct soft_block *)(cc->arena + cc->arena_used);
	b->va = rip;
	b->host = host;
	b->n = 0;
	b->jit = NULL;
	b->fused = 0;
	b->mode = c->cs_mode;
	b->priv = c->code_priv;
	b->link_gen = b->gen = b->gen2 = 0;
	b->gpa = 0;
	b->gpa2 = ~0ULL;
	block_unchain(b);
	uint64_t pc = rip;
	uintptr_t hlo = host, hhi = host;
	c->cur_op = NULL;
	for (;;) {
		uint8_t buf[32]; /* avail bytes, then up to 15 more from the next page */
		uintptr_t h;
		unsigned avail = fetch(c, c->cs_base + pc, buf, &h);
		if (b->n == 0 && c->sys.vm_code) {
			b->gpa = code_gpa(c, c->cs_base + pc);
			b->gen = b->link_gen = soft_vm_code_page_gen(c->sys.vm_code, b->gpa);
		}
		struct soft_op *op = &b->ops[b->n];
		bool ends = false;
		ZyanStatus st;
		if (!soft_decode_insn(c, buf, avail, pc, op, &ends, &st) &&
		    st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) {
			/* The instruction continues on the next page. */
			if (b->n > 0)
				break;
			uintptr_t h2;
			fetch(c, c->cs_base + pc + avail, buf + avail, &h2);
			page_add(c, h2 & ~(uintptr_t)0xfff, c->cs_base + pc + avail);
			if (c->sys.vm_code) {
				b->gpa2 = code_gpa(c, c->cs_base + pc + avail);
				b->gen2 = soft_vm_code_page_gen(c->sys.vm_code, b->gpa2);
				b->link_gen = SOFT_GEN_NEVER;
			}
			if (h2 + 15 > hhi)
				hhi = h2 + 15;
			soft_decode_insn(c, buf, 15, pc, op, &ends, &st);
		}
		if (h < hlo)
			hlo = h;
		if (h + op->len > hhi)
			hhi = h + op->len;
		page_add(c, h & ~(uintptr_t)0xfff, pc);
		b->n++;
		pc = op->next_rip;
		/* Pages are linear; a 16-bit IP that wraps lands on another page too. */
		if (ends || b->n == SOFT_BLOCK_MAX_OPS ||
		    ((c->cs_base + pc) & ~0xfffULL) != ((c->cs_base + rip) & ~0xfffULL))
			break;
	}
	b->end_rip = pc;
	/* Dead flags: walking backwards, an op whose flags are all overwritten before any reader
	 * (or fault, or the block end) runs its flag-free variant. */
	bool live = true;
	for (unsigned i = b->n; i-- > 0;) {
		struct soft_op *o = &b->ops[i];
		enum soft_flag_effect fx = soft_flag_effect(o);
		if (!live) {
			soft_handler nf = soft_flags_dead_handler(o);
			if (nf)
				o->fn = nf;
		}
		if (fx == SOFT_FLAGS_USE)
			live = true;
		else if (fx == SOFT_FLAGS_KILL)
			live = false;
	}
	if (b->n >= 2) {
		soft_handler f = soft_fuse_handler(&b->ops[b->n - 2], &b->ops[b->n - 1]);
		if (f) {
			b->ops[b->n - 2].fn = f;
			b->fused = 1;
		}
	}
	/* Sentinel: threaded handlers chain into it at the end of the block. */
	memset(&b->ops[b->n], 0, sizeof(struct soft_op));
	b->ops[b->n].fn = soft_h_block_end;
	b->ops[b->n].imm = (uint64_t)(uintptr_t)b;
	cc->arena_used += block_bytes(b);
	if (hlo < cc->lo)
		cc->lo = hlo;
	if (hhi > cc->hi)
		cc->hi = hhi;
	unsigned s = hash_slot(host);
	b->hnext = cc->hash[s];
	cc->hash[s] = b;
	return b;
}

/* Whether b's bytes are still what it was decoded from (system mode: no write to its
 * page(s) since). Stale blocks stay in the arena until the next flush, unreachable. */
static bool block_current(const struct soft_cpu *c, const struct soft_block *b)
{
	const struct soft_vm_code *vc = c->sys.vm_code;
	if (!c->system || !vc)
		return true;
	return soft_vm_code_page_gen(vc, b->gpa) == b->gen &&
	       (b->gpa2 == ~0ULL || soft_vm_code_page_gen(vc, b->gpa2) == b->gen2);
}

struct soft_block *soft_code_lookup(struct soft_cpu *c, uint64_t rip)
{
	struct soft_code_cache *cc = c->cache;
	struct soft_block **jc = soft_jc_slot(cc, c->code_priv, rip);
	if (SOFT_LIKELY(*jc && (*jc)->va == rip))
		return *jc;
	/* rip is CS's offset: outside 64-bit mode the block starts at cs_base + rip, and its
	 * first byte must lie within CS's limit. The jump cache is cleared whenever cs_base
	 * changes, so its rip key is enough there. */
	c->cur_op = NULL; /* a fetch fault reports rip, not the op that jumped there */
	uint64_t lin = rip;
	if (SOFT_UNLIKELY(c->cs_mode != SOFT_CS_64)) {
		lin = (uint32_t)(c->cs_base + rip);
		if (c->system && rip > c->sys.seg[SOFT_CS].limit)
			soft_raise(c, SOFT_VEC_GP, 0, 0);
	}
	struct soft_tlb_entry *e = soft_tlbe(c, lin);
	uintptr_t host = e->tag_x == (lin & ~0xfffULL) ? (uintptr_t)(lin + e->addend)
						     : (uintptr_t)soft_tlb_fill(c, lin, SOFT_ACC_EXEC);
	/* The entry now translates lin (a fill for another page resets its tags): its aux is
	 * lin's. */
	bool global = c->system &&
		      c->tlb_aux[c->code_priv][(lin >> 12) & (SOFT_TLB_SIZE - 1)].global;
	jc = soft_jc_slot(cc, c->code_priv, rip); /* a fill may notice a CPL change */
	struct soft_block *b, **pp = &cc->hash[hash_slot(host)];
	while ((b = *pp)) {
		if (b->host == host && b->va == rip && b->mode == c->cs_mode &&
		    b->priv == c->code_priv) {
			if (block_current(c, b))
				break;
			*pp = b->hnext; /* stale: its page was written since; decode it again */
			continue;
		}
		pp = &b->hnext;
	}
	if (!b)
		b = decode_block(c, rip, host);
	*jc = b;
	unsigned p = c->code_priv, i = (unsigned)(jc - cc->jc[p]);
	cc->jc_global[p][i] = global;
	cc->jc_page[p][i] = b->gpa2 == ~0ULL ? b->gpa >> 12 : SOFT_JC_ANY_PAGE;
	if (!global && cc->jc_ndirty[p] < SOFT_JC_DIRTY_MAX)
		cc->jc_dirty[p][cc->jc_ndirty[p]] = (uint16_t)i;
	if (!global && cc->jc_ndirty[p] <= SOFT_JC_DIRTY_MAX)
		cc->jc_ndirty[p]++; /* SOFT_JC_DIRTY_MAX + 1: too many to list */
	return b;
}

/* The sentinel at the end of every block: account for the block, then continue straight into
 * the next block (threaded across blocks). The successor comes from the block's own successor
 * cache (direct chaining: no hashing, the header line is already loaded), else from the jump
 * cache, which then fills a successor slot. When the budget is spent, or something asked the
 * loop to take over (an exit, a pending flush: both zero chain_left), or the successor is not
 * decoded yet, hand back to the run loop. */
/* The block control goes to after b (whose instructions are already charged), from b's
 * successor cache (direct chaining: no hashing, the header line is already loaded), else from
 * the jump cache, which then fills a successor slot. NULL when the successor is not decoded
 * yet. */
/* Whether b may cache a link to nb at rip: in system mode only within b's linear page (see
 * soft_code_jump_cache_clear) and between blocks of the same page generation (link_gen). */
static inline bool block_link_ok(const struct soft_cpu *c, const struct soft_block *b,
				 const struct soft_block *nb, uint64_t rip)
{
	return !c->system || (((rip ^ b->va) >> 12) == 0 && nb->link_gen == b->link_gen);
}

static inline struct soft_block *block_find_next(struct soft_cpu *c, struct soft_block *b)
{
	uint64_t rip = c->rip;
	if (SOFT_LIKELY(rip == b->succ_va[0] && b->succ[0]))
		return b->succ[0];
	if (rip == b->succ_va[1] && b->succ[1])
		return b->succ[1];
	struct soft_block *nb = *soft_jc_slot(c->cache, c->code_priv, rip);
	if (SOFT_UNLIKELY(!nb || nb->va != rip))
		return NULL;
	if (!block_link_ok(c, b, nb, rip))
		return nb;
	unsigned k = b->succ_next;
	b->succ_va[k] = rip;
	b->succ[k] = nb;
	b->succ_next = k ^ 1;
	return nb;
}

/* Charge b to the budget and find its successor; NULL when the budget is spent or something
 * asked the loop to take over (an exit, a pending flush: both zero chain_left). */
static inline struct soft_block *block_next(struct soft_cpu *c, struct soft_block *b)
{
	c->budget -= b->n;
	if (SOFT_UNLIKELY(c->budget <= 0 || --c->chain_left <= 0))
		return NULL;
	return block_find_next(c, b);
}

/* The sentinel at the end of every block: continue straight into the next block (threaded
 * across blocks), or hand back to the run loop. */
void soft_h_block_end(struct soft_cpu *c, const struct soft_op *op)
{
	struct soft_block *nb = block_next(c, (struct soft_block *)(uintptr_t)op->imm);
	if (SOFT_UNLIKELY(!nb)) {
		c->stop = true;
		return;
	}
	c->rip = nb->end_rip;
	c->cur_op = nb->ops;
	nb->ops[0].fn(c, nb->ops);
}

/* The same for JIT code, whose block end has charged the budget and found neither successor
 * slot matching: the successor's code (compiled now if needed; its slot in b is then filled,
 * so the next time generated code jumps there directly), or NULL to return to the run loop (a
 * full JIT arena asks it for a flush). A slot is only filled once its block has code. */
const void *soft_jit_block_miss(struct soft_cpu *c, struct soft_block *b)
{
	struct soft_code_cache *cc = c->cache;
	uint64_t rip = c->rip;
	struct soft_block *nb = *soft_jc_slot(cc, c->code_priv, rip);
	if (SOFT_UNLIKELY(!nb || nb->va != rip)) {
		/* Look it up (or decode it) here unless decoding could flush the arena, which
		 * holds the code running now. */
		size_t need = sizeof(struct soft_block) +
			      (SOFT_BLOCK_MAX_OPS + 1) * sizeof(struct soft_op);
		if (cc->arena_used + need > SOFT_ARENA_SIZE)
			return NULL;
		nb = soft_code_lookup(c, rip);
	}
	const void *code = nb->jit;
	if (SOFT_UNLIKELY(!code)) {
		code = soft_jit_compile(c, nb);
		if (!code) {
			c->cache->flush_pending = true;
			return NULL;
		}
	}
	if (!block_link_ok(c, b, nb, rip))
		return code;
	unsigned k = b->succ_next;
	b->succ_va[k] = rip;
	b->succ[k] = nb;
	b->succ_next = k ^ 1;
	return code;
}

_Noreturn void soft_raise(struct soft_cpu *c, unsigned vector, uint32_t error, uint64_t addr)
{
	if (c->cur_op)
		c->rip = soft_op_rip(c->cur_op);
	c->exc_vector = vector;
	c->exc_error = error;
	c->exc_addr = addr;
	if (c->system) /* through the guest's IVT/IDT; the loop goes on at the handler */
		soft_sys_exception(c, vector, error, addr);
	c->exit_reason = SOFT_EXIT_EXCEPTION;
	longjmp(c->fault_jmp, 1);
}

/* The sentinel of a lone instruction (run_single): nothing follows it. */
static void single_end(struct soft_cpu *c, const struct soft_op *op)
{
	(void)c;
	(void)op;
}

/* System mode: decode one instruction on its own, uncached, and run it on the interpreter:
 * the instruction an interrupt shadow (STI, MOV SS) covers, or a single step (TF). */
static void run_single(struct soft_cpu *c)
{
	struct soft_op ops[2];
	uint8_t buf[32]; /* an instruction spanning pages: up to 14 + 15 bytes fetched */
	uintptr_t h;
	bool ends;
	ZyanStatus st;
	c->cur_op = NULL;
	/* Fetched at CS's linear address, as decode_block does (cs_base is 0 in 64-bit mode). */
	uint64_t lin = c->cs_mode == SOFT_CS_64 ? c->rip : (uint32_t)(c->cs_base + c->rip);
	unsigned avail = fetch(c, lin, buf, &h);
	if (!soft_decode_insn(c, buf, avail, c->rip, &ops[0], &ends, &st) &&
	    st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) {
		fetch(c, lin + avail, buf + avail, &h);
		soft_decode_insn(c, buf, 15, c->rip, &ops[0], &ends, &st);
	}
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].fn = single_end;
	c->rip = ops[0].next_rip;
	c->cur_op = &ops[0];
	ops[0].fn(c, &ops[0]);
	c->cur_op = NULL;
	c->budget--;
}

/* System mode, at a block boundary: a kick ends the run; the instruction under an interrupt
 * shadow runs alone before any event is taken; with TF set, one instruction then the #DB trap;
 * then a pending NMI or interrupt is delivered. Returns true when the loop must re-check its
 * state (an instruction ran or an event was delivered), setting *leave when the run ends. */
static bool sys_boundary(struct soft_cpu *c, bool *leave)
{
	if (SOFT_UNLIKELY(atomic_load(&c->kick))) {
		atomic_store(&c->kick, false);
		*leave = true;
		return true;
	}
	if (SOFT_UNLIKELY(c->sys.step_trap)) {
		/* SYSCALL/SYSRET decide their single step by the TF they leave (so FMASK can stop
		 * it and SYSRET can start it at the return point), as QEMU and KVM do. */
		bool due = c->sys.step_trap == 2;
		c->sys.step_trap = 0;
		if (due) {
			c->sys.dr[6] |= 1u << 14; /* BS */
			soft_deliver(c, SOFT_EV_EXCEPTION, SOFT_VEC_DB, -1, c->rip);
			return true;
		}
	}
	if (c->sys.shadow) {
		c->sys.shadow = 0;
		run_single(c);
		return true;
	}
	if (SOFT_UNLIKELY(c->rflags & SOFT_TF)) {
		run_single(c);
		if (c->exit_reason == SOFT_EXIT_BUDGET && !c->sys.step_trap) {
			c->sys.dr[6] |= 1u << 14; /* BS */
			soft_deliver(c, SOFT_EV_EXCEPTION, SOFT_VEC_DB, -1, c->rip);
		}
		return true;
	}
	return soft_check_events(c);
}

/* Every way out of soft_cpu_run: retired instructions are counted through the budget (icount
 * catches up here), and the guest's MXCSR flags come back from the host's. */
static enum soft_exit run_leave(struct soft_cpu *c)
{
	c->cur_op = NULL;
	c->icount += (uint64_t)(c->budget_start - c->budget);
	soft_mxcsr_pull(c);
	_mm_setcsr(c->host_mxcsr);
	return c->exit_reason;
}

enum soft_exit soft_cpu_run(struct soft_cpu *c, int64_t budget)
{
	c->budget = budget;
	c->budget_start = budget;
	c->exit_reason = SOFT_EXIT_BUDGET;
	c->host_mxcsr = _mm_getcsr();
	soft_mxcsr_push(c);
	/* 1: an exit; 2: an event was delivered (system mode), go on at its handler. */
	if (setjmp(c->fault_jmp) == 1)
		return run_leave(c);
	while (c->budget > 0) {
		if (SOFT_UNLIKELY(__atomic_load_n(&c->cache->flush_pending, __ATOMIC_ACQUIRE)))
			code_flush(c);
		/* A code page was written: its blocks are stale; only lookups check that. */
		if (SOFT_UNLIKELY(__atomic_load_n(&c->cache->jc_clear_pending, __ATOMIC_ACQUIRE)))
			soft_code_jump_cache_drop_written(c);
		c->cur_op = NULL;
		/* Before the event checks: a request from now on zeroes it and ends the chain. */
		c->chain_left = c->cache->jit ? 1 : 32; /* JIT code only tests it */
		if (SOFT_UNLIKELY(c->system)) {
			soft_vm_code_sync(c);
			bool leave = false;
			if (sys_boundary(c, &leave)) {
				if (leave || c->exit_reason != SOFT_EXIT_BUDGET)
					return run_leave(c);
				continue;
			}
		}
		struct soft_block *b = *soft_jc_slot(c->cache, c->code_priv, c->rip);
		if (SOFT_UNLIKELY(!b || b->va != c->rip))
			b = soft_code_lookup(c, c->rip);
		if (c->cache->jit) {
			const void *code = b->jit ? b->jit : soft_jit_compile(c, b);
			if (SOFT_UNLIKELY(!code)) {
				/* Arena full: start over. Failing with an empty arena (the host
				 * refused mprotect) leaves the interpreter to run everything. */
				if (c->cache->jit_used == c->cache->jit_start)
					soft_jit_destroy(c->cache);
				code_flush(c);
				continue;
			}
			soft_jit_enter(c, code);
			if (SOFT_UNLIKELY(c->exit_reason != SOFT_EXIT_BUDGET))
				return run_leave(c);
			continue;
		}
		const struct soft_op *op = b->ops;
		c->rip = b->end_rip;
		c->stop = false;
		for (;;) {
			c->cur_op = op;
			op->fn(c, op);
			if (c->stop)
				break;
			op = c->cur_op + 1; /* threaded handlers may have run further */
		}
		if (SOFT_UNLIKELY(c->exit_reason != SOFT_EXIT_BUDGET))
			return run_leave(c);
	}
	return run_leave(c);
}
