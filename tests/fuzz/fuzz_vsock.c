/* libFuzzer target: virtio-vsock's packet parsing and protocol engine
 * (src/devices/virtio/vsock_proto.c) against any sequence of guest packets, host events and
 * RX buffer sizes, over a fake host backend whose streams accept, refuse, stall, hang up and
 * fail on the input's say. Checked besides the sanitizers: every packet to the guest fits its
 * buffer, comes from CID 2 to the guest's CID with a length that matches, carries a known
 * op; no op ever reaches a stream the engine closed; the connection count stays bounded.
 * Input: a list of commands, each a byte (low 3 bits: what) and its arguments (see run_one). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "devices/virtio/vsock_proto.h"
#include "fuzz_take.h"

#define FUZZ_CID 3u
#define FUZZ_STREAMS 512

struct vsock_stream {
	bool open;
	void *conn;
	uint32_t readable, writable; /* bytes the host side has / takes now */
	bool eof, broken;
};

static struct {
	struct vsock_host host;
	struct vsock_stream s[FUZZ_STREAMS];
	unsigned used;
} fake;

static struct vsock_stream *fake_new(void *conn)
{
	if (fake.used == FUZZ_STREAMS)
		return NULL;
	struct vsock_stream *s = &fake.s[fake.used++];
	*s = (struct vsock_stream){ .open = true, .conn = conn, .writable = 1u << 20 };
	return s;
}

static void alive(const struct vsock_stream *s)
{
	if (!s || !s->open)
		abort(); /* the engine used a stream it had closed */
}

static struct vsock_stream *fake_connect(struct vsock_host *h, uint32_t port, void *conn)
{
	return port & 1 ? NULL : fake_new(conn); /* odd ports: nothing listens */
}

static int fake_accepted(struct vsock_stream *s, uint32_t port)
{
	alive(s);
	return s->broken ? -1 : 0;
}

static ssize_t fake_read(struct vsock_stream *s, void *buf, size_t len)
{
	alive(s);
	if (s->broken)
		return errno = ECONNRESET, -1;
	if (!s->readable)
		return s->eof ? 0 : (errno = EAGAIN, -1);
	size_t n = len < s->readable ? len : s->readable;
	memset(buf, 0x5A, n);
	s->readable -= (uint32_t)n;
	return (ssize_t)n;
}

static ssize_t fake_write(struct vsock_stream *s, const void *buf, size_t len)
{
	alive(s);
	if (s->broken)
		return errno = EPIPE, -1;
	if (!s->writable)
		return errno = EAGAIN, -1;
	size_t n = len < s->writable ? len : s->writable;
	s->writable -= (uint32_t)n;
	return (ssize_t)n;
}

static void fake_shutdown(struct vsock_stream *s) { alive(s); }
static void fake_watch(struct vsock_stream *s, bool in, bool out) { alive(s); }
static void fake_close(struct vsock_stream *s) { alive(s); s->open = false; }

static const struct vsock_host_ops fake_ops = {
	.connect = fake_connect, .accepted = fake_accepted, .read = fake_read,
	.write = fake_write, .shutdown_write = fake_shutdown, .watch = fake_watch,
	.close = fake_close,
};

static uint8_t payload[VSOCK_MAX_PAYLOAD];
static uint8_t rx[VSOCK_HDR_SIZE + VSOCK_MAX_PAYLOAD];


static void drain(struct vsock_engine *e, size_t cap)
{
	for (unsigned n = 0; n < 4 * VSOCK_MAX_CONNS + VSOCK_RST_BACKLOG; n++) {
		size_t got = vsock_engine_to_guest(e, rx, cap);
		if (!got)
			return;
		struct virtio_vsock_hdr h;
		memcpy(&h, rx, sizeof(h));
		uint16_t op = le16toh(h.op);
		if (got > cap || got != VSOCK_HDR_SIZE + le32toh(h.len) ||
		    le64toh(h.src_cid) != VSOCK_HOST_CID || le64toh(h.dst_cid) != FUZZ_CID ||
		    op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
		    (op != VIRTIO_VSOCK_OP_RW && h.len))
			abort();
	}
}

