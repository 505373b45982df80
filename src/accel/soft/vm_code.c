/* Decoded-code tracking shared by the CPUs of one VM: a bitmap over guest-physical pages that
 * hold decoded code in some CPU. Pages with code never keep a TLB write tag, so every write to
 * them takes a CPU's slow path, which clears the bit and gives the page a new generation: the
 * blocks decoded from it before are stale (soft_code_lookup drops them), and every CPU drops
 * that page's jump-cache entries before it runs another block. Only the written page's code
 * goes, so patching kernel text (alternatives, static keys) does not recompile everything per
 * write. A CPU that decodes code on a new page bumps a generation; the others then drop their
 * write tags for it at their next run-loop iteration (soft_vm_code_sync). Until then a write by
 * another CPU may miss code decoded a moment ago, the cross-modifying-code window that hardware
 * has too (SDM 8.1.3). */
#include <pthread.h>
#include <stdlib.h>

#include "accel/soft/soft_sys.h"
#include "accel/soft/soft_code.h"

#define VM_CODE_MAX_CPUS 256

struct soft_vm_code {
	uint64_t npages; /* pages tracked one by one; pages above share bit npages */
	uint64_t *bits;
	uint64_t gen;    /* bumped when a page gains code */
	uint32_t *page_gen; /* per page (and the shared bit): the last write's generation */
	uint32_t write_gen; /* source of page_gen values, unique per write (0: never written) */
	pthread_mutex_t lock; /* guards cpus */
	unsigned ncpus;
	struct soft_cpu *cpus[VM_CODE_MAX_CPUS];
};

struct soft_vm_code *soft_vm_code_create(uint64_t phys_size)
{
	struct soft_vm_code *vc = calloc(1, sizeof(*vc));
	if (!vc)
		return NULL;
	vc->npages = (phys_size + 4095) >> 12;
	vc->bits = calloc(vc->npages / 64 + 1, sizeof(uint64_t));
	vc->page_gen = calloc(vc->npages + 1, sizeof(uint32_t));
	if (!vc->bits || !vc->page_gen) {
		free(vc->bits);
		free(vc->page_gen);
		free(vc);
		return NULL;
	}
	pthread_mutex_init(&vc->lock, NULL);
	return vc;
}

void soft_vm_code_destroy(struct soft_vm_code *vc)
{
	if (!vc)
		return;
	pthread_mutex_destroy(&vc->lock);
	free(vc->page_gen);
	free(vc->bits);
	free(vc);
}

void soft_vm_code_attach(struct soft_vm_code *vc, struct soft_cpu *c)
{
	pthread_mutex_lock(&vc->lock);
	if (vc->ncpus < VM_CODE_MAX_CPUS)
		vc->cpus[vc->ncpus++] = c;
	c->vm_code_gen = __atomic_load_n(&vc->gen, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&vc->lock);
}

void soft_vm_code_detach(struct soft_vm_code *vc, struct soft_cpu *c)
{
	pthread_mutex_lock(&vc->lock);
	for (unsigned i = 0; i < vc->ncpus; i++)
		if (vc->cpus[i] == c) {
			vc->cpus[i] = vc->cpus[--vc->ncpus];
			break;
		}
	pthread_mutex_unlock(&vc->lock);
}

static uint64_t bit_of(const struct soft_vm_code *vc, uint64_t gpa)
{
	uint64_t p = gpa >> 12;
	return p < vc->npages ? p : vc->npages;
}

static bool bit_test(const struct soft_vm_code *vc, uint64_t gpa)
{
	uint64_t b = bit_of(vc, gpa);
	return __atomic_load_n(&vc->bits[b >> 6], __ATOMIC_ACQUIRE) & (1ULL << (b & 63));
}

uint32_t soft_vm_code_page_gen(const struct soft_vm_code *vc, uint64_t gpa)
{
	return __atomic_load_n(&vc->page_gen[bit_of(vc, gpa)], __ATOMIC_ACQUIRE);
}

/* Every CPU of the VM: drop gpa's page from the jump cache before the next block (chain_left
 * 0 sends the dispatch back to the run loop, which does it: soft_code_jump_cache_drop_written),
 * so stale blocks are only reached through soft_code_lookup's check. Asked before the
 * generation changes: a CPU that sees the new generation also sees the request. Pages above
 * RAM share one bit, so a write there drops everything. */
