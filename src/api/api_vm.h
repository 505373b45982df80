/* The API's internal view of the VM description: what struct vm_config holds, plus what only
 * Firecracker's model has (drive ids and flags, interface ids, the logger and metrics). The
 * endpoint files fill it; api_vm.c keeps the config in step (api_vm_sync). */
#ifndef HARDY_API_API_VM_H
#define HARDY_API_API_VM_H

#include <json-c/json.h>

#include "api/api.h"
#include "arch/x86/layout.h"

#define API_DEFAULT_MEM_MIB 128u
#define API_ID_MAX 64 /* drive_id, iface_id: Firecracker's limit */

enum api_cache { API_CACHE_UNSAFE, API_CACHE_WRITEBACK };
enum api_io_engine { API_IO_SYNC, API_IO_ASYNC };

struct api_drive {
	char *drive_id, *path, *partuuid; /* partuuid NULL: none */
	bool root, readonly;
	enum api_cache cache;
	enum api_io_engine engine;
};

struct api_iface {
	char *iface_id, *host_dev_name, *guest_mac; /* guest_mac NULL: the default */
	char *hostfwd[HARDY_MAX_HOSTFWD];           /* hardy's extension, user networking */
	unsigned nr_hostfwd;
};

enum api_log_level { API_LOG_OFF, API_LOG_ERROR, API_LOG_WARNING, API_LOG_INFO, API_LOG_DEBUG,
		     API_LOG_TRACE };

struct api_vm {
	struct vm_config *cfg;
	const struct api_ops *ops;
	void *ctx;
	bool started;

	bool boot_set;
	char *kernel, *initrd, *boot_args; /* boot_args NULL: hardy's default */
	char cmdline[X86_CMDLINE_MAX];     /* boot_args plus root= for a root drive */

	struct api_drive drives[HARDY_MAX_DISKS]; /* the root drive first, as /dev/vda */
	unsigned nr_drives;
	struct api_iface ifaces[HARDY_MAX_NICS];
	unsigned nr_ifaces;

	bool vsock_set;
	uint64_t vsock_cid;
	char *vsock_uds, *vsock_id;

	struct {
		bool set;
		int fd; /* -1: stderr */
		char *path, *module;
		enum api_log_level level;
		bool show_level, show_origin;
	} logger;
	struct {
		bool set;
		int fd;
		char *path;
	} metrics;
	uint64_t requests, failed_requests; /* for the metrics */
	/* Opens the logger's and the metrics' files: api_open_sink (the fuzzer's opens
	 * /dev/null, so that no input creates files). */
	int (*open_sink)(const char *what, const char *path, struct error *err);
};

/* The endpoints. Each reads its request (body NULL for GET), changes vm or the VM, and
 * returns 0 (reply set: 200 with it, else 204) or -1 with err. id: the path's {id} or NULL. */
typedef int (*api_endpoint_fn)(struct api_vm *vm, const char *id, struct json_object *body,
			       struct json_object **reply, struct error *err);

int api_get_root(struct api_vm *, const char *, struct json_object *, struct json_object **,
		 struct error *);
int api_get_version(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_put_boot_source(struct api_vm *, const char *, struct json_object *,
			struct json_object **, struct error *);
int api_get_machine(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_put_machine(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_patch_machine(struct api_vm *, const char *, struct json_object *,
		      struct json_object **, struct error *);
int api_put_drive(struct api_vm *, const char *, struct json_object *, struct json_object **,
		  struct error *);
int api_patch_drive(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_put_iface(struct api_vm *, const char *, struct json_object *, struct json_object **,
		  struct error *);
int api_patch_iface(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_put_vsock(struct api_vm *, const char *, struct json_object *, struct json_object **,
		  struct error *);
int api_put_entropy(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_put_actions(struct api_vm *, const char *, struct json_object *, struct json_object **,
		    struct error *);
int api_patch_vm(struct api_vm *, const char *, struct json_object *, struct json_object **,
		 struct error *);
int api_get_vm_config(struct api_vm *, const char *, struct json_object *,
		      struct json_object **, struct error *);
int api_put_logger(struct api_vm *, const char *, struct json_object *, struct json_object **,
		   struct error *);
int api_put_metrics(struct api_vm *, const char *, struct json_object *,
		    struct json_object **, struct error *);

/* Rewrites the config's disks, NICs and command line from vm's model; -1 with err when they
 * do not fit (a command line too long, a NIC refused by parse_net). */
int api_vm_sync(struct api_vm *vm, struct error *err);
/* strdup that records out-of-memory in err (NULL in, NULL out without an error). */
int api_strdup(char **dst, const char *src, struct error *err);
/* The drive/interface with this id, or NULL. */
struct api_drive *api_find_drive(struct api_vm *vm, const char *id);
struct api_iface *api_find_iface(struct api_vm *vm, const char *id);
/* Firecracker's id rule: 1-64 characters, ASCII letters, digits and '_'. */
int api_check_id(const char *what, const char *id, struct error *err);

/* Replaces control characters (user strings echoed in a message) so that it stays one line. */
void api_error_oneline(struct error *err);
/* A line to the logger (if configured and at least level); metrics flushed on request. */
void api_log(struct api_vm *vm, enum api_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int api_metrics_flush(struct api_vm *vm, struct error *err);
/* Opens a log or metrics destination for appending without blocking (FIFOs included). */
int api_open_sink(const char *what, const char *path, struct error *err);
/* api_log.c: one line to a sink, never blocking (dropped when it does not fit). */
void api_sink_write(int fd, const char *line, size_t len);
const char *api_log_level_name(enum api_log_level level);
/* "Info" (any case) and friends; -1 for anything else. */
int api_log_level_parse(const char *name, enum api_log_level *level);

#endif
