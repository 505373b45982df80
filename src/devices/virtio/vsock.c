/* virtio-vsock (virtio 1.x device type 19): queues rx (0), tx (1) and event (2); the config
 * space holds the guest's 64-bit CID. This file is the virtqueue side: each TX chain is one
 * packet (header, then hdr.len bytes of payload, all readable) and each RX chain a writable
 * buffer for one packet. The chain's shape is checked here: a chain shorter than the header,
 * or one whose header claims more payload than it carries, breaks the queue (NEEDS_RESET);
 * the packet itself is then the protocol engine's to judge (vsock_proto.c: bad ones get RST).
 * RX buffers are taken only when the engine owes the guest a packet. Everything runs under
 * the device lock: queue notifications (event loop or vCPU thread) and the backend's events
 * (event loop), all non-blocking. */
#include "devices/virtio/vsock.h"

#include <endian.h>
#include <stdlib.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>

#include "devices/virtio/pci.h"
#include "devices/virtio/vsock_proto.h"

enum { VSOCK_Q_RX, VSOCK_Q_TX, VSOCK_Q_EVENT, VSOCK_NR_QUEUES };

struct virtio_vsock {
	struct virtio_dev *v;
	struct vsock_engine *engine;
	struct vsock_host *host;
	bool started;
	struct vq_chain chain;
	uint8_t pkt[VSOCK_HDR_SIZE + VSOCK_MAX_PAYLOAD];
};

static bool vsock_live(const struct virtio_dev *v)
{
	return (v->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(v->status & VIRTIO_CONFIG_S_NEEDS_RESET) && v->vq[VSOCK_Q_RX].active &&
	       v->vq[VSOCK_Q_TX].active;
}

/* Gives the guest what it is owed, while it has RX buffers. */
static void vsock_rx_kick(struct virtio_vsock *vs)
{
	struct virtio_dev *v = vs->v;
	vsock_engine_set_live(vs->engine, vsock_live(v));
	if (!vsock_live(v))
		return;
	while (vsock_engine_pending(vs->engine)) {
		int r = vq_pop(&v->vq[VSOCK_Q_RX], v->mem, &vs->chain);
		if (r == 0)
			return; /* the driver refills and notifies */
		if (r < 0 || vs->chain.in_len < VSOCK_HDR_SIZE) {
			virtio_needs_reset(v);
			return;
		}
		uint64_t cap = vs->chain.in_len < sizeof(vs->pkt) ? vs->chain.in_len : sizeof(vs->pkt);
		size_t n = vsock_engine_to_guest(vs->engine, vs->pkt, (size_t)cap);
		vq_chain_write(&vs->chain, 0, vs->pkt, (uint32_t)n);
		virtio_complete(v, VSOCK_Q_RX, vs->chain.head, (uint32_t)n);
	}
}

static void vsock_tx(struct virtio_vsock *vs)
{
	struct virtio_dev *v = vs->v;
	int r;
	while ((r = vq_pop(&v->vq[VSOCK_Q_TX], v->mem, &vs->chain)) > 0) {
		struct virtio_vsock_hdr h;
		const struct vq_chain *c = &vs->chain;
		if (c->out_len < sizeof(h)) {
			r = -1;
			break;
		}
		vq_chain_read(c, 0, &h, sizeof(h));
		uint32_t len = le32toh(h.len);
		if (len > c->out_len - sizeof(h)) {
			r = -1; /* the header claims bytes the chain does not carry */
			break;
		}
		if (len <= VSOCK_MAX_PAYLOAD)
			vq_chain_read(c, sizeof(h), vs->pkt, len);
		vsock_engine_from_guest(vs->engine, &h, vs->pkt);
		virtio_complete(v, VSOCK_Q_TX, c->head, 0);
		/* Answers go out as they arise, so a burst of refusals does not overflow the
		 * engine's RST backlog. */
		vsock_rx_kick(vs);
		if (v->status & VIRTIO_CONFIG_S_NEEDS_RESET)
			return;
	}
	if (r < 0)
		virtio_needs_reset(v);
}

static void vsock_queue_notify(struct virtio_dev *v, unsigned q)
{
	struct virtio_vsock *vs = v->priv;
	vsock_engine_set_live(vs->engine, vsock_live(v));
	if (q == VSOCK_Q_TX)
		vsock_tx(vs);
	/* The event queue's buffers are kept: hardy never resets the transport under a guest. */
	vsock_rx_kick(vs);
}

static void vsock_reset(struct virtio_dev *v)
{
	struct virtio_vsock *vs = v->priv;
	vsock_engine_set_live(vs->engine, false);
	vsock_engine_reset(vs->engine);
}

static void vsock_destroy(struct virtio_dev *v)
{
	struct virtio_vsock *vs = v->priv;
	vsock_engine_destroy(vs->engine); /* closes every stream */
	if (vs->started)
		vs->host->ops->stop(vs->host);
	free(vs);
}

/* The backend's events arrive with the device lock held. */
static void *vsock_on_incoming(void *ctx, struct vsock_stream *s, uint32_t guest_port)
{
	struct virtio_vsock *vs = ctx;
	vsock_engine_set_live(vs->engine, vsock_live(vs->v));
	void *conn = vsock_engine_incoming(vs->engine, s, guest_port);
	vsock_rx_kick(vs);
	return conn;
}

static void vsock_on_ready(void *ctx, void *conn, uint32_t events)
{
	struct virtio_vsock *vs = ctx;
	vsock_engine_ready(vs->engine, conn, events);
	vsock_rx_kick(vs);
}

static const struct vsock_host_events vsock_events = {
	.incoming = vsock_on_incoming,
	.ready = vsock_on_ready,
};

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.type = VIRTIO_ID_VSOCK,
	.nr_queues = VSOCK_NR_QUEUES,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
};

struct virtio_dev *virtio_vsock_create(const struct dev_services *svc, struct pci_host *host,
				       uint64_t guest_cid, struct vsock_host *backend,
				       struct error *err)
{
	struct virtio_vsock *vs = calloc(1, sizeof(*vs));
	if (!vs || !(vs->engine = vsock_engine_create(guest_cid, backend))) {
		free(vs);
		error_errno(err, "out of memory for virtio-vsock");
		return NULL;
	}
	vs->host = backend;
	struct virtio_vsock_config cfg = { .guest_cid = htole64(guest_cid) };
	struct virtio_dev *v = virtio_pci_create(svc, host, &vsock_ops, vs, &cfg, sizeof(cfg), err);
	if (!v)
		return NULL;
	vs->v = v;
	if (backend->ops->start(backend, svc->loop, &v->dev.lock, &vsock_events, vs, err) < 0)
		return NULL; /* the device is in the list: destroying the list frees it */
	vs->started = true;
	return v;
}
