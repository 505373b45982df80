/* The vsock stream protocol engine: connections between the guest's sockets and the host
 * backend's streams. Counters are the protocol's free-running 32-bit ones, so differences
 * are taken unsigned and wrap as the spec intends. */
#include "devices/virtio/vsock_proto.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

enum conn_state {
	CONN_CONNECTING,  /* host-initiated: REQUEST owed or sent, waiting for RESPONSE */
	CONN_ESTABLISHED,
};

struct vsock_conn {
	struct vsock_stream *s;
	uint32_t guest_port, host_port;
	enum conn_state state;
	/* Owed to the guest. */
	bool owe_request, owe_response, owe_credit;
	bool host_eof;      /* the host will send no more: SHUTDOWN(SEND) once staged data went */
	bool shutdown_sent;
	/* What the guest said with SHUTDOWN. */
	bool guest_no_send, guest_no_recv;
	bool host_write_shut;
	bool watch_in, watch_out;
	/* Guest to host: a ring of VSOCK_BUF_ALLOC bytes; ring_rd is fwd_cnt, ring_wr the
	 * guest's tx count, so ring_wr - ring_rd never exceeds the credit given. */
	uint8_t *ring;
	uint32_t ring_rd, ring_wr;
	uint32_t fwd_reported; /* the fwd_cnt the guest last saw */
	/* Host to guest: bytes read from the stream, not yet in an RX buffer. */
	uint8_t *stage;
	uint32_t stage_off, stage_len;
	uint32_t rx_cnt;       /* bytes sent to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
};

struct vsock_engine {
	uint64_t guest_cid;
	struct vsock_host *host;
	bool live;
	struct vsock_conn *conn[VSOCK_MAX_CONNS];
	unsigned rr; /* where the next search for owed packets starts: fairness */
	struct { uint32_t host_port, guest_port; } rst[VSOCK_RST_BACKLOG];
	unsigned rst_head, rst_count;
	uint32_t next_local_port;
};

enum vsock_check vsock_packet_check(const struct virtio_vsock_hdr *h, uint64_t guest_cid)
{
	uint16_t op = le16toh(h->op);
	uint32_t len = le32toh(h->len);
	if (le16toh(h->type) != VIRTIO_VSOCK_TYPE_STREAM || le64toh(h->src_cid) != guest_cid ||
	    le64toh(h->dst_cid) != VSOCK_HOST_CID)
		return VSOCK_PKT_REJECT;
	if (op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return VSOCK_PKT_REJECT;
	if (op == VIRTIO_VSOCK_OP_RW ? len > VSOCK_MAX_PAYLOAD : len != 0)
		return VSOCK_PKT_REJECT;
	if (op == VIRTIO_VSOCK_OP_SHUTDOWN &&
	    (le32toh(h->flags) & ~(uint32_t)(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)))
		return VSOCK_PKT_REJECT;
	return VSOCK_PKT_OK;
}

struct vsock_engine *vsock_engine_create(uint64_t guest_cid, struct vsock_host *host)
{
	struct vsock_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->guest_cid = guest_cid;
	e->host = host;
	e->next_local_port = VSOCK_LOCAL_PORT_FIRST;
	return e;
}

static int conn_find(const struct vsock_engine *e, uint32_t guest_port, uint32_t host_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = e->conn[i];
		if (c && c->guest_port == guest_port && c->host_port == host_port)
			return (int)i;
	}
	return -1;
}

static int conn_index(const struct vsock_engine *e, const struct vsock_conn *c)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (e->conn[i] == c)
			return (int)i;
	return -1;
}

static struct vsock_conn *conn_new(struct vsock_engine *e, uint32_t guest_port, uint32_t host_port)
{
	int slot = conn_index(e, NULL);
	if (slot < 0)
		return NULL;
	struct vsock_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ring = malloc(VSOCK_BUF_ALLOC);
	c->stage = malloc(VSOCK_STAGE_SIZE);
	if (!c->ring || !c->stage) {
		free(c->ring);
		free(c->stage);
		free(c);
		return NULL;
	}
	c->guest_port = guest_port;
	c->host_port = host_port;
	e->conn[slot] = c;
	return c;
}

static void conn_free(struct vsock_engine *e, struct vsock_conn *c)
{
	int i = conn_index(e, c);
	if (i >= 0)
		e->conn[i] = NULL;
	if (c->s)
		e->host->ops->close(c->s);
	free(c->ring);
	free(c->stage);
	free(c);
}

