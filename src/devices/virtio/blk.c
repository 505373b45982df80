/* virtio-blk (device type 2), one request queue. Each request is one chain: a readable
 * 16-byte header (type, priority, sector), the data, and a writable status byte at the very
 * end. Every field the guest gives is checked here before the disk sees it: the header's
 * size, the status byte's presence, sector ranges against the image (without overflow), the
 * direction of the data buffers, and writes, discards and write-zeroes on a read-only disk
 * (refused with IOERR; VIRTIO_BLK_F_RO also tells the driver). Requests run on the device's
 * own worker thread: a notification (event loop thread or vCPU thread) only wakes it; the
 * worker pops a chain under the device lock, does the disk I/O without it, and completes the
 * chain under it again, unless the driver reset the device meanwhile. */
#include "devices/virtio/blk.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "devices/virtio/pci.h"

#define BLK_SECTOR         512u
#define BLK_SEG_MAX        (VQ_MAX_SEGS - 2)     /* header and status take two buffers */
#define BLK_MAX_DISCARD    (1u << 22)            /* sectors per discard segment (2 GiB) */
#define BLK_MAX_DISCARD_SEG 16u

struct virtio_blk {
	struct disk *disk;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_dev *v;
	/* The worker; kick, quit and resets are guarded by the device lock. */
	pthread_t worker;
	bool started, kick, quit;
	pthread_cond_t wake;
	unsigned resets; /* a chain popped before a reset is not completed after it */
};

/* The byte range [sector*512, +len) lies inside the image (no overflow). */
static bool blk_in_range(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	uint64_t size = b->disk->size;
	return sector <= size / BLK_SECTOR && len <= size - sector * BLK_SECTOR;
}

/* iovecs for len bytes of the chain's buffers [first, first+count), skipping skip bytes. */
static int blk_iovecs(const struct vq_chain *c, unsigned first, unsigned count, uint64_t skip,
		      uint64_t len, struct iovec *iov)
{
	int n = 0;
	for (unsigned i = first; i < first + count && len; i++) {
		const struct vq_buf *buf = &c->buf[i];
		if (skip >= buf->len) {
			skip -= buf->len;
			continue;
		}
		uint64_t take = buf->len - skip < len ? buf->len - skip : len;
		iov[n++] = (struct iovec){ .iov_base = buf->host + skip, .iov_len = (size_t)take };
		len -= take;
		skip = 0;
	}
	return n;
}

