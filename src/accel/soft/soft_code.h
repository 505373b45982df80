/* Decoded-block cache: blocks of struct soft_op keyed by the host ("physical") address of their
 * first byte, a direct-mapped jump cache keyed by guest rip in front of it, and the set of host
 * pages that hold decoded code (a write there invalidates the cache). Owned by one soft_cpu. */
#ifndef HARDY_SOFT_CODE_H
#define HARDY_SOFT_CODE_H

#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

#define SOFT_BLOCK_MAX_OPS 64
#define SOFT_HASH_BITS 18
#define SOFT_HASH_SIZE (1u << SOFT_HASH_BITS)
#define SOFT_JC_SIZE (1u << 12)
#define SOFT_JC_INVAL_MAX 16  /* written pages a CPU queues before it clears its whole jc */
#define SOFT_JC_DIRTY_MAX 512 /* non-global fills remembered for a MOV CR3 */
#define SOFT_JC_ANY_PAGE (~0ULL) /* jc_page of a block on two pages: any write drops it */
#define SOFT_CODE_PAGES (1u << 13)
#define SOFT_ARENA_SIZE (64u << 20)
#define SOFT_NO_SUCC 0x8000000000000001ULL /* non-canonical: matches no rip */

/* Header of a decoded block; the ops follow, cache-line aligned. The first line is what the
 * block-end handler touches: the successor cache (direct chaining) remembers the last two blocks
 * control went to; it is cleared with the jump cache (soft_code_jump_cache_clear) and, like
 * every block, dropped by a code-cache flush. */
struct soft_block {
	uint64_t va;       /* guest rip of the first instruction */
	uint64_t end_rip;  /* fall-through address after the last instruction */
	uint64_t succ_va[2];              /* guest rip of each cached successor */
	struct soft_block *succ[2];       /* the successor blocks (NULL = empty slot) */
	uint32_t n;
	uint32_t succ_next;               /* slot the next miss replaces */
	uintptr_t host;    /* host address of the first byte */
	struct soft_block *hnext;
	const void *jit;   /* host code (jit.c), NULL until compiled */
	uint32_t fused;    /* the last two ops run as one fused handler */
	uint32_t mode;     /* enum soft_cs_mode it was decoded in (same bytes, other meaning) */
	uint32_t priv;     /* system mode: c->code_priv it was looked up at (1: CPL 3) */
	/* System mode: the guest-physical page(s) it was decoded from and their generations
	 * then (soft_vm_code_page_gen; a later write makes it stale). link_gen is gen, or
	 * SOFT_GEN_NEVER for a block spanning two pages: a successor link is only cached
	 * between blocks of equal link_gen (same page, same write), so a link never leads from
	 * a current block to a stale one nor into a block that a write elsewhere made stale. */
	uint32_t link_gen;
	uint32_t gen, gen2;
	uint64_t gpa, gpa2; /* gpa2: ~0 unless the block spans two pages */
	uint64_t pad;
	struct soft_op ops[];
};

_Static_assert(sizeof(struct soft_block) == 128, "block header: two cache lines");

struct soft_code_cache {
	ZydisDecoder dec[SOFT_CS_NMODES]; /* one per enum soft_cs_mode */
	uint8_t *arena;
	size_t arena_used;
	bool flush_pending;
	bool jc_clear_pending;     /* system mode: a code page was written (vm_code.c) */
	uintptr_t lo, hi;          /* host range spanned by decoded code */
	unsigned npages;
	struct soft_block *hash[SOFT_HASH_SIZE];
	/* One jump cache per code privilege (c->code_priv), so that a CPL change keeps both; an
	 * entry's jc_global says it was filled through a global translation, which a MOV CR3
	 * keeps (soft_code_jump_cache_clear_nonglobal). */
	struct soft_block *jc[2][SOFT_JC_SIZE];
	uint8_t jc_global[2][SOFT_JC_SIZE];
	/* System mode: each entry's guest-physical page (gpa >> 12), so that a write to kernel
	 * text drops only that page's entries; the pages written since the last drop, queued by
	 * the writing CPU under vm_code's lock (more than SOFT_JC_INVAL_MAX: drop all). */
	uint64_t jc_page[2][SOFT_JC_SIZE];
	uint64_t jc_inval[SOFT_JC_INVAL_MAX];
	unsigned jc_ninval;
	/* The slots filled through non-global translations since the last MOV CR3 (more than
	 * SOFT_JC_DIRTY_MAX: scan them all), so that a CR3 write visits only those. */
	uint16_t jc_dirty[2][SOFT_JC_DIRTY_MAX];
	unsigned jc_ndirty[2];
	uintptr_t pages[SOFT_CODE_PAGES]; /* open addressing; 0 = empty */
	uint8_t *jit;              /* JIT arena (jit.c), executable view; NULL: interpreter only */
	uint8_t *jit_w;            /* the same pages, writable view (jit.c emits there) */
	size_t jit_used, jit_start;
	soft_handler dispatch[ZYDIS_MNEMONIC_MAX_VALUE + 1];
	soft_handler dispatch_mmx[ZYDIS_MNEMONIC_MAX_VALUE + 1]; /* forms with an MM operand */
};

struct soft_code_cache *soft_code_create(void);
void soft_code_destroy(struct soft_code_cache *cc);
/* Returns true when host page held decoded code (the cache is then flushed before the next
 * block runs). User mode only: system mode tracks code per VM by guest-physical page. */
bool soft_code_page_written(struct soft_cpu *c, uintptr_t host_page);
void soft_code_jump_cache_clear(struct soft_cpu *c);
void soft_code_jump_cache_clear_nonglobal(struct soft_cpu *c);
/* System mode: serve jc_clear_pending, dropping the entries of the queued pages. */
void soft_code_jump_cache_drop_written(struct soft_cpu *c);

/* The jump-cache slot of rip at privilege priv. */
static inline struct soft_block **soft_jc_slot(struct soft_code_cache *cc, unsigned priv,
					       uint64_t rip)
{
	return &cc->jc[priv][(rip >> 1) & (SOFT_JC_SIZE - 1)];
}
struct soft_block *soft_code_lookup(struct soft_cpu *c, uint64_t rip);
/* The Zydis machine mode of a code-segment mode. decode.c */
ZydisMachineMode soft_zydis_mode(enum soft_cs_mode m);
/* Decode one instruction into op; returns false at invalid encodings. decode.c */
bool soft_decode_insn(struct soft_cpu *c, const uint8_t *bytes, unsigned avail, uint64_t rip,
		      struct soft_op *op, bool *ends_block, ZyanStatus *status);

#endif
