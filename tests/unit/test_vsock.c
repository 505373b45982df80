/* Unit test: the vsock protocol engine with the Unix socket backend, over real sockets in a
 * temporary directory and a real event loop, the test playing the guest's driver (packets in
 * with vsock_engine_from_guest, out with vsock_engine_to_guest). Checked: the CONNECT/OK
 * handshake and bytes both ways; credit both ways (no more read from the host than the guest
 * has room for; credit updates on request); a stalled host client ends in RST, never in
 * unbounded buffering; guest connects to PATH_P, refused where nothing listens; refusal of
 * host clients (guest RST, a bad first line); shutdown and close from either side; bad packets
 * answered with RST (never an RST for an RST); a reset closes every host socket. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "check.h"
#include "core/event_loop.h"
#include "devices/virtio/vsock_proto.h"

#define CID 3u

static struct event_loop *loop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vsock_engine *eng;
static char dir[64], path[96];

static void *on_incoming(void *ctx, struct vsock_stream *s, uint32_t port)
{
	return vsock_engine_incoming(eng, s, port);
}

static void on_ready(void *ctx, void *conn, uint32_t events)
{
	vsock_engine_ready(eng, conn, events);
}

static const struct vsock_host_events events = { .incoming = on_incoming, .ready = on_ready };

/* Lets the backend see what the sockets did. */
static void pump(void)
{
	for (int i = 0; i < 20; i++) {
		usleep(1000);
		event_loop_poll(loop);
	}
}

static void guest_send(uint16_t op, uint32_t gport, uint32_t hport, const void *data, uint32_t len,
		       uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t flags)
{
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(CID), .dst_cid = htole64(VSOCK_HOST_CID),
		.src_port = htole32(gport), .dst_port = htole32(hport), .len = htole32(len),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(op), .flags = htole32(flags),
		.buf_alloc = htole32(buf_alloc), .fwd_cnt = htole32(fwd_cnt),
	};
	pthread_mutex_lock(&lock);
	vsock_engine_from_guest(eng, &h, data);
	pthread_mutex_unlock(&lock);
}

static void guest_send_hdr(struct virtio_vsock_hdr h)
{
	pthread_mutex_lock(&lock);
	vsock_engine_from_guest(eng, &h, NULL);
	pthread_mutex_unlock(&lock);
}

static uint8_t pkt[VSOCK_HDR_SIZE + VSOCK_MAX_PAYLOAD];

/* The next packet for the guest (RX buffers of cap bytes); its op, 0 for none. */
static uint16_t guest_recv(struct virtio_vsock_hdr *h, size_t cap)
{
	pthread_mutex_lock(&lock);
	size_t n = vsock_engine_to_guest(eng, pkt, cap);
	pthread_mutex_unlock(&lock);
	if (n == 0)
		return 0;
	CHECK(n >= VSOCK_HDR_SIZE && n <= cap, "packet of %zu bytes for a %zu-byte buffer", n, cap);
	memcpy(h, pkt, sizeof(*h));
	CHECK(le64toh(h->src_cid) == VSOCK_HOST_CID && le64toh(h->dst_cid) == CID &&
	      le16toh(h->type) == VIRTIO_VSOCK_TYPE_STREAM, "bad addresses in a packet to the guest");
	CHECK(n == VSOCK_HDR_SIZE + le32toh(h->len), "len does not match the packet");
	return le16toh(h->op);
}

static int client_connect(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s", p);
	return fd;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* A host client through CONNECT port, accepted by the guest; returns its socket, *hport. */
static int host_client(uint32_t gport, uint32_t buf_alloc, uint32_t *hport)
{
	int fd = client_connect(path);
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", gport);
	CHECK(write(fd, line, (size_t)n) == n, "write CONNECT");
	pump();
	struct virtio_vsock_hdr h;
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_REQUEST, "no REQUEST for the guest");
	CHECK(le32toh(h.dst_port) == gport && le32toh(h.src_port) >= VSOCK_LOCAL_PORT_FIRST,
	      "REQUEST ports %u -> %u", le32toh(h.src_port), le32toh(h.dst_port));
	CHECK(le32toh(h.buf_alloc) == VSOCK_BUF_ALLOC, "REQUEST without hardy's credit");
	*hport = le32toh(h.src_port);
	guest_send(VIRTIO_VSOCK_OP_RESPONSE, gport, *hport, NULL, 0, buf_alloc, 0, 0);
	char want[32], got[32] = { 0 };
	snprintf(want, sizeof(want), "OK %u\n", *hport);
	CHECK(read(fd, got, strlen(want)) == (ssize_t)strlen(want) && !strcmp(got, want),
	      "client got '%s', expected '%s'", got, want);
	return fd;
}

