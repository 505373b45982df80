/* Building the ACPI tables into one buffer that is copied to X86_ACPI_GPA: RSDP first (so the
 * legacy scan of 0xE0000-0xFFFFF finds it), then FACS, DSDT, FADT, MADT and XSDT. */
#include "arch/x86/acpi.h"

#include <stdbool.h>
#include <string.h>

#include "arch/x86/acpi_tables.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"

#define ACPI_OEM_ID       "HARDY "
#define ACPI_OEM_TABLE_ID "HARDYVM "
#define ACPI_CREATOR_ID   "HRDY"
#define ACPI_FACS_ALIGN   64
#define ACPI_TABLE_ALIGN  16
#define ACPI_SCI_OVERRIDE_FLAGS (ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_LEVEL) /* 0x000D */

/* The output buffer and where it will sit in the guest. */
struct acpi_builder {
	uint8_t *buf;
	size_t cap, used;
	uint64_t base;
	bool overflow;
};

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum;
}

/* Zeroed room for len bytes at the next multiple of align, or NULL (and overflow) when full. */
static void *acpi_alloc(struct acpi_builder *ab, size_t len, size_t align)
{
	size_t off = (ab->used + align - 1) & ~(align - 1);
	if (ab->overflow || off > ab->cap || len > ab->cap - off) {
		ab->overflow = true;
		return NULL;
	}
	ab->used = off + len;
	memset(ab->buf + off, 0, len);
	return ab->buf + off;
}

static uint64_t acpi_gpa(const struct acpi_builder *ab, const void *p)
{
	return ab->base + (uint64_t)((const uint8_t *)p - ab->buf);
}

static void acpi_header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_checksum(h, h->length);
}

static struct acpi_gas acpi_io_gas(uint16_t port, uint8_t bytes, uint8_t access)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_IO, .bit_width = (uint8_t)(bytes * 8),
				  .access_size = access, .address = port };
}

static struct acpi_facs *acpi_build_facs(struct acpi_builder *ab)
{
	struct acpi_facs *f = acpi_alloc(ab, sizeof(*f), ACPI_FACS_ALIGN);
	if (f) {
		memcpy(f->signature, "FACS", 4);
		f->length = sizeof(*f);
		f->version = 2;
	}
	return f;
}

/* The DSDT's AML: \_S5 says which SLP_TYP to write into PM1a_CNT to power off; the devices'
 * objects follow in \_SB. */
static void acpi_dsdt_aml(struct aml_buf *a, const struct acpi_config *cfg)
{
	aml_name(a, "\\_S5");
	size_t pkg = aml_package_begin(a, 4);
	aml_integer(a, X86_ACPI_S5_TYP); /* SLP_TYPa */
	aml_integer(a, X86_ACPI_S5_TYP); /* SLP_TYPb */
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, pkg);
	if (cfg->dsdt_devices) {
		size_t sb = aml_scope_begin(a, "\\_SB");
		cfg->dsdt_devices(cfg->dsdt_ctx, a);
		aml_end(a, sb);
	}
}

static struct acpi_header *acpi_build_dsdt(struct acpi_builder *ab, const struct acpi_config *cfg)
{
	struct acpi_header *h = acpi_alloc(ab, sizeof(*h), ACPI_TABLE_ALIGN);
	if (!h)
		return NULL;
	struct aml_buf a;
	aml_init(&a, ab->buf + ab->used, ab->cap - ab->used);
	acpi_dsdt_aml(&a, cfg);
	if (a.overflow) {
		ab->overflow = true;
		return NULL;
	}
	ab->used += a.len; /* a was bounded by the room left */
	acpi_header_init(h, "DSDT", (uint32_t)(sizeof(*h) + a.len), 2);
	acpi_seal(h);
	return h;
}

static struct acpi_fadt *acpi_build_fadt(struct acpi_builder *ab, uint64_t facs, uint64_t dsdt)
{
	struct acpi_fadt *f = acpi_alloc(ab, sizeof(*f), ACPI_TABLE_ALIGN);
	if (!f)
		return NULL;
	acpi_header_init(&f->hdr, "FACP", sizeof(*f), 6);
	f->fadt_minor_version = 0;
	f->firmware_ctrl = (uint32_t)facs;
	f->x_firmware_ctrl = facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = X86_ACPI_SCI_IRQ;
	f->smi_cmd = 0; /* no SMM: the machine is always in ACPI mode */
	f->pm1a_evt_blk = X86_ACPI_PM1A_EVT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = acpi_io_gas(X86_ACPI_PM1A_EVT, 4, ACPI_ACCESS_WORD);
	f->pm1a_cnt_blk = X86_ACPI_PM1A_CNT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = acpi_io_gas(X86_ACPI_PM1A_CNT, 2, ACPI_ACCESS_WORD);
	f->pm_tmr_blk = X86_ACPI_PM_TMR;
	f->pm_tmr_len = 4;
	f->x_pm_tmr_blk = acpi_io_gas(X86_ACPI_PM_TMR, 4, ACPI_ACCESS_DWORD);
	/* No C2/C3: latencies above 100/1000 us say so. */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	f->iapc_boot_arch = ACPI_IAPC_NO_VGA; /* and no 8042: only its reset port exists */
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC |
		   ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP;
	f->reset_reg = acpi_io_gas(X86_ACPI_RESET, 1, ACPI_ACCESS_BYTE);
	f->reset_value = X86_ACPI_RESET_VAL;
	acpi_seal(&f->hdr);
	return f;
}

