/* One local APIC (lapic.h): its registers through the xAPIC page and the x2APIC MSRs, the
 * IA32_APIC_BASE states, interrupt acceptance (IRR/TMR), the priorities (TPR, PPR) behind the
 * CPU's acknowledge, and EOI. Everything a register access sets off beyond this LAPIC (an IPI,
 * the EOI broadcast, signals to the vCPU) is collected in a struct lapic_after under the lock
 * and done after it is released. */
#include "devices/x86/lapic_internal.h"

#include <string.h>

#include "arch/x86/layout.h"

/* The LVT bits software may write, per entry (delivery status and remote IRR are the APIC's). */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x700FF, [LVT_THERMAL] = 0x107FF, [LVT_PERF] = 0x107FF,
	[LVT_LINT0] = 0x1A7FF, [LVT_LINT1] = 0x1A7FF, [LVT_ERROR] = 0x100FF,
};

static bool vec_test(const uint32_t *r, unsigned v) { return r[v / 32] >> (v % 32) & 1; }
static void vec_set(uint32_t *r, unsigned v) { r[v / 32] |= 1u << (v % 32); }
static void vec_clear(uint32_t *r, unsigned v) { r[v / 32] &= ~(1u << (v % 32)); }

/* The highest vector set in r, -1 when none. */
static int vec_highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static uint32_t lapic_ppr(const struct lapic *a)
{
	int isrv = vec_highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

static uint32_t lapic_apr(const struct lapic *a)
{
	int irrv = vec_highest(a->irr), isrv = vec_highest(a->isr);
	uint32_t tpr = a->tpr & 0xFF, irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0,
		 isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	if ((tpr & 0xF0) >= irr_class && (tpr & 0xF0) > isr_class)
		return tpr;
	uint32_t m = tpr & 0xF0;
	if (irr_class > m)
		m = irr_class;
	if (isr_class > m)
		m = isr_class;
	return m;
}

/* An 8259 interrupt waits (virtual wire through LINT0, or an ExtINT message). */
static bool lapic_extint_pending(const struct lapic *a)
{
	if (a->extint_msg)
		return true;
	if (!a->lint_level[0])
		return false;
	uint32_t lvt0 = a->lvt[LVT_LINT0];
	return !lapic_hw_enabled(a) || (!(lvt0 & LVT_MASKED) && LVT_DM(lvt0) == X86_DM_EXTINT);
}

/* The highest IRR vector the CPU would take now, -1 when none beats PPR. */
static int lapic_deliverable(const struct lapic *a)
{
	if (!lapic_hw_enabled(a))
		return -1;
	int v = vec_highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xF0) <= (lapic_ppr(a) & 0xF0))
		return -1;
	return v;
}

static void lapic_check_intr(const struct lapic *a, struct lapic_after *after)
{
	if (lapic_extint_pending(a) || lapic_deliverable(a) >= 0)
		after->intr = true;
}

static void lapic_error(struct lapic *a, uint32_t bits, struct lapic_after *after)
{
	bool first = !(a->esr_pending & bits);
	a->esr_pending |= bits;
	uint32_t lvt = a->lvt[LVT_ERROR];
	if (first && !(lvt & LVT_MASKED) && (lvt & 0xFF) >= 16)
		lapic_accept_locked(a, &(struct apic_msg){ .vector = (uint8_t)lvt,
							   .mode = X86_DM_FIXED }, after);
}

static void lapic_ldr_from_id(struct lapic *a)
{
	a->ldr = (a->id >> 4) << 16 | 1u << (a->id & 15);
}

/* Power-on or INIT state of everything but the ID and IA32_APIC_BASE. */
static void lapic_registers_reset(struct lapic *a)
{
	a->tpr = 0;
	a->ldr = 0;
	a->dfr = 0xFFFFFFFF;
	a->svr = 0xFF;
	a->esr = a->esr_pending = 0;
	a->icr_lo = a->icr_hi = 0;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
	/* What a BIOS would leave behind (KVM does the same): virtual wire on the boot CPU. */
	if (a->index == 0)
		a->lvt[LVT_LINT0] = X86_DM_EXTINT << 8;
	memset(a->isr, 0, sizeof(a->isr));
	memset(a->tmr, 0, sizeof(a->tmr));
	memset(a->irr, 0, sizeof(a->irr));
	a->extint_msg = false;
	lapic_timer_reset(a);
	if (lapic_x2apic(a))
		lapic_ldr_from_id(a);
}

