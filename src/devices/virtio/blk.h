/* virtio-blk: a disk image (backends/disk.h) as /dev/vdX, with its ID for GET_ID. */
#ifndef HARDY_DEVICES_VIRTIO_BLK_H
#define HARDY_DEVICES_VIRTIO_BLK_H

#include "backends/disk.h"
#include "devices/virtio/virtio.h"

struct pci_host;

/* The disk stays the caller's; id may be NULL (GET_ID then answers an empty string). */
struct virtio_dev *virtio_blk_create(const struct dev_services *svc, struct pci_host *host,
				     struct disk *disk, const char *id, struct error *err);

#endif
