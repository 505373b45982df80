/* Unit test: the LAPICs and the APIC bus (lapic.h) on a fake services handle and a stepped
 * fake clock, through the ops a backend calls (xAPIC MMIO, MSRs, intr_ack, timers): reset
 * state, priorities (TPR, PPR, nesting), EOI and the level-triggered broadcast to the IOAPIC,
 * the timer's one-shot/periodic/TSC-deadline modes and divide, IPIs (fixed, lowest priority,
 * NMI, INIT, SIPI, shorthands, physical, logical flat/cluster, x2APIC cluster), the x2APIC
 * MSRs and their #GP cases, IA32_APIC_BASE transitions, ExtINT from the 8259 (virtual wire
 * and the APIC disabled), LINT1 as NMI, ESR. */
#include <stdint.h>

#include "arch/x86/layout.h"
#include "check.h"
#include "devices/x86/irqchip.h"
#include "devices/x86/lapic.h"
#include "fake_services.h"

#define NCPU 4
#define T0 1000000000LL /* the fake clock's start */

struct sig_log {
	int intr, nmi, init, sipi;
	uint8_t sipi_vector;
};

static struct sig_log sigs[NCPU];

static void on_signal(void *ctx, enum accel_signal sig, uint8_t vector)
{
	struct sig_log *l = ctx;
	switch (sig) {
	case ACCEL_SIGNAL_INTR: l->intr++; break;
	case ACCEL_SIGNAL_NMI: l->nmi++; break;
	case ACCEL_SIGNAL_INIT: l->init++; break;
	case ACCEL_SIGNAL_SIPI: l->sipi++; l->sipi_vector = vector; break;
	}
}

struct rig {
	struct fake_env f;
	struct apic_bus *bus;
	struct x86_irqchip *chip;
	struct irq_router router;
	struct accel_lapic cpu[NCPU];
};

static void rig_init(struct rig *r, bool with_irqchip)
{
	struct error err = { 0 };
	fake_env_init(&r->f);
	fake_env_fake_clock(&r->f, T0);
	memset(sigs, 0, sizeof(sigs));
	if (with_irqchip) {
		r->chip = x86_irqchip_create(&r->f.svc, NCPU, &r->router, &err);
		CHECK(r->chip, "x86_irqchip_create: %s", err.msg);
	}
	r->bus = apic_bus_create(&r->f.svc, NCPU, &err);
	CHECK(r->bus, "apic_bus_create: %s", err.msg);
	CHECK(apic_bus_count(r->bus) == NCPU, "four LAPICs");
	if (with_irqchip)
		apic_bus_connect_irqchip(r->bus, r->chip);
	for (unsigned i = 0; i < NCPU; i++) {
		struct lapic *a = apic_bus_lapic(r->bus, i);
		lapic_connect_cpu(a, &(struct lapic_cpu_link){ .signal = on_signal, .ctx = &sigs[i] });
		lapic_accel_iface(a, &r->cpu[i]);
		CHECK(r->cpu[i].ctx == a, "the iface's ctx is the LAPIC");
	}
}

static uint32_t rd(struct rig *r, unsigned cpu, uint32_t off)
{
	uint8_t d[4];
	r->cpu[cpu].mmio(r->cpu[cpu].ctx, off, false, d, 4);
	uint32_t v;
	memcpy(&v, d, 4);
	return v;
}

static void wr(struct rig *r, unsigned cpu, uint32_t off, uint32_t v)
{
	uint8_t d[4];
	memcpy(d, &v, 4);
	r->cpu[cpu].mmio(r->cpu[cpu].ctx, off, true, d, 4);
}

static bool msr_rd(struct rig *r, unsigned cpu, uint32_t index, uint64_t *v)
{
	return r->cpu[cpu].msr(r->cpu[cpu].ctx, index, false, v);
}

static bool msr_wr(struct rig *r, unsigned cpu, uint32_t index, uint64_t v)
{
	return r->cpu[cpu].msr(r->cpu[cpu].ctx, index, true, &v);
}

static int ack(struct rig *r, unsigned cpu)
{
	return r->cpu[cpu].intr_ack(r->cpu[cpu].ctx);
}

static bool irr_has(struct rig *r, unsigned cpu, unsigned v)
{
	return rd(r, cpu, 0x200 + (v / 32) * 16) >> (v % 32) & 1;
}

