/* x86_boot_setup() and x86_boot_check_fit() on synthetic kernels: boot_params fields, kernel,
 * command line and initrd in guest RAM, registers; and the inputs that must be refused. */
#include <asm/bootparam.h>
#include <asm/e820.h>

#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"
#include "check.h"
#include "fake_kernel.h"

#define MiB (1ULL << 20)
#define GUEST_RAM (128 * MiB)

static void open_kernel(const uint8_t *img, size_t size, struct kernel_image *k)
{
	char path[64];
	struct error err = { 0 };
	check_write_tmp(img, size, path);
	CHECK(kernel_image_open(k, path, &err) == 0, "%s", err.msg);
	unlink(path);
}

static void new_guest(struct guest_mem *m, uint64_t size)
{
	struct error err = { 0 };
	CHECK(gmem_init(m, size, &err) == 0, "%s", err.msg);
}

static struct boot_params read_bp(const struct guest_mem *m)
{
	struct boot_params bp;
	CHECK(gmem_read(m, X86_BOOT_PARAMS_GPA, &bp, sizeof(bp)) == 0, "boot_params readable");
	return bp;
}

/* What both formats share: loader fields, command line, e820, registers. */
static void check_common(const struct guest_mem *m, const struct boot_params *bp,
			 const struct x86_boot_regs *r, const char *cmdline)
{
	CHECK(bp->hdr.boot_flag == 0xAA55 && bp->hdr.header == 0x53726448, "boot_flag/HdrS");
	CHECK(bp->hdr.type_of_loader == 0xFF, "type_of_loader 0x%x", bp->hdr.type_of_loader);
	CHECK(bp->hdr.loadflags & CAN_USE_HEAP, "CAN_USE_HEAP");
	CHECK(bp->hdr.heap_end_ptr == 0xFE00, "heap_end_ptr");
	CHECK(bp->hdr.cmd_line_ptr == X86_CMDLINE_GPA && bp->ext_cmd_line_ptr == 0, "cmd_line_ptr");
	CHECK(bp->acpi_rsdp_addr == X86_ACPI_GPA, "acpi_rsdp_addr");
	const char *gcmd = gmem_ptr(m, X86_CMDLINE_GPA, strlen(cmdline) + 1);
	CHECK(gcmd && strcmp(gcmd, cmdline) == 0, "command line in guest RAM");
	CHECK(bp->e820_entries == 3, "e820_entries %u", bp->e820_entries);
	CHECK(bp->e820_table[2].addr == 0x100000 && bp->e820_table[2].size == GUEST_RAM - 0x100000 &&
	      bp->e820_table[2].type == E820_RAM, "e820 main RAM entry");
	CHECK(r->rsi == X86_BOOT_PARAMS_GPA && r->rsp == X86_BOOT_STACK_GPA, "rsi/rsp");
	CHECK(r->cr3 == X86_PML4_GPA && r->gdt_base == X86_GDT_GPA && r->gdt_limit == 47, "cr3/gdt");
	char sig[8];
	CHECK(gmem_read(m, X86_ACPI_GPA, sig, 8) == 0 && memcmp(sig, "RSD PTR ", 8) == 0, "RSDP");
}

