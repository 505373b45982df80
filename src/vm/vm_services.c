/* What the VM offers its devices and the rest of the machine at run time: a stop request,
 * interrupt lines (through the VM's irq router: the backend's controllers or the machine's
 * user-space ones), and the services handle devices are built from. Any thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/event_loop.h"
#include "vm/vm.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *msg)
{
	int expected = VM_STOP_NONE;
	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)reason))
		return; /* the first reason wins */
	if (msg)
		snprintf(vm->stop_msg, sizeof(vm->stop_msg), "%s", msg);
	vm_state_apply(&vm->state, VM_EV_STOP, NULL);
	uint64_t one = 1;
	if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from one write; nothing else can fail here. */
	}
}

static void vm_stop_cb(void *ctx, enum vm_stop_reason reason, const char *msg)
{
	vm_request_stop(ctx, reason, msg);
}

struct vm_stopper vm_stopper(struct vm *vm)
{
	return (struct vm_stopper){ .request = vm_stop_cb, .ctx = vm };
}

/* A line the router refuses is a host failure: the guest would wait for it forever. */
static void vm_irq_set(void *ctx, unsigned gsi, int level)
{
	struct vm *vm = ctx;
	if (vm->irq.line(vm->irq.ctx, gsi, level) < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot set interrupt line %u: %s", gsi, strerror(errno));
		vm_request_stop(vm, VM_STOP_ERROR, msg);
	}
}

static void vm_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct vm *vm = ctx;
	if (vm->irq.msi(vm->irq.ctx, addr, data) < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot send an MSI to 0x%llx: %s",
			 (unsigned long long)addr, strerror(errno));
		vm_request_stop(vm, VM_STOP_ERROR, msg);
	}
}

static int vm_ioeventfd(void *ctx, uint64_t gpa, unsigned len, int fd)
{
	struct vm *vm = ctx;
	if (!vm->caps.ioeventfd || !vm->accel->ioeventfd)
		return -1;
	return vm->accel->ioeventfd(vm->accel_vm, gpa, len, fd);
}

/* The router to a backend's own interrupt controllers (caps.irqchip). */
static int vm_backend_irq_line(void *ctx, unsigned gsi, int level)
{
	struct vm *vm = ctx;
	return vm->accel->irq_line(vm->accel_vm, gsi, level);
}

static int vm_backend_irq_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct vm *vm = ctx;
	return vm->accel->irq_msi(vm->accel_vm, addr, data);
}

struct irq_router vm_backend_irq_router(struct vm *vm)
{
	return (struct irq_router){ .name = vm->accel->name, .line = vm_backend_irq_line,
				    .msi = vm_backend_irq_msi, .ctx = vm };
}

struct dev_services vm_dev_services(struct vm *vm)
{
	return (struct dev_services){
		.devices = &vm->devices,
		.pio = &vm->pio_bus,
		.mmio = &vm->mmio_bus,
		.mem = &vm->mem,
		.clock = &vm->clock,
		.loop = vm->loop,
		.res = &vm->res,
		.stop = vm_stopper(vm),
		.irq_set = vm_irq_set,
		.msi_send = vm_msi_send,
		.ioeventfd = vm_ioeventfd,
		.irq_ctx = vm,
	};
}

/* A stop request ends the event loop; the request itself was recorded by vm_request_stop. */
static void vm_on_stop(void *ctx, uint32_t events)
{
	struct vm *vm = ctx;
	if (vm_stopping(vm))
		event_loop_quit(vm->loop);
}

int vm_watch_stop(struct vm *vm, struct error *err)
{
	return event_loop_add(vm->loop, vm->stop_efd, EPOLLIN, vm_on_stop, vm, err);
}