static void owe_rst(struct vsock_engine *e, uint32_t host_port, uint32_t guest_port)
{
	if (e->rst_count == VSOCK_RST_BACKLOG)
		return; /* the guest's own timeouts end what a lost RST would have */
	unsigned at = (e->rst_head + e->rst_count++) % VSOCK_RST_BACKLOG;
	e->rst[at].host_port = host_port;
	e->rst[at].guest_port = guest_port;
}

/* Ends a connection on both sides: RST to the guest, the host stream closed. */
static void conn_reset(struct vsock_engine *e, struct vsock_conn *c)
{
	owe_rst(e, c->host_port, c->guest_port);
	conn_free(e, c);
}

void vsock_engine_reset(struct vsock_engine *e)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (e->conn[i])
			conn_free(e, e->conn[i]);
	e->rst_count = 0;
	e->rr = 0;
}

void vsock_engine_destroy(struct vsock_engine *e)
{
	if (!e)
		return;
	vsock_engine_reset(e);
	free(e);
}

void vsock_engine_set_live(struct vsock_engine *e, bool live)
{
	e->live = live;
}

unsigned vsock_engine_conns(const struct vsock_engine *e)
{
	unsigned n = 0;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		n += e->conn[i] != NULL;
	return n;
}

/* Bytes the guest has room for beyond what is staged already. */
static uint32_t conn_read_budget(const struct vsock_conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;
	if (in_flight >= c->peer_buf_alloc)
		return 0;
	uint32_t peer_free = c->peer_buf_alloc - in_flight;
	if (peer_free <= c->stage_len)
		return 0;
	uint32_t budget = peer_free - c->stage_len;
	uint32_t room = VSOCK_STAGE_SIZE - c->stage_len;
	return budget < room ? budget : room;
}

static void conn_update_watch(struct vsock_engine *e, struct vsock_conn *c)
{
	bool in = c->state == CONN_ESTABLISHED && !c->host_eof && !c->guest_no_recv &&
		  conn_read_budget(c) > 0;
	bool out = c->state == CONN_ESTABLISHED && c->ring_wr != c->ring_rd;
	if (in != c->watch_in || out != c->watch_out) {
		c->watch_in = in;
		c->watch_out = out;
		e->host->ops->watch(c->s, in, out);
	}
}

/* Moves ring bytes to the host stream; false when the connection was ended. */
static bool conn_flush(struct vsock_engine *e, struct vsock_conn *c)
{
	while (c->ring_wr != c->ring_rd) {
		uint32_t used = c->ring_wr - c->ring_rd;
		uint32_t at = c->ring_rd % VSOCK_BUF_ALLOC;
		uint32_t chunk = VSOCK_BUF_ALLOC - at < used ? VSOCK_BUF_ALLOC - at : used;
		ssize_t n = e->host->ops->write(c->s, c->ring + at, chunk);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			conn_reset(e, c); /* EPIPE and friends: the host side is gone */
			return false;
		}
		c->ring_rd += (uint32_t)n;
	}
	bool empty = c->ring_wr == c->ring_rd;
	if (empty && c->guest_no_send && c->guest_no_recv) {
		conn_reset(e, c); /* the guest closed and everything it sent has left */
		return false;
	}
	if (empty && c->guest_no_send && !c->host_write_shut) {
		e->host->ops->shutdown_write(c->s);
		c->host_write_shut = true;
	}
	/* The guest waits only once its credit is gone, and then this threshold is passed. */
	if (c->ring_rd - c->fwd_reported >= VSOCK_BUF_ALLOC / 4)
		c->owe_credit = true;
	return true;
}

/* Reads what the guest has room for; false when the connection was ended. */
static bool conn_fill(struct vsock_engine *e, struct vsock_conn *c)
{
	uint32_t budget;
	while (!c->host_eof && !c->guest_no_recv && (budget = conn_read_budget(c)) > 0) {
		if (c->stage_len == 0)
			c->stage_off = 0;
		if (c->stage_off + c->stage_len + budget > VSOCK_STAGE_SIZE) {
			memmove(c->stage, c->stage + c->stage_off, c->stage_len);
			c->stage_off = 0;
		}
		ssize_t n = e->host->ops->read(c->s, c->stage + c->stage_off + c->stage_len, budget);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			conn_reset(e, c);
			return false;
		}
		if (n == 0)
			c->host_eof = true;
		c->stage_len += (uint32_t)n;
	}
	return true;
}

