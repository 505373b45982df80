/* Disk images behind a small interface, so virtio-blk is tested with a fake and the image
 * code alone. Today one implementation: raw files (disk_raw.c). These ops are synchronous;
 * devices reach them through a request queue (disk_queue.h), which runs them inline or, for
 * file-backed images, hands the same requests to io_uring with many in flight.
 *
 * Contract: disk_raw_open() runs before any VM exists (a bad or busy image is status 2 with
 * one line), takes an OFD lock on the whole image (shared for read-only, exclusive for
 * read-write, so a second hardy, or QEMU's byte-range locks, conflict with a writer) that
 * lasts until close. Offsets and lengths reaching the ops are already checked against size by
 * the device. Calls may block; they run off the vCPU threads. */
#ifndef HARDY_BACKENDS_DISK_H
#define HARDY_BACKENDS_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "util/error.h"

struct disk;

struct disk_ops {
	ssize_t (*readv)(struct disk *d, const struct iovec *iov, int n, uint64_t offset);
	ssize_t (*writev)(struct disk *d, const struct iovec *iov, int n, uint64_t offset);
	int (*flush)(struct disk *d);                                /* data durable on the host */
	int (*discard)(struct disk *d, uint64_t offset, uint64_t len); /* reads back as zeros */
	void (*close)(struct disk *d);
	/* The image is d->fd: an asynchronous engine may do the same I/O on it directly. */
	bool file_backed;
};

struct disk {
	const struct disk_ops *ops;
	uint64_t size;  /* bytes */
	bool readonly;
	bool sync_only; /* --disk ...,aio=sync: one request at a time, no io_uring */
	int fd;
};

/* Opens a raw image; path and ro as the user gave them (--disk PATH[,ro]). */
struct disk *disk_raw_open(const char *path, bool readonly, struct error *err);

static inline void disk_close(struct disk *d)
{
	if (d)
		d->ops->close(d);
}

#endif
