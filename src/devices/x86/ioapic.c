/* The IOAPIC (ioapic.h): indirect registers through IOREGSEL/IOWIN; each redirection entry is
 * a 64-bit word in the hardware's layout, so the guest reads back exactly what it wrote (bar
 * the read-only delivery-status and remote-IRR bits, which are the chip's). */
#include "devices/x86/ioapic.h"

#include <stdbool.h>

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10

#define IOAPIC_REG_ID   0x00
#define IOAPIC_REG_VER  0x01
#define IOAPIC_REG_ARB  0x02
#define IOAPIC_REG_REDIR 0x10

#define RTE_VECTOR       0xFFull
#define RTE_DM_SHIFT     8
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_DELIV_STATUS (1ull << 12)
#define RTE_REMOTE_IRR   (1ull << 14)
#define RTE_LEVEL        (1ull << 15)
#define RTE_MASKED       (1ull << 16)
#define RTE_DEST_SHIFT   56
#define RTE_READ_ONLY    (RTE_DELIV_STATUS | RTE_REMOTE_IRR)

struct ioapic {
	struct device dev;
	uint8_t regsel;
	uint8_t id;
	uint64_t rte[IOAPIC_PINS];
	uint32_t level;   /* input lines, one bit per pin */
	uint32_t pending; /* edges seen and not yet sent (masked at the time) */
	unsigned sent;
	struct x86_irq_msg_sink sink;
};

static bool rte_uses_remote_irr(uint64_t rte)
{
	unsigned dm = (rte >> RTE_DM_SHIFT) & 7;
	return (rte & RTE_LEVEL) && (dm == X86_DM_FIXED || dm == X86_DM_LOWEST);
}

static void ioapic_send(struct ioapic *a, unsigned pin)
{
	uint64_t rte = a->rte[pin];
	struct x86_irq_msg m = {
		.vector = (uint8_t)(rte & RTE_VECTOR),
		.delivery_mode = (uint8_t)((rte >> RTE_DM_SHIFT) & 7),
		.dest = (uint8_t)(rte >> RTE_DEST_SHIFT),
		.dest_logical = rte & RTE_DEST_LOGICAL,
		.level_triggered = rte_uses_remote_irr(rte),
	};
	if (m.level_triggered)
		a->rte[pin] |= RTE_REMOTE_IRR;
	a->sent++;
	if (a->sink.deliver)
		a->sink.deliver(a->sink.ctx, &m);
}

/* Sends what pin owes now: a waiting edge, or a high level line without remote IRR. */
static void ioapic_service(struct ioapic *a, unsigned pin)
{
	uint64_t rte = a->rte[pin];
	uint32_t bit = 1u << pin;
	if (rte & RTE_MASKED)
		return;
	if (rte_uses_remote_irr(rte)) {
		a->pending &= ~bit;
		if ((a->level & bit) && !(rte & RTE_REMOTE_IRR))
			ioapic_send(a, pin);
	} else if (a->pending & bit) {
		a->pending &= ~bit;
		ioapic_send(a, pin);
	}
}

static uint32_t ioapic_read_reg(struct ioapic *a)
{
	unsigned r = a->regsel;
	switch (r) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (uint32_t)a->id << 24;
	case IOAPIC_REG_VER:
		return ((IOAPIC_PINS - 1u) << 16) | IOAPIC_VERSION;
	}
	if (r >= IOAPIC_REG_REDIR && r < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
		uint64_t rte = a->rte[(r - IOAPIC_REG_REDIR) / 2];
		return (uint32_t)(r & 1 ? rte >> 32 : rte);
	}
	return 0xFFFFFFFFu; /* no such register */
}

