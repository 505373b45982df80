/* virtio-pci, modern: the PCI configuration space with its capability list, the BAR's
 * register file (common configuration, ISR, device configuration, notifications, MSI-X), and
 * interrupt delivery by MSI-X. Every guest value reaches the virtio core (core.c) through one
 * of the handlers here, under the device's lock. */
#include "devices/virtio/pci.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "core/event_loop.h"

#define VPCI_VENDOR      0x1AF4
#define VPCI_DEVICE_BASE 0x1040
#define VPCI_BAR_SIZE    0x4000u
/* Where each structure sits in the BAR. */
#define VPCI_COMMON      0x0000u
#define VPCI_ISR         0x1000u
#define VPCI_DEVCFG      0x2000u
#define VPCI_NOTIFY      0x3000u
#define VPCI_NOTIFY_MUL  4u
#define VPCI_MSIX_TABLE  0x3800u
#define VPCI_MSIX_PBA    0x3C00u
#define VPCI_MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)
/* The capability list in configuration space. */
#define VPCI_CAP_COMMON  0x40
#define VPCI_CAP_ISR     0x50
#define VPCI_CAP_NOTIFY  0x60
#define VPCI_CAP_DEVCFG  0x74
#define VPCI_CAP_MSIX    0x84

struct vpci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci_notifier {
	struct virtio_pci *t;
	unsigned q;
	int fd;
};

struct virtio_pci {
	struct virtio_dev vdev; /* first */
	struct pci_function fn;
	uint64_t bar;
	unsigned nr_vectors;
	uint32_t device_feature_sel, driver_feature_sel;
	uint16_t queue_sel, msix_config;
	uint8_t isr;
	struct vpci_msix_entry msix[VPCI_MAX_VECTORS];
	uint32_t pba;
	void (*msi_send)(void *ctx, uint64_t addr, uint32_t data);
	void *irq_ctx;
	struct event_loop *loop;
	struct vpci_notifier notify[VIRTIO_MAX_QUEUES];
};

/* PCI class codes by device type (what lspci shows). */
static uint32_t vpci_class(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_BLOCK: return 0x018000; /* mass storage, other */
	case VIRTIO_ID_NET: return 0x020000;
	default: return 0xFF0000;              /* unassigned class */
	}
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static bool vpci_msix_enabled(const struct virtio_pci *t, bool *masked)
{
	uint16_t ctrl;
	memcpy(&ctrl, &t->fn.cfg[VPCI_CAP_MSIX + PCI_MSIX_FLAGS], 2);
	*masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	return ctrl & PCI_MSIX_FLAGS_ENABLE;
}

/* Sends vector v, or leaves it pending while masked. No vector, no interrupt: without MSI-X
 * enabled the driver gets none (this transport offers no INTx). */
static void vpci_signal_vector(struct virtio_pci *t, uint16_t v)
{
	bool fn_masked;
	if (v >= t->nr_vectors || !vpci_msix_enabled(t, &fn_masked))
		return;
	const struct vpci_msix_entry *e = &t->msix[v];
	if (fn_masked || (e->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT)) {
		t->pba |= 1u << v;
		return;
	}
	t->pba &= ~(1u << v);
	t->msi_send(t->irq_ctx, ((uint64_t)e->addr_hi << 32) | e->addr_lo, e->data);
}

static void vpci_deliver_pending(struct virtio_pci *t)
{
	for (unsigned v = 0; v < t->nr_vectors; v++)
		if (t->pba & (1u << v))
			vpci_signal_vector(t, (uint16_t)v);
}

static void vpci_signal_queue(struct virtio_dev *v, unsigned q)
{
	struct virtio_pci *t = (struct virtio_pci *)v;
	t->isr |= 1;
	vpci_signal_vector(t, v->vq[q].msix_vector);
}

static void vpci_signal_config(struct virtio_dev *v)
{
	struct virtio_pci *t = (struct virtio_pci *)v;
	t->isr |= 2;
	vpci_signal_vector(t, t->msix_config);
}

static const struct virtio_transport_ops vpci_transport = {
	.signal_queue = vpci_signal_queue,
	.signal_config = vpci_signal_config,
};

