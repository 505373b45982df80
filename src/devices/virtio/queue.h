/* Split virtqueues (virtio 1.x) and the ONE descriptor walker.
 *
 * Contract: everything a driver puts in a queue is hostile, and this file is the one place that
 * checks it. vq_activate() checks the ring addresses once (alignment, wholly inside guest RAM)
 * when the driver enables the queue or sets DRIVER_OK; vq_pop() turns the next available chain
 * into host buffers, each checked through gmem_ptr(), with the chain length bounded by the
 * table it walks (so a loop ends), at most VQ_MAX_SEGS buffers and VQ_MAX_CHAIN_BYTES in all,
 * readable buffers before writable ones, indirect tables only when negotiated and never nested,
 * and an avail index that claims more than the queue size refused. A chain that breaks any rule
 * marks the queue broken; the device then reports DEVICE_NEEDS_RESET. Callers never see a
 * guest address. One thread at a time per queue (the device's lock). */
#ifndef HARDY_DEVICES_VIRTIO_QUEUE_H
#define HARDY_DEVICES_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "core/guest_mem.h"

#define VQ_MAX_SIZE        256u        /* the queue size hardy offers */
#define VQ_MAX_SEGS        VQ_MAX_SIZE /* buffers in one chain, indirect ones included */
#define VQ_MAX_CHAIN_BYTES (64u << 20) /* readable plus writable bytes of one chain */

struct vq_buf {
	uint8_t *host;
	uint32_t len;
};

/* One chain: buf[0 .. nr_out) are readable (driver to device), buf[nr_out .. nr_out+nr_in)
 * writable (device to driver). */
struct vq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len;
	struct vq_buf buf[VQ_MAX_SEGS];
};

struct virtq {
	/* Set by the driver through the transport. */
	uint16_t size;
	bool enabled;
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* VIRTIO_RING_F_EVENT_IDX negotiated: set by the core before vq_activate(). The rings then
	 * carry used_event (after avail's ring) and avail_event (after used's ring). */
	bool event_idx;
	/* Set by vq_activate(). */
	bool active, broken, indirect;
	bool notify_off;          /* vq_set_notify(q, false) */
	bool signalled;           /* an interrupt was sent since activation ... */
	uint16_t signalled_used;  /* ... at this used index (EVENT_IDX) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail, used_idx;
};

/* Back to the state after a device reset (size VQ_MAX_SIZE, nothing enabled). */
void vq_reset(struct virtq *q);

/* Checks the rings (size a power of two up to VQ_MAX_SIZE; each ring aligned and inside RAM)
 * and starts using them. indirect: VIRTIO_RING_F_INDIRECT_DESC was negotiated. -1: refused
 * (the queue is broken). */
int vq_activate(struct virtq *q, const struct guest_mem *m, bool indirect);

/* The next available chain: 1 and *c filled, 0 when none is pending, -1 when the driver broke
 * a rule (the queue is broken from then on, nothing consumed). */
int vq_pop(struct virtq *q, const struct guest_mem *m, struct vq_chain *c);

/* Returns a chain to the driver: written bytes of its writable buffers. */
void vq_push(struct virtq *q, uint16_t head, uint32_t written);

/* Gives back the last n chains popped and not pushed: the next pops return them again (a
 * device that found too few buffers for a whole frame). */
void vq_unpop(struct virtq *q, unsigned n);

/* Returns n chains at once, published by one index update: a driver never sees part of a
 * set (virtio-net's merged receive buffers). elems[i].id: the head, .len: bytes written. */
void vq_push_many(struct virtq *q, const struct vring_used_elem *elems, unsigned n);

/* Asks the driver to notify (or not) when it adds buffers: VRING_USED_F_NO_NOTIFY, or with
 * EVENT_IDX avail_event, which vq_pop() keeps at the next index while notifications are on. A device
 * that turns notifications back on before it sleeps must then check vq_has_pending(): a
 * buffer added before the driver saw the flag was not notified. */
void vq_set_notify(struct virtq *q, bool enable);
/* Chains are available that vq_pop() has not taken yet (after a full barrier). */
bool vq_has_pending(const struct virtq *q);

/* Does the driver want an interrupt for the used buffers pushed since the last one
 * (VRING_AVAIL_F_NO_INTERRUPT clear; with EVENT_IDX, used_event passed)? A true answer
 * counts as the interrupt sent. */
bool vq_wants_interrupt(struct virtq *q);

/* Copies up to len bytes into the chain's writable buffers; returns bytes copied. */
uint32_t vq_chain_write(const struct vq_chain *c, uint64_t offset, const void *src, uint32_t len);
/* Copies up to len bytes from the chain's readable buffers; returns bytes copied. */
uint32_t vq_chain_read(const struct vq_chain *c, uint64_t offset, void *dst, uint32_t len);

#endif
