/* The 8254 PIT (i8254.h). A channel keeps no running counter: it keeps when counting started
 * (load_ns) and how many ticks had passed before that (base, what a low gate froze), and every
 * read derives the count and the output from the clock. */
#include "devices/x86/i8254.h"

#include <stdbool.h>

#define NS_PER_S 1000000000u
#define PIT_REFRESH_NS 15085 /* port 0x61 bit 4 toggles at this period (DRAM refresh) */

struct pit_channel {
	uint8_t mode_bits;  /* as programmed, for the status byte */
	uint8_t mode;       /* what it behaves as: 0-5 */
	uint8_t rw;         /* 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
	bool bcd;
	uint32_t reload;    /* 1..0x10000 (a written 0 is 0x10000) */
	bool loaded;        /* a count was written since the control word: counting */
	bool null_count;
	bool gate;
	int64_t load_ns;
	uint64_t base;
	bool write_msb_next, read_msb_next;
	uint8_t write_lsb;
	bool count_latched, latch_msb_next, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct i8254 {
	struct device dev;
	const struct vm_clock *clock;
	struct irq_line irq;
	struct pit_channel ch[3];
	uint8_t port_b;        /* bit 0 gate 2, bit 1 speaker enable */
	int irq_level;
	uint64_t edges_sent;   /* channel 0's rising edges delivered since its load */
	void (*reprogrammed)(void *ctx);
	void *reprogrammed_ctx;
};

static int64_t pit_now(const struct i8254 *p)
{
	return vm_clock_ns(p->clock, CLOCK_MONOTONIC);
}

/* Ticks counted at now; a clock that went backwards counts none. */
static uint64_t pit_ticks(const struct pit_channel *c, int64_t now)
{
	if (!c->loaded)
		return 0;
	if (!c->gate || now <= c->load_ns)
		return c->base;
	uint64_t dt = (uint64_t)now - (uint64_t)c->load_ns;
	return c->base + (uint64_t)((unsigned __int128)dt * I8254_HZ / NS_PER_S);
}

static uint16_t pit_count(const struct pit_channel *c, uint64_t d)
{
	if (!c->loaded)
		return (uint16_t)c->reload;
	switch (c->mode) {
	case 2: return (uint16_t)(c->reload - d % c->reload);
	case 3: return (uint16_t)((c->reload - (2 * d) % c->reload) & 0xFFFE);
	default: return (uint16_t)(c->reload - d); /* 0, 1, 4, 5 wrap through 0xFFFF */
	}
}

static bool pit_out(const struct pit_channel *c, uint64_t d)
{
	if (!c->loaded)
		return c->mode != 0 && c->mode != 1; /* mode 0 drives OUT low from the control word */
	switch (c->mode) {
	case 0: case 1: return d >= c->reload;
	case 2: return !c->gate || d % c->reload != c->reload - 1;
	case 3: return !c->gate || d % c->reload < (c->reload + 1) / 2;
	default: return d != c->reload; /* 4, 5: low for one tick at terminal count */
	}
}

/* Rising edges of OUT from the load up to d ticks. */
static uint64_t pit_edges(const struct pit_channel *c, uint64_t d)
{
	if (!c->loaded)
		return 0;
	switch (c->mode) {
	case 0: case 1: return d >= c->reload;
	case 2: case 3: return d / c->reload;
	default: return d >= c->reload + 1ull;
	}
}

/* The tick of the next rising edge after d, 0 when none comes. */
static uint64_t pit_next_edge(const struct pit_channel *c, uint64_t d)
{
	if (!c->loaded)
		return 0;
	switch (c->mode) {
	case 0: case 1: return d < c->reload ? c->reload : 0;
	case 2: case 3: return (d / c->reload + 1) * c->reload;
	default: return d < c->reload + 1ull ? c->reload + 1ull : 0;
	}
}

static void pit_set_irq(struct i8254 *p, int level)
{
	if (level != p->irq_level) {
		p->irq_level = level;
		irq_line_set(&p->irq, level);
	}
}

/* Channel 0's output onto IRQ0: a pulse for rising edges since the last call, then its level. */
static void pit_update_irq(struct i8254 *p, int64_t now)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t d = pit_ticks(c, now);
	uint64_t e = pit_edges(c, d);
	if (e > p->edges_sent) {
		p->edges_sent = e;
		pit_set_irq(p, 0);
		pit_set_irq(p, 1);
	}
	pit_set_irq(p, pit_out(c, d));
}

