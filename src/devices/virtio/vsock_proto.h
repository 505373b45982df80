/* virtio-vsock's stream protocol in user space, without the virtqueues: the connection table,
 * the state of each connection (connecting, established, shutting down), credit flow control
 * both ways, and the packets owed to the guest. vsock.c feeds it the guest's packets and asks
 * it for packets to put in the guest's RX buffers; the host side is a vsock_host backend.
 *
 * Rules: every guest packet is checked (vsock_packet_check) before it reaches the state
 * machine; a bad but well-formed one is answered with RST (never an RST for an RST). Data the
 * guest sends is bounded by the credit hardy advertises (VSOCK_BUF_ALLOC per connection, the
 * size of the connection's buffer towards the host); a guest that overruns it is reset. Data
 * from the host is read only while the guest has advertised room for it. Single-threaded
 * under the device's lock. */
#ifndef HARDY_DEVICES_VIRTIO_VSOCK_PROTO_H
#define HARDY_DEVICES_VIRTIO_VSOCK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "backends/vsock_host.h"

#define VSOCK_HOST_CID      2u            /* VMADDR_CID_HOST */
#define VSOCK_HDR_SIZE      sizeof(struct virtio_vsock_hdr)
#define VSOCK_MAX_PAYLOAD   (64u << 10)   /* the most one packet carries (Linux's limit too) */
#define VSOCK_BUF_ALLOC     (256u << 10)  /* per connection, towards the host */
#define VSOCK_STAGE_SIZE    (64u << 10)   /* per connection, read from the host for the guest */
#define VSOCK_MAX_CONNS     128u
#define VSOCK_RST_BACKLOG   64u           /* RSTs owed to the guest for unknown connections */
#define VSOCK_LOCAL_PORT_FIRST (1u << 30) /* hardy's ports for host-initiated connections */

/* A packet the state machine may see; anything else gets RST. */
enum vsock_check { VSOCK_PKT_OK, VSOCK_PKT_REJECT };
enum vsock_check vsock_packet_check(const struct virtio_vsock_hdr *h, uint64_t guest_cid);

struct vsock_engine;

struct vsock_engine *vsock_engine_create(uint64_t guest_cid, struct vsock_host *host);
void vsock_engine_destroy(struct vsock_engine *e);
/* The driver reset the device: every connection is closed on the host side, nothing owed. */
void vsock_engine_reset(struct vsock_engine *e);
/* Whether the driver is there to take connections (DRIVER_OK, not broken). */
void vsock_engine_set_live(struct vsock_engine *e, bool live);

/* One packet from the guest; payload holds h->len bytes when h->len <= VSOCK_MAX_PAYLOAD. */
void vsock_engine_from_guest(struct vsock_engine *e, const struct virtio_vsock_hdr *h,
			     const uint8_t *payload);
/* Something is owed to the guest (worth taking an RX buffer for). */
bool vsock_engine_pending(struct vsock_engine *e);
/* The next packet for the guest, header and payload, into buf of cap bytes (at least the
 * header); returns its size, 0 when nothing is owed. */
size_t vsock_engine_to_guest(struct vsock_engine *e, uint8_t *buf, size_t cap);

/* The backend's events (vsock_host_events), forwarded by the device. incoming: a host client
 * wants guest_port; the connection (a REQUEST is owed to the guest) or NULL to refuse. */
void *vsock_engine_incoming(struct vsock_engine *e, struct vsock_stream *s, uint32_t guest_port);
void vsock_engine_ready(struct vsock_engine *e, void *conn, uint32_t events);

/* Live connections (tests, the fuzzer). */
unsigned vsock_engine_conns(const struct vsock_engine *e);

#endif
