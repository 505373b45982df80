/* virtio-blk request checking and completion (see blk_req.h). */
#include "devices/virtio/blk_req.h"

/* The byte range [sector*512, +len) lies inside the image (no overflow). */
static bool blk_in_range(const struct blk_target *t, uint64_t sector, uint64_t len)
{
	return sector <= t->size / BLK_SECTOR && len <= t->size - sector * BLK_SECTOR;
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

static struct disk_req *blk_add_disk(struct blk_req *r, enum disk_op op, uint64_t offset,
				     uint64_t len)
{
	struct disk_req *d = &r->disk[r->nr_disk++];
	*d = (struct disk_req){ .op = op, .offset = offset, .len = len, .owner = r };
	return d;
}

static uint8_t blk_parse_rw(const struct blk_target *t, const struct vq_chain *c, uint32_t type,
			    uint64_t sector, struct blk_req *r)
{
	bool is_read = type == VIRTIO_BLK_T_IN;
	uint64_t len = is_read ? c->in_len - 1 : c->out_len - sizeof(struct virtio_blk_outhdr);
	if (len % BLK_SECTOR || !blk_in_range(t, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (!is_read && t->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	int n = is_read ? blk_iovecs(c, c->nr_out, c->nr_in, 0, len, r->iov)
			: blk_iovecs(c, 0, c->nr_out, sizeof(struct virtio_blk_outhdr), len, r->iov);
	struct disk_req *d = blk_add_disk(r, is_read ? DISK_READ : DISK_WRITE, sector * BLK_SECTOR,
					  len);
	d->iov = r->iov;
	d->iovcnt = n;
	if (is_read)
		r->read_len = (uint32_t)len; /* chains are at most VQ_MAX_CHAIN_BYTES */
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: segments after the header; both punch holes (zeros read back).
 * All segments are checked before any reaches the disk. */
static uint8_t blk_parse_discard(const struct blk_target *t, const struct vq_chain *c,
				 struct blk_req *r)
{
	const uint64_t seg_size = sizeof(struct virtio_blk_discard_write_zeroes);
	if (t->readonly)
		return VIRTIO_BLK_S_IOERR;
	uint64_t bytes = c->out_len - sizeof(struct virtio_blk_outhdr);
	if (bytes == 0 || bytes % seg_size || bytes / seg_size > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = 0; off < bytes; off += seg_size) {
		struct virtio_blk_discard_write_zeroes seg;
		vq_chain_read(c, sizeof(struct virtio_blk_outhdr) + off, &seg, sizeof(seg));
		uint64_t len = (uint64_t)seg.num_sectors * BLK_SECTOR;
		if (seg.num_sectors > BLK_MAX_DISCARD || !blk_in_range(t, seg.sector, len)) {
			r->nr_disk = 0;
			return VIRTIO_BLK_S_IOERR;
		}
		if (len)
			blk_add_disk(r, DISK_DISCARD, seg.sector * BLK_SECTOR, len);
	}
	return VIRTIO_BLK_S_OK;
}

void blk_req_parse(const struct blk_target *t, const struct vq_chain *c, struct blk_req *r)
{
	const struct vq_buf *last = &c->buf[c->nr_out + c->nr_in - 1];
	r->head = c->head;
	r->status_byte = last->host + last->len - 1;
	r->data_written = 0;
	r->read_len = 0;
	r->nr_disk = 0;
	struct virtio_blk_outhdr h;
	if (c->out_len < sizeof(h)) {
		r->status = VIRTIO_BLK_S_IOERR;
	} else {
		vq_chain_read(c, 0, &h, sizeof(h));
		switch (h.type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT:
			r->status = blk_parse_rw(t, c, h.type, h.sector, r);
			break;
		case VIRTIO_BLK_T_FLUSH:
			r->status = VIRTIO_BLK_S_OK;
			if (!t->readonly) /* nothing to make durable */
				blk_add_disk(r, DISK_FLUSH, 0, 0);
			break;
		case VIRTIO_BLK_T_GET_ID: {
			uint64_t room = c->in_len - 1;
			r->data_written = vq_chain_write(c, 0, t->id, room < VIRTIO_BLK_ID_BYTES
								  ? (uint32_t)room : VIRTIO_BLK_ID_BYTES);
			r->status = VIRTIO_BLK_S_OK;
			break;
		}
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES:
			r->status = blk_parse_discard(t, c, r);
			break;
		default:
			r->status = VIRTIO_BLK_S_UNSUPP;
		}
	}
	r->pending = r->nr_disk;
}

bool blk_req_disk_done(struct blk_req *r, const struct disk_req *dr)
{
	bool ok = dr->op == DISK_READ || dr->op == DISK_WRITE ? dr->result == (int64_t)dr->len
							      : dr->result == 0;
	if (!ok)
		r->status = VIRTIO_BLK_S_IOERR;
	return --r->pending == 0;
}

uint32_t blk_req_finish(struct blk_req *r)
{
	if (r->status == VIRTIO_BLK_S_OK)
		r->data_written += r->read_len;
	/* The status byte may share a buffer with the data or lie inside it (a hostile chain):
	 * it is written last, so the driver reads what the device decided. */
	__atomic_store_n(r->status_byte, r->status, __ATOMIC_RELAXED);
	return r->data_written + 1;
}