static void test_host_initiated(void)
{
	SECTION("CONNECT/OK, bytes both ways, credit both ways");
	uint32_t hp;
	int fd = host_client(5000, 1024, &hp);
	CHECK(write(fd, "ping", 4) == 4, "client write");
	pump();
	struct virtio_vsock_hdr h;
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RW && le32toh(h.len) == 4 &&
	      !memcmp(pkt + VSOCK_HDR_SIZE, "ping", 4), "the guest did not get 'ping'");
	CHECK(guest_recv(&h, sizeof(pkt)) == 0, "more packets than data");
	guest_send(VIRTIO_VSOCK_OP_RW, 5000, hp, "pong", 4, 1024, 4, 0);
	char buf[4096];
	CHECK(read(fd, buf, 4) == 4 && !memcmp(buf, "pong", 4), "the client did not get 'pong'");

	/* 14 bytes of room, 4 of them unread ("ping"): no more than 10 leave the socket. */
	guest_send(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5000, hp, NULL, 0, 14, 0, 0);
	memset(buf, 'x', 100);
	CHECK(write(fd, buf, 100) == 100, "client write");
	pump();
	uint32_t total = 0;
	while (guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RW)
		total += le32toh(h.len);
	CHECK(total == 10, "the guest got %u bytes with room for 10", total);
	guest_send(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5000, hp, NULL, 0, 14 + 90, 14, 0);
	pump();
	/* Small RX buffers split the data. */
	while (guest_recv(&h, VSOCK_HDR_SIZE + 16) == VIRTIO_VSOCK_OP_RW) {
		CHECK(le32toh(h.len) <= 16, "a packet larger than the RX buffer");
		total += le32toh(h.len);
	}
	CHECK(total == 100, "the guest got %u of 100 bytes after its credit update", total);

	SECTION("CREDIT_REQUEST is answered with hardy's credit");
	guest_send(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 5000, hp, NULL, 0, 1024, 104, 0);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_CREDIT_UPDATE &&
	      le32toh(h.fwd_cnt) == 4 && le32toh(h.buf_alloc) == VSOCK_BUF_ALLOC,
	      "credit update fwd_cnt %u buf_alloc %u", le32toh(h.fwd_cnt), le32toh(h.buf_alloc));

	SECTION("the client's close reaches the guest as SHUTDOWN, the guest's close as RST");
	close(fd);
	pump();
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_SHUTDOWN &&
	      le32toh(h.flags) == VIRTIO_VSOCK_SHUTDOWN_SEND, "no SHUTDOWN(SEND) after the client's EOF");
	guest_send(VIRTIO_VSOCK_OP_SHUTDOWN, 5000, hp, NULL, 0, 1024, 104,
		   VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "no RST after the guest's close");
	CHECK(vsock_engine_conns(eng) == 0, "the connection outlived both closes");
}

static void test_stalled_client(void)
{
	SECTION("a client that never reads: bounded buffering, then RST for the credit overrun");
	uint32_t hp;
	int fd = host_client(5002, 1024, &hp);
	static uint8_t data[VSOCK_MAX_PAYLOAD];
	struct virtio_vsock_hdr h;
	unsigned sent = 0;
	for (; sent < 100 && vsock_engine_conns(eng) == 1; sent++)
		guest_send(VIRTIO_VSOCK_OP_RW, 5002, hp, data, sizeof(data), 1024, 0, 0);
	CHECK(vsock_engine_conns(eng) == 0, "100 packets of 64 KiB were taken for a stalled client");
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "no RST for the overrun");
	uint64_t got = 0;
	ssize_t n;
	while ((n = read(fd, data, sizeof(data))) > 0)
		got += (uint64_t)n;
	CHECK(n == 0, "the client's socket was not closed");
	CHECK(got > 0 && got + VSOCK_BUF_ALLOC <= (uint64_t)sent * sizeof(data),
	      "the client got %llu bytes of %u packets", (unsigned long long)got, sent);
	close(fd);
}

