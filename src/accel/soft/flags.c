/* Lazy RFLAGS: the arithmetic flags are recomputed on demand from the last flag-setting
 * operation recorded by soft_setlf()/soft_setlf_res(). Conditions for Jcc/SETcc/CMOVcc are
 * evaluated straight from that record without building the whole RFLAGS value. */
#include "accel/soft/soft_internal.h"

static bool parity(uint64_t res)
{
	return !__builtin_parity((unsigned)(res & 0xff));
}

bool soft_get_cf(const struct soft_cpu *c)
{
	uint64_t m = soft_mask(c->lf_size);
	uint64_t r = c->lf_res & m, a = c->lf_a & m, b = c->lf_b & m;
	switch (c->lf_op) {
	case SOFT_LF_ADD: return r < a;
	case SOFT_LF_ADC: return c->lf_aux ? r <= a : r < a;
	case SOFT_LF_SUB: return a < b;
	case SOFT_LF_SBB: return c->lf_aux ? a <= b : a < b;
	case SOFT_LF_LOGIC: return false;
	case SOFT_LF_INC:
	case SOFT_LF_DEC: return c->lf_aux & 1;
	case SOFT_LF_NEG: return a != 0;
	case SOFT_LF_RES: return c->lf_aux & SOFT_CF;
	default: return c->rflags & SOFT_CF;
	}
}

static bool get_zf(const struct soft_cpu *c)
{
	if (c->lf_op == SOFT_LF_NONE)
		return c->rflags & SOFT_ZF;
	return (c->lf_res & soft_mask(c->lf_size)) == 0;
}

static bool get_sf(const struct soft_cpu *c)
{
	if (c->lf_op == SOFT_LF_NONE)
		return c->rflags & SOFT_SF;
	return (c->lf_res & soft_sbit(c->lf_size)) != 0;
}

static bool get_of(const struct soft_cpu *c)
{
	uint64_t s = soft_sbit(c->lf_size), m = soft_mask(c->lf_size);
	uint64_t r = c->lf_res, a = c->lf_a, b = c->lf_b;
	switch (c->lf_op) {
	case SOFT_LF_ADD:
	case SOFT_LF_ADC: return ((a ^ r) & (b ^ r) & s) != 0;
	case SOFT_LF_SUB:
	case SOFT_LF_SBB: return ((a ^ b) & (a ^ r) & s) != 0;
	case SOFT_LF_LOGIC: return false;
	case SOFT_LF_INC: return (r & m) == s;
	case SOFT_LF_DEC: return (r & m) == s - 1;
	case SOFT_LF_NEG: return (r & m) == s;
	case SOFT_LF_RES: return c->lf_aux & SOFT_OF;
	default: return c->rflags & SOFT_OF;
	}
}

static bool get_af(const struct soft_cpu *c)
{
	switch (c->lf_op) {
	case SOFT_LF_ADD: case SOFT_LF_ADC: case SOFT_LF_SUB: case SOFT_LF_SBB:
		return ((c->lf_a ^ c->lf_b ^ c->lf_res) & 0x10) != 0;
	case SOFT_LF_INC: return (c->lf_res & 0xf) == 0;
	case SOFT_LF_DEC: return (c->lf_res & 0xf) == 0xf;
	case SOFT_LF_NEG: return ((c->lf_a ^ c->lf_res) & 0x10) != 0;
	case SOFT_LF_LOGIC: return false;
	case SOFT_LF_RES: return c->lf_aux & SOFT_AF;
	default: return c->rflags & SOFT_AF;
	}
}

static bool get_pf(const struct soft_cpu *c)
{
	if (c->lf_op == SOFT_LF_NONE)
		return c->rflags & SOFT_PF;
	return parity(c->lf_res);
}

uint64_t soft_flags_get(struct soft_cpu *c)
{
	uint64_t f = (c->rflags & ~(uint64_t)SOFT_ARITH_FLAGS) | 2;
	if (c->lf_op == SOFT_LF_NONE)
		return f | (c->rflags & SOFT_ARITH_FLAGS);
	f |= soft_get_cf(c) ? SOFT_CF : 0;
	f |= get_pf(c) ? SOFT_PF : 0;
	f |= get_af(c) ? SOFT_AF : 0;
	f |= get_zf(c) ? SOFT_ZF : 0;
	f |= get_sf(c) ? SOFT_SF : 0;
	f |= get_of(c) ? SOFT_OF : 0;
	return f;
}

void soft_flags_set(struct soft_cpu *c, uint64_t rflags)
{
	c->rflags = rflags | 2;
	c->lf_op = SOFT_LF_NONE;
}

bool soft_cond(const struct soft_cpu *c, unsigned cc)
{
	bool r;
	/* Fast paths for the common compare-and-branch idioms. */
	if (c->lf_op == SOFT_LF_SUB && cc >= 2) {
		uint64_t m = soft_mask(c->lf_size);
		uint64_t a = c->lf_a & m, b = c->lf_b & m;
		int64_t sa = soft_sext(a, c->lf_size), sb = soft_sext(b, c->lf_size);
		switch (cc >> 1) {
		case 1: r = a < b; break;                  /* B */
		case 2: r = a == b; break;                 /* E */
		case 3: r = a <= b; break;                 /* BE */
		case 6: r = sa < sb; break;                /* L */
		case 7: r = sa <= sb; break;               /* LE */
		default: goto generic;
		}
		return r ^ (cc & 1);
	}
generic:
	switch (cc >> 1) {
	case 0: r = get_of(c); break;
	case 1: r = soft_get_cf(c); break;
	case 2: r = get_zf(c); break;
	case 3: r = soft_get_cf(c) || get_zf(c); break;
	case 4: r = get_sf(c); break;
	case 5: r = get_pf(c); break;
	case 6: r = get_sf(c) != get_of(c); break;
	default: r = get_zf(c) || (get_sf(c) != get_of(c)); break;
	}
	return r ^ (cc & 1);
}