static bool tmr_has(struct rig *r, unsigned cpu, unsigned v)
{
	return rd(r, cpu, 0x180 + (v / 32) * 16) >> (v % 32) & 1;
}

static void enable_all(struct rig *r)
{
	for (unsigned i = 0; i < NCPU; i++)
		wr(r, i, 0xF0, 0x1FF);
}

static void ipi(struct rig *r, unsigned from, uint8_t dest, uint32_t lo)
{
	wr(r, from, 0x310, (uint32_t)dest << 24);
	wr(r, from, 0x300, lo);
}

static void clear_irr(struct rig *r)
{
	for (unsigned i = 0; i < NCPU; i++)
		while (ack(r, i) >= 0)
			wr(r, i, 0xB0, 0);
}

static void test_reset_state(void)
{
	struct rig r;
	rig_init(&r, false);
	SECTION("reset: IDs, version, APIC base (BSP on 0), SVR, DFR, masked LVTs");
	uint64_t base;
	for (unsigned i = 0; i < NCPU; i++) {
		CHECK(rd(&r, i, 0x20) == i << 24, "ID of %u: 0x%x", i, rd(&r, i, 0x20));
		CHECK(rd(&r, i, 0x30) == 0x50014, "version 0x%x", rd(&r, i, 0x30));
		CHECK(rd(&r, i, 0xF0) == 0xFF && rd(&r, i, 0xE0) == 0xFFFFFFFF, "SVR, DFR");
		CHECK(msr_rd(&r, i, 0x1B, &base), "APIC base readable");
		CHECK(base == (0xFEE00800ull | (i == 0 ? 0x100 : 0)), "APIC base 0x%llx",
		      (unsigned long long)base);
		CHECK(rd(&r, i, 0x320) == 0x10000 && rd(&r, i, 0x370) == 0x10000, "LVTs masked");
		CHECK(rd(&r, i, 0x350) == (i == 0 ? 0x700u : 0x10000u), "LINT0 0x%x",
		      rd(&r, i, 0x350));
	}
	CHECK(rd(&r, 0, 0x300) == 0 && (rd(&r, 0, 0x300) & 0x1000) == 0, "ICR idle");

	SECTION("software disabled: fixed interrupts dropped, LVT writes stay masked");
	ipi(&r, 0, 0, 0x40000 | 0x41); /* self */
	CHECK(!irr_has(&r, 0, 0x41) && sigs[0].intr == 0, "dropped while disabled");
	wr(&r, 1, 0x320, 0x30);
	CHECK(rd(&r, 1, 0x320) == 0x10030, "mask forced: 0x%x", rd(&r, 1, 0x320));
	wr(&r, 1, 0xF0, 0x1FF);
	wr(&r, 1, 0x320, 0x30);
	CHECK(rd(&r, 1, 0x320) == 0x30, "unmasked once enabled");
	wr(&r, 1, 0xF0, 0x0FF);
	CHECK(rd(&r, 1, 0x320) == 0x10030, "disabling masks every LVT");
	fake_env_destroy(&r.f);
}

