/* Multiboot v1: header detection (alignment, the 8 KiB window, checksum), ELF32 validation
 * (hostile headers and segments refused with one-line status-2 errors), and the boot layout:
 * segments and bss, the info structure at the spec's offsets, the memory map, command line and
 * module, and the 32-bit entry state. Ends with a table of mutated images that must each be
 * either accepted or refused, never crash (ASan/UBSan). */
#include <elf.h>

#include "arch/x86/boot_internal.h"
#include "arch/x86/cpu_state.h"
#include "arch/x86/layout.h"
#include "check.h"

#include <asm/bootparam.h>

#define MiB (1ULL << 20)
#define LOAD 0x400000u           /* kvm-unit-tests link at 4 MiB */
#define MB_OFF 0x80u             /* where the fake image keeps its Multiboot header */
#define TEXT_OFF 0x1000u
#define TEXT_SIZE 0x100u
#define DATA_OFF (TEXT_OFF + TEXT_SIZE)
#define DATA_FILESZ 0x10u
#define DATA_MEMSZ 0x2000u
#define ENTRY (LOAD + 0x10u)
#define IMG_SIZE (DATA_OFF + DATA_FILESZ)

struct img {
	uint8_t b[IMG_SIZE];
};

static Elf32_Ehdr *ehdr(struct img *im) { return (Elf32_Ehdr *)im->b; }
static Elf32_Phdr *phdr(struct img *im, unsigned i)
{
	return (Elf32_Phdr *)(im->b + sizeof(Elf32_Ehdr)) + i;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void mb_header(struct img *im, uint32_t off, uint32_t flags)
{
	put32(im->b + off, 0x1BADB002u);
	put32(im->b + off + 4, flags);
	put32(im->b + off + 8, 0u - (0x1BADB002u + flags));
}

/* Text at 4 MiB (entry inside it), data right after with a bss tail: what flat.lds makes. */
static void fake_mb(struct img *im)
{
	memset(im, 0, sizeof(*im));
	Elf32_Ehdr *e = ehdr(im);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS32;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_EXEC;
	e->e_machine = EM_386;
	e->e_version = EV_CURRENT;
	e->e_entry = ENTRY;
	e->e_phoff = sizeof(Elf32_Ehdr);
	e->e_ehsize = sizeof(Elf32_Ehdr);
	e->e_phentsize = sizeof(Elf32_Phdr);
	e->e_phnum = 2;
	*phdr(im, 0) = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = TEXT_OFF, .p_vaddr = LOAD,
				     .p_paddr = LOAD, .p_filesz = TEXT_SIZE, .p_memsz = TEXT_SIZE,
				     .p_flags = PF_R | PF_X, .p_align = 0x1000 };
	*phdr(im, 1) = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = DATA_OFF,
				     .p_vaddr = LOAD + 0x1000, .p_paddr = LOAD + 0x1000,
				     .p_filesz = DATA_FILESZ, .p_memsz = DATA_MEMSZ,
				     .p_flags = PF_R | PF_W, .p_align = 0x1000 };
	mb_header(im, MB_OFF, 0);
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		im->b[TEXT_OFF + i] = (uint8_t)(0x90 + i);
	for (unsigned i = 0; i < DATA_FILESZ; i++)
		im->b[DATA_OFF + i] = (uint8_t)(0xA0 + i);
}

static int open_img(const void *b, size_t size, struct kernel_image *k, struct error *err,
		    char *path)
{
	check_write_tmp(b, size, path);
	*err = (struct error){ 0 };
	int rc = kernel_image_open(k, path, err);
	unlink(path);
	CHECK((rc == 0) == (err->status == 0), "rc %d but status %d", rc, err->status);
	return err->status;
}

static void test_find(void)
{
	static uint8_t buf[12000];
	SECTION("the header is found 4-byte aligned in the first 8 KiB, with its checksum");
	memset(buf, 0, sizeof(buf));
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == -1, "found in zeros");
	struct img *im = (struct img *)buf; /* only the header bytes are used here */
	mb_header(im, 8192 - 12, 3);
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == 8192 - 12, "last slot of the window");
	memset(buf, 0, sizeof(buf));
	mb_header(im, 8192, 0);
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == -1, "found past 8 KiB");
	memset(buf, 0, sizeof(buf));
	mb_header(im, 0x102, 0);
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == -1, "found unaligned");
	memset(buf, 0, sizeof(buf));
	mb_header(im, 0x100, 0);
	CHECK(x86_multiboot_find(buf, 0x10B) == -1, "a header cut by the file's end was found");
	CHECK(x86_multiboot_find(buf, 0x10C) == 0x100, "a header ending at the file's end");
	put32(buf + 0x108, 1);
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == -2, "bad checksum not told apart");
	mb_header(im, 0x200, 0);
	CHECK(x86_multiboot_find(buf, sizeof(buf)) == 0x200, "a good header after a bad one");
}