static void lapic_power_on(struct lapic *a)
{
	a->apic_base = X86_LAPIC_GPA | APIC_BASE_EN | (a->index == 0 ? APIC_BASE_BSP : 0);
	a->id = a->index;
	lapic_registers_reset(a);
}

void lapic_accept_locked(struct lapic *a, const struct apic_msg *m, struct lapic_after *after)
{
	if (!lapic_hw_enabled(a))
		return;
	switch (m->mode) {
	case X86_DM_FIXED:
	case X86_DM_LOWEST:
		if (!lapic_sw_enabled(a))
			return;
		if (m->vector < 16) {
			lapic_error(a, ESR_RECV_ILLEGAL, after);
			return;
		}
		vec_set(a->irr, m->vector);
		if (m->level_trig)
			vec_set(a->tmr, m->vector);
		else
			vec_clear(a->tmr, m->vector);
		lapic_check_intr(a, after);
		break;
	case X86_DM_NMI:
		after->nmi = true;
		break;
	case X86_DM_INIT:
		lapic_registers_reset(a);
		after->init = true;
		break;
	case DM_STARTUP:
		after->sipi = true;
		after->sipi_vector = m->vector;
		break;
	case X86_DM_EXTINT:
		a->extint_msg = true;
		after->intr = true;
		break;
	default:
		break; /* SMI and the reserved modes: nothing to model */
	}
}

/* Everything the lock postponed, with no LAPIC lock held. */
static void lapic_finish(struct lapic *a, const struct lapic_after *after,
			 const struct lapic_cpu_link *link)
{
	if (after->eoi_vector >= 0)
		apic_bus_eoi(a->bus, (uint8_t)after->eoi_vector);
	if (after->send)
		apic_bus_route(a->bus, &after->dest, &after->msg);
	if (!link->signal)
		return;
	if (after->init)
		link->signal(link->ctx, ACCEL_SIGNAL_INIT, 0);
	if (after->sipi)
		link->signal(link->ctx, ACCEL_SIGNAL_SIPI, after->sipi_vector);
	if (after->nmi)
		link->signal(link->ctx, ACCEL_SIGNAL_NMI, 0);
	if (after->intr)
		link->signal(link->ctx, ACCEL_SIGNAL_INTR, 0);
}

static void lapic_unlock_finish(struct lapic *a, const struct lapic_after *after)
{
	struct lapic_cpu_link link = a->link;
	pthread_mutex_unlock(&a->dev.lock);
	lapic_finish(a, after, &link);
}

#define AFTER_INIT { .eoi_vector = -1 }

void lapic_accept(struct lapic *a, const struct apic_msg *m)
{
	struct lapic_after after = AFTER_INIT;
	pthread_mutex_lock(&a->dev.lock);
	lapic_accept_locked(a, m, &after);
	lapic_unlock_finish(a, &after);
}

bool lapic_matches(struct lapic *a, const struct apic_dest *d)
{
	pthread_mutex_lock(&a->dev.lock);
	bool match = false;
	uint32_t bcast = d->x2apic_format ? 0xFFFFFFFFu : 0xFFu;
	if (!lapic_hw_enabled(a)) {
		match = false;
	} else if (d->dest == bcast) {
		match = true;
	} else if (lapic_x2apic(a)) {
		if (!d->logical)
			match = d->dest == a->id;
		else
			match = (d->dest >> 16) == (a->ldr >> 16) && (d->dest & a->ldr & 0xFFFF);
	} else if (!d->x2apic_format || d->dest <= 0xFF) {
		uint8_t dest = (uint8_t)d->dest, ldr = (uint8_t)(a->ldr >> 24);
		if (!d->logical)
			match = dest == (uint8_t)a->id;
		else if ((a->dfr >> 28) == 0xF) /* flat */
			match = dest & ldr;
		else /* cluster: 4-bit cluster, 4-bit mask */
			match = (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xF);
	}
	pthread_mutex_unlock(&a->dev.lock);
	return match;
}

