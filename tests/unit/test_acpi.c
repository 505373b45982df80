/* acpi_build(): tables found the way the kernel finds them (RSDP -> XSDT -> FADT/MADT ->
 * DSDT/FACS), every checksum zero, the fields hardy's devices depend on, one LAPIC per vCPU.
 * With HARDY_ACPI_DUMP=dir, also writes each table to dir/<SIG>.dat for `iasl -d`. */
#include "arch/x86/acpi.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/layout.h"
#include "arch/x86/aml.h"
#include "check.h"

struct tables {
	const uint8_t *buf;
	size_t used;
	uint64_t base;
};

/* The table at gpa, its header checked (signature, length inside the area, checksum). */
static const void *table_at(const struct tables *t, uint64_t gpa, const char *sig)
{
	CHECK(gpa >= t->base && gpa - t->base + sizeof(struct acpi_header) <= t->used,
	      "%s at 0x%llx is outside the tables", sig, (unsigned long long)gpa);
	const uint8_t *p = t->buf + (gpa - t->base);
	struct acpi_header h;
	memcpy(&h, p, sizeof(h));
	CHECK(memcmp(h.signature, sig, 4) == 0, "signature %.4s, want %s", h.signature, sig);
	CHECK(h.length >= sizeof(h) && gpa - t->base + h.length <= t->used, "%s length %u", sig, h.length);
	CHECK(acpi_checksum(p, h.length) == 0, "%s checksum", sig);
	CHECK(memcmp(h.oem_id, "HARDY ", 6) == 0 && memcmp(h.oem_table_id, "HARDYVM ", 8) == 0,
	      "%s OEM ids", sig);
	const char *dir = getenv("HARDY_ACPI_DUMP");
	if (dir) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, sig);
		FILE *f = fopen(path, "wb");
		CHECK(f && fwrite(p, 1, h.length, f) == h.length && fclose(f) == 0, "dump %s", path);
	}
	return p;
}

static void check_fadt(const struct tables *t, const struct acpi_fadt *f)
{
	CHECK(f->hdr.length == sizeof(*f) && f->hdr.revision >= 5, "FADT length/revision");
	CHECK(f->dsdt && f->dsdt == f->x_dsdt, "DSDT pointers");
	CHECK(f->firmware_ctrl == f->x_firmware_ctrl && f->x_firmware_ctrl % 64 == 0, "FACS pointers");
	const uint8_t *facs = t->buf + (f->x_firmware_ctrl - t->base);
	CHECK(memcmp(facs, "FACS", 4) == 0 && facs[4] == 64, "FACS signature/length");
	const uint8_t *dsdt = table_at(t, f->x_dsdt, "DSDT");
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0A, X86_ACPI_S5_TYP, 0x0A, X86_ACPI_S5_TYP, 0x00, 0x00 };
	CHECK(memmem(dsdt, ((const struct acpi_header *)dsdt)->length, s5, sizeof(s5)), "\\_S5 in DSDT");

	CHECK(!(f->flags & ACPI_FADT_HW_REDUCED), "not hardware-reduced");
	CHECK(!(f->flags & ACPI_FADT_PWR_BUTTON), "power button is a fixed-feature event");
	CHECK(f->flags & ACPI_FADT_SLP_BUTTON, "no fixed sleep button");
	CHECK(f->flags & ACPI_FADT_TMR_VAL_EXT, "32-bit PM timer");
	CHECK((f->flags & (ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1)) == (ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1),
	      "WBINVD, PROC_C1");
	CHECK(f->flags & ACPI_FADT_RESET_REG_SUP, "reset register supported");
	CHECK(f->reset_reg.space_id == ACPI_GAS_IO && f->reset_reg.bit_width == 8 &&
	      f->reset_reg.address == X86_ACPI_RESET && f->reset_value == X86_ACPI_RESET_VAL, "reset reg");
	CHECK(!(f->iapc_boot_arch & ACPI_IAPC_8042), "no 8042 announced");
	CHECK(f->iapc_boot_arch & ACPI_IAPC_NO_VGA, "VGA not present");
	CHECK(f->sci_int == X86_ACPI_SCI_IRQ && f->smi_cmd == 0, "SCI, SMI_CMD");
	CHECK(f->pm1a_evt_blk == X86_ACPI_PM1A_EVT && f->pm1_evt_len == 4 &&
	      f->x_pm1a_evt_blk.address == X86_ACPI_PM1A_EVT && f->x_pm1a_evt_blk.bit_width == 32 &&
	      f->x_pm1a_evt_blk.space_id == ACPI_GAS_IO, "PM1a event block");
	CHECK(f->pm1a_cnt_blk == X86_ACPI_PM1A_CNT && f->pm1_cnt_len == 2 &&
	      f->x_pm1a_cnt_blk.address == X86_ACPI_PM1A_CNT && f->x_pm1a_cnt_blk.bit_width == 16,
	      "PM1a control block");
	CHECK(f->pm_tmr_blk == X86_ACPI_PM_TMR && f->pm_tmr_len == 4 &&
	      f->x_pm_tmr_blk.address == X86_ACPI_PM_TMR && f->x_pm_tmr_blk.bit_width == 32, "PM timer");
	CHECK(f->pm1b_evt_blk == 0 && f->pm1b_cnt_blk == 0 && f->gpe0_blk == 0, "no PM1b, no GPE");
}

