/* The PIT's timerfd (vm_pit.h). The main thread (expiry) and vCPU threads (reprogramming) both
 * arm it; d->lock makes "read the deadline, arm" one step, so the last arming is always at
 * the PIT's latest deadline. */
#include "vm/vm_pit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/event_loop.h"
#include "devices/x86/i8254.h"

/* A guest asking for a faster PIT gets its edges collapsed rather than a spinning loop. */
#define VM_PIT_MIN_WAIT_NS 50000

struct vm_pit {
	struct i8254 *pit;
	const struct vm_clock *clock;
	struct event_loop *loop;
	int tfd;
	pthread_mutex_t lock;
};

static void vm_pit_arm(struct vm_pit *d)
{
	pthread_mutex_lock(&d->lock);
	int64_t deadline = i8254_next_deadline(d->pit);
	struct itimerspec its = { 0 };
	if (deadline != INT64_MAX) {
		int64_t now = vm_clock_ns(d->clock, CLOCK_MONOTONIC);
		int64_t wait = deadline > now ? deadline - now : 0;
		if (wait < VM_PIT_MIN_WAIT_NS)
			wait = VM_PIT_MIN_WAIT_NS;
		its.it_value.tv_sec = wait / 1000000000;
		its.it_value.tv_nsec = wait % 1000000000;
	}
	timerfd_settime(d->tfd, 0, &its, NULL); /* cannot fail with a valid fd and value */
	pthread_mutex_unlock(&d->lock);
}

static void vm_pit_expired(void *ctx, uint32_t events)
{
	struct vm_pit *d = ctx;
	uint64_t n;
	if (read(d->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: a re-arm raced the wake-up; the advance below is harmless either way */
	}
	i8254_advance(d->pit, vm_clock_ns(d->clock, CLOCK_MONOTONIC));
	vm_pit_arm(d);
}

static void vm_pit_reprogrammed(void *ctx)
{
	vm_pit_arm(ctx);
}

struct vm_pit *vm_pit_start(struct i8254 *pit, const struct vm_clock *clock,
			    struct event_loop *loop, struct error *err)
{
	struct vm_pit *d = calloc(1, sizeof(*d));
	if (!d) {
		error_errno(err, "out of memory");
		return NULL;
	}
	d->pit = pit;
	d->clock = clock;
	d->loop = loop;
	pthread_mutex_init(&d->lock, NULL);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->tfd < 0) {
		error_errno(err, "timerfd_create (the PIT's clock)");
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	if (event_loop_add(loop, d->tfd, EPOLLIN, vm_pit_expired, d, err) < 0) {
		close(d->tfd);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	i8254_on_reprogram(pit, vm_pit_reprogrammed, d);
	vm_pit_arm(d);
	return d;
}

void vm_pit_stop(struct vm_pit *d)
{
	if (!d)
		return;
	i8254_on_reprogram(d->pit, NULL, NULL);
	event_loop_remove(d->loop, d->tfd);
	close(d->tfd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
