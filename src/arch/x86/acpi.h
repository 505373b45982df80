/* ACPI tables for the x86 machine: RSDP, XSDT, FADT (with FACS), MADT, DSDT.
 * The stock Debian cloud kernel has no MP-table parser, so the MADT is how it finds its CPUs and
 * IOAPIC; the FADT's PM1 blocks and the DSDT's \_S5 are how it powers off; the FADT reset register
 * is how it reboots; the fixed power-button event is how SIGTERM asks it to shut down. */
#ifndef HARDY_ARCH_X86_ACPI_H
#define HARDY_ARCH_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* xAPIC IDs 0..254 (255 is broadcast); one MADT Local APIC entry each. */
#define ACPI_MAX_CPUS 255u

struct aml_buf;

struct acpi_config {
	unsigned ncpus;
	/* Devices' DSDT objects, appended inside \_SB after hardy's own; NULL: none. */
	void (*dsdt_devices)(void *ctx, struct aml_buf *aml);
	void *dsdt_ctx;
};

/* Builds all tables into buf (which will be placed at guest physical address base, of size
 * X86_ACPI_SIZE at most). Returns the bytes used, or 0 when they do not fit. The RSDP is at
 * offset 0 of buf (16-byte aligned, so legacy scans of 0xE0000-0xFFFFF find it). */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg);

/* Appends \_SB.PCI0, the PCI root bridge of bus 0, to a DSDT being built inside \_SB
 * (acpi_pci.c). The PCI host device contributes it. */
void acpi_dsdt_pci_root(struct aml_buf *aml);

/* Sums all bytes; a valid table sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