void vsock_engine_ready(struct vsock_engine *e, void *conn, uint32_t events)
{
	struct vsock_conn *c = conn;
	if (conn_index(e, c) < 0)
		return;
	bool hangup = events & (EPOLLHUP | EPOLLERR);
	if (c->watch_in && (events & EPOLLIN || hangup) && !conn_fill(e, c))
		return;
	if (c->watch_out && (events & EPOLLOUT || hangup) && !conn_flush(e, c))
		return;
	conn_update_watch(e, c);
}

static uint32_t alloc_local_port(struct vsock_engine *e, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = e->next_local_port++;
		if (e->next_local_port == 0)
			e->next_local_port = VSOCK_LOCAL_PORT_FIRST;
		if (conn_find(e, guest_port, p) < 0)
			return p; /* at most VSOCK_MAX_CONNS tries */
	}
}

void *vsock_engine_incoming(struct vsock_engine *e, struct vsock_stream *s, uint32_t guest_port)
{
	if (!e->live)
		return NULL;
	struct vsock_conn *c = conn_new(e, guest_port, alloc_local_port(e, guest_port));
	if (!c)
		return NULL;
	c->s = s;
	c->state = CONN_CONNECTING;
	c->owe_request = true;
	return c;
}

static void guest_request(struct vsock_engine *e, const struct virtio_vsock_hdr *h)
{
	uint32_t guest_port = le32toh(h->src_port), host_port = le32toh(h->dst_port);
	struct vsock_conn *c = e->live ? conn_new(e, guest_port, host_port) : NULL;
	if (c)
		c->s = e->host->ops->connect(e->host, host_port, c);
	if (!c || !c->s) {
		if (c)
			conn_free(e, c);
		owe_rst(e, host_port, guest_port); /* refused: nothing listens, or no room */
		return;
	}
	c->state = CONN_ESTABLISHED;
	c->owe_response = true;
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	conn_update_watch(e, c);
}

/* A packet for a connection that exists; false when it ended the connection. */
static bool guest_packet(struct vsock_engine *e, struct vsock_conn *c,
			 const struct virtio_vsock_hdr *h, const uint8_t *payload)
{
	uint16_t op = le16toh(h->op);
	uint32_t len = le32toh(h->len), flags = le32toh(h->flags);
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != CONN_CONNECTING || c->owe_request)
			goto reset;
		c->state = CONN_ESTABLISHED;
		if (e->host->ops->accepted(c->s, c->host_port) < 0)
			goto reset;
		break;
	case VIRTIO_VSOCK_OP_RST:
		conn_free(e, c);
		return false;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != CONN_ESTABLISHED)
			goto reset;
		if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV) {
			c->guest_no_recv = true;
			c->stage_len = 0; /* nobody will read it */
		}
		if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_no_send = true;
		return conn_flush(e, c);
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED || c->guest_no_send ||
		    len > VSOCK_BUF_ALLOC - (c->ring_wr - c->ring_rd))
			goto reset; /* data where none may come, or more than the credit given */
		for (uint32_t done = 0; done < len;) {
			uint32_t at = (c->ring_wr + done) % VSOCK_BUF_ALLOC;
			uint32_t n = VSOCK_BUF_ALLOC - at < len - done ? VSOCK_BUF_ALLOC - at : len - done;
			memcpy(c->ring + at, payload + done, n);
			done += n;
		}
		c->ring_wr += len;
		return conn_flush(e, c);
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break; /* the new credit is taken above */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owe_credit = true;
		break;
	default: /* REQUEST for a connection that exists */
		goto reset;
	}
	return true;
reset:
	conn_reset(e, c);
	return false;
}

void vsock_engine_from_guest(struct vsock_engine *e, const struct virtio_vsock_hdr *h,
			     const uint8_t *payload)
{
	uint16_t op = le16toh(h->op);
	uint32_t guest_port = le32toh(h->src_port), host_port = le32toh(h->dst_port);
	int i = conn_find(e, guest_port, host_port);
	if (vsock_packet_check(h, e->guest_cid) != VSOCK_PKT_OK) {
		bool ours = le64toh(h->src_cid) == e->guest_cid &&
			    le64toh(h->dst_cid) == VSOCK_HOST_CID;
		if (ours && i >= 0)
			conn_reset(e, e->conn[i]);
		else if (op != VIRTIO_VSOCK_OP_RST)
			owe_rst(e, host_port, guest_port);
		return;
	}
	if (op == VIRTIO_VSOCK_OP_REQUEST && i < 0) {
		guest_request(e, h);
		return;
	}
	if (i < 0) {
		if (op != VIRTIO_VSOCK_OP_RST)
			owe_rst(e, host_port, guest_port);
		return;
	}
	struct vsock_conn *c = e->conn[i];
	if (guest_packet(e, c, h, payload))
		conn_update_watch(e, c);
}