static void test_priorities(void)
{
	struct rig r;
	rig_init(&r, false);
	enable_all(&r);
	SECTION("acceptance: IRR, signal, intr_ack moves the vector to ISR, PPR follows");
	ipi(&r, 0, 0, 0x40000 | 0x40);
	CHECK(irr_has(&r, 0, 0x40) && sigs[0].intr == 1, "IRR 0x40, one INTR signal");
	CHECK(ack(&r, 0) == 0x40, "acknowledged");
	CHECK(!irr_has(&r, 0, 0x40) && (rd(&r, 0, 0x120) & 1), "ISR 0x40");
	CHECK(rd(&r, 0, 0xA0) == 0x40, "PPR 0x%x", rd(&r, 0, 0xA0));
	CHECK(ack(&r, 0) == -1, "nothing else");

	SECTION("nesting: a lower class waits, a higher one preempts; EOI unwinds highest first");
	ipi(&r, 0, 0, 0x40000 | 0x35);
	int s = sigs[0].intr;
	CHECK(ack(&r, 0) == -1 && sigs[0].intr == s, "0x35 below PPR: not deliverable");
	ipi(&r, 0, 0, 0x40000 | 0x50);
	CHECK(sigs[0].intr == s + 1 && ack(&r, 0) == 0x50, "0x50 preempts");
	CHECK(rd(&r, 0, 0xA0) == 0x50, "PPR 0x50");
	wr(&r, 0, 0xB0, 0);
	CHECK(rd(&r, 0, 0xA0) == 0x40 && ack(&r, 0) == -1, "EOI of 0x50; 0x40 still in service");
	s = sigs[0].intr;
	wr(&r, 0, 0xB0, 0);
	CHECK(sigs[0].intr == s + 1, "the EOI that unmasks 0x35 signals");
	CHECK(ack(&r, 0) == 0x35, "0x35 now");
	wr(&r, 0, 0xB0, 0);

	SECTION("TPR masks a class and its lowering signals; APR");
	wr(&r, 0, 0x80, 0x60);
	CHECK(rd(&r, 0, 0x80) == 0x60 && rd(&r, 0, 0xA0) == 0x60, "TPR, PPR 0x60");
	s = sigs[0].intr;
	ipi(&r, 0, 0, 0x40000 | 0x65);
	CHECK(sigs[0].intr == s && ack(&r, 0) == -1, "0x65 is in TPR's class: held");
	CHECK(rd(&r, 0, 0x90) == 0x60, "APR 0x%x", rd(&r, 0, 0x90));
	wr(&r, 0, 0x80, 0x50);
	CHECK(sigs[0].intr == s + 1 && ack(&r, 0) == 0x65, "TPR lowered: delivered");
	wr(&r, 0, 0xB0, 0);
	wr(&r, 0, 0x80, 0);

	SECTION("ESR: an illegal vector is refused and latched on the next ESR write");
	ipi(&r, 0, 0, 0x40000 | 0x05);
	CHECK(rd(&r, 0, 0x280) == 0, "not latched before the write");
	wr(&r, 0, 0x280, 0);
	CHECK(rd(&r, 0, 0x280) == 0x20, "send illegal vector: 0x%x", rd(&r, 0, 0x280));
	wr(&r, 0, 0x280, 0);
	CHECK(rd(&r, 0, 0x280) == 0, "cleared by the next write");
	fake_env_destroy(&r.f);
}

static void ioapic_rte(struct rig *r, unsigned pin, uint32_t lo, uint32_t hi)
{
	fake_mmio_write(&r->f, X86_IOAPIC_GPA, 4, 0x10 + 2 * pin);
	fake_mmio_write(&r->f, X86_IOAPIC_GPA + 0x10, 4, lo);
	fake_mmio_write(&r->f, X86_IOAPIC_GPA, 4, 0x11 + 2 * pin);
	fake_mmio_write(&r->f, X86_IOAPIC_GPA + 0x10, 4, hi);
}

static uint32_t ioapic_rte_lo(struct rig *r, unsigned pin)
{
	fake_mmio_write(&r->f, X86_IOAPIC_GPA, 4, 0x10 + 2 * pin);
	return (uint32_t)fake_mmio_read(&r->f, X86_IOAPIC_GPA + 0x10, 4);
}

static void test_ioapic_eoi(void)
{
	struct rig r;
	rig_init(&r, true);
	enable_all(&r);
	SECTION("IOAPIC level entry -> LAPIC 2: TMR set; EOI clears remote IRR, resends if high");
	ioapic_rte(&r, 5, 0x8000 | 0x61, 2u << 24); /* level, physical dest 2 */
	CHECK(r.router.line(r.router.ctx, 5, 1) == 0, "GSI 5 up");
	CHECK(irr_has(&r, 2, 0x61) && tmr_has(&r, 2, 0x61) && sigs[2].intr == 1, "at LAPIC 2");
	CHECK(!irr_has(&r, 0, 0x61), "not at LAPIC 0");
	CHECK(ioapic_rte_lo(&r, 5) & 0x4000, "remote IRR set");
	CHECK(ack(&r, 2) == 0x61, "acknowledged");
	wr(&r, 2, 0xB0, 0);
	CHECK(irr_has(&r, 2, 0x61), "line still high: the EOI broadcast made the IOAPIC resend");
	CHECK(ack(&r, 2) == 0x61, "again");
	r.router.line(r.router.ctx, 5, 0);
	wr(&r, 2, 0xB0, 0);
	CHECK(!(ioapic_rte_lo(&r, 5) & 0x4000) && !irr_has(&r, 2, 0x61), "remote IRR clear");

	SECTION("an edge entry, logical flat destination; an MSI to LAPIC 3");
	wr(&r, 1, 0xD0, 0x02000000);
	ioapic_rte(&r, 6, 0x800 | 0x62, 0x02u << 24);
	r.router.line(r.router.ctx, 6, 1);
	CHECK(irr_has(&r, 1, 0x62) && !tmr_has(&r, 1, 0x62), "edge at LAPIC 1");
	CHECK(r.router.msi(r.router.ctx, 0xFEE03000, 0x0071) == 0, "MSI");
	CHECK(irr_has(&r, 3, 0x71), "MSI vector 0x71 at LAPIC 3");
	fake_env_destroy(&r.f);
}

