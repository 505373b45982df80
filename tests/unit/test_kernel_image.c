/* kernel_image_open(): valid bzImage and ELF accepted with the right fields; truncated, garbage,
 * missing, too-old and 32-bit-only kernels rejected with status 2 and a one-line message. */
#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"
#include "check.h"
#include "fake_kernel.h"

/* Opens img (written to a temp file) and returns the status; the message goes to err. */
static int open_bytes(const uint8_t *img, size_t size, struct kernel_image *k, struct error *err,
		      char *path)
{
	check_write_tmp(img, size, path);
	*err = (struct error){ 0 };
	int rc = kernel_image_open(k, path, err);
	unlink(path);
	CHECK((rc == 0) == (err->status == 0), "rc %d but status %d", rc, err->status);
	return err->status;
}

static void expect_reject(const uint8_t *img, size_t size, const char *what, const char *needle)
{
	struct kernel_image k;
	struct error err;
	char path[64];
	SECTION("%s is rejected", what);
	CHECK(open_bytes(img, size, &k, &err, path) == ERR_INPUT, "%s: status %d", what, err.status);
	CHECK(strstr(err.msg, path), "message does not name the file: %s", err.msg);
	CHECK(strstr(err.msg, needle), "message lacks '%s': %s", needle, err.msg);
	CHECK(!strchr(err.msg, '\n'), "message is not one line");
	CHECK(k.data == NULL && k.path == NULL, "failed open leaves nothing allocated");
}

static void test_bzimage(void)
{
	size_t size;
	uint8_t *img = fake_bzimage(100000, &size);
	struct kernel_image k;
	struct error err;
	char path[64];
	SECTION("a valid bzImage opens");
	CHECK(open_bytes(img, size, &k, &err, path) == 0, "%s", err.msg);
	CHECK(k.format == KERNEL_BZIMAGE, "format");
	CHECK(k.setup_size == FAKE_SETUP_SIZE, "setup_size %zu", k.setup_size);
	CHECK(k.protocol == 0x020F, "protocol %x", k.protocol);
	CHECK(k.cmdline_size == 2047 && k.initrd_addr_max == 0x7FFFFFFF, "cmdline/initrd limits");
	CHECK(k.init_size == FAKE_INIT_SIZE, "init_size");
	CHECK(k.load_end == FAKE_PREF_ADDR + FAKE_INIT_SIZE, "load_end 0x%llx",
	      (unsigned long long)k.load_end);
	CHECK(k.size == size && memcmp(k.data, img, size) == 0, "data is the whole file");
	kernel_image_close(&k);

	SECTION("setup_sects 0 means 4");
	struct setup_header h = fake_hdr_get(img);
	h.setup_sects = 0;
	fake_hdr_put(img, &h);
	CHECK(open_bytes(img, size, &k, &err, path) == 0, "%s", err.msg);
	CHECK(k.setup_size == 2560, "setup_size %zu", k.setup_size);
	kernel_image_close(&k);

	SECTION("a trailing signature after the payload is accepted");
	uint8_t *longer = calloc(1, size + 1472);
	memcpy(longer, img, size);
	CHECK(open_bytes(longer, size + 1472, &k, &err, path) == 0, "%s", err.msg);
	kernel_image_close(&k);
	free(longer);

	expect_reject(img, size - 16, "a bzImage one paragraph short", "truncated bzImage");
	expect_reject(img, 3000, "a bzImage cut after the setup code", "truncated bzImage (file 3000 bytes");
	expect_reject(img, 1024, "a bzImage cut inside the setup code", "truncated bzImage");

	h = fake_hdr_get(img);
	h.version = 0x0205;
	fake_hdr_put(img, &h);
	expect_reject(img, size, "boot protocol 2.05", "too old");
	h.version = 0x020B;
	fake_hdr_put(img, &h);
	expect_reject(img, size, "boot protocol 2.11 (no xloadflags)", "64-bit entry");
	h.version = 0x020F;
	h.xloadflags = 0;
	fake_hdr_put(img, &h);
	expect_reject(img, size, "a bzImage without XLF_KERNEL_64", "64-bit entry");
	h.xloadflags = XLF_KERNEL_64;
	h.boot_flag = 0x1234;
	fake_hdr_put(img, &h);
	expect_reject(img, size, "a bzImage with a bad boot flag", "boot flag");
	h.boot_flag = 0xAA55;
	h.syssize = 0;
	fake_hdr_put(img, &h);
	expect_reject(img, size, "a bzImage with syssize 0", "bzImage");
	free(img);
}

