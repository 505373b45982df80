/* The virtio-pci transport, modern interface only (virtio 1.x): a function on the PCI host's
 * bus 0 (vendor 0x1AF4, device 0x1040 + type), one 32-bit memory BAR pre-assigned from the
 * MMIO hole holding the common, ISR, device and notify structures and the MSI-X table and PBA.
 * Interrupts are MSI-X only (one vector per queue plus one for configuration changes);
 * notifications reach the device through an ioeventfd on the event loop where the backend
 * offers one, otherwise as MMIO writes on the vCPU thread. */
#ifndef HARDY_DEVICES_VIRTIO_PCI_H
#define HARDY_DEVICES_VIRTIO_PCI_H

#include "devices/virtio/virtio.h"

struct pci_host;

/* Creates the transport around a device: ops and priv (owned from then on: ops->destroy frees
 * it, also when this fails), config_size bytes of the device's config space copied from
 * config. Returns the core's view of the device, or NULL with err set. */
struct virtio_dev *virtio_pci_create(const struct dev_services *svc, struct pci_host *host,
				     const struct virtio_dev_ops *ops, void *priv,
				     const void *config, unsigned config_size, struct error *err);

#endif
