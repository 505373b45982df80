/* The machine's devices, created in the order they are wired (the device list destroys them in
 * reverse). Adding a device is one call here. */
#include "vm/machine.h"

#include "arch/x86/layout.h"
#include "backends/entropy.h"
#include "devices/devices.h"
#include "devices/x86/i8254.h"
#include "devices/x86/lapic.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/vsock.h"

void machine_resources_init(struct resources *r)
{
	resources_init(r, X86_MMIO_HOLE_BASE, X86_MMIO_HOLE_END, X86_DEVICE_GSI_FIRST,
		       X86_IOAPIC_PINS, X86_MSI_GSI_FIRST, X86_MSI_GSI_END);
}

int machine_build(const struct dev_services *svc, const struct vm_config *cfg,
		  const struct accel_caps *caps, struct irq_router *irq,
		  struct console *con, struct disk *const *disks, struct net_backend *const *nets,
		  struct vsock_host *vsock,
		  struct machine *m, struct error *err)
{
	/* Interrupt controllers first: every other device's lines lead there. */
	m->irqchip = NULL;
	m->pit = NULL;
	m->apic = NULL;
	if (!caps->irqchip &&
	    (!(m->irqchip = x86_irqchip_create(svc, cfg->ncpus, irq, err)) ||
	     !(m->apic = apic_bus_create(svc, cfg->ncpus, err)) ||
	     !(m->pit = i8254_create(svc, device_irq_fixed(svc, I8254_IRQ), err))))
		return -1;
	if (m->apic)
		apic_bus_connect_irqchip(m->apic, m->irqchip);
	if (!serial_create(svc, X86_COM1_PORT, X86_COM1_IRQ, con, err) ||
	    !i8042_create(svc, err) ||
	    !rtc_create(svc, err))
		return -1;
	if (cfg->debug_exit && !debug_exit_create(svc, err))
		return -1;
	struct acpi_pm *pm = acpi_pm_create(svc, err);
	if (!pm)
		return -1;
	m->power_button = acpi_pm_press_power_button;
	m->power_button_ctx = pm;
	struct pci_host *pci = pci_host_create(svc, err);
	if (!pci)
		return -1;
	/* virtio devices, on the PCI host's bus 0 */
	if (cfg->rng && !virtio_rng_create(svc, pci, entropy_host(), err))
		return -1;
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		if (!virtio_blk_create(svc, pci, disks[i], cfg->disks[i].id, cfg->ncpus, err))
			return -1;
	for (unsigned i = 0; i < cfg->nr_nets; i++)
		if (!virtio_net_create(svc, pci, nets[i], cfg->nets[i].mac, err))
			return -1;
	if (cfg->vsock.enabled && vsock &&
	    !virtio_vsock_create(svc, pci, cfg->vsock.cid, vsock, err))
		return -1;
	return 0;
}
