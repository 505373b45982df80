/* The x86 machine's fixed addresses: where boot structures live in guest RAM, and which ports,
 * MMIO ranges and IRQs each legacy device uses. One table, so that ACPI, e820 and the devices agree. */
#ifndef HARDY_ARCH_X86_LAYOUT_H
#define HARDY_ARCH_X86_LAYOUT_H

/* Boot structures in low memory (all below 1 MiB, all inside the first e820 RAM entry
 * except the ACPI area, which e820 reports as ACPI-reclaimable/reserved). */
#define X86_GDT_GPA          0x0500ULL
#define X86_BOOT_PARAMS_GPA  0x7000ULL   /* the "zero page"; RSI at 64-bit entry */
#define X86_BOOT_STACK_GPA   0x8ff0ULL
#define X86_PML4_GPA         0x9000ULL
#define X86_PDPT_GPA         0xA000ULL
#define X86_PD_GPA           0xB000ULL   /* four PDs, 0xB000-0xEFFF: identity map of 4 GiB in 2 MiB pages */
#define X86_MB_INFO_GPA      0x7000ULL   /* Multiboot: the info structure instead (EBX) */
#define X86_MB_MODS_GPA      0x7100ULL   /* Multiboot: the module list */
#define X86_MB_MMAP_GPA      0x7200ULL   /* Multiboot: the memory map, up to 0x7fff */
#define X86_CMDLINE_GPA      0x20000ULL
#define X86_CMDLINE_MAX      4096u       /* bytes including NUL; the kernel's cmdline_size caps it further */
#define X86_MB_MODSTR_GPA    0x21000ULL  /* Multiboot: the module's string, X86_CMDLINE_MAX bytes */
#define X86_EBDA_START       0x9FC00ULL  /* e820 RAM ends here; the rest up to 1 MiB is reserved */
#define X86_ACPI_GPA         0xE0000ULL  /* RSDP must sit in 0xE0000-0xFFFFF for legacy scans */
#define X86_ACPI_SIZE        0x10000ULL
#define X86_KERNEL_GPA       0x100000ULL /* protected-mode kernel (bzImage) load address */

/* GDT selectors used at 64-bit entry (boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18). */
#define X86_BOOT_CS 0x10
#define X86_BOOT_DS 0x18
#define X86_BOOT_TSS 0x20  /* a 64-bit busy TSS descriptor (base 0), for a valid TR */
#define X86_GDT_ENTRIES 6   /* null, null, code, data, TSS (two slots in long mode) */

/* Interrupt controllers (in-kernel on KVM). */
#define X86_IOAPIC_GPA   0xFEC00000ULL
#define X86_LAPIC_GPA    0xFEE00000ULL
#define X86_IOAPIC_PINS  24

/* What the resource allocator hands out: MMIO windows between the top of low RAM and the
 * IOAPIC, the IOAPIC pins above the ISA ones, and GSI numbers for MSI routes above the pins. */
#define X86_MMIO_HOLE_BASE   0xC0000000ULL  /* GMEM_LOW_LIMIT */
#define X86_MMIO_HOLE_END    X86_IOAPIC_GPA
#define X86_DEVICE_GSI_FIRST 16
#define X86_MSI_GSI_FIRST    X86_IOAPIC_PINS
#define X86_MSI_GSI_END      1024

/* Legacy devices: ports and ISA IRQs. */
#define X86_COM1_PORT    0x3F8
#define X86_COM1_IRQ     4
#define X86_I8042_DATA   0x60
#define X86_I8042_CMD    0x64
#define X86_RTC_PORT     0x70   /* index 0x70, data 0x71 */
#define X86_RTC_IRQ      8
#define X86_DEBUG_EXIT_PORT 0xF4  /* --debug-exit: QEMU's isa-debug-exit, iobase 0xf4 iosize 4 */
#define X86_DEBUG_EXIT_LEN  4

/* PCI configuration mechanism #1; 0xCF9 inside the address range is the reset control port. */
#define X86_PCI_CONF_ADDR 0xCF8
#define X86_PCI_CONF_DATA 0xCFC

/* ACPI fixed hardware (full, not hardware-reduced, so the power button is a fixed event). */
#define X86_ACPI_PM1A_EVT  0x600  /* 4 bytes: PM1_STS (2), PM1_EN (2) */
#define X86_ACPI_PM1A_CNT  0x604  /* 2 bytes */
#define X86_ACPI_PM_TMR    0x608  /* 4 bytes, 3.579545 MHz, 32-bit */
#define X86_ACPI_RESET     0x60C  /* 1 byte; writing X86_ACPI_RESET_VAL resets */
#define X86_ACPI_RESET_VAL 0x01
#define X86_ACPI_PORTS_LEN 0x10
#define X86_ACPI_SCI_IRQ   9     /* level, active high (MADT interrupt source override) */
#define X86_ACPI_S5_TYP    5     /* SLP_TYP written for soft-off; matches \_S5 in the DSDT */

#endif