static void pit_load(struct i8254 *p, unsigned i, uint32_t value, int64_t now)
{
	struct pit_channel *c = &p->ch[i];
	c->reload = value ? value : 0x10000;
	c->loaded = true;
	c->null_count = false;
	c->load_ns = now;
	c->base = 0;
	if (i == 0)
		p->edges_sent = 0;
}

static uint8_t pit_status(const struct pit_channel *c, int64_t now)
{
	return (uint8_t)((pit_out(c, pit_ticks(c, now)) << 7) | (c->null_count << 6) |
			 (c->rw << 4) | (c->mode_bits << 1) | c->bcd);
}

static void pit_latch_count(struct pit_channel *c, int64_t now)
{
	if (c->count_latched)
		return;
	c->latch = pit_count(c, pit_ticks(c, now));
	c->count_latched = true;
	c->latch_msb_next = false;
}

static void pit_control(struct i8254 *p, uint8_t v, int64_t now)
{
	unsigned sel = v >> 6;
	if (sel == 3) { /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
		for (unsigned i = 0; i < 3; i++) {
			struct pit_channel *c = &p->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				pit_latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = pit_status(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	struct pit_channel *c = &p->ch[sel];
	unsigned rw = (v >> 4) & 3;
	if (rw == 0) {
		pit_latch_count(c, now);
		return;
	}
	c->mode_bits = (v >> 1) & 7;
	c->mode = c->mode_bits >= 6 ? c->mode_bits - 4 : c->mode_bits;
	c->rw = (uint8_t)rw;
	c->bcd = v & 1;
	c->loaded = false;
	c->null_count = true;
	c->write_msb_next = c->read_msb_next = false;
	c->count_latched = c->status_latched = false;
}

static uint8_t pit_read_counter(struct pit_channel *c, int64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v;
	bool *msb_next;
	if (c->count_latched) {
		v = c->latch;
		msb_next = &c->latch_msb_next;
	} else {
		v = pit_count(c, pit_ticks(c, now));
		msb_next = &c->read_msb_next;
	}
	bool msb = c->rw == 2 || (c->rw == 3 && *msb_next);
	if (c->rw == 3)
		*msb_next = !*msb_next;
	if (c->count_latched && (c->rw != 3 || !*msb_next))
		c->count_latched = false; /* the latch is read out */
	return (uint8_t)(msb ? v >> 8 : v);
}

static void pit_write_counter(struct i8254 *p, unsigned i, uint8_t v, int64_t now)
{
	struct pit_channel *c = &p->ch[i];
	switch (c->rw) {
	case 1: pit_load(p, i, v, now); break;
	case 2: pit_load(p, i, (uint32_t)v << 8, now); break;
	case 3:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			if (c->mode == 0)
				c->loaded = false; /* the first byte stops mode 0 (OUT low) */
		} else {
			c->write_msb_next = false;
			pit_load(p, i, c->write_lsb | ((uint32_t)v << 8), now);
		}
		break;
	default: break; /* not programmed yet: no access mode */
	}
}

static void pit_set_gate(struct pit_channel *c, bool gate, int64_t now)
{
	if (gate == c->gate)
		return;
	if (!gate) {
		c->base = pit_ticks(c, now); /* frozen while low */
	} else {
		if (c->mode != 0 && c->mode != 4)
			c->base = 0; /* modes 1, 2, 3, 5 restart on the rising edge */
		c->load_ns = now;
	}
	c->gate = gate;
}

static uint64_t pit_read(void *dev, uint64_t off, unsigned len)
{
	struct i8254 *p = dev;
	pthread_mutex_lock(&p->dev.lock);
	uint8_t v = off < 3 ? pit_read_counter(&p->ch[off], pit_now(p)) : 0xFF;
	pthread_mutex_unlock(&p->dev.lock);
	return v;
}

static void pit_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct i8254 *p = dev;
	int64_t now = pit_now(p);
	pthread_mutex_lock(&p->dev.lock);
	if (off < 3)
		pit_write_counter(p, (unsigned)off, (uint8_t)value, now);
	else
		pit_control(p, (uint8_t)value, now);
	pit_update_irq(p, now);
	void (*fn)(void *) = p->reprogrammed;
	void *ctx = p->reprogrammed_ctx;
	pthread_mutex_unlock(&p->dev.lock);
	if (fn)
		fn(ctx);
}

static uint64_t port_b_read(void *dev, uint64_t off, unsigned len)
{
	struct i8254 *p = dev;
	int64_t now = pit_now(p);
	pthread_mutex_lock(&p->dev.lock);
	const struct pit_channel *c = &p->ch[2];
	uint8_t v = (uint8_t)((p->port_b & 3) | (pit_out(c, pit_ticks(c, now)) << 5) |
			      (((uint64_t)now / PIT_REFRESH_NS) & 1) << 4);
	pthread_mutex_unlock(&p->dev.lock);
	return v;
}

static void port_b_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct i8254 *p = dev;
	int64_t now = pit_now(p);
	pthread_mutex_lock(&p->dev.lock);
	p->port_b = (uint8_t)(value & 3);
	pit_set_gate(&p->ch[2], value & 1, now);
	pthread_mutex_unlock(&p->dev.lock);
}

