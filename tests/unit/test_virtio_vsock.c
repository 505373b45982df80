/* Unit test: virtio-vsock's virtqueue side over virtio-pci, driven like Linux's
 * virtio_transport (queues rx, tx, event), with a host backend where nothing listens: the
 * config space holds the CID; RX buffers are left alone while nothing is owed; a guest
 * connect is refused with an RST in the RX buffer, addressed back to the guest; a TX chain
 * shorter than the header, one whose header claims more payload than it carries, and an RX
 * buffer smaller than a header each put the device in DEVICE_NEEDS_RESET, and a reset brings
 * it back. (The protocol itself is test_vsock's.) */
#include <endian.h>
#include <linux/virtio_vsock.h>

#include "check.h"
#include "devices/devices.h"
#include "devices/virtio/vsock.h"
#include "devices/virtio/vsock_proto.h"
#include "virtio_driver.h"

#define TX_BUF 0x20000ULL
#define RX_BUF 0x30000ULL

/* The host side: nothing listens, no clients; stream ops are never reached. */
static unsigned starts, stops, connects;

static int nh_start(struct vsock_host *h, struct event_loop *loop, pthread_mutex_t *lock,
		    const struct vsock_host_events *ev, void *ctx, struct error *err)
{
	starts++;
	return 0;
}

static struct vsock_stream *nh_connect(struct vsock_host *h, uint32_t port, void *conn)
{
	connects++;
	return NULL;
}

static void nh_stop(struct vsock_host *h) { stops++; }

static const struct vsock_host_ops nobody_ops = {
	.start = nh_start, .connect = nh_connect, .stop = nh_stop,
};
static struct vsock_host nobody = { .ops = &nobody_ops };

static struct guest_mem mem;

static uint8_t dev_status(struct vdriver *d)
{
	return (uint8_t)vd_read(d, VD_CC(device_status), 1);
}

static void fresh_driver(struct vdriver *d, struct fake_env *f)
{
	memset(gmem_ptr(&mem, VD_DESC, 0x10000), 0, 0x10000); /* the rings of every queue */
	vd_init_queues(d, f, &mem, 1, 0, 3);
	CHECK(!(dev_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET), "broken after a reset");
}

static struct virtio_vsock_hdr request(uint32_t port)
{
	return (struct virtio_vsock_hdr){
		.src_cid = htole64(3), .dst_cid = htole64(VSOCK_HOST_CID),
		.src_port = htole32(1024), .dst_port = htole32(port),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(VIRTIO_VSOCK_OP_REQUEST),
		.buf_alloc = htole32(4096),
	};
}

static long tx(struct vdriver *d, const struct virtio_vsock_hdr *h, uint32_t chain_len)
{
	memcpy(gmem_ptr(&mem, TX_BUF, sizeof(*h)), h, sizeof(*h));
	uint64_t gpa[1] = { TX_BUF };
	uint32_t len[1] = { chain_len };
	bool w[1] = { false };
	return vd_submit_q(d, 1, 1, gpa, len, w);
}

static long rx_buffer(struct vdriver *d, uint32_t size)
{
	uint64_t gpa[1] = { RX_BUF };
	uint32_t len[1] = { size };
	bool w[1] = { true };
	return vd_submit_q(d, 0, 1, gpa, len, w);
}

static struct vring_used *rx_used(void)
{
	return gmem_ptr(&mem, VD_USED, 4 + 8 * VD_QSIZE);
}

int main(void)
{
	struct fake_env f;
	struct error err = { 0 };
	CHECK(gmem_init(&mem, GMEM_MIN_SIZE, &err) == 0, "%s", err.msg);
	fake_env_init(&f);
	f.svc.mem = &mem;
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_vsock_create(&f.svc, host, 3, &nobody, &err), "%s", err.msg);
	CHECK(starts == 1, "the backend was not started");
	struct vdriver d;
	fresh_driver(&d, &f);

	SECTION("config space: guest_cid, 64 bits");
	CHECK(fake_mmio_read(&f, d.device, 8) == 3, "guest_cid %llu",
	      (unsigned long long)fake_mmio_read(&f, d.device, 8));

	SECTION("an RX buffer stays the driver's while nothing is owed");
	CHECK(rx_buffer(&d, VSOCK_HDR_SIZE + 4096) == -1, "an RX buffer was used with nothing owed");

	SECTION("a refused connect: RST in the RX buffer");
	struct virtio_vsock_hdr h = request(6001);
	CHECK(tx(&d, &h, sizeof(h)) == 0, "the TX chain was not used");
	CHECK(connects == 1, "the backend was not asked");
	CHECK(rx_used()->idx == 1 && rx_used()->ring[0].len == VSOCK_HDR_SIZE,
	      "no 44-byte packet in the RX buffer");
	struct virtio_vsock_hdr r;
	memcpy(&r, gmem_ptr(&mem, RX_BUF, sizeof(r)), sizeof(r));
	CHECK(le16toh(r.op) == VIRTIO_VSOCK_OP_RST && le64toh(r.dst_cid) == 3 &&
	      le64toh(r.src_cid) == VSOCK_HOST_CID && le32toh(r.dst_port) == 1024 &&
	      le32toh(r.src_port) == 6001, "not an RST from 2:6001 to 3:1024");

	SECTION("a TX chain shorter than the header: NEEDS_RESET");
	CHECK(tx(&d, &h, sizeof(h) - 1) == -1, "a short chain was used");
	CHECK(dev_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, "no NEEDS_RESET");
	CHECK(f.msi_count > 0 && f.msi_data == 0x30, "no configuration interrupt");

	SECTION("a header claiming more payload than the chain carries: NEEDS_RESET");
	fresh_driver(&d, &f);
	h.op = htole16(VIRTIO_VSOCK_OP_RW);
	h.len = htole32(100);
	CHECK(tx(&d, &h, sizeof(h) + 99) == -1 && dev_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET,
	      "99 bytes for a header claiming 100 were taken");

	SECTION("an RX buffer smaller than a header: NEEDS_RESET");
	fresh_driver(&d, &f);
	h = request(6003);
	CHECK(tx(&d, &h, sizeof(h)) == 0, "the TX chain was not used");
	CHECK(rx_buffer(&d, VSOCK_HDR_SIZE - 1) == -1 && dev_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET,
	      "a 43-byte RX buffer was used");

	SECTION("after a reset it works again");
	fresh_driver(&d, &f);
	CHECK(rx_buffer(&d, VSOCK_HDR_SIZE + 4096) == -1, "an RX buffer was used with nothing owed");
	h = request(6005);
	CHECK(tx(&d, &h, sizeof(h)) == 0 && rx_used()->idx == 1, "no RST after the reset");

	fake_env_destroy(&f);
	CHECK(stops == 1, "the backend was not stopped with the device");
	gmem_destroy(&mem);
	printf("test_virtio_vsock: ok\n");
	return 0;
}
