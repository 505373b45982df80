/* The request queue's engine choice and its inline engine: each request runs through the
 * disk's synchronous ops when it is submitted and waits in a small ring until it is reaped. */
#include "backends/disk_queue.h"

#include <errno.h>
#include <stdlib.h>

struct inline_queue {
	struct disk_queue q;
	unsigned head, count; /* done[] is a ring of q.depth entries */
	struct disk_req *done[];
};

static int64_t inline_run(struct disk *d, const struct disk_req *r)
{
	ssize_t n;
	switch (r->op) {
	case DISK_READ:
		n = d->ops->readv(d, r->iov, r->iovcnt, r->offset);
		break;
	case DISK_WRITE:
		n = d->ops->writev(d, r->iov, r->iovcnt, r->offset);
		break;
	case DISK_FLUSH:
		n = d->ops->flush(d);
		break;
	case DISK_DISCARD:
		n = d->ops->discard(d, r->offset, r->len);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 ? -(errno ? errno : EIO) : n;
}

static int inline_submit(struct disk_queue *q, struct disk_req *r)
{
	struct inline_queue *iq = (struct inline_queue *)q;
	errno = 0;
	r->result = inline_run(q->disk, r);
	iq->done[(iq->head + iq->count++) % q->depth] = r;
	return 0;
}

static unsigned inline_reap(struct disk_queue *q, struct disk_req **done, unsigned max)
{
	struct inline_queue *iq = (struct inline_queue *)q;
	unsigned n = 0;
	for (; n < max && iq->count; n++, iq->count--) {
		done[n] = iq->done[iq->head];
		iq->head = (iq->head + 1) % q->depth;
	}
	return n;
}

static void inline_close(struct disk_queue *q)
{
	free(q);
}

static const struct disk_queue_ops inline_ops = {
	.submit = inline_submit, .reap = inline_reap, .close = inline_close,
};

static struct disk_queue *inline_open(struct disk *d, unsigned depth)
{
	struct inline_queue *iq = calloc(1, sizeof(*iq) + depth * sizeof(iq->done[0]));
	if (!iq)
		return NULL;
	iq->q = (struct disk_queue){ .ops = &inline_ops, .disk = d, .engine = "inline",
				     .depth = depth, .event_fd = -1 };
	return &iq->q;
}

struct disk_queue *disk_queue_open(struct disk *d, unsigned depth)
{
	if (depth == 0)
		depth = 1;
	if (d->ops->file_backed && !d->sync_only) {
		struct disk_queue *q = disk_uring_open(d, depth);
		if (q)
			return q;
	}
	return inline_open(d, depth);
}

void disk_queue_close(struct disk_queue *q)
{
	if (q)
		q->ops->close(q);
}