static void ioapic_write_reg(struct ioapic *a, uint32_t v)
{
	unsigned r = a->regsel;
	if (r == IOAPIC_REG_ID) {
		a->id = (v >> 24) & 0x0F;
		return;
	}
	if (r < IOAPIC_REG_REDIR || r >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
		return; /* version, arbitration and unknown registers are read-only */
	unsigned pin = (r - IOAPIC_REG_REDIR) / 2;
	uint64_t rte = a->rte[pin];
	if (r & 1)
		rte = (rte & 0xFFFFFFFFull) | ((uint64_t)v << 32);
	else
		rte = (rte & ~0xFFFFFFFFull) | v;
	rte = (rte & ~RTE_READ_ONLY) | (a->rte[pin] & RTE_READ_ONLY);
	if (!rte_uses_remote_irr(rte))
		rte &= ~RTE_REMOTE_IRR; /* an entry switched to edge forgets it */
	a->rte[pin] = rte;
	ioapic_service(a, pin);
}

static uint64_t ioapic_read(void *dev, uint64_t off, unsigned len)
{
	struct ioapic *a = dev;
	pthread_mutex_lock(&a->dev.lock);
	uint64_t v = 0;
	if (off == IOAPIC_REGSEL)
		v = a->regsel;
	else if (off == IOAPIC_WIN)
		v = ioapic_read_reg(a);
	pthread_mutex_unlock(&a->dev.lock);
	return v;
}

static void ioapic_write(void *dev, uint64_t off, unsigned len, uint64_t v)
{
	struct ioapic *a = dev;
	pthread_mutex_lock(&a->dev.lock);
	if (off == IOAPIC_REGSEL)
		a->regsel = (uint8_t)v;
	else if (off == IOAPIC_WIN)
		ioapic_write_reg(a, (uint32_t)v);
	pthread_mutex_unlock(&a->dev.lock);
}

static const struct bus_ops ioapic_ops = { .read = ioapic_read, .write = ioapic_write };

/* Power-on: every entry masked, edge, vector 0; the ID is 0 (the MADT's). Line levels are the
 * devices' and survive. */
static void ioapic_power_on(struct ioapic *a)
{
	a->regsel = 0;
	a->id = 0;
	a->pending = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		a->rte[i] = RTE_MASKED;
}

static void ioapic_reset(struct device *d)
{
	struct ioapic *a = (struct ioapic *)d;
	pthread_mutex_lock(&a->dev.lock);
	ioapic_power_on(a);
	pthread_mutex_unlock(&a->dev.lock);
}

static const struct device_ops ioapic_device_ops = { .name = "ioapic", .reset = ioapic_reset };

struct ioapic *ioapic_create(const struct dev_services *svc, uint64_t base, struct error *err)
{
	struct ioapic *a = device_new(svc, sizeof(*a), &ioapic_device_ops, err);
	if (!a)
		return NULL;
	ioapic_power_on(a);
	if (bus_register(svc->mmio, base, IOAPIC_MMIO_LEN, &ioapic_ops, a, "ioapic", err) < 0)
		return NULL;
	return a;
}

void ioapic_connect(struct ioapic *a, const struct x86_irq_msg_sink *sink)
{
	pthread_mutex_lock(&a->dev.lock);
	a->sink = sink ? *sink : (struct x86_irq_msg_sink){ 0 };
	pthread_mutex_unlock(&a->dev.lock);
}

void ioapic_set_irq(struct ioapic *a, unsigned pin, int level)
{
	if (pin >= IOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;
	pthread_mutex_lock(&a->dev.lock);
	if (level && !(a->level & bit))
		a->pending |= bit;
	if (level)
		a->level |= bit;
	else
		a->level &= ~bit;
	ioapic_service(a, pin);
	pthread_mutex_unlock(&a->dev.lock);
}

void ioapic_eoi(struct ioapic *a, uint8_t vector)
{
	pthread_mutex_lock(&a->dev.lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t rte = a->rte[pin];
		if ((rte & RTE_REMOTE_IRR) && (rte & RTE_VECTOR) == vector) {
			a->rte[pin] = rte & ~RTE_REMOTE_IRR;
			ioapic_service(a, pin);
		}
	}
	pthread_mutex_unlock(&a->dev.lock);
}

unsigned ioapic_sent(struct ioapic *a)
{
	pthread_mutex_lock(&a->dev.lock);
	unsigned n = a->sent;
	pthread_mutex_unlock(&a->dev.lock);
	return n;
}
