/* The main thread's event loop: epoll over registered descriptors, each with its callback.
 *
 * Contract: anything with a descriptor to watch (console, signals, the stop eventfd, device
 * backends such as ioeventfds, TAP, disk completions) registers (fd, events, callback, context)
 * while the machine is built or from a callback; callbacks run on the loop's thread, one at a
 * time, and must tolerate a wake-up with nothing to read (descriptors are non-blocking). The
 * loop knows no descriptor by name. event_loop_quit() ends event_loop_run() after the current
 * batch of callbacks. */
#ifndef HARDY_CORE_EVENT_LOOP_H
#define HARDY_CORE_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define EVENT_LOOP_MAX_FDS 64

struct event_loop;

/* events: the EPOLL* bits that fired. */
typedef void (*event_fn)(void *ctx, uint32_t events);

struct event_loop *event_loop_create(struct error *err);
void event_loop_destroy(struct event_loop *l);

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn fn, void *ctx,
		   struct error *err);
/* Changes what fd is watched for; 0 keeps it registered but silent. */
int event_loop_modify(struct event_loop *l, int fd, uint32_t events);
void event_loop_remove(struct event_loop *l, int fd);

/* Waits for and dispatches events until event_loop_quit(); returns -1 with err set when epoll
 * itself fails. The quit is consumed: a later call runs the loop again (a VMM runs it first
 * while it waits to be configured, then for the VM). */
int event_loop_run(struct event_loop *l, struct error *err);
/* Dispatches what is ready now without waiting (tests, the fuzzer); returns callbacks run. */
int event_loop_poll(struct event_loop *l);
void event_loop_quit(struct event_loop *l);

#endif
