/* The legacy PC devices of hardy's x86 machine. Each is one file with one struct starting with
 * struct device (devices/device.h); each *_create builds it from the services handle, registers
 * its ports and returns it, or NULL with err set (the device list then holds what was made).
 * Handlers run on vCPU threads and lock their own state; input may arrive from the main thread. */
#ifndef HARDY_DEVICES_DEVICES_H
#define HARDY_DEVICES_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"
#include "util/error.h"

struct console;

/* 8250/16550A UART; output to the console, input from it. */
struct serial *serial_create(const struct dev_services *svc, uint16_t port, unsigned irq,
			     struct console *con, struct error *err);
void serial_receive(void *serial, const uint8_t *buf, size_t len);

/* i8042 keyboard controller: only what a guest needs to reset the machine (command 0xFE). */
struct i8042 *i8042_create(const struct dev_services *svc, struct error *err);

/* MC146818 CMOS RTC: the guest's clock reads the host's time. */
struct rtc *rtc_create(const struct dev_services *svc, struct error *err);

/* ACPI fixed hardware: PM1 event/control blocks, PM timer, reset register, power button. */
struct acpi_pm *acpi_pm_create(const struct dev_services *svc, struct error *err);
/* Presses the power button: the guest sees a fixed power-button event on its SCI. Any thread;
 * takes void * so it can be handed on as a callback. */
void acpi_pm_press_power_button(void *pm);

/* QEMU's isa-debug-exit at port 0xf4 (4 bytes), for test kernels: a write of V stops the VM
 * with VM_STOP_DEBUG_EXIT (hardy exits with (V << 1) | 1). Only with --debug-exit. */
struct debug_exit *debug_exit_create(const struct dev_services *svc, struct error *err);

/* PCI host bridge (configuration mechanism #1) with the host bridge at 00:00.0. */
struct pci_host *pci_host_create(const struct dev_services *svc, struct error *err);

#endif