static void set_clock(struct rig *r, int64_t ns)
{
	r->f.clock_ns = ns;
}

static void poll(struct rig *r, unsigned cpu)
{
	r->cpu[cpu].poll(r->cpu[cpu].ctx, (uint64_t)r->f.clock_ns);
}

static uint64_t deadline(struct rig *r, unsigned cpu)
{
	return r->cpu[cpu].next_deadline_ns(r->cpu[cpu].ctx);
}

static void test_timer(void)
{
	struct rig r;
	rig_init(&r, false);
	enable_all(&r);
	SECTION("one-shot, divide by 1: 40 ns a count at 25 MHz; current count; expiry");
	CHECK(deadline(&r, 0) == UINT64_MAX, "no timer at reset");
	wr(&r, 0, 0x3E0, 0xB);
	wr(&r, 0, 0x320, 0x70);
	wr(&r, 0, 0x380, 1000);
	CHECK(deadline(&r, 0) == (uint64_t)T0 + 40000, "deadline %llu",
	      (unsigned long long)deadline(&r, 0));
	set_clock(&r, T0 + 20000);
	CHECK(rd(&r, 0, 0x390) == 500, "current count %u", rd(&r, 0, 0x390));
	set_clock(&r, T0 + 39999);
	poll(&r, 0);
	CHECK(!irr_has(&r, 0, 0x70), "not yet");
	set_clock(&r, T0 + 40000);
	poll(&r, 0);
	CHECK(irr_has(&r, 0, 0x70) && sigs[0].intr == 1, "fired");
	CHECK(rd(&r, 0, 0x390) == 0 && deadline(&r, 0) == UINT64_MAX, "one-shot done");
	clear_irr(&r);

	SECTION("periodic, divide by 2: period 8 us; missed periods collapse; masked still counts");
	set_clock(&r, T0);
	wr(&r, 0, 0x3E0, 0x0);
	wr(&r, 0, 0x320, 0x20071);
	wr(&r, 0, 0x380, 100);
	CHECK(deadline(&r, 0) == (uint64_t)T0 + 8000, "first period");
	set_clock(&r, T0 + 8000);
	poll(&r, 0);
	CHECK(ack(&r, 0) == 0x71, "first expiry");
	wr(&r, 0, 0xB0, 0);
	CHECK(deadline(&r, 0) == (uint64_t)T0 + 16000, "next period");
	set_clock(&r, T0 + 50000);
	CHECK(rd(&r, 0, 0x390) == 100 - (50000 / 80) % 100, "count %u", rd(&r, 0, 0x390));
	poll(&r, 0);
	CHECK(ack(&r, 0) == 0x71 && ack(&r, 0) == -1, "one interrupt for the missed periods");
	wr(&r, 0, 0xB0, 0);
	CHECK(deadline(&r, 0) == (uint64_t)T0 + 56000, "realigned to the period");
	wr(&r, 0, 0x320, 0x30071);
	set_clock(&r, T0 + 56000);
	poll(&r, 0);
	CHECK(!irr_has(&r, 0, 0x71) && deadline(&r, 0) == (uint64_t)T0 + 64000, "masked");
	wr(&r, 0, 0x380, 0);
	CHECK(deadline(&r, 0) == UINT64_MAX, "initial count 0 stops it");

	SECTION("divide configuration: 16, 32, 128, and a change mid-count");
	static const struct { uint32_t dcr; unsigned div; } divs[] = {
		{ 0x3, 16 }, { 0x8, 32 }, { 0xA, 128 }, { 0x9, 64 }, { 0x1, 4 },
	};
	wr(&r, 0, 0x320, 0x72);
	for (unsigned i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
		set_clock(&r, T0);
		wr(&r, 0, 0x3E0, divs[i].dcr);
		wr(&r, 0, 0x380, 10);
		CHECK(deadline(&r, 0) == (uint64_t)T0 + 10ull * divs[i].div * 40, "divide %u",
		      divs[i].div);
		CHECK(rd(&r, 0, 0x3E0) == divs[i].dcr, "DCR reads back");
	}
	set_clock(&r, T0 + 5 * 4 * 40); /* half way at divide 4 */
	wr(&r, 0, 0x3E0, 0xB);          /* the 5 counts left go at divide 1 */
	CHECK(rd(&r, 0, 0x390) == 5 && deadline(&r, 0) == (uint64_t)T0 + 800 + 200,
	      "count %u deadline %llu", rd(&r, 0, 0x390), (unsigned long long)deadline(&r, 0));

	SECTION("TSC-deadline: arms through MSR 0x6e0 in ns, fires once, reads 0 after");
	uint64_t v = 1;
	wr(&r, 0, 0x320, 0x73); /* one-shot: the MSR ignores writes */
	CHECK(msr_wr(&r, 0, 0x6E0, T0 + 5000) && msr_rd(&r, 0, 0x6E0, &v) && v == 0,
	      "ignored in one-shot mode");
	set_clock(&r, T0);
	wr(&r, 0, 0x380, 1000);
	wr(&r, 0, 0x320, 0x40073);
	CHECK(deadline(&r, 0) == UINT64_MAX && rd(&r, 0, 0x380) == 0, "mode change disarms");
	wr(&r, 0, 0x380, 1000);
	CHECK(rd(&r, 0, 0x380) == 0 && rd(&r, 0, 0x390) == 0, "initial count ignored");
	CHECK(msr_wr(&r, 0, 0x6E0, T0 + 5000) && msr_rd(&r, 0, 0x6E0, &v) && v == T0 + 5000,
	      "armed");
	CHECK(deadline(&r, 0) == (uint64_t)T0 + 5000, "deadline from the MSR");
	set_clock(&r, T0 + 4999);
	poll(&r, 0);
	CHECK(!irr_has(&r, 0, 0x73), "not yet");
	set_clock(&r, T0 + 5000);
	poll(&r, 0);
	CHECK(irr_has(&r, 0, 0x73), "fired");
	CHECK(msr_rd(&r, 0, 0x6E0, &v) && v == 0 && deadline(&r, 0) == UINT64_MAX, "disarmed");
	CHECK(msr_wr(&r, 0, 0x6E0, T0 + 9000) && msr_wr(&r, 0, 0x6E0, 0) &&
	      deadline(&r, 0) == UINT64_MAX, "0 disarms");
	fake_env_destroy(&r.f);
}

