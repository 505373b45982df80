/* VM lifecycle (vm_run): check inputs, build the machine (RAM, backend, devices, boot state,
 * vCPUs), run the event loop, tear everything down in reverse order. */
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "backends/disk.h"
#include "backends/net.h"
#include "backends/vsock_host.h"
#include "core/console.h"
#include "core/event_loop.h"
#include "vm/machine.h"
#include "vm/vcpu.h"

/* Picks the backend and checks the vCPU count against it (status 2 when too many). */
static int vm_choose_accel(const struct vm_config *cfg, const struct accel_ops **out,
			   struct error *err)
{
	if (cfg->accel == ACCEL_SOFT)
		return error_set(err, ERR_INPUT, "--accel soft: the software CPU is not available yet");
	const struct accel_ops *a = &accel_kvm_ops;
	struct accel_limits limits = { 0 };
	if (a->probe(&limits, err) < 0)
		return -1;
	if (cfg->ncpus > limits.max_vcpus)
		return error_set(err, ERR_INPUT, "--cpus %u: KVM allows at most %u vCPUs",
				 cfg->ncpus, limits.max_vcpus);
	*out = a;
	return 0;
}

static int vm_create_vcpus(struct vm *vm, const struct x86_boot_regs *regs, struct error *err)
{
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return error_errno(err, "out of memory");
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->index = i;
		if (vm->accel->vcpu_create(v, err) < 0)
			return -1;
	}
	return vm->accel->vcpu_boot_setup(&vm->vcpus[0], regs, err);
}

static void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vcpu_stop(&vm->vcpus[i]);
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].accel_data)
				vm->accel->vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	device_list_destroy(&vm->devices);
	if (vm->vsock)
		vm->vsock->ops->destroy(vm->vsock); /* after the device, which stopped it */
	vm_signals_close(&vm->signals);
	for (unsigned i = 0; i < HARDY_MAX_DISKS; i++)
		disk_close(vm->disks[i]);
	for (unsigned i = 0; i < HARDY_MAX_NICS; i++)
		net_backend_close(vm->nets[i]);
	if (vm->console) {
		console_close(vm->console);
		free(vm->console);
	}
	if (vm->accel)
		vm->accel->vm_destroy(vm);
	gmem_destroy(&vm->mem);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	event_loop_destroy(vm->loop);
	free(vm->cmdline);
	free(vm);
}

static void vm_dsdt_devices(void *ctx, struct aml_buf *aml)
{
	device_list_acpi_dsdt(ctx, aml);
}

/* Everything that turns a checked config and loaded inputs into a VM ready to start. */
static int vm_build(struct vm *vm, const struct x86_boot_config *inputs, struct error *err)
{
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return error_errno(err, "eventfd");
	vm->loop = event_loop_create(err);
	if (!vm->loop || vm_watch_stop(vm, err) < 0)
		return -1;
	if (gmem_init(&vm->mem, vm->cfg->mem_size, err) < 0)
		return -1;
	if (vm->accel->vm_create(vm, err) < 0)
		return -1;
	machine_resources_init(&vm->res);
	struct dev_services svc = vm_dev_services(vm);
	struct machine m = { 0 };
	if (machine_build(&svc, vm->cfg, vm->console, vm->disks, vm->nets, vm->vsock, &m,
			  err) < 0)
		return -1;
	vm->signals.stop = vm_stopper(vm);
	vm->signals.power_button = m.power_button;
	vm->signals.power_button_ctx = m.power_button_ctx;
	if (console_watch(vm->console, vm->loop, err) < 0 ||
	    vm_signals_watch(&vm->signals, vm->loop, err) < 0)
		return -1;

	/* The devices may add to the command line and the DSDT. */
	vm->cmdline = malloc(X86_CMDLINE_MAX);
	if (!vm->cmdline)
		return error_errno(err, "out of memory");
	if (device_list_cmdline(&vm->devices, inputs->cmdline, vm->cmdline, X86_CMDLINE_MAX,
				err) < 0)
		return -1;
	struct x86_boot_config bc = *inputs;
	bc.cmdline = vm->cmdline;
	bc.dsdt_devices = vm_dsdt_devices;
	bc.dsdt_ctx = &vm->devices;
	if (x86_boot_check_fit(&bc, vm->cfg->mem_size, err) < 0)
		return -1;
	struct x86_boot_regs regs;
	if (x86_boot_setup(&vm->mem, &bc, &regs, err) < 0)
		return -1;
	return vm_create_vcpus(vm, &regs, err);
}

