/* virtio-blk requests: one chain checked and turned into disk requests (disk_queue.h), and
 * the answer written back when they complete. No lock and no thread here: blk.c calls these
 * from its worker, the request fuzzer (tests/fuzz/fuzz_blk.c) calls them directly.
 *
 * Every guest value is checked in blk_req_parse() before any disk request exists: the
 * header's size, sector ranges against the image (without overflow), whole sectors, the
 * direction of the data buffers, at most BLK_MAX_DISCARD_SEG discard segments of at most
 * BLK_MAX_DISCARD sectors, and writes on a read-only disk. The status byte is the chain's last
 * writable byte; a chain without one never reaches this file (blk.c breaks the queue). */
#ifndef HARDY_DEVICES_VIRTIO_BLK_REQ_H
#define HARDY_DEVICES_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_blk.h>

#include "backends/disk_queue.h"
#include "devices/virtio/queue.h"

#define BLK_SECTOR          512u
#define BLK_SEG_MAX         (VQ_MAX_SEGS - 2) /* header and status take two buffers */
#define BLK_MAX_DISCARD     (1u << 22)        /* sectors per discard segment (2 GiB) */
#define BLK_MAX_DISCARD_SEG 16u

/* One request between its chain's pop and its completion. */
struct blk_req {
	uint16_t head;              /* the chain, for the used ring */
	unsigned queue;             /* blk.c: the queue it came from */
	unsigned generation;        /* blk.c: the device's reset count when it was popped */
	uint8_t *status_byte;       /* host address of the chain's last writable byte */
	uint8_t status;             /* VIRTIO_BLK_S_*: the answer so far */
	uint32_t data_written;      /* bytes the device put in the chain before the status */
	uint32_t read_len;          /* a READ: bytes it moves on success */
	unsigned nr_disk, pending;  /* disk requests, and those not yet completed */
	struct disk_req disk[BLK_MAX_DISCARD_SEG];
	struct iovec iov[VQ_MAX_SEGS];
};

/* What the device's disk looks like to a request. */
struct blk_target {
	uint64_t size; /* bytes, a multiple of BLK_SECTOR */
	bool readonly;
	const char *id; /* VIRTIO_BLK_ID_BYTES, not NUL-terminated */
};

/* Fills r from c (which has at least one writable byte). Afterwards either r->nr_disk disk
 * requests are ready to submit (r->pending == r->nr_disk, owner r), or none are and r is
 * already answered (GET_ID data is copied into the chain here). */
void blk_req_parse(const struct blk_target *t, const struct vq_chain *c, struct blk_req *r);

/* One of r's disk requests came back; true once all have (r->status is then final). */
bool blk_req_disk_done(struct blk_req *r, const struct disk_req *dr);

/* Writes the status byte; returns the used length (data plus the status byte). */
uint32_t blk_req_finish(struct blk_req *r);

#endif
