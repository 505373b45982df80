/* struct vm_config: the one description of a VM. The CLI (and later the API) fill it; nothing
 * else parses user input. vm_config_validate() checks it before any VM is created. */
#ifndef HARDY_CORE_CONFIG_H
#define HARDY_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define HARDY_MAX_CPUS 255u  /* xAPIC IDs are 8 bits and 0xFF is the broadcast ID */
#define HARDY_DEFAULT_MEM (512ULL << 20)
#define HARDY_DEFAULT_CMDLINE "console=ttyS0 quiet panic=-1"
#define HARDY_DEFAULT_NAME "vm"
#define HARDY_CONSOLE_LIMIT_DEFAULT (64ULL << 20) /* --console file:PATH stops growing here */
#define HARDY_SHUTDOWN_TIMEOUT_S 30 /* after SIGTERM, a guest that has not powered off is stopped */

#define HARDY_MAX_DISKS 8
#define HARDY_DISK_ID_MAX 20 /* bytes: VIRTIO_BLK_ID_BYTES */

/* --disk PATH[,ro][,id=ID][,aio=io_uring|sync] */
struct vm_disk_config {
	const char *path;
	bool readonly;
	const char *id;  /* NULL: none */
	bool aio_sync;   /* aio=sync: one request at a time on the device's thread, no io_uring */
};

enum accel_choice { ACCEL_AUTO, ACCEL_KVM, ACCEL_SOFT };
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct vm_config {
	const char *kernel_path;
	const char *initrd_path; /* NULL: none (only when --kernel was given without --initrd) */
	const char *cmdline;
	unsigned ncpus;
	uint64_t mem_size;
	const char *name;
	enum accel_choice accel;
	enum console_kind console;
	const char *console_path; /* CONSOLE_FILE */
	uint64_t console_limit;   /* CONSOLE_FILE: largest file in bytes, 0 for no limit */
	bool rng;                 /* a virtio-rng device (default on; --no-rng) */
	struct vm_disk_config disks[HARDY_MAX_DISKS];
	unsigned nr_disks;
};

void vm_config_defaults(struct vm_config *c);

/* Checks what can be checked without files or KVM: counts, sizes, host RAM. Status 2 on error. */
int vm_config_validate(const struct vm_config *c, struct error *err);

#endif
