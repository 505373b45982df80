/* Unit test: virtio-rng over the virtio-pci transport, driven as Linux's virtio_pci_modern
 * driver drives it, with no VM: found by a conf1 scan of bus 0, BAR 0 sized and its
 * capabilities walked, features negotiated (a driver without VERSION_1 is refused), a queue
 * set up with MSI-X, a request answered from the entropy source with an MSI; then a hostile
 * chain puts the device in DEVICE_NEEDS_RESET with a configuration interrupt, and a reset
 * brings it back. */
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stddef.h>

#include "arch/x86/layout.h"
#include "check.h"
#include "devices/devices.h"
#include "devices/virtio/rng.h"
#include "fake_services.h"

#define CC(field) offsetof(struct virtio_pci_common_cfg, field)
#define DESC  0x10000ULL
#define AVAIL 0x11000ULL
#define USED  0x12000ULL
#define BUF   0x20000ULL

static struct fake_env f;
static struct guest_mem mem;

static uint32_t cfg_read(unsigned devfn, unsigned reg)
{
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x80000000u | devfn << 8 | (reg & 0xFC));
	return (uint32_t)fake_in(&f, X86_PCI_CONF_DATA, 4);
}

static void cfg_write(unsigned devfn, unsigned reg, uint32_t v)
{
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x80000000u | devfn << 8 | (reg & 0xFC));
	fake_out(&f, X86_PCI_CONF_DATA, 4, v);
}

static ssize_t fake_entropy(void *ctx, void *buf, size_t len)
{
	memset(buf, 0xAB, len);
	return (ssize_t)len;
}

/* The offset in BAR 0 of the virtio capability of this type (0: none). */
static uint32_t find_cap(unsigned devfn, uint8_t type, uint32_t *extra)
{
	unsigned at = cfg_read(devfn, PCI_CAPABILITY_LIST) & 0xFF;
	for (int n = 0; at && n < 16; n++) {
		uint32_t head = cfg_read(devfn, at);
		if ((head & 0xFF) == PCI_CAP_ID_VNDR && ((head >> 24) & 0xFF) == type) {
			CHECK(((cfg_read(devfn, at + 4)) & 0xFF) == 0, "capability not in BAR 0");
			if (extra)
				*extra = cfg_read(devfn, at + 16);
			return cfg_read(devfn, at + 8);
		}
		at = (head >> 8) & 0xFF;
	}
	return 0xFFFFFFFFu;
}

static void publish_chain(uint16_t flags_first, uint16_t next)
{
	struct vring_desc *d = gmem_ptr(&mem, DESC, 16 * 16);
	d[0] = (struct vring_desc){ .addr = BUF, .len = 64, .flags = flags_first, .next = next };
	struct vring_avail *a = gmem_ptr(&mem, AVAIL, 36);
	a->ring[a->idx % 16] = 0;
	a->idx++;
}

