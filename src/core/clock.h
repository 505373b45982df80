/* Time as devices see it: the host's clocks, unless a test or the fuzzer installs its own, so
 * that time can be stepped (and made hostile: far future, before 1970) without waiting. */
#ifndef HARDY_CORE_CLOCK_H
#define HARDY_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

struct vm_clock {
	/* Nanoseconds on clock id (CLOCK_REALTIME or CLOCK_MONOTONIC); NULL: the host's clocks. */
	int64_t (*now_ns)(void *ctx, clockid_t id);
	void *ctx;
};

int64_t vm_clock_ns(const struct vm_clock *c, clockid_t id);

#endif
