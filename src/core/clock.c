/* The host clock behind struct vm_clock, or the one a test installed, less the time the
 * monotonic clock stood still. */
#include "core/clock.h"

static int64_t source_ns(const struct vm_clock *c, clockid_t id)
{
	if (c && c->now_ns)
		return c->now_ns(c->ctx, id);
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t vm_clock_ns(const struct vm_clock *c, clockid_t id)
{
	if (!c || id != CLOCK_MONOTONIC)
		return source_ns(c, id);
	/* Stopped first: vm_clock_go publishes the new total before it clears stopped_at. */
	int64_t at = atomic_load(&c->stopped_at_plus1);
	if (at)
		return at - 1;
	return source_ns(c, id) - atomic_load(&c->stopped_total_ns);
}

void vm_clock_stop(struct vm_clock *c)
{
	if (atomic_load(&c->stopped_at_plus1))
		return;
	atomic_store(&c->stopped_at_plus1, vm_clock_ns(c, CLOCK_MONOTONIC) + 1);
}

void vm_clock_go(struct vm_clock *c)
{
	int64_t at = atomic_load(&c->stopped_at_plus1);
	if (!at)
		return;
	/* From here on the source reads on from where it stood: now - total == at - 1. */
	atomic_store(&c->stopped_total_ns, source_ns(c, CLOCK_MONOTONIC) - (at - 1));
	atomic_store(&c->stopped_at_plus1, 0);
}