static void test_open(void)
{
	struct img im;
	struct kernel_image k;
	struct error err;
	char path[64];
	fake_mb(&im);
	SECTION("a Multiboot ELF32 kernel opens as KERNEL_MULTIBOOT");
	CHECK(open_img(im.b, sizeof(im.b), &k, &err, path) == 0, "%s", err.msg);
	CHECK(k.format == KERNEL_MULTIBOOT, "format %d", k.format);
	CHECK(k.elf_entry == ENTRY, "entry 0x%llx", (unsigned long long)k.elf_entry);
	CHECK(k.load_start == LOAD && k.load_end == LOAD + 0x1000 + DATA_MEMSZ, "load range");
	kernel_image_close(&k);

	SECTION("an ELF32 file without a Multiboot header is not a kernel hardy boots");
	memset(im.b + MB_OFF, 0, 12);
	CHECK(open_img(im.b, sizeof(im.b), &k, &err, path) == ERR_INPUT, "accepted");
	CHECK(strstr(err.msg, "64-bit"), "message: %s", err.msg);
}

/* Each case changes the valid image; all must be refused with status 2, one line naming the
 * file and the problem. */
static void mut_checksum(struct img *im) { put32(im->b + MB_OFF + 8, 0); }
static void mut_video(struct img *im) { mb_header(im, MB_OFF, 1u << 2); }
static void mut_unknown_req(struct img *im) { mb_header(im, MB_OFF, 1u << 9); }
static void mut_aout(struct img *im) { mb_header(im, MB_OFF, 1u << 16); }
static void mut_not_elf(struct img *im) { im->b[1] = 'X'; }
static void mut_machine(struct img *im) { ehdr(im)->e_machine = EM_ARM; }
static void mut_dyn(struct img *im) { ehdr(im)->e_type = ET_DYN; }
static void mut_phnum0(struct img *im) { ehdr(im)->e_phnum = 0; }
static void mut_phentsize(struct img *im) { ehdr(im)->e_phentsize = 20; }
static void mut_phoff(struct img *im) { ehdr(im)->e_phoff = IMG_SIZE - 8; }
static void mut_phoff_huge(struct img *im) { ehdr(im)->e_phoff = 0xFFFFFFF0u; }
static void mut_seg_past_file(struct img *im) { phdr(im, 1)->p_filesz = 0x1000; }
static void mut_seg_off_huge(struct img *im) { phdr(im, 0)->p_offset = 0xFFFFFFFFu; }
static void mut_filesz_gt_memsz(struct img *im) { phdr(im, 1)->p_memsz = 1; }
static void mut_low_tables(struct img *im) { phdr(im, 0)->p_paddr = X86_MB_INFO_GPA; }
static void mut_below_1m(struct img *im) { phdr(im, 1)->p_paddr = 0xFF000; }
static void mut_hole(struct img *im) { phdr(im, 1)->p_paddr = 0xBFFFF000u; }
static void mut_wrap(struct img *im)
{
	phdr(im, 1)->p_paddr = 0xFFFFF000u;
	phdr(im, 1)->p_memsz = 0x2000;
}
static void mut_entry(struct img *im) { ehdr(im)->e_entry = 0x100; }
static void mut_no_load(struct img *im) { phdr(im, 0)->p_type = phdr(im, 1)->p_type = PT_NOTE; }

