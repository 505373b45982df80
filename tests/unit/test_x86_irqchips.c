/* Unit test: the user-space x86 interrupt controllers and timer, driven through their real
 * port and MMIO handlers on a fake services handle: the 8259 pair (Linux's init sequence,
 * masks, EOIs, cascade, level lines, auto-EOI, rotation, poll, spurious IRQ7/IRQ15), the IOAPIC
 * (registers, edge/level, remote IRR, EOI, mask), the 8254 PIT on a fake clock (modes 0/2/3/4,
 * latch, read-back, port 0x61, IRQ0 deadlines and edges) and the router (GSIs, MSIs). */
#include <stdint.h>

#include "arch/x86/layout.h"
#include "check.h"
#include "devices/x86/i8254.h"
#include "devices/x86/irqchip.h"
#include "fake_services.h"

struct intr_log {
	int level, changes;
};

static void intr_cb(void *ctx, int level)
{
	struct intr_log *l = ctx;
	l->level = level;
	l->changes++;
}

#define MAX_MSGS 16
struct msg_log {
	struct x86_irq_msg m[MAX_MSGS];
	unsigned n;
};

static void msg_cb(void *ctx, const struct x86_irq_msg *m)
{
	struct msg_log *l = ctx;
	if (l->n < MAX_MSGS)
		l->m[l->n] = *m;
	l->n++;
}

/* Linux's init_8259A: master vectors 0x30, slave 0x38, slave on IRQ2, 8086 mode. */
static void pic_init_linux(struct fake_env *f, uint8_t icw4)
{
	fake_out(f, 0x21, 1, 0xFF);
	fake_out(f, 0xA1, 1, 0xFF);
	fake_out(f, 0x20, 1, 0x11);
	fake_out(f, 0x21, 1, 0x30);
	fake_out(f, 0x21, 1, 0x04);
	fake_out(f, 0x21, 1, icw4);
	fake_out(f, 0xA0, 1, 0x11);
	fake_out(f, 0xA1, 1, 0x38);
	fake_out(f, 0xA1, 1, 0x02);
	fake_out(f, 0xA1, 1, icw4);
	fake_out(f, 0x21, 1, 0x00);
	fake_out(f, 0xA1, 1, 0x00);
}