static void test_ipis(void)
{
	struct rig r;
	rig_init(&r, false);
	enable_all(&r);
	SECTION("fixed, physical: only the named LAPIC");
	ipi(&r, 0, 2, 0x45);
	CHECK(irr_has(&r, 2, 0x45) && sigs[2].intr == 1, "at 2");
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(i == 2 || !irr_has(&r, i, 0x45), "not at %u", i);
	clear_irr(&r);

	SECTION("NMI, INIT (registers reset, ID kept), INIT de-assert ignored, SIPI");
	ipi(&r, 0, 1, 0x400);
	CHECK(sigs[1].nmi == 1, "NMI");
	wr(&r, 3, 0x80, 0x20);
	ipi(&r, 0, 3, 0x4500); /* INIT, assert */
	CHECK(sigs[3].init == 1 && rd(&r, 3, 0xF0) == 0xFF && rd(&r, 3, 0x80) == 0 &&
	      rd(&r, 3, 0x20) == 3u << 24, "INIT reset LAPIC 3");
	ipi(&r, 0, 3, 0x8500); /* INIT de-assert: level, not asserted */
	CHECK(sigs[3].init == 1, "de-assert ignored");
	ipi(&r, 0, 3, 0x4600 | 0x9A);
	CHECK(sigs[3].sipi == 1 && sigs[3].sipi_vector == 0x9A, "SIPI vector 0x9A");
	wr(&r, 3, 0xF0, 0x1FF);

	SECTION("shorthands: self, all including self, all excluding self; broadcast 0xFF");
	ipi(&r, 1, 0, 0x40000 | 0x46);
	CHECK(irr_has(&r, 1, 0x46) && !irr_has(&r, 0, 0x46), "self");
	ipi(&r, 1, 0, 0x80000 | 0x47);
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(irr_has(&r, i, 0x47), "all incl. self: %u", i);
	ipi(&r, 1, 0, 0xC0000 | 0x48);
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(irr_has(&r, i, 0x48) == (i != 1), "all excl. self: %u", i);
	ipi(&r, 0, 0xFF, 0x49);
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(irr_has(&r, i, 0x49), "physical broadcast: %u", i);
	clear_irr(&r);

	SECTION("logical flat; lowest priority to one; cluster model");
	wr(&r, 1, 0xD0, 0x02000000);
	wr(&r, 2, 0xD0, 0x04000000);
	ipi(&r, 0, 0x06, 0x800 | 0x50);
	CHECK(irr_has(&r, 1, 0x50) && irr_has(&r, 2, 0x50) && !irr_has(&r, 3, 0x50), "flat");
	ipi(&r, 0, 0x06, 0x900 | 0x51);
	CHECK(irr_has(&r, 1, 0x51) && !irr_has(&r, 2, 0x51), "lowest priority: one");
	for (unsigned i = 1; i <= 2; i++) {
		wr(&r, i, 0xE0, 0x0FFFFFFF);
		wr(&r, i, 0xD0, (0x10u | i) << 24); /* cluster 1, bits 1 and 2 */
	}
	CHECK(rd(&r, 1, 0xE0) == 0x0FFFFFFF && rd(&r, 1, 0xD0) == 0x11000000, "DFR, LDR");
	ipi(&r, 0, 0x13, 0x800 | 0x52);
	CHECK(irr_has(&r, 1, 0x52) && irr_has(&r, 2, 0x52), "cluster 1, both");
	ipi(&r, 0, 0x23, 0x800 | 0x53);
	CHECK(!irr_has(&r, 1, 0x53) && !irr_has(&r, 2, 0x53), "cluster 2: nobody");
	fake_env_destroy(&r.f);
}

