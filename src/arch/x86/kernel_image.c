/* Reading and validating a kernel file: a bzImage (checked here) or an ELF vmlinux (checked in
 * kernel_elf.c). Nothing is written to guest memory here; every problem is bad input (status 2). */
#include "arch/x86/boot_internal.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"

#define BZ_BOOT_FLAG_OFF 0x1FE
#define BZ_HDR_OFF       0x1F1
#define BZ_MAGIC_OFF     0x202
#define BZ_BOOT_FLAG     0xAA55
#define BZ_MIN_PROTOCOL  0x0206
#define BZ_XLF_PROTOCOL  0x020C /* first version with xloadflags */

int file_read_all(const char *path, const char *what, uint64_t max, uint8_t **data, size_t *size,
		  struct error *err)
{
	*data = NULL;
	*size = 0;
	/* Non-blocking open: a FIFO without a writer must not hang us; cleared again below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, ERR_INPUT, "%s '%s': %s", what, path, strerror(errno));
	struct stat st;
	int e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (e) {
		close(fd);
		return error_set(err, ERR_INPUT, "%s '%s': %s", what, path, strerror(e));
	}
	/* Files and pipes only: a device such as /dev/zero would never end. */
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		return error_set(err, ERR_INPUT, "%s '%s': not a regular file", what, path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		return error_set(err, ERR_INPUT, "%s '%s' (%llu MiB) is larger than %llu MiB", what, path,
				 (unsigned long long)st.st_size >> 20, (unsigned long long)max >> 20);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* Size from fstat is a hint only (pipes say 0); read until EOF, growing as needed. */
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	size_t len = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		if (len == cap) {
			uint8_t *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(buf);
			close(fd);
			return error_set(err, ERR_INPUT, "%s '%s': %s", what, path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			close(fd);
			return error_set(err, ERR_INPUT, "%s '%s' is larger than %llu MiB", what, path,
					 (unsigned long long)max >> 20);
		}
	}
	close(fd);
	if (!buf)
		return error_set(err, ERR_RUNTIME, "%s '%s': out of memory reading the file", what, path);
	*data = buf;
	*size = len;
	return 0;
}

static bool bz_detect(const uint8_t *d, size_t size)
{
	return size >= BZ_MAGIC_OFF + 4 && memcmp(d + BZ_MAGIC_OFF, "HdrS", 4) == 0;
}

/* Checks the setup header and fills the bzImage fields of k. */
static int bz_parse(struct kernel_image *k, struct error *err)
{
	const char *p = k->path;
	size_t sects = k->data[BZ_HDR_OFF] ? k->data[BZ_HDR_OFF] : 4;
	k->setup_size = (sects + 1) * 512;
	if (k->size < k->setup_size)
		return error_set(err, ERR_INPUT, "kernel '%s': truncated bzImage (file %zu bytes, header says %zu)",
				 p, k->size, k->setup_size);
	struct setup_header h;
	memcpy(&h, k->data + BZ_HDR_OFF, sizeof(h)); /* setup_size >= 2560 covers it */
	if (h.boot_flag != BZ_BOOT_FLAG)
		return error_set(err, ERR_INPUT, "kernel '%s': bad bzImage boot flag 0x%04x (want 0xAA55)",
				 p, h.boot_flag);
	k->protocol = h.version;
	if (h.version < BZ_MIN_PROTOCOL)
		return error_set(err, ERR_INPUT, "kernel '%s': boot protocol %u.%02u is too old (need 2.06)",
				 p, h.version >> 8, h.version & 0xff);
	/* Before 2.12 there are no xloadflags, so nothing promises a 64-bit entry point. */
	if (h.version < BZ_XLF_PROTOCOL || !(h.xloadflags & XLF_KERNEL_64))
		return error_set(err, ERR_INPUT, "kernel '%s': bzImage has no 64-bit entry point (XLF_KERNEL_64)", p);
	uint64_t want = (uint64_t)k->setup_size + (uint64_t)h.syssize * 16;
	if (h.syssize == 0 || k->size < want)
		return error_set(err, ERR_INPUT, "kernel '%s': truncated bzImage (file %zu bytes, header says %llu)",
				 p, k->size, (unsigned long long)want);
	/* Signed kernels carry a signature after the payload, so a longer file is fine. */
	k->cmdline_size = h.cmdline_size; /* present since 2.06 */
	k->initrd_addr_max = h.initrd_addr_max ? h.initrd_addr_max : X86_DEFAULT_INITRD_MAX;
	k->init_size = h.init_size;       /* present since 2.10 */
	k->elf_entry = 0;

	/* The 64-bit entry moves the kernel up to max(load address aligned to kernel_alignment,
	 * LOAD_PHYSICAL_ADDR == pref_address) and decompresses into init_size bytes from there. */
	uint64_t pm_size = k->size - k->setup_size;
	uint64_t run = X86_KERNEL_GPA;
	uint32_t align = h.kernel_alignment;
	if (h.relocatable_kernel && align && !(align & (align - 1)))
		run = (run + align - 1) & ~(uint64_t)(align - 1);
	if (h.pref_address > run && h.pref_address < GMEM_LOW_LIMIT)
		run = h.pref_address;
	uint64_t end = run + h.init_size;
	if (end < X86_KERNEL_GPA + pm_size)
		end = X86_KERNEL_GPA + pm_size;
	k->load_end = end;
	return 0;
}

int kernel_image_open(struct kernel_image *k, const char *path, struct error *err)
{
	memset(k, 0, sizeof(*k));
	if (file_read_all(path, "kernel", KERNEL_FILE_MAX, &k->data, &k->size, err) < 0)
		return -1;
	k->path = strdup(path);
	if (!k->path) {
		kernel_image_close(k);
		return error_set(err, ERR_RUNTIME, "kernel '%s': out of memory", path);
	}
	int rc;
	long mb = x86_multiboot_find(k->data, k->size);
	if (bz_detect(k->data, k->size)) {
		k->format = KERNEL_BZIMAGE;
		rc = bz_parse(k, err);
	} else if (mb != -1 && !(x86_elf_detect(k->data, k->size) && k->size > EI_CLASS &&
				 k->data[EI_CLASS] == ELFCLASS64)) {
		/* A 64-bit vmlinux may carry a Multiboot header too; it boots the Linux way. */
		k->format = KERNEL_MULTIBOOT;
		rc = x86_multiboot_parse(k, mb, err);
	} else if (x86_elf_detect(k->data, k->size)) {
		k->format = KERNEL_ELF;
		rc = x86_elf_parse(k, err);
	} else {
		rc = error_set(err, ERR_INPUT, "kernel '%s': not a bzImage, ELF vmlinux or Multiboot "
				 "kernel", path);
	}
	if (rc < 0)
		kernel_image_close(k);
	return rc;
}

void kernel_image_close(struct kernel_image *k)
{
	free(k->data);
	free(k->path);
	memset(k, 0, sizeof(*k));
}
