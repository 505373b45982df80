/* The virtio core: what a driver may negotiate and in which order, checked once here. */
#include "devices/virtio/virtio.h"

#include <stdlib.h>

uint64_t virtio_offered_features(const struct virtio_dev *v)
{
	return v->ops->features | (1ULL << VIRTIO_F_VERSION_1) |
	       (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
}

bool virtio_has_feature(const struct virtio_dev *v, unsigned bit)
{
	return bit < 64 && (v->driver_features >> bit) & 1;
}

void virtio_reset(struct virtio_dev *v)
{
	v->driver_features = 0;
	v->status = 0;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&v->vq[i]);
	if (v->ops->reset)
		v->ops->reset(v);
}

void virtio_write_driver_features(struct virtio_dev *v, unsigned select, uint32_t value)
{
	/* Features are fixed once FEATURES_OK was accepted. */
	if (select > 1 || (v->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	unsigned shift = 32 * select;
	v->driver_features = (v->driver_features & ~(0xFFFFFFFFULL << shift)) |
			     ((uint64_t)value << shift);
}

static bool virtio_features_acceptable(const struct virtio_dev *v)
{
	return !(v->driver_features & ~virtio_offered_features(v)) &&
	       virtio_has_feature(v, VIRTIO_F_VERSION_1); /* modern drivers only */
}

void virtio_write_status(struct virtio_dev *v, uint8_t status)
{
	if (status == 0) {
		virtio_reset(v);
		return;
	}
	/* Bits are only ever added (0 is the way back); NEEDS_RESET is the device's to set. */
	uint8_t add = (uint8_t)(status & ~v->status & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((add & VIRTIO_CONFIG_S_FEATURES_OK) && !virtio_features_acceptable(v))
		add &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK; /* the driver reads it back and fails */
	if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && !(v->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(add & VIRTIO_CONFIG_S_FEATURES_OK))
		add &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	v->status |= add;
}

void virtio_enable_queue(struct virtio_dev *v, unsigned q)
{
	if (q >= v->ops->nr_queues || !(v->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (v->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return; /* the spec allows enabling only between FEATURES_OK and DRIVER_OK */
	struct virtq *vq = &v->vq[q];
	vq->enabled = true;
	vq->event_idx = virtio_has_feature(v, VIRTIO_RING_F_EVENT_IDX); /* offered by some devices */
	if (vq_activate(vq, v->mem, virtio_has_feature(v, VIRTIO_RING_F_INDIRECT_DESC)) < 0)
		virtio_needs_reset(v);
}

void virtio_notify(struct virtio_dev *v, unsigned q)
{
	if (q >= v->ops->nr_queues || !(v->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (v->status & VIRTIO_CONFIG_S_NEEDS_RESET) || !v->vq[q].active)
		return;
	v->ops->queue_notify(v, q);
}

void virtio_needs_reset(struct virtio_dev *v)
{
	if (v->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	v->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	v->config_generation++;
	if (v->status & VIRTIO_CONFIG_S_DRIVER_OK)
		v->transport->signal_config(v);
}

void virtio_push_used(struct virtio_dev *v, unsigned q, uint16_t head, uint32_t written)
{
	vq_push(&v->vq[q], head, written);
}

void virtio_signal_used(struct virtio_dev *v, unsigned q)
{
	if (vq_wants_interrupt(&v->vq[q]))
		v->transport->signal_queue(v, q);
}

void virtio_complete(struct virtio_dev *v, unsigned q, uint16_t head, uint32_t written)
{
	virtio_push_used(v, q, head, written);
	virtio_signal_used(v, q);
}

void virtio_complete_many(struct virtio_dev *v, unsigned q, const struct vring_used_elem *elems,
			  unsigned n)
{
	vq_push_many(&v->vq[q], elems, n);
	virtio_signal_used(v, q);
}