static void check_madt(const struct acpi_madt *m, unsigned ncpus)
{
	CHECK(m->local_apic_address == X86_LAPIC_GPA && m->flags == ACPI_MADT_PCAT_COMPAT, "MADT header");
	const uint8_t *p = (const uint8_t *)(m + 1), *end = (const uint8_t *)m + m->hdr.length;
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	while (p < end) {
		CHECK(p + 2 <= end && p[1] >= 2 && p + p[1] <= end, "MADT entry lengths consistent");
		if (p[0] == ACPI_MADT_LAPIC) {
			struct acpi_madt_lapic e;
			memcpy(&e, p, sizeof(e));
			CHECK(e.length == 8 && e.processor_uid == lapics && e.apic_id == lapics &&
			      e.flags == ACPI_MADT_ENABLED, "LAPIC %u", lapics);
			lapics++;
		} else if (p[0] == ACPI_MADT_IOAPIC) {
			struct acpi_madt_ioapic e;
			memcpy(&e, p, sizeof(e));
			CHECK(e.length == 12 && e.ioapic_id == 0 && e.address == X86_IOAPIC_GPA &&
			      e.gsi_base == 0, "IOAPIC");
			ioapics++;
		} else if (p[0] == ACPI_MADT_ISO) {
			struct acpi_madt_iso e;
			memcpy(&e, p, sizeof(e));
			CHECK(e.length == 10 && e.bus == 0, "ISO");
			CHECK((e.source == 0 && e.gsi == 2 && e.flags == 0) ||
			      (e.source == 9 && e.gsi == 9 && e.flags == 0x000D), "ISO %u", e.source);
			isos++;
		} else if (p[0] == ACPI_MADT_LAPIC_NMI) {
			struct acpi_madt_lapic_nmi e;
			memcpy(&e, p, sizeof(e));
			CHECK(e.length == 6 && e.processor_uid == 0xFF && e.lint == 1, "LAPIC NMI");
			nmis++;
		} else {
			CHECK(0, "unexpected MADT entry type %u", p[0]);
		}
		p += p[1];
	}
	CHECK(p == end, "MADT entries end exactly at the table end");
	CHECK(lapics == ncpus && ioapics == 1 && isos == 2 && nmis == 1,
	      "%u LAPICs, %u IOAPICs, %u ISOs, %u NMIs", lapics, ioapics, isos, nmis);
}

static void check_tables(unsigned ncpus)
{
	SECTION("ACPI tables for %u vCPUs", ncpus);
	uint8_t *buf = calloc(1, X86_ACPI_SIZE);
	const struct acpi_config cfg = { .ncpus = ncpus };
	size_t used = acpi_build(buf, X86_ACPI_SIZE, X86_ACPI_GPA, &cfg);
	CHECK(used > 0 && used <= X86_ACPI_SIZE, "built %zu bytes", used);
	struct tables t = { .buf = buf, .used = used, .base = X86_ACPI_GPA };

	struct acpi_rsdp r;
	memcpy(&r, buf, sizeof(r));
	CHECK(memcmp(r.signature, "RSD PTR ", 8) == 0 && r.revision == 2 && r.length == 36, "RSDP");
	CHECK(acpi_checksum(buf, 20) == 0, "RSDP checksum (first 20 bytes)");
	CHECK(acpi_checksum(buf, 36) == 0, "RSDP extended checksum");
	CHECK(memcmp(r.oem_id, "HARDY ", 6) == 0, "RSDP OEM id");

	const struct acpi_xsdt *x = table_at(&t, r.xsdt_address, "XSDT");
	CHECK(x->hdr.length == sizeof(*x) + 2 * 8, "XSDT has two entries");
	uint64_t e[2];
	memcpy(e, x->entry, sizeof(e));
	check_fadt(&t, table_at(&t, e[0], "FACP"));
	check_madt(table_at(&t, e[1], "APIC"), ncpus);
	free(buf);
}

