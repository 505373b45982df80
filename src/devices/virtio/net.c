/* virtio-net (device type 1): receive queue 0, transmit queue 1, no control queue. Config
 * space: the MAC and the link status (always up). Every frame either way is preceded by the
 * 12-byte struct virtio_net_hdr_v1. Offered: MAC, STATUS and MRG_RXBUF (a received frame may
 * span several receive chains; num_buffers says how many); with a backend that carries the
 * vnet header (TAP), also the checksum and TSO offloads both ways, passed through as they are
 * (the guest's GUEST_* choices become the backend's offloads).
 *
 * Threads: notifications (an ioeventfd on the loop, or an MMIO write on a vCPU thread) only
 * note the queue and poke the device's own eventfd; the work runs on the event loop's thread,
 * where the backend lives. The device lock is held while chains are popped, copied and
 * completed, never while the backend runs (slirp answers some frames at once, which re-enters
 * the receive path). Checked here: a transmit chain holds at least the header and no writable
 * buffer, a receive chain no readable buffer and room for the header (otherwise the queue is
 * broken: NEEDS_RESET); header flags and GSO types the driver did not negotiate, frames too
 * large or too short are dropped and counted. */
#include "devices/virtio/net.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "core/event_loop.h"
#include "devices/virtio/pci.h"

#define NET_RXQ 0u
#define NET_TXQ 1u
#define NET_HDR sizeof(struct virtio_net_hdr_v1)
#define NET_ETH_HLEN 14u
#define NET_TX_BATCH 256u /* chains per turn of the loop */

struct virtio_net {
	struct virtio_dev *v;
	struct net_backend *be;
	struct event_loop *loop;
	int kick_fd;
	unsigned pending;      /* queues notified since the last turn (under the device lock) */
	unsigned offload_set;  /* TUN_F_* bits the backend has; loop thread only */
	struct vq_chain chain; /* the chain being read or filled */
	struct vq_chain first; /* a received frame's first chain (its header is finished last) */
	struct vring_used_elem used[VQ_MAX_SIZE];
	uint8_t tx_buf[NET_HDR + NET_FRAME_MAX];
	struct virtio_net_stats stats;
};

