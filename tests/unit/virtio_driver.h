/* A minimal virtio-pci driver for unit tests, doing what Linux's virtio_pci_modern does: find
 * the function on bus 0, walk its capabilities, negotiate VERSION_1 plus the given features,
 * set up queues (128 entries each; queue q's rings VD_QSTRIDE * q above queue 0's) with MSI-X
 * (vector 0 configuration, 1 + q for queue q), and submit chains (one, or several at once) to
 * the queue d->cur. Uses fake_services.h's buses. */
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
#define VD_QSIZE 128
#define VD_QSTRIDE 0x3000ULL
#define VD_MAXQ  4 /* rings up to 0x1C000 + used ring: below the tests' buffers at 0x20000 */

struct vdriver {
	struct fake_env *f;
	const struct guest_mem *mem;
	unsigned devfn;
	uint64_t bar, common, notify, device;
	uint32_t mul;
	unsigned nq, cur; /* queues set up; the one vd_add and friends use */
	uint16_t next_desc[VD_MAXQ];
};

static uint32_t vd_cfg_read(struct vdriver *d, unsigned reg)
{
	fake_out(d->f, X86_PCI_CONF_ADDR, 4, 0x80000000u | d->devfn << 8 | (reg & 0xFC));
	return (uint32_t)fake_in(d->f, X86_PCI_CONF_DATA, 4);
}

static void vd_cfg_write(struct vdriver *d, unsigned reg, uint32_t v)
{
	fake_out(d->f, X86_PCI_CONF_ADDR, 4, 0x80000000u | d->devfn << 8 | (reg & 0xFC));
	fake_out(d->f, X86_PCI_CONF_DATA, 4, v);
}

static uint64_t vd_read(struct vdriver *d, unsigned off, unsigned len)
{
	return fake_mmio_read(d->f, d->common + off, len);
}

static void vd_write(struct vdriver *d, unsigned off, unsigned len, uint64_t v)
{
	fake_mmio_write(d->f, d->common + off, len, v);
}

/* Finds the function, negotiates, sets up queues 0 .. nq-1; returns the device's features
 * (low 32). */
static uint32_t vd_init_queues(struct vdriver *d, struct fake_env *f, const struct guest_mem *mem,
			       unsigned slot, uint32_t want, unsigned nq)
{
	CHECK(nq >= 1 && nq <= VD_MAXQ, "the test driver sets up 1 to %d queues", VD_MAXQ);
	*d = (struct vdriver){ .f = f, .mem = mem, .devfn = slot << 3, .nq = nq };
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
	/* Fresh rings, as a driver allocates them: nothing stale from an earlier test. */
	uint64_t rings = VD_QSTRIDE * (VD_MAXQ - 1) + VD_USED + 4 + 8 * VD_QSIZE - VD_DESC;
	memset(gmem_ptr(mem, VD_DESC, rings), 0, rings);
	for (unsigned q = 0; q < nq; q++) {
		vd_write(d, VD_CC(queue_select), 2, q);
		vd_write(d, VD_CC(queue_size), 2, VD_QSIZE);
		vd_write(d, VD_CC(queue_msix_vector), 2, 1 + q);
		vd_write(d, VD_CC(queue_desc_lo), 4, VD_DESC + VD_QSTRIDE * q);
		vd_write(d, VD_CC(queue_avail_lo), 4, VD_AVAIL + VD_QSTRIDE * q);
		vd_write(d, VD_CC(queue_used_lo), 4, VD_USED + VD_QSTRIDE * q);
		vd_write(d, VD_CC(queue_enable), 2, 1);
	}
	vd_write(d, VD_CC(device_status), 1, 0x0F);
	CHECK(vd_read(d, VD_CC(device_status), 1) == 0x0F, "driver not OK");
	return features;
}

static uint32_t vd_init(struct vdriver *d, struct fake_env *f, const struct guest_mem *mem,
			unsigned slot, uint32_t want)
{
	return vd_init_queues(d, f, mem, slot, want, 1);
}

/* Puts one chain of n buffers (gpa, len, writable) in the avail ring without notifying. */
static void vd_add(struct vdriver *d, unsigned n, const uint64_t *gpa, const uint32_t *len,
		   const bool *writable)
{
	uint64_t at = VD_QSTRIDE * d->cur;
	struct vring_desc *desc = gmem_ptr(d->mem, VD_DESC + at, 16 * VD_QSIZE);
	struct vring_avail *avail = gmem_ptr(d->mem, VD_AVAIL + at, 4 + 2 * VD_QSIZE);
	uint16_t head = d->next_desc[d->cur];
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VD_QSIZE);
		desc[idx] = (struct vring_desc){
			.addr = gpa[i], .len = len[i],
			.flags = (uint16_t)((writable[i] ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % VD_QSIZE),
		};
	}
	d->next_desc[d->cur] = (uint16_t)((head + n) % VD_QSIZE);
	avail->ring[avail->idx % VD_QSIZE] = head;
	__atomic_store_n(&avail->idx, (uint16_t)(avail->idx + 1), __ATOMIC_RELEASE);
}

static void vd_notify(struct vdriver *d)
{
	vd_write(d, VD_CC(queue_select), 2, d->cur);
	uint64_t off = vd_read(d, VD_CC(queue_notify_off), 2);
	fake_mmio_write(d->f, d->notify + off * d->mul, 2, d->cur);
}

static uint16_t vd_used_idx(struct vdriver *d)
{
	struct vring_used *used = gmem_ptr(d->mem, VD_USED + VD_QSTRIDE * d->cur, 4 + 8 * VD_QSIZE);
	return __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
}

/* Devices with a worker complete asynchronously: waits up to ms for used->idx to reach
 * target; true when it did. */
static bool vd_wait_used(struct vdriver *d, uint16_t target, int ms)
{
	for (int i = 0; i < ms && vd_used_idx(d) != target; i++)
		usleep(1000);
	return vd_used_idx(d) == target;
}

/* Submits one chain and notifies; returns the used length, or -1 when nothing was used. */
static long vd_submit(struct vdriver *d, unsigned n, const uint64_t *gpa, const uint32_t *len,
		      const bool *writable)
{
	struct vring_used *used = gmem_ptr(d->mem, VD_USED + VD_QSTRIDE * d->cur, 4 + 8 * VD_QSIZE);
	uint16_t used_before = vd_used_idx(d);
	vd_add(d, n, gpa, len, writable);
	vd_notify(d);
	if (!vd_wait_used(d, (uint16_t)(used_before + 1), 300))
		return -1;
	return (long)used->ring[(uint16_t)(used->idx - 1) % VD_QSIZE].len;
}

#endif