/* Ports from a small set, so packets meet connections. */
static uint32_t host_port(uint8_t b)
{
	return (b & 0x80) ? VSOCK_LOCAL_PORT_FIRST + (b & 7u) : 6000u + (b & 7u);
}

static void run_one(struct vsock_engine *e, const uint8_t **p, size_t *left)
{
	uint8_t cmd = (uint8_t)take(p, left, 1);
	switch (cmd & 7) {
	case 0: { /* a guest packet: op, ports, len, credit, flags; bit 3-4 spoil it */
		struct virtio_vsock_hdr h = {
			.src_cid = htole64(cmd & 8 ? FUZZ_CID + 1 : FUZZ_CID),
			.dst_cid = htole64(VSOCK_HOST_CID),
			.type = htole16(cmd & 16 ? 2 : VIRTIO_VSOCK_TYPE_STREAM),
		};
		h.op = htole16((uint16_t)(take(p, left, 1) % 9));
		h.src_port = htole32(5000u + (uint32_t)(take(p, left, 1) & 7));
		h.dst_port = htole32(host_port((uint8_t)take(p, left, 1)));
		h.len = htole32((uint32_t)take(p, left, 3));
		h.buf_alloc = htole32((uint32_t)take(p, left, 3));
		h.fwd_cnt = htole32((uint32_t)take(p, left, 3));
		h.flags = htole32((uint32_t)take(p, left, 1));
		vsock_engine_from_guest(e, &h, payload);
		break;
	}
	case 1: { /* a raw header */
		struct virtio_vsock_hdr h;
		uint8_t raw[sizeof(h)] = { 0 };
		for (unsigned i = 0; i < sizeof(raw); i++)
			raw[i] = (uint8_t)take(p, left, 1);
		memcpy(&h, raw, sizeof(h));
		vsock_engine_from_guest(e, &h, payload);
		break;
	}
	case 2: /* RX buffers of some size */
		drain(e, VSOCK_HDR_SIZE + (size_t)take(p, left, 2) % (VSOCK_MAX_PAYLOAD + 1));
		break;
	case 3: { /* a host client asks for a guest port */
		struct vsock_stream *s = fake_new(NULL);
		if (s && !(s->conn = vsock_engine_incoming(e, s, 5000u + (uint32_t)(take(p, left, 1) & 7))))
			s->open = false;
		break;
	}
	case 4: { /* a stream's state changes, then its event */
		unsigned i = (unsigned)take(p, left, 2) % FUZZ_STREAMS;
		uint8_t what = (uint8_t)take(p, left, 1);
		uint32_t amount = (uint32_t)take(p, left, 3);
		struct vsock_stream *s = &fake.s[i];
		if (i >= fake.used || !s->open || !s->conn)
			break;
		if (what & 1) s->readable += amount & 0x3FFFF;
		if (what & 2) s->writable = amount;
		if (what & 4) s->eof = true;
		if (what & 8) s->broken = true;
		uint32_t ev = (what & 16 ? EPOLLIN : 0) | (what & 32 ? EPOLLOUT : 0) |
			      (what & 64 ? EPOLLHUP : 0) | (what & 128 ? EPOLLERR : 0);
		vsock_engine_ready(e, s->conn, ev);
		break;
	}
	case 5:
		vsock_engine_reset(e);
		break;
	case 6:
		vsock_engine_set_live(e, !(cmd & 8));
		break;
	default:
		break;
	}
	if (vsock_engine_conns(e) > VSOCK_MAX_CONNS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&fake, 0, sizeof(fake));
	fake.host.ops = &fake_ops;
	struct vsock_engine *e = vsock_engine_create(FUZZ_CID, &fake.host);
	if (!e)
		abort();
	vsock_engine_set_live(e, true);
	const uint8_t *p = data;
	size_t left = size;
	while (left)
		run_one(e, &p, &left);
	drain(e, sizeof(rx));
	vsock_engine_destroy(e);
	for (unsigned i = 0; i < fake.used; i++)
		if (fake.s[i].open && fake.s[i].conn)
			abort(); /* destroy left a host stream open */
	return 0;
}