static struct virtq *vpci_selected(struct virtio_pci *t)
{
	return t->queue_sel < t->vdev.ops->nr_queues ? &t->vdev.vq[t->queue_sel] : NULL;
}

static uint64_t vpci_common_read(struct virtio_pci *t, unsigned off)
{
	struct virtio_dev *v = &t->vdev;
	struct virtq *q = vpci_selected(t);
	uint64_t offered = virtio_offered_features(v);
	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		return t->device_feature_sel;
	case offsetof(struct virtio_pci_common_cfg, device_feature):
		return t->device_feature_sel < 2 ? (uint32_t)(offered >> (32 * t->device_feature_sel)) : 0;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		return t->driver_feature_sel;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		return t->driver_feature_sel < 2
			       ? (uint32_t)(v->driver_features >> (32 * t->driver_feature_sel)) : 0;
	case offsetof(struct virtio_pci_common_cfg, msix_config): return t->msix_config;
	case offsetof(struct virtio_pci_common_cfg, num_queues): return v->ops->nr_queues;
	case offsetof(struct virtio_pci_common_cfg, device_status): return v->status;
	case offsetof(struct virtio_pci_common_cfg, config_generation): return v->config_generation;
	case offsetof(struct virtio_pci_common_cfg, queue_select): return t->queue_sel;
	case offsetof(struct virtio_pci_common_cfg, queue_size): return q ? q->size : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		return q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR;
	case offsetof(struct virtio_pci_common_cfg, queue_enable): return q ? q->enabled : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_notify_off): return t->queue_sel;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo): return q ? (uint32_t)q->desc_gpa : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi): return q ? q->desc_gpa >> 32 : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo): return q ? (uint32_t)q->avail_gpa : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi): return q ? q->avail_gpa >> 32 : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo): return q ? (uint32_t)q->used_gpa : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi): return q ? q->used_gpa >> 32 : 0;
	default: return 0;
	}
}

static void set_lo(uint64_t *r, uint32_t v) { *r = (*r & ~0xFFFFFFFFULL) | v; }
static void set_hi(uint64_t *r, uint32_t v) { *r = (*r & 0xFFFFFFFFULL) | ((uint64_t)v << 32); }

static uint16_t vpci_vector(const struct virtio_pci *t, uint64_t v)
{
	return v < t->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void vpci_reset_transport(struct virtio_pci *t)
{
	t->device_feature_sel = t->driver_feature_sel = 0;
	t->queue_sel = 0;
	t->msix_config = VIRTIO_MSI_NO_VECTOR;
	t->isr = 0;
}

static void vpci_common_write(struct virtio_pci *t, unsigned off, uint64_t val)
{
	struct virtio_dev *v = &t->vdev;
	struct virtq *q = vpci_selected(t);
	/* A queue's setup is fixed once it is enabled. */
	struct virtq *setup = q && !q->enabled ? q : NULL;
	uint32_t w = (uint32_t)val;
	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		t->device_feature_sel = w;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		t->driver_feature_sel = w;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		virtio_write_driver_features(v, t->driver_feature_sel, w);
		break;
	case offsetof(struct virtio_pci_common_cfg, msix_config):
		t->msix_config = vpci_vector(t, (uint16_t)w);
		break;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		virtio_write_status(v, (uint8_t)w);
		if ((uint8_t)w == 0)
			vpci_reset_transport(t);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		t->queue_sel = (uint16_t)w;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		if (setup)
			setup->size = (uint16_t)w; /* checked by vq_activate */
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		if (q)
			q->msix_vector = vpci_vector(t, (uint16_t)w);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		if (setup && (uint16_t)w == 1)
			virtio_enable_queue(v, t->queue_sel);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo): if (setup) set_lo(&setup->desc_gpa, w); break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi): if (setup) set_hi(&setup->desc_gpa, w); break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo): if (setup) set_lo(&setup->avail_gpa, w); break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi): if (setup) set_hi(&setup->avail_gpa, w); break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo): if (setup) set_lo(&setup->used_gpa, w); break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi): if (setup) set_hi(&setup->used_gpa, w); break;
	}
}

