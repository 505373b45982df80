/* The user-space interrupt controllers' routing end (irqchip.h): a STUB that records pin levels
 * and MSIs until the 8259s, IOAPIC, LAPICs and PIT are written. */
#include "devices/x86/irqchip.h"

#include <errno.h>

#include "arch/x86/layout.h"

struct x86_irqchip {
	struct device dev;
	unsigned nr_vcpus;
	int level[X86_IOAPIC_PINS]; /* the IOAPIC's inputs (the ISA ones feed the 8259s too) */
	unsigned msi_count;
};

static int x86_irqchip_line(void *ctx, unsigned gsi, int level)
{
	struct x86_irqchip *c = ctx;
	if (gsi >= X86_IOAPIC_PINS) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&c->dev.lock);
	c->level[gsi] = level;
	pthread_mutex_unlock(&c->dev.lock);
	return 0;
}

static int x86_irqchip_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct x86_irqchip *c = ctx;
	pthread_mutex_lock(&c->dev.lock);
	c->msi_count++;
	pthread_mutex_unlock(&c->dev.lock);
	return 0;
}

static void x86_irqchip_reset(struct device *d)
{
	struct x86_irqchip *c = (struct x86_irqchip *)d;
	for (unsigned i = 0; i < X86_IOAPIC_PINS; i++)
		c->level[i] = 0;
	c->msi_count = 0;
}

static const struct device_ops x86_irqchip_ops = { .name = "x86-irqchip",
						    .reset = x86_irqchip_reset };

struct x86_irqchip *x86_irqchip_create(const struct dev_services *svc, unsigned nr_vcpus,
				       struct irq_router *router, struct error *err)
{
	struct x86_irqchip *c = device_new(svc, sizeof(*c), &x86_irqchip_ops, err);
	if (!c)
		return NULL;
	c->nr_vcpus = nr_vcpus;
	*router = (struct irq_router){ .name = "user-space", .line = x86_irqchip_line,
				       .msi = x86_irqchip_msi, .ctx = c };
	return c;
}

int x86_irqchip_line_level(struct x86_irqchip *c, unsigned gsi)
{
	if (gsi >= X86_IOAPIC_PINS)
		return 0;
	pthread_mutex_lock(&c->dev.lock);
	int l = c->level[gsi];
	pthread_mutex_unlock(&c->dev.lock);
	return l;
}

unsigned x86_irqchip_msi_count(struct x86_irqchip *c)
{
	pthread_mutex_lock(&c->dev.lock);
	unsigned n = c->msi_count;
	pthread_mutex_unlock(&c->dev.lock);
	return n;
}