int main(void)
{
	struct error err = { 0 };
	CHECK(gmem_init(&mem, GMEM_MIN_SIZE, &err) == 0, "%s", err.msg);
	fake_env_init(&f);
	f.svc.mem = &mem;
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host, "%s", err.msg);
	struct entropy_source src = { .read = fake_entropy };
	CHECK(virtio_rng_create(&f.svc, host, src, &err), "virtio_rng_create: %s", err.msg);

	SECTION("conf1 scan: 00:01.0 is a modern virtio-rng, nothing at 00:02.0");
	unsigned devfn = 1 << 3;
	CHECK(cfg_read(devfn, PCI_VENDOR_ID) == (0x1AF4u | 0x1044u << 16), "id 0x%08x",
	      cfg_read(devfn, PCI_VENDOR_ID));
	CHECK(cfg_read(2 << 3, PCI_VENDOR_ID) == 0xFFFFFFFFu, "a second function appeared");
	CHECK(cfg_read(devfn | 1, PCI_VENDOR_ID) == 0xFFFFFFFFu, "function 1 answers");

	SECTION("BAR 0: in the MMIO hole, sized by writing all ones, restored");
	uint32_t bar = cfg_read(devfn, PCI_BASE_ADDRESS_0);
	CHECK(bar >= X86_MMIO_HOLE_BASE && bar < X86_MMIO_HOLE_END && !(bar & 0xF), "BAR 0x%x", bar);
	cfg_write(devfn, PCI_BASE_ADDRESS_0, 0xFFFFFFFFu);
	uint32_t size = ~(cfg_read(devfn, PCI_BASE_ADDRESS_0) & ~0xFu) + 1;
	CHECK(size == 0x4000, "BAR size 0x%x", size);
	cfg_write(devfn, PCI_BASE_ADDRESS_0, bar);
	CHECK(cfg_read(devfn, PCI_BASE_ADDRESS_1) == 0, "BAR 1 exists");

	SECTION("capabilities: common, ISR, notify (with multiplier), MSI-X");
	uint32_t mul = 0;
	uint32_t common = find_cap(devfn, VIRTIO_PCI_CAP_COMMON_CFG, NULL);
	uint32_t isr = find_cap(devfn, VIRTIO_PCI_CAP_ISR_CFG, NULL);
	uint32_t notify = find_cap(devfn, VIRTIO_PCI_CAP_NOTIFY_CFG, &mul);
	CHECK(common < size && isr < size && notify < size && mul, "caps %x %x %x mul %u", common,
	      isr, notify, mul);
	uint64_t c = bar + common;

	SECTION("features: VERSION_1 offered; a legacy-only driver cannot set FEATURES_OK");
	fake_mmio_write(&f, c + CC(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	fake_mmio_write(&f, c + CC(device_feature_select), 4, 1);
	CHECK(fake_mmio_read(&f, c + CC(device_feature), 4) & 1, "VERSION_1 not offered");
	fake_mmio_write(&f, c + CC(guest_feature_select), 4, 1);
	fake_mmio_write(&f, c + CC(guest_feature), 4, 0);
	fake_mmio_write(&f, c + CC(device_status), 1, 0x0B);
	CHECK(!(fake_mmio_read(&f, c + CC(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK),
	      "FEATURES_OK without VERSION_1");
	fake_mmio_write(&f, c + CC(device_status), 1, 0);
	CHECK(fake_mmio_read(&f, c + CC(device_status), 1) == 0, "reset did not clear the status");
	fake_mmio_write(&f, c + CC(device_status), 1, 0x03);
	fake_mmio_write(&f, c + CC(guest_feature_select), 4, 1);
	fake_mmio_write(&f, c + CC(guest_feature), 4, 1);
	fake_mmio_write(&f, c + CC(device_status), 1, 0x0B);
	CHECK(fake_mmio_read(&f, c + CC(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK,
	      "FEATURES_OK refused");

	SECTION("queue 0 with MSI-X vector 1, config vector 0, DRIVER_OK");
	CHECK(fake_mmio_read(&f, c + CC(num_queues), 2) == 1, "queues");
	uint32_t msix_at = 0;
	for (unsigned at = cfg_read(devfn, PCI_CAPABILITY_LIST) & 0xFF; at;
	     at = (cfg_read(devfn, at) >> 8) & 0xFF)
		if ((cfg_read(devfn, at) & 0xFF) == PCI_CAP_ID_MSIX)
			msix_at = at;
	CHECK(msix_at, "no MSI-X capability");
	uint64_t table = bar + (cfg_read(devfn, msix_at + PCI_MSIX_TABLE) & ~7u);
	for (unsigned v = 0; v < 2; v++) {
		fake_mmio_write(&f, table + 16 * v, 4, 0xFEE00000u + v * 0x1000);
		fake_mmio_write(&f, table + 16 * v + 4, 4, 0);
		fake_mmio_write(&f, table + 16 * v + 8, 4, 0x40 + v);
		fake_mmio_write(&f, table + 16 * v + 12, 4, 0); /* unmasked */
	}
	cfg_write(devfn, msix_at, cfg_read(devfn, msix_at) | (uint32_t)PCI_MSIX_FLAGS_ENABLE << 16);
	fake_mmio_write(&f, c + CC(msix_config), 2, 0);
	CHECK(fake_mmio_read(&f, c + CC(msix_config), 2) == 0, "config vector refused");
	fake_mmio_write(&f, c + CC(queue_select), 2, 0);
	CHECK(fake_mmio_read(&f, c + CC(queue_size), 2) == 256, "queue size offered");
	fake_mmio_write(&f, c + CC(queue_size), 2, 16);
	fake_mmio_write(&f, c + CC(queue_msix_vector), 2, 1);
	fake_mmio_write(&f, c + CC(queue_desc_lo), 4, DESC);
	fake_mmio_write(&f, c + CC(queue_avail_lo), 4, AVAIL);
	fake_mmio_write(&f, c + CC(queue_used_lo), 4, USED);
	fake_mmio_write(&f, c + CC(queue_enable), 2, 1);
	fake_mmio_write(&f, c + CC(device_status), 1, 0x0F);
	CHECK(fake_mmio_read(&f, c + CC(device_status), 1) == 0x0F, "status 0x%llx",
	      (unsigned long long)fake_mmio_read(&f, c + CC(device_status), 1));

	SECTION("a request: 64 bytes from the entropy source, used ring, MSI on vector 1");
	publish_chain(VRING_DESC_F_WRITE, 0);
	uint16_t notify_off = (uint16_t)fake_mmio_read(&f, c + CC(queue_notify_off), 2);
	fake_mmio_write(&f, bar + notify + notify_off * mul, 2, 0); /* the MMIO fallback path */
	struct vring_used *u = gmem_ptr(&mem, USED, 4 + 8 * 16);
	CHECK(u->idx == 1 && u->ring[0].id == 0 && u->ring[0].len == 64, "used idx %u len %u",
	      u->idx, u->ring[0].len);
	uint8_t *b = gmem_ptr(&mem, BUF, 64);
	CHECK(b[0] == 0xAB && b[63] == 0xAB, "bytes not from the source");
	CHECK(f.msi_count == 1 && f.msi_addr == 0xFEE01000u && f.msi_data == 0x41, "MSI %u %llx %x",
	      f.msi_count, (unsigned long long)f.msi_addr, f.msi_data);

	SECTION("a masked vector stays pending until unmasked");
	fake_mmio_write(&f, table + 16 + 12, 4, 1);
	publish_chain(VRING_DESC_F_WRITE, 0);
	fake_mmio_write(&f, bar + notify + notify_off * mul, 2, 0);
	CHECK(u->idx == 2 && f.msi_count == 1, "MSI sent while masked");
	fake_mmio_write(&f, table + 16 + 12, 4, 0);
	CHECK(f.msi_count == 2, "pending MSI not sent on unmask");

	SECTION("a looping chain: DEVICE_NEEDS_RESET and a config interrupt, nothing used");
	publish_chain(VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	fake_mmio_write(&f, bar + notify + notify_off * mul, 2, 0);
	CHECK(fake_mmio_read(&f, c + CC(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET,
	      "no NEEDS_RESET");
	CHECK(u->idx == 2, "a broken chain was used");
	CHECK(f.msi_count == 3 && f.msi_data == 0x40, "no config MSI (count %u data %x)",
	      f.msi_count, f.msi_data);
	CHECK(fake_mmio_read(&f, bar + isr, 1) & 2, "ISR config bit");
	CHECK(fake_mmio_read(&f, bar + isr, 1) == 0, "ISR not cleared by reading");

	SECTION("reset: status 0, queue disabled, then the device works again");
	fake_mmio_write(&f, c + CC(device_status), 1, 0);
	CHECK(fake_mmio_read(&f, c + CC(device_status), 1) == 0, "status after reset");
	CHECK(fake_mmio_read(&f, c + CC(queue_enable), 2) == 0, "queue still enabled");

	SECTION("hostile register values: out-of-range selectors and vectors");
	fake_mmio_write(&f, c + CC(queue_select), 2, 0xFFFF);
	CHECK(fake_mmio_read(&f, c + CC(queue_size), 2) == 0, "queue 0xFFFF has a size");
	fake_mmio_write(&f, c + CC(queue_enable), 2, 1);
	fake_mmio_write(&f, c + CC(msix_config), 2, 77);
	CHECK(fake_mmio_read(&f, c + CC(msix_config), 2) == VIRTIO_MSI_NO_VECTOR,
	      "vector 77 accepted");
	fake_mmio_write(&f, c + CC(device_feature_select), 4, 0xFFFFFFFFu);
	CHECK(fake_mmio_read(&f, c + CC(device_feature), 4) == 0, "features past 64 bits");

	fake_env_destroy(&f);
	gmem_destroy(&mem);
	puts("test_virtio_pci: all passed");
	return 0;
}
