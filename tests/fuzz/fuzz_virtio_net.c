/* libFuzzer target: virtio-net's request parsing (src/devices/virtio/net.c) over the real
 * virtio-pci transport and walker, against a fake backend. A small driver (the unit tests'
 * tests/unit/virtio_driver.h) sets both queues up at fixed ring addresses with the features
 * the input asks for; the input then writes guest RAM (descriptors, avail rings, headers and
 * frames of every shape), notifies the queues, runs the event loop, has the backend deliver
 * frames (vnet headers from the input) and resets the driver. Checked besides the sanitizers:
 * every frame the backend gets is inside its bounds and, for a plain backend, the device
 * never hands over a header; received frames never overrun; hardy never stops.
 * Input: byte 0-3 the driver's features (low 32 bits), byte 4 bit 0 a vnet-header backend;
 * then operations, an opcode byte each (missing operand bytes read as zero):
 *   0 write RAM: 2-byte offset from 0x10000, 1-byte length, the bytes
 *   1 notify queue (operand byte & 1)   2 run the loop
 *   3 deliver a frame: 2-byte length (up to 70000), 12 header bytes, the frame is a pattern
 *   4 reset and set the driver up again */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "core/event_loop.h"
#include "devices/devices.h"
#include "devices/virtio/net.h"
#include "virtio_driver.h"
#include "fuzz_take.h"

#define FUZZ_RAM_BASE 0x10000u

struct fuzz_net {
	struct net_backend b;
	struct net_rx_port port;
	unsigned sent;
};

static struct guest_mem fuzz_mem;
static uint8_t fuzz_frame[NET_FRAME_MAX + 64];

static int fb_start(struct net_backend *b, struct event_loop *loop, struct net_rx_port port,
		    struct error *err)
{
	((struct fuzz_net *)b)->port = port;
	return 0;
}

static int fb_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	size_t limit = NET_FRAME_MAX + (b->vnet_hdr ? sizeof(struct virtio_net_hdr_v1) : 0);
	if (len < 14 || len > limit)
		abort(); /* a runt or an overlong frame reached the backend */
	((struct fuzz_net *)b)->sent++;
	return 0;
}

static void fb_rx_resume(struct net_backend *b) {}
static int fb_set_offload(struct net_backend *b, unsigned flags) { return 0; }
static void fb_close(struct net_backend *b) {}

static const struct net_backend_ops fuzz_backend_ops = {
	.start = fb_start, .send = fb_send, .rx_resume = fb_rx_resume,
	.set_offload = fb_set_offload, .close = fb_close,
};


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	uint32_t want = (uint32_t)take(&p, &left, 4);
	bool vnet = take(&p, &left, 1) & 1;
	struct error err = { 0 };
	static struct fake_env f;
	fake_env_init(&f);
	f.svc.mem = &fuzz_mem;
	f.svc.loop = event_loop_create(&err);
	memset(gmem_ptr(&fuzz_mem, 0, 1u << 20), 0, 1u << 20);
	struct fuzz_net be = { .b = { .ops = &fuzz_backend_ops, .vnet_hdr = vnet } };
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct pci_host *host = f.svc.loop ? pci_host_create(&f.svc, &err) : NULL;
	struct virtio_dev *v = host ? virtio_net_create(&f.svc, host, &be.b, mac, &err) : NULL;
	if (!v) {
		fprintf(stderr, "fuzz_virtio_net: %s\n", err.msg);
		abort();
	}
	struct vdriver d;
	vd_init_queues(&d, &f, &fuzz_mem, 1, want, 2);

	while (left) {
		switch (take(&p, &left, 1) % 5) {
		case 0: {
			uint32_t off = (uint32_t)take(&p, &left, 2), len = (uint32_t)take(&p, &left, 1);
			uint8_t *ram = gmem_ptr(&fuzz_mem, FUZZ_RAM_BASE + off, len);
			for (uint32_t i = 0; i < len; i++)
				ram[i] = (uint8_t)take(&p, &left, 1);
			break;
		}
		case 1: {
			unsigned q = take(&p, &left, 1) & 1;
			fake_mmio_write(&f, d.notify + q * d.mul, 2, q);
			break;
		}
		case 2:
			event_loop_poll(f.svc.loop);
			break;
		case 3: {
			size_t len = take(&p, &left, 2) * 70000u / 65536u;
			for (unsigned i = 0; i < 12; i++)
				fuzz_frame[i] = (uint8_t)take(&p, &left, 1);
			be.port.deliver(be.port.ctx, fuzz_frame, len);
			break;
		}
		case 4:
			vd_init_queues(&d, &f, &fuzz_mem, 1, want, 2);
			break;
		}
	}
	event_loop_poll(f.svc.loop);
	if (f.stop_reason != VM_STOP_NONE)
		abort(); /* nothing a driver does may stop the VM */
	fake_env_destroy(&f);
	event_loop_destroy(f.svc.loop);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct error err = { 0 };
	if (gmem_init(&fuzz_mem, GMEM_MIN_SIZE, &err) < 0) {
		fprintf(stderr, "fuzz_virtio_net: %s\n", err.msg);
		abort();
	}
	for (size_t i = 0; i < sizeof(fuzz_frame); i++)
		fuzz_frame[i] = (uint8_t)(i * 31 + 7);
	return 0;
}
