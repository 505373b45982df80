/* ACPI fixed hardware at the ports the FADT names: PM1a event block (status and enable),
 * PM1a control (sleep type/enable: S5 powers off), the 3.579545 MHz PM timer, and the reset
 * register. The SCI is a level-triggered line, high while an enabled status bit is set. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"

#define PM1_PWRBTN     (1u << 8)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_EN (1u << 13)
#define PM1_SLP_TYP(c) (((c) >> 10) & 7)
#define PM_TIMER_HZ    3579545ULL

enum { PM_STS = 0, PM_EN = 2, PM_CNT = 4, PM_TMR = 8, PM_RESET = 12 };

struct acpi_pm {
	struct device dev;
	struct irq_line sci;
	struct vm_stopper stop;
	const struct vm_clock *clock;
	uint16_t sts, en, cnt;
	int sci_level;
};

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

/* The timer counts from whatever the clock says; the 24/32-bit counter wraps anyway, so the
 * nanoseconds are taken as unsigned (no overflow for any clock value). */
static uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	uint64_t ns = (uint64_t)vm_clock_ns(pm->clock, CLOCK_MONOTONIC);
	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u);
}

/* The block as bytes, so that 1-, 2- and 4-byte accesses at any offset read consistently. */
static uint8_t acpi_pm_byte(struct acpi_pm *pm, unsigned off, uint32_t timer)
{
	switch (off) {
	case PM_STS: return (uint8_t)pm->sts;
	case PM_STS + 1: return (uint8_t)(pm->sts >> 8);
	case PM_EN: return (uint8_t)pm->en;
	case PM_EN + 1: return (uint8_t)(pm->en >> 8);
	case PM_CNT: return (uint8_t)(pm->cnt | PM1_CNT_SCI_EN);
	case PM_CNT + 1: return (uint8_t)(pm->cnt >> 8);
	case PM_TMR: case PM_TMR + 1: case PM_TMR + 2: case PM_TMR + 3:
		return (uint8_t)(timer >> (8 * (off - PM_TMR)));
	default: return 0;
	}
}

static uint64_t acpi_pm_read(void *dev, uint64_t off, unsigned len)
{
	struct acpi_pm *pm = dev;
	uint32_t timer = acpi_pm_timer(pm);
	uint64_t v = 0;
	pthread_mutex_lock(&pm->dev.lock);
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)acpi_pm_byte(pm, (unsigned)off + i, timer) << (8 * i);
	pthread_mutex_unlock(&pm->dev.lock);
	return v;
}

static void acpi_pm_write_cnt(struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = v & ~PM1_CNT_SLP_EN;
	if ((v & PM1_CNT_SLP_EN) && PM1_SLP_TYP(v) == X86_ACPI_S5_TYP)
		vm_stopper_request(&pm->stop, VM_STOP_POWEROFF, NULL);
}

static uint16_t set_byte(uint16_t reg, unsigned which, uint8_t b)
{
	unsigned shift = 8 * which;
	return (uint16_t)((reg & ~(0xFFu << shift)) | ((unsigned)b << shift));
}

static void acpi_pm_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct acpi_pm *pm = dev;
	pthread_mutex_lock(&pm->dev.lock);
	uint16_t cnt = pm->cnt;
	bool cnt_written = false;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (o < PM_EN)
			pm->sts &= (uint16_t)~((unsigned)b << (8 * (o - PM_STS))); /* write 1 to clear */
		else if (o < PM_CNT)
			pm->en = set_byte(pm->en, o - PM_EN, b);
		else if (o < PM_CNT + 2) {
			cnt = set_byte(cnt, o - PM_CNT, b);
			cnt_written = true;
		} else if (o == PM_RESET && b == X86_ACPI_RESET_VAL)
			vm_stopper_request(&pm->stop, VM_STOP_REBOOT, NULL);
	}
	if (cnt_written)
		acpi_pm_write_cnt(pm, cnt);
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->dev.lock);
}

static const struct bus_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

void acpi_pm_press_power_button(void *dev)
{
	struct acpi_pm *pm = dev;
	pthread_mutex_lock(&pm->dev.lock);
	pm->sts |= PM1_PWRBTN;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->dev.lock);
}

static void acpi_pm_reset(struct device *d)
{
	struct acpi_pm *pm = (struct acpi_pm *)d;
	pthread_mutex_lock(&pm->dev.lock);
	pm->sts = pm->en = pm->cnt = 0;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->dev.lock);
}

static const struct device_ops acpi_pm_device_ops = { .name = "acpi-pm", .reset = acpi_pm_reset };

struct acpi_pm *acpi_pm_create(const struct dev_services *svc, struct error *err)
{
	struct acpi_pm *pm = device_new(svc, sizeof(*pm), &acpi_pm_device_ops, err);
	if (!pm)
		return NULL;
	pm->sci = device_irq_fixed(svc, X86_ACPI_SCI_IRQ);
	pm->stop = svc->stop;
	pm->clock = svc->clock;
	if (bus_register(svc->pio, X86_ACPI_PM1A_EVT, X86_ACPI_PORTS_LEN, &acpi_pm_ops, pm,
			 "acpi-pm", err) < 0)
		return NULL;
	return pm;
}
