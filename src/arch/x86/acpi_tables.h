/* ACPI table layouts (ACPI 6.0) as packed structs: there is no UAPI header for them. Field names
 * follow the specification's. All multi-byte fields are little-endian, as on x86. */
#ifndef HARDY_ARCH_X86_ACPI_TABLES_H
#define HARDY_ARCH_X86_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_PACKED __attribute__((packed))

struct acpi_rsdp {
	char signature[8];        /* "RSD PTR " */
	uint8_t checksum;         /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;         /* 2: ACPI 2.0+ */
	uint32_t rsdt_address;
	uint32_t length;          /* 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} ACPI_PACKED;

struct acpi_header {
	char signature[4];
	uint32_t length;          /* whole table, header included */
	uint8_t revision;
	uint8_t checksum;         /* whole table sums to zero */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} ACPI_PACKED;

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;         /* ACPI_GAS_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;      /* ACPI_ACCESS_* */
	uint64_t address;
} ACPI_PACKED;

#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1
#define ACPI_ACCESS_BYTE  1
#define ACPI_ACCESS_WORD  2
#define ACPI_ACCESS_DWORD 3

struct acpi_xsdt {
	struct acpi_header hdr;
	uint64_t entry[];
} ACPI_PACKED;

struct acpi_fadt {
	struct acpi_header hdr;
	uint32_t firmware_ctrl;   /* 36 */
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;         /* 48 */
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;    /* 56 */
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;      /* 76 */
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;      /* 88 */
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;      /* 96 */
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;      /* 104 */
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;  /* 109 */
	uint8_t reserved1;
	uint32_t flags;           /* 112 */
	struct acpi_gas reset_reg; /* 116 */
	uint8_t reset_value;      /* 128 */
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl; /* 132 */
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk; /* 148 */
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;   /* 208 */
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg; /* 244 */
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;  /* 268 */
} ACPI_PACKED;            /* 276 bytes */

/* FADT flags. */
#define ACPI_FADT_WBINVD        (1u << 0)
#define ACPI_FADT_PROC_C1       (1u << 2)
#define ACPI_FADT_PWR_BUTTON    (1u << 4)  /* set: control-method power button; clear: fixed */
#define ACPI_FADT_SLP_BUTTON    (1u << 5)  /* set: control method or none */
#define ACPI_FADT_FIX_RTC       (1u << 6)  /* set: no RTC wake status in fixed hardware */
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)  /* 32-bit PM timer */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED    (1u << 20)
/* FADT IA-PC boot architecture flags. */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042           (1u << 1)
#define ACPI_IAPC_NO_VGA         (1u << 2)
#define ACPI_IAPC_NO_MSI         (1u << 3)
#define ACPI_IAPC_NO_CMOS_RTC    (1u << 5)

struct acpi_facs {
	char signature[4];        /* "FACS" */
	uint32_t length;          /* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;          /* 2 */
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} ACPI_PACKED;            /* no checksum; must be 64-byte aligned */

struct acpi_madt {
	struct acpi_header hdr;
	uint32_t local_apic_address;
	uint32_t flags;           /* ACPI_MADT_PCAT_COMPAT */
} ACPI_PACKED;

#define ACPI_MADT_PCAT_COMPAT 1u

/* MADT entry types. */
#define ACPI_MADT_LAPIC     0
#define ACPI_MADT_IOAPIC    1
#define ACPI_MADT_ISO       2
#define ACPI_MADT_LAPIC_NMI 4

struct acpi_madt_lapic {
	uint8_t type, length;     /* 0, 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;           /* ACPI_MADT_ENABLED */
} ACPI_PACKED;

#define ACPI_MADT_ENABLED 1u

struct acpi_madt_ioapic {
	uint8_t type, length;     /* 1, 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} ACPI_PACKED;

struct acpi_madt_iso {
	uint8_t type, length;     /* 2, 10 */
	uint8_t bus;              /* 0: ISA */
	uint8_t source;           /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;           /* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3 */
} ACPI_PACKED;

#define ACPI_MPS_ACTIVE_HIGH   0x1
#define ACPI_MPS_LEVEL         0xC

struct acpi_madt_lapic_nmi {
	uint8_t type, length;     /* 4, 6 */
	uint8_t processor_uid;    /* 0xFF: all processors */
	uint16_t flags;
	uint8_t lint;             /* 0 or 1 */
} ACPI_PACKED;

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header layout");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC layout");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC layout");
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO layout");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI layout");

#endif