bool lapic_accepts_fixed(struct lapic *a)
{
	pthread_mutex_lock(&a->dev.lock);
	bool ok = lapic_hw_enabled(a) && lapic_sw_enabled(a);
	pthread_mutex_unlock(&a->dev.lock);
	return ok;
}

/* ---- the CPU side ---- */

int lapic_intr_ack(struct lapic *a)
{
	pthread_mutex_lock(&a->dev.lock);
	if (lapic_extint_pending(a)) {
		a->extint_msg = false;
		pthread_mutex_unlock(&a->dev.lock);
		return apic_bus_extint_ack(a->bus); /* the 8259's INTA, outside our lock */
	}
	int v = lapic_deliverable(a);
	if (v >= 0) {
		vec_clear(a->irr, (unsigned)v);
		vec_set(a->isr, (unsigned)v);
	}
	pthread_mutex_unlock(&a->dev.lock);
	return v;
}

static void lapic_eoi(struct lapic *a, struct lapic_after *after)
{
	int v = vec_highest(a->isr);
	if (v < 0)
		return;
	vec_clear(a->isr, (unsigned)v);
	if (vec_test(a->tmr, (unsigned)v))
		after->eoi_vector = v;
	lapic_check_intr(a, after);
}

static void lapic_set_svr(struct lapic *a, uint32_t v, struct lapic_after *after)
{
	a->svr = v & 0x3FF;
	if (!lapic_sw_enabled(a))
		for (unsigned i = 0; i < LVT_COUNT; i++)
			a->lvt[i] |= LVT_MASKED;
	lapic_check_intr(a, after);
}

static void lapic_set_lvt(struct lapic *a, unsigned i, uint32_t v, struct lapic_after *after)
{
	v = (v & lvt_writable[i]) | (a->lvt[i] & ~lvt_writable[i]);
	if (!lapic_sw_enabled(a))
		v |= LVT_MASKED;
	if (i == LVT_TIMER)
		lapic_timer_write_lvt(a, v);
	else
		a->lvt[i] = v;
	if (i == LVT_LINT0)
		lapic_check_intr(a, after);
}

/* An ICR write: the IPI it sends (delivered after the lock). */
static void lapic_send_ipi(struct lapic *a, uint32_t lo, uint32_t dest, struct lapic_after *after)
{
	unsigned dm = ICR_DM(lo);
	if (dm == X86_DM_INIT && !(lo & ICR_ASSERT) && (lo & ICR_LEVEL))
		return; /* INIT level de-assert: only synchronises arbitration IDs */
	if ((dm == X86_DM_FIXED || dm == X86_DM_LOWEST) && (lo & 0xFF) < 16) {
		lapic_error(a, ESR_SEND_ILLEGAL, after);
		return;
	}
	after->send = true;
	after->msg = (struct apic_msg){ .vector = (uint8_t)lo, .mode = (uint8_t)dm,
					.level_trig = (lo & ICR_LEVEL) &&
						      (dm == X86_DM_FIXED || dm == X86_DM_LOWEST) };
	after->dest = (struct apic_dest){ .dest = dest, .logical = lo & ICR_LOGICAL,
					  .x2apic_format = lapic_x2apic(a),
					  .shorthand = ICR_SHORTHAND(lo), .self = (int)a->index };
}

