/* struct vm_config: the one description of a VM. The CLI, the config file and the API fill it;
 * nothing else parses user input. vm_config_validate() checks it before any VM is created.
 *
 * Ownership: a config owns every string it points to (malloc'd; set them with vm_config_set_str
 * and the vm_config_add/set helpers, release with vm_config_free). A VM keeps its own copy
 * (vm_config_copy), so whoever filled a config may change or free it once the VM exists. */
#ifndef HARDY_CORE_CONFIG_H
#define HARDY_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define HARDY_MAX_CPUS 255u  /* xAPIC IDs are 8 bits and 0xFF is the broadcast ID */
#define HARDY_DEFAULT_MEM (512ULL << 20)
#define HARDY_DEFAULT_CMDLINE "console=ttyS0 quiet panic=-1"
#define HARDY_DEFAULT_NAME "vm"
#define HARDY_NAME_MAX 64 /* bytes: NAME.sock must fit a Unix socket path */
#define HARDY_CONSOLE_LIMIT_DEFAULT (64ULL << 20) /* --console file:PATH stops growing here */
#define HARDY_SHUTDOWN_TIMEOUT_S 30 /* after SIGTERM, a guest that has not powered off is stopped */

#define HARDY_MAX_DISKS 8
#define HARDY_DISK_ID_MAX 20 /* bytes: VIRTIO_BLK_ID_BYTES */

/* --disk PATH[,ro][,id=ID][,aio=io_uring|sync] */
struct vm_disk_config {
	char *path;
	bool readonly;
	char *id;        /* NULL: none */
	bool aio_sync;   /* aio=sync: one request at a time on the device's thread, no io_uring */
};

/* --vsock cid=N,uds=PATH (one device) */
#define HARDY_VSOCK_CID_MIN 3u          /* 0-2 are the hypervisor, local and host */
#define HARDY_VSOCK_CID_MAX 0xFFFFFFFEu /* Linux keeps CIDs in 32 bits; -1 is "any" */
struct vm_vsock_config {
	bool enabled;
	uint64_t cid;
	char *uds_path;
};

#define HARDY_MAX_NICS 8
#define HARDY_MAX_HOSTFWD 8
#define HARDY_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

enum net_backend_kind { NET_USER, NET_TAP };

/* hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT; addresses in network byte order
 * (0: any host address; the guest's DHCP address when no guest address is given). */
struct vm_hostfwd {
	bool udp;
	uint32_t host_addr, guest_addr;
	uint16_t host_port, guest_port;
};

/* --net user[,hostfwd=...]...[,mac=MAC] | --net tap=IFNAME[,mac=MAC] */
struct vm_net_config {
	enum net_backend_kind kind;
	char ifname[HARDY_IFNAME_MAX + 1]; /* NET_TAP */
	uint8_t mac[6];                    /* given, or 52:54:00:12:34:56 + index */
	struct vm_hostfwd fwd[HARDY_MAX_HOSTFWD]; /* NET_USER */
	unsigned nr_fwd;
};

enum accel_choice { ACCEL_AUTO, ACCEL_KVM, ACCEL_SOFT };
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct vm_config {
	char *kernel_path;
	char *initrd_path; /* NULL: none (only when --kernel was given without --initrd) */
	char *cmdline;
	unsigned ncpus;
	uint64_t mem_size;
	char *name;
	enum accel_choice accel;
	enum console_kind console;
	char *console_path;       /* CONSOLE_FILE */
	uint64_t console_limit;   /* CONSOLE_FILE: largest file in bytes, 0 for no limit */
	bool rng;                 /* a virtio-rng device (default on; --no-rng) */
	bool debug_exit;          /* --debug-exit: QEMU's isa-debug-exit at port 0xf4 */
	char *soft_profile;       /* --soft-profile PATH: the soft CPU's guest profile, NULL none */
	struct vm_disk_config disks[HARDY_MAX_DISKS];
	unsigned nr_disks;
	struct vm_net_config nets[HARDY_MAX_NICS];
	unsigned nr_nets;
	struct vm_vsock_config vsock;
};

/* Fills c with the defaults (its strings malloc'd); -1 only when out of memory. */
int vm_config_defaults(struct vm_config *c, struct error *err);
/* Frees every string c owns and leaves it empty (zeroed); NULL and zeroed configs are fine. */
void vm_config_free(struct vm_config *c);
/* dst becomes a deep copy of src (dst is overwritten, not freed first); -1 out of memory. */
int vm_config_copy(struct vm_config *dst, const struct vm_config *src, struct error *err);

/* Replaces *field with a copy of value (NULL: none), freeing the old string. */
int vm_config_set_str(char **field, const char *value, struct error *err);
/* Appends a copy of d (its strings copied); ERR_INPUT when there are already HARDY_MAX_DISKS. */
int vm_config_add_disk(struct vm_config *c, const struct vm_disk_config *d, struct error *err);
/* Appends n; ERR_INPUT past HARDY_MAX_NICS. */
int vm_config_add_net(struct vm_config *c, const struct vm_net_config *n, struct error *err);
/* Sets the vsock device to a copy of v (enabled). */
int vm_config_set_vsock(struct vm_config *c, const struct vm_vsock_config *v, struct error *err);

/* Checks what can be checked without files or KVM: counts, sizes, host RAM. Status 2 on error. */
int vm_config_validate(const struct vm_config *c, struct error *err);

#endif
