/* 8250/16550A UART, enough for Linux's 8250 driver: FIFO detection, loopback self-test,
 * receive and transmit-empty interrupts. Transmission is immediate (no baud-rate timing): the
 * byte goes to the console's ring after the device lock is released, and the console never
 * blocks (a slow consumer loses output, counted, rather than stalling the guest). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "core/console.h"

#include <linux/serial_reg.h>

#define SERIAL_RX_SIZE 1024 /* host input waiting for the guest; beyond it input is dropped */

struct serial {
	struct device dev;
	struct console *con;
	struct irq_line irq;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	bool thr_interrupt;  /* THR-empty interrupt pending until IIR is read or THR written */
	int irq_level;
	uint8_t rx[SERIAL_RX_SIZE];
	unsigned rx_head, rx_count;
};

/* Highest-priority pending interrupt, as IIR reports it. */
static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE_FIFO) ? 0xC0 : 0;
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_interrupt)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & UART_IIR_NO_INT);
	/* OUT2 gates the interrupt line on PC serial ports. */
	if (!(s->mcr & UART_MCR_OUT2))
		level = 0;
	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void serial_rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == SERIAL_RX_SIZE)
		return;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_SIZE] = c;
	s->rx_count++;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	if (!s->rx_count)
		return 0;
	uint8_t c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
	s->rx_count--;
	return c;
}

/* In loopback the modem inputs mirror the outputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & UART_MCR_LOOP))
		return s->msr;
	uint8_t m = 0;
	if (s->mcr & UART_MCR_RTS) m |= UART_MSR_CTS;
	if (s->mcr & UART_MCR_DTR) m |= UART_MSR_DSR;
	if (s->mcr & UART_MCR_OUT1) m |= UART_MSR_RI;
	if (s->mcr & UART_MCR_OUT2) m |= UART_MSR_DCD;
	return m;
}

static uint64_t serial_read(void *dev, uint64_t off, unsigned len)
{
	struct serial *s = dev;
	uint8_t v = 0;
	pthread_mutex_lock(&s->dev.lock);
	bool dlab = s->lcr & UART_LCR_DLAB;
	switch (off) {
	case UART_RX:
		v = dlab ? s->dll : serial_rx_pop(s);
		break;
	case UART_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = serial_iir(s);
		if ((v & 0x0F) == UART_IIR_THRI)
			s->thr_interrupt = false;
		break;
	case UART_LCR: v = s->lcr; break;
	case UART_MCR: v = s->mcr; break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
		break;
	case UART_MSR: v = serial_msr(s); break;
	case UART_SCR: v = s->scr; break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->dev.lock);
	return v;
}

static void serial_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct serial *s = dev;
	uint8_t v = (uint8_t)value;
	bool transmit = false;
	pthread_mutex_lock(&s->dev.lock);
	bool dlab = s->lcr & UART_LCR_DLAB;
	switch (off) {
	case UART_TX:
		if (dlab) {
			s->dll = v;
		} else if (s->mcr & UART_MCR_LOOP) {
			serial_rx_push(s, v);
			s->thr_interrupt = true;
		} else {
			transmit = true;
			s->thr_interrupt = true;
		}
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty THR raises the interrupt at once. */
			if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
				s->thr_interrupt = true;
			s->ier = v & 0x0F;
		}
		break;
	case UART_FCR:
		s->fcr = v & (UART_FCR_ENABLE_FIFO | 0xC0);
		if (v & UART_FCR_CLEAR_RCVR)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_LCR: s->lcr = v; break;
	case UART_MCR: s->mcr = v & 0x1F; break;
	case UART_SCR: s->scr = v; break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->dev.lock);
	if (transmit)
		console_write(s->con, &v, 1);
}

static const struct bus_ops serial_ops = { .read = serial_read, .write = serial_write };

void serial_receive(void *dev, const uint8_t *buf, size_t len)
{
	struct serial *s = dev;
	pthread_mutex_lock(&s->dev.lock);
	for (size_t i = 0; i < len; i++)
		serial_rx_push(s, buf[i]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->dev.lock);
}

/* Power-on state: registers cleared, modem inputs asserted, the receive FIFO empty. */
static void serial_reset(struct device *d)
{
	struct serial *s = (struct serial *)d;
	pthread_mutex_lock(&s->dev.lock);
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = s->dll = s->dlm = 0;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	s->thr_interrupt = false;
	s->rx_head = s->rx_count = 0;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->dev.lock);
}

static const struct device_ops serial_device_ops = { .name = "serial", .reset = serial_reset };

struct serial *serial_create(const struct dev_services *svc, uint16_t port, unsigned irq,
			     struct console *con, struct error *err)
{
	struct serial *s = device_new(svc, sizeof(*s), &serial_device_ops, err);
	if (!s)
		return NULL;
	s->con = con;
	s->irq = device_irq_fixed(svc, irq);
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (bus_register(svc->pio, port, 8, &serial_ops, s, "serial", err) < 0)
		return NULL;
	con->deliver = serial_receive;
	con->sink = s;
	return s;
}
