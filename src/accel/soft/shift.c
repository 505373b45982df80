/* Shift and rotate family: SHL/SAL/SHR/SAR, ROL/ROR/RCL/RCR, SHLD/SHRD, and the BMI2 flagless
 * SHLX/SHRX/SARX/RORX. A masked count of zero leaves flags untouched. OF is defined for count 1;
 * for larger counts this CPU computes it with the count-1 formula, as recent Intel cores do. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

static unsigned shift_count(struct soft_cpu *c, const struct soft_op *op, unsigned sz)
{
	uint64_t n = op->nopnd > 1 ? soft_rd(c, op, 1) : 1;
	return (unsigned)(n & (sz == 8 ? 63 : 31));
}

/* Write the result to operand 0 (computing the address once). */
static void put(struct soft_cpu *c, const struct soft_op *op, uint64_t addr, uint64_t v)
{
	if (op->o[0].kind == SOFT_OPND_REG)
		soft_reg_set(c, op->o[0].reg, op->o[0].size, v);
	else
		soft_st(c, addr, op->o[0].size, v);
}

static uint64_t get(struct soft_cpu *c, const struct soft_op *op, uint64_t *addr)
{
	if (op->o[0].kind == SOFT_OPND_REG)
		return soft_reg_get(c, op->o[0].reg, op->o[0].size);
	*addr = soft_ea(c, op);
	return soft_ld(c, *addr, op->o[0].size);
}

enum { S_SHL, S_SHR, S_SAR, S_ROL, S_ROR, S_RCL, S_RCR };

static inline void shift(struct soft_cpu *c, const struct soft_op *op, unsigned kind)
{
	unsigned sz = op->o[0].size, bits = sz * 8;
	unsigned n = shift_count(c, op, sz);
	uint64_t addr = 0, a = get(c, op, &addr), m = soft_mask(sz), r, cf, of;
	if (n == 0) {
		put(c, op, addr, a); /* still written: may fault, zero-extends a 32-bit register */
		return;
	}
	switch (kind) {
	case S_SHL:
		r = n < 64 ? (a << n) & m : 0;
		cf = n <= bits ? (a >> (bits - n)) & 1 : 0;
		of = ((r >> (bits - 1)) & 1) ^ cf;
		break;
	case S_SHR:
		r = n < 64 ? a >> n : 0;
		cf = (a >> (n - 1)) & 1;
		of = (a >> (bits - 1)) & 1;
		break;
	default: { /* S_SAR */
		int64_t s = soft_sext(a, sz);
		r = (uint64_t)(s >> (n < 64 ? n : 63)) & m;
		cf = (uint64_t)(s >> (n - 1 < 63 ? n - 1 : 63)) & 1;
		of = 0;
		break;
	}
	}
	put(c, op, addr, r);
	soft_setlf_res(c, sz, r, (cf ? SOFT_CF : 0) | (of ? SOFT_OF : 0));
}

static inline void rotate(struct soft_cpu *c, const struct soft_op *op, unsigned kind)
{
	unsigned sz = op->o[0].size, bits = sz * 8;
	unsigned n = shift_count(c, op, sz);
	uint64_t addr = 0, a = get(c, op, &addr), m = soft_mask(sz), r = a;
	uint64_t f = soft_flags_get(c), cf = f & SOFT_CF, of;
	if (kind == S_RCL || kind == S_RCR) {
		n %= bits + 1;
		if (n == 0) {
			put(c, op, addr, a);
			return;
		}
		for (unsigned i = 0; i < n; i++) {
			uint64_t out;
			if (kind == S_RCL) {
				out = (r >> (bits - 1)) & 1;
				r = ((r << 1) | cf) & m;
			} else {
				out = r & 1;
				r = (r >> 1) | (cf << (bits - 1));
			}
			cf = out;
		}
		if (kind == S_RCL)
			of = ((r >> (bits - 1)) & 1) ^ cf;
		else
			of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
	} else {
		unsigned k = n & (bits - 1);
		if (n == 0) {
			put(c, op, addr, a);
			return;
		}
		if (kind == S_ROL) {
			r = k ? ((a << k) | (a >> (bits - k))) & m : a;
			cf = r & 1;
			of = ((r >> (bits - 1)) & 1) ^ cf;
		} else {
			r = k ? ((a >> k) | (a << (bits - k))) & m : a;
			cf = (r >> (bits - 1)) & 1;
			of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
		}
	}
	put(c, op, addr, r);
	f &= ~(uint64_t)(SOFT_CF | SOFT_OF);
	soft_flags_set(c, f | (cf ? SOFT_CF : 0) | (of ? SOFT_OF : 0));
}

static void h_shl(struct soft_cpu *c, const struct soft_op *op) { shift(c, op, S_SHL); }
static void h_shr(struct soft_cpu *c, const struct soft_op *op) { shift(c, op, S_SHR); }
static void h_sar(struct soft_cpu *c, const struct soft_op *op) { shift(c, op, S_SAR); }
static void h_rol(struct soft_cpu *c, const struct soft_op *op) { rotate(c, op, S_ROL); }
static void h_ror(struct soft_cpu *c, const struct soft_op *op) { rotate(c, op, S_ROR); }
static void h_rcl(struct soft_cpu *c, const struct soft_op *op) { rotate(c, op, S_RCL); }
static void h_rcr(struct soft_cpu *c, const struct soft_op *op) { rotate(c, op, S_RCR); }

