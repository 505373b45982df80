/* Event loop over epoll: a fixed table of registrations, each epoll event pointing at its
 * entry. A removed entry is cleared rather than freed, so an event already fetched in the same
 * batch finds it empty and is skipped. */
#include "core/event_loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct event_reg {
	int fd; /* -1: free */
	event_fn fn;
	void *ctx;
};

struct event_loop {
	int epfd;
	atomic_bool quit;
	struct event_reg reg[EVENT_LOOP_MAX_FDS];
};

struct event_loop *event_loop_create(struct error *err)
{
	struct event_loop *l = calloc(1, sizeof(*l));
	if (!l) {
		error_errno(err, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < EVENT_LOOP_MAX_FDS; i++)
		l->reg[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		error_errno(err, "epoll_create1");
		free(l);
		return NULL;
	}
	return l;
}

void event_loop_destroy(struct event_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

static struct event_reg *event_loop_find(struct event_loop *l, int fd)
{
	for (unsigned i = 0; i < EVENT_LOOP_MAX_FDS; i++)
		if (l->reg[i].fd == fd)
			return &l->reg[i];
	return NULL;
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn fn, void *ctx,
		   struct error *err)
{
	if (fd < 0 || event_loop_find(l, fd))
		return error_set(err, ERR_RUNTIME, "event loop: descriptor %d cannot be added", fd);
	struct event_reg *r = event_loop_find(l, -1);
	if (!r)
		return error_set(err, ERR_RUNTIME, "event loop: more than %d descriptors",
				 EVENT_LOOP_MAX_FDS);
	struct epoll_event ev = { .events = events, .data.ptr = r };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return error_errno(err, "epoll_ctl add %d", fd);
	*r = (struct event_reg){ .fd = fd, .fn = fn, .ctx = ctx };
	return 0;
}

int event_loop_modify(struct event_loop *l, int fd, uint32_t events)
{
	struct event_reg *r = event_loop_find(l, fd);
	if (fd < 0 || !r)
		return -1;
	struct epoll_event ev = { .events = events, .data.ptr = r };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void event_loop_remove(struct event_loop *l, int fd)
{
	struct event_reg *r = fd >= 0 ? event_loop_find(l, fd) : NULL;
	if (!r)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*r = (struct event_reg){ .fd = -1 };
}

static int event_loop_dispatch(struct event_loop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct event_reg *r = evs[i].data.ptr;
		if (r->fd >= 0 && r->fn)
			r->fn(r->ctx, evs[i].events);
	}
	return n;
}

int event_loop_run(struct event_loop *l, struct error *err)
{
	while (!atomic_load(&l->quit)) {
		if (event_loop_dispatch(l, -1) < 0)
			return error_errno(err, "epoll_wait");
	}
	atomic_store(&l->quit, false); /* consumed: the loop can be run again */
	return 0;
}

int event_loop_poll(struct event_loop *l)
{
	int n = event_loop_dispatch(l, 0);
	return n < 0 ? 0 : n;
}

void event_loop_quit(struct event_loop *l)
{
	atomic_store(&l->quit, true);
}
