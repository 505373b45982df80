/* Where virtio-rng's bytes come from: a small interface, so the device can be tested with a
 * predictable source and the host source alone. */
#ifndef HARDY_BACKENDS_ENTROPY_H
#define HARDY_BACKENDS_ENTROPY_H

#include <stddef.h>
#include <sys/types.h>

struct entropy_source {
	/* Fills up to len bytes; returns how many (0 or -1: none now). Any thread. */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	void *ctx;
};

/* The host's getrandom(2). */
struct entropy_source entropy_host(void);

#endif
