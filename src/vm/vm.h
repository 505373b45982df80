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
#include "devices/device.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/guest_mem.h"
#include "core/resources.h"
#include "vm/signals.h"
#include "core/stop.h"

struct console;
struct disk;
struct net_backend;
struct event_loop;
struct vsock_host;

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

	struct event_loop *loop;   /* the main thread's; exists before any device */
	struct vm_signals signals;
	struct console *console;
	struct resources res;      /* MMIO windows, GSIs, MSI vectors for devices */
	struct device_list devices;
	char *cmdline;             /* the user's command line plus the devices' words */
	struct disk *disks[HARDY_MAX_DISKS]; /* opened (and locked) before any VM exists */
	struct net_backend *nets[HARDY_MAX_NICS]; /* opened before any VM exists, closed after
						    the devices */
	struct vsock_host *vsock;  /* --vsock's backend, listening before any VM exists */
};

/* Runs a VM to completion; returns the process exit status, with err filled when non-zero. */
int vm_run(const struct vm_config *cfg, struct error *err);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *msg);
static inline bool vm_stopping(struct vm *vm)
{
	return atomic_load_explicit(&vm->stop_reason, memory_order_acquire) != VM_RUNNING;
}

/* What the VM offers its devices (vm_services.c): the services handle, its stop request and
 * interrupt lines forwarded to the backend, and the stop eventfd on the event loop. */
struct dev_services vm_dev_services(struct vm *vm);
struct vm_stopper vm_stopper(struct vm *vm);
int vm_watch_stop(struct vm *vm, struct error *err);

#endif
