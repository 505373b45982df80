/* The host side of virtio-vsock behind a small interface: byte streams that the device's
 * protocol engine (devices/virtio/vsock_proto.c) joins to the guest's connections. Today one
 * implementation: Unix sockets in Firecracker's convention (vsock_uds.c).
 *
 * Contract: everything here is non-blocking. After start(), the backend watches its own
 * descriptors from the event loop and calls the device's events with the device's lock held;
 * the device calls the ops with the same lock held (from the event loop or a vCPU thread), so
 * the backend needs no lock of its own. A stream handed to the device stays valid until the
 * device closes it; an event for a stream already closed is never delivered. */
#ifndef HARDY_BACKENDS_VSOCK_HOST_H
#define HARDY_BACKENDS_VSOCK_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct event_loop;
struct vsock_host;
struct vsock_stream;

/* What the device does for the backend; ctx is the device's. */
struct vsock_host_events {
	/* A host client asks for the guest's port: the device's connection, or NULL to refuse
	 * (the backend then closes the stream). */
	void *(*incoming)(void *ctx, struct vsock_stream *s, uint32_t guest_port);
	/* The stream of conn is readable, writable or hung up (EPOLLIN/OUT/HUP/ERR bits). */
	void (*ready)(void *ctx, void *conn, uint32_t events);
};

struct vsock_host_ops {
	/* Starts listening and watching from loop; lock is the device's (taken around events). */
	int (*start)(struct vsock_host *h, struct event_loop *loop, pthread_mutex_t *lock,
		     const struct vsock_host_events *ev, void *ctx, struct error *err);
	/* The guest connects to host port: a connected stream for conn, or NULL (refused). */
	struct vsock_stream *(*connect)(struct vsock_host *h, uint32_t port, void *conn);
	/* A host-initiated connection is established; the client learns local_port. -1: gone. */
	int (*accepted)(struct vsock_stream *s, uint32_t local_port);
	/* read(2)/write(2) semantics: -1 with errno EAGAIN when nothing can move now. */
	ssize_t (*read)(struct vsock_stream *s, void *buf, size_t len);
	ssize_t (*write)(struct vsock_stream *s, const void *buf, size_t len);
	void (*shutdown_write)(struct vsock_stream *s);
	/* Which events the device wants for the stream (level-triggered). */
	void (*watch)(struct vsock_stream *s, bool in, bool out);
	void (*close)(struct vsock_stream *s);
	/* The device is going (its streams are closed): no more events, the loop forgets it. */
	void (*stop)(struct vsock_host *h);
	/* Closes everything (streams included) and frees the backend. */
	void (*destroy)(struct vsock_host *h);
};

struct vsock_host {
	const struct vsock_host_ops *ops;
};

/* Port P of the host is the Unix socket PATH_P; longest suffix "_4294967295". */
#define VSOCK_UDS_SUFFIX_MAX 11

/* Binds and listens on path before any VM exists (bad input: status 2 with one line): path
 * must fit sun_path with room for the _P suffix, its directory must exist, and it may exist
 * only as a stale socket (nothing listening; it is replaced). Removed again at destroy. */
struct vsock_host *vsock_uds_open(const char *path, struct error *err);

#endif
