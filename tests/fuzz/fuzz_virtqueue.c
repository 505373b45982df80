/* libFuzzer target: the virtqueue walker (src/devices/virtio/queue.c) against any ring a
 * driver could write. The input decides the queue (size, ring addresses, whether indirect
 * tables were negotiated) and the contents of the first 64 KiB of guest RAM, where descriptors,
 * rings and indirect tables live; the walker then pops and pushes until the queue is empty or
 * broken. Checked besides the sanitizers (which cannot see inside the guest mapping): every
 * buffer handed out lies inside guest RAM, the chain's counts and lengths agree and stay within
 * their bounds, and the walk ends.
 * Input: byte 0 bit 0 indirect, bit 2 EVENT_IDX, bit 1 raw ring addresses (8 bytes each; else 2 bytes each,
 * 16-byte units inside the 64 KiB); bytes 1-2 queue size; then the addresses; the rest is RAM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/queue.h"
#include "fuzz_take.h"

#define FUZZ_RAM_WINDOW 0x10000u

static struct guest_mem fuzz_mem;


static bool in_ram(const uint8_t *p, uint32_t len)
{
	for (unsigned i = 0; i < fuzz_mem.nr_regions; i++) {
		const struct gmem_region *r = &fuzz_mem.region[i];
		if (p >= r->host && (uint64_t)(p - r->host) + len <= r->size)
			return true;
	}
	return false;
}

static void check_chain(const struct vq_chain *c, const struct virtq *q)
{
	uint64_t out = 0, in = 0;
	if (c->nr_out + c->nr_in > VQ_MAX_SEGS || c->head >= q->size)
		abort();
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		if (!in_ram(c->buf[i].host, c->buf[i].len) || c->buf[i].len == 0)
			abort(); /* a buffer outside guest RAM */
		if (i < c->nr_out)
			out += c->buf[i].len;
		else
			in += c->buf[i].len;
	}
	if (out != c->out_len || in != c->in_len || out + in > VQ_MAX_CHAIN_BYTES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	uint8_t flags = (uint8_t)take(&p, &left, 1);
	struct virtq q;
	vq_reset(&q);
	q.size = (uint16_t)take(&p, &left, 2);
	q.event_idx = flags & 4;
	unsigned width = (flags & 2) ? 8 : 2;
	uint64_t addr[3];
	for (int i = 0; i < 3; i++) {
		addr[i] = take(&p, &left, width);
		if (width == 2)
			addr[i] = (addr[i] * 16) % FUZZ_RAM_WINDOW + (addr[i] >> 12 & 0xF);
	}
	q.desc_gpa = addr[0];
	q.avail_gpa = addr[1];
	q.used_gpa = addr[2];
	uint8_t *window = gmem_ptr(&fuzz_mem, 0, FUZZ_RAM_WINDOW);
	memset(window, 0, FUZZ_RAM_WINDOW);
	memcpy(window, p, left < FUZZ_RAM_WINDOW ? left : FUZZ_RAM_WINDOW);

	if (vq_activate(&q, &fuzz_mem, flags & 1) < 0)
		return 0;
	static struct vq_chain c;
	/* A well-behaved ring is drained in at most 65536 pops; each pop consumes one entry. */
	for (unsigned n = 0; n < 70000; n++) {
		int r = vq_pop(&q, &fuzz_mem, &c);
		if (r <= 0) {
			if (r < 0 && !q.broken)
				abort();
			break;
		}
		check_chain(&c, &q);
		static const uint8_t pattern[64] = { 0xA5 };
		vq_chain_write(&c, 0, pattern, sizeof(pattern));
		vq_push(&q, c.head, (uint32_t)(c.in_len < 64 ? c.in_len : 64));
		vq_set_notify(&q, n & 1);
		(void)vq_wants_interrupt(&q);
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct error err = { 0 };
	if (gmem_init(&fuzz_mem, GMEM_MIN_SIZE, &err) < 0) {
		fprintf(stderr, "fuzz_virtqueue: %s\n", err.msg);
		abort();
	}
	return 0;
}
