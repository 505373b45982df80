/* virtio-vsock: the guest's AF_VSOCK sockets joined to host streams (backends/vsock_host.h). */
#ifndef HARDY_DEVICES_VIRTIO_VSOCK_H
#define HARDY_DEVICES_VIRTIO_VSOCK_H

#include "backends/vsock_host.h"
#include "devices/virtio/virtio.h"

struct pci_host;

/* guest_cid >= 3 (checked by the CLI). The host backend stays the caller's; the device starts
 * it here and stops it when destroyed. */
struct virtio_dev *virtio_vsock_create(const struct dev_services *svc, struct pci_host *host,
				       uint64_t guest_cid, struct vsock_host *backend,
				       struct error *err);

#endif