static struct acpi_madt *acpi_build_madt(struct acpi_builder *ab, unsigned ncpus)
{
	size_t len = sizeof(struct acpi_madt) + ncpus * sizeof(struct acpi_madt_lapic) +
		     sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_iso) +
		     sizeof(struct acpi_madt_lapic_nmi);
	struct acpi_madt *m = acpi_alloc(ab, len, ACPI_TABLE_ALIGN);
	if (!m)
		return NULL;
	acpi_header_init(&m->hdr, "APIC", (uint32_t)len, 4);
	m->local_apic_address = (uint32_t)X86_LAPIC_GPA;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	uint8_t *p = (uint8_t *)(m + 1);
	for (unsigned i = 0; i < ncpus; i++) {
		const struct acpi_madt_lapic e = { .type = ACPI_MADT_LAPIC, .length = sizeof(e),
			.processor_uid = (uint8_t)i, .apic_id = (uint8_t)i, .flags = ACPI_MADT_ENABLED };
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	const struct acpi_madt_ioapic io = { .type = ACPI_MADT_IOAPIC, .length = sizeof(io),
		.ioapic_id = 0, .address = (uint32_t)X86_IOAPIC_GPA, .gsi_base = 0 };
	const struct acpi_madt_iso iso[2] = {
		{ .type = ACPI_MADT_ISO, .length = sizeof(iso[0]), .source = 0, .gsi = 2, .flags = 0 },
		{ .type = ACPI_MADT_ISO, .length = sizeof(iso[0]), .source = X86_ACPI_SCI_IRQ,
		  .gsi = X86_ACPI_SCI_IRQ, .flags = ACPI_SCI_OVERRIDE_FLAGS },
	};
	const struct acpi_madt_lapic_nmi nmi = { .type = ACPI_MADT_LAPIC_NMI, .length = sizeof(nmi),
		.processor_uid = 0xFF, .flags = 0, .lint = 1 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	memcpy(p, iso, sizeof(iso));
	p += sizeof(iso);
	memcpy(p, &nmi, sizeof(nmi));
	acpi_seal(&m->hdr);
	return m;
}

static struct acpi_xsdt *acpi_build_xsdt(struct acpi_builder *ab, const uint64_t *tables, unsigned n)
{
	size_t len = sizeof(struct acpi_xsdt) + n * sizeof(uint64_t);
	struct acpi_xsdt *x = acpi_alloc(ab, len, ACPI_TABLE_ALIGN);
	if (!x)
		return NULL;
	acpi_header_init(&x->hdr, "XSDT", (uint32_t)len, 1);
	memcpy(x->entry, tables, n * sizeof(uint64_t));
	acpi_seal(&x->hdr);
	return x;
}

static void acpi_fill_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->rsdt_address = 0; /* XSDT only: every consumer since ACPI 2.0 prefers it */
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = (uint8_t)-acpi_checksum(r, 20);
	r->extended_checksum = (uint8_t)-acpi_checksum(r, sizeof(*r));
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg)
{
	if (cfg->ncpus == 0 || cfg->ncpus > ACPI_MAX_CPUS || base % ACPI_FACS_ALIGN)
		return 0;
	struct acpi_builder ab = { .buf = buf, .cap = cap, .base = base };
	struct acpi_rsdp *rsdp = acpi_alloc(&ab, sizeof(*rsdp), ACPI_TABLE_ALIGN);
	struct acpi_facs *facs = acpi_build_facs(&ab);
	struct acpi_header *dsdt = acpi_build_dsdt(&ab, cfg);
	if (!rsdp || !facs || !dsdt)
		return 0;
	struct acpi_fadt *fadt = acpi_build_fadt(&ab, acpi_gpa(&ab, facs), acpi_gpa(&ab, dsdt));
	struct acpi_madt *madt = acpi_build_madt(&ab, cfg->ncpus);
	if (!fadt || !madt)
		return 0;
	const uint64_t tables[] = { acpi_gpa(&ab, fadt), acpi_gpa(&ab, madt) };
	struct acpi_xsdt *xsdt = acpi_build_xsdt(&ab, tables, 2);
	if (!xsdt)
		return 0;
	acpi_fill_rsdp(rsdp, acpi_gpa(&ab, xsdt));
	return ab.used;
}
