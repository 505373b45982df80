/* Creating a VM (vm_create): check the inputs, pick the CPU backend from accel.h's table, open
 * the device backends, build the machine (RAM, the backend's VM, devices, boot state, vCPUs) on
 * the caller's event loop; and tearing it down in
 * reverse order (vm_destroy). Nothing runs until vm_start (vm_lifecycle.c). */
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "backends/disk.h"
#include "backends/net.h"
#include "backends/vsock_host.h"
#include "core/console.h"
#include "core/event_loop.h"
#include "devices/x86/lapic.h"
#include "vm/machine.h"
#include "vm/signals.h"
#include "vm/vcpu.h"
#include "vm/vm_pit.h"

/* One backend's probe, and the vCPU count against its limit (status 2 when too many). */
static int vm_probe_accel(const struct accel_ops *a, unsigned ncpus, struct accel_caps *caps,
			  struct error *err)
{
	*caps = (struct accel_caps){ 0 };
	if (a->probe(caps, err) < 0)
		return -1;
	if (ncpus > caps->max_vcpus)
		return error_set(err, ERR_INPUT, "--cpus %u: the %s backend allows at most %u vCPUs",
				 ncpus, a->name, caps->max_vcpus);
	return 0;
}

/* Picks the backend from the table: --accel kvm|soft names one; auto takes the first that
 * probes well, saying in one line on stderr why the first (kvm) could not when it falls back
 * to another, and when none does reports why the first cannot run. forced: the caller's
 * own backend (tests), probed the same way. */
static int vm_choose_accel(const struct vm_config *cfg, const struct accel_ops *forced,
			   const struct accel_ops **out, struct accel_caps *caps, struct error *err)
{
	const struct accel_ops *a = forced;
	if (!a && cfg->accel != ACCEL_AUTO) {
		a = accel_find(cfg->accel == ACCEL_SOFT ? "soft" : "kvm");
		if (!a)
			return error_set(err, ERR_INPUT, "--accel: no such backend in this build");
	}
	if (a) {
		if (vm_probe_accel(a, cfg->ncpus, caps, err) < 0)
			return -1;
		*out = a;
		return 0;
	}
	struct error first = { 0 };
	for (unsigned i = 0; i < accel_table_len; i++) {
		struct error e = { 0 };
		if (vm_probe_accel(accel_table[i], cfg->ncpus, caps, &e) == 0) {
			*out = accel_table[i];
			if (i > 0)
				fprintf(stderr, "hardy: %s; using --accel %s instead\n", first.msg,
					accel_table[i]->name);
			return 0;
		}
		if (i == 0)
			first = e;
	}
	*err = first;
	return -1;
}

/* The boot vCPU's registers: the backend's reset state, changed by the boot protocol, set back
 * (the same get/set path INIT/SIPI, reset and snapshots use). */
static int vm_boot_vcpu_state(struct vm *vm, const struct x86_boot_regs *regs, struct error *err)
{
	struct accel_vcpu *v = vm->vcpus[0].accel_vcpu;
	struct x86_cpu_state s;
	if (vm->accel->get_regs(v, &s, err) < 0)
		return -1;
	x86_boot_cpu_state(regs, &s);
	return vm->accel->set_regs(v, &s, err);
}

/* A LAPIC's signal to its vCPU (lapic.h's struct lapic_cpu_link), any thread. */
static void vm_lapic_signal(void *ctx, enum accel_signal sig, uint8_t vector)
{
	struct vcpu *v = ctx;
	v->vm->accel->vcpu_signal(v->accel_vcpu, sig, vector);
}