static void test_bzimage_setup(void)
{
	SECTION("bzImage: boot_params, kernel, initrd, command line, registers");
	size_t size;
	uint8_t *img = fake_bzimage(300000, &size);
	struct kernel_image k;
	open_kernel(img, size, &k);
	struct guest_mem m;
	new_guest(&m, GUEST_RAM);
	size_t isize = 3 * MiB + 5;
	uint8_t *initrd = malloc(isize);
	for (size_t i = 0; i < isize; i++)
		initrd[i] = (uint8_t)(i ^ (i >> 9));
	const char *cmdline = "console=ttyS0 reboot=k panic=1";
	const struct x86_boot_config bc = { .kernel = &k, .initrd = initrd, .initrd_size = isize,
		.initrd_path = "test.cpio", .cmdline = cmdline, .ncpus = 2 };
	struct x86_boot_regs r;
	struct error err = { 0 };
	CHECK(x86_boot_setup(&m, &bc, &r, &err) == 0, "%s", err.msg);
	struct boot_params bp = read_bp(&m);
	check_common(&m, &bp, &r, cmdline);
	CHECK(r.rip == X86_KERNEL_GPA + 0x200, "rip 0x%llx", (unsigned long long)r.rip);
	CHECK(bp.hdr.version == 0x020F && bp.hdr.init_size == FAKE_INIT_SIZE &&
	      bp.hdr.pref_address == FAKE_PREF_ADDR && bp.hdr.xloadflags & XLF_KERNEL_64,
	      "setup header copied from the file");
	CHECK(bp.hdr.setup_sects == FAKE_SETUP_SECTS && bp.hdr.syssize == size / 16 - 160,
	      "setup_sects/syssize copied");
	CHECK(bp.hdr.loadflags & LOADED_HIGH, "file's loadflags kept");
	const uint8_t *kern = gmem_ptr(&m, X86_KERNEL_GPA, size - FAKE_SETUP_SIZE);
	CHECK(kern && memcmp(kern, img + FAKE_SETUP_SIZE, size - FAKE_SETUP_SIZE) == 0,
	      "protected-mode part at 1 MiB");

	uint64_t ia = bp.hdr.ramdisk_image;
	CHECK(bp.hdr.ramdisk_size == isize && bp.ext_ramdisk_image == 0, "ramdisk_size");
	CHECK(ia % (2 * MiB) == 0, "initrd 2 MiB aligned: 0x%llx", (unsigned long long)ia);
	CHECK(ia >= k.load_end, "initrd above the kernel's end");
	CHECK(ia + isize <= GUEST_RAM && ia + isize <= 0x80000000ULL, "initrd below the limits");
	CHECK(ia + isize > GUEST_RAM - 2 * MiB - isize, "initrd as high as possible");
	const uint8_t *gi = gmem_ptr(&m, ia, isize);
	CHECK(gi && memcmp(gi, initrd, isize) == 0, "initrd contents copied");

	SECTION("bzImage: a header longer than ours (0x202 + byte at 0x201) is copied whole");
	gmem_destroy(&m);
	new_guest(&m, GUEST_RAM);
	k.data[0x201] = 0x7F;         /* header now ends at 0x281 */
	k.data[0x270] = 0x5A;         /* a field newer than the UAPI struct */
	k.data[0x290] = 0x77;         /* past the header area: must not be copied */
	const struct x86_boot_config bc2 = { .kernel = &k, .cmdline = "", .ncpus = 1 };
	err = (struct error){ 0 };
	CHECK(x86_boot_setup(&m, &bc2, &r, &err) == 0, "%s", err.msg);
	const uint8_t *raw = gmem_ptr(&m, X86_BOOT_PARAMS_GPA, 4096);
	CHECK(raw[0x270] == 0x5A && raw[0x290] == 0, "header copy bounds");
	bp = read_bp(&m);
	CHECK(bp.hdr.ramdisk_image == 0 && bp.hdr.ramdisk_size == 0, "no initrd: zero fields");

	gmem_destroy(&m);
	kernel_image_close(&k);
	free(initrd);
	free(img);
}

static void test_elf_setup(void)
{
	SECTION("ELF: segments at their physical addresses, bss zeroed, synthesized header");
	size_t size;
	uint8_t *img = fake_elf(&size, 1);
	struct kernel_image k;
	open_kernel(img, size, &k);
	struct guest_mem m;
	new_guest(&m, GUEST_RAM);
	/* Dirty the bss so that zeroing is observable. */
	CHECK(gmem_ptr(&m, FAKE_ELF_PADDR0, FAKE_ELF_MEMSZ0), "segment in RAM");
	memset(gmem_ptr(&m, FAKE_ELF_PADDR0, FAKE_ELF_MEMSZ0), 0xEE, FAKE_ELF_MEMSZ0);
	const char *cmdline = "root=/dev/vda";
	const struct x86_boot_config bc = { .kernel = &k, .cmdline = cmdline, .ncpus = 1 };
	struct x86_boot_regs r;
	struct error err = { 0 };
	CHECK(x86_boot_setup(&m, &bc, &r, &err) == 0, "%s", err.msg);
	struct boot_params bp = read_bp(&m);
	check_common(&m, &bp, &r, cmdline);
	CHECK(r.rip == FAKE_ELF_PADDR0 + FAKE_ELF_ENTRY, "rip is the physical entry");
	CHECK(bp.hdr.version == 0x020F && bp.hdr.cmdline_size == X86_ELF_CMDLINE_SIZE, "header");
	const uint8_t *s0 = gmem_ptr(&m, FAKE_ELF_PADDR0, FAKE_ELF_MEMSZ0);
	CHECK(memcmp(s0, img + FAKE_ELF_OFF0, FAKE_ELF_FILESZ0) == 0, "segment 0 contents");
	for (size_t i = FAKE_ELF_FILESZ0; i < FAKE_ELF_MEMSZ0; i++)
		CHECK(s0[i] == 0, "bss byte %zu not zero", i);
	const uint8_t *s1 = gmem_ptr(&m, FAKE_ELF_PADDR1, FAKE_ELF_SZ1);
	CHECK(memcmp(s1, img + FAKE_ELF_OFF1, FAKE_ELF_SZ1) == 0, "segment 1 contents");
	gmem_destroy(&m);
	kernel_image_close(&k);
	free(img);
}

static void expect_unfit(const struct x86_boot_config *bc, uint64_t ram, const char *what,
			 const char *needle)
{
	SECTION("%s is refused", what);
	struct error err = { 0 };
	CHECK(x86_boot_check_fit(bc, ram, &err) < 0 && err.status == ERR_INPUT, "status %d", err.status);
	CHECK(strstr(err.msg, needle), "message lacks '%s': %s", needle, err.msg);
}

