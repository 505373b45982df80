/* The VM's console: where the serial port's output goes (terminal, file, nowhere) and where its
 * input comes from (the terminal, in raw mode, with the Ctrl-A escape).
 *
 * Output never blocks the guest: vCPU threads append to a bounded ring (console_write, a memcpy
 * under a lock that guards only the ring) and the main thread's event loop drains the ring to
 * out_fd without blocking (console_flush, waiting for EPOLLOUT when the consumer is slow). When
 * the ring is full the excess is dropped and counted; console_close reports the count. A file
 * console stops growing at its size limit: one notice line, then everything else is dropped. */
#ifndef HARDY_CORE_CONSOLE_H
#define HARDY_CORE_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "core/config.h"
#include "core/stop.h"

#define CONSOLE_ESCAPE 0x01             /* Ctrl-A */
#define CONSOLE_RING_SIZE (256u << 10)  /* guest output waiting for a slow consumer */

struct event_loop;

struct console {
	struct vm_stopper stop; /* Ctrl-A x asks the VM to stop through it */
	enum console_kind kind;
	int out_fd;     /* -1 for none */
	int in_fd;      /* -1 when no input (file, none, or stdin closed) */
	bool out_owned; /* opened here (a file), closed here */
	bool in_tty;
	bool escape_seen;
	/* Where guest-bound input goes (the serial port). */
	void (*deliver)(void *sink, const uint8_t *buf, size_t len);
	void *sink;

	/* Output: the ring and its counters, guarded by out_lock (never held across I/O). */
	pthread_mutex_t out_lock;
	uint8_t *ring;
	size_t ring_size, ring_head, ring_len;
	uint64_t dropped;    /* bytes lost to a full ring, a dead consumer or the size limit */
	uint64_t written;    /* bytes written to out_fd, notice excluded */
	uint64_t limit;      /* largest output in bytes; 0: none */
	bool out_dead;       /* the consumer is gone (EPIPE, EBADF, ...) or the limit was hit */
	int wake_efd;        /* eventfd: the ring went from empty to non-empty */
	bool out_pollable;   /* out_fd works with epoll (pipe, terminal, socket) */
	int out_flags_saved; /* out_fd's file status flags before O_NONBLOCK, -1: untouched */
	bool restore_at_exit; /* put them back at process exit, not at console_close */
	struct event_loop *loop; /* where console_watch() registered, NULL before */
	bool out_waiting;        /* watching out_fd for EPOLLOUT */
};

int console_open(struct console *con, struct vm_stopper stop, const struct vm_config *cfg,
		 struct error *err);
/* Registers input and output with the event loop (main thread, once). */
int console_watch(struct console *con, struct event_loop *loop, struct error *err);
/* The output half on an fd opened elsewhere (tests, the fuzzer): limit 0 for none; ring_size
 * bytes of buffer (CONSOLE_RING_SIZE in hardy, smaller where a full ring is the point). */
int console_attach_output(struct console *con, int out_fd, uint64_t limit, size_t ring_size,
			  struct error *err);
/* Flushes what it can without blocking, restores the descriptors, reports dropped output on
 * stderr. */
void console_close(struct console *con);

/* The output half of console_close (console_out.c): a last flush, the fd's flags restored, the
 * ring freed; prints nothing. */
void console_out_close(struct console *con);
/* Bytes of guest output lost so far (dropped, or still in the ring). */
uint64_t console_dropped(struct console *con);

/* Guest output; any thread. Never blocks and does no I/O but a non-blocking eventfd write. */
void console_write(struct console *con, const uint8_t *buf, size_t len);

/* Main thread: writes ring contents to out_fd until the ring is empty (returns 0) or out_fd
 * would block (returns 1: wait for EPOLLOUT on out_fd, then call again). */
int console_flush(struct console *con);

/* Reads what is available on in_fd and forwards it, handling the escape. Main thread. */
void console_read_input(struct console *con);

#endif
