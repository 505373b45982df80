/* QEMU's isa-debug-exit (iobase 0xf4, iosize 4), which test kernels such as kvm-unit-tests write
 * their verdict to: a write of V stops the VM with VM_STOP_DEBUG_EXIT and the code in the
 * message; hardy then exits with (V << 1) | 1 (vm_lifecycle.c). The vCPU only asks: the stop
 * happens on the main thread like every other. Reads return 0. */
#include <stdio.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"

struct debug_exit {
	struct device dev;
	struct vm_stopper stop;
};

static uint64_t debug_exit_read(void *dev, uint64_t off, unsigned len)
{
	return 0;
}

/* Any width at any offset of the 4 ports: the value as written (QEMU does the same). */
static void debug_exit_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct debug_exit *d = dev;
	uint32_t code = (uint32_t)(len >= 4 ? value : value & ((1ULL << (8 * len)) - 1));
	char msg[40];
	snprintf(msg, sizeof(msg), "debug-exit code %u", code);
	vm_stopper_request(&d->stop, VM_STOP_DEBUG_EXIT, msg);
}

static const struct bus_ops debug_exit_ops = { .read = debug_exit_read, .write = debug_exit_write };
static const struct device_ops debug_exit_device_ops = { .name = "debug-exit" };

struct debug_exit *debug_exit_create(const struct dev_services *svc, struct error *err)
{
	struct debug_exit *d = device_new(svc, sizeof(*d), &debug_exit_device_ops, err);
	if (!d)
		return NULL;
	d->stop = svc->stop;
	if (bus_register(svc->pio, X86_DEBUG_EXIT_PORT, X86_DEBUG_EXIT_LEN, &debug_exit_ops, d,
			 "debug-exit", err) < 0)
		return NULL;
	return d;
}
