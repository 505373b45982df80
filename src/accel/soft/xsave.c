/* XSAVE family of the system CPU for the state components it has, x87 (bit 0) and SSE (bit 1):
 * XGETBV/XSETBV (XCR0), XSAVE/XSAVEOPT (standard format; XSAVEOPT saves like XSAVE, which the
 * SDM allows) and XRSTOR with the init-state rules, and their 64-bit forms. The #UD/#GP rules
 * follow the SDM (kvm-unit-tests' xsave test checks them): CR4.OSXSAVE gates all of them,
 * XCR0 bit 0 must stay set, bits other than x87|SSE are reserved, XSETBV only at CPL 0, the
 * save area is 64-byte aligned, XRSTOR refuses XSTATE_BV bits outside XCR0, the compacted
 * format and a nonzero reserved header. */
#include "accel/soft/soft_sys.h"

#define XCR0_SUPPORTED 3ULL

static void need_osxsave(struct soft_cpu *c, const struct soft_op *op)
{
	if (!c->system || !(c->sys.cr4 & SOFT_CR4_OSXSAVE))
		soft_h_ud(c, op);
}

static void xgetbv(struct soft_cpu *c, const struct soft_op *op)
{
	need_osxsave(c, op);
	if ((uint32_t)c->gpr[SOFT_RCX] != 0)
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	c->gpr[SOFT_RAX] = (uint32_t)c->sys.xcr0;
	c->gpr[SOFT_RDX] = c->sys.xcr0 >> 32;
}

static void xsetbv(struct soft_cpu *c, const struct soft_op *op)
{
	need_osxsave(c, op);
	uint64_t v = (c->gpr[SOFT_RDX] << 32) | (uint32_t)c->gpr[SOFT_RAX];
	if (c->sys.cpl > 0 || (uint32_t)c->gpr[SOFT_RCX] != 0 || !(v & 1) ||
	    (v & ~XCR0_SUPPORTED))
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	c->sys.xcr0 = v;
}

static uint64_t save_area(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t a = soft_ea(c, op);
	if (a & 63)
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	return a;
}

static void xsave(struct soft_cpu *c, const struct soft_op *op)
{
	need_osxsave(c, op);
	uint64_t a = save_area(c, op);
	uint64_t rfbm = c->sys.xcr0 & ((c->gpr[SOFT_RDX] << 32) | (uint32_t)c->gpr[SOFT_RAX]);
	uint8_t img[512];
	soft_mxcsr_pull(c);
	soft_cpu_fxsave(c, img);
	uint64_t bv = soft_ld(c, a + 512, 8);
	if (rfbm & 1) {
		soft_st_bytes(c, a, img, 24);
		soft_st_bytes(c, a + 32, img + 32, 128);
	}
	if (rfbm & 2) {
		soft_st_bytes(c, a + 24, img + 24, 8);
		soft_st_bytes(c, a + 160, img + 160, 256);
	}
	soft_st(c, a + 512, 8, (bv & ~rfbm) | rfbm); /* both components count as in use */
}

static void xrstor(struct soft_cpu *c, const struct soft_op *op)
{
	need_osxsave(c, op);
	uint64_t a = save_area(c, op);
	uint64_t rfbm = c->sys.xcr0 & ((c->gpr[SOFT_RDX] << 32) | (uint32_t)c->gpr[SOFT_RAX]);
	uint8_t mem[576], img[512];
	soft_ld_bytes(c, a, mem, sizeof(mem), SOFT_ACC_READ);
	uint64_t bv, comp;
	memcpy(&bv, mem + 512, 8);
	memcpy(&comp, mem + 520, 8);
	bool reserved = false;
	for (unsigned i = 528; i < 576; i++)
		reserved |= mem[i] != 0;
	if ((bv & ~c->sys.xcr0) || comp || reserved)
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	uint32_t mxcsr;
	memcpy(&mxcsr, mem + 24, 4);
	if ((rfbm & 2) && (mxcsr & 0xffff0000u))
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	soft_mxcsr_pull(c);
	soft_cpu_fxsave(c, img);
	if (rfbm & 1) {
		if (bv & 1) {
			memcpy(img, mem, 24);
			memcpy(img + 32, mem + 32, 128);
		} else { /* x87 init state: FCW 037Fh, empty, registers zero */
			memset(img, 0, 24);
			img[0] = 0x7f;
			img[1] = 0x03;
			memset(img + 32, 0, 128);
		}
	}
	if (rfbm & 2) {
		memcpy(img + 24, mem + 24, 4);
		if (bv & 2)
			memcpy(img + 160, mem + 160, 256);
		else
			memset(img + 160, 0, 256);
	}
	soft_cpu_fxrstor(c, img);
	soft_mxcsr_push(c);
}

/* Threaded entry points, listed in sys.c's table. */
#define XSAVE_ENTRY(name, h)                                                               \
	void name(struct soft_cpu *c, const struct soft_op *op)                            \
	{                                                                                  \
		h(c, op);                                                                  \
		SOFT_NEXT(c, op);                                                          \
	}
XSAVE_ENTRY(soft_h_xgetbv, xgetbv)
XSAVE_ENTRY(soft_h_xsetbv, xsetbv)
XSAVE_ENTRY(soft_h_xsave, xsave)
XSAVE_ENTRY(soft_h_xrstor, xrstor)
