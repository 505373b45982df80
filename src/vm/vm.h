/* A virtual machine: guest RAM, buses, devices, vCPU threads, and its lifecycle.
 *
 * Lifecycle (vm_lifecycle.c; the states and legal transitions are vm_state.h's):
 *   vm_create()   checks the inputs (kernel, initrd, console file, disks, NICs, vsock: status 2
 *                 for bad ones, before any CPU backend is probed), picks the CPU backend from
 *                 accel.h's table, opens the device backends, builds the machine
 *                 and its vCPUs on the caller's event loop: NOT_STARTED, nothing runs yet.
 *   vm_start()    starts one thread per vCPU: RUNNING.
 *   vm_pause()    takes every vCPU out of the backend's run call and parks it (no guest
 *                 progress, no CPU burnt) before returning: PAUSED.
 *   vm_resume()   tells each vCPU the guest was paused (the backend's vcpu_resumed; KVM:
 *                 KVM_KVMCLOCK_CTRL, no soft-lockup warnings) and lets it run again: RUNNING.
 *   vm_request_stop()  any thread; the first reason wins: STOPPING.
 *   vm_wait()     runs the event loop until the VM stops, joins the vCPUs: STOPPED; returns
 *                 the exit status.
 *   vm_destroy()  tears everything down in reverse order.
 * vm_run() is create + start + wait + destroy on a loop of its own, with the VM's signals.
 *
 * Threads: everything but vm_request_stop, vm_stopping and vm_state runs on the thread that
 * runs the event loop (the main thread). Devices and vCPUs hold only a struct vm_stopper. */
#ifndef HARDY_VM_VM_H
#define HARDY_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "accel/accel.h"
#include "devices/device.h"
#include "devices/x86/irqchip.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/guest_mem.h"
#include "core/resources.h"
#include "core/stop.h"
#include "vm/vm_state.h"

struct console;
struct disk;
struct net_backend;
struct event_loop;
struct vsock_host;
struct apic_bus;
struct vm_pit;

struct vcpu {
	struct vm *vm;
	unsigned index;
	pthread_t thread;
	_Atomic bool thread_started;   /* pthread_create succeeded and not yet joined */
	/* state is written by the vCPU's thread (and by vcpu_start), want by the main thread;
	 * both under lock, state changes broadcast on cond. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic enum vcpu_state state;
	enum vcpu_state want;          /* RUNNING, PAUSED or EXITED */
	struct accel_vcpu *accel_vcpu; /* the backend's vCPU; NULL until created */
};

struct vm {
	struct vm_config cfg;      /* the VM's own copy */
	const struct accel_ops *accel;
	struct accel_caps caps;    /* what the backend said it can do (probe) */
	struct accel_vm *accel_vm; /* the backend's VM; NULL until created */
	struct irq_router irq;     /* where interrupt lines and MSIs go: the backend's own
				    * controllers, or the machine's user-space ones */
	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	unsigned nr_vcpus_ready;   /* how many of vcpus have their lock and condition */
	struct vm_clock clock;     /* what devices read the time from; zero: the host's clocks */

	_Atomic enum vm_state state; /* changed only through vm_state_apply() */
	_Atomic int stop_reason;   /* enum vm_stop_reason */
	char stop_msg[320];        /* written once, by whoever won the stop race */
	int stop_efd;              /* eventfd: wakes the event loop when a stop is requested */
	struct timespec started;   /* CLOCK_MONOTONIC at vm_start (uptime) */

	struct event_loop *loop;   /* the caller's; exists before the VM and outlives it */
	struct console *console;
	struct resources res;      /* MMIO windows, GSIs, MSI vectors for devices */
	struct device_list devices;
	char *cmdline;             /* the user's command line plus the devices' words */
	struct disk *disks[HARDY_MAX_DISKS]; /* opened (and locked) before any VM exists */
	struct net_backend *nets[HARDY_MAX_NICS]; /* opened before any VM exists, closed after
						    the devices */
	struct vsock_host *vsock;  /* --vsock's backend, listening before any VM exists */
	void (*power_button)(void *ctx); /* the machine's ACPI power button */
	void *power_button_ctx;
	/* Without caps.irqchip: the machine's LAPICs (each connected to its vCPU through the
	 * backend's vcpu_set_lapic/vcpu_signal) and the PIT's timerfd; NULL otherwise. */
	struct apic_bus *apic;
	struct vm_pit *pit_clock;
};

/* cfg is copied (the caller keeps its own); loop must outlive the VM, and after vm_destroy it
 * is only fit to be destroyed (devices may leave registrations behind). NULL with err. */
struct vm *vm_create(const struct vm_config *cfg, struct event_loop *loop, struct error *err);
/* vm_create on the given backend instead of the table's choice for cfg->accel (tests: a fake
 * backend); NULL accel: the table's. */
struct vm *vm_create_on(const struct vm_config *cfg, struct event_loop *loop,
			const struct accel_ops *accel, struct error *err);
int vm_start(struct vm *vm, struct error *err);
int vm_pause(struct vm *vm, struct error *err);
int vm_resume(struct vm *vm, struct error *err);
/* The exit status: 0 after a power-off, reboot or console escape, else 1 with err set. */
int vm_wait(struct vm *vm, struct error *err);
void vm_destroy(struct vm *vm);
enum vm_state vm_state(const struct vm *vm);
/* Presses the ACPI power button (a graceful shutdown request); ERR_INPUT unless RUNNING. */
int vm_press_power_button(struct vm *vm, struct error *err);
/* Seconds since vm_start (0 before). */
double vm_uptime(const struct vm *vm);

/* Runs a VM to completion; returns the process exit status, with err filled when non-zero. */
int vm_run(const struct vm_config *cfg, struct error *err);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *msg);
static inline bool vm_stopping(struct vm *vm)
{
	return atomic_load_explicit(&vm->stop_reason, memory_order_acquire) != VM_STOP_NONE;
}

/* What the VM offers its devices (vm_services.c): the services handle, its stop request and
 * interrupt lines forwarded to the backend, and the stop eventfd on the event loop. */
struct dev_services vm_dev_services(struct vm *vm);
/* The irq router to the backend's own interrupt controllers (caps.irqchip). */
struct irq_router vm_backend_irq_router(struct vm *vm);
struct vm_stopper vm_stopper(struct vm *vm);
int vm_watch_stop(struct vm *vm, struct error *err);

#endif