/* SHLD/SHRD dst, src, count. */
static void shd(struct soft_cpu *c, const struct soft_op *op, bool left)
{
	unsigned sz = op->o[0].size, bits = sz * 8;
	uint64_t cnt = op->o[2].kind == SOFT_OPND_IMM ? op->imm : soft_reg_get(c, SOFT_RCX, 1);
	unsigned n = (unsigned)(cnt & (sz == 8 ? 63 : 31));
	uint64_t addr = 0, a = get(c, op, &addr), b = soft_reg_get(c, op->o[1].reg, sz);
	uint64_t m = soft_mask(sz), r, cf;
	if (n == 0) {
		put(c, op, addr, a); /* a 32-bit destination is still zero-extended */
		return;
	}
	if (bits == 16) {
		/* 16-bit forms work on the 32-bit concatenation (counts > 16 as hardware does). */
		uint64_t cat = left ? (a << 16 | b) : (b << 16 | a);
		if (left) {
			uint64_t w = cat << 32 | b << 16 | a; /* cover counts up to 31 */
			(void)w;
			uint64_t x = (a << 32) | (b << 16) | a;
			r = (x << n >> 32) & 0xffff;
			cf = (x >> (48 - n)) & 1;
		} else {
			uint64_t x = (a << 32) | (b << 16) | a;
			x = (b << 32) | (a << 16) | b;
			x = (x << 16) | a;
			r = (x >> n) & 0xffff;
			cf = (x >> (n - 1)) & 1;
		}
		(void)cat;
	} else if (left) {
		r = ((a << n) | (b >> (bits - n))) & m;
		cf = (a >> (bits - n)) & 1;
	} else {
		r = ((a >> n) | (b << (bits - n))) & m;
		cf = (a >> (n - 1)) & 1;
	}
	uint64_t of = ((r ^ a) >> (bits - 1)) & 1;
	put(c, op, addr, r);
	soft_setlf_res(c, sz, r, (cf ? SOFT_CF : 0) | (of ? SOFT_OF : 0));
}

static void h_shld(struct soft_cpu *c, const struct soft_op *op) { shd(c, op, true); }
static void h_shrd(struct soft_cpu *c, const struct soft_op *op) { shd(c, op, false); }

/* BMI2: dst = src1 op (src2 masked), flags untouched. */
static void bmi_shift(struct soft_cpu *c, const struct soft_op *op, unsigned kind)
{
	unsigned sz = op->o[0].size, bits = sz * 8;
	uint64_t a = soft_rd(c, op, 1), m = soft_mask(sz);
	unsigned n = (unsigned)((kind == S_ROR ? op->imm : soft_rd(c, op, 2)) & (bits - 1));
	uint64_t r;
	switch (kind) {
	case S_SHL: r = a << n; break;
	case S_SHR: r = a >> n; break;
	case S_SAR: r = (uint64_t)(soft_sext(a, sz) >> n); break;
	default: r = n ? (a >> n) | (a << (bits - n)) : a; break;
	}
	soft_reg_set(c, op->o[0].reg, sz, r & m);
}

static void h_shlx(struct soft_cpu *c, const struct soft_op *op) { bmi_shift(c, op, S_SHL); }
static void h_shrx(struct soft_cpu *c, const struct soft_op *op) { bmi_shift(c, op, S_SHR); }
static void h_sarx(struct soft_cpu *c, const struct soft_op *op) { bmi_shift(c, op, S_SAR); }
static void h_rorx(struct soft_cpu *c, const struct soft_op *op) { bmi_shift(c, op, S_ROR); }

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_shl)
SOFT_THREADED(h_shr)
SOFT_THREADED(h_sar)
SOFT_THREADED(h_rol)
SOFT_THREADED(h_ror)
SOFT_THREADED(h_rcl)
SOFT_THREADED(h_rcr)
SOFT_THREADED(h_shld)
SOFT_THREADED(h_shrd)
SOFT_THREADED(h_shlx)
SOFT_THREADED(h_shrx)
SOFT_THREADED(h_sarx)
SOFT_THREADED(h_rorx)

const struct soft_insn_def soft_shift_defs[] = {
	{ ZYDIS_MNEMONIC_SHL, h_shl_t }, { ZYDIS_MNEMONIC_SHR, h_shr_t },
	{ ZYDIS_MNEMONIC_SAR, h_sar_t }, { ZYDIS_MNEMONIC_ROL, h_rol_t }, { ZYDIS_MNEMONIC_ROR, h_ror_t },
	{ ZYDIS_MNEMONIC_RCL, h_rcl_t }, { ZYDIS_MNEMONIC_RCR, h_rcr_t },
	{ ZYDIS_MNEMONIC_SHLD, h_shld_t }, { ZYDIS_MNEMONIC_SHRD, h_shrd_t },
	{ ZYDIS_MNEMONIC_SHLX, h_shlx_t }, { ZYDIS_MNEMONIC_SHRX, h_shrx_t },
	{ ZYDIS_MNEMONIC_SARX, h_sarx_t }, { ZYDIS_MNEMONIC_RORX, h_rorx_t },
	{ 0, NULL },
};
