/* The device model: what every device is, and the narrow handle it is built from.
 *
 * A device is a struct that starts with a struct device (its ops table, its lock, its place in
 * the VM's device list). It is created by one function taking a const struct dev_services *:
 * guest memory, the buses, the clock, the event loop, the resource allocator, interrupt lines,
 * and a way to ask the VM to stop. No device sees struct vm, so a device test builds the
 * services by hand. The builder (src/vm/machine.c) wires devices explicitly, one call each.
 *
 * Ownership: device_new() links the device into the list before the device registers anything,
 * so when a create fails half-way the caller only destroys the list; ops->destroy (optional)
 * releases what the device owns besides its struct. Threads: bus handlers run on vCPU threads,
 * backends' callbacks on the event loop's thread; each device guards its state with dev.lock. */
#ifndef HARDY_DEVICES_DEVICE_H
#define HARDY_DEVICES_DEVICE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/guest_mem.h"
#include "core/resources.h"
#include "core/stop.h"

struct aml_buf;
struct device;
struct event_loop;

struct device_ops {
	const char *name;
	/* Back to the power-on state (a machine reset). Optional. */
	void (*reset)(struct device *d);
	/* Releases what the device owns; its struct is freed by the list. Optional. */
	void (*destroy)(struct device *d);
	/* Appends the device's objects to the DSDT, inside \_SB. Optional. */
	void (*acpi_dsdt)(struct device *d, struct aml_buf *aml);
	/* Writes what the device needs on the kernel command line (snprintf rules). Optional. */
	int (*cmdline)(struct device *d, char *buf, size_t cap);
};

struct device {
	const struct device_ops *ops;
	pthread_mutex_t lock; /* guards the device's state; never held across blocking host I/O */
	struct device *prev, *next;
};

struct device_list {
	struct device *head, *tail; /* creation order */
};

/* An interrupt line as an object: the device holds the wire, the VM decides what it drives. */
struct irq_line {
	void (*set)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	l->set(l->ctx, l->gsi, level);
}

/* Everything a device may use, and nothing else. */
struct dev_services {
	struct device_list *devices;
	struct bus *pio, *mmio;
	const struct guest_mem *mem;
	const struct vm_clock *clock;
	struct event_loop *loop;
	struct resources *res;
	struct vm_stopper stop;
	/* Drives a GSI; failures are the VM's business (it stops with a message). */
	void (*irq_set)(void *ctx, unsigned gsi, int level);
	/* Sends one MSI; failures are the VM's business too. */
	void (*msi_send)(void *ctx, uint64_t addr, uint32_t data);
	/* Optional: guest writes of len bytes at gpa signal fd without a vCPU exit; -1 when the
	 * backend cannot (the write then reaches the device's MMIO handler). */
	int (*ioeventfd)(void *ctx, uint64_t gpa, unsigned len, int fd);
	void *irq_ctx;
};

/* Allocates size zeroed bytes (a struct starting with struct device), initialises the lock
 * and links it into svc->devices. NULL with err set when out of memory. */
void *device_new(const struct dev_services *svc, size_t size, const struct device_ops *ops,
		 struct error *err);

/* The line for a fixed GSI (ISA devices), or one from the allocator. */
struct irq_line device_irq_fixed(const struct dev_services *svc, unsigned gsi);
int device_irq_alloc(const struct dev_services *svc, struct irq_line *line, struct error *err);

void device_list_init(struct device_list *l);
void device_list_reset(struct device_list *l);
/* Destroys every device, newest first. */
void device_list_destroy(struct device_list *l);
void device_list_acpi_dsdt(struct device_list *l, struct aml_buf *aml);
/* Joins the devices' command-line words after base into buf; -1 with err when it overflows. */
int device_list_cmdline(struct device_list *l, const char *base, char *buf, size_t cap,
			struct error *err);

#endif
