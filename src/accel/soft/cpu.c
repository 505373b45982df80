/* soft_cpu lifecycle and state accessors: creation builds the dispatch table from the family
 * tables (alu.c, shift.c, ...) and resets the CPU to 64-bit mode. */
#include <stdlib.h>

#include "accel/soft/soft_jit.h"
#include "accel/soft/soft_sys.h"

#define SOFT_FAMILY_ROW(f) soft_##f##_defs,

struct soft_cpu *soft_cpu_create(const struct soft_mem_ops *mem, void *mem_ctx)
{
	struct soft_cpu *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cache = soft_code_create();
	if (!c->cache) {
		free(c);
		return NULL;
	}
	const struct soft_insn_def *const families[] = { SOFT_FAMILIES(SOFT_FAMILY_ROW) };
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (const struct soft_insn_def *d = families[f]; d->fn; d++)
			c->cache->dispatch[d->mnem] = d->fn;
	for (const struct soft_insn_def *d = soft_mmx_reg_defs; d->fn; d++)
		c->cache->dispatch_mmx[d->mnem] = d->fn;
	const char *jit = getenv("HARDY_SOFT_JIT");
	if (!jit || strcmp(jit, "0") != 0)
		soft_jit_init(c->cache);
	c->mem = mem;
	c->mem_ctx = mem_ctx;
	c->rflags = 2;
	c->lf_op = SOFT_LF_NONE;
	c->mxcsr = 0x1f80;
	c->fpu_cw = 0x37f;
	c->tlb = c->tlb_set[0];
	soft_cpu_tlb_flush(c);
	return c;
}

void soft_cpu_destroy(struct soft_cpu *c)
{
	if (!c)
		return;
	if (c->system && c->sys.vm_code)
		soft_vm_code_detach(c->sys.vm_code, c);
	soft_code_destroy(c->cache);
	free(c);
}

uint64_t soft_cpu_get_rflags(struct soft_cpu *c)
{
	return soft_flags_get(c);
}

void soft_cpu_set_rflags(struct soft_cpu *c, uint64_t rflags)
{
	soft_flags_set(c, rflags);
}

void soft_h_ud(struct soft_cpu *c, const struct soft_op *op)
{
	soft_raise(c, SOFT_VEC_UD, 0, soft_op_rip(op));
}

bool soft_cpu_set_jit(struct soft_cpu *c, bool on)
{
	struct soft_code_cache *cc = c->cache;
	if (on == (cc->jit != NULL))
		return on;
	/* Compiled blocks cannot be interpreted (their ops return to JIT code): start over. */
	cc->flush_pending = true;
	if (on)
		return soft_jit_init(cc);
	soft_jit_destroy(cc);
	return false;
}

void soft_cpu_after_fork(struct soft_cpu *c)
{
	if (c->cache->jit && soft_cpu_set_jit(c, false) == false)
		soft_cpu_set_jit(c, true);
}
