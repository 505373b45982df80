/* Events of the system CPU (Intel SDM vol. 3 ch. 6): exception and interrupt delivery through
 * the real-mode IVT, the 32-bit IDT (interrupt/trap gates, privilege change through the 32-bit
 * TSS) and the long-mode IDT (16-byte gates, IST, RSP0..2 of the 64-bit TSS), the #DF/shutdown
 * escalation, IRET in every mode, INT n/INT3/INTO/INT1, and interrupt acceptance at
 * instruction boundaries (NMI, external interrupts through intr_ack).
 *
 * Delivery computes and checks everything, pushes the frame with supervisor accesses, and only
 * then commits registers, so an exception during delivery (a #PF on the new stack, a bad gate)
 * sees the state of the interrupted instruction. While an event is being delivered
 * sys.fault_depth is 1 + its class (benign, contributory, #PF, #DF): an exception raised then
 * escalates to #DF or shutdown by the SDM's table 6-5. Not modelled: task gates and task
 * switches (#GP with the gate's error code), virtual-8086 mode, 16-bit TSS stacks, segment
 * limit checks on the stack. */
#include <stdatomic.h>
#include <stdio.h>

#include <Zydis/Zydis.h>

#include "accel/soft/soft_sys.h"

enum { CLASS_BENIGN, CLASS_CONTRIB, CLASS_PF, CLASS_DF };

static unsigned event_class(enum soft_event_kind kind, unsigned vector)
{
	if (kind != SOFT_EV_EXCEPTION)
		return CLASS_BENIGN;
	switch (vector) {
	case SOFT_VEC_DE: case SOFT_VEC_TS: case SOFT_VEC_NP: case SOFT_VEC_SS: case SOFT_VEC_GP:
		return CLASS_CONTRIB;
	case SOFT_VEC_PF:
		return CLASS_PF;
	case SOFT_VEC_DF:
		return CLASS_DF;
	default:
		return CLASS_BENIGN;
	}
}

bool soft_vector_has_error(unsigned vector)
{
	return vector == SOFT_VEC_DF || (vector >= SOFT_VEC_TS && vector <= SOFT_VEC_PF) ||
	       vector == SOFT_VEC_AC || vector == 21 /* #CP */;
}

static _Noreturn void shutdown(struct soft_cpu *c)
{
	c->sys.fault_depth = 0;
	c->exit_reason = SOFT_EXIT_SHUTDOWN;
	longjmp(c->fault_jmp, 1);
}

/* A stack being pushed: linear base, pointer, and width of the pointer (2 SP, 4 ESP, 8 RSP). */
struct stk {
	uint64_t base, sp;
	unsigned width;
};

static uint64_t sp_wrap(uint64_t sp, unsigned width)
{
	return width == 8 ? sp : width == 4 ? (uint32_t)sp : (uint16_t)sp;
}

static void stk_push(struct soft_cpu *c, struct stk *k, unsigned sz, uint64_t v)
{
	k->sp = sp_wrap(k->sp - sz, k->width);
	soft_st_sys(c, k->base + k->sp, sz, v);
}

static uint64_t stk_pop(struct soft_cpu *c, struct stk *k, unsigned sz)
{
	uint64_t v = soft_ld_sys(c, k->base + k->sp, sz);
	k->sp = sp_wrap(k->sp + sz, k->width);
	return v;
}

/* The stack as SS describes it now (64-bit mode: RSP, flat). */
static struct stk cur_stack(const struct soft_cpu *c)
{
	const struct soft_seg *ss = &c->sys.seg[SOFT_SS];
	struct stk k;
	if (c->cs_mode == SOFT_CS_64 && (c->sys.efer & SOFT_EFER_LMA)) {
		k.base = 0;
		k.width = 8;
	} else {
		k.base = ss->base;
		k.width = (ss->attr & (1u << 14)) ? 4 : 2;
	}
	k.sp = sp_wrap(c->gpr[SOFT_RSP], k.width);
	return k;
}