/* What connection c owes the guest next, as an op (0: nothing); *len the RW payload. */
static uint16_t conn_owed(const struct vsock_conn *c, uint32_t max_payload, uint32_t *len)
{
	*len = 0;
	if (c->owe_request)
		return VIRTIO_VSOCK_OP_REQUEST;
	if (c->owe_response)
		return VIRTIO_VSOCK_OP_RESPONSE;
	if (c->state == CONN_ESTABLISHED && c->stage_len && max_payload) {
		*len = c->stage_len < max_payload ? c->stage_len : max_payload;
		return VIRTIO_VSOCK_OP_RW;
	}
	if (c->owe_credit)
		return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	if (c->host_eof && !c->stage_len && !c->shutdown_sent)
		return VIRTIO_VSOCK_OP_SHUTDOWN;
	return 0;
}

bool vsock_engine_pending(struct vsock_engine *e)
{
	if (e->rst_count)
		return true;
	uint32_t len;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (e->conn[i] && conn_owed(e->conn[i], VSOCK_MAX_PAYLOAD, &len))
			return true;
	return false;
}

static void fill_hdr(const struct vsock_engine *e, struct virtio_vsock_hdr *h, uint32_t host_port,
		     uint32_t guest_port, uint16_t op)
{
	*h = (struct virtio_vsock_hdr){
		.src_cid = htole64(VSOCK_HOST_CID),
		.dst_cid = htole64(e->guest_cid),
		.src_port = htole32(host_port),
		.dst_port = htole32(guest_port),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(op),
	};
}

size_t vsock_engine_to_guest(struct vsock_engine *e, uint8_t *buf, size_t cap)
{
	struct virtio_vsock_hdr h;
	if (cap < VSOCK_HDR_SIZE)
		return 0;
	if (e->rst_count) {
		fill_hdr(e, &h, e->rst[e->rst_head].host_port, e->rst[e->rst_head].guest_port,
			 VIRTIO_VSOCK_OP_RST);
		e->rst_head = (e->rst_head + 1) % VSOCK_RST_BACKLOG;
		e->rst_count--;
		memcpy(buf, &h, sizeof(h));
		return sizeof(h);
	}
	size_t room = cap - VSOCK_HDR_SIZE;
	uint32_t max_payload = room < VSOCK_MAX_PAYLOAD ? (uint32_t)room : VSOCK_MAX_PAYLOAD;
	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned i = (e->rr + k) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = e->conn[i];
		uint32_t len;
		uint16_t op = c ? conn_owed(c, max_payload, &len) : 0;
		if (!op)
			continue;
		fill_hdr(e, &h, c->host_port, c->guest_port, op);
		switch (op) {
		case VIRTIO_VSOCK_OP_REQUEST: c->owe_request = false; break;
		case VIRTIO_VSOCK_OP_RESPONSE: c->owe_response = false; break;
		case VIRTIO_VSOCK_OP_SHUTDOWN:
			c->shutdown_sent = true;
			h.flags = htole32(VIRTIO_VSOCK_SHUTDOWN_SEND);
			break;
		case VIRTIO_VSOCK_OP_RW:
			h.len = htole32(len);
			memcpy(buf + VSOCK_HDR_SIZE, c->stage + c->stage_off, len);
			c->stage_off += len;
			c->stage_len -= len;
			c->rx_cnt += len;
			break;
		}
		/* Every packet carries the credit, so none is owed after it. */
		h.buf_alloc = htole32(VSOCK_BUF_ALLOC);
		h.fwd_cnt = htole32(c->ring_rd);
		c->fwd_reported = c->ring_rd;
		c->owe_credit = false;
		memcpy(buf, &h, sizeof(h));
		e->rr = i + 1;
		if (c->state == CONN_ESTABLISHED)
			conn_update_watch(e, c);
		return VSOCK_HDR_SIZE + len;
	}
	return 0;
}
