/* String family: MOVS, STOS, LODS, CMPS, SCAS with REP/REPE/REPNE, honouring DF and the address
 * size. Forward REP MOVS/STOS run a page-sized chunk at a time through host memcpy/memset. */
#include <Zydis/Zydis.h>

#include "accel/soft/soft_internal.h"

static inline uint64_t areg(const struct soft_cpu *c, const struct soft_op *op, unsigned r)
{
	return soft_addr_mask(op, c->gpr[r]);
}

static inline void aset(struct soft_cpu *c, const struct soft_op *op, unsigned r, uint64_t v)
{
	if (op->asize == 2)
		c->gpr[r] = (c->gpr[r] & ~0xffffULL) | (uint16_t)v;
	else
		c->gpr[r] = op->asize == 4 ? (uint32_t)v : v;
}

static inline int64_t step(const struct soft_cpu *c, unsigned sz)
{
	return (c->rflags & SOFT_DF) ? -(int64_t)sz : (int64_t)sz;
}

/* 64-bit mode: the source's FS/GS base (the page-chunk fast paths run only there). */
static inline uint64_t seg_base(const struct soft_cpu *c, const struct soft_op *op)
{
	unsigned seg = op->seg & SOFT_SEG_MASK;
	return seg == SOFT_SEG_FS ? c->fs_base : seg == SOFT_SEG_GS ? c->gs_base : 0;
}

/* Linear addresses of one element: the source is DS:rSI (or the override), the destination
 * ES:rDI (never overridden); outside 64-bit mode with their bases and limits. */
static inline uint64_t src_at(struct soft_cpu *c, const struct soft_op *op, uint64_t off,
			      unsigned sz)
{
	return soft_seg_implicit(c, op, off, sz);
}

static inline uint64_t dst_at(struct soft_cpu *c, const struct soft_op *op, uint64_t off,
			      unsigned sz)
{
	if (SOFT_UNLIKELY(op->seg & SOFT_SEG_BASED))
		return soft_seg_linear(c, SOFT_ES, off, sz);
	return off;
}

/* Host pointers for a chunk of n bytes at guest a (read or write); NULL if not in one page. */
static uint8_t *chunk_ptr(struct soft_cpu *c, uint64_t a, uint64_t n, unsigned acc)
{
	if ((a & 0xfff) + n > 4096)
		return NULL;
	struct soft_tlb_entry *e = soft_tlbe(c, a);
	uint64_t tag = acc == SOFT_ACC_WRITE ? e->tag_w : e->tag_r;
	if (tag == (a & ~0xfffULL))
		return (uint8_t *)(uintptr_t)(a + e->addend);
	return soft_tlb_fill(c, a, acc);
}

static uint64_t chunk_len(uint64_t a, uint64_t b, uint64_t cnt, unsigned sz)
{
	uint64_t la = (4096 - (a & 0xfff)) / sz, lb = (4096 - (b & 0xfff)) / sz;
	uint64_t n = la < lb ? la : lb;
	return n < cnt ? n : cnt;
}

static void h_movs(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	bool rep = op->pfx & (SOFT_PFX_REP | SOFT_PFX_REPNE);
	uint64_t cnt = rep ? areg(c, op, SOFT_RCX) : 1;
	int64_t d = step(c, sz);
	uint64_t sb = (op->seg & SOFT_SEG_BASED) ? 0 : seg_base(c, op);
	while (cnt) {
		uint64_t s = areg(c, op, SOFT_RSI), t = areg(c, op, SOFT_RDI);
		if (d > 0 && op->asize == 8) {
			uint64_t n = chunk_len(s + sb, t, cnt, sz);
			uint64_t bytes = n * sz;
			if (n > 1 && (t >= s + sb + bytes || s + sb >= t + bytes)) {
				const uint8_t *ps = chunk_ptr(c, s + sb, bytes, SOFT_ACC_READ);
				uint8_t *pd = chunk_ptr(c, t, bytes, SOFT_ACC_WRITE);
				if (ps && pd) {
					memcpy(pd, ps, bytes);
					aset(c, op, SOFT_RSI, s + bytes);
					aset(c, op, SOFT_RDI, t + bytes);
					cnt -= n;
					if (rep)
						aset(c, op, SOFT_RCX, cnt);
					continue;
				}
			}
		}
		soft_st(c, dst_at(c, op, t, sz), sz, soft_ld(c, src_at(c, op, s, sz), sz));
		aset(c, op, SOFT_RSI, s + (uint64_t)d);
		aset(c, op, SOFT_RDI, t + (uint64_t)d);
		cnt--;
		if (rep)
			aset(c, op, SOFT_RCX, cnt);
	}
}

/* n elements of sz bytes, each v: one memset when v's bytes are all alike (zeroing pages). */
static void fill(uint8_t *p, uint64_t v, unsigned sz, uint64_t n)
{
	uint64_t ones = sz == 8 ? ~0ULL / 0xff : ((1ULL << (8 * sz)) - 1) / 0xff;
	if ((v & (ones * 0xff)) == (uint8_t)v * ones) {
		memset(p, (uint8_t)v, n * sz);
		return;
	}
	uint16_t v2 = (uint16_t)v;
	uint32_t v4 = (uint32_t)v;
	for (uint64_t i = 0; i < n; i++) { /* fixed-size copies: plain stores */
		if (sz == 2)
			memcpy(p + 2 * i, &v2, 2);
		else if (sz == 4)
			memcpy(p + 4 * i, &v4, 4);
		else
			memcpy(p + 8 * i, &v, 8);
	}
}