/* Without caps.irqchip: the vCPU and its LAPIC, connected both ways. */
static int vm_connect_lapic(struct vm *vm, struct vcpu *v, struct error *err)
{
	if (!vm->accel->vcpu_set_lapic || !vm->accel->vcpu_signal)
		return error_set(err, ERR_RUNTIME, "the %s backend has no interrupt controllers and "
				 "no vcpu_set_lapic/vcpu_signal to take the machine's", vm->accel->name);
	struct lapic *a = apic_bus_lapic(vm->apic, v->index);
	struct accel_lapic iface;
	lapic_accel_iface(a, &iface);
	if (vm->accel->vcpu_set_lapic(v->accel_vcpu, &iface, err) < 0)
		return -1;
	lapic_connect_cpu(a, &(struct lapic_cpu_link){ .signal = vm_lapic_signal, .ctx = v });
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
		if (vcpu_init(v, err) < 0)
			return -1;
		vm->nr_vcpus_ready = i + 1;
		if (!(v->accel_vcpu = vm->accel->vcpu_create(vm->accel_vm, i, err)))
			return -1;
		if (vm->apic && vm_connect_lapic(vm, v, err) < 0)
			return -1;
	}
	return vm_boot_vcpu_state(vm, regs, err);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus_ready; i++)
			vcpu_stop(&vm->vcpus[i]);
		/* No device may signal a vCPU the backend no longer has. */
		for (unsigned i = 0; vm->apic && i < apic_bus_count(vm->apic); i++)
			lapic_connect_cpu(apic_bus_lapic(vm->apic, i), NULL);
		for (unsigned i = 0; i < vm->nr_vcpus_ready; i++) {
			if (vm->vcpus[i].accel_vcpu)
				vm->accel->vcpu_destroy(vm->vcpus[i].accel_vcpu);
			vcpu_fini(&vm->vcpus[i]);
		}
		free(vm->vcpus);
	}
	vm_pit_stop(vm->pit_clock);
	device_list_destroy(&vm->devices);
	if (vm->vsock)
		vm->vsock->ops->destroy(vm->vsock); /* after the device, which stopped it */
	for (unsigned i = 0; i < HARDY_MAX_DISKS; i++)
		disk_close(vm->disks[i]);
	for (unsigned i = 0; i < HARDY_MAX_NICS; i++)
		net_backend_close(vm->nets[i]);
	if (vm->console) {
		console_close(vm->console);
		free(vm->console);
	}
	if (vm->accel_vm)
		vm->accel->vm_destroy(vm->accel_vm);
	gmem_destroy(&vm->mem);
	if (vm->stop_efd >= 0) {
		event_loop_remove(vm->loop, vm->stop_efd);
		close(vm->stop_efd);
	}
	free(vm->cmdline);
	vm_config_free(&vm->cfg);
	free(vm);
}

static void vm_dsdt_devices(void *ctx, struct aml_buf *aml)
{
	device_list_acpi_dsdt(ctx, aml);
}

/* The buses, for a backend that runs guest instructions itself (accel_vm_params). */
static bool vm_pio_sync(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct vm *vm = ctx;
	bus_dispatch(&vm->pio_bus, port, is_write, data, len);
	return vm_stopping(vm);
}

static bool vm_mmio_sync(void *ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	struct vm *vm = ctx;
	bus_dispatch(&vm->mmio_bus, gpa, is_write, data, len);
	return vm_stopping(vm);
}

/* Everything that turns a checked config and loaded inputs into a VM ready to start. */
static int vm_build(struct vm *vm, const struct x86_boot_config *inputs, struct error *err)
{
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return error_errno(err, "eventfd");
	if (vm_watch_stop(vm, err) < 0)
		return -1;
	if (gmem_init(&vm->mem, vm->cfg.mem_size, err) < 0)
		return -1;
	struct accel_vm_params ap = {
		.mem = &vm->mem, .nr_vcpus = vm->nr_vcpus,
		.pio = vm_pio_sync, .mmio = vm_mmio_sync, .io_ctx = vm, .clock = &vm->clock,
		.soft_profile = vm->cfg.soft_profile,
	};
	if (!(vm->accel_vm = vm->accel->vm_create(&ap, err)))
		return -1;
	if (vm->caps.irqchip)
		vm->irq = vm_backend_irq_router(vm);
	machine_resources_init(&vm->res);
	struct dev_services svc = vm_dev_services(vm);
	struct machine m = { 0 };
	if (machine_build(&svc, &vm->cfg, &vm->caps, &vm->irq, vm->console, vm->disks, vm->nets,
			  vm->vsock, &m, err) < 0)
		return -1;
	vm->power_button = m.power_button;
	vm->power_button_ctx = m.power_button_ctx;
	vm->apic = m.apic;
	if (m.pit && !(vm->pit_clock = vm_pit_start(m.pit, &vm->clock, vm->loop, err)))
		return -1;
	if (console_watch(vm->console, vm->loop, err) < 0)
		return -1;

	/* The devices may add to the command line and the DSDT. */
	vm->cmdline = malloc(X86_CMDLINE_MAX);
	if (!vm->cmdline)
		return error_errno(err, "out of memory");
	/* A Multiboot kernel's command line is its argv: the devices' Linux words stay out. */
	if (inputs->kernel->format == KERNEL_MULTIBOOT)
		snprintf(vm->cmdline, X86_CMDLINE_MAX, "%s", inputs->cmdline);
	else if (device_list_cmdline(&vm->devices, inputs->cmdline, vm->cmdline, X86_CMDLINE_MAX,
				     err) < 0)
		return -1;
	struct x86_boot_config bc = *inputs;
	bc.cmdline = vm->cmdline;
	bc.dsdt_devices = vm_dsdt_devices;
	bc.dsdt_ctx = &vm->devices;
	if (x86_boot_check_fit(&bc, vm->cfg.mem_size, err) < 0)
		return -1;
	struct x86_boot_regs regs;
	if (x86_boot_setup(&vm->mem, &bc, &regs, err) < 0)
		return -1;
	return vm_create_vcpus(vm, &regs, err);
}

