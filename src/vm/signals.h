/* The signals a VM answers, read through a signalfd on the event loop. SIGTERM and SIGINT press
 * the power button once and arm a timer; the timer or a second such signal stops the VM hard.
 * SIGHUP and SIGQUIT stop it hard at once. */
#ifndef HARDY_VM_SIGNALS_H
#define HARDY_VM_SIGNALS_H

#include <stdbool.h>

#include "util/error.h"
#include "core/stop.h"

struct event_loop;

struct vm_signals {
	int sigfd, timerfd;
	bool button_pressed;
	struct vm_stopper stop;
	void (*power_button)(void *ctx); /* NULL: SIGTERM stops at once */
	void *power_button_ctx;
};

/* Blocks the signals handled here in the calling thread, so that threads started afterwards
 * inherit the mask. Call before starting vCPU threads. (The vCPU kick is the CPU backend's
 * business: KVM's sets up its own signal.) */
void vm_signals_block(void);

/* Opens the descriptors and registers them; s->stop and s->power_button filled by the caller. */
int vm_signals_watch(struct vm_signals *s, struct event_loop *loop, struct error *err);
void vm_signals_close(struct vm_signals *s);

#endif
