/* Bit family: BT/BTS/BTR/BTC (register and memory bit strings), BSF/BSR, TZCNT/LZCNT/POPCNT,
 * BSWAP, and the BMI1/BMI2 group (ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, PDEP, PEXT). Flags the
 * manuals call undefined are left as they were (BT*), or derived from the result. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

enum { B_BT, B_BTS, B_BTR, B_BTC };

static uint64_t rmw_bts(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o | x; }
static uint64_t rmw_btr(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o & ~x; }
static uint64_t rmw_btc(uint64_t o, uint64_t x, uint64_t y) { (void)y; return o ^ x; }

static void set_cf_only(struct soft_cpu *c, bool cf)
{
	uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_CF;
	soft_flags_set(c, f | (cf ? SOFT_CF : 0));
}

static inline void bt(struct soft_cpu *c, const struct soft_op *op, unsigned kind)
{
	unsigned sz = op->o[0].size, bits = sz * 8;
	uint64_t off = soft_rd(c, op, 1), old, nw;
	if (op->o[0].kind == SOFT_OPND_REG) {
		uint64_t mask = 1ULL << (off & (bits - 1));
		old = soft_reg_get(c, op->o[0].reg, sz);
		nw = kind == B_BTS ? old | mask : kind == B_BTR ? old & ~mask : old ^ mask;
		if (kind != B_BT)
			soft_reg_set(c, op->o[0].reg, sz, nw);
		set_cf_only(c, old & mask);
		return;
	}
	uint64_t addr = soft_ea(c, op);
	if (op->o[1].kind != SOFT_OPND_IMM) {
		int64_t s = soft_sext(off, op->o[1].size);
		addr += (uint64_t)((s >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * (int64_t)sz);
	}
	uint64_t mask = 1ULL << (off & (bits - 1));
	if (kind == B_BT) {
		old = soft_ld(c, addr, sz);
	} else {
		soft_rmw_fn f = kind == B_BTS ? rmw_bts : kind == B_BTR ? rmw_btr : rmw_btc;
		old = soft_rmw(c, addr, sz, op->pfx & SOFT_PFX_LOCK, f, mask, 0, &nw);
	}
	set_cf_only(c, old & mask);
}

static void h_bt(struct soft_cpu *c, const struct soft_op *op) { bt(c, op, B_BT); }
static void h_bts(struct soft_cpu *c, const struct soft_op *op) { bt(c, op, B_BTS); }
static void h_btr(struct soft_cpu *c, const struct soft_op *op) { bt(c, op, B_BTR); }
static void h_btc(struct soft_cpu *c, const struct soft_op *op) { bt(c, op, B_BTC); }

static void set_zf_only(struct soft_cpu *c, bool zf)
{
	uint64_t f = soft_flags_get(c) & ~(uint64_t)SOFT_ZF;
	soft_flags_set(c, f | (zf ? SOFT_ZF : 0));
}

static void h_bsf(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = soft_rd(c, op, 1);
	if (v)
		soft_reg_set(c, op->o[0].reg, op->o[0].size, (uint64_t)__builtin_ctzll(v));
	set_zf_only(c, v == 0);
}

static void h_bsr(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t v = soft_rd(c, op, 1);
	if (v)
		soft_reg_set(c, op->o[0].reg, op->o[0].size, (uint64_t)(63 - __builtin_clzll(v)));
	set_zf_only(c, v == 0);
}

static void h_tzcnt(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t v = soft_rd(c, op, 1);
	uint64_t r = v ? (uint64_t)__builtin_ctzll(v) : sz * 8;
	soft_reg_set(c, op->o[0].reg, sz, r);
	soft_setlf_res(c, sz, r, v == 0 ? SOFT_CF : 0);
}

static void h_lzcnt(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t v = soft_rd(c, op, 1);
	uint64_t r = v ? (uint64_t)(__builtin_clzll(v) - (64 - sz * 8)) : sz * 8;
	soft_reg_set(c, op->o[0].reg, sz, r);
	soft_setlf_res(c, sz, r, v == 0 ? SOFT_CF : 0);
}

static void h_popcnt(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->o[0].size;
	uint64_t v = soft_rd(c, op, 1), r = (uint64_t)__builtin_popcountll(v);
	soft_reg_set(c, op->o[0].reg, sz, r);
	soft_flags_set(c, (soft_flags_get(c) & ~(uint64_t)SOFT_ARITH_FLAGS) | (v ? 0 : SOFT_ZF));
}

static void h_bswap(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned r = op->o[0].reg;
	if (op->o[0].size == 8)
		c->gpr[r] = __builtin_bswap64(c->gpr[r]);
	else if (op->o[0].size == 4)
		c->gpr[r] = __builtin_bswap32((uint32_t)c->gpr[r]);
	else
		soft_reg_set(c, r, 2, 0); /* BSWAP r16 is undefined; hardware gives 0 */
}

