/* Unit test: the device model's seams without any VM: the device list (creation order for
 * walks, newest first for teardown, command-line words joined and bounded), the resource
 * allocator (alignment, exhaustion), and the event loop's registrations (dispatch, removal in
 * the middle of a batch, quit). */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "check.h"
#include "fake_services.h"
#include "core/event_loop.h"

struct probe {
	struct device dev;
	int id;
	int *log;     /* destroy order */
	int *log_len;
	int resets;
};

static void probe_destroy(struct device *d)
{
	struct probe *p = (struct probe *)d;
	p->log[(*p->log_len)++] = p->id;
}

static void probe_reset(struct device *d)
{
	((struct probe *)d)->resets++;
}

static int probe_cmdline(struct device *d, char *buf, size_t cap)
{
	return snprintf(buf, cap, "probe.%d=1", ((struct probe *)d)->id);
}

static const struct device_ops probe_ops = {
	.name = "probe", .reset = probe_reset, .destroy = probe_destroy, .cmdline = probe_cmdline,
};

static void test_device_list(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	int log[4], log_len = 0;
	struct probe *p[3];
	for (int i = 0; i < 3; i++) {
		p[i] = device_new(&f.svc, sizeof(struct probe), &probe_ops, &err);
		CHECK(p[i], "device_new: %s", err.msg);
		*p[i] = (struct probe){ .dev = p[i]->dev, .id = i, .log = log, .log_len = &log_len };
	}

	SECTION("reset reaches every device once");
	device_list_reset(&f.devices);
	for (int i = 0; i < 3; i++)
		CHECK(p[i]->resets == 1, "device %d reset %d times", i, p[i]->resets);

	SECTION("command-line words follow the user's, in creation order");
	char buf[64];
	CHECK(device_list_cmdline(&f.devices, "console=ttyS0", buf, sizeof(buf), &err) == 0,
	      "%s", err.msg);
	CHECK(!strcmp(buf, "console=ttyS0 probe.0=1 probe.1=1 probe.2=1"), "got '%s'", buf);
	CHECK(device_list_cmdline(&f.devices, NULL, buf, sizeof(buf), &err) == 0, "%s", err.msg);
	CHECK(!strcmp(buf, "probe.0=1 probe.1=1 probe.2=1"), "got '%s'", buf);

	SECTION("a command line that overflows is refused, not cut");
	char small[24];
	CHECK(device_list_cmdline(&f.devices, "console=ttyS0", small, sizeof(small), &err) < 0,
	      "overflow accepted");
	CHECK(err.status == ERR_INPUT, "status %d", err.status);

	SECTION("teardown runs newest first and empties the list");
	fake_env_destroy(&f);
	CHECK(log_len == 3 && log[0] == 2 && log[1] == 1 && log[2] == 0, "order %d %d %d",
	      log[0], log[1], log[2]);
	CHECK(!f.devices.head && !f.devices.tail, "list not empty");
	device_list_destroy(&f.devices); /* twice is harmless */
}

static void test_resources(void)
{
	struct resources r;
	struct error err = { 0 };
	resources_init(&r, 0xC0000100ULL, 0xC0010000ULL, 16, 18, 24, 28);
	uint64_t a, b;

	SECTION("MMIO windows are aligned and do not overlap");
	CHECK(resources_mmio(&r, 0x1000, 0x1000, &a, &err) == 0 && a == 0xC0001000ULL,
	      "first window at 0x%llx", (unsigned long long)a);
	CHECK(resources_mmio(&r, 0x100, 0x4000, &b, &err) == 0 && b == 0xC0004000ULL,
	      "second window at 0x%llx", (unsigned long long)b);
	CHECK(resources_mmio(&r, 0x1000, 0x1000, &b, &err) == 0 && b == 0xC0005000ULL,
	      "third window at 0x%llx", (unsigned long long)b);

	SECTION("the hole runs out cleanly; bad alignment is refused");
	CHECK(resources_mmio(&r, 0x100000, 0x1000, &b, &err) < 0, "window past the end");
	err = (struct error){ 0 };
	CHECK(resources_mmio(&r, ~0ULL, 0x1000, &b, &err) < 0, "huge window");
	err = (struct error){ 0 };
	CHECK(resources_mmio(&r, 0x1000, 0x3000, &b, &err) < 0, "alignment not a power of two");
	err = (struct error){ 0 };
	CHECK(resources_mmio(&r, 0x1000, 1ULL << 63, &b, &err) < 0, "alignment past the end");
	err = (struct error){ 0 };

	SECTION("GSIs and MSI vectors are handed out once each, then refused");
	unsigned g1, g2, g3, m1, m2;
	CHECK(resources_gsi(&r, &g1, &err) == 0 && resources_gsi(&r, &g2, &err) == 0 &&
	      g1 == 16 && g2 == 17, "gsi %u %u", g1, g2);
	CHECK(resources_gsi(&r, &g3, &err) < 0, "a third GSI from two");
	err = (struct error){ 0 };
	CHECK(resources_msi(&r, 3, &m1, &err) == 0 && m1 == 24, "msi %u", m1);
	CHECK(resources_msi(&r, 2, &m2, &err) < 0, "MSI past the end");
	err = (struct error){ 0 };
	CHECK(resources_msi(&r, 1, &m2, &err) == 0 && m2 == 27, "msi %u", m2);
	CHECK(resources_msi(&r, 0, &m2, &err) < 0, "zero vectors");
}

