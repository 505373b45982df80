/* The TAP backend: an existing host TAP interface through /dev/net/tun, opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte vnet header (struct virtio_net_hdr_v1),
 * so the guest's checksum and segmentation offloads reach the host kernel as they are and
 * the host's (TUNSETOFFLOAD, as the guest negotiated them) reach the guest. Non-blocking;
 * the descriptor is read on the event loop, one frame at a time, while the device has room. */
#include "backends/net.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "core/event_loop.h"

#define TAP_BATCH 64 /* frames per wake-up, so one busy NIC does not starve the loop */

struct net_tap {
	struct net_backend b;
	int fd;
	struct event_loop *loop;
	struct net_rx_port port;
	bool paused;      /* the device was full: not watching fd until rx_resume */
	size_t held_len;  /* a frame read but not yet taken (buf holds it) */
	uint8_t buf[sizeof(struct virtio_net_hdr_v1) + NET_FRAME_MAX];
};

static bool tap_offer_held(struct net_tap *t)
{
	if (!t->held_len)
		return true;
	if (t->port.deliver(t->port.ctx, t->buf, t->held_len) == NET_RX_FULL)
		return false;
	t->held_len = 0;
	return true;
}

static void tap_pause(struct net_tap *t, bool pause)
{
	if (t->paused == pause)
		return;
	t->paused = pause;
	event_loop_modify(t->loop, t->fd, pause ? 0 : EPOLLIN);
}

static void tap_on_readable(void *ctx, uint32_t events)
{
	struct net_tap *t = ctx;
	for (unsigned n = 0; n < TAP_BATCH; n++) {
		if (!tap_offer_held(t)) {
			tap_pause(t, true);
			return;
		}
		ssize_t r = read(t->fd, t->buf, sizeof(t->buf));
		if (r < 0)
			return; /* EAGAIN: drained; anything else: try again at the next wake-up */
		if ((size_t)r <= sizeof(struct virtio_net_hdr_v1)) {
			t->b.rx_dropped++;
			continue;
		}
		t->held_len = (size_t)r;
	}
	if (!tap_offer_held(t))
		tap_pause(t, true);
}

static int tap_start(struct net_backend *b, struct event_loop *loop, struct net_rx_port port,
		     struct error *err)
{
	struct net_tap *t = (struct net_tap *)b;
	t->loop = loop;
	t->port = port;
	return event_loop_add(loop, t->fd, EPOLLIN, tap_on_readable, t, err);
}

static int tap_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	struct net_tap *t = (struct net_tap *)b;
	/* The kernel checks the vnet header itself (a bad one is EINVAL); EAGAIN: queue full. */
	ssize_t w = write(t->fd, frame, len);
	if (w < 0 || (size_t)w != len) {
		b->tx_dropped++;
		return -1;
	}
	return 0;
}

static void tap_rx_resume(struct net_backend *b)
{
	struct net_tap *t = (struct net_tap *)b;
	if (t->paused && tap_offer_held(t))
		tap_pause(t, false);
}

static int tap_set_offload(struct net_backend *b, unsigned tun_flags)
{
	return ioctl(((struct net_tap *)b)->fd, TUNSETOFFLOAD, (unsigned long)tun_flags);
}

static void tap_close(struct net_backend *b)
{
	struct net_tap *t = (struct net_tap *)b;
	if (t->loop)
		event_loop_remove(t->loop, t->fd);
	close(t->fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.start = tap_start, .send = tap_send, .rx_resume = tap_rx_resume,
	.set_offload = tap_set_offload, .close = tap_close,
};

struct net_backend *net_tap_open(const char *ifname, struct error *err)
{
	/* TUNSETIFF would create a missing interface (with privileges): refuse instead, a
	 * typo should not make a new interface nobody configured. */
	if (if_nametoindex(ifname) == 0) {
		error_set(err, ERR_INPUT, "--net tap=%s: no such network interface (create it first, "
			  "e.g. ip tuntap add %s mode tap)", ifname, ifname);
		return NULL;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, ERR_INPUT, "--net tap=%s: cannot open /dev/net/tun: %s", ifname,
			  strerror(errno));
		return NULL;
	}
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
	int hdr = sizeof(struct virtio_net_hdr_v1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		const char *why = errno == EINVAL ? "not a TAP interface"
				  : errno == EBUSY ? "in use by another program"
				  : errno == EPERM ? "not permitted (needs CAP_NET_ADMIN, or a TAP "
						     "interface owned by this user)"
				  : strerror(errno);
		error_set(err, ERR_INPUT, "--net tap=%s: %s", ifname, why);
		close(fd);
		return NULL;
	}
	/* No offloads until the guest negotiates them: frames arrive whole and checksummed. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		error_set(err, ERR_INPUT, "--net tap=%s: the TAP interface refuses a vnet header: %s",
			  ifname, strerror(errno));
		close(fd);
		return NULL;
	}
	struct net_tap *t = calloc(1, sizeof(*t));
	if (!t) {
		error_errno(err, "out of memory for the TAP backend");
		close(fd);
		return NULL;
	}
	t->b = (struct net_backend){ .ops = &tap_ops, .vnet_hdr = true };
	t->fd = fd;
	return &t->b;
}
