/* A minimal virtio-pci driver for unit tests, doing what Linux's virtio_pci_modern does: find
 * the function on bus 0, walk its capabilities, negotiate VERSION_1 plus the given features,
 * set up queues 0..n-1 (VD_QSIZE entries each, 16 unless the test defines it before including
 * this, at most 128; rings at VD_DESC + q * VD_QSTRIDE ...) with MSI-X
 * (vector 0 config, 1 + q for queue q), and submit chains. Uses fake_services.h's buses;
 * devices that work on the event loop get it run through d->poll while a test waits. */
#ifndef HARDY_TESTS_VIRTIO_DRIVER_H
#define HARDY_TESTS_VIRTIO_DRIVER_H

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stddef.h>

#include "arch/x86/layout.h"
#include "check.h"
#include "fake_services.h"

#define VD_CC(field) offsetof(struct virtio_pci_common_cfg, field)
#define VD_DESC  0x10000ULL
#define VD_AVAIL 0x11000ULL
#define VD_USED  0x12000ULL
#ifndef VD_QSIZE
#define VD_QSIZE 16
#endif
#define VD_QSTRIDE 0x4000ULL /* queue q's rings: VD_DESC/AVAIL/USED + q * VD_QSTRIDE */
#define VD_MAX_QUEUES 4

struct vdriver {
	struct fake_env *f;
	const struct guest_mem *mem;
	unsigned devfn;
	uint64_t bar, common, notify, device;
	uint32_t mul;
	uint16_t next_desc[VD_MAX_QUEUES];
	void (*poll)(void *ctx); /* run while waiting for the device (an event loop), optional */
	void *poll_ctx;
};

static inline uint32_t vd_cfg_read(struct vdriver *d, unsigned reg)
{
	fake_out(d->f, X86_PCI_CONF_ADDR, 4, 0x80000000u | d->devfn << 8 | (reg & 0xFC));
	return (uint32_t)fake_in(d->f, X86_PCI_CONF_DATA, 4);
}

static inline void vd_cfg_write(struct vdriver *d, unsigned reg, uint32_t v)
{
	fake_out(d->f, X86_PCI_CONF_ADDR, 4, 0x80000000u | d->devfn << 8 | (reg & 0xFC));
	fake_out(d->f, X86_PCI_CONF_DATA, 4, v);
}

static inline uint64_t vd_read(struct vdriver *d, unsigned off, unsigned len)
{
	return fake_mmio_read(d->f, d->common + off, len);
}

static inline void vd_write(struct vdriver *d, unsigned off, unsigned len, uint64_t v)
{
	fake_mmio_write(d->f, d->common + off, len, v);
}

/* Finds the function, negotiates, sets up queues 0..nq-1; returns the device's features
 * (low 32). */
