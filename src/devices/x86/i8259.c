/* The 8259A pair (i8259.h). Each chip keeps IRR/ISR/IMR and a rotating priority base: priority
 * p (0 highest) belongs to line (p + prio_base) & 7, so rotations are one assignment. */
#include "devices/x86/i8259.h"

#include <stdbool.h>
#include <string.h>

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t level;       /* the input lines as driven */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base; /* ICW2 & 0xF8 */
	uint8_t prio_base;
	uint8_t init_step;   /* 0: running; 2, 3, 4: the ICW expected next */
	bool need_icw4, single, auto_eoi, rotate_auto_eoi, special_nested, special_mask;
	bool read_isr, poll;
};

struct i8259 {
	struct device dev;
	struct pic_chip chip[2]; /* master, slave */
	int intr_level;
	void (*intr)(void *ctx, int level);
	void *intr_ctx;
};

/* Priority (0-7) of the highest-priority bit of mask, 8 when none. */
static unsigned pic_priority(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned p = 0; p < 8; p++)
		if (mask & (1u << ((p + c->prio_base) & 7)))
			return p;
	return 8;
}

/* The line the chip would interrupt for now, -1 when none beats what is in service. */
static int pic_pending(const struct pic_chip *c, bool is_master)
{
	unsigned req = pic_priority(c, c->irr & (uint8_t)~c->imr);
	if (req == 8)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= (uint8_t)~c->imr; /* masked in-service lines do not block */
	if (is_master && c->special_nested)
		in_service &= (uint8_t)~(1u << I8259_CASCADE_IRQ); /* more slave requests may nest */
	if (req >= pic_priority(c, in_service))
		return -1;
	return (int)((req + c->prio_base) & 7);
}

static void pic_set_line(struct pic_chip *c, unsigned line, int level)
{
	uint8_t bit = (uint8_t)(1u << line);
	if (c->elcr & bit) {
		if (level) /* level: the request follows the line */
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->level & bit)) {
		c->irr |= bit; /* edge: latched on the rising edge, kept until acknowledged */
	}
	if (level)
		c->level |= bit;
	else
		c->level &= (uint8_t)~bit;
}

/* Recomputes the cascade (slave INT into master IRQ2) and the master's INT output. */
static void pic_update(struct i8259 *p)
{
	pic_set_line(&p->chip[0], I8259_CASCADE_IRQ, pic_pending(&p->chip[1], false) >= 0);
	int level = pic_pending(&p->chip[0], true) >= 0;
	if (level != p->intr_level) {
		p->intr_level = level;
		if (p->intr)
			p->intr(p->intr_ctx, level);
	}
}

/* The acknowledge of line on one chip: ISR set (or auto-EOI), an edge request consumed. */
static void pic_ack_line(struct pic_chip *c, unsigned line)
{
	uint8_t bit = (uint8_t)(1u << line);
	if (c->auto_eoi) {
		if (c->rotate_auto_eoi)
			c->prio_base = (uint8_t)((line + 1) & 7);
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit;
}

static void pic_init(struct pic_chip *c, uint8_t icw1)
{
	uint8_t elcr = c->elcr, elcr_mask = c->elcr_mask, level = c->level;
	*c = (struct pic_chip){ .elcr = elcr, .elcr_mask = elcr_mask, .level = level };
	c->need_icw4 = icw1 & 0x01;
	c->single = icw1 & 0x02;
	c->init_step = 2;
	/* Lines already high are not new edges; level lines request at once. */
	c->irr = c->level & c->elcr;
}

static void pic_eoi(struct pic_chip *c, int line, bool rotate)
{
	if (line < 0) { /* non-specific: the highest-priority line in service */
		unsigned p = pic_priority(c, c->isr);
		if (p == 8)
			return;
		line = (int)((p + c->prio_base) & 7);
	}
	c->isr &= (uint8_t)~(1u << line);
	if (rotate)
		c->prio_base = (uint8_t)((line + 1) & 7);
}

static void pic_write_command(struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) { /* ICW1 */
		pic_init(c, v);
		return;
	}
	if (v & 0x08) { /* OCW3 */
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 0x01;
		if (v & 0x40)
			c->special_mask = v & 0x20;
		return;
	}
	unsigned line = v & 7; /* OCW2 */
	switch (v >> 5) {
	case 0: c->rotate_auto_eoi = false; break;
	case 1: pic_eoi(c, -1, false); break;
	case 3: pic_eoi(c, (int)line, false); break;
	case 4: c->rotate_auto_eoi = true; break;
	case 5: pic_eoi(c, -1, true); break;
	case 6: c->prio_base = (uint8_t)((line + 1) & 7); break;
	case 7: pic_eoi(c, (int)line, true); break;
	default: break; /* 2: no operation */
	}
}

static void pic_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 0: c->imr = v; break;
	case 2:
		c->vector_base = v & 0xF8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3: /* ICW3: the cascade wiring is fixed (slave on IRQ2) */
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = v & 0x02;
		c->special_nested = v & 0x10;
		c->init_step = 0;
		break;
	}
}

/* A poll read: the acknowledge of the chip's own highest request, as a status byte. */
static uint8_t pic_poll(struct pic_chip *c, bool is_master)
{
	c->poll = false;
	int line = pic_pending(c, is_master);
	if (line < 0)
		return 0;
	pic_ack_line(c, (unsigned)line);
	return (uint8_t)(0x80 | line);
}

static uint64_t i8259_read(struct i8259 *p, unsigned which, uint64_t off)
{
	struct pic_chip *c = &p->chip[which];
	pthread_mutex_lock(&p->dev.lock);
	uint8_t v;
	if (c->poll) {
		v = pic_poll(c, which == 0);
		pic_update(p);
	} else if (off == 0) {
		v = c->read_isr ? c->isr : c->irr;
	} else {
		v = c->imr;
	}
	pthread_mutex_unlock(&p->dev.lock);
	return v;
}

