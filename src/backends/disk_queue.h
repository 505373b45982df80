/* A disk's request queue: the asynchronous face of a disk (disk.h), so a device keeps many
 * requests in flight. Two engines behind one interface: io_uring (disk_uring.c) for
 * file-backed images, with up to `depth` requests in the kernel at once; and the inline
 * engine (disk_queue.c), which runs each request through the disk's synchronous ops when it
 * is submitted: the fallback where io_uring is refused (old kernels, seccomp, io_uring
 * disabled), for disks that are not files (test fakes), and for --disk ...,aio=sync.
 *
 * Contract: one thread uses a queue (the device's worker). A request and the buffers its
 * iovecs point at stay the caller's and must stay valid until the request comes back from
 * disk_queue_reap(); requests complete in any order. Ranges are already checked by the device.
 * Ordering: nothing is ordered between requests in flight; a FLUSH covers the writes that
 * completed (were reaped) before it was submitted, which is what virtio's flush promises. */
#ifndef HARDY_BACKENDS_DISK_QUEUE_H
#define HARDY_BACKENDS_DISK_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/disk.h"

enum disk_op { DISK_READ, DISK_WRITE, DISK_FLUSH, DISK_DISCARD };

struct disk_req {
	enum disk_op op;
	const struct iovec *iov; /* READ, WRITE */
	int iovcnt;
	uint64_t offset, len;    /* bytes; READ and WRITE move exactly len bytes, DISCARD punches */
	int64_t result;          /* set on completion: bytes moved (READ, WRITE), 0, or -errno */
	void *owner;             /* the caller's */
};

struct disk_queue;

struct disk_queue_ops {
	int (*submit)(struct disk_queue *q, struct disk_req *r);
	void (*commit)(struct disk_queue *q);
	unsigned (*reap)(struct disk_queue *q, struct disk_req **done, unsigned max);
	void (*close)(struct disk_queue *q);
};

struct disk_queue {
	const struct disk_queue_ops *ops;
	struct disk *disk;
	const char *engine;   /* "io_uring" or "inline" */
	unsigned depth;       /* requests submitted and not yet reaped, at most */
	unsigned outstanding;
	int event_fd;         /* readable while completions wait to be reaped; -1: inline engine */
};

/* io_uring when the disk is a file, not sync_only, and the kernel allows it; else inline.
 * NULL only when out of memory. */
struct disk_queue *disk_queue_open(struct disk *d, unsigned depth);
/* io_uring alone; NULL when the kernel refuses it (the caller falls back). */
struct disk_queue *disk_uring_open(struct disk *d, unsigned depth);

/* Queues r (0), or -1 when `depth` requests are outstanding. The inline engine runs it now. */
static inline int disk_queue_submit(struct disk_queue *q, struct disk_req *r)
{
	if (q->outstanding >= q->depth)
		return -1;
	if (q->ops->submit(q, r) < 0)
		return -1;
	q->outstanding++;
	return 0;
}

/* Hands what was queued since the last commit to the host. */
static inline void disk_queue_commit(struct disk_queue *q)
{
	if (q->ops->commit)
		q->ops->commit(q);
}

/* Up to max completed requests into done[]; never blocks. */
static inline unsigned disk_queue_reap(struct disk_queue *q, struct disk_req **done, unsigned max)
{
	unsigned n = q->ops->reap(q, done, max);
	q->outstanding -= n;
	return n;
}

static inline unsigned disk_queue_room(const struct disk_queue *q)
{
	return q->depth - q->outstanding;
}

/* Waits for every outstanding request (their buffers may be freed after), then frees q. */
void disk_queue_close(struct disk_queue *q);

#endif