/* A register's value by xAPIC offset (16-byte aligned). */
static uint32_t lapic_read_reg(struct lapic *a, uint32_t off)
{
	if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80)
		return a->isr[(off - LAPIC_ISR) / 16];
	if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80)
		return a->tmr[(off - LAPIC_TMR) / 16];
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80)
		return a->irr[(off - LAPIC_IRR) / 16];
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR)
		return a->lvt[(off - LAPIC_LVT_TIMER) / 16];
	switch (off) {
	case LAPIC_ID: return lapic_x2apic(a) ? a->id : a->id << 24;
	case LAPIC_VER: return LAPIC_VERSION;
	case LAPIC_TPR: return a->tpr;
	case LAPIC_APR: return lapic_apr(a);
	case LAPIC_PPR: return lapic_ppr(a);
	case LAPIC_LDR: return a->ldr;
	case LAPIC_DFR: return a->dfr;
	case LAPIC_SVR: return a->svr;
	case LAPIC_ESR: return a->esr;
	case LAPIC_ICR_LO: return a->icr_lo; /* delivery status 0: sent at once */
	case LAPIC_ICR_HI: return a->icr_hi;
	case LAPIC_TIMER_ICR: return a->timer_icr;
	case LAPIC_TIMER_CCR: return lapic_timer_current(a, lapic_now(a));
	case LAPIC_TIMER_DCR: return a->timer_dcr;
	default: return 0; /* EOI, RRD and reserved offsets read 0 */
	}
}

static void lapic_write_reg(struct lapic *a, uint32_t off, uint32_t v, struct lapic_after *after)
{
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) {
		lapic_set_lvt(a, (off - LAPIC_LVT_TIMER) / 16, v, after);
		return;
	}
	switch (off) {
	case LAPIC_ID:
		if (!lapic_x2apic(a))
			a->id = v >> 24;
		break;
	case LAPIC_TPR:
		a->tpr = v & 0xFF;
		lapic_check_intr(a, after);
		break;
	case LAPIC_EOI:
		lapic_eoi(a, after);
		break;
	case LAPIC_LDR:
		if (!lapic_x2apic(a))
			a->ldr = v & 0xFF000000u;
		break;
	case LAPIC_DFR:
		if (!lapic_x2apic(a))
			a->dfr = v | 0x0FFFFFFFu;
		break;
	case LAPIC_SVR:
		lapic_set_svr(a, v, after);
		break;
	case LAPIC_ESR: /* a write latches the errors seen since the last one */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case LAPIC_ICR_LO:
		a->icr_lo = v & ~(1u << 12);
		lapic_send_ipi(a, a->icr_lo, lapic_x2apic(a) ? a->icr_hi : a->icr_hi >> 24, after);
		break;
	case LAPIC_ICR_HI:
		a->icr_hi = lapic_x2apic(a) ? v : v & 0xFF000000u;
		break;
	case LAPIC_TIMER_ICR:
		lapic_timer_write_icr(a, v, lapic_now(a));
		break;
	case LAPIC_TIMER_DCR:
		lapic_timer_write_dcr(a, v, lapic_now(a));
		break;
	case LAPIC_SELF_IPI:
		lapic_send_ipi(a, v & 0xFF, 0, after);
		after->dest.shorthand = SH_SELF;
		break;
	default:
		break; /* read-only and reserved: ignored */
	}
}