/* Write the stack pointer back with the width the stack has (upper bits kept for SP). */
static void set_sp(struct soft_cpu *c, const struct stk *k)
{
	if (k->width == 2)
		c->gpr[SOFT_RSP] = (c->gpr[SOFT_RSP] & ~0xffffULL) | k->sp;
	else
		c->gpr[SOFT_RSP] = k->sp;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool seg_is_code(uint32_t attr) { return (attr & 0x18) == 0x18; }
static bool seg_conforming(uint32_t attr) { return (attr & 0x1c) == 0x1c; }
static unsigned seg_dpl(uint32_t attr) { return (attr >> 5) & 3; }
static bool seg_present(uint32_t attr) { return attr & 0x80; }

/* The code segment a gate names, checked as delivery checks it (errors carry EXT). */
static void gate_target(struct soft_cpu *c, uint16_t sel, unsigned ext, bool long_mode,
			struct soft_seg *cs)
{
	uint64_t d;
	if (!(sel & ~3u))
		soft_raise(c, SOFT_VEC_GP, ext, 0);
	if (!soft_desc_read(c, sel, &d))
		soft_raise(c, SOFT_VEC_GP, (sel & ~3u) | ext, 0);
	soft_desc_unpack(d, 0, cs);
	if (!seg_is_code(cs->attr) || seg_dpl(cs->attr) > c->sys.cpl ||
	    (long_mode && (!(cs->attr & (1u << 13)) || (cs->attr & (1u << 14)))))
		soft_raise(c, SOFT_VEC_GP, (sel & ~3u) | ext, 0);
	if (!seg_present(cs->attr))
		soft_raise(c, SOFT_VEC_NP, (sel & ~3u) | ext, 0);
}

static void commit_flags(struct soft_cpu *c, uint64_t clear)
{
	soft_flags_set(c, soft_flags_get(c) & ~clear);
}

/* The last step of a protected or long-mode delivery, its frame pushed: CS (whose load
 * updates mode, CPL and the TLB set), rip, and the flags a gate clears (an interrupt gate,
 * even type, also IF). */
static void enter_handler(struct soft_cpu *c, uint16_t sel, const struct soft_seg *cs,
			  unsigned newcpl, uint64_t off, unsigned type)
{
	soft_seg_load_cs(c, sel, cs, newcpl);
	c->rip = off;
	commit_flags(c, SOFT_TF | SOFT_RFLAGS_NT | SOFT_RFLAGS_RF | SOFT_RFLAGS_VM |
				(type & 1 ? 0 : SOFT_IF));
}

static void deliver_real(struct soft_cpu *c, unsigned vector, uint64_t ret_rip, unsigned ext)
{
	struct soft_sys *s = &c->sys;
	if (vector * 4 + 3 > s->idtr.limit)
		soft_raise(c, SOFT_VEC_GP, vector * 8 + 2 + ext, 0);
	uint64_t ent = soft_ld_sys(c, s->idtr.base + vector * 4, 4);
	struct stk k = { s->seg[SOFT_SS].base, (uint16_t)c->gpr[SOFT_RSP], 2 };
	stk_push(c, &k, 2, soft_flags_get(c));
	stk_push(c, &k, 2, s->seg[SOFT_CS].sel);
	stk_push(c, &k, 2, ret_rip);
	set_sp(c, &k);
	commit_flags(c, SOFT_IF | SOFT_TF | SOFT_AC);
	s->seg[SOFT_CS].sel = (uint16_t)(ent >> 16);
	s->seg[SOFT_CS].base = (ent >> 16) << 4;
	soft_mode_update(c); /* cs_base, and the jump cache that is keyed by offset */
	c->rip = ent & 0xffff;
}

/* The inner stack for privilege level cpl from the 32-bit TSS, with its SS checks (#TS). */
static void tss32_stack(struct soft_cpu *c, unsigned cpl, unsigned ext, struct soft_seg *ss,
			uint32_t *esp)
{
	const struct soft_seg *tr = &c->sys.tr;
	uint32_t off = 4 + 8 * cpl;
	if (off + 5 > tr->limit)
		soft_raise(c, SOFT_VEC_TS, (tr->sel & ~3u) | ext, 0);
	*esp = (uint32_t)soft_ld_sys(c, tr->base + off, 4);
	uint16_t sel = (uint16_t)soft_ld_sys(c, tr->base + off + 4, 2);
	uint64_t d;
	if (!(sel & ~3u))
		soft_raise(c, SOFT_VEC_TS, ext, 0);
	if ((sel & 3) != cpl || !soft_desc_read(c, sel, &d))
		soft_raise(c, SOFT_VEC_TS, (sel & ~3u) | ext, 0);
	soft_desc_unpack(d, 0, ss);
	ss->sel = sel;
	if ((ss->attr & 0x1a) != 0x12 || seg_dpl(ss->attr) != cpl)
		soft_raise(c, SOFT_VEC_TS, (sel & ~3u) | ext, 0);
	if (!seg_present(ss->attr))
		soft_raise(c, SOFT_VEC_SS, (sel & ~3u) | ext, 0);
}

static void deliver_prot(struct soft_cpu *c, enum soft_event_kind kind, unsigned vector,
			 int64_t error, uint64_t ret_rip, unsigned ext)
{
	struct soft_sys *s = &c->sys;
	uint32_t idt_err = vector * 8 + 2 + ext;
	if (vector * 8 + 7 > s->idtr.limit)
		soft_raise(c, SOFT_VEC_GP, idt_err, 0);
	uint64_t g = soft_ld_sys(c, s->idtr.base + vector * 8, 8);
	unsigned type = (g >> 40) & 0x1f, dpl = (g >> 45) & 3;
	if (type != 0x5 && type != 0x6 && type != 0x7 && type != 0xe && type != 0xf)
		soft_raise(c, SOFT_VEC_GP, idt_err, 0);
	if (kind == SOFT_EV_SOFTINT && dpl < s->cpl)
		soft_raise(c, SOFT_VEC_GP, vector * 8 + 2, 0);
	if (!(g & (1ULL << 47)))
		soft_raise(c, SOFT_VEC_NP, idt_err, 0);
	if (type == 0x5) /* task gate: task switches are not modelled */
		soft_raise(c, SOFT_VEC_GP, idt_err, 0);
	if (soft_flags_get(c) & SOFT_RFLAGS_VM) {
		snprintf(c->error_msg, sizeof(c->error_msg), "virtual-8086 mode is not modelled");
		c->exit_reason = SOFT_EXIT_ERROR;
		longjmp(c->fault_jmp, 1);
	}
	uint16_t sel = (uint16_t)(g >> 16);
	uint32_t off = (uint32_t)((g & 0xffff) | ((g >> 48) & 0xffff) << 16);
	bool gate32 = type & 8;
	if (!gate32)
		off &= 0xffff;
	struct soft_seg cs, ss = s->seg[SOFT_SS];
	gate_target(c, sel, ext, false, &cs);
	unsigned newcpl = seg_conforming(cs.attr) ? s->cpl : seg_dpl(cs.attr);
	unsigned w = gate32 ? 4 : 2;
	uint64_t flags = soft_flags_get(c);
	struct stk k;
	if (newcpl < s->cpl) {
		uint32_t esp;
		tss32_stack(c, newcpl, ext, &ss, &esp);
		k.base = ss.base;
		k.width = (ss.attr & (1u << 14)) ? 4 : 2;
		k.sp = sp_wrap(esp, k.width);
		stk_push(c, &k, w, s->seg[SOFT_SS].sel);
		stk_push(c, &k, w, c->gpr[SOFT_RSP] & soft_mask(w));
	} else {
		k = cur_stack(c);
	}
	stk_push(c, &k, w, flags & soft_mask(w));
	stk_push(c, &k, w, s->seg[SOFT_CS].sel);
	stk_push(c, &k, w, ret_rip & soft_mask(w));
	if (error >= 0)
		stk_push(c, &k, w, (uint64_t)error);
	s->seg[SOFT_SS] = ss;
	set_sp(c, &k);
	enter_handler(c, sel, &cs, newcpl, off, type);
}

static void deliver_long(struct soft_cpu *c, enum soft_event_kind kind, unsigned vector,
			 int64_t error, uint64_t ret_rip, unsigned ext)
{
	struct soft_sys *s = &c->sys;
	uint32_t idt_err = vector * 8 + 2 + ext;
	if (vector * 16 + 15 > s->idtr.limit)
		soft_raise(c, SOFT_VEC_GP, idt_err, 0);
	uint64_t lo = soft_ld_sys(c, s->idtr.base + vector * 16, 8);
	uint64_t hi = soft_ld_sys(c, s->idtr.base + vector * 16 + 8, 8);
	unsigned type = (lo >> 40) & 0x1f, dpl = (lo >> 45) & 3, ist = (lo >> 32) & 7;
	if (type != 0xe && type != 0xf)
		soft_raise(c, SOFT_VEC_GP, idt_err, 0);
	if (kind == SOFT_EV_SOFTINT && dpl < s->cpl)
		soft_raise(c, SOFT_VEC_GP, vector * 8 + 2, 0);
	if (!(lo & (1ULL << 47)))
		soft_raise(c, SOFT_VEC_NP, idt_err, 0);
	uint16_t sel = (uint16_t)(lo >> 16);
	uint64_t off = (lo & 0xffff) | ((lo >> 48) & 0xffff) << 16 | (hi & 0xffffffff) << 32;
	struct soft_seg cs;
	gate_target(c, sel, ext, true, &cs);
	if (!canonical(off))
		soft_raise(c, SOFT_VEC_GP, ext, 0);
	unsigned newcpl = seg_conforming(cs.attr) ? s->cpl : seg_dpl(cs.attr);
	uint64_t rsp = c->gpr[SOFT_RSP];
	if (ist || newcpl < s->cpl) {
		uint32_t toff = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * newcpl;
		if (toff + 7 > s->tr.limit)
			soft_raise(c, SOFT_VEC_TS, (s->tr.sel & ~3u) | ext, 0);
		rsp = soft_ld_sys(c, s->tr.base + toff, 8);
		if (!canonical(rsp))
			soft_raise(c, SOFT_VEC_SS, ext, 0);
	}
	struct stk k = { 0, rsp & ~15ULL, 8 };
	stk_push(c, &k, 8, s->seg[SOFT_SS].sel);
	stk_push(c, &k, 8, c->gpr[SOFT_RSP]);
	stk_push(c, &k, 8, soft_flags_get(c));
	stk_push(c, &k, 8, s->seg[SOFT_CS].sel);
	stk_push(c, &k, 8, ret_rip);
	if (error >= 0)
		stk_push(c, &k, 8, (uint64_t)error);
	unsigned oldcpl = s->cpl;
	if (newcpl < oldcpl) {
		/* SS becomes NULL with RPL = new CPL (usable as a 64-bit stack). */
		struct soft_seg *ss = &s->seg[SOFT_SS];
		ss->sel = (uint16_t)newcpl;
		ss->base = 0;
		ss->limit = 0xffffffff;
		ss->attr = SOFT_SEG_ATTR_UNUSABLE | 0x13 | newcpl << 5 | 1u << 14;
	}
	c->gpr[SOFT_RSP] = k.sp;
	enter_handler(c, sel, &cs, newcpl, off, type);
}

/* Delivery without the jump back to the run loop (the loop's own event checks call it). */
static void deliver(struct soft_cpu *c, enum soft_event_kind kind, unsigned vector,
		    int64_t error, uint64_t ret_rip)
{
	struct soft_sys *s = &c->sys;
	unsigned cls = event_class(kind, vector);
	c->cur_op = NULL; /* faults from here on report c->rip, the interrupted instruction */
	c->budget--;      /* an event costs an instruction: a loop of faults still ends */
	if (s->fault_depth && kind == SOFT_EV_EXCEPTION) {
		unsigned first = s->fault_depth - 1u;
		if (first == CLASS_DF)
			shutdown(c);
		if ((first == CLASS_CONTRIB && cls == CLASS_CONTRIB) ||
		    (first == CLASS_PF && cls != CLASS_BENIGN)) {
			vector = SOFT_VEC_DF;
			error = 0;
			cls = CLASS_DF;
			ret_rip = c->rip;
		}
	}
	s->fault_depth = (uint8_t)(1 + cls);
	c->exc_vector = vector;
	c->exc_error = error >= 0 ? (uint32_t)error : 0;
	unsigned ext = kind == SOFT_EV_SOFTINT ? 0 : 1;
	if (!(s->cr0 & SOFT_CR0_PE))
		deliver_real(c, vector, ret_rip, ext);
	else if (s->efer & SOFT_EFER_LMA)
		deliver_long(c, kind, vector, error, ret_rip, ext);
	else
		deliver_prot(c, kind, vector, error, ret_rip, ext);
	s->fault_depth = 0;
	s->shadow = 0;
	if (kind == SOFT_EV_NMI)
		s->nmi_masked = true;
}

_Noreturn void soft_deliver(struct soft_cpu *c, enum soft_event_kind kind, unsigned vector,
			    int64_t error, uint64_t ret_rip)
{
	deliver(c, kind, vector, error, ret_rip);
	longjmp(c->fault_jmp, 2); /* the run loop goes on at the handler */
}

bool soft_check_events(struct soft_cpu *c)
{
	if (atomic_load(&c->nmi_req) && !c->sys.nmi_masked) {
		atomic_store(&c->nmi_req, false);
		deliver(c, SOFT_EV_NMI, SOFT_VEC_NMI, -1, c->rip);
		return true;
	}
	if (!atomic_load(&c->intr_req) || !(c->rflags & SOFT_IF))
		return false;
	int v = c->sys.ops->intr_ack(c->sys.ctx);
	if (v < 0) {
		/* Nothing pending: clear the request, then ask once more, so that a request
		 * raised between the answer and the clear is not lost. */
		atomic_store(&c->intr_req, false);
		v = c->sys.ops->intr_ack(c->sys.ctx);
		if (v < 0)
			return false;
		atomic_store(&c->intr_req, true);
	}
	deliver(c, SOFT_EV_EXTINT, (unsigned)v & 0xff, -1, c->rip);
	return true;
}

_Noreturn void soft_sys_exception(struct soft_cpu *c, unsigned vector, uint32_t error,
				  uint64_t addr)
{
	if (vector == SOFT_VEC_PF)
		c->sys.cr2 = addr;
	if (SOFT_UNLIKELY(c->sys.trace))
		fprintf(stderr, "soft CPU %u: exception %u error %#x addr %#llx at %#llx:%#llx\n",
			c->sys.apic_id, vector, error, (unsigned long long)addr,
			(unsigned long long)c->sys.seg[SOFT_CS].base, (unsigned long long)c->rip);
	soft_deliver(c, SOFT_EV_EXCEPTION, vector, soft_vector_has_error(vector) ? (int64_t)error : -1,
		     c->rip);
}

/* ---- IRET ---- */

/* Whether a popped RFLAGS may change each bit at this CPL/IOPL (sz: operand size). */
static uint64_t iret_flags(struct soft_cpu *c, uint64_t popped, unsigned sz)
{
	uint64_t old = soft_flags_get(c);
	uint64_t mask = SOFT_ARITH_FLAGS | SOFT_TF | SOFT_DF | SOFT_RFLAGS_NT | SOFT_RFLAGS_RF |
			SOFT_AC | SOFT_ID;
	unsigned cpl = c->sys.cpl, iopl = (old >> 12) & 3;
	if (!(c->sys.cr0 & SOFT_CR0_PE))
		mask |= SOFT_IF | SOFT_RFLAGS_IOPL;
	else if (cpl == 0)
		mask |= SOFT_IF | SOFT_RFLAGS_IOPL | SOFT_RFLAGS_VIF | SOFT_RFLAGS_VIP;
	else if (cpl <= iopl)
		mask |= SOFT_IF;
	if (sz == 2)
		mask &= 0xffff;
	return ((old & ~mask) | (popped & mask) | 2) & ~(uint64_t)SOFT_RFLAGS_VM;
}

static void iret_real(struct soft_cpu *c, unsigned sz)
{
	struct soft_sys *s = &c->sys;
	struct stk k = cur_stack(c);
	uint64_t ip = stk_pop(c, &k, sz), cs = stk_pop(c, &k, sz) & 0xffff;
	uint64_t fl = stk_pop(c, &k, sz);
	set_sp(c, &k);
	s->seg[SOFT_CS].sel = (uint16_t)cs;
	s->seg[SOFT_CS].base = cs << 4;
	soft_mode_update(c);
	c->rip = ip & soft_mask(sz);
	soft_flags_set(c, iret_flags(c, fl, sz));
}

/* Null the data segments the outer level may not use (IRET/far RET to lower privilege). */
static void null_inner_segments(struct soft_cpu *c, unsigned cpl)
{
	static const unsigned regs[] = { SOFT_ES, SOFT_DS, SOFT_FS, SOFT_GS };
	for (unsigned i = 0; i < 4; i++) {
		struct soft_seg *g = &c->sys.seg[regs[i]];
		if (g->attr & SOFT_SEG_ATTR_UNUSABLE || seg_conforming(g->attr))
			continue;
		if (seg_dpl(g->attr) < cpl) {
			g->sel = 0;
			g->attr |= SOFT_SEG_ATTR_UNUSABLE;
		}
	}
}

static void iret_prot(struct soft_cpu *c, const struct soft_op *op, unsigned sz)
{
	struct soft_sys *s = &c->sys;
	bool lma = s->efer & SOFT_EFER_LMA, from64 = lma && c->cs_mode == SOFT_CS_64;
	if (soft_flags_get(c) & SOFT_RFLAGS_NT)
		soft_raise(c, SOFT_VEC_GP, 0, 0); /* task return: not modelled */
	struct stk k = cur_stack(c);
	uint64_t rip = stk_pop(c, &k, sz);
	uint16_t csel = (uint16_t)stk_pop(c, &k, sz);
	uint64_t fl = stk_pop(c, &k, sz);
	if (!lma && (fl & SOFT_RFLAGS_VM) && s->cpl == 0)
		soft_raise(c, SOFT_VEC_GP, 0, 0); /* return to virtual-8086 mode: not modelled */
	/* The code segment. */
	uint64_t d;
	struct soft_seg cs, ss = s->seg[SOFT_SS];
	if (!(csel & ~3u))
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	unsigned rpl = csel & 3;
	if (rpl < s->cpl || !soft_desc_read(c, csel, &d))
		soft_raise(c, SOFT_VEC_GP, csel & ~3u, 0);
	soft_desc_unpack(d, 0, &cs);
	if (!seg_is_code(cs.attr) || (seg_conforming(cs.attr) ? seg_dpl(cs.attr) > rpl
							       : seg_dpl(cs.attr) != rpl) ||
	    (lma && (cs.attr & (1u << 13)) && (cs.attr & (1u << 14))))
		soft_raise(c, SOFT_VEC_GP, csel & ~3u, 0);
	if (!seg_present(cs.attr))
		soft_raise(c, SOFT_VEC_NP, csel & ~3u, 0);
	bool to64 = lma && (cs.attr & (1u << 13));
	if (to64 ? !canonical(rip) : rip > cs.limit)
		soft_raise(c, SOFT_VEC_GP, 0, 0);
	uint64_t rsp = c->gpr[SOFT_RSP];
	bool outer = rpl > s->cpl;
	if (outer || from64) {
		rsp = stk_pop(c, &k, sz);
		uint16_t ssel = (uint16_t)stk_pop(c, &k, sz);
		if (!(ssel & ~3u)) {
			if (!to64 || rpl == 3)
				soft_raise(c, SOFT_VEC_GP, 0, 0);
			ss.sel = ssel;
			ss.base = 0;
			ss.limit = 0xffffffff;
			ss.attr = SOFT_SEG_ATTR_UNUSABLE | 0x13 | rpl << 5 | 1u << 14;
		} else {
			if ((ssel & 3) != rpl || !soft_desc_read(c, ssel, &d))
				soft_raise(c, SOFT_VEC_GP, ssel & ~3u, 0);
			soft_desc_unpack(d, 0, &ss);
			ss.sel = ssel;
			if ((ss.attr & 0x1a) != 0x12 || seg_dpl(ss.attr) != rpl)
				soft_raise(c, SOFT_VEC_GP, ssel & ~3u, 0);
			if (!seg_present(ss.attr))
				soft_raise(c, SOFT_VEC_SS, ssel & ~3u, 0);
		}
	}
	(void)op;
	/* Commit. */
	uint64_t nf = iret_flags(c, fl, sz);
	s->seg[SOFT_SS] = ss;
	if (outer || from64) {
		if (to64 || sz == 8)
			c->gpr[SOFT_RSP] = rsp;
		else if (ss.attr & (1u << 14))
			c->gpr[SOFT_RSP] = (uint32_t)rsp;
		else
			c->gpr[SOFT_RSP] = (c->gpr[SOFT_RSP] & ~0xffffULL) | (rsp & 0xffff);
	} else {
		set_sp(c, &k);
	}
	soft_seg_load_cs(c, csel, &cs, rpl);
	c->rip = to64 ? rip : (uint32_t)rip & soft_mask(sz);
	soft_flags_set(c, nf);
	if (outer)
		null_inner_segments(c, rpl);
}

static void h_iret(struct soft_cpu *c, const struct soft_op *op)
{
	if (!c->system)
		soft_h_ud(c, op);
	unsigned sz = op->mnem == ZYDIS_MNEMONIC_IRETQ ? 8 : op->mnem == ZYDIS_MNEMONIC_IRETD ? 4 : 2;
	if (!(c->sys.cr0 & SOFT_CR0_PE))
		iret_real(c, sz);
	else
		iret_prot(c, op, sz);
	c->sys.nmi_masked = false; /* any IRET ends NMI blocking */
	c->chain_left = 0;         /* IF may be set, an NMI may be pending: see the run loop */
}

/* ---- INT n, INT3, INTO, INT1 ---- */

_Noreturn void soft_sys_softint(struct soft_cpu *c, const struct soft_op *op, unsigned vector)
{
	c->rip = soft_op_rip(op); /* a fault while delivering reports the INT itself */
	soft_deliver(c, SOFT_EV_SOFTINT, vector, -1, op->next_rip);
}

static void h_into(struct soft_cpu *c, const struct soft_op *op)
{
	if (!c->system || c->cs_mode == SOFT_CS_64)
		soft_h_ud(c, op);
	if (soft_flags_get(c) & SOFT_OF)
		soft_sys_softint(c, op, SOFT_VEC_OF);
}

/* ICEBP: a #DB trap delivered like a hardware event (no DPL check, EXT set). */
static void h_int1(struct soft_cpu *c, const struct soft_op *op)
{
	if (!c->system)
		soft_h_ud(c, op);
	c->rip = soft_op_rip(op);
	soft_deliver(c, SOFT_EV_EXCEPTION, SOFT_VEC_DB, -1, op->next_rip);
}

SOFT_THREADED(h_iret)
SOFT_THREADED(h_into)
SOFT_THREADED(h_int1)

const struct soft_insn_def soft_intr_defs[] = {
	{ ZYDIS_MNEMONIC_IRET, h_iret_t }, { ZYDIS_MNEMONIC_IRETD, h_iret_t },
	{ ZYDIS_MNEMONIC_IRETQ, h_iret_t }, { ZYDIS_MNEMONIC_INTO, h_into_t },
	{ ZYDIS_MNEMONIC_INT1, h_int1_t },
	{ 0, NULL },
};
