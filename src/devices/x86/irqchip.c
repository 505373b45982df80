/* The user-space interrupt controllers' routing end (irqchip.h): GSIs to the 8259 pair and the
 * IOAPIC, MSIs to interrupt messages. */
#include "devices/x86/irqchip.h"

#include <errno.h>

#include "arch/x86/layout.h"

#define ISA_IRQS 16
#define MSI_ADDR_BASE 0xFEE00000ull
#define MSI_ADDR_MASK 0xFFF00000ull

struct x86_irqchip {
	struct device dev;
	unsigned nr_vcpus;
	struct i8259 *pic;
	struct ioapic *ioapic;
	int level[X86_IOAPIC_PINS]; /* the inputs as driven, by GSI */
	unsigned msi_count, msi_bad;
	struct x86_irq_msg_sink sink;
};

/* The IOAPIC pin of a GSI: ISA IRQ0 is wired to pin 2 (the MADT's interrupt source override). */
static unsigned irqchip_ioapic_pin(unsigned gsi)
{
	return gsi == 0 ? 2 : gsi;
}

static int x86_irqchip_line(void *ctx, unsigned gsi, int level)
{
	struct x86_irqchip *c = ctx;
	if (gsi >= X86_IOAPIC_PINS || gsi == I8259_CASCADE_IRQ) {
		errno = EINVAL;
		return -1;
	}
	level = level != 0;
	pthread_mutex_lock(&c->dev.lock);
	c->level[gsi] = level;
	if (gsi < ISA_IRQS)
		i8259_set_irq(c->pic, gsi, level);
	ioapic_set_irq(c->ioapic, irqchip_ioapic_pin(gsi), level);
	pthread_mutex_unlock(&c->dev.lock);
	return 0;
}

/* An MSI write: address 0xFEExxxxx (bits 19-12 destination, bit 2 logical), data bits 7-0
 * vector, 10-8 delivery mode, 15 level trigger. Other addresses are not interrupts (dropped). */
static int x86_irqchip_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct x86_irqchip *c = ctx;
	pthread_mutex_lock(&c->dev.lock);
	c->msi_count++;
	if ((addr & MSI_ADDR_MASK) != MSI_ADDR_BASE) {
		c->msi_bad++; /* the guest's mistake, not the host's: dropped, the VM runs on */
		pthread_mutex_unlock(&c->dev.lock);
		return 0;
	}
	struct x86_irq_msg m = {
		.vector = (uint8_t)data,
		.delivery_mode = (uint8_t)((data >> 8) & 7),
		.dest = (uint8_t)(addr >> 12),
		.dest_logical = addr & 0x4,
		.level_triggered = data & 0x8000,
	};
	if (c->sink.deliver)
		c->sink.deliver(c->sink.ctx, &m);
	pthread_mutex_unlock(&c->dev.lock);
	return 0;
}

static void x86_irqchip_reset(struct device *d)
{
	struct x86_irqchip *c = (struct x86_irqchip *)d;
	pthread_mutex_lock(&c->dev.lock);
	c->msi_count = c->msi_bad = 0;
	pthread_mutex_unlock(&c->dev.lock);
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
	if (!(c->pic = i8259_create(svc, err)) ||
	    !(c->ioapic = ioapic_create(svc, X86_IOAPIC_GPA, err)))
		return NULL;
	*router = (struct irq_router){ .name = "user-space", .line = x86_irqchip_line,
				       .msi = x86_irqchip_msi, .ctx = c };
	return c;
}

void x86_irqchip_connect(struct x86_irqchip *c, void (*intr)(void *ctx, int level),
			 void *intr_ctx, const struct x86_irq_msg_sink *sink)
{
	i8259_connect(c->pic, intr, intr_ctx);
	ioapic_connect(c->ioapic, sink);
	pthread_mutex_lock(&c->dev.lock);
	c->sink = sink ? *sink : (struct x86_irq_msg_sink){ 0 };
	pthread_mutex_unlock(&c->dev.lock);
}

struct i8259 *x86_irqchip_pic(struct x86_irqchip *c) { return c->pic; }
struct ioapic *x86_irqchip_ioapic(struct x86_irqchip *c) { return c->ioapic; }

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