static int vm_exit_status(struct vm *vm, struct error *err)
{
	switch (atomic_load(&vm->stop_reason)) {
	case VM_STOP_REBOOT:
		/* A reset the guest did not ask for (a triple fault) still ends with status 0, but
		 * one line on stderr says what happened. */
		if (vm->stop_msg[0])
			fprintf(stderr, "hardy: %s\n", vm->stop_msg);
		return 0;
	case VM_STOP_POWEROFF:
	case VM_STOP_ESCAPE:
		return 0;
	case VM_STOP_KILLED:
	case VM_STOP_ERROR:
	default:
		error_set(err, ERR_RUNTIME, "%s",
			  vm->stop_msg[0] ? vm->stop_msg : "the VM stopped unexpectedly");
		return ERR_RUNTIME;
	}
}

int vm_run(const struct vm_config *cfg, struct error *err)
{
	struct kernel_image kernel = { 0 };
	uint8_t *initrd = NULL;
	size_t initrd_size = 0;
	struct vm *vm = NULL;
	int status = ERR_RUNTIME;

	/* Inputs first: a bad file is status 2 whether or not this host has KVM. */
	if (kernel_image_open(&kernel, cfg->kernel_path, err) < 0)
		goto out;
	if (cfg->initrd_path &&
	    file_read_all(cfg->initrd_path, "initrd", cfg->mem_size, &initrd, &initrd_size, err) < 0)
		goto out;
	struct x86_boot_config bc = {
		.kernel = &kernel,
		.initrd = initrd,
		.initrd_size = initrd_size,
		.initrd_path = cfg->initrd_path,
		.cmdline = cfg->cmdline,
		.ncpus = cfg->ncpus,
	};
	if (x86_boot_check_fit(&bc, cfg->mem_size, err) < 0)
		goto out;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		error_errno(err, "out of memory");
		goto out;
	}
	vm->cfg = cfg;
	vm->nr_vcpus = cfg->ncpus;
	vm->stop_efd = -1;
	vm->signals.sigfd = vm->signals.timerfd = -1;
	device_list_init(&vm->devices);
	/* The console is input too (--console file:PATH): open it before any VM exists. */
	vm->console = calloc(1, sizeof(*vm->console));
	if (!vm->console) {
		error_errno(err, "out of memory");
		goto out;
	}
	if (console_open(vm->console, vm_stopper(vm), cfg, err) < 0)
		goto out;
	/* Disk images too, locks included: a busy image is refused whether or not KVM works. */
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		vm->disks[i] = disk_raw_open(cfg->disks[i].path, cfg->disks[i].readonly, err);
		if (!vm->disks[i])
			goto out;
		vm->disks[i]->sync_only = cfg->disks[i].aio_sync;
	}
	/* Network backends too: a missing TAP interface or a taken port is status 2 anywhere. */
	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		vm->nets[i] = net_backend_open(&cfg->nets[i], err);
		if (!vm->nets[i])
			goto out;
	}
	/* The vsock socket too: a bad or busy path is refused whether or not KVM works. */
	if (cfg->vsock.enabled && !(vm->vsock = vsock_uds_open(cfg->vsock.uds_path, err)))
		goto out;
	if (vm_choose_accel(cfg, &vm->accel, err) < 0)
		goto out;
	vm_signals_block();
	vcpu_signals_init();
	if (vm_build(vm, &bc, err) < 0)
		goto out;
	/* The boot image is in guest RAM now; the host copies are not needed while it runs. */
	free(initrd);
	initrd = NULL;
	kernel_image_close(&kernel);

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_start(&vm->vcpus[i], err) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR, err->msg);
			break;
		}
	}
	if (err->status == ERR_OK) {
		struct error loop_err = { 0 };
		if (event_loop_run(vm->loop, &loop_err) < 0)
			vm_request_stop(vm, VM_STOP_ERROR, loop_err.msg);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_stop(&vm->vcpus[i]);
	status = err->status == ERR_OK ? vm_exit_status(vm, err) : err->status;
out:
	if (vm)
		vm_destroy(vm);
	free(initrd);
	kernel_image_close(&kernel);
	if (err->status != ERR_OK)
		status = err->status;
	return status;
}