static void i8259_write(struct i8259 *p, unsigned which, uint64_t off, uint8_t v)
{
	struct pic_chip *c = &p->chip[which];
	pthread_mutex_lock(&p->dev.lock);
	if (off == 0)
		pic_write_command(c, v);
	else
		pic_write_data(c, v);
	pic_update(p);
	pthread_mutex_unlock(&p->dev.lock);
}

static uint64_t master_read(void *dev, uint64_t off, unsigned len)
{
	return i8259_read(dev, 0, off);
}

static uint64_t slave_read(void *dev, uint64_t off, unsigned len)
{
	return i8259_read(dev, 1, off);
}

static void master_write(void *dev, uint64_t off, unsigned len, uint64_t v)
{
	i8259_write(dev, 0, off, (uint8_t)v);
}

static void slave_write(void *dev, uint64_t off, unsigned len, uint64_t v)
{
	i8259_write(dev, 1, off, (uint8_t)v);
}

static uint64_t elcr_read(void *dev, uint64_t off, unsigned len)
{
	struct i8259 *p = dev;
	pthread_mutex_lock(&p->dev.lock);
	uint64_t v = 0;
	for (unsigned i = 0; i < len && off + i < 2; i++)
		v |= (uint64_t)p->chip[off + i].elcr << (8 * i);
	pthread_mutex_unlock(&p->dev.lock);
	return v;
}

static void elcr_write(void *dev, uint64_t off, unsigned len, uint64_t v)
{
	struct i8259 *p = dev;
	pthread_mutex_lock(&p->dev.lock);
	for (unsigned i = 0; i < len && off + i < 2; i++) {
		struct pic_chip *c = &p->chip[off + i];
		c->elcr = (uint8_t)(v >> (8 * i)) & c->elcr_mask;
		c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->level & c->elcr));
	}
	pic_update(p);
	pthread_mutex_unlock(&p->dev.lock);
}

static const struct bus_ops master_ops = { .read = master_read, .write = master_write };
static const struct bus_ops slave_ops = { .read = slave_read, .write = slave_write };
static const struct bus_ops elcr_ops = { .read = elcr_read, .write = elcr_write };

/* Power-on: uninitialised chips (vector base 0, nothing masked), all edge-triggered. The
 * lines' levels are the devices' and survive; the devices reset their own. */
static void i8259_power_on(struct i8259 *p)
{
	for (unsigned i = 0; i < 2; i++) {
		uint8_t level = p->chip[i].level;
		p->chip[i] = (struct pic_chip){ .level = level };
	}
	/* IRQ0-2 (timer, keyboard, cascade) and IRQ8/IRQ13 (RTC, FPU) are edge-only on PIIX. */
	p->chip[0].elcr_mask = 0xF8;
	p->chip[1].elcr_mask = 0xDE;
}

static void i8259_reset(struct device *d)
{
	struct i8259 *p = (struct i8259 *)d;
	pthread_mutex_lock(&p->dev.lock);
	i8259_power_on(p);
	pic_update(p);
	pthread_mutex_unlock(&p->dev.lock);
}

static const struct device_ops i8259_device_ops = { .name = "i8259", .reset = i8259_reset };

struct i8259 *i8259_create(const struct dev_services *svc, struct error *err)
{
	struct i8259 *p = device_new(svc, sizeof(*p), &i8259_device_ops, err);
	if (!p)
		return NULL;
	i8259_power_on(p);
	if (bus_register(svc->pio, I8259_MASTER_PORT, 2, &master_ops, p, "pic-master", err) < 0 ||
	    bus_register(svc->pio, I8259_SLAVE_PORT, 2, &slave_ops, p, "pic-slave", err) < 0 ||
	    bus_register(svc->pio, I8259_ELCR_PORT, 2, &elcr_ops, p, "pic-elcr", err) < 0)
		return NULL;
	return p;
}

void i8259_connect(struct i8259 *p, void (*intr)(void *ctx, int level), void *ctx)
{
	pthread_mutex_lock(&p->dev.lock);
	p->intr = intr;
	p->intr_ctx = ctx;
	pthread_mutex_unlock(&p->dev.lock);
}

void i8259_set_irq(struct i8259 *p, unsigned irq, int level)
{
	if (irq >= 16 || irq == I8259_CASCADE_IRQ)
		return;
	pthread_mutex_lock(&p->dev.lock);
	pic_set_line(&p->chip[irq / 8], irq % 8, level != 0);
	pic_update(p);
	pthread_mutex_unlock(&p->dev.lock);
}

uint8_t i8259_acknowledge(struct i8259 *p)
{
	pthread_mutex_lock(&p->dev.lock);
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	uint8_t vector;
	int line = pic_pending(m, true);
	if (line < 0) {
		vector = m->vector_base + 7; /* spurious IRQ7: no ISR bit */
	} else {
		pic_ack_line(m, (unsigned)line);
		if (line == I8259_CASCADE_IRQ) {
			int sline = pic_pending(s, false);
			if (sline < 0) {
				vector = s->vector_base + 7; /* spurious IRQ15 */
			} else {
				pic_ack_line(s, (unsigned)sline);
				vector = (uint8_t)(s->vector_base + sline);
			}
		} else {
			vector = (uint8_t)(m->vector_base + line);
		}
	}
	pic_update(p);
	pthread_mutex_unlock(&p->dev.lock);
	return vector;
}

int i8259_intr_level(struct i8259 *p)
{
	pthread_mutex_lock(&p->dev.lock);
	int l = p->intr_level;
	pthread_mutex_unlock(&p->dev.lock);
	return l;
}