static void inval_all_cpus(struct soft_vm_code *vc, uint64_t gpa)
{
	uint64_t page = bit_of(vc, gpa) == vc->npages ? SOFT_JC_ANY_PAGE : gpa >> 12;
	pthread_mutex_lock(&vc->lock);
	for (unsigned i = 0; i < vc->ncpus; i++) {
		struct soft_code_cache *cc = vc->cpus[i]->cache;
		if (page != SOFT_JC_ANY_PAGE && cc->jc_ninval < SOFT_JC_INVAL_MAX)
			cc->jc_inval[cc->jc_ninval++] = page;
		else
			cc->jc_ninval = SOFT_JC_INVAL_MAX + 1;
		__atomic_store_n(&cc->jc_clear_pending, true, __ATOMIC_RELEASE);
		__atomic_store_n(&vc->cpus[i]->chain_left, 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vc->lock);
}

unsigned soft_vm_code_take_written(struct soft_cpu *c, uint64_t *pages)
{
	struct soft_vm_code *vc = c->sys.vm_code;
	struct soft_code_cache *cc = c->cache;
	if (!vc) { /* nobody queues pages then: drop everything */
		__atomic_store_n(&cc->jc_clear_pending, false, __ATOMIC_RELEASE);
		return SOFT_JC_INVAL_MAX + 1;
	}
	pthread_mutex_lock(&vc->lock);
	unsigned n = cc->jc_ninval;
	for (unsigned k = 0; k < n && k < SOFT_JC_INVAL_MAX; k++)
		pages[k] = cc->jc_inval[k];
	cc->jc_ninval = 0;
	__atomic_store_n(&cc->jc_clear_pending, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vc->lock);
	return n;
}

static void page_gen_bump(struct soft_vm_code *vc, uint64_t gpa)
{
	uint32_t g = __atomic_add_fetch(&vc->write_gen, 1, __ATOMIC_SEQ_CST);
	if (g == 0 || g == SOFT_GEN_NEVER) /* skip the values that mean something else */
		g = __atomic_add_fetch(&vc->write_gen, 2, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vc->page_gen[bit_of(vc, gpa)], g, __ATOMIC_SEQ_CST);
}

/* Drop c's write tags for pages that hold code (page: only that one; ~0: any). */
static void drop_write_tags(struct soft_cpu *c, struct soft_vm_code *vc, uint64_t page)
{
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
			struct soft_tlb_entry *e = &c->tlb_set[s][i];
			if (e->tag_w == 1)
				continue;
			uint64_t gpa = c->tlb_aux[s][i].gpa;
			if (page == ~0ULL ? bit_test(vc, gpa) : gpa == page)
				e->tag_w = 1;
		}
}

void soft_vm_code_note(struct soft_cpu *c, uint64_t gpa)
{
	struct soft_vm_code *vc = c->sys.vm_code;
	if (!vc)
		return;
	uint64_t b = bit_of(vc, gpa), m = 1ULL << (b & 63);
	if (__atomic_load_n(&vc->bits[b >> 6], __ATOMIC_ACQUIRE) & m) {
		/* Another CPU made it code: this one may still hold a write tag for it. */
		if (__atomic_load_n(&vc->gen, __ATOMIC_ACQUIRE) != c->vm_code_gen)
			soft_vm_code_sync(c);
		return;
	}
	if (__atomic_fetch_or(&vc->bits[b >> 6], m, __ATOMIC_SEQ_CST) & m)
		return;
	__atomic_fetch_add(&vc->gen, 1, __ATOMIC_SEQ_CST);
	drop_write_tags(c, vc, gpa & ~0xfffULL);
	pthread_mutex_lock(&vc->lock);
	for (unsigned i = 0; i < vc->ncpus; i++)
		if (vc->cpus[i] != c)
			__atomic_store_n(&vc->cpus[i]->chain_left, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vc->lock);
}

static bool bit_clear(struct soft_vm_code *vc, uint64_t gpa)
{
	uint64_t b = bit_of(vc, gpa), m = 1ULL << (b & 63);
	if (!(__atomic_load_n(&vc->bits[b >> 6], __ATOMIC_ACQUIRE) & m))
		return false;
	return __atomic_fetch_and(&vc->bits[b >> 6], ~m, __ATOMIC_SEQ_CST) & m;
}

bool soft_vm_code_write(struct soft_cpu *c, uint64_t gpa)
{
	struct soft_vm_code *vc = c->sys.vm_code;
	if (!vc || !bit_clear(vc, gpa))
		return false;
	inval_all_cpus(vc, gpa);
	page_gen_bump(vc, gpa);
	return true;
}

void soft_vm_code_written(struct soft_vm_code *vc, uint64_t gpa, uint64_t len)
{
	if (!vc || !len)
		return;
	uint64_t first = gpa & ~0xfffULL;
	for (uint64_t p = first; p < gpa + len && p >= first; p += 4096) {
		if (bit_clear(vc, p)) {
			inval_all_cpus(vc, p);
			page_gen_bump(vc, p);
		}
		if (bit_of(vc, p) == vc->npages)
			break; /* every higher page shares this bit */
	}
}

void soft_vm_code_sync(struct soft_cpu *c)
{
	struct soft_vm_code *vc = c->sys.vm_code;
	if (!vc)
		return;
	uint64_t g = __atomic_load_n(&vc->gen, __ATOMIC_ACQUIRE);
	if (g == c->vm_code_gen)
		return;
	c->vm_code_gen = g;
	drop_write_tags(c, vc, ~0ULL);
}
