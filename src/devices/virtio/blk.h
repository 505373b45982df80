/* virtio-blk: a disk image (backends/disk.h) as /dev/vdX, with its ID for GET_ID. */
#ifndef HARDY_DEVICES_VIRTIO_BLK_H
#define HARDY_DEVICES_VIRTIO_BLK_H

#include "backends/disk.h"
#include "devices/virtio/virtio.h"

struct pci_host;

/* The disk stays the caller's; id may be NULL (GET_ID then answers an empty string).
 * nr_queues request queues (VIRTIO_BLK_F_MQ when more than one; clamped to 1..
 * VIRTIO_MAX_QUEUES): the machine gives one per vCPU, so the guest's blk-mq maps each CPU to
 * its own queue. */
struct virtio_dev *virtio_blk_create(const struct dev_services *svc, struct pci_host *host,
				     struct disk *disk, const char *id, unsigned nr_queues,
				     struct error *err);

#endif