static uint8_t blk_rw(struct virtio_blk *b, const struct vq_chain *c, uint32_t type,
		      uint64_t sector, uint32_t *written)
{
	struct iovec iov[VQ_MAX_SEGS];
	bool is_read = type == VIRTIO_BLK_T_IN;
	uint64_t len = is_read ? c->in_len - 1 : c->out_len - sizeof(struct virtio_blk_outhdr);
	if (len % BLK_SECTOR || !blk_in_range(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (!is_read && b->disk->readonly)
		return VIRTIO_BLK_S_IOERR;
	int n = is_read ? blk_iovecs(c, c->nr_out, c->nr_in, 0, len, iov)
			: blk_iovecs(c, 0, c->nr_out, sizeof(struct virtio_blk_outhdr), len, iov);
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	ssize_t r = is_read ? b->disk->ops->readv(b->disk, iov, n, sector * BLK_SECTOR)
			    : b->disk->ops->writev(b->disk, iov, n, sector * BLK_SECTOR);
	if (r < 0 || (uint64_t)r != len)
		return VIRTIO_BLK_S_IOERR;
	if (is_read)
		*written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: segments after the header; both punch holes (zeros read back). */
static uint8_t blk_discard(struct virtio_blk *b, const struct vq_chain *c)
{
	if (b->disk->readonly)
		return VIRTIO_BLK_S_IOERR;
	uint64_t bytes = c->out_len - sizeof(struct virtio_blk_outhdr);
	if (bytes == 0 || bytes % sizeof(struct virtio_blk_discard_write_zeroes) ||
	    bytes / sizeof(struct virtio_blk_discard_write_zeroes) > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = 0; off < bytes; off += sizeof(struct virtio_blk_discard_write_zeroes)) {
		struct virtio_blk_discard_write_zeroes seg;
		vq_chain_read(c, sizeof(struct virtio_blk_outhdr) + off, &seg, sizeof(seg));
		uint64_t len = (uint64_t)seg.num_sectors * BLK_SECTOR;
		if (seg.num_sectors > BLK_MAX_DISCARD || !blk_in_range(b, seg.sector, len))
			return VIRTIO_BLK_S_IOERR;
		if (len && b->disk->ops->discard(b->disk, seg.sector * BLK_SECTOR, len) < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* One request; returns the bytes written into the chain (data plus the status byte). */
static uint32_t blk_request(struct virtio_blk *b, const struct vq_chain *c)
{
	struct virtio_blk_outhdr h;
	uint32_t written = 0;
	uint8_t status;
	if (c->out_len < sizeof(h)) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		vq_chain_read(c, 0, &h, sizeof(h));
		switch (h.type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT:
			status = blk_rw(b, c, h.type, h.sector, &written);
			break;
		case VIRTIO_BLK_T_FLUSH:
			status = b->disk->readonly || b->disk->ops->flush(b->disk) == 0
					 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
			break;
		case VIRTIO_BLK_T_GET_ID:
			written = vq_chain_write(c, 0, b->id,
						 c->in_len - 1 < sizeof(b->id) ? (uint32_t)c->in_len - 1
									      : sizeof(b->id));
			status = VIRTIO_BLK_S_OK;
			break;
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES:
			status = blk_discard(b, c);
			break;
		default:
			status = VIRTIO_BLK_S_UNSUPP;
		}
	}
	/* The status byte is the chain's last writable byte. */
	vq_chain_write(c, c->in_len - 1, &status, 1);
	return written + 1;
}

static void *blk_worker(void *arg);

/* Called under the device lock: only wakes the worker, started at the first request (most
 * devices the fuzzer builds never get one). */
static void blk_queue_notify(struct virtio_dev *v, unsigned q)
{
	struct virtio_blk *b = v->priv;
	if (!b->started) {
		if (pthread_create(&b->worker, NULL, blk_worker, b) != 0) {
			virtio_needs_reset(v); /* no worker, no I/O: the driver sees a broken device */
			return;
		}
		pthread_setname_np(b->worker, "virtio-blk");
		b->started = true;
	}
	b->kick = true;
	pthread_cond_signal(&b->wake);
}

static void blk_reset(struct virtio_dev *v)
{
	((struct virtio_blk *)v->priv)->resets++;
}

static bool blk_queue_live(const struct virtio_dev *v)
{
	return (v->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(v->status & VIRTIO_CONFIG_S_NEEDS_RESET) && v->vq[0].active;
}

static void *blk_worker(void *arg)
{
	struct virtio_blk *b = arg;
	struct virtio_dev *v = b->v;
	static __thread struct vq_chain c; /* 4 KiB: off the stack */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's business */
	pthread_mutex_lock(&v->dev.lock);
	while (!b->quit) {
		if (!b->kick) {
			pthread_cond_wait(&b->wake, &v->dev.lock);
			continue;
		}
		b->kick = false;
		while (!b->quit && blk_queue_live(v)) {
			int r = vq_pop(&v->vq[0], v->mem, &c);
			if (r == 0)
				break;
			if (r < 0 || c.in_len == 0) {
				/* A broken chain, or one with nowhere to put the status. */
				virtio_needs_reset(v);
				break;
			}
			unsigned resets = b->resets;
			pthread_mutex_unlock(&v->dev.lock);
			uint32_t written = blk_request(b, &c);
			pthread_mutex_lock(&v->dev.lock);
			if (resets == b->resets)
				virtio_complete(v, 0, c.head, written);
		}
	}
	pthread_mutex_unlock(&v->dev.lock);
	return NULL;
}

static void blk_destroy(struct virtio_dev *v)
{
	struct virtio_blk *b = v->priv;
	if (b->started) {
		pthread_mutex_lock(&v->dev.lock);
		b->quit = true;
		pthread_cond_signal(&b->wake);
		pthread_mutex_unlock(&v->dev.lock);
		pthread_join(b->worker, NULL);
	}
	pthread_cond_destroy(&b->wake);
	free(b);
}

static const struct virtio_dev_ops blk_ops_rw = {
	.name = "virtio-blk", .type = VIRTIO_ID_BLOCK, .nr_queues = 1,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD) |
		    (1ULL << VIRTIO_BLK_F_WRITE_ZEROES),
	.queue_notify = blk_queue_notify, .reset = blk_reset, .destroy = blk_destroy,
};

static const struct virtio_dev_ops blk_ops_ro = {
	.name = "virtio-blk", .type = VIRTIO_ID_BLOCK, .nr_queues = 1,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_RO),
	.queue_notify = blk_queue_notify, .reset = blk_reset, .destroy = blk_destroy,
};

struct virtio_dev *virtio_blk_create(const struct dev_services *svc, struct pci_host *host,
				     struct disk *disk, const char *id, struct error *err)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		error_errno(err, "out of memory for virtio-blk");
		return NULL;
	}
	b->disk = disk;
	pthread_cond_init(&b->wake, NULL);
	if (id)
		memcpy(b->id, id, strnlen(id, sizeof(b->id))); /* no NUL at 20 bytes, as the spec says */
	struct virtio_blk_config cfg = {
		.capacity = disk->size / BLK_SECTOR,
		.seg_max = BLK_SEG_MAX,
		.blk_size = BLK_SECTOR,
		.max_discard_sectors = BLK_MAX_DISCARD,
		.max_discard_seg = BLK_MAX_DISCARD_SEG,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = BLK_MAX_DISCARD,
		.max_write_zeroes_seg = BLK_MAX_DISCARD_SEG,
		.write_zeroes_may_unmap = 1,
	};
	struct virtio_dev *v = virtio_pci_create(svc, host, disk->readonly ? &blk_ops_ro : &blk_ops_rw,
						 b, &cfg, sizeof(cfg), err);
	if (!v)
		return NULL;
	b->v = v;
	return v;
}