static uint64_t vpci_msix_read(struct virtio_pci *t, unsigned off)
{
	unsigned idx = off / PCI_MSIX_ENTRY_SIZE, field = (off % PCI_MSIX_ENTRY_SIZE) / 4;
	if (idx >= t->nr_vectors || off % 4)
		return 0;
	const uint32_t *e = &t->msix[idx].addr_lo;
	return e[field];
}

static void vpci_msix_write(struct virtio_pci *t, unsigned off, uint32_t val)
{
	unsigned idx = off / PCI_MSIX_ENTRY_SIZE, field = (off % PCI_MSIX_ENTRY_SIZE) / 4;
	if (idx >= t->nr_vectors || off % 4)
		return;
	uint32_t *e = &t->msix[idx].addr_lo;
	e[field] = field == 3 ? (val & PCI_MSIX_ENTRY_CTRL_MASKBIT) : val;
	if (field == 3 && !(val & PCI_MSIX_ENTRY_CTRL_MASKBIT) && (t->pba & (1u << idx)))
		vpci_signal_vector(t, (uint16_t)idx);
}

static uint64_t vpci_bar_read(void *dev, uint64_t off, unsigned len)
{
	struct virtio_pci *t = dev;
	struct virtio_dev *v = &t->vdev;
	uint64_t r = 0;
	pthread_mutex_lock(&v->dev.lock);
	if (off < VPCI_COMMON + sizeof(struct virtio_pci_common_cfg)) {
		r = vpci_common_read(t, (unsigned)off);
	} else if (off == VPCI_ISR) {
		r = t->isr; /* reading clears it */
		t->isr = 0;
	} else if (off >= VPCI_DEVCFG && off < VPCI_DEVCFG + v->config_size) {
		unsigned o = (unsigned)(off - VPCI_DEVCFG);
		for (unsigned i = 0; i < len && o + i < v->config_size; i++)
			r |= (uint64_t)v->config[o + i] << (8 * i);
	} else if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + 16u * t->nr_vectors) {
		r = vpci_msix_read(t, (unsigned)(off - VPCI_MSIX_TABLE));
	} else if (off == VPCI_MSIX_PBA) {
		r = t->pba;
	}
	pthread_mutex_unlock(&v->dev.lock);
	return r;
}

static void vpci_bar_write(void *dev, uint64_t off, unsigned len, uint64_t val)
{
	struct virtio_pci *t = dev;
	struct virtio_dev *v = &t->vdev;
	pthread_mutex_lock(&v->dev.lock);
	if (off < VPCI_COMMON + sizeof(struct virtio_pci_common_cfg)) {
		vpci_common_write(t, (unsigned)off, val);
	} else if (off >= VPCI_DEVCFG && off < VPCI_DEVCFG + v->config_size) {
		unsigned o = (unsigned)(off - VPCI_DEVCFG);
		for (unsigned i = 0; i < len && o + i < v->config_size; i++)
			if (v->ops->config_write)
				v->ops->config_write(v, o + i, (uint8_t)(val >> (8 * i)));
	} else if (off >= VPCI_NOTIFY && off < VPCI_NOTIFY + VPCI_NOTIFY_MUL * v->ops->nr_queues) {
		/* The fallback path: the backend had no ioeventfd for this write. */
		virtio_notify(v, (unsigned)(off - VPCI_NOTIFY) / VPCI_NOTIFY_MUL);
	} else if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + 16u * t->nr_vectors) {
		vpci_msix_write(t, (unsigned)(off - VPCI_MSIX_TABLE), (uint32_t)val);
	}
	pthread_mutex_unlock(&v->dev.lock);
}

static const struct bus_ops vpci_bar_ops = { .read = vpci_bar_read, .write = vpci_bar_write };

/* A configuration write landed (under the device lock): unmasking MSI-X may release pending
 * vectors. */
static void vpci_cfg_written(struct pci_function *f, unsigned reg, unsigned len)
{
	struct virtio_pci *t = f->owner;
	if (reg + len > VPCI_CAP_MSIX + PCI_MSIX_FLAGS && reg <= VPCI_CAP_MSIX + PCI_MSIX_FLAGS + 1)
		vpci_deliver_pending(t);
}

