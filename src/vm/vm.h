/* A virtual machine: guest RAM, buses, devices, vCPU threads, and its lifecycle.
 *
 * Lifecycle: vm_run() checks inputs, builds the machine, starts one thread per vCPU and runs the
 * event loop on the calling thread until the VM stops. Anything that wants the VM to stop (a vCPU
 * seeing power-off or reset, a device, a signal) calls vm_request_stop(); the first reason wins.
 * Only the main thread tears down. */
#ifndef HARDY_VM_VM_H
#define HARDY_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "vm/bus.h"
#include "vm/clock.h"
#include "vm/config.h"
#include "vm/guest_mem.h"

struct console;
struct serial;
struct acpi_pm;
struct rtc;
struct i8042;
struct pci_host;

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,  /* guest powered off: status 0 */
	VM_STOP_REBOOT,    /* guest rebooted: status 0 (hardy does not restart it) */
	VM_STOP_ESCAPE,    /* console escape: status 0 */
	VM_STOP_KILLED,    /* signal or shutdown timeout: status 1 */
	VM_STOP_ERROR,     /* a vCPU or device failed: status 1, message in vm->stop_msg */
};

enum vcpu_state { VCPU_CREATED, VCPU_RUNNING, VCPU_EXITED };

struct vcpu {
	struct vm *vm;
	unsigned index;
	pthread_t thread;
	_Atomic enum vcpu_state state;
	void *accel_data;
};

struct vm {
	const struct vm_config *cfg;
	const struct accel_ops *accel;
	void *accel_data;
	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct vm_clock clock;     /* what devices read the time from; zero: the host's clocks */

	_Atomic int stop_reason;   /* enum vm_stop_reason */
	char stop_msg[320];        /* written once, by whoever won the stop race */
	int stop_efd;              /* eventfd: wakes the event loop when a stop is requested */

	struct console *console;
	struct serial *serial;
	struct acpi_pm *acpi_pm;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pci_host *pci_host;
};

/* Runs a VM to completion; returns the process exit status, with err filled when non-zero. */
int vm_run(const struct vm_config *cfg, struct error *err);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *msg);
static inline bool vm_stopping(struct vm *vm)
{
	return atomic_load_explicit(&vm->stop_reason, memory_order_acquire) != VM_RUNNING;
}

/* The machine's devices (machine.c): registered on the buses, reachable from struct vm.
 * Needs vm->console; destroy also undoes a partial create. */
int vm_devices_create(struct vm *vm, struct error *err);
void vm_devices_destroy(struct vm *vm);

/* Interrupt lines, for devices: forwarded to the backend. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level);

#endif