static void test_pic(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct i8259 *p = i8259_create(&f.svc, &err);
	CHECK(p, "i8259_create: %s", err.msg);
	struct intr_log intr = { 0 };
	i8259_connect(p, intr_cb, &intr);

	SECTION("8259: init sequence, masks read back, nothing pending");
	pic_init_linux(&f, 0x01);
	CHECK(fake_in(&f, 0x21, 1) == 0 && fake_in(&f, 0xA1, 1) == 0, "masks not cleared");
	fake_out(&f, 0x21, 1, 0xA5);
	CHECK(fake_in(&f, 0x21, 1) == 0xA5, "OCW1 not kept");
	fake_out(&f, 0x21, 1, 0x00);
	CHECK(intr.level == 0, "INTR high with no request");

	SECTION("8259: an edge on IRQ1 raises INTR; INTA gives 0x31 and sets ISR; EOI clears it");
	i8259_set_irq(p, 1, 1);
	CHECK(intr.level == 1, "INTR not raised");
	fake_out(&f, 0x20, 1, 0x0A); /* OCW3: read IRR */
	CHECK(fake_in(&f, 0x20, 1) == 0x02, "IRR not 0x02");
	CHECK(i8259_acknowledge(p) == 0x31, "wrong vector");
	CHECK(intr.level == 0, "INTR still high after INTA");
	fake_out(&f, 0x20, 1, 0x0B); /* OCW3: read ISR */
	CHECK(fake_in(&f, 0x20, 1) == 0x02, "ISR not 0x02");
	i8259_set_irq(p, 1, 0);
	i8259_set_irq(p, 1, 1); /* a second edge while in service waits */
	CHECK(intr.level == 0, "nested same-priority request interrupted");
	fake_out(&f, 0x20, 1, 0x20); /* non-specific EOI */
	CHECK(fake_in(&f, 0x20, 1) == 0, "ISR not cleared by EOI");
	CHECK(intr.level == 1, "waiting edge not delivered after EOI");
	CHECK(i8259_acknowledge(p) == 0x31, "wrong vector the second time");
	fake_out(&f, 0x20, 1, 0x61); /* specific EOI for IRQ1 */
	CHECK(fake_in(&f, 0x20, 1) == 0, "specific EOI did not clear ISR");
	i8259_set_irq(p, 1, 0);

	SECTION("8259: priority: IRQ0 beats IRQ3, and a higher request nests into a lower one");
	i8259_set_irq(p, 3, 1);
	i8259_set_irq(p, 0, 1);
	CHECK(i8259_acknowledge(p) == 0x30, "IRQ0 not first");
	CHECK(intr.level == 0, "IRQ3 interrupted IRQ0's handler");
	fake_out(&f, 0x20, 1, 0x20);
	CHECK(i8259_acknowledge(p) == 0x33, "IRQ3 not next");
	i8259_set_irq(p, 0, 0);
	i8259_set_irq(p, 0, 1);
	CHECK(intr.level == 1, "IRQ0 did not nest into IRQ3");
	CHECK(i8259_acknowledge(p) == 0x30, "nested vector wrong");
	fake_out(&f, 0x20, 1, 0x20); /* EOI of IRQ0 (the highest in service) */
	CHECK(fake_in(&f, 0x20, 1) == 0x08, "non-specific EOI cleared the wrong bit");
	fake_out(&f, 0x20, 1, 0x20);
	i8259_set_irq(p, 0, 0);
	i8259_set_irq(p, 3, 0);

	SECTION("8259: a masked line does not interrupt; unmasking delivers it");
	fake_out(&f, 0x21, 1, 0x10);
	i8259_set_irq(p, 4, 1);
	CHECK(intr.level == 0, "masked IRQ4 raised INTR");
	fake_out(&f, 0x21, 1, 0x00);
	CHECK(intr.level == 1 && i8259_acknowledge(p) == 0x34, "IRQ4 not delivered after unmask");
	fake_out(&f, 0x20, 1, 0x20);
	i8259_set_irq(p, 4, 0);

	SECTION("8259: cascade: IRQ12 through the slave; master and slave both need EOI");
	i8259_set_irq(p, 12, 1);
	CHECK(intr.level == 1, "slave request did not reach INTR");
	CHECK(i8259_acknowledge(p) == 0x3C, "wrong slave vector");
	fake_out(&f, 0xA0, 1, 0x0B);
	CHECK(fake_in(&f, 0xA0, 1) == 0x10, "slave ISR not 0x10");
	CHECK(fake_in(&f, 0x20, 1) == 0x04, "master ISR not IRQ2");
	fake_out(&f, 0xA0, 1, 0x20);
	fake_out(&f, 0x20, 1, 0x20);
	CHECK(fake_in(&f, 0xA0, 1) == 0 && fake_in(&f, 0x20, 1) == 0, "EOIs did not clear");
	i8259_set_irq(p, 12, 0);

	SECTION("8259: ELCR: a level line re-requests after EOI while high, and drops with it");
	fake_out(&f, 0x4D0, 2, 0xFFFF);
	CHECK(fake_in(&f, 0x4D0, 2) == 0xDEF8, "ELCR ignored its fixed-edge bits: %#llx",
	      (unsigned long long)fake_in(&f, 0x4D0, 2));
	fake_out(&f, 0x4D0, 1, 0x20); /* IRQ5 level */
	fake_out(&f, 0x4D1, 1, 0x00);
	i8259_set_irq(p, 5, 1);
	CHECK(i8259_acknowledge(p) == 0x35, "level IRQ5 not delivered");
	fake_out(&f, 0x20, 1, 0x20);
	CHECK(intr.level == 1, "still-high level line not re-requested after EOI");
	i8259_set_irq(p, 5, 0);
	CHECK(intr.level == 0, "level request did not drop with the line");
	fake_out(&f, 0x20, 1, 0x0A);
	CHECK(fake_in(&f, 0x20, 1) == 0, "IRR kept a dropped level line");

	SECTION("8259: spurious IRQ7: the level request went away before INTA");
	i8259_set_irq(p, 5, 1);
	CHECK(intr.level == 1, "no INTR");
	i8259_set_irq(p, 5, 0);
	CHECK(i8259_acknowledge(p) == 0x37, "not the spurious IRQ7 vector");
	fake_out(&f, 0x20, 1, 0x0B);
	CHECK(fake_in(&f, 0x20, 1) == 0, "spurious IRQ7 set an ISR bit");

	SECTION("8259: spurious IRQ15: the slave's level request went away; master IRQ2 in service");
	fake_out(&f, 0x4D1, 1, 0x02); /* IRQ9 level */
	i8259_set_irq(p, 9, 1);
	i8259_set_irq(p, 9, 0);
	CHECK(i8259_acknowledge(p) == 0x3F, "not the spurious IRQ15 vector");
	fake_out(&f, 0xA0, 1, 0x0B);
	CHECK(fake_in(&f, 0xA0, 1) == 0, "spurious IRQ15 set a slave ISR bit");
	CHECK(fake_in(&f, 0x20, 1) == 0x04, "master IRQ2 not in service");
	fake_out(&f, 0x20, 1, 0x20);
	fake_out(&f, 0x4D0, 2, 0);

	SECTION("8259: poll mode returns the request and acknowledges it");
	i8259_set_irq(p, 6, 1);
	fake_out(&f, 0x20, 1, 0x0C);
	CHECK(fake_in(&f, 0x20, 1) == 0x86, "poll did not report IRQ6");
	fake_out(&f, 0x20, 1, 0x0C);
	CHECK(fake_in(&f, 0x20, 1) == 0x00, "poll reported a request that is in service");
	fake_out(&f, 0x20, 1, 0x66);
	i8259_set_irq(p, 6, 0);

	SECTION("8259: rotation: set priority makes IRQ4 the highest");
	fake_out(&f, 0x20, 1, 0xC3); /* lowest priority: IRQ3 */
	i8259_set_irq(p, 1, 1);
	i8259_set_irq(p, 4, 1);
	CHECK(i8259_acknowledge(p) == 0x34, "rotated priority ignored");
	fake_out(&f, 0x20, 1, 0x20);
	CHECK(i8259_acknowledge(p) == 0x31, "IRQ1 lost");
	fake_out(&f, 0x20, 1, 0x20);
	fake_out(&f, 0x20, 1, 0xC7); /* back to IRQ0 highest */
	i8259_set_irq(p, 1, 0);
	i8259_set_irq(p, 4, 0);

	SECTION("8259: auto-EOI: no ISR bit, the next request comes at once");
	pic_init_linux(&f, 0x03);
	i8259_set_irq(p, 3, 1);
	CHECK(i8259_acknowledge(p) == 0x33, "wrong vector in auto-EOI");
	fake_out(&f, 0x20, 1, 0x0B);
	CHECK(fake_in(&f, 0x20, 1) == 0, "auto-EOI left ISR set");
	i8259_set_irq(p, 3, 0);
	i8259_set_irq(p, 3, 1);
	CHECK(intr.level == 1, "auto-EOI blocked the next edge");

	SECTION("8259: a machine reset clears the chips");
	device_list_reset(&f.devices);
	CHECK(fake_in(&f, 0x21, 1) == 0 && fake_in(&f, 0x4D0, 1) == 0, "reset kept state");
	fake_env_destroy(&f);
}

