/* PCI host bridge with configuration mechanism #1 (ports 0xCF8 address, 0xCFC-0xCFF data).
 * Bus 0 holds one device, the host bridge itself at 00:00.0, so that a guest finds a sane PCI
 * configuration space (Linux otherwise logs "PCI: Fatal: No config space access function
 * found"); other functions attach to the next free slots (devices/pci.h) and are found by the
 * kernel's conf1 scan. Port 0xCF9 is the PC reset control register:
 * a write with the reset bit set reboots, which is Linux's reboot=pci. */
#include <pthread.h>
#include <stdlib.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "devices/devices.h"
#include "devices/pci.h"

#include <string.h>

#define PCI_CONF1_ENABLE  0x80000000u
#define PCI_RESET_CPU     0x04 /* 0xCF9 bit 2: reset, with bit 1 choosing hard or soft */
#define PCI_HOST_VENDOR   0x1B36 /* Red Hat's PCI IDs for emulated hardware */
#define PCI_HOST_DEVICE   0x0008 /* "generic PCIe host bridge" */
#define PCI_CLASS_HOST    0x060000u

struct pci_host {
	struct device dev;
	struct vm_stopper stop;
	uint32_t address; /* last value written to 0xCF8 */
	struct pci_function *slot[PCI_MAX_SLOTS]; /* slot 0: the host bridge itself (NULL) */
	unsigned nr_slots;
};

/* An attached function at bus/devfn, or NULL. Slots never change once vCPUs run. */
static struct pci_function *pci_function_at(struct pci_host *h, unsigned bus, unsigned devfn)
{
	if (bus != 0 || (devfn & 7) || devfn == 0 || (devfn >> 3) >= h->nr_slots)
		return NULL;
	return h->slot[devfn >> 3];
}

/* The configuration dword at reg (4-aligned) of bus/devfn, all ones where nothing lives. */
static uint32_t pci_config_read(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg)
{
	struct pci_function *f = pci_function_at(h, bus, devfn);
	if (f) {
		uint32_t v;
		pthread_mutex_lock(f->lock);
		memcpy(&v, &f->cfg[reg], 4);
		pthread_mutex_unlock(f->lock);
		return v;
	}
	if (bus != 0 || devfn != 0)
		return 0xFFFFFFFFu;
	switch (reg) {
	case 0x00: return PCI_HOST_VENDOR | (PCI_HOST_DEVICE << 16);
	case 0x08: return PCI_CLASS_HOST << 8; /* revision 0 */
	case 0x2C: return PCI_HOST_VENDOR | (0x1100u << 16); /* subsystem */
	default: return 0;
	}
}

static uint64_t pci_addr_read(void *dev, uint64_t off, unsigned len)
{
	struct pci_host *h = dev;
	pthread_mutex_lock(&h->dev.lock);
	uint32_t v = h->address;
	pthread_mutex_unlock(&h->dev.lock);
	return off == 0 && len == 4 ? v : (off == 1 ? 0 : 0xFFFFFFFFu);
}

static void pci_addr_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct pci_host *h = dev;
	if (off == 0 && len == 4) {
		pthread_mutex_lock(&h->dev.lock);
		h->address = (uint32_t)value;
		pthread_mutex_unlock(&h->dev.lock);
	} else if (off == 1 && len == 1 && (value & PCI_RESET_CPU)) {
		vm_stopper_request(&h->stop, VM_STOP_REBOOT, NULL);
	}
	/* Byte writes to 0xCF8/0xCFB (old chipset probes) are ignored. */
}

static uint64_t pci_data_read(void *dev, uint64_t off, unsigned len)
{
	struct pci_host *h = dev;
	pthread_mutex_lock(&h->dev.lock);
	uint32_t a = h->address;
	pthread_mutex_unlock(&h->dev.lock);
	if (!(a & PCI_CONF1_ENABLE))
		return 0xFFFFFFFFu;
	uint32_t dword = pci_config_read(h, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFC);
	return dword >> (8 * off);
}

/* Writes land byte by byte through the function's mask; the host bridge is read-only. */
static void pci_data_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct pci_host *h = dev;
	pthread_mutex_lock(&h->dev.lock);
	uint32_t a = h->address;
	pthread_mutex_unlock(&h->dev.lock);
	struct pci_function *f = pci_function_at(h, (a >> 16) & 0xFF, (a >> 8) & 0xFF);
	if (!(a & PCI_CONF1_ENABLE) || !f)
		return;
	unsigned reg = (a & 0xFC) + (unsigned)off; /* off + len <= 4: the bus checked it */
	pthread_mutex_lock(f->lock);
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = f->wmask[reg + i], b = (uint8_t)(value >> (8 * i));
		f->cfg[reg + i] = (uint8_t)((f->cfg[reg + i] & ~m) | (b & m));
	}
	if (f->cfg_written)
		f->cfg_written(f, reg, len);
	pthread_mutex_unlock(f->lock);
}

int pci_host_attach(struct pci_host *h, struct pci_function *f, struct error *err)
{
	if (h->nr_slots == 0)
		h->nr_slots = 1; /* slot 0 is the host bridge */
	if (h->nr_slots >= PCI_MAX_SLOTS)
		return error_set(err, ERR_RUNTIME, "PCI bus 0 is full (%u slots)", PCI_MAX_SLOTS);
	h->slot[h->nr_slots++] = f;
	return 0;
}

static const struct bus_ops pci_addr_ops = { .read = pci_addr_read, .write = pci_addr_write };
static const struct bus_ops pci_data_ops = { .read = pci_data_read, .write = pci_data_write };

static void pci_host_reset(struct device *d)
{
	struct pci_host *h = (struct pci_host *)d;
	pthread_mutex_lock(&h->dev.lock);
	h->address = 0;
	pthread_mutex_unlock(&h->dev.lock);
}

/* With ACPI on, Linux scans only the root buses the DSDT declares. */
static void pci_host_acpi_dsdt(struct device *d, struct aml_buf *aml)
{
	acpi_dsdt_pci_root(aml);
}

static const struct device_ops pci_host_device_ops = {
	.name = "pci-host", .reset = pci_host_reset, .acpi_dsdt = pci_host_acpi_dsdt,
};

struct pci_host *pci_host_create(const struct dev_services *svc, struct error *err)
{
	struct pci_host *h = device_new(svc, sizeof(*h), &pci_host_device_ops, err);
	if (!h)
		return NULL;
	h->stop = svc->stop;
	if (bus_register(svc->pio, X86_PCI_CONF_ADDR, 4, &pci_addr_ops, h, "pci-addr", err) < 0 ||
	    bus_register(svc->pio, X86_PCI_CONF_DATA, 4, &pci_data_ops, h, "pci-data", err) < 0)
		return NULL;
	return h;
}
