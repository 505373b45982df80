/* Why a VM stops, and the handle through which a device, the console or a vCPU asks it to.
 * The VM implements the request (vm_services.c: the first reason wins); everything else holds
 * only this handle, so it needs no struct vm and can be tested with a recording stub. */
#ifndef HARDY_CORE_STOP_H
#define HARDY_CORE_STOP_H

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF,  /* guest powered off: status 0 */
	VM_STOP_REBOOT,    /* guest rebooted: status 0 (hardy does not restart it) */
	VM_STOP_ESCAPE,    /* console escape: status 0 */
	VM_STOP_KILLED,    /* signal or shutdown timeout: status 1 */
	VM_STOP_ERROR,     /* a vCPU or device failed: status 1, with a message */
	VM_STOP_DEBUG_EXIT, /* a test kernel wrote V to the debug-exit port: status (V << 1) | 1,
			     * masked to 8 bits; msg is "debug-exit code V" (debug_exit.c) */
};

struct vm_stopper {
	void (*request)(void *ctx, enum vm_stop_reason reason, const char *msg);
	void *ctx;
};

/* Any thread; msg may be NULL. */
static inline void vm_stopper_request(const struct vm_stopper *s, enum vm_stop_reason reason,
				      const char *msg)
{
	s->request(s->ctx, reason, msg);
}

#endif
