/* Main-thread event loop over epoll. SIGTERM and SIGINT press the ACPI power button once and arm
 * a timer; the timer or a second such signal stops the VM hard. SIGHUP and SIGQUIT stop it hard
 * at once. Console input goes to the serial port; guest output is drained from the console's
 * ring to its descriptor without blocking (EPOLLOUT while the consumer is slow), so that nothing
 * the console's reader does can delay a signal. */
#include "vm/event_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/devices.h"
#include "vm/console.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

enum { EV_STOP, EV_SIGNAL, EV_CONSOLE, EV_TIMER, EV_OUT_READY, EV_OUT_WRITABLE };

static void loop_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

void event_loop_block_signals(void)
{
	sigset_t set;
	loop_signal_set(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed console must not kill the VM */
}

struct loop {
	struct vm *vm;
	int epfd, sigfd, timerfd;
	bool button_pressed;
	bool out_waiting; /* watching the console's out_fd for EPOLLOUT */
};

static void loop_add(struct loop *l, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)tag };
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Drains the console's ring; while its consumer is slow, wait for EPOLLOUT instead. */
static void loop_on_output(struct loop *l, int tag)
{
	struct console *con = l->vm->console;
	if (tag == EV_OUT_READY) {
		uint64_t n;
		if (read(con->wake_efd, &n, sizeof(n)) < 0) {
			/* EAGAIN: already consumed; the flush below looks at the ring anyway. */
		}
	}
	bool wait = console_flush(con) == 1;
	if (wait != l->out_waiting) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = EV_OUT_WRITABLE };
		epoll_ctl(l->epfd, wait ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, con->out_fd, &ev);
		l->out_waiting = wait;
	}
}

static void loop_on_signal(struct loop *l)
{
	struct signalfd_siginfo si;
	if (read(l->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	int sig = (int)si.ssi_signo;
	if ((sig == SIGTERM || sig == SIGINT) && !l->button_pressed) {
		l->button_pressed = true;
		acpi_pm_press_power_button(l->vm->acpi_pm);
		struct itimerspec t = { .it_value.tv_sec = HARDY_SHUTDOWN_TIMEOUT_S };
		timerfd_settime(l->timerfd, 0, &t, NULL);
		return;
	}
	char msg[96];
	snprintf(msg, sizeof(msg), "stopped by %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal");
	vm_request_stop(l->vm, VM_STOP_KILLED, msg);
}

static void loop_on_timer(struct loop *l)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "the guest did not power off within %d s of the power button; "
		 "stopped it", HARDY_SHUTDOWN_TIMEOUT_S);
	vm_request_stop(l->vm, VM_STOP_KILLED, msg);
}

void event_loop_run(struct vm *vm)
{
	struct loop l = { .vm = vm, .epfd = -1, .sigfd = -1, .timerfd = -1 };
	sigset_t set;
	loop_signal_set(&set);
	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	l.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	l.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l.epfd < 0 || l.sigfd < 0 || l.timerfd < 0) {
		vm_request_stop(vm, VM_STOP_ERROR, "cannot set up the event loop");
		goto out;
	}
	loop_add(&l, vm->stop_efd, EV_STOP);
	loop_add(&l, l.sigfd, EV_SIGNAL);
	loop_add(&l, l.timerfd, EV_TIMER);
	int console_fd = vm->console->in_fd;
	if (console_fd >= 0)
		loop_add(&l, console_fd, EV_CONSOLE);
	if (vm->console->wake_efd >= 0)
		loop_add(&l, vm->console->wake_efd, EV_OUT_READY);

	while (!vm_stopping(vm)) {
		struct epoll_event evs[8];
		int n = epoll_wait(l.epfd, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			vm_request_stop(vm, VM_STOP_ERROR, "epoll_wait failed");
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_STOP: break;
			case EV_SIGNAL: loop_on_signal(&l); break;
			case EV_TIMER: loop_on_timer(&l); break;
			case EV_OUT_READY:
			case EV_OUT_WRITABLE: loop_on_output(&l, (int)evs[i].data.u32); break;
			case EV_CONSOLE:
				console_read_input(vm->console);
				if (vm->console->in_fd < 0) /* EOF: stop watching it */
					epoll_ctl(l.epfd, EPOLL_CTL_DEL, console_fd, NULL);
				break;
			}
		}
	}
out:
	if (l.timerfd >= 0) close(l.timerfd);
	if (l.sigfd >= 0) close(l.sigfd);
	if (l.epfd >= 0) close(l.epfd);
}
