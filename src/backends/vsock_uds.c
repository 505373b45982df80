/* The vsock host side on Unix sockets, in Firecracker's convention:
 * - host-initiated: hardy listens on PATH; a client connects and writes "CONNECT <port>\n";
 *   the device asks the guest's port, and on the guest's RESPONSE the client reads
 *   "OK <hostport>\n" (hardy's local port for the connection), then bytes flow; a refusal
 *   closes the client's socket;
 * - guest-initiated: a guest connecting to CID 2 port P gets the Unix socket PATH_P, refused
 *   when nothing listens there.
 * Every descriptor is non-blocking and sits in the backend's own epoll set, which is one
 * registration on the event loop (so the loop's table does not bound the connections). */
#include "backends/vsock_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/event_loop.h"

#define UDS_LINE_MAX       32u  /* "CONNECT 4294967295\n" fits with room to spare */
#define UDS_MAX_HANDSHAKES 32u  /* clients that connected but have not said CONNECT yet */
#define UDS_BATCH          32

enum uds_kind { UDS_LISTENER, UDS_HANDSHAKE, UDS_STREAM };

struct vsock_stream {
	struct uds_host *h;
	int fd;
	enum uds_kind kind;
	void *conn;          /* the device's connection (UDS_STREAM) */
	uint32_t watching;   /* epoll mask; 0: not in the set */
	bool dead;           /* closed; freed after the batch that might still name it */
	struct vsock_stream *prev, *next; /* live handshakes and streams; dead ones on h->dead */
};

struct uds_host {
	struct vsock_host base;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int epfd;
	struct vsock_stream listener;
	struct event_loop *loop;
	pthread_mutex_t *lock;
	const struct vsock_host_events *ev;
	void *ctx;
	struct vsock_stream *live, *dead;
	unsigned handshakes;
};

static struct vsock_stream *uds_stream_new(struct uds_host *h, int fd, enum uds_kind kind)
{
	struct vsock_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	*s = (struct vsock_stream){ .h = h, .fd = fd, .kind = kind, .next = h->live };
	if (h->live)
		h->live->prev = s;
	h->live = s;
	return s;
}

static void uds_watch(struct vsock_stream *s, bool in, bool out)
{
	uint32_t mask = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
	if (mask == s->watching)
		return;
	/* Out of the set when nothing is wanted, so a hang-up cannot wake the loop in vain. */
	struct epoll_event e = { .events = mask, .data.ptr = s };
	int op = !mask ? EPOLL_CTL_DEL : s->watching ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(s->h->epfd, op, s->fd, &e) == 0)
		s->watching = mask;
}

static void uds_close(struct vsock_stream *s)
{
	struct uds_host *h = s->h;
	if (s->watching)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	if (s->kind == UDS_HANDSHAKE)
		h->handshakes--;
	if (s->prev)
		s->prev->next = s->next;
	else
		h->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->dead = true;
	s->next = h->dead;
	h->dead = s;
}

static void uds_free_dead(struct uds_host *h)
{
	while (h->dead) {
		struct vsock_stream *s = h->dead;
		h->dead = s->next;
		free(s);
	}
}

static ssize_t uds_read(struct vsock_stream *s, void *buf, size_t len)
{
	return recv(s->fd, buf, len, MSG_DONTWAIT);
}

static ssize_t uds_write(struct vsock_stream *s, const void *buf, size_t len)
{
	return send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL); /* EPIPE, never SIGPIPE */
}

static void uds_shutdown_write(struct vsock_stream *s)
{
	shutdown(s->fd, SHUT_WR);
}

/* The client's socket has not been written to yet, so this short line fits its buffer. */
static int uds_accepted(struct vsock_stream *s, uint32_t local_port)
{
	char line[24];
	int n = snprintf(line, sizeof(line), "OK %u\n", local_port);
	return uds_write(s, line, (size_t)n) == n ? 0 : -1;
}

static struct vsock_stream *uds_connect(struct vsock_host *base, uint32_t port, void *conn)
{
	struct uds_host *h = (struct uds_host *)base;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* Fits: the path was checked to leave VSOCK_UDS_SUFFIX_MAX bytes. */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%.96s_%u", h->path, port) < 0)
		return NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* A Unix connect never waits: it succeeds, or fails (nothing there, backlog full). */
	struct vsock_stream *s = NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    !(s = uds_stream_new(h, fd, UDS_STREAM))) {
		close(fd);
		return NULL;
	}
	s->conn = conn;
	return s;
}

/* "CONNECT <port>\n" -> port; -1 on anything else. */
static int uds_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	if (len < sizeof(verb) + 1 || memcmp(line, verb, sizeof(verb) - 1) || line[len - 1] != '\n')
		return -1;
	uint64_t v = 0;
	for (size_t i = sizeof(verb) - 1; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9' || (v = v * 10 + (uint64_t)(line[i] - '0')) > UINT32_MAX)
			return -1;
	}
	*port = (uint32_t)v;
	return 0;
}

