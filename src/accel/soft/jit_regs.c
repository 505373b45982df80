/* The baseline JIT's register cache (see soft_jit.h): within a block, guest GPRs are kept in
 * ten host registers, LRU-replaced. Write-through: every write still goes to struct soft_cpu,
 * so only reads are saved, and nothing needs a flush before a handler, a stub or an exception.
 * Templates reach guest GPRs only through these functions (jit_emit.h); what bypasses them
 * (handler calls, partial writes, SETcc, SSE moves to a GPR) forgets the registers involved. */
#include <string.h>

#include "accel/soft/jit_emit.h"

#if defined(__x86_64__)

/* Host register of each slot: callee-saved first (SOFT_JIT_NSAVED), then caller-saved. */
static const uint8_t cache_host[SOFT_JIT_NREGS] = { 5, 12, 13, 14, 15, 7, 8, 9, 10, 11 };

static int cache_find(const struct soft_jit_ctx *x, unsigned g)
{
	for (int k = 0; k < SOFT_JIT_NREGS; k++)
		if (x->regs.guest[k] == (int8_t)g)
			return k;
	return -1;
}

static void cache_touch(struct soft_jit_ctx *x, int k)
{
	x->regs.stamp[k] = ++x->regs.clock;
}

/* A slot for guest register g (not cached): a free one, else the least recently used. */
static int cache_take(struct soft_jit_ctx *x, unsigned g)
{
	int v = 0;
	for (int k = 0; k < SOFT_JIT_NREGS; k++) {
		if (x->regs.guest[k] < 0) {
			v = k;
			break;
		}
		if (x->regs.stamp[k] < x->regs.stamp[v])
			v = k;
	}
	x->regs.guest[v] = (int8_t)g;
	cache_touch(x, v);
	return v;
}

/* mov host register h, [rbx + guest register g] (64-bit). */
static void cache_load(struct soft_emit *e, unsigned h, unsigned g)
{
	rex_rr(e, true, h, 0, false);
	b(e, 0x8b);
	m_rbx(e, h & 7, OFF_GPR(g));
}

void soft_jit_regs_forget(struct soft_jit_ctx *x)
{
	memset(x->regs.guest, -1, sizeof(x->regs.guest));
}

void soft_jit_regs_forget_volatile(struct soft_jit_ctx *x)
{
	for (unsigned k = SOFT_JIT_NSAVED; k < SOFT_JIT_NREGS; k++)
		x->regs.guest[k] = -1;
}

void soft_jit_regs_reload(struct soft_emit *e, const struct soft_jit_regs *regs)
{
	for (unsigned k = 0; k < SOFT_JIT_NREGS; k++)
		if (regs->guest[k] >= 0)
			cache_load(e, cache_host[k], (unsigned)regs->guest[k]);
}

void soft_jit_gpr_written(struct soft_jit_ctx *x, unsigned reg)
{
	int k = cache_find(x, reg & 15);
	if (k >= 0)
		x->regs.guest[k] = -1;
}

int soft_jit_gpr_cached(const struct soft_jit_ctx *x, unsigned g)
{
	int k = cache_find(x, g);
	return k < 0 ? -1 : cache_host[k];
}

unsigned soft_jit_gpr_host(struct soft_jit_ctx *x, unsigned g)
{
	int k = cache_find(x, g);
	if (k < 0) {
		k = cache_take(x, g);
		cache_load(&x->e, cache_host[k], g);
	}
	cache_touch(x, k);
	return cache_host[k];
}

void soft_jit_ld_gpr(struct soft_jit_ctx *x, unsigned r, unsigned g, unsigned sz)
{
	struct soft_emit *e = &x->e;
	if (g >= 16) { /* not a plain GPR slot: memory, as before */
		ld(e, r, OFF_GPR(g), sz);
		return;
	}
	unsigned h = soft_jit_gpr_host(x, g);
	if (sz >= 4) {
		rr(e, 0x89, r, h, sz); /* mov r, h (a 32-bit move zero-extends) */
		return;
	}
	rex_rr(e, false, r, h, sz == 1); /* movzx r32, h16 / h8 */
	b2(e, 0x0f, sz == 2 ? 0xb7 : 0xb6);
	b(e, 0xc0 | (r << 3) | (h & 7));
}

void soft_jit_st_gpr(struct soft_jit_ctx *x, unsigned r, unsigned g)
{
	st64(&x->e, r, OFF_GPR(g));
	if (g >= 16) {
		soft_jit_gpr_written(x, g);
		return;
	}
	int k = cache_find(x, g);
	if (k < 0)
		k = cache_take(x, g);
	cache_touch(x, k);
	rr(&x->e, 0x89, cache_host[k], r, 8); /* mov h, r */
}

void soft_jit_wr_gpr(struct soft_jit_ctx *x, unsigned g, unsigned sz)
{
	struct soft_emit *e = &x->e;
	if (sz <= 2) {
		if (sz == 2)
			b(e, 0x66);
		b(e, sz == 1 ? 0x88 : 0x89); /* mov [rbx + g], al / ax */
		m_rbx(e, RAX, OFF_GPR(g));
		soft_jit_gpr_written(x, g);
		return;
	}
	if (sz == 4)
		rr(e, 0x89, RAX, RAX, 4);
	soft_jit_st_gpr(x, RAX, g);
}

#endif