static uint32_t ioapic_rd(struct fake_env *f, uint32_t reg)
{
	fake_mmio_write(f, X86_IOAPIC_GPA, 4, reg);
	return (uint32_t)fake_mmio_read(f, X86_IOAPIC_GPA + 0x10, 4);
}

static void ioapic_wr(struct fake_env *f, uint32_t reg, uint32_t v)
{
	fake_mmio_write(f, X86_IOAPIC_GPA, 4, reg);
	fake_mmio_write(f, X86_IOAPIC_GPA + 0x10, 4, v);
}

static void test_ioapic(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct ioapic *a = ioapic_create(&f.svc, X86_IOAPIC_GPA, &err);
	CHECK(a, "ioapic_create: %s", err.msg);
	struct msg_log log = { 0 };
	ioapic_connect(a, &(struct x86_irq_msg_sink){ .deliver = msg_cb, .ctx = &log });

	SECTION("IOAPIC: version 0x11 with 24 entries, ID writable, entries masked at power-on");
	CHECK(ioapic_rd(&f, 1) == 0x00170011, "version %#x", ioapic_rd(&f, 1));
	ioapic_wr(&f, 0, 0x05000000);
	CHECK(ioapic_rd(&f, 0) == 0x05000000, "ID not kept");
	CHECK(ioapic_rd(&f, 0x10) & 0x10000, "entry 0 not masked");
	ioapic_set_irq(a, 3, 1);
	CHECK(log.n == 0, "a masked pin sent a message");
	ioapic_set_irq(a, 3, 0);

	SECTION("IOAPIC: an edge entry sends its message on each rising edge");
	ioapic_wr(&f, 0x10 + 2 * 4 + 1, 0x03000000);
	ioapic_wr(&f, 0x10 + 2 * 4, 0x00000841); /* vector 0x41, fixed, logical */
	CHECK(ioapic_rd(&f, 0x10 + 2 * 4) == 0x841 && ioapic_rd(&f, 0x11 + 2 * 4) == 0x03000000,
	      "entry not read back");
	ioapic_set_irq(a, 4, 1);
	CHECK(log.n == 1 && log.m[0].vector == 0x41 && log.m[0].dest == 3 &&
	      log.m[0].dest_logical && log.m[0].delivery_mode == X86_DM_FIXED &&
	      !log.m[0].level_triggered, "wrong edge message (n %u)", log.n);
	ioapic_set_irq(a, 4, 1);
	CHECK(log.n == 1, "a steady line sent again");
	ioapic_set_irq(a, 4, 0);
	ioapic_set_irq(a, 4, 1);
	CHECK(log.n == 2, "second edge lost");
	ioapic_set_irq(a, 4, 0);

	SECTION("IOAPIC: level entry: remote IRR set until EOI; EOI resends while the line is high");
	ioapic_wr(&f, 0x10 + 2 * 10, 0x0000A052 | 0x10000); /* vector 0x52, level, low active, masked */
	ioapic_set_irq(a, 10, 1);
	CHECK(log.n == 2, "masked level entry sent");
	ioapic_wr(&f, 0x10 + 2 * 10, 0x0000A052); /* unmask */
	CHECK(log.n == 3 && log.m[2].vector == 0x52 && log.m[2].level_triggered,
	      "unmask did not send the high level line");
	CHECK(ioapic_rd(&f, 0x10 + 2 * 10) & 0x4000, "remote IRR not set");
	ioapic_eoi(a, 0x52);
	CHECK(log.n == 4, "EOI with the line still high did not resend");
	ioapic_set_irq(a, 10, 0);
	ioapic_eoi(a, 0x52);
	CHECK(!(ioapic_rd(&f, 0x10 + 2 * 10) & 0x4000), "EOI did not clear remote IRR");
	CHECK(log.n == 4, "EOI of a low line sent");
	ioapic_eoi(a, 0x99);
	ioapic_set_irq(a, 10, 1);
	CHECK(log.n == 5, "level line not sent after EOI");
	ioapic_eoi(a, 0x51);
	CHECK(log.n == 5, "EOI of another vector resent");
	ioapic_wr(&f, 0x10 + 2 * 10, 0x0000A052 | 0x4000);
	CHECK(ioapic_rd(&f, 0x10 + 2 * 10) & 0x4000, "guest wrote the read-only remote IRR");

	SECTION("IOAPIC: NMI and ExtINT modes; an edge while masked waits for the unmask");
	ioapic_wr(&f, 0x10 + 2 * 7, 0x00010400); /* NMI, masked */
	ioapic_set_irq(a, 7, 1);
	CHECK(log.n == 5, "masked NMI sent");
	ioapic_wr(&f, 0x10 + 2 * 7, 0x00000400);
	CHECK(log.n == 6 && log.m[5].delivery_mode == X86_DM_NMI, "waiting NMI not sent");
	ioapic_wr(&f, 0x10 + 2 * 0, 0x00000700);
	ioapic_set_irq(a, 0, 1);
	CHECK(log.n == 7 && log.m[6].delivery_mode == X86_DM_EXTINT, "ExtINT not sent");

	SECTION("IOAPIC: a reset masks every entry");
	device_list_reset(&f.devices);
	CHECK((ioapic_rd(&f, 0x10 + 2 * 4) & 0x10000) && ioapic_rd(&f, 0) == 0, "reset kept state");
	CHECK(ioapic_sent(a) == 7, "sent count %u", ioapic_sent(a));
	fake_env_destroy(&f);
}