static void test_guest_initiated(void)
{
	SECTION("guest connects to CID 2 port 6000: PATH_6000");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s_6000", path);
	const char *p6000 = sa.sun_path;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0,
	      "listen on %s", p6000);
	guest_send(VIRTIO_VSOCK_OP_REQUEST, 1234, 6000, NULL, 0, 4096, 0, 0);
	struct virtio_vsock_hdr h;
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RESPONSE && le32toh(h.src_port) == 6000 &&
	      le32toh(h.dst_port) == 1234, "no RESPONSE for the guest's connect");
	int fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0, "nothing reached the Unix socket");
	guest_send(VIRTIO_VSOCK_OP_RW, 1234, 6000, "hi", 2, 4096, 0, 0);
	char buf[8];
	CHECK(read(fd, buf, 2) == 2 && !memcmp(buf, "hi", 2), "the host did not get 'hi'");
	CHECK(write(fd, "yo", 2) == 2, "host write");
	pump();
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RW && !memcmp(pkt + VSOCK_HDR_SIZE, "yo", 2),
	      "the guest did not get 'yo'");

	SECTION("the guest's SHUTDOWN(SEND) half-closes the host socket");
	guest_send(VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 6000, NULL, 0, 4096, 2, VIRTIO_VSOCK_SHUTDOWN_SEND);
	CHECK(read(fd, buf, sizeof(buf)) == 0, "the host saw no EOF");
	CHECK(vsock_engine_conns(eng) == 1, "a half-close ended the connection");
	guest_send(VIRTIO_VSOCK_OP_RST, 1234, 6000, NULL, 0, 4096, 2, 0);
	CHECK(vsock_engine_conns(eng) == 0 && guest_recv(&h, sizeof(pkt)) == 0,
	      "the guest's RST did not end the connection quietly");
	CHECK(send(fd, "x", 1, MSG_NOSIGNAL) < 0 || read(fd, buf, 1) == 0, "the host socket stayed open");
	close(fd);
	close(lfd);
	unlink(p6000);

	SECTION("guest connects where nothing listens: RST");
	guest_send(VIRTIO_VSOCK_OP_REQUEST, 1235, 6001, NULL, 0, 4096, 0, 0);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST && le32toh(h.dst_port) == 1235,
	      "no RST for a connect to port 6001");
	CHECK(vsock_engine_conns(eng) == 0, "a refused connect left a connection");
}

static void test_refusals(void)
{
	SECTION("the guest refuses a host client: its socket is closed");
	int fd = client_connect(path);
	CHECK(write(fd, "CONNECT 5001\n", 13) == 13, "write");
	pump();
	struct virtio_vsock_hdr h;
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_REQUEST, "no REQUEST");
	guest_send(VIRTIO_VSOCK_OP_RST, 5001, le32toh(h.src_port), NULL, 0, 0, 0, 0);
	char buf[16];
	CHECK(read(fd, buf, sizeof(buf)) == 0, "the refused client's socket stayed open");
	close(fd);

	SECTION("a first line that is not CONNECT: closed");
	const char *bad[] = { "HELLO\n", "CONNECT x\n", "CONNECT 99999999999\n",
			      "CONNECT 5000 and more bytes than a line may have\n" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = client_connect(path);
		CHECK(write(fd, bad[i], strlen(bad[i])) == (ssize_t)strlen(bad[i]), "write");
		pump();
		/* Closed: EOF, or ECONNRESET where it left bytes unread. */
		ssize_t got = read_some(fd, buf, sizeof(buf));
		CHECK(got == 0 || (got < 0 && errno == ECONNRESET), "'%s' was not refused (%zd, %s)", bad[i], got, strerror(errno));
		CHECK(guest_recv(&h, sizeof(pkt)) == 0, "'%s' reached the guest", bad[i]);
		close(fd);
	}
}

