/* The transport-independent virtio core (virtio 1.x): feature negotiation, the device status
 * state machine, the device configuration space, and the device's virtqueues.
 *
 * Layers: a device file (rng.c, blk.c) fills struct virtio_dev_ops and never sees the
 * transport; the transport (pci.c) owns the register file and the interrupts and calls the
 * core for every guest write that means something to virtio; the core checks each such value
 * once. All under the device's lock (struct device), from vCPU threads (register accesses) or
 * the event loop's thread (queue notifications). */
#ifndef HARDY_DEVICES_VIRTIO_VIRTIO_H
#define HARDY_DEVICES_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_config.h>

#include "devices/device.h"
#include "devices/virtio/queue.h"

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_CONFIG_MAX 256

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;
	uint16_t type;        /* VIRTIO_ID_* */
	unsigned nr_queues;   /* at most VIRTIO_MAX_QUEUES */
	uint64_t features;    /* device-specific bits; the core adds VERSION_1 and INDIRECT_DESC */
	/* The driver made buffers available on queue q (DRIVER_OK set, queue active). */
	void (*queue_notify)(struct virtio_dev *v, unsigned q);
	/* The driver reset the device; the core has reset its own state. Optional. */
	void (*reset)(struct virtio_dev *v);
	/* A byte of the config space written (most are read-only). Optional. */
	void (*config_write)(struct virtio_dev *v, unsigned offset, uint8_t value);
	void (*destroy)(struct virtio_dev *v); /* frees priv. Optional */
};

/* What the transport does for the core. */
struct virtio_transport_ops {
	void (*signal_queue)(struct virtio_dev *v, unsigned q); /* used buffers on q */
	void (*signal_config)(struct virtio_dev *v);            /* config or status changed */
};

struct virtio_dev {
	struct device dev; /* first: the transport allocates it with device_new() */
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *transport;
	const struct guest_mem *mem;
	void *priv;        /* the device's own state */

	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	uint8_t config[VIRTIO_CONFIG_MAX]; /* filled by the device at create time */
	unsigned config_size;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

uint64_t virtio_offered_features(const struct virtio_dev *v);
bool virtio_has_feature(const struct virtio_dev *v, unsigned bit);

/* Driver writes, already decoded by the transport. */
void virtio_write_driver_features(struct virtio_dev *v, unsigned select, uint32_t value);
void virtio_write_status(struct virtio_dev *v, uint8_t status);
/* queue_enable written 1: checks the rings (vq_activate); a bad ring means NEEDS_RESET. */
void virtio_enable_queue(struct virtio_dev *v, unsigned q);
/* A notification for queue q (from the notify register or an ioeventfd). */
void virtio_notify(struct virtio_dev *v, unsigned q);

/* Device side: the queue broke a rule; status gets DEVICE_NEEDS_RESET and the driver is told. */
void virtio_needs_reset(struct virtio_dev *v);
/* Device side: a chain is used; interrupt when the driver wants one. */
void virtio_complete(struct virtio_dev *v, unsigned q, uint16_t head, uint32_t written);
/* The same in two steps, for a batch: push each used chain, then one interrupt (when the
 * driver wants one) for all of them. */
void virtio_push_used(struct virtio_dev *v, unsigned q, uint16_t head, uint32_t written);
void virtio_signal_used(struct virtio_dev *v, unsigned q);
/* Device side: n chains used at once (vq_push_many), one interrupt. */
void virtio_complete_many(struct virtio_dev *v, unsigned q, const struct vring_used_elem *elems,
			  unsigned n);

/* Back to the power-on state (status 0). */
void virtio_reset(struct virtio_dev *v);

#endif
