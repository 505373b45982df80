/* libFuzzer target: virtio-blk's request parsing (src/devices/virtio/blk_req.c) against chains
 * of every shape. The input decides the queue (size, indirect tables negotiated), the disk's
 * read-only bit and the first 64 KiB of guest RAM, where the descriptors, the avail ring
 * (0x1000), headers, data and indirect tables live. Each chain the walker accepts is parsed,
 * its disk requests run on a 64 KiB memfd image (the inline engine: deterministic), and the
 * request is finished, as blk.c's worker does. Checked besides the sanitizers: every disk
 * range lies inside the image, every iovec inside the chain's own buffers, READ/WRITE lengths
 * equal their iovecs, a read-only disk gets no write or discard, the status byte is the chain's
 * last writable byte and the used length never exceeds the chain's writable bytes.
 * Input: byte 0 bit 0 indirect, bit 1 read-only, bit 2 EVENT_IDX; byte 1 log2 of the queue size; the rest RAM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/disk.h"
#include "backends/disk_queue.h"
#include "devices/virtio/blk_req.h"

#define FUZZ_RAM_WINDOW 0x10000u
#define FUZZ_DISK_SIZE  0x10000u

static struct guest_mem fuzz_mem;
static struct disk *fuzz_disk;
static struct disk_queue *fuzz_queue;

static bool in_chain(const struct vq_chain *c, unsigned first, unsigned count,
		     const struct iovec *iov)
{
	const uint8_t *p = iov->iov_base;
	for (unsigned i = first; i < first + count; i++)
		if (p >= c->buf[i].host && p + iov->iov_len <= c->buf[i].host + c->buf[i].len)
			return true;
	return false;
}

static void check_disk_req(const struct vq_chain *c, const struct disk_req *d, bool readonly)
{
	if (d->offset > FUZZ_DISK_SIZE || d->len > FUZZ_DISK_SIZE - d->offset)
		abort(); /* a range outside the image reached the disk */
	if (readonly && d->op != DISK_READ)
		abort();
	if (d->op != DISK_READ && d->op != DISK_WRITE)
		return;
	uint64_t sum = 0;
	for (int i = 0; i < d->iovcnt; i++) {
		/* Reads fill writable buffers, writes take readable ones. */
		bool ok = d->op == DISK_READ ? in_chain(c, c->nr_out, c->nr_in, &d->iov[i])
					     : in_chain(c, 0, c->nr_out, &d->iov[i]);
		if (!ok || d->iov[i].iov_len == 0)
			abort();
		sum += d->iov[i].iov_len;
	}
	if (sum != d->len || d->len % BLK_SECTOR || d->len == 0)
		abort();
}

static void run_request(const struct vq_chain *c, bool readonly)
{
	static struct blk_req r;
	static const char id[VIRTIO_BLK_ID_BYTES] = "fuzz-disk";
	const struct blk_target t = { .size = FUZZ_DISK_SIZE, .readonly = readonly, .id = id };
	blk_req_parse(&t, c, &r);
	const struct vq_buf *last = &c->buf[c->nr_out + c->nr_in - 1];
	if (r.status_byte != last->host + last->len - 1 || r.pending != r.nr_disk ||
	    r.nr_disk > BLK_MAX_DISCARD_SEG)
		abort();
	for (unsigned i = 0; i < r.nr_disk; i++) {
		check_disk_req(c, &r.disk[i], readonly);
		if (disk_queue_submit(fuzz_queue, &r.disk[i]) < 0)
			abort(); /* the inline engine has room for every segment */
	}
	disk_queue_commit(fuzz_queue);
	struct disk_req *done[BLK_MAX_DISCARD_SEG];
	unsigned n = disk_queue_reap(fuzz_queue, done, BLK_MAX_DISCARD_SEG), finished = 0;
	for (unsigned i = 0; i < n; i++)
		finished += blk_req_disk_done(&r, done[i]);
	if (n != r.nr_disk || finished != (r.nr_disk ? 1u : 0u) || fuzz_queue->outstanding)
		abort();
	uint32_t used = blk_req_finish(&r);
	if (used > c->in_len || *r.status_byte > VIRTIO_BLK_S_UNSUPP)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	bool indirect = data[0] & 1, readonly = data[0] & 2;
	struct virtq q;
	vq_reset(&q);
	q.size = (uint16_t)(1u << (data[1] % 9));
	q.event_idx = data[0] & 4;
	q.desc_gpa = 0;
	q.avail_gpa = 0x1000;
	q.used_gpa = 0x2000;
	uint8_t *window = gmem_ptr(&fuzz_mem, 0, FUZZ_RAM_WINDOW);
	memset(window, 0, FUZZ_RAM_WINDOW);
	memcpy(window, data + 2, size - 2 < FUZZ_RAM_WINDOW ? size - 2 : FUZZ_RAM_WINDOW);
	if (vq_activate(&q, &fuzz_mem, indirect) < 0)
		abort(); /* the fixed layout is always valid */
	static struct vq_chain c;
	for (unsigned n = 0; n < 512; n++) {
		int r = vq_pop(&q, &fuzz_mem, &c);
		if (r <= 0 || c.in_len == 0)
			break; /* blk.c breaks the queue here */
		run_request(&c, readonly);
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct error err = { 0 };
	int fd = memfd_create("fuzz-blk-disk", MFD_CLOEXEC);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (fd < 0 || ftruncate(fd, FUZZ_DISK_SIZE) < 0 || gmem_init(&fuzz_mem, GMEM_MIN_SIZE, &err) < 0 ||
	    !(fuzz_disk = disk_raw_open(path, false, &err))) {
		fprintf(stderr, "fuzz_blk: setup: %s\n", err.msg[0] ? err.msg : "memfd");
		abort();
	}
	fuzz_disk->sync_only = true;
	fuzz_queue = disk_queue_open(fuzz_disk, BLK_MAX_DISCARD_SEG);
	if (!fuzz_queue)
		abort();
	return 0;
}
