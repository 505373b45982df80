/* virtio-blk (device type 2): one request queue per vCPU (VIRTIO_BLK_F_MQ), many requests in
 * flight, one worker thread for all the disk's queues. Each request is
 * one chain: a readable 16-byte header (type, priority, sector), the data, and a writable
 * status byte at the very end; blk_req.c checks it and turns it into disk requests.
 *
 * Requests run on the device's own worker thread (started at the first notification). A
 * notification (event loop or vCPU thread, under the device lock) only rings the worker's
 * eventfd. The worker pops chains under the device lock while it has free slots and the disk
 * queue has room, submits their disk requests without the lock (io_uring: many in flight;
 * inline engine: one chain at a time, run right there), reaps what completed, and posts the
 * used entries under the lock again, with one interrupt per round. While it works, the driver
 * is asked not to notify (VRING_USED_F_NO_NOTIFY); the flag is cleared, and the rings checked
 * once more, before it sleeps. A chain popped before a
 * driver reset is never completed after it (the generation check); its I/O still finishes
 * before its slot is reused, and before the worker exits. */
#include "devices/virtio/blk.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#include "devices/virtio/blk_req.h"
#include "devices/virtio/pci.h"

#define BLK_SLOTS       128u /* chains in flight at most (the queue holds 256) */
#define BLK_DISK_DEPTH  256u /* disk requests in flight at most */

struct virtio_blk {
	struct virtio_dev_ops ops; /* this disk's: the queue count and RO vary */
	struct blk_target target;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_dev *v;
	/* Under the device lock: started, quit, generation. */
	pthread_t worker;
	bool started, quit;
	unsigned generation; /* driver resets so far */
	int kick_fd;         /* eventfd: notifications and quit */
	/* The worker's own (allocated when it starts). */
	struct disk *disk;
	struct disk_queue *dq;
	unsigned nr_slots, nr_free, in_flight;
	unsigned next_queue; /* where the next round starts popping, so no queue starves */
	struct blk_req *slots;
	struct blk_req **free_slots;
	struct vq_chain chain; /* 4 KiB scratch for vq_pop */
};

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
	uint64_t one = 1;
	(void)!write(b->kick_fd, &one, sizeof(one)); /* a full counter still wakes the worker */
}

static void blk_reset(struct virtio_dev *v)
{
	((struct virtio_blk *)v->priv)->generation++;
}

