/* The user-mode network backend: libslirp's TCP/IP stack on 10.0.2.0/24 (host 10.0.2.2, DNS
 * forwarder 10.0.2.3, DHCP from 10.0.2.15) with port forwards, driven from hardy's event loop.
 *
 * slirp's sockets come and go with the guest's connections, so they live in an epoll set of
 * this backend's own, and the event loop watches that one descriptor plus a timerfd for
 * slirp's timers. After every call into slirp (a frame from the guest, a socket event, a
 * timer) the backend asks slirp which sockets it wants polled (slirp_pollfds_fill), brings its
 * epoll set up to date and re-arms the timerfd; a socket event is reported back to slirp with
 * slirp_pollfds_poll, so no call into slirp happens between a fill and its poll. Frames slirp
 * sends while the device is full wait in a small queue, and the sockets are not read until
 * the device has room again. */
#include "backends/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "core/event_loop.h"

#define SLIRP_QUEUE_MAX 64   /* frames kept while the device is full; more are dropped */
#define SLIRP_MAX_POLLFDS 1024

struct slirp_timer {
	struct net_slirp *s;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
	struct slirp_timer *next;
};

struct slirp_pollfd {
	int fd;
	uint32_t events, revents; /* EPOLL* bits */
};

struct slirp_frame {
	size_t len;
	uint8_t data[];
};

struct net_slirp {
	struct net_backend b;
	Slirp *slirp;
	struct event_loop *loop;
	struct net_rx_port port;
	int epfd, timerfd;
	/* What the last slirp_pollfds_fill asked for, by the index slirp was given. */
	struct slirp_pollfd pfd[SLIRP_MAX_POLLFDS];
	unsigned nr_pfd;
	/* What the epoll set holds. */
	int reg[SLIRP_MAX_POLLFDS];
	unsigned nr_reg;
	struct slirp_timer *timers;
	bool paused;
	struct slirp_frame *queue[SLIRP_QUEUE_MAX];
	unsigned q_head, q_len;
};

static int64_t slirp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- slirp's callbacks ---- */

static bool slirp_queue_push(struct net_slirp *s, const void *buf, size_t len)
{
	if (s->q_len == SLIRP_QUEUE_MAX)
		return false;
	struct slirp_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return false;
	f->len = len;
	memcpy(f->data, buf, len);
	s->queue[(s->q_head + s->q_len++) % SLIRP_QUEUE_MAX] = f;
	return true;
}

static void slirp_set_paused(struct net_slirp *s, bool paused)
{
	if (s->paused == paused)
		return;
	s->paused = paused;
	if (s->loop)
		event_loop_modify(s->loop, s->epfd, paused ? 0 : EPOLLIN);
}

/* A frame for the guest; order is kept: nothing overtakes the queue. */
static ssize_t slirp_cb_send(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->q_len == 0 && s->port.deliver &&
	    s->port.deliver(s->port.ctx, buf, len) == NET_RX_TAKEN)
		return (ssize_t)len;
	if (!s->port.deliver || !slirp_queue_push(s, buf, len)) {
		s->b.rx_dropped++; /* TCP retransmits; the rest is lost as on a real wire */
		return (ssize_t)len;
	}
	slirp_set_paused(s, true);
	return (ssize_t)len;
}

static void slirp_cb_guest_error(const char *msg, void *opaque) {}

static int64_t slirp_cb_clock(void *opaque)
{
	return slirp_now_ns();
}

static void *slirp_cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct slirp_timer){ .s = s, .id = id, .cb_opaque = cb_opaque, .expire_ms = -1,
				   .next = s->timers };
	s->timers = t;
	return t;
}

static void slirp_cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void slirp_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	if (timer)
		((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void slirp_cb_register_fd(int fd, void *opaque) {}
static void slirp_cb_unregister_fd(int fd, void *opaque) {}
static void slirp_cb_notify(void *opaque) {}

static const SlirpCb slirp_callbacks = {
	.send_packet = slirp_cb_send,
	.guest_error = slirp_cb_guest_error,
	.clock_get_ns = slirp_cb_clock,
	.timer_free = slirp_cb_timer_free,
	.timer_mod = slirp_cb_timer_mod,
	.register_poll_fd = slirp_cb_register_fd,
	.unregister_poll_fd = slirp_cb_unregister_fd,
	.notify = slirp_cb_notify,
	.timer_new_opaque = slirp_cb_timer_new_opaque,
};

/* ---- polling ---- */

static int slirp_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->nr_pfd == SLIRP_MAX_POLLFDS)
		return -1; /* slirp then does not poll this socket */
	uint32_t ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= EPOLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= EPOLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= EPOLLPRI;
	s->pfd[s->nr_pfd] = (struct slirp_pollfd){ .fd = fd, .events = ev };
	return (int)s->nr_pfd++;
}