static bool irr_has_x2(struct rig *r, unsigned cpu, unsigned v)
{
	uint64_t w = 0;
	CHECK(msr_rd(r, cpu, 0x820 + v / 32, &w), "IRR MSR readable");
	return w >> (v % 32) & 1;
}

static void test_x2apic(void)
{
	struct rig r;
	rig_init(&r, false);
	uint64_t v;
	SECTION("x2APIC MSRs #GP in xAPIC mode; APIC base reserved bits and transitions");
	CHECK(!msr_rd(&r, 0, 0x802, &v), "0x802 in xAPIC mode");
	CHECK(!msr_wr(&r, 0, 0x1B, 0xFEE00901), "reserved bit 0");
	CHECK(!msr_wr(&r, 0, 0x1B, 0xFEE00B00 | (1ull << 9)), "reserved bit 9");
	CHECK(!msr_wr(&r, 0, 0x1B, 0xFEE00900 | (1ull << LAPIC_PHYS_BITS)), "above MAXPHYADDR");
	CHECK(!msr_wr(&r, 0, 0x1B, 0xFEE00500), "EXTD without EN");
	CHECK(msr_wr(&r, 1, 0x1B, 0xFEE00000) && msr_rd(&r, 1, 0x1B, &v) && v == 0xFEE00000,
	      "disable");
	CHECK(rd(&r, 1, 0x30) == 0xFFFFFFFF, "a disabled APIC's page does not answer");
	CHECK(!msr_wr(&r, 1, 0x1B, 0xFEE00C00), "disabled straight to x2APIC");
	CHECK(msr_wr(&r, 1, 0x1B, 0xFEE00800), "re-enabled");
	CHECK(msr_wr(&r, 2, 0x1B, 0xA0000800) && msr_rd(&r, 2, 0x1B, &v) && v == 0xFEE00800,
	      "relocation refused: the base stays");
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(msr_wr(&r, i, 0x1B, 0xFEE00C00 | (i ? 0 : 0x100)), "x2APIC on %u", i);
	CHECK(!msr_wr(&r, 0, 0x1B, 0xFEE00900), "x2APIC back to xAPIC");
	CHECK(rd(&r, 0, 0x30) == 0xFFFFFFFF, "the xAPIC page is gone in x2APIC mode");

	SECTION("x2APIC registers: ID, version, LDR from the ID, SVR, TPR");
	for (unsigned i = 0; i < NCPU; i++) {
		CHECK(msr_rd(&r, i, 0x802, &v) && v == i, "x2APIC ID %u", i);
		CHECK(msr_rd(&r, i, 0x80D, &v) && v == (1u << i), "LDR 0x%llx",
		      (unsigned long long)v);
		CHECK(msr_wr(&r, i, 0x80F, 0x1FF), "SVR");
	}
	CHECK(msr_rd(&r, 0, 0x803, &v) && v == 0x50014, "version");
	CHECK(msr_wr(&r, 0, 0x808, 0x20) && msr_rd(&r, 0, 0x808, &v) && v == 0x20, "TPR");
	CHECK(msr_rd(&r, 0, 0x80A, &v) && v == 0x20, "PPR");
	CHECK(msr_wr(&r, 0, 0x808, 0), "TPR 0");

	SECTION("x2APIC #GP: write-only, read-only, absent registers, bad values");
	CHECK(!msr_rd(&r, 0, 0x80B, &v), "read EOI");
	CHECK(!msr_rd(&r, 0, 0x83F, &v), "read SELF_IPI");
	CHECK(!msr_wr(&r, 0, 0x802, 5), "write ID");
	CHECK(!msr_wr(&r, 0, 0x803, 0), "write version");
	CHECK(!msr_wr(&r, 0, 0x80D, 0), "write LDR");
	CHECK(!msr_wr(&r, 0, 0x80A, 0), "write PPR");
	CHECK(!msr_wr(&r, 0, 0x810, 0) && !msr_wr(&r, 0, 0x820, 0), "write ISR, IRR");
	CHECK(!msr_wr(&r, 0, 0x839, 0), "write current count");
	CHECK(!msr_rd(&r, 0, 0x809, &v) && !msr_rd(&r, 0, 0x80C, &v), "APR, RRD absent");
	CHECK(!msr_rd(&r, 0, 0x80E, &v) && !msr_rd(&r, 0, 0x831, &v), "DFR, ICR high absent");
	CHECK(!msr_rd(&r, 0, 0x82F, &v) && !msr_rd(&r, 0, 0x8FF, &v), "CMCI, 0x8ff absent");
	CHECK(!msr_wr(&r, 0, 0x80B, 1), "EOI with a non-zero value");
	CHECK(!msr_wr(&r, 0, 0x828, 1), "ESR with a non-zero value");
	CHECK(!msr_wr(&r, 0, 0x83F, 0x140), "SELF_IPI reserved bits");
	CHECK(!msr_wr(&r, 0, 0x808, 1ull << 32), "upper half of TPR");
	CHECK(msr_wr(&r, 0, 0x80B, 0) && msr_wr(&r, 0, 0x828, 0), "EOI, ESR with 0");

	SECTION("x2APIC IPIs: 64-bit ICR, physical 32-bit IDs, cluster logical, SELF_IPI");
	CHECK(msr_wr(&r, 0, 0x830, (3ull << 32) | 0x55), "ICR to 3");
	CHECK(irr_has_x2(&r, 3, 0x55), "at 3");
	CHECK(msr_rd(&r, 0, 0x830, &v) && v == ((3ull << 32) | 0x55), "ICR reads back");
	CHECK(msr_wr(&r, 0, 0x830, (0x6ull << 32) | 0x800 | 0x56), "cluster 0, bits 1 and 2");
	CHECK(irr_has_x2(&r, 1, 0x56) && irr_has_x2(&r, 2, 0x56) && !irr_has_x2(&r, 3, 0x56),
	      "x2APIC cluster");
	CHECK(msr_wr(&r, 0, 0x830, (0x10006ull << 32) | 0x800 | 0x57), "cluster 1");
	CHECK(!irr_has_x2(&r, 1, 0x57), "no LAPIC in cluster 1");
	CHECK(msr_wr(&r, 0, 0x830, (0xFFFFFFFFull << 32) | 0x58), "broadcast");
	for (unsigned i = 0; i < NCPU; i++)
		CHECK(irr_has_x2(&r, i, 0x58), "broadcast at %u", i);
	CHECK(msr_wr(&r, 2, 0x83F, 0x59) && irr_has_x2(&r, 2, 0x59) && !irr_has_x2(&r, 0, 0x59),
	      "SELF_IPI");
	CHECK(ack(&r, 2) == 0x59, "acknowledged");
	fake_env_destroy(&r.f);
}