struct vm *vm_create(const struct vm_config *cfg, struct event_loop *loop, struct error *err)
{
	return vm_create_on(cfg, loop, NULL, err);
}

struct vm *vm_create_on(const struct vm_config *cfg, struct event_loop *loop,
			const struct accel_ops *accel, struct error *err)
{
	struct kernel_image kernel = { 0 };
	char *mb_cmdline = NULL;
	uint8_t *initrd = NULL;
	size_t initrd_size = 0;
	struct vm *vm = NULL;
	bool ok = false;

	if (vm_config_validate(cfg, err) < 0)
		return NULL;
	if (!cfg->kernel_path) {
		error_set(err, ERR_INPUT, "no kernel to boot");
		return NULL;
	}
	/* Inputs first: a bad file is status 2 whether or not this host has a CPU backend. */
	if (kernel_image_open(&kernel, cfg->kernel_path, err) < 0)
		goto out;
	if (cfg->initrd_path &&
	    file_read_all(cfg->initrd_path, "initrd", cfg->mem_size, &initrd, &initrd_size, err) < 0)
		goto out;
	/* Multiboot: the path, then the arguments; the Linux default line is not one of them. */
	if (kernel.format == KERNEL_MULTIBOOT &&
	    !(mb_cmdline = x86_multiboot_cmdline(cfg->kernel_path,
						 cfg->cmdline && strcmp(cfg->cmdline,
									HARDY_DEFAULT_CMDLINE)
						 ? cfg->cmdline : ""))) {
		error_errno(err, "out of memory");
		goto out;
	}
	struct x86_boot_config bc = {
		.kernel = &kernel,
		.initrd = initrd,
		.initrd_size = initrd_size,
		.initrd_path = cfg->initrd_path,
		.cmdline = mb_cmdline ? mb_cmdline : cfg->cmdline,
		.ncpus = cfg->ncpus,
	};
	if (x86_boot_check_fit(&bc, cfg->mem_size, err) < 0)
		goto out;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		error_errno(err, "out of memory");
		goto out;
	}
	vm->stop_efd = -1;
	vm->loop = loop;
	atomic_store(&vm->state, VM_STATE_NOT_STARTED);
	device_list_init(&vm->devices);
	if (vm_config_copy(&vm->cfg, cfg, err) < 0)
		goto out;
	cfg = &vm->cfg; /* from here on, only the VM's own copy */
	vm->nr_vcpus = cfg->ncpus;
	/* The console is input too (--console file:PATH): open it before any VM exists. */
	vm->console = calloc(1, sizeof(*vm->console));
	if (!vm->console) {
		error_errno(err, "out of memory");
		goto out;
	}
	if (console_open(vm->console, vm_stopper(vm), cfg, err) < 0)
		goto out;
	/* Disk images too, locks included: a busy image is refused whether or not a CPU backend works. */
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
	/* The vsock socket too: a bad or busy path is refused whether or not a CPU backend works. */
	if (cfg->vsock.enabled && !(vm->vsock = vsock_uds_open(cfg->vsock.uds_path, err)))
		goto out;
	if (vm_choose_accel(cfg, accel, &vm->accel, &vm->caps, err) < 0)
		goto out;
	/* Threads started from here on (the vCPUs) inherit a mask without these signals. */
	vm_signals_block();
	if (vm_build(vm, &bc, err) < 0)
		goto out;
	ok = true;
out:
	/* The boot image is in guest RAM now; the host copies are not needed while it runs. */
	free(initrd);
	free(mb_cmdline);
	kernel_image_close(&kernel);
	if (!ok) {
		vm_destroy(vm);
		return NULL;
	}
	return vm;
}
