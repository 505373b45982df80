/* The VMM (vmm.h): the event loop, signals and API sockets of one process, and the VM they
 * drive once it exists. */
#include "vmm/vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel/accel.h"
#include "api/api.h"
#include "core/event_loop.h"
#include "vm/vm.h"

/* The API's callbacks: the only way requests reach the VM. */
static int vmm_instance_start(void *ctx, struct vm_config *cfg, struct error *err)
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

static int vmm_pause(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	return vm ? vm_pause(vm, err) : -1;
}

static int vmm_resume(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	return vm ? vm_resume(vm, err) : -1;
}

/* The power button, resuming a paused VM first so that it can answer. */
static int vmm_ctrl_alt_del(void *ctx, struct error *err)
{
	struct vm *vm = vmm_vm(ctx, err);
	if (!vm)
		return -1;
	if (vm_state(vm) == VM_STATE_PAUSED && vm_resume(vm, err) < 0)
		return -1;
	return vm_press_power_button(vm, err);
}

static enum api_vm_state vmm_api_state(void *ctx)
{
	struct vmm *m = ctx;
	if (!m->vm)
		return API_VM_NOT_STARTED;
	return vm_state(m->vm) == VM_STATE_PAUSED ? API_VM_PAUSED : API_VM_RUNNING;
}

static const struct api_ops vmm_api_ops = {
	.instance_start = vmm_instance_start,
	.pause = vmm_pause,
	.resume = vmm_resume,
	.ctrl_alt_del = vmm_ctrl_alt_del,
	.state = vmm_api_state,
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

/* Only what is not the VM itself: the rest comes from the API, a config file or the flags. */
static int vmm_base_config(struct vm_config *c, const struct vm_config *base, struct error *err)
{
	*c = (struct vm_config){ .accel = base->accel, .console = base->console,
				 .console_limit = base->console_limit, .rng = base->rng };
	if (vm_config_set_str(&c->name, base->name, err) < 0 ||
	    vm_config_set_str(&c->console_path, base->console_path, err) < 0)
		return -1;
	return 0;
}

struct vmm *vmm_create(const struct vm_config *base, struct error *err)
{
	struct vmm *m = calloc(1, sizeof(*m));
	if (!m) {
		error_errno(err, "out of memory");
		return NULL;
	}
	m->lock_fd = -1;
	m->signals.sigfd = m->signals.timerfd = -1;
	if (vmm_base_config(&m->cfg, base, err) < 0)
		goto fail;
	/* Before any thread exists: every later one (vCPUs) inherits the mask. */
	vm_signals_block();
	accel_process_init();
	m->loop = event_loop_create(err);
	if (!m->loop)
		goto fail;
	m->signals.stop = (struct vm_stopper){ .request = vmm_on_stop, .ctx = m };
	m->signals.power_button = vmm_on_power_button;
	m->signals.power_button_ctx = m;
	if (vm_signals_watch(&m->signals, m->loop, err) < 0 ||
	    ctl_dir(m->dir, sizeof(m->dir), 1, err) < 0)
		goto fail;
	m->api = api_vm_create(&m->cfg, &vmm_api_ops, m, err);
	if (!m->api)
		goto fail;
	int ctl_fd = ctl_claim(m->dir, m->cfg.name, &m->lock_fd, err);
	if (ctl_fd < 0)
		goto fail;
	m->ctl_claimed = true;
	m->ctl = api_server_start(m->loop, ctl_fd, m->api, err); /* it owns ctl_fd */
	if (!m->ctl)
		goto fail;
	return m;
fail:
	vmm_destroy(m);
	return NULL;
}

int vmm_start(struct vmm *m, const struct vm_config *cfg, struct error *err)
{
	return api_vm_start_from(m->api, cfg, err);
}

int vmm_load_config_file(struct vmm *m, const char *path, struct error *err)
{
	struct error ferr = { 0 };
	if (api_vm_load_config_file(m->api, path, &ferr) < 0 ||
	    api_vm_instance_start(m->api, &ferr) < 0)
		return error_set(err, ferr.status ? ferr.status : ERR_INPUT, "--config-file %s: %s",
				 path, ferr.msg);
	return 0;
}

int vmm_serve_api(struct vmm *m, const char *path, struct error *err)
{
	int fd = api_socket_listen(path, err);
	if (fd < 0)
		return -1;
	m->api_sock = strdup(path);
	if (!m->api_sock) {
		close(fd);
		return error_errno(err, "out of memory");
	}
	m->api_srv = api_server_start(m->loop, fd, m->api, err);
	return m->api_srv ? 0 : -1;
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
	/* The sockets go first: nobody reaches a VM that is being torn down. */
	api_server_stop(m->ctl);
	api_server_stop(m->api_srv);
	if (m->api_sock) {
		if (m->api_srv)
			unlink(m->api_sock);
		free(m->api_sock);
	}
	if (m->ctl_claimed)
		ctl_release(m->dir, m->cfg.name, -1, m->lock_fd);
	vm_destroy(m->vm);
	api_vm_destroy(m->api);
	vm_config_free(&m->cfg);
	vm_signals_close(&m->signals);
	event_loop_destroy(m->loop);
	free(m);
}
