/* Unit test: virtio-net over virtio-pci against a fake network backend, on a real event loop,
 * driven like Linux's virtio_net: the MAC and link status in config space; transmitted frames
 * reach the backend without their header (plain backend) or with it (vnet-header backend),
 * whatever the buffer layout; received frames land behind a header with num_buffers, across
 * several chains with MRG_RXBUF and refused without room (the backend is told when room comes
 * back, and nothing is consumed meanwhile); the guest's receive offloads reach the backend; and
 * hostile chains (short headers, writable transmit buffers, readable receive buffers, offloads
 * never negotiated, runt frames) break the device or are dropped, never sent. */
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "check.h"
#include "core/event_loop.h"
#include "devices/devices.h"
#include "devices/virtio/net.h"
#include "virtio_driver.h"

#define HDR_LEN 12u
#define BUF_A 0x20000ULL
#define BUF_B 0x22000ULL
#define BUF_C 0x24000ULL
#define RXQ 0
#define TXQ 1

struct fake_net {
	struct net_backend b;
	struct net_rx_port port;
	bool started;
	unsigned sent, resumes, offload_calls;
	unsigned offload;
	size_t last_len;
	uint8_t last[4096];
};

static int fn_start(struct net_backend *b, struct event_loop *loop, struct net_rx_port port,
		    struct error *err)
{
	struct fake_net *f = (struct fake_net *)b;
	f->port = port;
	f->started = true;
	return 0;
}

static int fn_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	struct fake_net *f = (struct fake_net *)b;
	CHECK(len <= sizeof(f->last), "frame of %zu bytes", len);
	memcpy(f->last, frame, len);
	f->last_len = len;
	f->sent++;
	return 0;
}

static void fn_rx_resume(struct net_backend *b)
{
	((struct fake_net *)b)->resumes++;
}

static int fn_set_offload(struct net_backend *b, unsigned flags)
{
	struct fake_net *f = (struct fake_net *)b;
	f->offload = flags;
	f->offload_calls++;
	return 0;
}

static void fn_close(struct net_backend *b) {}

static const struct net_backend_ops fake_net_ops = {
	.start = fn_start, .send = fn_send, .rx_resume = fn_rx_resume,
	.set_offload = fn_set_offload, .close = fn_close,
};

static struct guest_mem mem;
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void run_loop(void *ctx)
{
	event_loop_poll(ctx);
}

struct bench {
	struct fake_env f;
	struct event_loop *loop;
	struct fake_net be;
	struct vdriver d;
	struct virtio_dev *v;
	uint32_t features;
};

/* The driver (again): reset, negotiate, both queues. */
static void bench_driver_init(struct bench *t, uint32_t want)
{
	t->features = vd_init_queues(&t->d, &t->f, &mem, 1, want, 2);
	t->d.poll = run_loop;
	t->d.poll_ctx = t->loop;
}

static void bench_up(struct bench *t, bool vnet_hdr, uint32_t want)
{
	struct error err = { 0 };
	fake_env_init(&t->f);
	t->f.svc.mem = &mem;
	t->loop = event_loop_create(&err);
	CHECK(t->loop, "%s", err.msg);
	t->f.svc.loop = t->loop;
	t->be = (struct fake_net){ .b = { .ops = &fake_net_ops, .vnet_hdr = vnet_hdr } };
	struct pci_host *host = pci_host_create(&t->f.svc, &err);
	CHECK(host, "%s", err.msg);
	t->v = virtio_net_create(&t->f.svc, host, &t->be.b, mac, &err);
	CHECK(t->v && t->be.started, "%s", err.msg);
	bench_driver_init(t, want);
}

static void bench_down(struct bench *t)
{
	fake_env_destroy(&t->f);
	event_loop_destroy(t->loop);
}

