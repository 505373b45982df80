/* The VMM: what one hardy process is, around at most one VM. It owns the event loop, the
 * signals and the control socket, all of which exist before the VM does, so the process can
 * wait to be configured (the API without --kernel) and create the VM later, from a config, on
 * the same loop.
 *
 * Flow: vmm_create(name) -> [vmm_instance_start(cfg) now, or later from a control request]
 *       -> vmm_run() until the VM stops (or a signal before it existed) -> vmm_destroy().
 * The vmm_* calls below have the shape of the API's callbacks (struct ctl_ops / api_ops): the
 * control socket and the API drive a VM only through them. Main (loop) thread only. */
#ifndef HARDY_VMM_VMM_H
#define HARDY_VMM_VMM_H

#include "core/config.h"
#include "util/error.h"
#include "vm/signals.h"
#include "vm/vm_state.h"
#include "vmm/ctl_dir.h"

struct event_loop;
struct vm;
struct ctl_server;

struct vmm {
	struct event_loop *loop;
	struct vm_signals signals;
	struct vm *vm;                  /* NULL until vmm_instance_start */
	char name[HARDY_NAME_MAX + 1];
	char dir[CTL_PATH_MAX];         /* the control sockets' runtime directory */
	int ctl_fd, lock_fd;            /* the control socket, and the lock on its name */
	struct ctl_server *ctl;
	bool quit;                      /* a signal ended the wait for a VM */
};

/* Blocks the VM's signals, makes the loop, claims the name's control socket and serves it.
 * ERR_INPUT when a VM of that name runs; NULL with err. */
struct vmm *vmm_create(const char *name, struct error *err);
/* Creates the VM from cfg (copied) and starts it. */
int vmm_instance_start(void *vmm, struct vm_config *cfg, struct error *err);
int vmm_pause(void *vmm, struct error *err);
int vmm_resume(void *vmm, struct error *err);
/* Presses the power button (resuming a paused VM first, so that it can answer). */
int vmm_ctrl_alt_del(void *vmm, struct error *err);
enum vm_state vmm_state(void *vmm);
const struct vm_config *vmm_config(void *vmm);
/* Runs until the VM stops; the process exit status (err set when non-zero). */
int vmm_run(struct vmm *vmm, struct error *err);
void vmm_destroy(struct vmm *vmm);

#endif