struct counter {
	int fd;
	int calls;
	struct event_loop *loop;
	int remove_fd; /* a callback that removes another descriptor */
	bool quit;
};

static void counter_cb(void *ctx, uint32_t events)
{
	struct counter *c = ctx;
	uint64_t n;
	if (read(c->fd, &n, sizeof(n)) < 0) {
		/* spurious wake-ups are allowed */
	}
	c->calls++;
	if (c->remove_fd >= 0)
		event_loop_remove(c->loop, c->remove_fd);
	if (c->quit)
		event_loop_quit(c->loop);
}

static void test_event_loop(void)
{
	struct error err = { 0 };
	struct event_loop *l = event_loop_create(&err);
	CHECK(l, "event_loop_create: %s", err.msg);
	uint64_t one = 1;
	struct counter a = { .fd = eventfd(0, EFD_NONBLOCK), .loop = l, .remove_fd = -1 };
	struct counter b = { .fd = eventfd(0, EFD_NONBLOCK), .loop = l, .remove_fd = -1 };

	SECTION("a registered descriptor's callback runs with its context");
	CHECK(event_loop_add(l, a.fd, EPOLLIN, counter_cb, &a, &err) == 0, "%s", err.msg);
	CHECK(event_loop_add(l, b.fd, EPOLLIN, counter_cb, &b, &err) == 0, "%s", err.msg);
	CHECK(event_loop_add(l, a.fd, EPOLLIN, counter_cb, &a, &err) < 0, "added twice");
	err = (struct error){ 0 };
	CHECK(event_loop_poll(l) == 0, "callbacks with nothing ready");
	CHECK(write(a.fd, &one, 8) == 8, "write");
	CHECK(event_loop_poll(l) == 1 && a.calls == 1 && b.calls == 0, "a %d b %d", a.calls,
	      b.calls);

	SECTION("a descriptor removed by another callback in the same batch is skipped");
	a.remove_fd = b.fd;
	b.remove_fd = a.fd;
	CHECK(write(a.fd, &one, 8) == 8 && write(b.fd, &one, 8) == 8, "write");
	event_loop_poll(l);
	CHECK(a.calls + b.calls == 2, "not exactly one ran: a %d b %d", a.calls, b.calls);
	event_loop_remove(l, a.fd);
	event_loop_remove(l, b.fd);
	CHECK(write(a.fd, &one, 8) == 8 && write(b.fd, &one, 8) == 8, "write");
	CHECK(event_loop_poll(l) == 0, "a removed descriptor still fires");
	int a_before = a.calls;

	SECTION("quit from a callback ends run");
	a.remove_fd = -1;
	a.quit = true;
	CHECK(event_loop_add(l, a.fd, EPOLLIN, counter_cb, &a, &err) == 0, "%s", err.msg);
	CHECK(event_loop_run(l, &err) == 0, "%s", err.msg);
	CHECK(a.calls == a_before + 1, "a %d", a.calls);

	SECTION("the table is bounded");
	int fds[EVENT_LOOP_MAX_FDS];
	int added = 1;
	for (int i = 0; i < EVENT_LOOP_MAX_FDS; i++) {
		fds[i] = eventfd(0, EFD_NONBLOCK);
		if (event_loop_add(l, fds[i], EPOLLIN, counter_cb, &a, &err) == 0)
			added++;
	}
	CHECK(added == EVENT_LOOP_MAX_FDS, "%d registrations", added);
	CHECK(err.status != ERR_OK, "overflow not reported");
	for (int i = 0; i < EVENT_LOOP_MAX_FDS; i++)
		close(fds[i]);
	event_loop_destroy(l);
	close(a.fd);
	close(b.fd);
}

int main(void)
{
	test_device_list();
	test_resources();
	test_event_loop();
	puts("test_device_model: all passed");
	return 0;
}
