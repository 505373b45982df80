/* Network backends behind a small interface, so virtio-net is tested with a fake and each
 * backend alone: net_tap.c (a host TAP interface, with the vnet header and offloads) and
 * net_slirp.c (a user-mode network from libslirp).
 *
 * Contract: *_open() runs in vm_run() before KVM is opened, so a bad value (a missing TAP
 * interface, a forwarded port already taken) is status 2 with one line. start() hands the
 * backend the event loop and the device's receive port; from then on every call, both ways,
 * happens on the event loop's thread, never under the device's lock (the device defers
 * notifications from vCPU threads to the loop), and nothing blocks: a frame the host cannot
 * take now is dropped and counted. Receiving has back-pressure instead: when the device has
 * no room (deliver returns NET_RX_FULL) the backend keeps that frame, stops reading its host
 * side, and offers the frame again at rx_resume(), which the device calls when the guest adds
 * receive buffers. */
#ifndef HARDY_BACKENDS_NET_H
#define HARDY_BACKENDS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "util/error.h"

struct event_loop;
struct net_backend;

enum net_rx_result { NET_RX_TAKEN, NET_RX_FULL };

/* Where received frames go (the device's side). */
struct net_rx_port {
	/* One frame, preceded by a struct virtio_net_hdr_v1 when the backend has vnet_hdr.
	 * TAKEN: delivered or dropped for good; FULL: no room now, offer it again later. */
	enum net_rx_result (*deliver)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
};

struct net_backend_ops {
	/* Registers the backend's descriptors on the loop; frames go to port from now on. */
	int (*start)(struct net_backend *b, struct event_loop *loop, struct net_rx_port port,
		     struct error *err);
	/* One frame to the host side (with the vnet header first when vnet_hdr); never blocks.
	 * -1: dropped. */
	int (*send)(struct net_backend *b, const uint8_t *frame, size_t len);
	/* The device has room again: offer the kept frame, read the host side again. */
	void (*rx_resume)(struct net_backend *b);
	/* vnet_hdr backends: the offloads (TUN_F_* bits) the guest accepts in received frames. */
	int (*set_offload)(struct net_backend *b, unsigned tun_flags);
	void (*close)(struct net_backend *b);
};

struct net_backend {
	const struct net_backend_ops *ops;
	/* Frames carry a 12-byte struct virtio_net_hdr_v1 both ways, so checksum and
	 * segmentation offloads pass through (TAP with IFF_VNET_HDR). */
	bool vnet_hdr;
	uint64_t tx_dropped, rx_dropped; /* frames the host side could not take, or lost */
};

/* Largest frame either way, Ethernet header included (64 KiB of GSO payload plus headers). */
#define NET_FRAME_MAX (65536u + 14u + 4u)

/* Opens /dev/net/tun on the existing TAP interface ifname (IFF_TAP, IFF_NO_PI, IFF_VNET_HDR,
 * non-blocking); a missing interface, one that is not TAP, busy or not permitted: status 2. */
struct net_backend *net_tap_open(const char *ifname, struct error *err);

/* A libslirp network 10.0.2.0/24 (host 10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15) with the
 * configuration's port forwards (a port that cannot be bound: status 2). */
struct net_backend *net_slirp_open(const struct vm_net_config *cfg, struct error *err);

static inline struct net_backend *net_backend_open(const struct vm_net_config *cfg,
						   struct error *err)
{
	return cfg->kind == NET_TAP ? net_tap_open(cfg->ifname, err) : net_slirp_open(cfg, err);
}

static inline void net_backend_close(struct net_backend *b)
{
	if (b)
		b->ops->close(b);
}

#endif
