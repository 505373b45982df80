/* The request queue on io_uring: READV/WRITEV at the guest's offsets, FSYNC with
 * IORING_FSYNC_DATASYNC for FLUSH, FALLOCATE (punch hole, keep size) for DISCARD, as
 * disk_raw.c does synchronously. Completions ring an eventfd registered with the ring, which
 * the device's worker polls together with its notifications. Opening fails (and the caller
 * falls back to the inline engine) when the kernel refuses io_uring or lacks an opcode. */
#include "backends/disk_queue.h"

#include <errno.h>
#include <linux/falloc.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct uring_queue {
	struct disk_queue q;
	struct io_uring ring;
};

static int uring_submit(struct disk_queue *q, struct disk_req *r)
{
	struct uring_queue *u = (struct uring_queue *)q;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -1;
	int fd = q->disk->fd;
	switch (r->op) {
	case DISK_READ:
		io_uring_prep_readv(sqe, fd, r->iov, (unsigned)r->iovcnt, r->offset);
		break;
	case DISK_WRITE:
		io_uring_prep_writev(sqe, fd, r->iov, (unsigned)r->iovcnt, r->offset);
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case DISK_DISCARD:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)r->offset, (off_t)r->len);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	return 0;
}

static void uring_commit(struct disk_queue *q)
{
	struct uring_queue *u = (struct uring_queue *)q;
	int r;
	do
		r = io_uring_submit(&u->ring);
	while (r == -EINTR || r == -EAGAIN);
}

static unsigned uring_reap(struct disk_queue *q, struct disk_req **done, unsigned max)
{
	struct uring_queue *u = (struct uring_queue *)q;
	uint64_t count;
	/* Drain the eventfd first: a completion after this read rings it again. */
	if (read(q->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return 0;
	unsigned n = 0;
	struct io_uring_cqe *cqe;
	while (n < max && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct disk_req *r = io_uring_cqe_get_data(cqe);
		r->result = cqe->res;
		done[n++] = r;
		io_uring_cqe_seen(&u->ring, cqe);
	}
	return n;
}

static void uring_close(struct disk_queue *q)
{
	struct uring_queue *u = (struct uring_queue *)q;
	uring_commit(q);
	/* Buffers of requests still in the kernel may be guest RAM about to be unmapped. */
	while (q->outstanding) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		io_uring_cqe_seen(&u->ring, cqe);
		q->outstanding--;
	}
	io_uring_queue_exit(&u->ring);
	close(q->event_fd);
	free(u);
}

static const struct disk_queue_ops uring_ops = {
	.submit = uring_submit, .commit = uring_commit, .reap = uring_reap, .close = uring_close,
};

static bool uring_has_opcodes(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	if (!p)
		return false;
	bool ok = io_uring_opcode_supported(p, IORING_OP_READV) &&
		  io_uring_opcode_supported(p, IORING_OP_WRITEV) &&
		  io_uring_opcode_supported(p, IORING_OP_FSYNC) &&
		  io_uring_opcode_supported(p, IORING_OP_FALLOCATE);
	io_uring_free_probe(p);
	return ok;
}

struct disk_queue *disk_uring_open(struct disk *d, unsigned depth)
{
	struct uring_queue *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	/* The completion ring holds twice the entries by default, more than can be outstanding. */
	if (io_uring_queue_init(depth, &u->ring, 0) < 0) {
		free(u);
		return NULL;
	}
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || !uring_has_opcodes(&u->ring) || io_uring_register_eventfd(&u->ring, efd) < 0) {
		if (efd >= 0)
			close(efd);
		io_uring_queue_exit(&u->ring);
		free(u);
		return NULL;
	}
	/* io_uring rounds the submission ring up to a power of two; depth stays what was asked. */
	u->q = (struct disk_queue){ .ops = &uring_ops, .disk = d, .engine = "io_uring",
				    .depth = depth, .event_fd = efd };
	return &u->q;
}