#define PIT_NS(ticks) ((int64_t)(ticks) * 1000000000LL / I8254_HZ)

static void count_reprogram(void *ctx)
{
	(*(int *)ctx)++;
}

static void test_pit(void)
{
	struct fake_env f;
	fake_env_init(&f);
	const int64_t t0 = 1000000000LL;
	fake_env_fake_clock(&f, t0);
	struct error err = { 0 };
	struct i8254 *p = i8254_create(&f.svc, device_irq_fixed(&f.svc, 0), &err);
	CHECK(p, "i8254_create: %s", err.msg);

	SECTION("PIT: unprogrammed channel 0 has no deadline");
	CHECK(i8254_next_deadline(p) == INT64_MAX, "deadline without a count");
	int reprogrammed = 0;
	i8254_on_reprogram(p, count_reprogram, &reprogrammed);

	SECTION("PIT: mode 2 at 1000 ticks: count falls with the clock, IRQ0 edges each period");
	fake_out(&f, 0x43, 1, 0x34); /* ch0, lobyte/hibyte, mode 2 */
	fake_out(&f, 0x40, 1, 1000 & 0xFF);
	fake_out(&f, 0x40, 1, 1000 >> 8);
	CHECK(reprogrammed == 3, "the driver told of each write (%d)", reprogrammed);
	i8254_on_reprogram(p, NULL, NULL);
	f.clock_ns = t0 + PIT_NS(300) + 1;
	fake_out(&f, 0x43, 1, 0x00); /* latch */
	f.clock_ns = t0 + PIT_NS(500); /* the latch holds the old value */
	unsigned lo = (unsigned)fake_in(&f, 0x40, 1), hi = (unsigned)fake_in(&f, 0x40, 1);
	CHECK((lo | hi << 8) == 700, "latched count %u, want 700", lo | hi << 8);
	int64_t dl = i8254_next_deadline(p);
	CHECK(dl >= t0 + PIT_NS(1000) && dl <= t0 + PIT_NS(1000) + 1000, "deadline %lld",
	      (long long)(dl - t0));
	int changes = f.irq_changes[0];
	i8254_advance(p, dl - PIT_NS(2));
	CHECK(f.irq_changes[0] == changes, "IRQ0 moved before the deadline");
	i8254_advance(p, dl);
	CHECK(f.irq_level[0] == 1 && f.irq_changes[0] > changes, "no IRQ0 edge at the deadline");
	changes = f.irq_changes[0];
	f.clock_ns = dl; /* next_deadline reads the clock */
	int64_t dl2 = i8254_next_deadline(p);
	CHECK(dl2 > dl + PIT_NS(999) && dl2 <= dl + PIT_NS(1001), "second period %lld",
	      (long long)(dl2 - dl));
	i8254_advance(p, dl + PIT_NS(5500)); /* five periods missed: one edge */
	CHECK(f.irq_changes[0] == changes + 2 && f.irq_level[0] == 1,
	      "missed periods not one pulse (%d changes)", f.irq_changes[0] - changes);

	SECTION("PIT: mode 0 one-shot: OUT low, one edge at terminal count, then no deadline");
	f.clock_ns = t0 + 10 * 1000000000LL;
	fake_out(&f, 0x43, 1, 0x30);
	CHECK(f.irq_level[0] == 0, "mode 0 did not drive OUT low");
	fake_out(&f, 0x40, 1, 100);
	fake_out(&f, 0x40, 1, 0);
	dl = i8254_next_deadline(p);
	CHECK(dl > f.clock_ns && dl <= f.clock_ns + PIT_NS(101), "one-shot deadline");
	i8254_advance(p, dl);
	CHECK(f.irq_level[0] == 1, "no edge at terminal count");
	f.clock_ns = dl + 1;
	CHECK(i8254_next_deadline(p) == INT64_MAX, "one-shot fired twice");

	SECTION("PIT: read-back: status byte, then the count; OUT bit set after terminal count");
	f.clock_ns += PIT_NS(10);
	fake_out(&f, 0x43, 1, 0xC2); /* read-back: count and status of channel 0 */
	uint8_t st = (uint8_t)fake_in(&f, 0x40, 1);
	CHECK(st == 0xB0, "status %#x, want OUT|lobyte-hibyte|mode 0", st);
	lo = (unsigned)fake_in(&f, 0x40, 1);
	hi = (unsigned)fake_in(&f, 0x40, 1);
	CHECK(hi == 0xFF, "count after terminal count %#x, want it wrapped", lo | hi << 8);

	SECTION("PIT: mode 3 square wave: the count steps by two; hibyte-only access");
	fake_out(&f, 0x43, 1, 0x26); /* ch0, hibyte only, mode 3 */
	fake_out(&f, 0x40, 1, 0x10); /* 0x1000 */
	int64_t start = f.clock_ns;
	f.clock_ns = start + PIT_NS(0x100) + 1;
	fake_out(&f, 0x43, 1, 0x00);
	CHECK(fake_in(&f, 0x40, 1) == 0x0E, "mode 3 MSB, want 0x1000 - 2*0x100");
	dl = i8254_next_deadline(p);
	CHECK(dl > start + PIT_NS(0x1000 - 1) && dl <= start + PIT_NS(0x1000) + 1000,
	      "square-wave period");

	SECTION("PIT: mode 4 strobe: one edge at count + 1");
	fake_out(&f, 0x43, 1, 0x18); /* ch0, lobyte, mode 4 */
	fake_out(&f, 0x40, 1, 50);
	start = f.clock_ns;
	dl = i8254_next_deadline(p);
	CHECK(dl > start + PIT_NS(50) && dl <= start + PIT_NS(51) + 1, "strobe deadline");

	SECTION("PIT: channel 2 as Linux calibrates: gate from port 0x61, OUT2 in bit 5");
	fake_out(&f, 0x61, 1, 0x00);
	fake_out(&f, 0x43, 1, 0xB0); /* ch2, lobyte/hibyte, mode 0 */
	fake_out(&f, 0x42, 1, 0xFF);
	fake_out(&f, 0x42, 1, 0xFF);
	start = f.clock_ns;
	f.clock_ns += PIT_NS(100000);
	fake_out(&f, 0x43, 1, 0x80);
	lo = (unsigned)fake_in(&f, 0x42, 1);
	hi = (unsigned)fake_in(&f, 0x42, 1);
	CHECK((lo | hi << 8) == 0xFFFF, "channel 2 counted with the gate low: %#x", lo | hi << 8);
	fake_out(&f, 0x61, 1, 0x01);
	CHECK((fake_in(&f, 0x61, 1) & 0x23) == 0x01, "port 0x61: gate not on or OUT2 high");
	f.clock_ns += PIT_NS(0xFFFF) + 1000;
	CHECK(fake_in(&f, 0x61, 1) & 0x20, "OUT2 not high after terminal count");
	fake_out(&f, 0x61, 1, 0x00);
	fake_env_destroy(&f);
}