static void dsdt_pci(void *ctx, struct aml_buf *a)
{
	acpi_dsdt_pci_root(a);
}

/* The devices' DSDT objects: the PCI root bridge inside \_SB, with its bus, I/O and MMIO-hole
 * windows, in a DSDT whose checksum still holds. */
static void check_dsdt_devices(void)
{
	SECTION("device objects in the DSDT: \\_SB.PCI0 with its _CRS windows");
	uint8_t *buf = calloc(1, X86_ACPI_SIZE);
	const struct acpi_config cfg = { .ncpus = 1, .dsdt_devices = dsdt_pci };
	size_t used = acpi_build(buf, X86_ACPI_SIZE, X86_ACPI_GPA, &cfg);
	CHECK(used > 0, "tables with devices do not fit");
	struct tables t = { .buf = buf, .used = used, .base = X86_ACPI_GPA };
	struct acpi_rsdp r;
	memcpy(&r, buf, sizeof(r));
	const struct acpi_xsdt *x = table_at(&t, r.xsdt_address, "XSDT");
	uint64_t e0;
	memcpy(&e0, x->entry, sizeof(e0));
	const struct acpi_fadt *f = table_at(&t, e0, "FACP");
	const uint8_t *dsdt = table_at(&t, f->x_dsdt, "DSDT");
	uint32_t len = ((const struct acpi_header *)dsdt)->length;
	static const uint8_t scope_sb[] = { 0x10 }, pci0[] = { 'P', 'C', 'I', '0' };
	static const uint8_t hid[] = { '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
	static const uint8_t mem[] = { 0x87, 23, 0, 0, 0x0C, 0x01, 0, 0, 0, 0,
				       0x00, 0x00, 0x00, 0xC0, 0xFF, 0xFF, 0xBF, 0xFE };
	static const uint8_t bus[] = { 0x88, 13, 0, 2, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	static const uint8_t end_tag[] = { 0x79, 0x00 };
	CHECK(memmem(dsdt, len, scope_sb, 1) && memmem(dsdt, len, pci0, 4), "no PCI0");
	CHECK(memmem(dsdt, len, hid, sizeof(hid)), "no _HID PNP0A03");
	CHECK(memmem(dsdt, len, mem, sizeof(mem)), "no MMIO window 0xC0000000-0xFEBFFFFF");
	CHECK(memmem(dsdt, len, bus, sizeof(bus)), "no bus 0 window");
	CHECK(memmem(dsdt, len, end_tag, 2), "no end tag");
	CHECK(acpi_checksum(dsdt, len) == 0, "DSDT checksum");
	free(buf);
}

int main(void)
{
	printf("test_acpi\n");
	check_tables(1);
	check_tables(2);
	check_tables(64);
	check_tables(ACPI_MAX_CPUS);
	check_dsdt_devices();

	SECTION("impossible configurations build nothing");
	uint8_t small[512];
	struct acpi_config cfg = { .ncpus = 0 };
	CHECK(acpi_build(small, sizeof(small), X86_ACPI_GPA, &cfg) == 0, "0 vCPUs");
	cfg.ncpus = ACPI_MAX_CPUS + 1;
	uint8_t *buf = calloc(1, X86_ACPI_SIZE);
	CHECK(acpi_build(buf, X86_ACPI_SIZE, X86_ACPI_GPA, &cfg) == 0, "256 vCPUs");
	free(buf);
	cfg.ncpus = 64;
	CHECK(acpi_build(small, sizeof(small), X86_ACPI_GPA, &cfg) == 0, "buffer too small");
	printf("test_acpi: all passed\n");
	return 0;
}