static void vpci_on_notify(void *ctx, uint32_t events)
{
	struct vpci_notifier *n = ctx;
	uint64_t count;
	if (read(n->fd, &count, sizeof(count)) < 0)
		return; /* spurious wake-up */
	struct virtio_dev *v = &n->t->vdev;
	pthread_mutex_lock(&v->dev.lock);
	virtio_notify(v, n->q);
	pthread_mutex_unlock(&v->dev.lock);
}

/* Notifications through ioeventfds where the backend has them; any that fails keeps the MMIO
 * path, which works the same. */
static void vpci_setup_notify(struct virtio_pci *t, const struct dev_services *svc)
{
	for (unsigned q = 0; q < t->vdev.ops->nr_queues; q++) {
		struct vpci_notifier *n = &t->notify[q];
		*n = (struct vpci_notifier){ .t = t, .q = q, .fd = -1 };
		if (!svc->ioeventfd || !svc->loop)
			continue;
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			continue;
		uint64_t gpa = t->bar + VPCI_NOTIFY + VPCI_NOTIFY_MUL * q;
		if (svc->ioeventfd(svc->irq_ctx, gpa, 2, fd) < 0 ||
		    event_loop_add(svc->loop, fd, EPOLLIN, vpci_on_notify, n, NULL) < 0) {
			close(fd);
			continue;
		}
		n->fd = fd;
	}
}

static void vpci_reset(struct device *d)
{
	struct virtio_pci *t = (struct virtio_pci *)d;
	pthread_mutex_lock(&d->lock);
	virtio_reset(&t->vdev);
	vpci_reset_transport(t);
	memset(t->msix, 0, sizeof(t->msix));
	for (unsigned i = 0; i < t->nr_vectors; i++)
		t->msix[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	t->pba = 0;
	t->fn.cfg[VPCI_CAP_MSIX + PCI_MSIX_FLAGS + 1] &= 0x3F; /* MSI-X off, unmasked */
	pthread_mutex_unlock(&d->lock);
}

static void vpci_destroy(struct device *d)
{
	struct virtio_pci *t = (struct virtio_pci *)d;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (t->notify[q].fd >= 0) {
			if (t->loop)
				event_loop_remove(t->loop, t->notify[q].fd);
			close(t->notify[q].fd);
		}
	}
	if (t->vdev.ops && t->vdev.ops->destroy)
		t->vdev.ops->destroy(&t->vdev);
}

static const struct device_ops vpci_device_ops = {
	.name = "virtio-pci", .reset = vpci_reset, .destroy = vpci_destroy,
};

static void vpci_cap(uint8_t *cfg, unsigned at, unsigned next, uint8_t type, uint32_t offset,
		     uint32_t length, unsigned cap_len)
{
	struct virtio_pci_cap c = {
		.cap_vndr = PCI_CAP_ID_VNDR, .cap_next = (uint8_t)next, .cap_len = (uint8_t)cap_len,
		.cfg_type = type, .bar = 0, .offset = offset, .length = length,
	};
	memcpy(&cfg[at], &c, sizeof(c));
}