static void h_stos(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	bool rep = op->pfx & (SOFT_PFX_REP | SOFT_PFX_REPNE);
	uint64_t cnt = rep ? areg(c, op, SOFT_RCX) : 1;
	int64_t d = step(c, sz);
	uint64_t v = soft_reg_get(c, SOFT_RAX, sz);
	while (cnt) {
		uint64_t t = areg(c, op, SOFT_RDI);
		if (d > 0 && op->asize == 8 && cnt > 1) {
			uint64_t n = chunk_len(t, t, cnt, sz);
			uint8_t *pd = n > 1 ? chunk_ptr(c, t, n * sz, SOFT_ACC_WRITE) : NULL;
			if (pd) {
				fill(pd, v, sz, n);
				aset(c, op, SOFT_RDI, t + n * sz);
				cnt -= n;
				aset(c, op, SOFT_RCX, cnt);
				continue;
			}
		}
		soft_st(c, dst_at(c, op, t, sz), sz, v);
		aset(c, op, SOFT_RDI, t + (uint64_t)d);
		cnt--;
		if (rep)
			aset(c, op, SOFT_RCX, cnt);
	}
}

static void h_lods(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	bool rep = op->pfx & (SOFT_PFX_REP | SOFT_PFX_REPNE);
	uint64_t cnt = rep ? areg(c, op, SOFT_RCX) : 1;
	int64_t d = step(c, sz);
	while (cnt) {
		uint64_t s = areg(c, op, SOFT_RSI);
		soft_reg_set(c, SOFT_RAX, sz, soft_ld(c, src_at(c, op, s, sz), sz));
		aset(c, op, SOFT_RSI, s + (uint64_t)d);
		cnt--;
		if (rep)
			aset(c, op, SOFT_RCX, cnt);
	}
}

/* CMPS (with_src) and SCAS: REPE stops on mismatch, REPNE on match. */
static void cmp_scan(struct soft_cpu *c, const struct soft_op *op, bool with_src)
{
	unsigned sz = op->osize;
	bool repe = op->pfx & SOFT_PFX_REP, repne = op->pfx & SOFT_PFX_REPNE;
	bool rep = repe || repne;
	uint64_t cnt = rep ? areg(c, op, SOFT_RCX) : 1;
	int64_t d = step(c, sz);
	uint64_t acc = soft_reg_get(c, SOFT_RAX, sz);
	while (cnt) {
		uint64_t t = areg(c, op, SOFT_RDI), a, b;
		if (with_src) {
			uint64_t s = areg(c, op, SOFT_RSI);
			a = soft_ld(c, src_at(c, op, s, sz), sz);
			b = soft_ld(c, dst_at(c, op, t, sz), sz);
			aset(c, op, SOFT_RSI, s + (uint64_t)d);
		} else {
			a = acc;
			b = soft_ld(c, dst_at(c, op, t, sz), sz);
		}
		aset(c, op, SOFT_RDI, t + (uint64_t)d);
		cnt--;
		if (rep)
			aset(c, op, SOFT_RCX, cnt);
		soft_setlf(c, SOFT_LF_SUB, sz, a - b, a, b);
		if ((repe && a != b) || (repne && a == b))
			break;
	}
}

static void h_cmps(struct soft_cpu *c, const struct soft_op *op) { cmp_scan(c, op, true); }
static void h_scas(struct soft_cpu *c, const struct soft_op *op) { cmp_scan(c, op, false); }

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_movs)
SOFT_THREADED(h_stos)
SOFT_THREADED(h_lods)
SOFT_THREADED(h_cmps)
SOFT_THREADED(h_scas)

const struct soft_insn_def soft_string_defs[] = {
	{ ZYDIS_MNEMONIC_MOVSB, h_movs_t }, { ZYDIS_MNEMONIC_MOVSW, h_movs_t },
	{ ZYDIS_MNEMONIC_MOVSD, h_movs_t }, { ZYDIS_MNEMONIC_MOVSQ, h_movs_t },
	{ ZYDIS_MNEMONIC_STOSB, h_stos_t }, { ZYDIS_MNEMONIC_STOSW, h_stos_t },
	{ ZYDIS_MNEMONIC_STOSD, h_stos_t }, { ZYDIS_MNEMONIC_STOSQ, h_stos_t },
	{ ZYDIS_MNEMONIC_LODSB, h_lods_t }, { ZYDIS_MNEMONIC_LODSW, h_lods_t },
	{ ZYDIS_MNEMONIC_LODSD, h_lods_t }, { ZYDIS_MNEMONIC_LODSQ, h_lods_t },
	{ ZYDIS_MNEMONIC_CMPSB, h_cmps_t }, { ZYDIS_MNEMONIC_CMPSW, h_cmps_t },
	{ ZYDIS_MNEMONIC_CMPSD, h_cmps_t }, { ZYDIS_MNEMONIC_CMPSQ, h_cmps_t },
	{ ZYDIS_MNEMONIC_SCASB, h_scas_t }, { ZYDIS_MNEMONIC_SCASW, h_scas_t },
	{ ZYDIS_MNEMONIC_SCASD, h_scas_t }, { ZYDIS_MNEMONIC_SCASQ, h_scas_t },
	{ 0, NULL },
};