static inline uint32_t vd_init_queues(struct vdriver *d, struct fake_env *f, const struct guest_mem *mem,
			       unsigned slot, uint32_t want, unsigned nq)
{
	*d = (struct vdriver){ .f = f, .mem = mem, .devfn = slot << 3 };
	CHECK((vd_cfg_read(d, 0) & 0xFFFF) == 0x1AF4, "no virtio function at slot %u", slot);
	d->bar = vd_cfg_read(d, PCI_BASE_ADDRESS_0) & ~0xFu;
	unsigned msix = 0;
	for (unsigned at = vd_cfg_read(d, PCI_CAPABILITY_LIST) & 0xFF, n = 0; at && n < 16;
	     at = (vd_cfg_read(d, at) >> 8) & 0xFF, n++) {
		uint32_t head = vd_cfg_read(d, at);
		if ((head & 0xFF) == PCI_CAP_ID_MSIX)
			msix = at;
		if ((head & 0xFF) != PCI_CAP_ID_VNDR)
			continue;
		uint64_t where = d->bar + vd_cfg_read(d, at + 8);
		switch ((head >> 24) & 0xFF) {
		case VIRTIO_PCI_CAP_COMMON_CFG: d->common = where; break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG: d->notify = where; d->mul = vd_cfg_read(d, at + 16); break;
		case VIRTIO_PCI_CAP_DEVICE_CFG: d->device = where; break;
		}
	}
	CHECK(d->common && d->notify && msix, "capabilities missing");
	vd_write(d, VD_CC(device_status), 1, 0);
	vd_write(d, VD_CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vd_write(d, VD_CC(device_feature_select), 4, 0);
	uint32_t features = (uint32_t)vd_read(d, VD_CC(device_feature), 4);
	vd_write(d, VD_CC(guest_feature_select), 4, 0);
	vd_write(d, VD_CC(guest_feature), 4, want & features);
	vd_write(d, VD_CC(guest_feature_select), 4, 1);
	vd_write(d, VD_CC(guest_feature), 4, 1); /* VERSION_1 */
	vd_write(d, VD_CC(device_status), 1, 0x0B);
	/* MSI-X: vector 0 config, 1 + q queue q, all unmasked. */
	uint64_t table = d->bar + (vd_cfg_read(d, msix + PCI_MSIX_TABLE) & ~7u);
	for (unsigned v = 0; v < 1 + nq; v++) {
		fake_mmio_write(f, table + 16 * v, 4, 0xFEE00000u);
		fake_mmio_write(f, table + 16 * v + 8, 4, 0x30 + v);
		fake_mmio_write(f, table + 16 * v + 12, 4, 0);
	}
	vd_cfg_write(d, msix, vd_cfg_read(d, msix) | (uint32_t)PCI_MSIX_FLAGS_ENABLE << 16);
	vd_write(d, VD_CC(msix_config), 2, 0);
	for (unsigned q = 0; q < nq; q++) {
		/* Fresh rings, as a driver allocates them (a test may init the device again). */
		memset(gmem_ptr(mem, VD_DESC + q * VD_QSTRIDE, 0x3000), 0, 0x3000);
		vd_write(d, VD_CC(queue_select), 2, q);
		vd_write(d, VD_CC(queue_size), 2, VD_QSIZE);
		vd_write(d, VD_CC(queue_msix_vector), 2, 1 + q);
		vd_write(d, VD_CC(queue_desc_lo), 4, VD_DESC + q * VD_QSTRIDE);
		vd_write(d, VD_CC(queue_avail_lo), 4, VD_AVAIL + q * VD_QSTRIDE);
		vd_write(d, VD_CC(queue_used_lo), 4, VD_USED + q * VD_QSTRIDE);
		vd_write(d, VD_CC(queue_enable), 2, 1);
	}
	vd_write(d, VD_CC(device_status), 1, 0x0F);
	CHECK(vd_read(d, VD_CC(device_status), 1) == 0x0F, "driver not OK");
	return features;
}

static inline uint32_t vd_init(struct vdriver *d, struct fake_env *f, const struct guest_mem *mem,
			unsigned slot, uint32_t want)
{
	return vd_init_queues(d, f, mem, slot, want, 1);
}

static inline struct vring_used *vd_used_ring(struct vdriver *d, unsigned q)
{
	return gmem_ptr(d->mem, VD_USED + q * VD_QSTRIDE, 4 + 8 * VD_QSIZE);
}

/* Makes one chain of n buffers (gpa, len, writable) available on queue q without notifying;
 * returns the head. */
static inline uint16_t vd_add(struct vdriver *d, unsigned q, unsigned n, const uint64_t *gpa,
			      const uint32_t *len, const bool *writable)
{
	struct vring_desc *desc = gmem_ptr(d->mem, VD_DESC + q * VD_QSTRIDE, 16 * VD_QSIZE);
	struct vring_avail *avail = gmem_ptr(d->mem, VD_AVAIL + q * VD_QSTRIDE, 4 + 2 * VD_QSIZE);
	uint16_t head = d->next_desc[q];
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VD_QSIZE);
		desc[idx] = (struct vring_desc){
			.addr = gpa[i], .len = len[i],
			.flags = (uint16_t)((writable[i] ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % VD_QSIZE),
		};
	}
	d->next_desc[q] = (uint16_t)((head + n) % VD_QSIZE);
	avail->ring[avail->idx % VD_QSIZE] = head;
	__atomic_store_n(&avail->idx, (uint16_t)(avail->idx + 1), __ATOMIC_RELEASE);
	return head;
}

static inline void vd_notify(struct vdriver *d, unsigned q)
{
	fake_mmio_write(d->f, d->notify + q * d->mul, 2, q);
}

/* vd_add, then notify, without waiting; returns the head. */
static inline uint16_t vd_post(struct vdriver *d, unsigned q, unsigned n, const uint64_t *gpa,
			       const uint32_t *len, const bool *writable)
{
	uint16_t head = vd_add(d, q, n, gpa, len, writable);
	vd_notify(d, q);
	return head;
}

static inline uint16_t vd_used_idx(struct vdriver *d, unsigned q)
{
	return __atomic_load_n(&vd_used_ring(d, q)->idx, __ATOMIC_ACQUIRE);
}

/* Waits up to ms (running d->poll) until queue q's used index is target; true when it is. */
static inline bool vd_wait_used_to(struct vdriver *d, unsigned q, uint16_t target, int ms)
{
	for (int i = 0; i < ms && vd_used_idx(d, q) != target; i++) {
		if (d->poll)
			d->poll(d->poll_ctx);
		else
			usleep(1000);
	}
	return vd_used_idx(d, q) == target;
}

/* Waits up to 300 ms (running d->poll) until queue q's used index passes before. */
static inline bool vd_wait_used(struct vdriver *d, unsigned q, uint16_t before)
{
	struct vring_used *used = vd_used_ring(d, q);
	for (int i = 0; i < 300 && __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == before; i++) {
		if (d->poll)
			d->poll(d->poll_ctx);
		else
			usleep(1000); /* devices with a worker complete asynchronously */
	}
	return used->idx != before;
}

/* Submits one chain on queue q and waits; returns the used length, or -1 when nothing was
 * used. */
static inline long vd_submit_q(struct vdriver *d, unsigned q, unsigned n, const uint64_t *gpa,
			const uint32_t *len, const bool *writable)
{
	struct vring_used *used = vd_used_ring(d, q);
	uint16_t used_before = used->idx;
	vd_post(d, q, n, gpa, len, writable);
	if (!vd_wait_used(d, q, used_before))
		return -1;
	return (long)used->ring[(uint16_t)(used->idx - 1) % VD_QSIZE].len;
}

static inline long vd_submit(struct vdriver *d, unsigned n, const uint64_t *gpa, const uint32_t *len,
		      const bool *writable)
{
	return vd_submit_q(d, 0, n, gpa, len, writable);
}

#endif
