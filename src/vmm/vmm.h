/* The VMM: what one hardy process is, around at most one VM. It owns the event loop, the
 * signals, the API's description of the VM (struct api_vm over a struct vm_config) and the
 * sockets that serve it, all of which exist before the VM does, so the process can wait to be
 * configured (--api-sock without --config-file) and create the VM later on the same loop.
 *
 * The control socket (RUNDIR/NAME.sock, ctl_dir.h) and --api-sock are two listeners of the
 * same Firecracker-compatible API (src/api/): the CLI verbs use the first, Firecracker's tools
 * the second. The API drives the VM only through the vmm's api_ops callbacks.
 *
 * Flow: vmm_create(base) -> vmm_start(cfg) from flags, or vmm_load_config_file() and/or
 *       vmm_serve_api() -> vmm_run() until the VM stops (or a signal before it existed)
 *       -> vmm_destroy(). Main (loop) thread only. */
#ifndef HARDY_VMM_VMM_H
#define HARDY_VMM_VMM_H

#include <stdbool.h>

#include "core/config.h"
#include "util/error.h"
#include "vm/signals.h"
#include "vmm/ctl_dir.h"

struct event_loop;
struct vm;
struct api_vm;
struct api_server;

struct vmm {
	struct event_loop *loop;
	struct vm_signals signals;
	struct vm *vm;              /* NULL until InstanceStart */
	struct vm_config cfg;       /* the API's description (the VM keeps its own copy) */
	struct api_vm *api;
	char dir[CTL_PATH_MAX];     /* the control sockets' runtime directory */
	int lock_fd;                /* the lock on the name */
	bool ctl_claimed;
	struct api_server *ctl;     /* the control socket's server */
	struct api_server *api_srv; /* --api-sock's */
	char *api_sock;             /* its path, removed at the end */
	bool quit;                  /* a signal ended the wait for a VM */
};

/* Blocks the VM's signals, makes the loop and the API's description (name, console, accel and
 * console limit taken from base), claims the name's control socket and serves it. ERR_INPUT
 * when a VM of that name runs; NULL with err. */
struct vmm *vmm_create(const struct vm_config *base, struct error *err);
/* Creates and starts the VM from a complete description (hardy run's flags). */
int vmm_start(struct vmm *vmm, const struct vm_config *cfg, struct error *err);
/* --config-file: applies Firecracker's config file and starts the VM; errors name the file. */
int vmm_load_config_file(struct vmm *vmm, const char *path, struct error *err);
/* --api-sock: serves the API on a new Unix socket at path (mode 0600) as well. */
int vmm_serve_api(struct vmm *vmm, const char *path, struct error *err);
/* Runs until the VM stops; the process exit status (err set when non-zero). */
int vmm_run(struct vmm *vmm, struct error *err);
void vmm_destroy(struct vmm *vmm);

#endif