static int slirp_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	if (idx < 0 || (unsigned)idx >= s->nr_pfd)
		return 0;
	uint32_t ev = s->pfd[idx].revents;
	return ((ev & EPOLLIN) ? SLIRP_POLL_IN : 0) | ((ev & EPOLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((ev & EPOLLPRI) ? SLIRP_POLL_PRI : 0) | ((ev & EPOLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((ev & EPOLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Puts fd into the epoll set with events (a closed and reused number is simply added). */
static void slirp_epoll_set(struct net_slirp *s, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* After any call into slirp: what it wants polled now, and when it wants to run next. */
static void slirp_refresh(struct net_slirp *s)
{
	uint32_t timeout_ms = UINT32_MAX;
	s->nr_pfd = 0;
	slirp_pollfds_fill(s->slirp, &timeout_ms, slirp_add_poll, s);
	for (unsigned i = 0; i < s->nr_pfd; i++)
		slirp_epoll_set(s, s->pfd[i].fd, s->pfd[i].events);
	/* Sockets slirp no longer asks about leave the set (closed ones have left already). */
	unsigned kept = 0;
	for (unsigned r = 0; r < s->nr_reg; r++) {
		bool wanted = false;
		for (unsigned i = 0; i < s->nr_pfd && !wanted; i++)
			wanted = s->pfd[i].fd == s->reg[r];
		if (!wanted)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->reg[r], NULL);
	}
	for (unsigned i = 0; i < s->nr_pfd; i++) {
		bool dup = false;
		for (unsigned j = 0; j < kept && !dup; j++)
			dup = s->reg[j] == s->pfd[i].fd;
		if (!dup)
			s->reg[kept++] = s->pfd[i].fd;
	}
	s->nr_reg = kept;

	int64_t now_ms = slirp_now_ns() / 1000000;
	int64_t wait_ms = timeout_ms == UINT32_MAX ? -1 : (int64_t)timeout_ms;
	for (struct slirp_timer *t = s->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t left = t->expire_ms > now_ms ? t->expire_ms - now_ms : 0;
		if (wait_ms < 0 || left < wait_ms)
			wait_ms = left;
	}
	struct itimerspec its = { 0 };
	if (wait_ms >= 0) {
		its.it_value.tv_sec = wait_ms / 1000;
		its.it_value.tv_nsec = (wait_ms % 1000) * 1000000 + (wait_ms == 0); /* 0 disarms */
	}
	timerfd_settime(s->timerfd, 0, &its, NULL);
}

static void slirp_on_sockets(void *ctx, uint32_t events)
{
	struct net_slirp *s = ctx;
	struct epoll_event evs[64];
	int n = epoll_wait(s->epfd, evs, 64, 0);
	for (int i = 0; i < n; i++)
		for (unsigned j = 0; j < s->nr_pfd; j++)
			if (s->pfd[j].fd == evs[i].data.fd)
				s->pfd[j].revents = evs[i].events;
	slirp_pollfds_poll(s->slirp, n < 0, slirp_get_revents, s);
	slirp_refresh(s);
}

static void slirp_on_timer(void *ctx, uint32_t events)
{
	struct net_slirp *s = ctx;
	uint64_t count;
	if (read(s->timerfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	int64_t now_ms = slirp_now_ns() / 1000000;
	for (struct slirp_timer *t = s->timers, *next; t; t = next) {
		next = t->next;
		if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
			t->expire_ms = -1;
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
		}
	}
	/* slirp runs its TCP timers inside pollfds_poll; no socket is ready in this round. */
	for (unsigned i = 0; i < s->nr_pfd; i++)
		s->pfd[i].revents = 0;
	slirp_pollfds_poll(s->slirp, 0, slirp_get_revents, s);
	slirp_refresh(s);
}

/* ---- the backend interface ---- */

static int slirp_start(struct net_backend *b, struct event_loop *loop, struct net_rx_port port,
		       struct error *err)
{
	struct net_slirp *s = (struct net_slirp *)b;
	s->port = port;
	if (event_loop_add(loop, s->epfd, EPOLLIN, slirp_on_sockets, s, err) < 0)
		return -1;
	if (event_loop_add(loop, s->timerfd, EPOLLIN, slirp_on_timer, s, err) < 0) {
		event_loop_remove(loop, s->epfd);
		return -1;
	}
	s->loop = loop;
	slirp_refresh(s);
	return 0;
}

static int slirp_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	struct net_slirp *s = (struct net_slirp *)b;
	slirp_input(s->slirp, frame, (int)len);
	slirp_refresh(s);
	return 0;
}

static void slirp_rx_resume(struct net_backend *b)
{
	struct net_slirp *s = (struct net_slirp *)b;
	while (s->q_len) {
		struct slirp_frame *f = s->queue[s->q_head];
		if (s->port.deliver(s->port.ctx, f->data, f->len) == NET_RX_FULL)
			return;
		free(f);
		s->q_head = (s->q_head + 1) % SLIRP_QUEUE_MAX;
		s->q_len--;
	}
	slirp_set_paused(s, false);
}

static void slirp_close(struct net_backend *b)
{
	struct net_slirp *s = (struct net_slirp *)b;
	if (s->loop) {
		event_loop_remove(s->loop, s->epfd);
		event_loop_remove(s->loop, s->timerfd);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		slirp_cb_timer_free(s->timers, s);
	for (; s->q_len; s->q_len--, s->q_head = (s->q_head + 1) % SLIRP_QUEUE_MAX)
		free(s->queue[s->q_head]);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.start = slirp_start, .send = slirp_send, .rx_resume = slirp_rx_resume,
	.close = slirp_close,
};

static struct in_addr slirp_ip(uint32_t host_order)
{
	return (struct in_addr){ .s_addr = htonl(host_order) };
}

struct net_backend *net_slirp_open(const struct vm_net_config *cfg, struct error *err)
{
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s) {
		error_errno(err, "out of memory for the user network");
		return NULL;
	}
	s->b = (struct net_backend){ .ops = &slirp_ops };
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->timerfd < 0) {
		error_errno(err, "--net user: epoll or timerfd");
		slirp_close(&s->b);
		return NULL;
	}
	SlirpConfig sc = {
		.version = 4,
		.in_enabled = true,
		.vnetwork = slirp_ip(0x0A000200),    /* 10.0.2.0 */
		.vnetmask = slirp_ip(0xFFFFFF00),
		.vhost = slirp_ip(0x0A000202),       /* 10.0.2.2: the host */
		.vdhcp_start = slirp_ip(0x0A00020F), /* 10.0.2.15 */
		.vnameserver = slirp_ip(0x0A000203), /* 10.0.2.3 */
		.vhostname = "hardy-guest",
	};
	s->slirp = slirp_new(&sc, &slirp_callbacks, s);
	if (!s->slirp) {
		error_set(err, ERR_RUNTIME, "--net user: libslirp refused its configuration");
		slirp_close(&s->b);
		return NULL;
	}
	for (unsigned i = 0; i < cfg->nr_fwd; i++) {
		const struct vm_hostfwd *f = &cfg->fwd[i];
		errno = 0;
		if (slirp_add_hostfwd(s->slirp, f->udp, (struct in_addr){ .s_addr = f->host_addr },
				      f->host_port, (struct in_addr){ .s_addr = f->guest_addr },
				      f->guest_port) < 0) {
			char host[INET_ADDRSTRLEN] = "";
			if (f->host_addr)
				inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
			error_set(err, ERR_INPUT, "--net user: hostfwd %s:%s:%u: cannot listen on the "
				  "host port%s%s", f->udp ? "udp" : "tcp", host, f->host_port,
				  errno ? ": " : "", errno ? strerror(errno) : "");
			slirp_close(&s->b);
			return NULL;
		}
	}
	return &s->b;
}