static bool blk_queue_live(const struct virtio_dev *v, unsigned q)
{
	return (v->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(v->status & VIRTIO_CONFIG_S_NEEDS_RESET) && v->vq[q].active;
}

/* Under the lock: pops chains into free slots while the disk queue has room for the largest
 * request, taking one chain from each queue in turn. Those needing the disk go to *submit,
 * the others to *answered. */
static void blk_pop_chains(struct virtio_blk *b, struct blk_req **submit, unsigned *nr_submit,
			   struct blk_req **answered, unsigned *nr_answered)
{
	struct virtio_dev *v = b->v;
	unsigned nq = b->ops.nr_queues, room = disk_queue_room(b->dq);
	unsigned idle = 0; /* queues in a row that had nothing */
	for (unsigned q = b->next_queue % nq; idle < nq; q = (q + 1) % nq) {
		if (b->quit || !b->nr_free || room < BLK_MAX_DISCARD_SEG)
			break;
		if (!blk_queue_live(v, q)) {
			idle++;
			continue;
		}
		/* Busy: the driver need not notify until the worker is about to sleep. */
		vq_set_notify(&v->vq[q], false);
		int r = vq_pop(&v->vq[q], v->mem, &b->chain);
		if (r == 0) {
			idle++;
			continue;
		}
		if (r < 0 || b->chain.in_len == 0) {
			/* A broken chain, or one with nowhere to put the status. */
			virtio_needs_reset(v);
			break;
		}
		idle = 0;
		struct blk_req *req = b->free_slots[--b->nr_free];
		b->in_flight++;
		req->generation = b->generation;
		req->queue = q;
		blk_req_parse(&b->target, &b->chain, req);
		if (req->nr_disk) {
			submit[(*nr_submit)++] = req;
			room -= req->nr_disk;
		} else {
			answered[(*nr_answered)++] = req;
		}
	}
	b->next_queue++;
}

/* Without the lock: hands the requests to the disk queue; returns finished chains. */
static void blk_submit(struct virtio_blk *b, struct blk_req **submit, unsigned nr_submit,
		       struct blk_req **answered, unsigned *nr_answered)
{
	for (unsigned i = 0; i < nr_submit; i++) {
		struct blk_req *req = submit[i];
		for (unsigned j = 0; j < req->nr_disk; j++) {
			if (disk_queue_submit(b->dq, &req->disk[j]) == 0)
				continue;
			/* Cannot happen (room was checked); answer IOERR for what did not go. */
			req->disk[j].result = -EAGAIN;
			if (blk_req_disk_done(req, &req->disk[j]))
				answered[(*nr_answered)++] = req;
		}
	}
	disk_queue_commit(b->dq);
}

/* Without the lock: collects disk completions; chains whose requests are all done. */
static void blk_reap(struct virtio_blk *b, struct blk_req **answered, unsigned *nr_answered)
{
	struct disk_req *done[64];
	unsigned n;
	do {
		n = disk_queue_reap(b->dq, done, 64);
		for (unsigned i = 0; i < n; i++) {
			struct blk_req *req = done[i]->owner;
			if (blk_req_disk_done(req, done[i]))
				answered[(*nr_answered)++] = req;
		}
	} while (n == 64);
}

/* Under the lock: used entries for this round's answers, one interrupt for all of them. */
static void blk_post(struct virtio_blk *b, struct blk_req **answered, unsigned nr)
{
	struct virtio_dev *v = b->v;
	unsigned pushed = 0; /* a bit per queue */
	for (unsigned i = 0; i < nr; i++) {
		struct blk_req *req = answered[i];
		if (req->generation == b->generation) {
			virtio_push_used(v, req->queue, req->head, blk_req_finish(req));
			pushed |= 1u << req->queue;
		}
		b->free_slots[b->nr_free++] = req;
		b->in_flight--;
	}
	for (unsigned q = 0; q < b->ops.nr_queues; q++)
		if (pushed & (1u << q))
			virtio_signal_used(v, q);
}

/* Under the lock, before sleeping: notifications back on; false when a chain arrived that
 * the driver may not have notified (it saw the old flag), so the worker must not sleep. */
static bool blk_notify_on(struct virtio_blk *b)
{
	struct virtio_dev *v = b->v;
	bool pending = false;
	for (unsigned q = 0; q < b->ops.nr_queues; q++) {
		if (!blk_queue_live(v, q))
			continue;
		vq_set_notify(&v->vq[q], true);
		pending |= vq_has_pending(&v->vq[q]);
	}
	return !pending;
}

/* Without the lock: waits for a notification or a completion. */
static void blk_wait(struct virtio_blk *b)
{
	struct pollfd p[2] = { { .fd = b->kick_fd, .events = POLLIN },
			       { .fd = b->dq->event_fd, .events = POLLIN } };
	if (poll(p, b->dq->event_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
		usleep(1000); /* cannot fail with valid descriptors; never spin */
	uint64_t count;
	if (p[0].revents & POLLIN)
		(void)!read(b->kick_fd, &count, sizeof(count));
}

static bool blk_worker_setup(struct virtio_blk *b)
{
	b->dq = disk_queue_open(b->disk, BLK_DISK_DEPTH);
	if (!b->dq)
		return false;
	/* The inline engine runs requests one after another: one chain at a time. */
	b->nr_slots = b->dq->event_fd >= 0 ? BLK_SLOTS : 1;
	b->slots = calloc(b->nr_slots, sizeof(*b->slots));
	b->free_slots = calloc(b->nr_slots, sizeof(*b->free_slots));
	if (!b->slots || !b->free_slots)
		return false;
	for (unsigned i = 0; i < b->nr_slots; i++)
		b->free_slots[i] = &b->slots[i];
	b->nr_free = b->nr_slots;
	return true;
}

static void *blk_worker(void *arg)
{
	struct virtio_blk *b = arg;
	struct virtio_dev *v = b->v;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's business */
	bool ok = blk_worker_setup(b);
	struct blk_req **submit = calloc(BLK_SLOTS, sizeof(*submit));
	struct blk_req **answered = calloc(BLK_SLOTS, sizeof(*answered));
	pthread_mutex_lock(&v->dev.lock);
	if (!ok || !submit || !answered) {
		virtio_needs_reset(v); /* out of memory: the driver sees a broken device */
		b->quit = true;
	}
	/* Quit stops the popping; the worker leaves once nothing is in flight. */
	while (!b->quit || b->in_flight) {
		unsigned nr_submit = 0, nr_answered = 0;
		blk_pop_chains(b, submit, &nr_submit, answered, &nr_answered);
		pthread_mutex_unlock(&v->dev.lock);
		blk_submit(b, submit, nr_submit, answered, &nr_answered);
		blk_reap(b, answered, &nr_answered);
		bool idle = nr_submit == 0 && nr_answered == 0;
		pthread_mutex_lock(&v->dev.lock);
		if (idle && blk_notify_on(b)) {
			pthread_mutex_unlock(&v->dev.lock);
			blk_wait(b);
			pthread_mutex_lock(&v->dev.lock);
		}
		blk_post(b, answered, nr_answered);
	}
	pthread_mutex_unlock(&v->dev.lock);
	free(submit);
	free(answered);
	return NULL;
}

static void blk_destroy(struct virtio_dev *v)
{
	struct virtio_blk *b = v->priv;
	if (b->started) {
		pthread_mutex_lock(&v->dev.lock);
		b->quit = true;
		pthread_mutex_unlock(&v->dev.lock);
		uint64_t one = 1;
		(void)!write(b->kick_fd, &one, sizeof(one));
		pthread_join(b->worker, NULL);
	}
	disk_queue_close(b->dq);
	free(b->slots);
	free(b->free_slots);
	close(b->kick_fd);
	free(b);
}

struct virtio_dev *virtio_blk_create(const struct dev_services *svc, struct pci_host *host,
				     struct disk *disk, const char *id, unsigned nr_queues,
				     struct error *err)
{
	nr_queues = nr_queues < 1 ? 1 : nr_queues > VIRTIO_MAX_QUEUES ? VIRTIO_MAX_QUEUES : nr_queues;
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		error_errno(err, "out of memory for virtio-blk");
		return NULL;
	}
	b->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->kick_fd < 0) {
		error_errno(err, "virtio-blk: eventfd");
		free(b);
		return NULL;
	}
	b->disk = disk;
	b->ops = (struct virtio_dev_ops){
		.name = "virtio-blk", .type = VIRTIO_ID_BLOCK, .nr_queues = nr_queues,
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH) |
			    (disk->readonly ? 1ULL << VIRTIO_BLK_F_RO
					    : (1ULL << VIRTIO_BLK_F_DISCARD) |
						      (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)) |
			    (nr_queues > 1 ? 1ULL << VIRTIO_BLK_F_MQ : 0) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX),
		.queue_notify = blk_queue_notify, .reset = blk_reset, .destroy = blk_destroy,
	};
	if (id)
		memcpy(b->id, id, strnlen(id, sizeof(b->id))); /* no NUL at 20 bytes, as the spec says */
	b->target = (struct blk_target){ .size = disk->size, .readonly = disk->readonly, .id = b->id };
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
		.num_queues = (uint16_t)nr_queues,
	};
	struct virtio_dev *v = virtio_pci_create(svc, host, &b->ops, b, &cfg, sizeof(cfg), err);
	if (!v)
		return NULL;
	b->v = v;
	return v;
}
