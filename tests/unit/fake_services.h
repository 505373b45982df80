/* A device services handle for tests, with no VM behind it: interrupt line levels are recorded
 * per GSI, stop requests land in stop_reason, the clock can be faked, the buses are real. */
#ifndef HARDY_TESTS_FAKE_SERVICES_H
#define HARDY_TESTS_FAKE_SERVICES_H

#include <string.h>

#include "devices/device.h"

struct fake_env {
	struct dev_services svc;
	struct device_list devices;
	struct bus pio, mmio;
	struct resources res;
	struct vm_clock clock;
	int irq_level[32];
	int irq_changes[32];
	enum vm_stop_reason stop_reason; /* the first request, as the VM keeps it */
	char stop_msg[64];                /* and its message ("" for none) */
	unsigned msi_count;               /* MSIs sent, and the last one */
	uint64_t msi_addr;
	uint32_t msi_data;
	int64_t clock_ns; /* the time devices see once fake_env_fake_clock() was called */
};

static int64_t fake_clock_now(void *ctx, clockid_t id)
{
	return ((struct fake_env *)ctx)->clock_ns;
}

/* Devices read f->clock_ns as both the wall clock and the monotonic clock from now on. */
static inline void fake_env_fake_clock(struct fake_env *f, int64_t ns)
{
	f->clock_ns = ns;
	f->clock = (struct vm_clock){ .now_ns = fake_clock_now, .ctx = f };
}

static void fake_irq_set(void *ctx, unsigned gsi, int level)
{
	struct fake_env *f = ctx;
	if (gsi < 32) {
		f->irq_level[gsi] = level;
		f->irq_changes[gsi]++;
	}
}

static void fake_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct fake_env *f = ctx;
	f->msi_count++;
	f->msi_addr = addr;
	f->msi_data = data;
}

static void fake_stop(void *ctx, enum vm_stop_reason reason, const char *msg)
{
	struct fake_env *f = ctx;
	if (f->stop_reason == VM_STOP_NONE) {
		f->stop_reason = reason;
		snprintf(f->stop_msg, sizeof(f->stop_msg), "%s", msg ? msg : "");
	}
}

static inline void fake_env_init(struct fake_env *f)
{
	memset(f, 0, sizeof(*f));
	f->pio.name = "pio";
	f->mmio.name = "mmio";
	device_list_init(&f->devices);
	resources_init(&f->res, 0xC0000000ULL, 0xFEC00000ULL, 16, 24, 24, 1024);
	f->svc = (struct dev_services){
		.devices = &f->devices, .pio = &f->pio, .mmio = &f->mmio, .clock = &f->clock,
		.res = &f->res, .stop = { .request = fake_stop, .ctx = f },
		.irq_set = fake_irq_set, .msi_send = fake_msi_send, .irq_ctx = f,
	};
}

static inline void fake_env_destroy(struct fake_env *f)
{
	device_list_destroy(&f->devices);
}

static inline uint64_t fake_in(struct fake_env *f, uint16_t port, unsigned len)
{
	uint8_t data[8] = { 0 };
	bus_dispatch(&f->pio, port, false, data, len);
	uint64_t v = 0;
	memcpy(&v, data, len);
	return v;
}

static inline void fake_out(struct fake_env *f, uint16_t port, unsigned len, uint64_t v)
{
	uint8_t data[8];
	memcpy(data, &v, sizeof(data));
	bus_dispatch(&f->pio, port, true, data, len);
}

static inline uint64_t fake_mmio_read(struct fake_env *f, uint64_t addr, unsigned len)
{
	uint8_t data[8] = { 0 };
	bus_dispatch(&f->mmio, addr, false, data, len);
	uint64_t v = 0;
	memcpy(&v, data, len);
	return v;
}

static inline void fake_mmio_write(struct fake_env *f, uint64_t addr, unsigned len, uint64_t v)
{
	uint8_t data[8];
	memcpy(data, &v, sizeof(data));
	bus_dispatch(&f->mmio, addr, true, data, len);
}

#endif
