/* The legacy PC devices of hardy's x86 machine. Each is one file with one struct; each *_create
 * registers its ports on the VM's bus and returns the device, or NULL with err set.
 * Handlers run on vCPU threads and lock their own state; input may arrive from the main thread. */
#ifndef HARDY_DEVICES_DEVICES_H
#define HARDY_DEVICES_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct vm;
struct console;

/* 8250/16550A UART; output to the console, input from it. */
struct serial *serial_create(struct vm *vm, uint16_t port, unsigned irq, struct console *con,
			     struct error *err);
void serial_receive(void *serial, const uint8_t *buf, size_t len);
void serial_destroy(struct serial *s);

/* i8042 keyboard controller: only what a guest needs to reset the machine (command 0xFE). */
struct i8042 *i8042_create(struct vm *vm, struct error *err);
void i8042_destroy(struct i8042 *k);

/* MC146818 CMOS RTC: the guest's clock reads the host's time. */
struct rtc *rtc_create(struct vm *vm, struct error *err);
void rtc_destroy(struct rtc *r);

/* ACPI fixed hardware: PM1 event/control blocks, PM timer, reset register, power button. */
struct acpi_pm *acpi_pm_create(struct vm *vm, struct error *err);
/* Presses the power button: the guest sees a fixed power-button event on its SCI. */
void acpi_pm_press_power_button(struct acpi_pm *pm);
void acpi_pm_destroy(struct acpi_pm *pm);

/* PCI host bridge (configuration mechanism #1) with the host bridge at 00:00.0. */
struct pci_host *pci_host_create(struct vm *vm, struct error *err);
void pci_host_destroy(struct pci_host *h);

#endif
