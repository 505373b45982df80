/* What lapic.c (registers, priorities, acceptance), lapic_timer.c (the timer) and apic_bus.c
 * (routing between LAPICs) share. Not for users of the LAPIC: they have lapic.h. */
#ifndef HARDY_DEVICES_X86_LAPIC_INTERNAL_H
#define HARDY_DEVICES_X86_LAPIC_INTERNAL_H

#include "devices/x86/lapic.h"

/* xAPIC register offsets (x2APIC MSR = 0x800 + offset / 16). */
#define LAPIC_ID       0x020
#define LAPIC_VER      0x030
#define LAPIC_TPR      0x080
#define LAPIC_APR      0x090
#define LAPIC_PPR      0x0A0
#define LAPIC_EOI      0x0B0
#define LAPIC_RRD      0x0C0
#define LAPIC_LDR      0x0D0
#define LAPIC_DFR      0x0E0
#define LAPIC_SVR      0x0F0
#define LAPIC_ISR      0x100
#define LAPIC_TMR      0x180
#define LAPIC_IRR      0x200
#define LAPIC_ESR      0x280
#define LAPIC_CMCI     0x2F0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3E0
#define LAPIC_SELF_IPI 0x3F0 /* x2APIC only */

enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

#define LVT_MASKED      (1u << 16)
#define LVT_DM(v)       (((v) >> 8) & 7)
#define LVT_LEVEL       (1u << 15)
#define LVT_REMOTE_IRR  (1u << 14)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

#define SVR_ENABLE      (1u << 8)
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)

#define ICR_DM(v)        (((v) >> 8) & 7)
#define ICR_LOGICAL      (1u << 11)
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3)
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };
#define DM_STARTUP 6 /* the ICR's encoding; irq_msg.h has the rest */

/* A message as a LAPIC accepts it (after routing). */
struct apic_msg {
	uint8_t vector;
	uint8_t mode;     /* enum x86_delivery_mode, or DM_STARTUP */
	bool level_trig;  /* TMR: its EOI goes to the IOAPIC */
};

/* Where a message goes. */
struct apic_dest {
	uint32_t dest;
	bool logical;
	bool x2apic_format; /* a 32-bit destination (an x2APIC sender); else 8 bits */
	unsigned shorthand;
	int self;           /* the sender's index for the shorthands, -1 for none */
};

struct lapic {
	struct device dev;
	struct apic_bus *bus;
	unsigned index;
	const struct vm_clock *clock;
	struct lapic_cpu_link link;

	uint64_t apic_base;
	uint32_t id;           /* the APIC ID: 8 bits in xAPIC mode, 32 in x2APIC */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending; /* what ESR reads; errors since its last write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t isr[8], tmr[8], irr[8];
	int lint_level[2];
	bool extint_msg;       /* an ExtINT message waits for the acknowledge */

	/* timer (lapic_timer.c) */
	uint32_t timer_icr, timer_dcr;
	bool timer_running;    /* one-shot/periodic counting */
	int64_t timer_start_ns; /* when the count started (at timer_icr) */
	uint64_t timer_deadline_ns;
	uint64_t tsc_deadline_ns; /* TSC-deadline mode: 0 disarmed */
};

/* What to do once the lock is released. */
struct lapic_after {
	bool intr, nmi, init, sipi;
	uint8_t sipi_vector;
	int eoi_vector;        /* a level-triggered EOI to broadcast, -1 none */
	bool send;             /* an IPI from the ICR */
	struct apic_msg msg;
	struct apic_dest dest;
};

static inline bool lapic_hw_enabled(const struct lapic *a) { return a->apic_base & APIC_BASE_EN; }
static inline bool lapic_x2apic(const struct lapic *a) { return a->apic_base & APIC_BASE_EXTD; }
static inline bool lapic_sw_enabled(const struct lapic *a) { return a->svr & SVR_ENABLE; }
static inline int64_t lapic_now(const struct lapic *a)
{
	return vm_clock_ns(a->clock, CLOCK_MONOTONIC);
}

/* lapic.c: a new LAPIC (power-on state) as a device of svc->devices. */
struct lapic *lapic_new(const struct dev_services *svc, struct apic_bus *bus, unsigned index,
			struct error *err);
/* lapic.c, with a's lock held: accepts m into a; fills *after. */
void lapic_accept_locked(struct lapic *a, const struct apic_msg *m, struct lapic_after *after);
/* Takes a's lock: accepts m and then does what follows (signals). */
void lapic_accept(struct lapic *a, const struct apic_msg *m);
/* Takes a's lock: is a one of d's destinations (no shorthand)? */
bool lapic_matches(struct lapic *a, const struct apic_dest *d);
/* Takes a's lock: can a take a fixed/lowest-priority interrupt (hardware and software on)? */
bool lapic_accepts_fixed(struct lapic *a);

/* apic_bus.c: sends m to d's destinations, no lock held. */
void apic_bus_route(struct apic_bus *b, const struct apic_dest *d, const struct apic_msg *m);
void apic_bus_eoi(struct apic_bus *b, uint8_t vector);
/* The 8259's vector for an ExtINT acknowledge, -1 without a PIC. */
int apic_bus_extint_ack(struct apic_bus *b);

/* lapic_timer.c, with a's lock held. */
void lapic_timer_reset(struct lapic *a);
uint32_t lapic_timer_current(struct lapic *a, int64_t now);
void lapic_timer_write_icr(struct lapic *a, uint32_t v, int64_t now);
void lapic_timer_write_dcr(struct lapic *a, uint32_t v, int64_t now);
/* The LVT timer's new value v: a mode change disarms the timer. */
void lapic_timer_write_lvt(struct lapic *a, uint32_t v);
uint64_t lapic_timer_deadline(const struct lapic *a);
/* Fires what is due at now (an interrupt through lapic_accept_locked). */
void lapic_timer_poll(struct lapic *a, int64_t now, struct lapic_after *after);
uint64_t lapic_tsc_deadline_read(const struct lapic *a);
void lapic_tsc_deadline_write(struct lapic *a, uint64_t ns);

#endif