void lapic_mmio(struct lapic *a, uint32_t offset, bool is_write, uint8_t *data, unsigned len)
{
	struct lapic_after after = AFTER_INIT;
	if (len > 8)
		len = 8;
	pthread_mutex_lock(&a->dev.lock);
	uint32_t reg = offset & 0xFF0, byte = offset & 0xF;
	if (!lapic_hw_enabled(a) || lapic_x2apic(a) || offset >= 0x1000) {
		/* The xAPIC page is not decoded: nothing answers. */
		if (!is_write)
			memset(data, 0xFF, len);
	} else if (!is_write) {
		uint64_t v = byte < 4 ? (uint64_t)lapic_read_reg(a, reg) >> (8 * byte) : 0;
		for (unsigned i = 0; i < len; i++)
			data[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0;
	} else if (byte == 0 && len >= 4 && reg != LAPIC_SELF_IPI) {
		uint32_t v;
		memcpy(&v, data, 4);
		lapic_write_reg(a, reg, v, &after);
	}
	/* Other writes (partial, misaligned) are ignored: the SDM requires aligned 32-bit ones. */
	lapic_unlock_finish(a, &after);
}

/* ---- MSRs ---- */

static bool lapic_set_base(struct lapic *a, uint64_t v, struct lapic_after *after)
{
	uint64_t reserved = 0xFFull | (1ull << 9) | ~((1ull << LAPIC_PHYS_BITS) - 1);
	if (v & reserved)
		return false;
	bool en = v & APIC_BASE_EN, extd = v & APIC_BASE_EXTD;
	bool was_en = lapic_hw_enabled(a), was_extd = lapic_x2apic(a);
	if (extd && !en)
		return false; /* x2APIC without the APIC: invalid */
	if (en && !extd && was_extd)
		return false; /* x2APIC back to xAPIC only through disabled */
	if (en && extd && !was_en)
		return false; /* disabled straight to x2APIC: invalid */
	/* The base stays put (relocation refused); the BSP flag is the hardware's. */
	a->apic_base = X86_LAPIC_GPA | (a->apic_base & APIC_BASE_BSP) |
		       (en ? APIC_BASE_EN : 0) | (extd ? APIC_BASE_EXTD : 0);
	if (was_en && !en) {
		lapic_registers_reset(a); /* comes back in its power-on state */
		a->id = a->index;
	}
	if (extd && !was_extd) {
		a->id = a->index; /* the x2APIC ID is the initial APIC ID */
		lapic_ldr_from_id(a);
	}
	lapic_check_intr(a, after);
	return true;
}

static bool x2apic_read(struct lapic *a, uint32_t off, uint64_t *value)
{
	switch (off) {
	case LAPIC_APR: case LAPIC_EOI: case LAPIC_RRD: case LAPIC_DFR: case LAPIC_CMCI:
	case LAPIC_ICR_HI: case LAPIC_SELF_IPI:
		return false; /* not in x2APIC mode, or write-only */
	case LAPIC_ICR_LO:
		*value = (uint64_t)a->icr_hi << 32 | a->icr_lo;
		return true;
	}
	if (off == LAPIC_ID || off == LAPIC_VER || off == LAPIC_TPR || off == LAPIC_PPR ||
	    off == LAPIC_LDR || off == LAPIC_SVR || off == LAPIC_ESR ||
	    (off >= LAPIC_ISR && off < LAPIC_IRR + 0x80) ||
	    (off >= LAPIC_LVT_TIMER && off <= LAPIC_TIMER_CCR) || off == LAPIC_TIMER_DCR) {
		*value = lapic_read_reg(a, off);
		return true;
	}
	return false;
}

static bool x2apic_write(struct lapic *a, uint32_t off, uint64_t v, struct lapic_after *after)
{
	if (off == LAPIC_ICR_LO) {
		a->icr_hi = (uint32_t)(v >> 32);
		a->icr_lo = (uint32_t)v & ~(1u << 12);
		lapic_send_ipi(a, a->icr_lo, a->icr_hi, after);
		return true;
	}
	if (v >> 32)
		return false;
	switch (off) {
	case LAPIC_TPR: case LAPIC_SVR: case LAPIC_TIMER_ICR: case LAPIC_TIMER_DCR:
		break;
	case LAPIC_EOI: case LAPIC_ESR:
		if (v)
			return false; /* must be written with 0 */
		break;
	case LAPIC_SELF_IPI:
		if (v & ~0xFFull)
			return false;
		break;
	default:
		if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR)
			break;
		return false; /* read-only or not there */
	}
	lapic_write_reg(a, off, (uint32_t)v, after);
	return true;
}

bool lapic_msr(struct lapic *a, uint32_t index, bool is_write, uint64_t *value)
{
	struct lapic_after after = AFTER_INIT;
	bool ok = true;
	pthread_mutex_lock(&a->dev.lock);
	if (index == MSR_IA32_APIC_BASE) {
		if (is_write)
			ok = lapic_set_base(a, *value, &after);
		else
			*value = a->apic_base;
	} else if (index == MSR_IA32_TSC_DEADLINE) {
		if (is_write)
			lapic_tsc_deadline_write(a, *value);
		else
			*value = lapic_tsc_deadline_read(a);
	} else if (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST && lapic_x2apic(a)) {
		uint32_t off = (index - MSR_X2APIC_FIRST) << 4;
		ok = is_write ? x2apic_write(a, off, *value, &after) : x2apic_read(a, off, value);
	} else {
		ok = false;
	}
	lapic_unlock_finish(a, &after);
	return ok;
}

