/* The VMM (vmm.h): the event loop, signals and control socket of one process, and the VM they
 * drive once it exists. */
#include "vmm/vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_loop.h"
#include "vm/vcpu.h"
#include "vm/vm.h"
#include "vmm/ctl_server.h"

static const struct ctl_ops vmm_ctl_ops = {
	.instance_start = vmm_instance_start,
	.pause = vmm_pause,
	.resume = vmm_resume,
	.ctrl_alt_del = vmm_ctrl_alt_del,
	.state = vmm_state,
	.config = vmm_config,
};

/* A signal's stop: the VM's when there is one, else the end of the wait for one. */
static void vmm_on_stop(void *ctx, enum vm_stop_reason reason, const char *msg)
{
	struct vmm *m = ctx;
	if (m->vm) {
		vm_request_stop(m->vm, reason, msg);
		return;
	}
	m->quit = true;
	event_loop_quit(m->loop);
}

/* SIGTERM: the power button of a running VM (a paused one is resumed to answer it); with no
 * VM yet, nothing to shut down gracefully. */
static void vmm_on_power_button(void *ctx)
{
	struct vmm *m = ctx;
	struct error err = { 0 };
	if (!m->vm || vmm_ctrl_alt_del(m, &err) < 0)
		vmm_on_stop(m, VM_STOP_KILLED, m->vm ? err.msg : NULL);
}

struct vmm *vmm_create(const char *name, struct error *err)
{
	struct vmm *m = calloc(1, sizeof(*m));
	if (!m) {
		error_errno(err, "out of memory");
		return NULL;
	}
	m->ctl_fd = m->lock_fd = -1;
	m->signals.sigfd = m->signals.timerfd = -1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	/* Before any thread exists: every later one (vCPUs) inherits the mask. */
	vm_signals_block();
	vcpu_signals_init();
	m->loop = event_loop_create(err);
	if (!m->loop)
		goto fail;
	m->signals.stop = (struct vm_stopper){ .request = vmm_on_stop, .ctx = m };
	m->signals.power_button = vmm_on_power_button;
	m->signals.power_button_ctx = m;
	if (vm_signals_watch(&m->signals, m->loop, err) < 0 ||
	    ctl_dir(m->dir, sizeof(m->dir), 1, err) < 0)
		goto fail;
	m->ctl_fd = ctl_claim(m->dir, m->name, &m->lock_fd, err);
	if (m->ctl_fd < 0)
		goto fail;
	m->ctl = ctl_server_start(m->loop, m->ctl_fd, &vmm_ctl_ops, m, m->name, err);
	if (!m->ctl)
		goto fail;
	return m;
fail:
	vmm_destroy(m);
	return NULL;
}

int vmm_instance_start(void *ctx, struct vm_config *cfg, struct error *err)
{
	struct vmm *m = ctx;
	if (m->vm)
		return error_set(err, ERR_INPUT, "the VM is already started");
	struct vm *vm = vm_create(cfg, m->loop, err);
	if (!vm)
		return -1;
	if (vm_start(vm, err) < 0) {
		vm_request_stop(vm, VM_STOP_ERROR, err->msg);
		vm_destroy(vm);
		return -1;
	}
	m->vm = vm;
	event_loop_quit(m->loop); /* vmm_run moves on to vm_wait */
	return 0;
}

static struct vm *vmm_vm(struct vmm *m, struct error *err)
{
	if (!m->vm)
		error_set(err, ERR_INPUT, "the VM is not started yet");
	return m->vm;
}

int vmm_pause(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	return vm ? vm_pause(vm, err) : -1;
}

int vmm_resume(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	return vm ? vm_resume(vm, err) : -1;
}

int vmm_ctrl_alt_del(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	if (!vm)
		return -1;
	if (vm_state(vm) == VM_STATE_PAUSED && vm_resume(vm, err) < 0)
		return -1;
	return vm_press_power_button(vm, err);
}

enum vm_state vmm_state(void *ctx)
{
	struct vmm *m = ctx;
	return m->vm ? vm_state(m->vm) : VM_STATE_NOT_STARTED;
}

const struct vm_config *vmm_config(void *ctx)
{
	struct vmm *m = ctx;
	return m->vm ? &m->vm->cfg : NULL;
}

int vmm_run(struct vmm *m, struct error *err)
{
	while (!m->vm && !m->quit) {
		if (event_loop_run(m->loop, err) < 0)
			return err->status;
	}
	if (!m->vm)
		return 0; /* a signal before any VM: nothing ran, nothing failed */
	return vm_wait(m->vm, err);
}

void vmm_destroy(struct vmm *m)
{
	if (!m)
		return;
	/* The control socket goes first: nobody reaches a VM that is being torn down. */
	ctl_server_stop(m->ctl);
	if (m->ctl_fd >= 0 || m->lock_fd >= 0)
		ctl_release(m->dir, m->name, m->ctl_fd, m->lock_fd);
	vm_destroy(m->vm);
	vm_signals_close(&m->signals);
	event_loop_destroy(m->loop);
	free(m);
}
