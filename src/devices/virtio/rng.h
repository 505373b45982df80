/* virtio-rng: entropy for the guest's /dev/hwrng, from an entropy source (backends/). */
#ifndef HARDY_DEVICES_VIRTIO_RNG_H
#define HARDY_DEVICES_VIRTIO_RNG_H

#include "backends/entropy.h"
#include "devices/virtio/virtio.h"

struct pci_host;

struct virtio_dev *virtio_rng_create(const struct dev_services *svc, struct pci_host *host,
				     struct entropy_source src, struct error *err);

#endif
