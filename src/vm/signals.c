/* Signal handling for a running VM, registered on the event loop like any other descriptor. */
#include "vm/signals.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/config.h"
#include "core/event_loop.h"

static void vm_signals_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

void vm_signals_block(void)
{
	sigset_t set;
	vm_signals_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed console must not kill the VM */
}

static void vm_signals_on_signal(void *ctx, uint32_t events)
{
	struct vm_signals *s = ctx;
	struct signalfd_siginfo si;
	if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	int sig = (int)si.ssi_signo;
	if ((sig == SIGTERM || sig == SIGINT) && !s->button_pressed && s->power_button) {
		s->button_pressed = true;
		s->power_button(s->power_button_ctx);
		struct itimerspec t = { .it_value.tv_sec = HARDY_SHUTDOWN_TIMEOUT_S };
		timerfd_settime(s->timerfd, 0, &t, NULL);
		return;
	}
	char msg[96];
	snprintf(msg, sizeof(msg), "stopped by %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal");
	vm_stopper_request(&s->stop, VM_STOP_KILLED, msg);
}

static void vm_signals_on_timer(void *ctx, uint32_t events)
{
	struct vm_signals *s = ctx;
	uint64_t n;
	if (read(s->timerfd, &n, sizeof(n)) < 0)
		return; /* spurious wake-up */
	char msg[96];
	snprintf(msg, sizeof(msg), "the guest did not power off within %d s of the power button; "
		 "stopped it", HARDY_SHUTDOWN_TIMEOUT_S);
	vm_stopper_request(&s->stop, VM_STOP_KILLED, msg);
}

int vm_signals_watch(struct vm_signals *s, struct event_loop *loop, struct error *err)
{
	sigset_t set;
	vm_signals_set(&set);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->sigfd < 0 || s->timerfd < 0)
		return error_errno(err, "signalfd/timerfd");
	if (event_loop_add(loop, s->sigfd, EPOLLIN, vm_signals_on_signal, s, err) < 0 ||
	    event_loop_add(loop, s->timerfd, EPOLLIN, vm_signals_on_timer, s, err) < 0)
		return -1;
	return 0;
}

void vm_signals_close(struct vm_signals *s)
{
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	s->sigfd = s->timerfd = -1;
}