static void test_extint(void)
{
	struct rig r;
	rig_init(&r, true);
	SECTION("virtual wire: the 8259's INT on LINT0 (ExtINT) of LAPIC 0, vector from INTA");
	struct fake_env *f = &r.f;
	static const uint8_t init[][2] = {
		{ 0x21, 0xFF }, { 0xA1, 0xFF }, { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 },
		{ 0x21, 0x01 }, { 0xA0, 0x11 }, { 0xA1, 0x38 }, { 0xA1, 0x02 }, { 0xA1, 0x01 },
		{ 0x21, 0x00 }, { 0xA1, 0x00 },
	};
	for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		fake_out(f, init[i][0], 1, init[i][1]);
	r.router.line(r.router.ctx, 1, 1);
	CHECK(sigs[0].intr == 1 && sigs[1].intr == 0, "LAPIC 0 signalled (software-disabled)");
	CHECK(ack(&r, 0) == 0x31, "the 8259's vector");
	CHECK(ack(&r, 0) == -1, "INT fell with the acknowledge");
	r.router.line(r.router.ctx, 1, 0);
	fake_out(f, 0x20, 1, 0x20); /* EOI */

	SECTION("LINT0 masked: the 8259 waits; the APIC disabled globally: straight to the CPU");
	wr(&r, 0, 0xF0, 0x1FF);
	wr(&r, 0, 0x350, 0x10700);
	r.router.line(r.router.ctx, 3, 1);
	CHECK(ack(&r, 0) == -1, "masked");
	int s = sigs[0].intr;
	CHECK(msr_wr(&r, 0, 0x1B, 0xFEE00100), "APIC off");
	CHECK(sigs[0].intr == s + 1, "the pending 8259 interrupt signalled");
	CHECK(ack(&r, 0) == 0x33, "IRQ3 through ExtINT");
	r.router.line(r.router.ctx, 3, 0);
	fake_out(f, 0x20, 1, 0x20);
	CHECK(msr_wr(&r, 0, 0x1B, 0xFEE00900), "APIC on again");
	CHECK(rd(&r, 0, 0x350) == 0x700, "back in its reset state: virtual wire");

	SECTION("an IOAPIC ExtINT entry; LINT1 as NMI");
	wr(&r, 0, 0xF0, 0x1FF);
	wr(&r, 0, 0x350, 0x10700);
	ioapic_rte(&r, 4, 0x700, 0); /* ExtINT to LAPIC 0 */
	r.router.line(r.router.ctx, 4, 1);
	CHECK(ack(&r, 0) == 0x34, "the 8259's vector for the IOAPIC's ExtINT message");
	wr(&r, 1, 0xF0, 0x1FF);
	wr(&r, 1, 0x360, 0x400);
	lapic_set_lint(apic_bus_lapic(r.bus, 1), 1, 1);
	CHECK(sigs[1].nmi == 1, "LINT1 NMI");
	lapic_set_lint(apic_bus_lapic(r.bus, 1), 1, 1);
	CHECK(sigs[1].nmi == 1, "on the edge only");

	SECTION("device reset: power-on state");
	device_list_reset(&f->devices);
	CHECK(rd(&r, 1, 0xF0) == 0xFF && rd(&r, 1, 0x360) == 0x10000, "LAPIC 1 reset");
	fake_env_destroy(&r.f);
}

int main(void)
{
	test_reset_state();
	test_priorities();
	test_ioapic_eoi();
	test_timer();
	test_ipis();
	test_x2apic();
	test_extint();
	printf("test_lapic: ok\n");
	return 0;
}
