/* A struct vm with a fake backend, for testing devices without KVM: interrupt line levels are
 * recorded per GSI, and stop requests land in vm->stop_reason as usual. */
#ifndef HARDY_TESTS_FAKE_VM_H
#define HARDY_TESTS_FAKE_VM_H

#include <sys/eventfd.h>

#include "vm/vm.h"

struct fake_vm {
	struct vm vm;
	int irq_level[32];
	int irq_changes[32];
	int64_t clock_ns; /* the time devices see once fake_vm_fake_clock() was called */
};

static int64_t fake_clock_now(void *ctx, clockid_t id)
{
	return ((struct fake_vm *)ctx)->clock_ns;
}

/* Devices read f->clock_ns as both the wall clock and the monotonic clock from now on. */
static inline void fake_vm_fake_clock(struct fake_vm *f, int64_t ns)
{
	f->clock_ns = ns;
	f->vm.clock = (struct vm_clock){ .now_ns = fake_clock_now, .ctx = f };
}

static int fake_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct fake_vm *f = (struct fake_vm *)vm;
	if (gsi < 32) {
		f->irq_level[gsi] = level;
		f->irq_changes[gsi]++;
	}
	return 0;
}

static const struct accel_ops fake_accel_ops = { .name = "fake", .irq_line = fake_irq_line };

static inline void fake_vm_init(struct fake_vm *f)
{
	memset(f, 0, sizeof(*f));
	f->vm.accel = &fake_accel_ops;
	f->vm.stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->vm.pio_bus.name = "pio";
	f->vm.mmio_bus.name = "mmio";
}

static inline uint64_t fake_in(struct fake_vm *f, uint16_t port, unsigned len)
{
	uint8_t data[8] = { 0 };
	bus_dispatch(&f->vm.pio_bus, port, false, data, len);
	uint64_t v = 0;
	memcpy(&v, data, len);
	return v;
}

static inline void fake_out(struct fake_vm *f, uint16_t port, unsigned len, uint64_t v)
{
	uint8_t data[8];
	memcpy(data, &v, sizeof(data));
	bus_dispatch(&f->vm.pio_bus, port, true, data, len);
}

#endif
