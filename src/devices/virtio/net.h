/* virtio-net: a NIC whose frames go to and come from a network backend (backends/net.h). */
#ifndef HARDY_DEVICES_VIRTIO_NET_H
#define HARDY_DEVICES_VIRTIO_NET_H

#include "backends/net.h"
#include "devices/virtio/virtio.h"

struct pci_host;

/* Frames counted by the device (loop thread). */
struct virtio_net_stats {
	uint64_t tx_frames, tx_dropped, rx_frames, rx_dropped;
};

/* The backend stays the caller's (it must outlive the device); the device starts it on
 * svc->loop, which it needs. */
struct virtio_dev *virtio_net_create(const struct dev_services *svc, struct pci_host *host,
				     struct net_backend *be, const uint8_t mac[6],
				     struct error *err);

const struct virtio_net_stats *virtio_net_stats(const struct virtio_dev *v);

#endif