static void test_elf(void)
{
	size_t size;
	struct kernel_image k;
	struct error err;
	char path[64];
	for (int virt = 0; virt < 2; virt++) {
		SECTION("a valid ELF vmlinux opens (%s entry)", virt ? "virtual" : "physical");
		uint8_t *img = fake_elf(&size, virt);
		CHECK(open_bytes(img, size, &k, &err, path) == 0, "%s", err.msg);
		CHECK(k.format == KERNEL_ELF, "format");
		CHECK(k.elf_entry == FAKE_ELF_PADDR0 + FAKE_ELF_ENTRY, "entry 0x%llx",
		      (unsigned long long)k.elf_entry);
		CHECK(k.load_end == FAKE_ELF_PADDR1 + FAKE_ELF_SZ1, "load_end");
		CHECK(k.cmdline_size == X86_ELF_CMDLINE_SIZE && k.initrd_addr_max == X86_DEFAULT_INITRD_MAX,
		      "defaults for ELF");
		kernel_image_close(&k);
		free(img);
	}
	uint8_t *img = fake_elf(&size, 1);
	expect_reject(img, size - 1, "an ELF whose last segment is cut", "outside the file");
	expect_reject(img, 40, "an ELF cut inside its header", "ELF");
	fake_elf_phdr(img, 0)->p_paddr = 0x1000;
	expect_reject(img, size, "an ELF segment below 1 MiB", "outside [1 MiB, 3 GiB)");
	fake_elf_phdr(img, 0)->p_paddr = UINT64_MAX - 0x100;
	expect_reject(img, size, "an ELF segment whose end overflows", "outside [1 MiB, 3 GiB)");
	fake_elf_phdr(img, 0)->p_paddr = FAKE_ELF_PADDR0;
	fake_elf_phdr(img, 0)->p_offset = UINT64_MAX - 8;
	expect_reject(img, size, "an ELF segment whose file range overflows", "outside the file");
	fake_elf_phdr(img, 0)->p_offset = FAKE_ELF_OFF0;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	eh->e_entry = 0xffffffff90000000ULL;
	expect_reject(img, size, "an ELF whose entry is in no segment", "entry");
	eh->e_entry = FAKE_ELF_VADDR0;
	eh->e_machine = EM_386;
	expect_reject(img, size, "an i386 ELF", "x86-64");
	eh->e_machine = EM_X86_64;
	eh->e_phoff = size;
	expect_reject(img, size, "an ELF whose program headers are outside it", "program headers");
	free(img);
}