/* Logical BMI results: SF/ZF from result, CF/OF as given. */
static void bmi_out(struct soft_cpu *c, const struct soft_op *op, uint64_t r, bool cf)
{
	unsigned sz = op->o[0].size;
	r &= soft_mask(sz);
	soft_reg_set(c, op->o[0].reg, sz, r);
	soft_setlf_res(c, sz, r, cf ? SOFT_CF : 0);
}

static void h_andn(struct soft_cpu *c, const struct soft_op *op)
{
	bmi_out(c, op, ~soft_rd(c, op, 1) & soft_rd(c, op, 2), false);
}

static void h_blsi(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = soft_rd(c, op, 1);
	bmi_out(c, op, s & (0 - s), s != 0);
}

static void h_blsmsk(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = soft_rd(c, op, 1);
	bmi_out(c, op, s ^ (s - 1), s == 0);
}

static void h_blsr(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = soft_rd(c, op, 1);
	bmi_out(c, op, s & (s - 1), s == 0);
}

static void h_bextr(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned bits = op->o[0].size * 8;
	uint64_t s = soft_rd(c, op, 1), ctl = soft_rd(c, op, 2);
	unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
	uint64_t r = start < bits ? s >> start : 0;
	if (len < 64)
		r &= (1ULL << len) - 1;
	bmi_out(c, op, r, false);
}

static void h_bzhi(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned bits = op->o[0].size * 8;
	uint64_t s = soft_rd(c, op, 1);
	unsigned n = soft_rd(c, op, 2) & 0xff;
	uint64_t r = n < bits ? s & ((1ULL << n) - 1) : s;
	bmi_out(c, op, r, n > bits - 1);
}

static void h_pdep(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = soft_rd(c, op, 1), m = soft_rd(c, op, 2), r = 0;
	for (uint64_t bit = 1; m; m &= m - 1, bit <<= 1)
		if (s & bit)
			r |= m & (0 - m);
	soft_reg_set(c, op->o[0].reg, op->o[0].size, r);
}

static void h_pext(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t s = soft_rd(c, op, 1), m = soft_rd(c, op, 2), r = 0;
	for (uint64_t bit = 1; m; m &= m - 1, bit <<= 1)
		if (s & m & (0 - m))
			r |= bit;
	soft_reg_set(c, op->o[0].reg, op->o[0].size, r);
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_bt)
SOFT_THREADED(h_bts)
SOFT_THREADED(h_btr)
SOFT_THREADED(h_btc)
SOFT_THREADED(h_bsf)
SOFT_THREADED(h_bsr)
SOFT_THREADED(h_tzcnt)
SOFT_THREADED(h_lzcnt)
SOFT_THREADED(h_popcnt)
SOFT_THREADED(h_bswap)
SOFT_THREADED(h_andn)
SOFT_THREADED(h_blsi)
SOFT_THREADED(h_blsmsk)
SOFT_THREADED(h_blsr)
SOFT_THREADED(h_bextr)
SOFT_THREADED(h_bzhi)
SOFT_THREADED(h_pdep)
SOFT_THREADED(h_pext)

const struct soft_insn_def soft_bit_defs[] = {
	{ ZYDIS_MNEMONIC_BT, h_bt_t }, { ZYDIS_MNEMONIC_BTS, h_bts_t }, { ZYDIS_MNEMONIC_BTR, h_btr_t },
	{ ZYDIS_MNEMONIC_BTC, h_btc_t }, { ZYDIS_MNEMONIC_BSF, h_bsf_t }, { ZYDIS_MNEMONIC_BSR, h_bsr_t },
	{ ZYDIS_MNEMONIC_TZCNT, h_tzcnt_t }, { ZYDIS_MNEMONIC_LZCNT, h_lzcnt_t },
	{ ZYDIS_MNEMONIC_POPCNT, h_popcnt_t }, { ZYDIS_MNEMONIC_BSWAP, h_bswap_t },
	{ ZYDIS_MNEMONIC_ANDN, h_andn_t }, { ZYDIS_MNEMONIC_BLSI, h_blsi_t },
	{ ZYDIS_MNEMONIC_BLSMSK, h_blsmsk_t }, { ZYDIS_MNEMONIC_BLSR, h_blsr_t },
	{ ZYDIS_MNEMONIC_BEXTR, h_bextr_t }, { ZYDIS_MNEMONIC_BZHI, h_bzhi_t },
	{ ZYDIS_MNEMONIC_PDEP, h_pdep_t }, { ZYDIS_MNEMONIC_PEXT, h_pext_t },
	{ 0, NULL },
};
