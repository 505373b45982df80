/* The DSDT's PCI root bridge, \\_SB.PCI0 (PNP0A03): with ACPI on, Linux scans only the PCI
 * buses the DSDT declares, and takes the bridge's windows (_CRS) as the places BARs may live:
 * bus 0, all I/O ports but the conf1 registers, and the MMIO hole below the IOAPIC, where
 * hardy pre-assigns BARs. No _PRT: hardy's PCI devices interrupt through MSI-X only. */
#include "arch/x86/acpi.h"

#include <string.h>

#include "arch/x86/aml.h"
#include "arch/x86/layout.h"

/* Word and DWord Address Space Descriptors (ACPI 6.4.3.5.2, 6.4.3.5.3), as producers with
 * fixed minimum and maximum. */
static size_t acpi_word_space(uint8_t *p, uint8_t type, uint8_t type_flags, uint16_t min,
			      uint16_t max)
{
	const uint16_t len = (uint16_t)(max - min + 1);
	uint8_t d[16] = { 0x88, 13, 0, type, 0x0C, type_flags, 0, 0 };
	memcpy(&d[8], &min, 2);
	memcpy(&d[10], &max, 2);
	memcpy(&d[14], &len, 2); /* translation offset (12-13) stays 0 */
	memcpy(p, d, sizeof(d));
	return sizeof(d);
}

static size_t acpi_dword_memory(uint8_t *p, uint32_t min, uint32_t max)
{
	const uint32_t len = max - min + 1;
	uint8_t d[26] = { 0x87, 23, 0, 0 /* memory */, 0x0C, 0x01 /* read-write, uncached */ };
	memcpy(&d[10], &min, 4);
	memcpy(&d[14], &max, 4);
	memcpy(&d[22], &len, 4); /* granularity (6-9) and translation (18-21) stay 0 */
	memcpy(p, d, sizeof(d));
	return sizeof(d);
}

void acpi_dsdt_pci_root(struct aml_buf *a)
{
	uint8_t crs[128];
	size_t n = 0;
	n += acpi_word_space(crs + n, 2 /* bus numbers */, 0, 0, 0);
	n += acpi_word_space(crs + n, 1 /* I/O */, 3, 0x0000, X86_PCI_CONF_ADDR - 1);
	n += acpi_word_space(crs + n, 1, 3, X86_PCI_CONF_DATA + 4, 0xFFFF);
	n += acpi_dword_memory(crs + n, (uint32_t)X86_MMIO_HOLE_BASE,
			       (uint32_t)(X86_MMIO_HOLE_END - 1));
	crs[n++] = 0x79; /* end tag, checksum 0: "treat as valid" */
	crs[n++] = 0;

	size_t dev = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, crs, n);
	aml_end(a, dev);
}