/* The configuration space: identity, BAR 0, and the capability list. */
static void vpci_build_config(struct virtio_pci *t)
{
	uint8_t *c = t->fn.cfg, *m = t->fn.wmask;
	const struct virtio_dev_ops *ops = t->vdev.ops;
	put16(&c[PCI_VENDOR_ID], VPCI_VENDOR);
	put16(&c[PCI_DEVICE_ID], (uint16_t)(VPCI_DEVICE_BASE + ops->type));
	put16(&c[PCI_STATUS], PCI_STATUS_CAP_LIST);
	put32(&c[PCI_CLASS_REVISION], vpci_class(ops->type) << 8 | 1);
	put32(&c[PCI_BASE_ADDRESS_0], (uint32_t)t->bar | PCI_BASE_ADDRESS_MEM_TYPE_32);
	put16(&c[PCI_SUBSYSTEM_VENDOR_ID], VPCI_VENDOR);
	put16(&c[PCI_SUBSYSTEM_ID], 0x40 + ops->type);
	c[PCI_CAPABILITY_LIST] = VPCI_CAP_COMMON;
	/* The guest may switch decoding and bus mastering, size BAR 0, and use the line byte. */
	put16(&m[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	put32(&m[PCI_BASE_ADDRESS_0], ~(VPCI_BAR_SIZE - 1));
	m[PCI_INTERRUPT_LINE] = 0xFF;

	unsigned after_notify = t->vdev.config_size ? VPCI_CAP_DEVCFG : VPCI_CAP_MSIX;
	vpci_cap(c, VPCI_CAP_COMMON, VPCI_CAP_ISR, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON,
		 sizeof(struct virtio_pci_common_cfg), sizeof(struct virtio_pci_cap));
	vpci_cap(c, VPCI_CAP_ISR, VPCI_CAP_NOTIFY, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 1,
		 sizeof(struct virtio_pci_cap));
	vpci_cap(c, VPCI_CAP_NOTIFY, after_notify, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY,
		 VPCI_NOTIFY_MUL * ops->nr_queues, sizeof(struct virtio_pci_notify_cap));
	put32(&c[VPCI_CAP_NOTIFY + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier)],
	      VPCI_NOTIFY_MUL);
	if (t->vdev.config_size)
		vpci_cap(c, VPCI_CAP_DEVCFG, VPCI_CAP_MSIX, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVCFG,
			 t->vdev.config_size, sizeof(struct virtio_pci_cap));

	c[VPCI_CAP_MSIX] = PCI_CAP_ID_MSIX;
	c[VPCI_CAP_MSIX + 1] = 0;
	put16(&c[VPCI_CAP_MSIX + PCI_MSIX_FLAGS], (uint16_t)(t->nr_vectors - 1));
	put32(&c[VPCI_CAP_MSIX + PCI_MSIX_TABLE], VPCI_MSIX_TABLE); /* BIR 0 */
	put32(&c[VPCI_CAP_MSIX + PCI_MSIX_PBA], VPCI_MSIX_PBA);
	m[VPCI_CAP_MSIX + PCI_MSIX_FLAGS + 1] = 0xC0; /* enable and function mask */
}

struct virtio_dev *virtio_pci_create(const struct dev_services *svc, struct pci_host *host,
				     const struct virtio_dev_ops *ops, void *priv,
				     const void *config, unsigned config_size, struct error *err)
{
	struct virtio_pci *t = device_new(svc, sizeof(*t), &vpci_device_ops, err);
	if (!t) {
		if (ops->destroy) {
			struct virtio_dev tmp = { .ops = ops, .priv = priv };
			ops->destroy(&tmp);
		}
		return NULL;
	}
	struct virtio_dev *v = &t->vdev;
	v->ops = ops;
	v->priv = priv;
	v->transport = &vpci_transport;
	v->mem = svc->mem;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		t->notify[q].fd = -1;
	if (ops->nr_queues == 0 || ops->nr_queues > VIRTIO_MAX_QUEUES ||
	    config_size > VIRTIO_CONFIG_MAX) {
		error_set(err, ERR_RUNTIME, "%s: bad queue count or config size", ops->name);
		return NULL;
	}
	if (config_size)
		memcpy(v->config, config, config_size);
	v->config_size = config_size;
	t->nr_vectors = ops->nr_queues + 1;
	t->msi_send = svc->msi_send;
	t->irq_ctx = svc->irq_ctx;
	t->loop = svc->loop;
	t->fn.lock = &t->vdev.dev.lock;
	t->fn.owner = t;
	t->fn.cfg_written = vpci_cfg_written;
	if (resources_mmio(svc->res, VPCI_BAR_SIZE, VPCI_BAR_SIZE, &t->bar, err) < 0)
		return NULL;
	vpci_reset(&t->vdev.dev);
	vpci_build_config(t);
	if (bus_register(svc->mmio, t->bar, VPCI_BAR_SIZE, &vpci_bar_ops, t, ops->name, err) < 0 ||
	    pci_host_attach(host, &t->fn, err) < 0)
		return NULL;
	vpci_setup_notify(t, svc);
	return v;
}