static void test_fit(void)
{
	size_t size;
	uint8_t *img = fake_bzimage(4096, &size);
	struct kernel_image k;
	open_kernel(img, size, &k);
	static const char big_name[] = "big.cpio";
	struct x86_boot_config bc = { .kernel = &k, .cmdline = "x", .ncpus = 1,
		.initrd_size = 600 * MiB, .initrd_path = big_name };
	expect_unfit(&bc, 512 * MiB, "a 600 MiB initrd in 512 MiB",
		     "initrd 'big.cpio' (600 MiB) does not fit in guest RAM (512 MiB)");
	bc.initrd_size = 1024 * MiB;
	k.initrd_addr_max = 0x37FFFFFF;
	expect_unfit(&bc, 2048 * MiB, "a 1 GiB initrd above initrd_addr_max 896 MiB", "does not fit");
	k.initrd_addr_max = 0x7FFFFFFF;
	bc.initrd_size = 100 * MiB;
	struct error err = { 0 };
	SECTION("a 100 MiB initrd in 512 MiB fits");
	CHECK(x86_boot_check_fit(&bc, 512 * MiB, &err) == 0, "%s", err.msg);

	bc.initrd_size = 0;
	char *cmd = malloc(8192);
	memset(cmd, 'a', 8191);
	cmd[8191] = 0;
	cmd[2048] = 0;
	bc.cmdline = cmd;
	expect_unfit(&bc, 512 * MiB, "a 2048-byte command line (cmdline_size 2047)",
		     "command line is 2048 bytes; the kernel accepts at most 2047");
	cmd[2048] = 'a';
	cmd[2047] = 0;
	err = (struct error){ 0 };
	SECTION("a 2047-byte command line fits");
	CHECK(x86_boot_check_fit(&bc, 512 * MiB, &err) == 0, "%s", err.msg);
	cmd[2047] = 'a';
	cmd[4096] = 0;
	k.cmdline_size = 100000;
	expect_unfit(&bc, 512 * MiB, "a 4096-byte command line (X86_CMDLINE_MAX)", "at most 4095");
	free(cmd);

	bc.cmdline = "";
	k.load_end = 70 * MiB;
	expect_unfit(&bc, 64 * MiB, "a kernel needing 70 MiB in 64 MiB", "too small");
	bc.ncpus = 0;
	k.load_end = 20 * MiB;
	expect_unfit(&bc, 64 * MiB, "0 vCPUs", "vCPUs");
	bc.ncpus = 256;
	expect_unfit(&bc, 64 * MiB, "256 vCPUs", "vCPUs");

	SECTION("x86_boot_setup refuses what check_fit refuses, writing nothing");
	struct guest_mem m;
	new_guest(&m, 64 * MiB);
	bc.ncpus = 1;
	bc.initrd = img;
	bc.initrd_size = 80 * MiB; /* never read: refused first */
	struct x86_boot_regs r;
	err = (struct error){ 0 };
	CHECK(x86_boot_setup(&m, &bc, &r, &err) < 0 && err.status == ERR_INPUT, "%s", err.msg);
	const uint8_t *kern = gmem_ptr(&m, X86_KERNEL_GPA, 16);
	CHECK(kern[0] == 0 && kern[1] == 0, "kernel not written");
	gmem_destroy(&m);

	kernel_image_close(&k);
	free(img);
}

static void test_initrd_place(void)
{
	SECTION("initrd placement: 2 MiB aligned when possible, else 4 KiB, else refused");
	uint64_t a;
	CHECK(x86_initrd_place(20 * MiB, 128 * MiB, 3 * MiB, &a) == 0 && a == 124 * MiB, "2 MiB case");
	CHECK(x86_initrd_place(0xA40000, 16 * MiB, 0x580000, &a) == 0 && a == 0xA80000,
	      "4 KiB fallback: 0x%llx", (unsigned long long)a);
	CHECK(x86_initrd_place(0xA80001, 16 * MiB, 0x580000, &a) < 0, "does not fit above floor");
	CHECK(x86_initrd_place(0, 16 * MiB, 17 * MiB, &a) < 0, "larger than the limit");
	CHECK(x86_initrd_place(16 * MiB, 16 * MiB, 0, &a) == 0 && a == 16 * MiB, "zero size");
	struct kernel_image k = { .initrd_addr_max = 0x7FFFFFFF };
	CHECK(x86_initrd_limit(&k, 512 * MiB) == 512 * MiB, "limit is RAM end");
	CHECK(x86_initrd_limit(&k, 3072 * MiB) == 2048 * MiB, "limit is initrd_addr_max + 1");
	k.initrd_addr_max = 0xFFFFFFFF;
	CHECK(x86_initrd_limit(&k, 3072 * MiB) == 3072 * MiB, "no 32-bit wrap of initrd_addr_max + 1");
}

int main(void)
{
	printf("test_boot_setup\n");
	test_bzimage_setup();
	test_elf_setup();
	test_fit();
	test_initrd_place();
	printf("test_boot_setup: all passed\n");
	return 0;
}