static void test_bad_packets(void)
{
	SECTION("bad packets get RST, an RST never does");
	struct virtio_vsock_hdr good = {
		.src_cid = htole64(CID), .dst_cid = htole64(VSOCK_HOST_CID),
		.src_port = htole32(77), .dst_port = htole32(88),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(VIRTIO_VSOCK_OP_RW),
	};
	struct virtio_vsock_hdr h, b;
	b = good; b.src_cid = htole64(CID + 1); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "wrong src_cid");
	b = good; b.dst_cid = htole64(5); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "wrong dst_cid");
	b = good; b.type = htole16(VIRTIO_VSOCK_TYPE_SEQPACKET); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "seqpacket");
	b = good; b.op = htole16(0); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "op 0");
	b = good; b.op = htole16(99); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "op 99");
	b = good; b.len = htole32(VSOCK_MAX_PAYLOAD + 1); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "RW past 64 KiB");
	b = good; b.op = htole16(VIRTIO_VSOCK_OP_CREDIT_UPDATE); b.len = htole32(4); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST, "control packet with a payload");
	b = good; guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == VIRTIO_VSOCK_OP_RST && le32toh(h.dst_port) == 77 &&
	      le32toh(h.src_port) == 88, "RW for no connection");
	b = good; b.op = htole16(VIRTIO_VSOCK_OP_RST); guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == 0, "an RST answered with RST");
	b = good; b.op = htole16(VIRTIO_VSOCK_OP_RST); b.type = 0; guest_send_hdr(b);
	CHECK(guest_recv(&h, sizeof(pkt)) == 0, "a bad RST answered with RST");
}

static void test_reset(void)
{
	SECTION("a device reset closes every host socket");
	uint32_t hp1, hp2;
	int a = host_client(5003, 1024, &hp1), b = host_client(5004, 1024, &hp2);
	CHECK(hp1 != hp2 && vsock_engine_conns(eng) == 2, "two connections, two ports");
	pthread_mutex_lock(&lock);
	vsock_engine_reset(eng);
	pthread_mutex_unlock(&lock);
	char buf[8];
	CHECK(read(a, buf, sizeof(buf)) == 0 && read(b, buf, sizeof(buf)) == 0, "sockets left open");
	struct virtio_vsock_hdr h;
	CHECK(guest_recv(&h, sizeof(pkt)) == 0, "packets owed after a reset");
	close(a);
	close(b);
}

int main(void)
{
	struct error err = { 0 };
	snprintf(dir, sizeof(dir), "/tmp/hardy-unit-vsock-XXXXXX");
	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	loop = event_loop_create(&err);
	CHECK(loop, "event loop: %s", err.msg);
	struct vsock_host *host = vsock_uds_open(path, &err);
	CHECK(host, "vsock_uds_open: %s", err.msg);
	eng = vsock_engine_create(CID, host);
	vsock_engine_set_live(eng, true);
	CHECK(host->ops->start(host, loop, &lock, &events, NULL, &err) == 0, "start: %s", err.msg);

	test_host_initiated();
	test_stalled_client();
	test_guest_initiated();
	test_refusals();
	test_bad_packets();
	test_reset();

	SECTION("bad paths are refused as input");
	struct error e2 = { 0 };
	CHECK(!vsock_uds_open(dir, &e2) && e2.status == ERR_INPUT, "a directory was accepted");
	e2 = (struct error){ 0 };
	CHECK(!vsock_uds_open(path, &e2) && e2.status == ERR_INPUT && strstr(e2.msg, "in use"),
	      "a socket in use was accepted: %s", e2.msg);

	vsock_engine_destroy(eng);
	host->ops->stop(host);
	host->ops->destroy(host);
	CHECK(access(path, F_OK) != 0, "the socket file outlived the backend");
	event_loop_destroy(loop);
	rmdir(dir);
	printf("test_vsock: ok\n");
	return 0;
}
