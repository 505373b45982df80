/* i8042 keyboard controller, reduced to the part a guest uses without a keyboard: command 0xFE
 * on port 0x64 pulses the CPU reset line, which is how Linux's reboot=k (and its fallback) works.
 * No PS/2 devices exist; the FADT says so, so Linux does not probe for them. */
#include <stdlib.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"

#define I8042_CMD_RESET 0xFE

struct i8042 {
	struct device dev;
	struct vm_stopper stop;
};

static uint64_t i8042_read(void *dev, uint64_t off, unsigned len)
{
	return 0; /* status: output buffer empty, input buffer empty; data: nothing */
}

static void i8042_cmd_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct i8042 *k = dev;
	if ((value & 0xFF) == I8042_CMD_RESET)
		vm_stopper_request(&k->stop, VM_STOP_REBOOT, NULL);
}

static const struct bus_ops i8042_data_ops = { .read = i8042_read };
static const struct bus_ops i8042_cmd_ops = { .read = i8042_read, .write = i8042_cmd_write };

static const struct device_ops i8042_device_ops = { .name = "i8042" };

struct i8042 *i8042_create(const struct dev_services *svc, struct error *err)
{
	struct i8042 *k = device_new(svc, sizeof(*k), &i8042_device_ops, err);
	if (!k)
		return NULL;
	k->stop = svc->stop;
	/* Two one-byte ranges: port 0x61 between them is KVM's PIT speaker port. */
	if (bus_register(svc->pio, X86_I8042_DATA, 1, &i8042_data_ops, k, "i8042-data", err) < 0 ||
	    bus_register(svc->pio, X86_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042-cmd", err) < 0)
		return NULL;
	return k;
}
