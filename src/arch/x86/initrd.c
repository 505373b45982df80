/* Where the initrd goes: as high as the kernel allows in low RAM, above everything the kernel
 * uses while it boots, 2 MiB aligned when possible (the kernel frees it in whole pages). */
#include "arch/x86/boot_internal.h"

#define INITRD_ALIGN_BIG   (2ULL << 20)
#define INITRD_ALIGN_SMALL 0x1000ULL

uint64_t x86_initrd_limit(const struct kernel_image *k, uint64_t low_end)
{
	uint64_t kmax = (uint64_t)k->initrd_addr_max + 1;
	return kmax < low_end ? kmax : low_end;
}

int x86_initrd_place(uint64_t floor, uint64_t limit, uint64_t size, uint64_t *addr)
{
	if (size > limit || limit - size < floor)
		return -1;
	uint64_t top = limit - size;
	uint64_t big = top & ~(INITRD_ALIGN_BIG - 1);
	uint64_t small = top & ~(INITRD_ALIGN_SMALL - 1);
	if (big >= floor)
		*addr = big;
	else if (small >= floor)
		*addr = small;
	else
		return -1;
	return 0;
}