static const struct bus_ops pit_ops = { .read = pit_read, .write = pit_write };
static const struct bus_ops port_b_ops = { .read = port_b_read, .write = port_b_write };

static void pit_power_on(struct i8254 *p)
{
	for (unsigned i = 0; i < 3; i++)
		p->ch[i] = (struct pit_channel){ .reload = 0x10000, .gate = i < 2 };
	p->port_b = 0;
	p->edges_sent = 0;
}

static void i8254_reset(struct device *d)
{
	struct i8254 *p = (struct i8254 *)d;
	pthread_mutex_lock(&p->dev.lock);
	pit_power_on(p);
	pit_set_irq(p, 0);
	pthread_mutex_unlock(&p->dev.lock);
}

static const struct device_ops i8254_device_ops = { .name = "i8254", .reset = i8254_reset };

struct i8254 *i8254_create(const struct dev_services *svc, struct irq_line irq,
			   struct error *err)
{
	struct i8254 *p = device_new(svc, sizeof(*p), &i8254_device_ops, err);
	if (!p)
		return NULL;
	p->clock = svc->clock;
	p->irq = irq;
	pit_power_on(p);
	if (bus_register(svc->pio, I8254_PORT, 4, &pit_ops, p, "pit", err) < 0 ||
	    bus_register(svc->pio, I8254_PORT_B, 1, &port_b_ops, p, "pit-port-b", err) < 0)
		return NULL;
	return p;
}

int64_t i8254_next_deadline(struct i8254 *p)
{
	pthread_mutex_lock(&p->dev.lock);
	const struct pit_channel *c = &p->ch[0];
	int64_t deadline = INT64_MAX;
	uint64_t n = pit_next_edge(c, pit_ticks(c, pit_now(p)));
	if (n) {
		/* The first nanosecond at which pit_ticks() reaches n. */
		unsigned __int128 ns = ((unsigned __int128)n * NS_PER_S + I8254_HZ - 1) / I8254_HZ;
		__int128 t = (__int128)c->load_ns + (__int128)ns;
		if (t < INT64_MAX)
			deadline = (int64_t)t;
	}
	pthread_mutex_unlock(&p->dev.lock);
	return deadline;
}

void i8254_advance(struct i8254 *p, int64_t now_ns)
{
	pthread_mutex_lock(&p->dev.lock);
	pit_update_irq(p, now_ns);
	pthread_mutex_unlock(&p->dev.lock);
}

void i8254_on_reprogram(struct i8254 *p, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&p->dev.lock);
	p->reprogrammed = fn;
	p->reprogrammed_ctx = ctx;
	pthread_mutex_unlock(&p->dev.lock);
}