/* A client's first line. Peeked, so bytes sent after it stay for the guest. */
static void uds_handshake(struct uds_host *h, struct vsock_stream *s)
{
	char line[UDS_LINE_MAX];
	ssize_t n = recv(s->fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
	if (!nl) {
		if (n <= 0 || (size_t)n == sizeof(line))
			uds_close(s); /* gone, or no line where one belongs */
		return;
	}
	size_t len = (size_t)(nl - line) + 1;
	uint32_t port;
	if (recv(s->fd, line, len, MSG_DONTWAIT) != (ssize_t)len ||
	    uds_parse_connect(line, len, &port) < 0) {
		uds_close(s);
		return;
	}
	uds_watch(s, false, false); /* the device decides what to watch from now on */
	s->kind = UDS_STREAM;
	h->handshakes--;
	s->conn = h->ev->incoming(h->ctx, s, port);
	if (!s->conn)
		uds_close(s);
}

static void uds_accept(struct uds_host *h)
{
	for (unsigned i = 0; i < UDS_BATCH; i++) {
		int fd = accept4(h->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct vsock_stream *s = h->handshakes < UDS_MAX_HANDSHAKES
						 ? uds_stream_new(h, fd, UDS_HANDSHAKE) : NULL;
		if (!s) {
			close(fd);
			continue;
		}
		h->handshakes++;
		uds_watch(s, true, false);
	}
}

static void uds_on_events(void *ctx, uint32_t events)
{
	struct uds_host *h = ctx;
	struct epoll_event evs[UDS_BATCH];
	pthread_mutex_lock(h->lock);
	uds_free_dead(h);
	int n = h->ev ? epoll_wait(h->epfd, evs, UDS_BATCH, 0) : 0;
	for (int i = 0; i < n; i++) {
		struct vsock_stream *s = evs[i].data.ptr;
		if (s->dead)
			continue;
		switch (s->kind) {
		case UDS_LISTENER: uds_accept(h); break;
		case UDS_HANDSHAKE: uds_handshake(h, s); break;
		case UDS_STREAM: h->ev->ready(h->ctx, s->conn, evs[i].events); break;
		}
	}
	pthread_mutex_unlock(h->lock);
}

static int uds_start(struct vsock_host *base, struct event_loop *loop, pthread_mutex_t *lock,
		     const struct vsock_host_events *ev, void *ctx, struct error *err)
{
	struct uds_host *h = (struct uds_host *)base;
	h->lock = lock;
	h->ev = ev;
	h->ctx = ctx;
	uds_watch(&h->listener, true, false);
	if (!h->listener.watching)
		return error_errno(err, "vsock: epoll_ctl on %s", h->path);
	if (event_loop_add(loop, h->epfd, EPOLLIN, uds_on_events, h, err) < 0)
		return -1;
	h->loop = loop;
	return 0;
}

static void uds_stop(struct vsock_host *base)
{
	struct uds_host *h = (struct uds_host *)base;
	if (h->loop)
		event_loop_remove(h->loop, h->epfd);
	h->loop = NULL;
	h->ev = NULL;
	while (h->live)
		uds_close(h->live); /* handshakes: the device's streams are closed already */
	uds_free_dead(h);
}

static void uds_destroy(struct vsock_host *base)
{
	struct uds_host *h = (struct uds_host *)base;
	if (!h)
		return;
	uds_stop(base);
	close(h->epfd);
	close(h->listener.fd);
	unlink(h->path);
	free(h);
}

static const struct vsock_host_ops uds_ops = {
	.start = uds_start,
	.connect = uds_connect,
	.accepted = uds_accepted,
	.read = uds_read,
	.write = uds_write,
	.shutdown_write = uds_shutdown_write,
	.watch = uds_watch,
	.close = uds_close,
	.stop = uds_stop,
	.destroy = uds_destroy,
};

/* A socket file at path with nothing listening behind it is stale (a hardy that was killed). */
static bool uds_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s", (int)sizeof(sa.sun_path) - 1, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

struct vsock_host *vsock_uds_open(const char *path, struct error *err)
{
	size_t len = strlen(path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (len == 0 || len + VSOCK_UDS_SUFFIX_MAX >= sizeof(sa.sun_path)) {
		error_set(err, ERR_INPUT, "--vsock uds=%.60s: the path must be 1 to %zu bytes",
			  path, sizeof(sa.sun_path) - 1 - VSOCK_UDS_SUFFIX_MAX);
		return NULL;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			error_set(err, ERR_INPUT, "--vsock uds=%s: exists and is not a socket", path);
			return NULL;
		}
		if (!uds_stale(path)) {
			error_set(err, ERR_INPUT, "--vsock uds=%s: in use (something listens on it)", path);
			return NULL;
		}
		unlink(path);
	}
	struct uds_host *h = calloc(1, sizeof(*h));
	if (!h) {
		error_errno(err, "out of memory for vsock");
		return NULL;
	}
	h->base.ops = &uds_ops;
	memcpy(h->path, path, len + 1);
	memcpy(sa.sun_path, path, len + 1);
	h->listener = (struct vsock_stream){ .h = h, .kind = UDS_LISTENER };
	h->listener.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->listener.fd < 0 || h->epfd < 0) {
		error_errno(err, "vsock: socket");
		goto fail;
	}
	if (bind(h->listener.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error_set(err, ERR_INPUT, "--vsock uds=%s: cannot bind: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(h->listener.fd, 64) < 0) {
		error_errno(err, "vsock: listen on %s", path);
		unlink(path);
		goto fail;
	}
	return &h->base;
fail:
	if (h->listener.fd >= 0)
		close(h->listener.fd);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
	return NULL;
}
