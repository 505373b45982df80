/* The LAPIC timer (lapic.h). Like the PIT it keeps no running counter: a count started at
 * timer_start_ns with timer_icr, and every read derives the current count from the clock at
 * X86_SOFT_CRYSTAL_HZ / divide. Periodic expiries are at start + k periods; missed ones
 * collapse into one interrupt. TSC-deadline values are CLOCK_MONOTONIC ns already. */
#include "devices/x86/lapic_internal.h"

#include "arch/x86/cpu_state.h"

#define NS_PER_S 1000000000ull

/* Divide configuration bits 0, 1 and 3: 2^((value + 1) & 7), so 0b1011 is divide by 1. */
static unsigned timer_divide(const struct lapic *a)
{
	unsigned v = (a->timer_dcr & 3) | ((a->timer_dcr >> 1) & 4);
	return 1u << ((v + 1) & 7);
}

/* Timer counts (at the current divide) in dt ns. */
static uint64_t ns_to_counts(const struct lapic *a, uint64_t dt)
{
	return (uint64_t)((unsigned __int128)dt * X86_SOFT_CRYSTAL_HZ / NS_PER_S /
			  timer_divide(a));
}

/* The first ns offset at which n counts have passed (saturating). */
static uint64_t counts_to_ns(const struct lapic *a, unsigned __int128 n)
{
	unsigned __int128 ns = (n * timer_divide(a) * NS_PER_S + X86_SOFT_CRYSTAL_HZ - 1) /
			       X86_SOFT_CRYSTAL_HZ;
	return ns > UINT64_MAX / 2 ? UINT64_MAX / 2 : (uint64_t)ns;
}

static uint64_t elapsed_counts(const struct lapic *a, int64_t now)
{
	if (now <= a->timer_start_ns)
		return 0;
	return ns_to_counts(a, (uint64_t)now - (uint64_t)a->timer_start_ns);
}

static bool timer_periodic(const struct lapic *a)
{
	return LVT_TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_PERIODIC;
}

static bool timer_tsc_mode(const struct lapic *a)
{
	return LVT_TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE;
}

static uint64_t add_sat(int64_t base, uint64_t off)
{
	unsigned __int128 t = (unsigned __int128)(uint64_t)(base < 0 ? 0 : base) + off;
	return t >= UINT64_MAX ? UINT64_MAX - 1 : (uint64_t)t;
}

/* The next expiry after now of a running count. */
static void timer_rearm(struct lapic *a, int64_t now)
{
	unsigned __int128 k = 1;
	if (timer_periodic(a))
		k = elapsed_counts(a, now) / a->timer_icr + 1;
	a->timer_deadline_ns = add_sat(a->timer_start_ns, counts_to_ns(a, k * a->timer_icr));
}

void lapic_timer_reset(struct lapic *a)
{
	a->timer_icr = a->timer_dcr = 0;
	a->timer_running = false;
	a->timer_start_ns = 0;
	a->timer_deadline_ns = 0;
	a->tsc_deadline_ns = 0;
}

uint32_t lapic_timer_current(struct lapic *a, int64_t now)
{
	if (!a->timer_running || timer_tsc_mode(a))
		return 0;
	uint64_t n = elapsed_counts(a, now);
	if (timer_periodic(a))
		return a->timer_icr - (uint32_t)(n % a->timer_icr);
	return n >= a->timer_icr ? 0 : a->timer_icr - (uint32_t)n;
}

void lapic_timer_write_icr(struct lapic *a, uint32_t v, int64_t now)
{
	if (timer_tsc_mode(a))
		return; /* ignored in TSC-deadline mode */
	a->timer_icr = v;
	a->timer_running = v != 0;
	a->timer_start_ns = now;
	if (v)
		timer_rearm(a, now);
}

/* A new divide mid-count: the counts left go on at the new rate. */
void lapic_timer_write_dcr(struct lapic *a, uint32_t v, int64_t now)
{
	uint32_t left = lapic_timer_current(a, now);
	a->timer_dcr = v & 0xB;
	if (!a->timer_running || timer_tsc_mode(a))
		return;
	uint64_t done_ns = counts_to_ns(a, a->timer_icr - left);
	a->timer_start_ns = now - (int64_t)(done_ns > (uint64_t)INT64_MAX / 2 ?
					    (uint64_t)INT64_MAX / 2 : done_ns);
	timer_rearm(a, now);
}

void lapic_timer_write_lvt(struct lapic *a, uint32_t v)
{
	if (LVT_TIMER_MODE(v) != LVT_TIMER_MODE(a->lvt[LVT_TIMER])) {
		a->timer_icr = 0;
		a->timer_running = false;
		a->tsc_deadline_ns = 0;
	}
	a->lvt[LVT_TIMER] = v;
}

uint64_t lapic_timer_deadline(const struct lapic *a)
{
	if (timer_tsc_mode(a))
		return a->tsc_deadline_ns ? a->tsc_deadline_ns : UINT64_MAX;
	return a->timer_running ? a->timer_deadline_ns : UINT64_MAX;
}

static void timer_fire(struct lapic *a, struct lapic_after *after)
{
	uint32_t lvt = a->lvt[LVT_TIMER];
	if (lvt & LVT_MASKED)
		return; /* still counts, interrupts nobody */
	lapic_accept_locked(a, &(struct apic_msg){ .vector = (uint8_t)lvt, .mode = X86_DM_FIXED },
			    after);
}

void lapic_timer_poll(struct lapic *a, int64_t now, struct lapic_after *after)
{
	if (now < 0)
		return;
	if (timer_tsc_mode(a)) {
		if (a->tsc_deadline_ns && (uint64_t)now >= a->tsc_deadline_ns) {
			a->tsc_deadline_ns = 0;
			timer_fire(a, after);
		}
		return;
	}
	if (!a->timer_running || (uint64_t)now < a->timer_deadline_ns)
		return;
	if (timer_periodic(a))
		timer_rearm(a, now);
	else
		a->timer_running = false;
	timer_fire(a, after);
}

uint64_t lapic_tsc_deadline_read(const struct lapic *a)
{
	return timer_tsc_mode(a) ? a->tsc_deadline_ns : 0;
}

void lapic_tsc_deadline_write(struct lapic *a, uint64_t ns)
{
	if (timer_tsc_mode(a))
		a->tsc_deadline_ns = ns; /* 0 disarms; other modes ignore the write */
}