static void test_router(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct irq_router r;
	struct x86_irqchip *c = x86_irqchip_create(&f.svc, 1, &r, &err);
	CHECK(c, "x86_irqchip_create: %s", err.msg);
	struct intr_log intr = { 0 };
	struct msg_log log = { 0 };
	x86_irqchip_connect(c, intr_cb, &intr, &(struct x86_irq_msg_sink){ msg_cb, &log });
	pic_init_linux(&f, 0x01);

	SECTION("router: ISA GSI 4 reaches the 8259 and IOAPIC pin 4; GSI 0 is IOAPIC pin 2");
	ioapic_wr(&f, 0x10 + 2 * 4, 0x34);
	ioapic_wr(&f, 0x10 + 2 * 2, 0x30);
	CHECK(r.line(r.ctx, 4, 1) == 0, "line 4 refused");
	CHECK(intr.level == 1 && log.n == 1 && log.m[0].vector == 0x34, "GSI 4 not at both chips");
	CHECK(x86_irqchip_line_level(c, 4) == 1, "level not recorded");
	CHECK(i8259_acknowledge(x86_irqchip_pic(c)) == 0x34, "PIC vector");
	fake_out(&f, 0x20, 1, 0x20);
	CHECK(r.line(r.ctx, 0, 1) == 0 && log.n == 2 && log.m[1].vector == 0x30,
	      "GSI 0 not on IOAPIC pin 2");
	CHECK(i8259_acknowledge(x86_irqchip_pic(c)) == 0x30, "GSI 0 not on PIC IRQ0");
	CHECK(r.line(r.ctx, 2, 1) < 0, "the cascade GSI accepted");

	SECTION("router: GSI 20 goes to the IOAPIC only; 24 is refused");
	ioapic_wr(&f, 0x10 + 2 * 20, 0x45);
	unsigned intr_changes = (unsigned)intr.changes;
	CHECK(r.line(r.ctx, 20, 1) == 0 && log.n == 3 && log.m[2].vector == 0x45, "GSI 20");
	CHECK((unsigned)intr.changes == intr_changes, "GSI 20 reached the 8259");
	CHECK(r.line(r.ctx, 24, 1) < 0, "GSI 24 accepted");

	SECTION("router: an MSI becomes a message: dest 5 physical, vector 0x61, level");
	CHECK(r.msi(r.ctx, 0xFEE05000, 0x8161) == 0, "MSI refused");
	CHECK(log.n == 4 && log.m[3].vector == 0x61 && log.m[3].dest == 5 &&
	      !log.m[3].dest_logical && log.m[3].delivery_mode == X86_DM_LOWEST &&
	      log.m[3].level_triggered, "MSI decoded wrong");
	CHECK(r.msi(r.ctx, 0x12345000, 0x41) == 0 && log.n == 4, "a non-MSI address delivered");
	CHECK(x86_irqchip_msi_count(c) == 2, "MSIs not counted");
	fake_env_destroy(&f);
}

int main(void)
{
	test_pic();
	test_ioapic();
	test_pit();
	test_router();
	printf("test_x86_irqchips: ok\n");
	return 0;
}
