/* The machine's devices, created in the order they are wired and destroyed in reverse. The
 * device fuzzer (tests/fuzz/) builds its machine through this same function, so a device
 * added here is fuzzed without further work. */
#include "arch/x86/layout.h"
#include "devices/devices.h"
#include "vm/vm.h"

int vm_devices_create(struct vm *vm, struct error *err)
{
	vm->serial = serial_create(vm, X86_COM1_PORT, X86_COM1_IRQ, vm->console, err);
	if (!vm->serial)
		return -1;
	vm->i8042 = i8042_create(vm, err);
	if (!vm->i8042)
		return -1;
	vm->rtc = rtc_create(vm, err);
	if (!vm->rtc)
		return -1;
	vm->acpi_pm = acpi_pm_create(vm, err);
	if (!vm->acpi_pm)
		return -1;
	vm->pci_host = pci_host_create(vm, err);
	return vm->pci_host ? 0 : -1;
}

void vm_devices_destroy(struct vm *vm)
{
	pci_host_destroy(vm->pci_host);
	acpi_pm_destroy(vm->acpi_pm);
	rtc_destroy(vm->rtc);
	i8042_destroy(vm->i8042);
	serial_destroy(vm->serial);
	vm->pci_host = NULL;
	vm->acpi_pm = NULL;
	vm->rtc = NULL;
	vm->i8042 = NULL;
	vm->serial = NULL;
}