/* ---- timers and inputs ---- */

uint64_t lapic_next_deadline_ns(struct lapic *a)
{
	pthread_mutex_lock(&a->dev.lock);
	uint64_t d = lapic_timer_deadline(a);
	pthread_mutex_unlock(&a->dev.lock);
	return d;
}

void lapic_poll(struct lapic *a, uint64_t now_ns)
{
	struct lapic_after after = AFTER_INIT;
	pthread_mutex_lock(&a->dev.lock);
	lapic_timer_poll(a, now_ns > INT64_MAX ? INT64_MAX : (int64_t)now_ns, &after);
	lapic_unlock_finish(a, &after);
}

void lapic_set_lint(struct lapic *a, unsigned lint, int level)
{
	if (lint > 1)
		return;
	struct lapic_after after = AFTER_INIT;
	level = level != 0;
	pthread_mutex_lock(&a->dev.lock);
	bool rising = level && !a->lint_level[lint];
	a->lint_level[lint] = level;
	uint32_t lvt = a->lvt[LVT_LINT0 + lint];
	unsigned dm = LVT_DM(lvt);
	if (dm == X86_DM_EXTINT || !lapic_hw_enabled(a)) {
		if (level)
			lapic_check_intr(a, &after);
	} else if (rising && !(lvt & LVT_MASKED)) {
		/* Fixed and NMI inputs on an edge (a level-triggered fixed LINT is not modelled). */
		lapic_accept_locked(a, &(struct apic_msg){ .vector = (uint8_t)lvt,
							   .mode = (uint8_t)dm }, &after);
	}
	lapic_unlock_finish(a, &after);
}

void lapic_connect_cpu(struct lapic *a, const struct lapic_cpu_link *link)
{
	pthread_mutex_lock(&a->dev.lock);
	a->link = link ? *link : (struct lapic_cpu_link){ 0 };
	pthread_mutex_unlock(&a->dev.lock);
}

/* ---- the backend's view ---- */

static int iface_intr_ack(void *ctx) { return lapic_intr_ack(ctx); }
static void iface_mmio(void *ctx, uint32_t off, bool w, uint8_t *data, unsigned len)
{
	lapic_mmio(ctx, off, w, data, len);
}
static bool iface_msr(void *ctx, uint32_t index, bool w, uint64_t *value)
{
	return lapic_msr(ctx, index, w, value);
}
static uint64_t iface_next_deadline(void *ctx) { return lapic_next_deadline_ns(ctx); }
static void iface_poll(void *ctx, uint64_t now) { lapic_poll(ctx, now); }

void lapic_accel_iface(struct lapic *a, struct accel_lapic *out)
{
	*out = (struct accel_lapic){ .ctx = a, .intr_ack = iface_intr_ack, .mmio = iface_mmio,
				     .msr = iface_msr, .next_deadline_ns = iface_next_deadline,
				     .poll = iface_poll };
}

/* ---- the device ---- */

static void lapic_reset(struct device *d)
{
	struct lapic *a = (struct lapic *)d;
	pthread_mutex_lock(&a->dev.lock);
	lapic_power_on(a);
	pthread_mutex_unlock(&a->dev.lock);
}

static const struct device_ops lapic_device_ops = { .name = "lapic", .reset = lapic_reset };

struct lapic *lapic_new(const struct dev_services *svc, struct apic_bus *bus, unsigned index,
			struct error *err)
{
	struct lapic *a = device_new(svc, sizeof(*a), &lapic_device_ops, err);
	if (!a)
		return NULL;
	a->bus = bus;
	a->index = index;
	a->clock = svc->clock;
	lapic_power_on(a);
	return a;
}
