/* The main thread's event loop: signals, console input, the stop request, the shutdown timer. */
#ifndef HARDY_VM_EVENT_LOOP_H
#define HARDY_VM_EVENT_LOOP_H

struct vm;

/* Blocks the signals the loop handles (and the vCPU kick) in the calling thread, so that threads
 * started afterwards inherit the mask. Call before starting vCPU threads. */
void event_loop_block_signals(void);

/* Runs until the VM is asked to stop. */
void event_loop_run(struct vm *vm);

#endif