static const struct {
	const char *what, *needle;
	void (*mutate)(struct img *);
	size_t size; /* 0: the whole image */
} hostile[] = {
	{ "a bad checksum", "checksum", mut_checksum, 0 },
	{ "a video mode requirement", "flags 0x4", mut_video, 0 },
	{ "an unknown requirement", "flags 0x200", mut_unknown_req, 0 },
	{ "the a.out kludge", "a.out", mut_aout, 0 },
	{ "a non-ELF file with a header", "not an ELF", mut_not_elf, 0 },
	{ "another machine", "ELF32 i386", mut_machine, 0 },
	{ "a shared object", "not an executable", mut_dyn, 0 },
	{ "no program headers", "program headers", mut_phnum0, 0 },
	{ "a bad phentsize", "program headers", mut_phentsize, 0 },
	{ "program headers past the end", "outside the file", mut_phoff, 0 },
	{ "program headers at 4 GiB", "outside the file", mut_phoff_huge, 0 },
	{ "a segment past the end", "truncated", mut_seg_past_file, 0 },
	{ "a segment offset at 4 GiB", "truncated", mut_seg_off_huge, 0 },
	{ "a truncated file", "truncated", NULL, IMG_SIZE - 4 },
	{ "a file cut inside the ELF header", "truncated ELF header", NULL, 40 },
	{ "filesz > memsz", "filesz > memsz", mut_filesz_gt_memsz, 0 },
	{ "a segment over hardy's tables", "hardy's boot tables", mut_low_tables, 0 },
	{ "a segment across 1 MiB", "outside [1 MiB, 3 GiB)", mut_below_1m, 0 },
	{ "a segment into the 3 GiB hole", "outside [1 MiB, 3 GiB)", mut_hole, 0 },
	{ "a segment wrapping 4 GiB", "outside [1 MiB, 3 GiB)", mut_wrap, 0 },
	{ "an entry outside the segments", "entry", mut_entry, 0 },
	{ "no loadable segments", "no loadable", mut_no_load, 0 },
};

static void test_hostile(void)
{
	for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct img im;
		struct kernel_image k;
		struct error err;
		char path[64];
		fake_mb(&im);
		if (hostile[i].mutate)
			hostile[i].mutate(&im);
		SECTION("%s is refused", hostile[i].what);
		size_t size = hostile[i].size ? hostile[i].size : sizeof(im.b);
		CHECK(open_img(im.b, size, &k, &err, path) == ERR_INPUT, "%s: status %d",
		      hostile[i].what, err.status);
		CHECK(strstr(err.msg, path), "message does not name the file: %s", err.msg);
		CHECK(strstr(err.msg, hostile[i].needle), "message lacks '%s': %s", hostile[i].needle,
		      err.msg);
		CHECK(!strchr(err.msg, '\n'), "message is not one line");
		CHECK(k.data == NULL && k.path == NULL, "failed open leaves nothing allocated");
	}
}

static void new_guest(struct guest_mem *m, uint64_t size)
{
	struct error err = { 0 };
	CHECK(gmem_init(m, size, &err) == 0, "%s", err.msg);
}

static uint32_t rd(const struct guest_mem *m, uint64_t gpa)
{
	uint32_t v;
	CHECK(gmem_read(m, gpa, &v, 4) == 0, "0x%llx readable", (unsigned long long)gpa);
	return v;
}