static bool net_live(const struct virtio_dev *v, unsigned q)
{
	return (v->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(v->status & VIRTIO_CONFIG_S_NEEDS_RESET) && v->vq[q].active;
}

static void net_kick(struct virtio_net *n)
{
	uint64_t one = 1;
	if (write(n->kick_fd, &one, sizeof(one)) < 0) {
		/* Only a full counter fails, and then a wake-up is already pending. */
	}
}

/* Under the device lock, any thread: the loop does the work. */
static void net_queue_notify(struct virtio_dev *v, unsigned q)
{
	struct virtio_net *n = v->priv;
	n->pending |= 1u << q;
	net_kick(n);
}

static void net_reset(struct virtio_dev *v)
{
	((struct virtio_net *)v->priv)->pending = 0;
}

/* The receive offloads the guest negotiated, as TUN_F_* bits (0 before DRIVER_OK). */
static unsigned net_wanted_offload(const struct virtio_dev *v)
{
	if (!(v->status & VIRTIO_CONFIG_S_DRIVER_OK) || !virtio_has_feature(v, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	unsigned f = TUN_F_CSUM;
	if (virtio_has_feature(v, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio_has_feature(v, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if (virtio_has_feature(v, VIRTIO_NET_F_GUEST_ECN) && (f & (TUN_F_TSO4 | TUN_F_TSO6)))
		f |= TUN_F_TSO_ECN;
	return f;
}

/* Does a header only use what was negotiated? csum/tso4/tso6/ecn: the feature bits for this
 * direction (the guest's HOST_* when it transmits, GUEST_* when it receives). */
static bool net_hdr_allowed(const struct virtio_dev *v, const struct virtio_net_hdr_v1 *h,
			    unsigned csum, unsigned tso4, unsigned tso6, unsigned ecn)
{
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !virtio_has_feature(v, csum))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_has_feature(v, ecn))
		return false;
	switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE: return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4: return virtio_has_feature(v, tso4);
	case VIRTIO_NET_HDR_GSO_TCPV6: return virtio_has_feature(v, tso6);
	default: return false;
	}
}

/* Pops, copies and completes one transmit chain under the lock; returns the frame's length
 * in tx_buf (header included), 0 for none (or dropped), -1 when the queue is done. */
static long net_tx_pop(struct virtio_net *n)
{
	struct virtio_dev *v = n->v;
	struct vq_chain *c = &n->chain;
	if (!net_live(v, NET_TXQ))
		return -1;
	int r = vq_pop(&v->vq[NET_TXQ], v->mem, c);
	if (r == 0)
		return -1;
	if (r < 0 || c->nr_in || c->out_len < NET_HDR) {
		virtio_needs_reset(v); /* a broken chain, or not a transmit request at all */
		return -1;
	}
	long len = 0;
	if (c->out_len <= sizeof(n->tx_buf))
		len = vq_chain_read(c, 0, n->tx_buf, (uint32_t)c->out_len);
	virtio_complete(v, NET_TXQ, c->head, 0);
	struct virtio_net_hdr_v1 h;
	memcpy(&h, n->tx_buf, NET_HDR);
	if (len < (long)(NET_HDR + NET_ETH_HLEN) ||
	    !net_hdr_allowed(v, &h, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4,
			     VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN)) {
		n->stats.tx_dropped++;
		return 0;
	}
	return len;
}

static void net_tx(struct virtio_net *n)
{
	struct virtio_dev *v = n->v;
	for (unsigned done = 0; done < NET_TX_BATCH; done++) {
		pthread_mutex_lock(&v->dev.lock);
		long len = net_tx_pop(n);
		pthread_mutex_unlock(&v->dev.lock);
		if (len < 0)
			return;
		if (len == 0)
			continue;
		/* A backend without the vnet header gets the bare frame (its header is plain). */
		const uint8_t *frame = n->be->vnet_hdr ? n->tx_buf : n->tx_buf + NET_HDR;
		size_t flen = n->be->vnet_hdr ? (size_t)len : (size_t)len - NET_HDR;
		if (n->be->ops->send(n->be, frame, flen) < 0)
			n->stats.tx_dropped++;
		else
			n->stats.tx_frames++;
	}
	/* More may be waiting: come back after the loop has served the others. */
	pthread_mutex_lock(&v->dev.lock);
	n->pending |= 1u << NET_TXQ;
	pthread_mutex_unlock(&v->dev.lock);
	net_kick(n);
}

/* Copies header and frame into as many receive chains as it takes (one without MRG_RXBUF)
 * and completes them together. Under the device lock. */
static enum net_rx_result net_rx_fill(struct virtio_net *n, struct virtio_net_hdr_v1 *h,
				      const uint8_t *data, size_t len)
{
	struct virtio_dev *v = n->v;
	struct virtq *q = &v->vq[NET_RXQ];
	bool mrg = virtio_has_feature(v, VIRTIO_NET_F_MRG_RXBUF);
	size_t total = NET_HDR + len, off = 0;
	unsigned nbufs = 0;
	while (off < total) {
		struct vq_chain *c = nbufs ? &n->chain : &n->first;
		int r = vq_pop(q, v->mem, c);
		if (r == 0) {
			vq_unpop(q, nbufs);
			if (nbufs < q->size)
				return NET_RX_FULL; /* wait for the driver's next buffers */
			n->stats.rx_dropped++;  /* the whole ring cannot hold it */
			return NET_RX_TAKEN;
		}
		if (r < 0 || c->nr_out || c->in_len < NET_HDR) {
			virtio_needs_reset(v);
			return NET_RX_TAKEN;
		}
		uint32_t w = 0;
		if (nbufs == 0) {
			w = vq_chain_write(c, 0, h, NET_HDR);
			off = NET_HDR;
		}
		uint64_t room = c->in_len - w;
		uint32_t take = (uint32_t)(room < total - off ? room : total - off);
		w += vq_chain_write(c, w, data + (off - NET_HDR), take);
		off += take;
		n->used[nbufs++] = (struct vring_used_elem){ .id = c->head, .len = w };
		if (!mrg && off < total) {
			vq_unpop(q, nbufs); /* too small for the frame: keep it for a smaller one */
			n->stats.rx_dropped++;
			return NET_RX_TAKEN;
		}
	}
	/* The count goes in last, into the first chain's header. */
	uint16_t count = (uint16_t)nbufs;
	vq_chain_write(&n->first, offsetof(struct virtio_net_hdr_v1, num_buffers), &count,
		       sizeof(count));
	virtio_complete_many(v, NET_RXQ, n->used, nbufs);
	n->stats.rx_frames++;
	return NET_RX_TAKEN;
}

/* The backend's frames (loop thread, no lock held). */
static enum net_rx_result net_rx_deliver(void *ctx, const uint8_t *frame, size_t len)
{
	struct virtio_net *n = ctx;
	struct virtio_dev *v = n->v;
	struct virtio_net_hdr_v1 h = { 0 };
	if (n->be->vnet_hdr) {
		if (len < NET_HDR) {
			n->stats.rx_dropped++;
			return NET_RX_TAKEN;
		}
		memcpy(&h, frame, NET_HDR);
		frame += NET_HDR;
		len -= NET_HDR;
	}
	if (len < NET_ETH_HLEN || len > NET_FRAME_MAX) {
		n->stats.rx_dropped++;
		return NET_RX_TAKEN;
	}
	pthread_mutex_lock(&v->dev.lock);
	enum net_rx_result r = NET_RX_TAKEN;
	if (!net_live(v, NET_RXQ)) {
		n->stats.rx_dropped++; /* no driver: the wire is dead */
	} else if (!net_hdr_allowed(v, &h, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
				    VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN)) {
		n->stats.rx_dropped++; /* an offload the guest did not take (offloads changing) */
	} else {
		if (!virtio_has_feature(v, VIRTIO_NET_F_GUEST_CSUM))
			h.flags = 0;
		h.num_buffers = 0;
		r = net_rx_fill(n, &h, frame, len);
	}
	pthread_mutex_unlock(&v->dev.lock);
	return r;
}

/* A turn of the loop: offloads brought up to date, transmit chains sent, receiving resumed. */
static void net_on_kick(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;
	struct virtio_dev *v = n->v;
	uint64_t count;
	if (read(n->kick_fd, &count, sizeof(count)) < 0)
		return;
	pthread_mutex_lock(&v->dev.lock);
	unsigned pending = n->pending;
	n->pending = 0;
	unsigned offload = net_wanted_offload(v);
	pthread_mutex_unlock(&v->dev.lock);
	if (n->be->vnet_hdr && offload != n->offload_set && n->be->ops->set_offload &&
	    n->be->ops->set_offload(n->be, offload) == 0)
		n->offload_set = offload;
	if (pending & (1u << NET_TXQ))
		net_tx(n);
	if (pending & (1u << NET_RXQ))
		n->be->ops->rx_resume(n->be);
}

static void net_destroy(struct virtio_dev *v)
{
	struct virtio_net *n = v->priv;
	if (n->kick_fd >= 0) {
		if (n->loop)
			event_loop_remove(n->loop, n->kick_fd);
		close(n->kick_fd);
	}
	free(n);
}

#define NET_FEATURES_BASE ((1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) | \
			   (1ULL << VIRTIO_NET_F_MRG_RXBUF))
#define NET_FEATURES_OFFLOAD \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_HOST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_ECN))

static const struct virtio_dev_ops net_ops_plain = {
	.name = "virtio-net", .type = VIRTIO_ID_NET, .nr_queues = 2,
	.features = NET_FEATURES_BASE,
	.queue_notify = net_queue_notify, .reset = net_reset, .destroy = net_destroy,
};

static const struct virtio_dev_ops net_ops_offload = {
	.name = "virtio-net", .type = VIRTIO_ID_NET, .nr_queues = 2,
	.features = NET_FEATURES_BASE | NET_FEATURES_OFFLOAD,
	.queue_notify = net_queue_notify, .reset = net_reset, .destroy = net_destroy,
};

const struct virtio_net_stats *virtio_net_stats(const struct virtio_dev *v)
{
	return &((const struct virtio_net *)v->priv)->stats;
}

struct virtio_dev *virtio_net_create(const struct dev_services *svc, struct pci_host *host,
				     struct net_backend *be, const uint8_t mac[6],
				     struct error *err)
{
	if (!svc->loop) {
		error_set(err, ERR_RUNTIME, "virtio-net needs an event loop");
		return NULL;
	}
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		error_errno(err, "out of memory for virtio-net");
		return NULL;
	}
	n->be = be;
	n->loop = svc->loop;
	n->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->kick_fd < 0 ||
	    event_loop_add(svc->loop, n->kick_fd, EPOLLIN, net_on_kick, n, err) < 0) {
		if (n->kick_fd < 0)
			error_errno(err, "virtio-net: eventfd");
		else
			close(n->kick_fd);
		free(n);
		return NULL;
	}
	struct virtio_net_config cfg = { .status = VIRTIO_NET_S_LINK_UP, .max_virtqueue_pairs = 1 };
	memcpy(cfg.mac, mac, sizeof(cfg.mac));
	struct virtio_dev *v = virtio_pci_create(svc, host, be->vnet_hdr ? &net_ops_offload
									: &net_ops_plain,
						 n, &cfg, sizeof(cfg), err);
	if (!v)
		return NULL;
	n->v = v;
	struct net_rx_port port = { .deliver = net_rx_deliver, .ctx = n };
	if (be->ops->start(be, svc->loop, port, err) < 0)
		return NULL;
	return v;
}
