/* Time as devices see it: the host's clocks, unless a test or the fuzzer installs its own, so
 * that time can be stepped (and made hostile: far future, before 1970) without waiting.
 *
 * The monotonic clock can stand still (vm_clock_stop/vm_clock_go): a backend whose guest TSC
 * and timers all run on this clock (soft) stops guest time while the VM is paused, as QEMU's
 * virtual clock does, so a resumed guest sees no jump to call a lockup. CLOCK_REALTIME (the
 * RTC's wall clock) always goes on. */
#ifndef HARDY_CORE_CLOCK_H
#define HARDY_CORE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

struct vm_clock {
	/* Nanoseconds on clock id (CLOCK_REALTIME or CLOCK_MONOTONIC); NULL: the host's clocks. */
	int64_t (*now_ns)(void *ctx, clockid_t id);
	void *ctx;
	/* Monotonic time it stood still, in total; while it stands, the reading it shows + 1
	 * (0: running). Written only by vm_clock_stop/go, which one thread calls in turn. */
	_Atomic int64_t stopped_total_ns;
	_Atomic int64_t stopped_at_plus1;
};

int64_t vm_clock_ns(const struct vm_clock *c, clockid_t id);

/* Stops / restarts CLOCK_MONOTONIC as vm_clock_ns reports it; each is a no-op when the clock
 * already stands / runs. Readers on other threads never see it go backwards. */
void vm_clock_stop(struct vm_clock *c);
void vm_clock_go(struct vm_clock *c);

#endif
