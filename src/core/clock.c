/* The host clock behind struct vm_clock, or the one a test installed. */
#include "core/clock.h"

int64_t vm_clock_ns(const struct vm_clock *c, clockid_t id)
{
	if (c && c->now_ns)
		return c->now_ns(c->ctx, id);
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