static bool needs_reset(struct bench *t)
{
	return vd_read(&t->d, VD_CC(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void put(uint64_t gpa, const void *p, size_t n)
{
	memcpy(gmem_ptr(&mem, gpa, n), p, n);
}

static void fill_frame(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

/* A transmit request: header, then the frame, split as the buffer lengths say. */
static long tx(struct bench *t, const struct virtio_net_hdr_v1 *h, const uint8_t *frame,
	       size_t flen, unsigned split)
{
	uint8_t buf[4096];
	memcpy(buf, h, HDR_LEN);
	memcpy(buf + HDR_LEN, frame, flen);
	put(BUF_A, buf, HDR_LEN + flen);
	uint64_t gpa[2] = { BUF_A, BUF_A + split };
	uint32_t len[2] = { split, (uint32_t)(HDR_LEN + flen - split) };
	bool w[2] = { false, false };
	return vd_submit_q(&t->d, TXQ, split < HDR_LEN + flen ? 2 : 1, gpa, len, w);
}

static void test_config_and_tx(void)
{
	struct bench t;
	bench_up(&t, false, ~0u);
	SECTION("config space: MAC, link up; features: MAC, STATUS, MRG_RXBUF, no offloads");
	for (unsigned i = 0; i < 6; i++)
		CHECK(fake_mmio_read(&t.f, t.d.device + i, 1) == mac[i], "mac byte %u", i);
	CHECK(fake_mmio_read(&t.f, t.d.device + offsetof(struct virtio_net_config, status), 2) ==
	      VIRTIO_NET_S_LINK_UP, "link status");
	CHECK((t.features & (1u << VIRTIO_NET_F_MAC)) && (t.features & (1u << VIRTIO_NET_F_STATUS)) &&
	      (t.features & (1u << VIRTIO_NET_F_MRG_RXBUF)), "features %#x", t.features);
	CHECK(!(t.features & ((1u << VIRTIO_NET_F_CSUM) | (1u << VIRTIO_NET_F_GUEST_CSUM) |
			      (1u << VIRTIO_NET_F_HOST_TSO4))),
	      "offloads offered without a vnet-header backend: %#x", t.features);

	SECTION("transmit: the bare frame reaches the backend, whatever the split");
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[300];
	fill_frame(frame, sizeof(frame), 1);
	unsigned splits[] = { HDR_LEN, 5, HDR_LEN + 100, HDR_LEN + sizeof(frame) };
	for (unsigned i = 0; i < 4; i++) {
		unsigned before = t.be.sent;
		CHECK(tx(&t, &h, frame, sizeof(frame), splits[i]) == 0, "used length (split %u)",
		      splits[i]);
		CHECK(t.be.sent == before + 1 && t.be.last_len == sizeof(frame) &&
		      !memcmp(t.be.last, frame, sizeof(frame)), "frame (split %u) sent wrong",
		      splits[i]);
	}

	SECTION("transmit: offloads never negotiated and runt frames are dropped, not sent");
	unsigned sent = t.be.sent;
	struct virtio_net_hdr_v1 gso = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1400 };
	CHECK(tx(&t, &gso, frame, sizeof(frame), HDR_LEN) == 0, "gso chain not used");
	struct virtio_net_hdr_v1 csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34 };
	CHECK(tx(&t, &csum, frame, sizeof(frame), HDR_LEN) == 0, "csum chain not used");
	struct virtio_net_hdr_v1 junk = { .flags = 0x80, .gso_type = 0x33 };
	CHECK(tx(&t, &junk, frame, sizeof(frame), HDR_LEN) == 0, "junk header chain not used");
	CHECK(tx(&t, &h, frame, 10, HDR_LEN) == 0, "runt chain not used");
	CHECK(t.be.sent == sent && virtio_net_stats(t.v)->tx_dropped == 4 && !needs_reset(&t),
	      "sent %u, dropped %llu", t.be.sent - sent,
	      (unsigned long long)virtio_net_stats(t.v)->tx_dropped);

	SECTION("transmit: a chain shorter than the header breaks the device");
	uint64_t gpa[2] = { BUF_A, BUF_B };
	uint32_t len[2] = { 8, 64 };
	bool w[2] = { false, false };
	CHECK(vd_submit_q(&t.d, TXQ, 1, gpa, len, w) == -1 && needs_reset(&t), "short header");
	CHECK(t.be.sent == sent, "a broken chain was sent");

	SECTION("transmit: a writable buffer in a transmit chain breaks the device");
	bench_driver_init(&t, ~0u);
	CHECK(!needs_reset(&t), "reset did not clear NEEDS_RESET");
	len[0] = HDR_LEN + 64;
	w[1] = true;
	long r = vd_submit_q(&t.d, TXQ, 2, gpa, len, w);
	CHECK(r == -1 && needs_reset(&t), "writable tx buffer: used %ld, status %#llx", r,
	      (unsigned long long)vd_read(&t.d, VD_CC(device_status), 1));
	CHECK(t.be.sent == sent, "a broken chain was sent");
	bench_down(&t);
}

static uint16_t rx_used_idx(struct bench *t)
{
	return __atomic_load_n(&vd_used_ring(&t->d, RXQ)->idx, __ATOMIC_ACQUIRE);
}

static void post_rx(struct bench *t, uint64_t gpa, uint32_t len)
{
	bool w = true;
	vd_post(&t->d, RXQ, 1, &gpa, &len, &w);
	event_loop_poll(t->loop);
}

static enum net_rx_result deliver(struct bench *t, const uint8_t *frame, size_t len)
{
	return t->be.port.deliver(t->be.port.ctx, frame, len);
}

static void test_rx(void)
{
	struct bench t;
	uint8_t frame[1200];
	fill_frame(frame, sizeof(frame), 7);

	SECTION("receive: without MRG_RXBUF one chain per frame, header first, num_buffers 1");
	bench_up(&t, false, ~0u & ~(1u << VIRTIO_NET_F_MRG_RXBUF));
	CHECK(deliver(&t, frame, 100) == NET_RX_FULL, "no buffers, yet not full");
	unsigned resumes = t.be.resumes;
	post_rx(&t, BUF_A, 1526);
	CHECK(t.be.resumes == resumes + 1, "the backend was not told about new buffers");
	uint16_t used = rx_used_idx(&t);
	memset(gmem_ptr(&mem, BUF_A, 1526), 0xEE, 1526);
	CHECK(deliver(&t, frame, 100) == NET_RX_TAKEN, "frame not taken");
	CHECK(rx_used_idx(&t) == (uint16_t)(used + 1), "no used entry");
	struct vring_used *u = vd_used_ring(&t.d, RXQ);
	CHECK(u->ring[used % VD_QSIZE].len == HDR_LEN + 100, "used length %u",
	      u->ring[used % VD_QSIZE].len);
	struct virtio_net_hdr_v1 h;
	memcpy(&h, gmem_ptr(&mem, BUF_A, HDR_LEN), HDR_LEN);
	CHECK(h.num_buffers == 1 && h.flags == 0 && h.gso_type == 0, "header %u/%u/%u",
	      h.num_buffers, h.flags, h.gso_type);
	CHECK(!memcmp(gmem_ptr(&mem, BUF_A + HDR_LEN, 100), frame, 100), "frame bytes");

	SECTION("receive: a frame larger than the chain is dropped, the chain kept");
	post_rx(&t, BUF_B, 512);
	used = rx_used_idx(&t);
	CHECK(deliver(&t, frame, 1000) == NET_RX_TAKEN && rx_used_idx(&t) == used, "big frame");
	CHECK(deliver(&t, frame, 60) == NET_RX_TAKEN && rx_used_idx(&t) == (uint16_t)(used + 1),
	      "the kept chain took no small frame");
	bench_down(&t);

	SECTION("receive: MRG_RXBUF spreads a frame over chains, num_buffers counts them");
	bench_up(&t, false, ~0u);
	post_rx(&t, BUF_A, 512);
	post_rx(&t, BUF_B, 512);
	used = rx_used_idx(&t);
	CHECK(deliver(&t, frame, sizeof(frame)) == NET_RX_FULL, "1212 bytes fit in 1024?");
	CHECK(rx_used_idx(&t) == used, "chains used for a frame that did not fit");
	resumes = t.be.resumes;
	post_rx(&t, BUF_C, 512);
	CHECK(t.be.resumes == resumes + 1, "no resume");
	CHECK(deliver(&t, frame, sizeof(frame)) == NET_RX_TAKEN, "frame not taken after room");
	CHECK(rx_used_idx(&t) == (uint16_t)(used + 3), "%u chains used",
	      (uint16_t)(rx_used_idx(&t) - used));
	CHECK(u = vd_used_ring(&t.d, RXQ), "ring");
	CHECK(u->ring[used % VD_QSIZE].len == 512 && u->ring[(used + 1) % VD_QSIZE].len == 512 &&
	      u->ring[(used + 2) % VD_QSIZE].len == HDR_LEN + sizeof(frame) - 1024, "lengths");
	memcpy(&h, gmem_ptr(&mem, BUF_A, HDR_LEN), HDR_LEN);
	CHECK(h.num_buffers == 3, "num_buffers %u", h.num_buffers);
	CHECK(!memcmp(gmem_ptr(&mem, BUF_A + HDR_LEN, 500), frame, 500) &&
	      !memcmp(gmem_ptr(&mem, BUF_B, 512), frame + 500, 512) &&
	      !memcmp(gmem_ptr(&mem, BUF_C, 188), frame + 1012, 188), "frame bytes across chains");

	SECTION("receive: a readable buffer in a receive chain breaks the device");
	uint64_t gpa[2] = { BUF_A, BUF_B };
	uint32_t len[2] = { 64, 1500 };
	bool w[2] = { false, true };
	vd_post(&t.d, RXQ, 2, gpa, len, w);
	event_loop_poll(t.loop);
	CHECK(deliver(&t, frame, 60) == NET_RX_TAKEN && needs_reset(&t), "readable rx buffer");
	CHECK(deliver(&t, frame, 60) == NET_RX_TAKEN, "a broken device must drop, not stall");

	SECTION("receive: a chain smaller than the header breaks the device");
	bench_driver_init(&t, ~0u);
	post_rx(&t, BUF_A, 8);
	CHECK(deliver(&t, frame, 60) == NET_RX_TAKEN && needs_reset(&t), "tiny rx chain");
	bench_down(&t);

	SECTION("receive: no driver, no delivery (dropped, never FULL)");
	struct error err = { 0 };
	struct fake_env f;
	fake_env_init(&f);
	f.svc.mem = &mem;
	f.svc.loop = event_loop_create(&err);
	struct fake_net be = { .b = { .ops = &fake_net_ops } };
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_net_create(&f.svc, host, &be.b, mac, &err), "%s", err.msg);
	CHECK(be.port.deliver(be.port.ctx, frame, 60) == NET_RX_TAKEN, "full without a driver");
	fake_env_destroy(&f);
	event_loop_destroy(f.svc.loop);
}

static void test_offloads(void)
{
	struct bench t;
	uint32_t want = (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_MRG_RXBUF) |
			(1u << VIRTIO_NET_F_CSUM) | (1u << VIRTIO_NET_F_GUEST_CSUM) |
			(1u << VIRTIO_NET_F_GUEST_TSO4) | (1u << VIRTIO_NET_F_HOST_TSO4);
	bench_up(&t, true, want);
	SECTION("vnet-header backend: offloads offered; the guest's choice reaches the backend");
	CHECK((t.features & (1u << VIRTIO_NET_F_GUEST_TSO6)) && (t.features & (1u << VIRTIO_NET_F_HOST_TSO6)),
	      "TSO6 not offered: %#x", t.features);
	post_rx(&t, BUF_C, 4096);
	CHECK(t.be.offload == (TUN_F_CSUM | TUN_F_TSO4), "offload %#x", t.be.offload);

	SECTION("vnet-header backend: transmit passes the header through");
	uint8_t frame[200];
	fill_frame(frame, sizeof(frame), 3);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type =
				       VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = 1448,
				       .csum_start = 34, .csum_offset = 16 };
	CHECK(tx(&t, &h, frame, sizeof(frame), HDR_LEN) == 0, "used");
	CHECK(t.be.sent == 1 && t.be.last_len == HDR_LEN + sizeof(frame) &&
	      !memcmp(t.be.last, &h, HDR_LEN) && !memcmp(t.be.last + HDR_LEN, frame, sizeof(frame)),
	      "header and frame not passed through");
	struct virtio_net_hdr_v1 tso6 = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1400 };
	CHECK(tx(&t, &tso6, frame, sizeof(frame), HDR_LEN) == 0 && t.be.sent == 1,
	      "TSO6 sent without HOST_TSO6 negotiated");

	SECTION("vnet-header backend: received GSO frames only as negotiated");
	uint8_t in[HDR_LEN + 200];
	struct virtio_net_hdr_v1 rh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 };
	memcpy(in, &rh, HDR_LEN);
	memcpy(in + HDR_LEN, frame, sizeof(frame));
	uint16_t used = rx_used_idx(&t);
	CHECK(deliver(&t, in, sizeof(in)) == NET_RX_TAKEN && rx_used_idx(&t) == (uint16_t)(used + 1),
	      "TSO4 frame not delivered");
	struct virtio_net_hdr_v1 got;
	memcpy(&got, gmem_ptr(&mem, BUF_C, HDR_LEN), HDR_LEN);
	CHECK(got.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && got.gso_size == 1448 &&
	      got.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && got.num_buffers == 1, "header changed");
	rh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	memcpy(in, &rh, HDR_LEN);
	post_rx(&t, BUF_B, 4096);
	used = rx_used_idx(&t);
	CHECK(deliver(&t, in, sizeof(in)) == NET_RX_TAKEN && rx_used_idx(&t) == used,
	      "TSO6 frame delivered without GUEST_TSO6");
	bench_down(&t);
}

int main(void)
{
	struct error err = { 0 };
	CHECK(gmem_init(&mem, GMEM_MIN_SIZE, &err) == 0, "%s", err.msg);
	test_config_and_tx();
	test_rx();
	test_offloads();
	gmem_destroy(&mem);
	puts("test_virtio_net: ok");
	return 0;
}
