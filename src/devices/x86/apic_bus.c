/* The APIC bus (lapic.h): the machine's LAPICs and the routing of IPIs, IOAPIC messages and
 * MSIs between them. Routing takes one LAPIC's lock at a time (to match a destination, then
 * to accept), never two, so IPIs between vCPUs that send to each other cannot deadlock. */
#include "devices/x86/lapic_internal.h"

#include <stdlib.h>

#include "devices/x86/irqchip.h"

struct apic_bus {
	struct device dev;
	unsigned n;
	struct lapic **lapic;
	struct i8259 *pic;     /* ExtINT's vectors; NULL until connected */
	struct ioapic *ioapic; /* where level-triggered EOIs go; NULL until connected */
};

void apic_bus_route(struct apic_bus *b, const struct apic_dest *d, const struct apic_msg *m)
{
	bool lowest = m->mode == X86_DM_LOWEST;
	for (unsigned i = 0; i < b->n; i++) {
		struct lapic *a = b->lapic[i];
		bool is_self = d->self == (int)i;
		bool match;
		switch (d->shorthand) {
		case SH_SELF: match = is_self; break;
		case SH_ALL: match = true; break;
		case SH_OTHERS: match = !is_self; break;
		default: match = lapic_matches(a, d); break;
		}
		if (!match)
			continue;
		/* Lowest priority: one LAPIC, the lowest-numbered that takes interrupts. */
		if (lowest && !lapic_accepts_fixed(a))
			continue;
		lapic_accept(a, m);
		if (lowest)
			return;
	}
}

void apic_bus_deliver(struct apic_bus *b, const struct x86_irq_msg *m)
{
	struct apic_dest d = { .dest = m->dest, .logical = m->dest_logical, .self = -1 };
	struct apic_msg msg = { .vector = m->vector, .mode = m->delivery_mode,
				.level_trig = m->level_triggered };
	if (msg.mode == DM_STARTUP)
		return; /* not a mode the IOAPIC or an MSI may send (reserved there) */
	apic_bus_route(b, &d, &msg);
}

static void apic_bus_sink(void *ctx, const struct x86_irq_msg *m)
{
	apic_bus_deliver(ctx, m);
}

void apic_bus_eoi(struct apic_bus *b, uint8_t vector)
{
	if (b->ioapic)
		ioapic_eoi(b->ioapic, vector);
}

int apic_bus_extint_ack(struct apic_bus *b)
{
	return b->pic ? i8259_acknowledge(b->pic) : -1;
}

/* The 8259's INT pin, wired to LINT0 of the boot CPU's LAPIC. */
static void apic_bus_pic_intr(void *ctx, int level)
{
	struct apic_bus *b = ctx;
	lapic_set_lint(b->lapic[0], 0, level);
}

void apic_bus_connect_irqchip(struct apic_bus *b, struct x86_irqchip *c)
{
	b->pic = x86_irqchip_pic(c);
	b->ioapic = x86_irqchip_ioapic(c);
	x86_irqchip_connect(c, apic_bus_pic_intr, b,
			    &(struct x86_irq_msg_sink){ .deliver = apic_bus_sink, .ctx = b });
	lapic_set_lint(b->lapic[0], 0, i8259_intr_level(b->pic));
}

unsigned apic_bus_count(const struct apic_bus *b)
{
	return b->n;
}

struct lapic *apic_bus_lapic(struct apic_bus *b, unsigned index)
{
	return index < b->n ? b->lapic[index] : NULL;
}

static void apic_bus_destroy(struct device *d)
{
	free(((struct apic_bus *)d)->lapic);
}

static const struct device_ops apic_bus_ops = { .name = "apic-bus", .destroy = apic_bus_destroy };

struct apic_bus *apic_bus_create(const struct dev_services *svc, unsigned nr_cpus,
				 struct error *err)
{
	if (nr_cpus == 0) {
		error_set(err, ERR_INPUT, "an APIC bus needs at least one CPU");
		return NULL;
	}
	struct apic_bus *b = device_new(svc, sizeof(*b), &apic_bus_ops, err);
	if (!b)
		return NULL;
	if (!(b->lapic = calloc(nr_cpus, sizeof(*b->lapic)))) {
		error_errno(err, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < nr_cpus; i++) {
		if (!(b->lapic[i] = lapic_new(svc, b, i, err)))
			return NULL;
		b->n = i + 1;
	}
	return b;
}
