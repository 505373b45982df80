/* The "zero page" (struct boot_params) the kernel finds through RSI: the kernel's own setup
 * header (bzImage) or a synthesized one (ELF), plus what the loader tells the kernel: where the
 * command line, initrd and ACPI RSDP are, and the e820 map. */
#include "arch/x86/boot_internal.h"

#include <asm/bootparam.h>
#include <string.h>

#include "arch/x86/layout.h"

#define BP_HDR_OFF       0x1F1
#define BP_JUMP_OFF      0x201 /* the header ends at 0x202 + the byte here */
#define BP_HDR_LIMIT     0x290 /* the first field after the setup header area */
#define BP_HDRS_MAGIC    0x53726448u /* "HdrS" */
#define BP_LOADER_UNDEF  0xFF
#define BP_HEAP_END      0xFE00
#define BP_VID_NORMAL    0xFFFF
#define BP_ELF_ALIGN     0x1000000u

size_t x86_bz_header_end(const struct kernel_image *k)
{
	size_t end = BP_JUMP_OFF + 1 + (size_t)k->data[BP_JUMP_OFF];
	return end < BP_HDR_LIMIT ? end : BP_HDR_LIMIT; /* within setup_size (>= 2560 bytes) */
}

/* bzImage: the setup header exactly as the file has it, as long as the kernel says it is. */
static void bp_copy_header(struct boot_params *bp, const struct kernel_image *k)
{
	size_t end = x86_bz_header_end(k);
	memcpy((uint8_t *)bp + BP_HDR_OFF, k->data + BP_HDR_OFF, end - BP_HDR_OFF);
}

/* ELF vmlinux: the fields a 64-bit kernel reads from a header a bzImage would have carried. */
static void bp_synth_header(struct boot_params *bp, const struct kernel_image *k)
{
	bp->hdr.boot_flag = 0xAA55;
	bp->hdr.header = BP_HDRS_MAGIC;
	bp->hdr.version = k->protocol;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = BP_ELF_ALIGN;
	bp->hdr.xloadflags = XLF_KERNEL_64;
	bp->hdr.cmdline_size = k->cmdline_size;
	bp->hdr.initrd_addr_max = k->initrd_addr_max;
	bp->hdr.init_size = k->init_size;
	bp->hdr.code32_start = (uint32_t)X86_KERNEL_GPA;
}

void x86_boot_params_fill(struct boot_params *bp, const struct guest_mem *m,
			  const struct kernel_image *k, uint64_t initrd_gpa, uint64_t initrd_size)
{
	memset(bp, 0, sizeof(*bp));
	if (k->format == KERNEL_BZIMAGE)
		bp_copy_header(bp, k);
	else
		bp_synth_header(bp, k);
	bp->hdr.type_of_loader = BP_LOADER_UNDEF;
	bp->hdr.vid_mode = BP_VID_NORMAL;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = BP_HEAP_END;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE_GPA;
	bp->ext_cmd_line_ptr = 0;
	bp->hdr.ramdisk_image = (uint32_t)initrd_gpa; /* placed below 4 GiB */
	bp->hdr.ramdisk_size = (uint32_t)initrd_size;
	bp->acpi_rsdp_addr = X86_ACPI_GPA;
	bp->e820_entries = (uint8_t)x86_e820_build(m, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
}
