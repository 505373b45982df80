/* The console's output path: a bounded ring filled by vCPU threads and drained by the main
 * thread without blocking, so that no consumer (a full pipe, a terminal stopped with Ctrl-S, a
 * closed descriptor, a size-limited file) can stop a vCPU or the VM's shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/console.h"

/* Regular files (and /dev/null) never make write() wait on a consumer and cannot be polled. */
static bool fd_is_pollable(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return false;
	struct epoll_event ev = { .events = EPOLLOUT };
	bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	close(ep);
	return ok;
}

int console_attach_output(struct console *con, int out_fd, uint64_t limit, size_t ring_size,
			  struct error *err)
{
	pthread_mutex_init(&con->out_lock, NULL);
	con->out_fd = out_fd;
	con->limit = limit;
	con->out_flags_saved = -1;
	con->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	con->ring_size = ring_size ? ring_size : 1;
	con->ring = malloc(con->ring_size);
	if (con->wake_efd < 0 || !con->ring)
		return error_errno(err, "console output buffer");
	if (out_fd < 0)
		return 0;
	con->out_pollable = fd_is_pollable(out_fd);
	if (con->out_pollable) {
		/* Shared with whoever gave us the descriptor: the flags go back at close (hardy's
		 * stdout: at exit, see console_restore_at_exit). */
		int fl = fcntl(out_fd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(out_fd, F_SETFL, fl | O_NONBLOCK) == 0)
			con->out_flags_saved = fl;
	}
	return 0;
}

void console_write(struct console *con, const uint8_t *buf, size_t len)
{
	if (!con->ring || len == 0)
		return;
	pthread_mutex_lock(&con->out_lock);
	bool was_empty = con->ring_len == 0;
	size_t room = con->ring_size - con->ring_len;
	size_t n = (con->out_dead || con->out_fd < 0) ? 0 : (len < room ? len : room);
	size_t tail = (con->ring_head + con->ring_len) % con->ring_size;
	size_t first = n < con->ring_size - tail ? n : con->ring_size - tail;
	memcpy(con->ring + tail, buf, first);
	memcpy(con->ring, buf + first, n - first);
	con->ring_len += n;
	if (con->out_fd >= 0)
		con->dropped += len - n;
	pthread_mutex_unlock(&con->out_lock);
	if (was_empty && n) {
		uint64_t one = 1;
		if (write(con->wake_efd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is already non-zero, so the loop will wake anyway. */
		}
	}
}

/* Drops what the ring holds and anything later: the consumer is gone or the limit was hit. */
static void console_out_kill(struct console *con)
{
	pthread_mutex_lock(&con->out_lock);
	con->dropped += con->ring_len;
	con->ring_len = 0;
	con->out_dead = true;
	pthread_mutex_unlock(&con->out_lock);
}

static void console_out_limit_hit(struct console *con)
{
	char note[160];
	int n = snprintf(note, sizeof(note),
			 "\n[hardy: console limit of %" PRIu64 " bytes reached; "
			 "further output is dropped]\n", con->limit);
	if (write(con->out_fd, note, (size_t)n) < 0) {
		/* Nothing more to do: the output is dropped from here on either way. */
	}
	console_out_kill(con);
}

int console_flush(struct console *con)
{
	if (!con->ring || con->out_fd < 0)
		return 0;
	for (;;) {
		pthread_mutex_lock(&con->out_lock);
		size_t len = con->ring_len, head = con->ring_head;
		bool dead = con->out_dead;
		pthread_mutex_unlock(&con->out_lock);
		if (len == 0 || dead)
			return 0;
		/* Writers only append past head+len, so these bytes stay put without the lock. */
		size_t n = len < con->ring_size - head ? len : con->ring_size - head;
		if (con->limit) {
			if (con->written >= con->limit) {
				console_out_limit_hit(con);
				return 0;
			}
			if (n > con->limit - con->written)
				n = (size_t)(con->limit - con->written);
		}
		ssize_t w = write(con->out_fd, con->ring + head, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && con->out_pollable)
			return 1;
		if (w <= 0) {
			console_out_kill(con); /* EPIPE, EBADF, EIO, ENOSPC: nobody will read it */
			return 0;
		}
		con->written += (uint64_t)w;
		pthread_mutex_lock(&con->out_lock);
		con->ring_head = (con->ring_head + (size_t)w) % con->ring_size;
		con->ring_len -= (size_t)w;
		pthread_mutex_unlock(&con->out_lock);
	}
}

uint64_t console_dropped(struct console *con)
{
	if (!con->ring)
		return 0;
	pthread_mutex_lock(&con->out_lock);
	uint64_t lost = con->dropped + con->ring_len;
	pthread_mutex_unlock(&con->out_lock);
	return lost;
}

/* hardy's stdout may share its file description with stderr (2>&1 into a stuck pipe, or a
 * stopped terminal): its blocking mode comes back only at process exit, after the last
 * message, so that no message can block the exit. One slot: a process has one stdout. */
static int exit_restore_fd = -1, exit_restore_flags;

static void console_restore_at_exit(void)
{
	if (exit_restore_fd >= 0)
		fcntl(exit_restore_fd, F_SETFL, exit_restore_flags);
}

/* One last pass without blocking, then the descriptor's flags as they were. */
void console_out_close(struct console *con)
{
	if (!con->ring)
		return;
	console_flush(con);
	if (con->out_flags_saved >= 0 && con->restore_at_exit && exit_restore_fd < 0) {
		exit_restore_fd = con->out_fd;
		exit_restore_flags = con->out_flags_saved;
		atexit(console_restore_at_exit);
	} else if (con->out_flags_saved >= 0) {
		fcntl(con->out_fd, F_SETFL, con->out_flags_saved);
	}
	if (con->wake_efd >= 0)
		close(con->wake_efd);
	pthread_mutex_destroy(&con->out_lock);
	free(con->ring);
	con->ring = NULL;
	con->wake_efd = -1;
}
