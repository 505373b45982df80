/* virtio-rng (virtio 1.x device type 4): one queue of writable buffers, each filled from the
 * entropy source. No config space, no features of its own. */
#include "devices/virtio/rng.h"

#include <stdlib.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_rng.h>

#include "devices/virtio/pci.h"

#define RNG_MAX_PER_CHAIN (64u << 10) /* bytes given per request at most */

struct virtio_rng {
	struct entropy_source src;
};

static void rng_queue_notify(struct virtio_dev *v, unsigned q)
{
	struct virtio_rng *rng = v->priv;
	struct vq_chain c;
	int r;
	while ((r = vq_pop(&v->vq[q], v->mem, &c)) > 0) {
		uint64_t want = c.in_len < RNG_MAX_PER_CHAIN ? c.in_len : RNG_MAX_PER_CHAIN;
		uint32_t written = 0;
		while (written < want) {
			uint8_t buf[4096];
			size_t n = want - written < sizeof(buf) ? want - written : sizeof(buf);
			ssize_t got = rng->src.read(rng->src.ctx, buf, n);
			if (got <= 0)
				break; /* hand back what there is; the driver asks again */
			written += vq_chain_write(&c, written, buf, (uint32_t)got);
		}
		virtio_complete(v, q, c.head, written);
	}
	if (r < 0)
		virtio_needs_reset(v);
}

static void rng_destroy(struct virtio_dev *v)
{
	free(v->priv);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.type = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

struct virtio_dev *virtio_rng_create(const struct dev_services *svc, struct pci_host *host,
				     struct entropy_source src, struct error *err)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng) {
		error_errno(err, "out of memory for virtio-rng");
		return NULL;
	}
	rng->src = src;
	return virtio_pci_create(svc, host, &rng_ops, rng, NULL, 0, err);
}