static void test_setup(void)
{
	struct img im;
	struct kernel_image k;
	struct error err;
	char path[64];
	fake_mb(&im);
	CHECK(open_img(im.b, sizeof(im.b), &k, &err, path) == 0, "%s", err.msg);
	static const char env[] = "NR_CPUS=2\nMEMSIZE=256\n";
	char *cmdline = x86_multiboot_cmdline("x86/msr.flat", "-t 1");
	CHECK(cmdline && !strcmp(cmdline, "x86/msr.flat -t 1"), "cmdline '%s'", cmdline);
	struct x86_boot_config bc = { .kernel = &k, .initrd = env, .initrd_size = sizeof(env) - 1,
				      .initrd_path = "/tmp/test.env", .cmdline = cmdline, .ncpus = 2 };
	struct guest_mem m;
	new_guest(&m, 256 * MiB);
	struct x86_boot_regs regs;
	SECTION("Multiboot setup: segments, bss, info, memory map, command line, module");
	err = (struct error){ 0 };
	CHECK(x86_boot_setup(&m, &bc, &regs, &err) == 0, "%s", err.msg);
	const uint8_t *text = gmem_ptr(&m, LOAD, TEXT_SIZE);
	const uint8_t *data = gmem_ptr(&m, LOAD + 0x1000, DATA_MEMSZ);
	CHECK(text && !memcmp(text, im.b + TEXT_OFF, TEXT_SIZE), "text not loaded");
	CHECK(data && !memcmp(data, im.b + DATA_OFF, DATA_FILESZ), "data not loaded");
	for (unsigned i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		CHECK(data[i] == 0, "bss byte %u not zero", i);

	uint64_t info = regs.ebx;
	CHECK(regs.protected32 && regs.eax == 0x2BADB002u && info == X86_MB_INFO_GPA, "EAX/EBX");
	CHECK(regs.rip == ENTRY, "rip 0x%llx", (unsigned long long)regs.rip);
	/* The spec's offsets, not our struct's. */
	CHECK(rd(&m, info + 0) == ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6)), "flags 0x%x",
	      rd(&m, info));
	CHECK(rd(&m, info + 4) == 639, "mem_lower %u", rd(&m, info + 4));
	CHECK(rd(&m, info + 8) == (256 - 1) * 1024, "mem_upper %u", rd(&m, info + 8));
	char s[64] = { 0 };
	CHECK(gmem_read(&m, rd(&m, info + 16), s, sizeof(s) - 1) == 0 && !strcmp(s, cmdline),
	      "cmdline '%s'", s);
	CHECK(rd(&m, info + 20) == 1, "mods_count %u", rd(&m, info + 20));
	uint64_t mod = rd(&m, info + 24);
	uint32_t start = rd(&m, mod), end = rd(&m, mod + 4);
	CHECK(start % 4096 == 0 && start >= k.load_end && end == start + sizeof(env) - 1 &&
	      end <= 256 * MiB, "module at 0x%x-0x%x", start, end);
	char got[sizeof(env)] = { 0 };
	CHECK(gmem_read(&m, start, got, sizeof(env) - 1) == 0 && !strcmp(got, env), "module bytes");
	memset(s, 0, sizeof(s));
	CHECK(gmem_read(&m, rd(&m, mod + 8), s, sizeof(s) - 1) == 0 && !strcmp(s, "/tmp/test.env"),
	      "module string '%s'", s);

	struct boot_e820_entry e820[8];
	unsigned n = x86_e820_build(&m, e820, 8);
	uint32_t len = rd(&m, info + 44);
	uint64_t map = rd(&m, info + 48);
	CHECK(len == n * 24, "mmap_length %u for %u e820 entries", len, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr, size;
		CHECK(rd(&m, map + 24 * i) == 20, "entry %u size field", i);
		CHECK(gmem_read(&m, map + 24 * i + 4, &addr, 8) == 0 &&
		      gmem_read(&m, map + 24 * i + 12, &size, 8) == 0, "entry %u readable", i);
		CHECK(addr == e820[i].addr && size == e820[i].size &&
		      rd(&m, map + 24 * i + 20) == e820[i].type, "entry %u is not e820's", i);
	}
	CHECK(n >= 3 && e820[2].addr == MiB && e820[2].size == 255 * MiB, "RAM from 1 MiB");

	SECTION("Multiboot entry state: protected mode, paging off, flat 32-bit, IF clear");
	struct x86_cpu_state st = { .cr0 = 0x60000010, .efer = 0, .rflags = 0x202 };
	st.gpr[X86_RSI] = 7;
	x86_boot_cpu_state(&regs, &st);
	CHECK((st.cr0 & X86_CR0_PE) && !(st.cr0 & X86_CR0_PG) && !(st.cr0 & (X86_CR0_CD | X86_CR0_NW)),
	      "cr0 0x%llx", (unsigned long long)st.cr0);
	CHECK(!(st.efer & (X86_EFER_LME | X86_EFER_LMA)) && !(st.cr4 & X86_CR4_PAE), "long mode off");
	CHECK(st.cs.db && !st.cs.l && st.cs.g && st.cs.limit == 0xFFFFFFFF && st.cs.base == 0 &&
	      (st.cs.type & 8), "CS is flat 32-bit code");
	CHECK(st.ss.db && st.ds.limit == 0xFFFFFFFF && !(st.ds.type & 8), "data segments flat");
	CHECK(st.gpr[X86_RAX] == 0x2BADB002u && st.gpr[X86_RBX] == X86_MB_INFO_GPA &&
	      st.gpr[X86_RSI] == 0, "registers");
	CHECK(st.rip == ENTRY && !(st.rflags & 0x200), "rip, IF");
	CHECK(st.mp_state == X86_MP_RUNNABLE, "runnable");
	uint64_t gdt[4];
	CHECK(gmem_read(&m, st.gdt.base, gdt, sizeof(gdt)) == 0 && st.gdt.limit == 31, "GDT");
	CHECK(((gdt[X86_BOOT_CS / 8] >> 53) & 1) == 0 && ((gdt[X86_BOOT_CS / 8] >> 54) & 1) == 1,
	      "GDT code descriptor is 32-bit");
	gmem_destroy(&m);

	SECTION("Multiboot: no module means mods_count 0");
	bc.initrd = NULL;
	bc.initrd_size = 0;
	new_guest(&m, 64 * MiB);
	CHECK(x86_boot_setup(&m, &bc, &regs, &err) == 0, "%s", err.msg);
	CHECK(rd(&m, X86_MB_INFO_GPA + 20) == 0, "mods_count");
	gmem_destroy(&m);

	SECTION("Multiboot: a kernel above the guest's RAM is refused before anything is written");
	bc.ncpus = 1;
	k.load_end = 100 * MiB;
	err = (struct error){ 0 };
	CHECK(x86_boot_check_fit(&bc, 64 * MiB, &err) < 0 && err.status == ERR_INPUT &&
	      strstr(err.msg, "too small"), "fit: %s", err.msg);
	SECTION("Multiboot: a module that does not fit above the kernel is refused");
	k.load_end = 60 * MiB;
	bc.initrd = env;
	bc.initrd_size = 8 * MiB;
	err = (struct error){ 0 };
	CHECK(x86_boot_check_fit(&bc, 64 * MiB, &err) < 0 && err.status == ERR_INPUT &&
	      strstr(err.msg, "does not fit"), "fit: %s", err.msg);
	free(cmdline);
	kernel_image_close(&k);
}

