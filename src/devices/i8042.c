/* i8042 keyboard controller, reduced to the part a guest uses without a keyboard: command 0xFE
 * on port 0x64 pulses the CPU reset line, which is how Linux's reboot=k (and its fallback) works.
 * No PS/2 devices exist; the FADT says so, so Linux does not probe for them. */
#include <stdlib.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"
#include "vm/vm.h"

#define I8042_CMD_RESET 0xFE

struct i8042 {
	struct vm *vm;
};

static uint64_t i8042_read(void *dev, uint64_t off, unsigned len)
{
	return 0; /* status: output buffer empty, input buffer empty; data: nothing */
}

static void i8042_cmd_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct i8042 *k = dev;
	if ((value & 0xFF) == I8042_CMD_RESET)
		vm_request_stop(k->vm, VM_STOP_REBOOT, NULL);
}

static const struct bus_ops i8042_data_ops = { .read = i8042_read };
static const struct bus_ops i8042_cmd_ops = { .read = i8042_read, .write = i8042_cmd_write };

struct i8042 *i8042_create(struct vm *vm, struct error *err)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k) {
		error_errno(err, "out of memory");
		return NULL;
	}
	k->vm = vm;
	/* Two one-byte ranges: port 0x61 between them is KVM's PIT speaker port. */
	if (bus_register(&vm->pio_bus, X86_I8042_DATA, 1, &i8042_data_ops, k, "i8042-data", err) < 0 ||
	    bus_register(&vm->pio_bus, X86_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042-cmd", err) < 0) {
		free(k);
		return NULL;
	}
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	free(k);
}
