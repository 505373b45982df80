/* Putting a validated kernel into guest RAM for the 64-bit boot protocol: the fit check done
 * before the VM exists, then the writes (kernel, initrd, command line, zero page, page tables,
 * GDT, ACPI) through the checked accessor, and the boot vCPU's registers. */
#include "arch/x86/boot_internal.h"

#include <asm/bootparam.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"

#define MIB(x) ((unsigned long long)(x) >> 20)
#define MIB_UP(x) (((unsigned long long)(x) + (1ULL << 20) - 1) >> 20)
#define BZ_ENTRY64_OFF 0x200 /* 64-bit entry point, from the protected-mode load address */
#define OLD_CMDLINE_SIZE 255u /* protocols before 2.06 */

static const char *initrd_name(const struct x86_boot_config *bc)
{
	return bc->initrd_path ? bc->initrd_path : "(initrd)";
}

static size_t cmdline_max(const struct kernel_image *k)
{
	size_t max = k->cmdline_size ? k->cmdline_size : OLD_CMDLINE_SIZE;
	return max < X86_CMDLINE_MAX - 1 ? max : X86_CMDLINE_MAX - 1;
}

int x86_boot_check_fit(const struct x86_boot_config *bc, uint64_t ram_size, struct error *err)
{
	const struct kernel_image *k = bc->kernel;
	if (k->format == KERNEL_MULTIBOOT)
		return x86_multiboot_check_fit(bc, ram_size, err);
	uint64_t low_end = ram_size < GMEM_LOW_LIMIT ? ram_size : GMEM_LOW_LIMIT;
	if (k->load_end > low_end)
		return error_set(err, ERR_INPUT, "kernel '%s' needs guest RAM up to %llu MiB while it "
				 "boots; guest RAM (%llu MiB) is too small", k->path ? k->path : "",
				 MIB_UP(k->load_end), MIB(ram_size));
	size_t len = bc->cmdline ? strlen(bc->cmdline) : 0;
	if (len > cmdline_max(k))
		return error_set(err, ERR_INPUT, "command line is %zu bytes; the kernel accepts at most %zu",
				 len, cmdline_max(k));
	if (bc->ncpus == 0 || bc->ncpus > ACPI_MAX_CPUS)
		return error_set(err, ERR_INPUT, "%u vCPUs: must be 1 to %u", bc->ncpus, ACPI_MAX_CPUS);
	uint64_t addr;
	if (bc->initrd_size &&
	    x86_initrd_place(k->load_end, x86_initrd_limit(k, low_end), bc->initrd_size, &addr) < 0)
		return error_set(err, ERR_INPUT, "initrd '%s' (%llu MiB) does not fit in guest RAM "
				 "(%llu MiB) between the kernel's end (%llu MiB) and %llu MiB",
				 initrd_name(bc), MIB_UP(bc->initrd_size), MIB(ram_size),
				 MIB_UP(k->load_end), MIB(x86_initrd_limit(k, low_end)));
	return 0;
}

static int boot_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len,
		      const char *what, struct error *err)
{
	if (gmem_write(m, gpa, src, len) < 0)
		return error_set(err, ERR_RUNTIME, "boot: %s (0x%llx+0x%llx) is outside guest RAM", what,
				 (unsigned long long)gpa, (unsigned long long)len);
	return 0;
}

static int boot_load_kernel(const struct guest_mem *m, const struct kernel_image *k,
			    struct x86_boot_regs *regs, struct error *err)
{
	if (k->format == KERNEL_ELF) {
		regs->rip = k->elf_entry;
		return x86_elf_load(m, k, err);
	}
	regs->rip = X86_KERNEL_GPA + BZ_ENTRY64_OFF;
	return boot_write(m, X86_KERNEL_GPA, k->data + k->setup_size, k->size - k->setup_size,
			  "protected-mode kernel", err);
}

static int boot_acpi(const struct guest_mem *m, const struct x86_boot_config *bc,
		     struct error *err)
{
	uint8_t *buf = calloc(1, X86_ACPI_SIZE);
	if (!buf)
		return error_set(err, ERR_RUNTIME, "boot: out of memory for ACPI tables");
	unsigned ncpus = bc->ncpus;
	const struct acpi_config cfg = { .ncpus = ncpus, .dsdt_devices = bc->dsdt_devices,
					 .dsdt_ctx = bc->dsdt_ctx };
	size_t used = acpi_build(buf, X86_ACPI_SIZE, X86_ACPI_GPA, &cfg);
	int rc = used ? boot_write(m, X86_ACPI_GPA, buf, used, "ACPI tables", err)
		      : error_set(err, ERR_RUNTIME, "boot: ACPI tables for %u vCPUs do not fit", ncpus);
	free(buf);
	return rc;
}

int x86_boot_setup(const struct guest_mem *m, const struct x86_boot_config *bc,
		   struct x86_boot_regs *regs, struct error *err)
{
	const struct kernel_image *k = bc->kernel;
	if (k->format == KERNEL_MULTIBOOT) /* its own layout; the same ACPI tables */
		return x86_multiboot_setup(m, bc, regs, err) < 0 ? -1 : boot_acpi(m, bc, err);
	memset(regs, 0, sizeof(*regs));
	if (x86_boot_check_fit(bc, m->ram_size, err) < 0 || boot_load_kernel(m, k, regs, err) < 0)
		return -1;

	uint64_t initrd_gpa = 0, initrd_size = bc->initrd ? bc->initrd_size : 0;
	if (initrd_size) {
		uint64_t limit = x86_initrd_limit(k, gmem_low_end(m));
		if (x86_initrd_place(k->load_end, limit, initrd_size, &initrd_gpa) < 0 ||
		    boot_write(m, initrd_gpa, bc->initrd, initrd_size, "initrd", err) < 0)
			return error_set(err, ERR_RUNTIME, "boot: cannot place the initrd");
	}

	const char *cmdline = bc->cmdline ? bc->cmdline : "";
	if (boot_write(m, X86_CMDLINE_GPA, cmdline, strlen(cmdline) + 1, "command line", err) < 0)
		return -1;

	struct boot_params *bp = malloc(sizeof(*bp));
	if (!bp)
		return error_set(err, ERR_RUNTIME, "boot: out of memory for boot_params");
	x86_boot_params_fill(bp, m, k, initrd_gpa, initrd_size);
	int rc = boot_write(m, X86_BOOT_PARAMS_GPA, bp, sizeof(*bp), "boot_params", err);
	free(bp);
	if (rc < 0)
		return -1;

	if (x86_page_tables_write(m, regs) < 0 || x86_gdt_write(m, regs) < 0)
		return error_set(err, ERR_RUNTIME, "boot: page tables or GDT are outside guest RAM");
	if (boot_acpi(m, bc, err) < 0)
		return -1;
	regs->rsi = X86_BOOT_PARAMS_GPA;
	regs->rsp = X86_BOOT_STACK_GPA;
	return 0;
}