static void test_garbage_and_missing(void)
{
	uint8_t junk[5000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13);
	expect_reject(junk, sizeof(junk), "a garbage file", "not a bzImage, ELF vmlinux or Multiboot kernel");
	expect_reject(junk, 0, "an empty file", "not a bzImage, ELF vmlinux or Multiboot kernel");

	SECTION("a missing file is status 2 naming the file");
	struct kernel_image k;
	struct error err = { 0 };
	CHECK(kernel_image_open(&k, "/nonexistent/hardy-kernel", &err) < 0, "opened a missing file");
	CHECK(err.status == ERR_INPUT, "status %d", err.status);
	CHECK(strcmp(err.msg, "kernel '/nonexistent/hardy-kernel': No such file or directory") == 0,
	      "message: %s", err.msg);

	SECTION("a directory is status 2");
	err = (struct error){ 0 };
	CHECK(kernel_image_open(&k, "/tmp", &err) < 0 && err.status == ERR_INPUT, "status %d", err.status);

	SECTION("file_read_all refuses devices and files over its limit");
	{
		uint8_t *d = NULL;
		size_t n = 0;
		struct error e1 = { 0 }, e2 = { 0 };
		CHECK(file_read_all("/dev/zero", "initrd", 1 << 20, &d, &n, &e1) < 0 &&
		      e1.status == ERR_INPUT && strstr(e1.msg, "regular"), "/dev/zero: %s", e1.msg);
		char big[64];
		static uint8_t two_mib[2 << 20];
		check_write_tmp(two_mib, sizeof(two_mib), big);
		CHECK(file_read_all(big, "initrd", 1 << 20, &d, &n, &e2) < 0 && e2.status == ERR_INPUT &&
		      strstr(e2.msg, "larger"), "2 MiB file under a 1 MiB limit: %s", e2.msg);
		unlink(big);
	}
	SECTION("file_read_all accepts an empty initrd, rejects a missing one");
	char path[64];
	check_write_tmp("", 0, path);
	uint8_t *data;
	size_t size;
	err = (struct error){ 0 };
	CHECK(file_read_all(path, "initrd", 1 << 20, &data, &size, &err) == 0 && size == 0, "%s", err.msg);
	free(data);
	unlink(path);
	CHECK(file_read_all(path, "initrd", 1 << 20, &data, &size, &err) < 0 && err.status == ERR_INPUT &&
	      strstr(err.msg, "initrd '"), "missing initrd: %s", err.msg);
}

/* A real Debian kernel, when HARDY_TEST_KERNEL names one. */
static void test_real_kernel(void)
{
	const char *path = getenv("HARDY_TEST_KERNEL");
	if (!path || access(path, R_OK) != 0) {
		SECTION("real kernel: skipped (set HARDY_TEST_KERNEL to a bzImage)");
		return;
	}
	SECTION("real kernel %s opens, protocol >= 2.15", path);
	struct kernel_image k;
	struct error err = { 0 };
	CHECK(kernel_image_open(&k, path, &err) == 0, "%s", err.msg);
	CHECK(k.format == KERNEL_BZIMAGE && k.protocol >= 0x020F, "protocol 0x%x", k.protocol);
	CHECK(k.init_size > 0 && k.load_end > X86_KERNEL_GPA + (k.size - k.setup_size), "load_end");
	printf("    protocol %x, setup %zu bytes, init_size %u KiB, needs RAM up to %llu KiB\n",
	       k.protocol, k.setup_size, k.init_size >> 10, (unsigned long long)k.load_end >> 10);

	SECTION("real kernel: x86_boot_setup in a 256 MiB guest copies its setup header");
	struct guest_mem m;
	CHECK(gmem_init(&m, 256ULL << 20, &err) == 0, "%s", err.msg);
	const struct x86_boot_config bc = { .kernel = &k, .cmdline = "console=ttyS0", .ncpus = 2 };
	struct x86_boot_regs r;
	CHECK(x86_boot_setup(&m, &bc, &r, &err) == 0, "%s", err.msg);
	const uint8_t *bp = gmem_ptr(&m, X86_BOOT_PARAMS_GPA, 4096);
	size_t end = x86_bz_header_end(&k);
	CHECK(end == 0x26C, "6.1 header ends at 0x26C, got 0x%zx", end);
	CHECK(memcmp(bp + 0x1F1, k.data + 0x1F1, 0x210 - 0x1F1) == 0, "header up to type_of_loader");
	CHECK(memcmp(bp + 0x228 + 4, k.data + 0x228 + 4, end - 0x22C) == 0, "header after cmd_line_ptr");
	CHECK(r.rip == X86_KERNEL_GPA + 0x200, "rip");
	gmem_destroy(&m);
	kernel_image_close(&k);
}

int main(void)
{
	printf("test_kernel_image\n");
	test_bzimage();
	test_elf();
	test_garbage_and_missing();
	test_real_kernel();
	printf("test_kernel_image: all passed\n");
	return 0;
}
