/* What the VM offers its devices at run time: a stop request and interrupt lines. Any thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *msg)
{
	int expected = VM_RUNNING;
	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)reason))
		return; /* the first reason wins */
	if (msg)
		snprintf(vm->stop_msg, sizeof(vm->stop_msg), "%s", msg);
	uint64_t one = 1;
	if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from one write; nothing else can fail here. */
	}
}

/* A line the backend refuses is a host failure: the guest would wait for it forever. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	if (vm->accel->irq_line(vm, gsi, level) < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot set interrupt line %u: %s", gsi, strerror(errno));
		vm_request_stop(vm, VM_STOP_ERROR, msg);
	}
}
