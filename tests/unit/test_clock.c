/* struct vm_clock: a stopped monotonic clock stands, goes on from where it stood, never runs
 * backwards; the wall clock never stops. */
#include "check.h"
#include "core/clock.h"

struct fake_time {
	int64_t mono, real;
};

static int64_t fake_now(void *ctx, clockid_t id)
{
	struct fake_time *t = ctx;
	return id == CLOCK_MONOTONIC ? t->mono : t->real;
}

int main(void)
{
	struct fake_time t = { .mono = 1000, .real = 5000 };
	struct vm_clock c = { .now_ns = fake_now, .ctx = &t };

	SECTION("a running clock reads its source");
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1000, "mono");
	CHECK(vm_clock_ns(&c, CLOCK_REALTIME) == 5000, "real");

	SECTION("stopped: the monotonic clock stands, the wall clock goes on");
	vm_clock_stop(&c);
	t.mono += 22000;
	t.real += 22000;
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1000, "stood at %lld",
	      (long long)vm_clock_ns(&c, CLOCK_MONOTONIC));
	CHECK(vm_clock_ns(&c, CLOCK_REALTIME) == 27000, "the wall clock went on");
	vm_clock_stop(&c); /* a second stop changes nothing */
	t.mono += 500;
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1000, "still standing");

	SECTION("go: it continues from where it stood, without the stopped time");
	vm_clock_go(&c);
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1000, "no jump: %lld",
	      (long long)vm_clock_ns(&c, CLOCK_MONOTONIC));
	t.mono += 7;
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1007, "runs on");
	vm_clock_go(&c); /* a second go changes nothing */
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1007, "unchanged");

	SECTION("a second pause adds to the first");
	vm_clock_stop(&c);
	t.mono += 100000;
	vm_clock_go(&c);
	t.mono += 3;
	CHECK(vm_clock_ns(&c, CLOCK_MONOTONIC) == 1010, "%lld",
	      (long long)vm_clock_ns(&c, CLOCK_MONOTONIC));

	SECTION("the host's clocks (no source installed) stop too");
	struct vm_clock h = { 0 };
	int64_t a = vm_clock_ns(&h, CLOCK_MONOTONIC);
	vm_clock_stop(&h);
	int64_t s = vm_clock_ns(&h, CLOCK_MONOTONIC);
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	CHECK(vm_clock_ns(&h, CLOCK_MONOTONIC) == s && s >= a, "stood");
	vm_clock_go(&h);
	int64_t b = vm_clock_ns(&h, CLOCK_MONOTONIC);
	CHECK(b >= s && b - s < 15 * 1000 * 1000, "went on from %lld: %lld", (long long)s,
	      (long long)b);
	CHECK(vm_clock_ns(NULL, CLOCK_MONOTONIC) > 0, "no clock: the host's");
	puts("test_clock: ok");
	return 0;
}