/* A deterministic table of damaged images: bytes of the headers and the Multiboot header
 * changed at random. Each opens or is refused with status 2 and one line; what opens also
 * boots into a small guest or is refused, and nothing reads or writes outside its buffers. */
static void test_mutations(void)
{
	uint32_t seed = 12345;
	unsigned opened = 0, refused = 0;
	SECTION("2000 damaged images: accepted or refused, never a crash");
	for (unsigned iter = 0; iter < 2000; iter++) {
		struct img im;
		fake_mb(&im);
		unsigned flips = 1 + iter % 4;
		for (unsigned f = 0; f < flips; f++) {
			seed = seed * 1103515245u + 12345u;
			unsigned where = (seed >> 8) % (sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr) + 24);
			if (where >= sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr)) /* the MB header */
				where = MB_OFF + where - (sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr));
			seed = seed * 1103515245u + 12345u;
			im.b[where] = (uint8_t)(seed >> 16);
		}
		if (iter % 7 == 0) /* keep the checksum right, so the ELF checks are reached */
			mb_header(&im, MB_OFF, get32(im.b + MB_OFF + 4));
		struct kernel_image k;
		struct error err;
		char path[64];
		if (open_img(im.b, sizeof(im.b), &k, &err, path) != 0) {
			CHECK(err.status == ERR_INPUT && !strchr(err.msg, '\n'), "iter %u: %d %s", iter,
			      err.status, err.msg);
			refused++;
			continue;
		}
		opened++;
		struct guest_mem m;
		new_guest(&m, 64 * MiB);
		struct x86_boot_config bc = { .kernel = &k, .cmdline = "x", .ncpus = 1 };
		struct x86_boot_regs regs;
		err = (struct error){ 0 };
		if (x86_boot_setup(&m, &bc, &regs, &err) < 0)
			CHECK(err.status != 0 && !strchr(err.msg, '\n'), "iter %u: setup %s", iter, err.msg);
		gmem_destroy(&m);
		kernel_image_close(&k);
	}
	CHECK(opened > 0 && refused > 0, "the table is not hostile enough: %u opened, %u refused",
	      opened, refused);
	printf("  %u opened, %u refused\n", opened, refused);
}

int main(void)
{
	printf("test_multiboot\n");
	test_find();
	test_open();
	test_hostile();
	test_setup();
	test_mutations();
	printf("test_multiboot: all passed\n");
	return 0;
}
