/* Console plumbing between the host terminal (or a file) and the guest's serial port. */
#include "core/console.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/term.h"
#include "core/event_loop.h"

int console_open(struct console *con, struct vm_stopper stop, const struct vm_config *cfg,
		 struct error *err)
{
	*con = (struct console){ .stop = stop, .kind = cfg->console, .out_fd = -1, .in_fd = -1,
				 .wake_efd = -1 };
	int out_fd = -1;
	uint64_t limit = 0;
	switch (cfg->console) {
	case CONSOLE_STDIO:
		/* A closed stdout reads as EBADF and the output is dropped (counted). */
		out_fd = fcntl(STDOUT_FILENO, F_GETFL) >= 0 ? STDOUT_FILENO : -1;
		con->in_fd = fcntl(STDIN_FILENO, F_GETFL) >= 0 ? STDIN_FILENO : -1;
		con->in_tty = con->in_fd >= 0 && term_raw_enter(STDIN_FILENO);
		break;
	case CONSOLE_FILE:
		out_fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0)
			return error_set(err, ERR_INPUT, "--console file:%s: %s", cfg->console_path,
					 strerror(errno));
		con->out_owned = true;
		limit = cfg->console_limit;
		break;
	case CONSOLE_NONE:
		break;
	}
	con->restore_at_exit = cfg->console == CONSOLE_STDIO;
	return console_attach_output(con, out_fd, limit, CONSOLE_RING_SIZE, err);
}

void console_close(struct console *con)
{
	/* Out of the loop first: the loop outlives the console (a VM that failed to build, the
	 * next VM on the same loop), and its descriptors' numbers will be reused. */
	if (con->loop) {
		if (con->in_fd >= 0)
			event_loop_remove(con->loop, con->in_fd);
		if (con->wake_efd >= 0)
			event_loop_remove(con->loop, con->wake_efd);
		if (con->out_waiting)
			event_loop_remove(con->loop, con->out_fd);
		con->loop = NULL;
	}
	console_flush(con);
	uint64_t lost = console_dropped(con);
	if (lost)
		fprintf(stderr, "hardy: console: %" PRIu64 " bytes of guest output dropped (%s)\n", lost,
			con->limit && con->written >= con->limit
				? "console limit reached"
				: "the console's reader did not keep up or went away");
	console_out_close(con);
	if (con->in_tty)
		term_restore();
	if (con->out_owned && con->out_fd >= 0)
		close(con->out_fd);
	con->out_fd = con->in_fd = -1;
}

static void console_say(struct console *con, const char *msg)
{
	if (con->out_fd >= 0)
		console_write(con, (const uint8_t *)msg, strlen(msg));
}

/* Ctrl-A x: quit; Ctrl-A a: a literal Ctrl-A; Ctrl-A h: help. Like QEMU's -nographic. */
static bool console_escape(struct console *con, uint8_t c)
{
	switch (c) {
	case 'x':
	case 'X':
		console_say(con, "\r\nhardy: terminated by Ctrl-A x\r\n");
		vm_stopper_request(&con->stop, VM_STOP_ESCAPE, NULL);
		return false;
	case 'h':
	case 'H':
	case '?':
		console_say(con, "\r\nC-a x  quit hardy\r\nC-a a  send C-a\r\nC-a h  this help\r\n");
		return false;
	default:
		return true; /* C-a C-a and C-a a send C-a itself */
	}
}

void console_read_input(struct console *con)
{
	uint8_t buf[256], out[256];
	ssize_t n = read(con->in_fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			con->in_fd = -1; /* EOF: no more input, the guest keeps running */
		return;
	}
	size_t len = 0;
	for (ssize_t i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (con->in_tty && con->escape_seen) {
			con->escape_seen = false;
			if (console_escape(con, c))
				out[len++] = CONSOLE_ESCAPE;
			continue;
		}
		if (con->in_tty && c == CONSOLE_ESCAPE) {
			con->escape_seen = true;
			continue;
		}
		out[len++] = c;
	}
	if (len && con->deliver)
		con->deliver(con->sink, out, len);
}

/* Input: what the reader types. At EOF the descriptor is dropped from the loop. */
static void console_on_input(void *ctx, uint32_t events)
{
	struct console *con = ctx;
	int fd = con->in_fd;
	console_read_input(con);
	if (con->in_fd < 0)
		event_loop_remove(con->loop, fd);
}

/* Output: drains the ring; while its consumer is slow, waits for EPOLLOUT instead. */
static void console_on_output(void *ctx, uint32_t events)
{
	struct console *con = ctx;
	uint64_t n;
	if (read(con->wake_efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already consumed; the flush below looks at the ring anyway. */
	}
	bool wait = console_flush(con) == 1;
	if (wait != con->out_waiting) {
		if (wait)
			event_loop_add(con->loop, con->out_fd, EPOLLOUT, console_on_output, con, NULL);
		else
			event_loop_remove(con->loop, con->out_fd);
		con->out_waiting = wait;
	}
}

int console_watch(struct console *con, struct event_loop *loop, struct error *err)
{
	con->loop = loop;
	/* A regular file or /dev/null cannot be watched (EPERM): it is no input then, as at EOF. */
	if (con->in_fd >= 0 &&
	    event_loop_add(loop, con->in_fd, EPOLLIN, console_on_input, con, NULL) < 0) {
		if (errno != EPERM)
			return error_errno(err, "console input");
		con->in_fd = -1;
	}
	if (con->wake_efd >= 0 &&
	    event_loop_add(loop, con->wake_efd, EPOLLIN, console_on_output, con, err) < 0)
		return -1;
	return 0;
}
