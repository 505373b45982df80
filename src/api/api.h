/* hardy's Firecracker-compatible API: the VM description it fills (struct vm_config plus what
 * only the API knows), its request handling, and an HTTP/1.1 server on a Unix socket.
 *
 * Contract:
 * - struct api_vm keeps the caller's struct vm_config (which owns its strings, config.h)
 *   consistent with its model after each accepted request (machine-config writes
 *   ncpus/mem_size, boot-source the kernel, initrd and command line, drives the disks, and so
 *   on). The caller pre-fills what the API does not set (name, console, accel); the API sets
 *   Firecracker's defaults for the rest (1 vCPU, 128 MiB, no entropy device). The caller frees
 *   the config (vm_config_free) after api_vm_destroy.
 * - Nothing here is locked: api_vm_*, the server and every api_ops callback run on one thread,
 *   the one running the event loop given to api_server_start() (or the caller's, without a
 *   server). A callback should return quickly; the server never blocks on a client.
 * - The API refuses what Firecracker refuses before and after start; once instance_start has
 *   succeeded it never changes the config again. */
#ifndef HARDY_API_API_H
#define HARDY_API_API_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "util/error.h"

struct event_loop;
struct api_vm;
struct api_server;

enum api_vm_state { API_VM_NOT_STARTED, API_VM_RUNNING, API_VM_PAUSED };

/* Callbacks into the VMM. 0, or -1 with err (its message becomes the reply's fault_message:
 * 400 for ERR_INPUT, 500 otherwise). A NULL callback answers 400 "not supported". */
struct api_ops {
	/* Creates and starts the VM from cfg (filled and checked by vm_config_validate()). */
	int (*instance_start)(void *ctx, struct vm_config *cfg, struct error *err);
	int (*pause)(void *ctx, struct error *err);
	int (*resume)(void *ctx, struct error *err);
	/* SendCtrlAltDel: hardy presses the ACPI power button (the guest shuts down). */
	int (*ctrl_alt_del)(void *ctx, struct error *err);
	/* Called only after instance_start succeeded; NULL: the API's own RUNNING. */
	enum api_vm_state (*state)(void *ctx);
};

/* cfg must outlive the api_vm; ops and ctx too. */
struct api_vm *api_vm_create(struct vm_config *cfg, const struct api_ops *ops, void *ctx,
			     struct error *err);
void api_vm_destroy(struct api_vm *vm);

/* Firecracker's --config-file: the same sections as GET /vm/config, checked as the API checks
 * each request; errors name the section ("drives[1]: ..."), ERR_INPUT. */
int api_vm_load_config(struct api_vm *vm, const char *json, size_t len, struct error *err);
int api_vm_load_config_file(struct api_vm *vm, const char *path, struct error *err);
/* PUT /actions InstanceStart without the HTTP. */
int api_vm_instance_start(struct api_vm *vm, struct error *err);
/* InstanceStart for a VM described elsewhere (hardy run's flags, already checked): the config
 * becomes a copy of cfg, the model shows it (GET /vm/config: drives vda.. or their id=, NICs
 * eth0..), and instance_start runs. Only on an api_vm nothing has configured yet. */
int api_vm_start_from(struct api_vm *vm, const struct vm_config *cfg, struct error *err);
enum api_vm_state api_vm_state(struct api_vm *vm);

/* One request in, one reply out; no sockets (the server and the fuzzer call this). path holds
 * no query string. status: 200 with body (malloc'd JSON), 204 without, 400/500 with
 * {"fault_message": ...}. */
struct api_reply {
	int status;
	char *body; /* NULL: none */
};
void api_vm_handle(struct api_vm *vm, const char *method, const char *path, const char *body,
		   size_t len, struct api_reply *reply);
void api_reply_free(struct api_reply *reply);

/* The server: libmicrohttpd driven from the event loop (its epoll descriptor and a timer). */
#define API_MAX_BODY 51200u     /* bytes, as Firecracker's default payload limit */
#define API_MAX_CONNECTIONS 64u /* more are refused at accept */
#define API_CONN_TIMEOUT_S 10u  /* an idle or stalled connection is closed after this */
/* listen_fd: a bound, listening Unix stream socket (the server closes it on stop). */
struct api_server *api_server_start(struct event_loop *loop, int listen_fd, struct api_vm *vm,
				    struct error *err);
void api_server_stop(struct api_server *s);

/* Creates, binds (mode 0600) and listens on a Unix socket at path; a stale socket (nobody
 * answering) is replaced, a live one refused. ERR_INPUT on a bad path. */
int api_socket_listen(const char *path, struct error *err);

#endif
