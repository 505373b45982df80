/* Test helper code shared by tests/host-bin/ and tests/guest-bin/ programs (header-only: each
 * program is one static binary): relay_stream() copies stdin to a connected socket and the
 * socket to stdout at the same time, so an echo never deadlocks on full buffers; at stdin's
 * end it shuts the socket's write side and keeps reading until the peer's end. */
#ifndef HARDY_TESTS_STREAM_RELAY_H
#define HARDY_TESTS_STREAM_RELAY_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0 when both directions ended cleanly; *sent and *got count the bytes. */
static inline int relay_stream(int sock, unsigned long long *sent, unsigned long long *got)
{
	static char out[65536], in[65536];
	size_t out_len = 0, out_off = 0;
	int in_open = 1, sock_open = 1;
	*sent = *got = 0;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	while (sock_open) {
		struct pollfd p[2] = {
			{ .fd = sock, .events = POLLIN | (out_len > out_off ? POLLOUT : 0) },
			{ .fd = in_open && out_len == out_off ? 0 : -1, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			ssize_t r = read(0, out, sizeof(out));
			if (r <= 0) {
				in_open = 0;
				shutdown(sock, SHUT_WR);
			} else {
				out_len = (size_t)r;
				out_off = 0;
			}
		}
		if (out_len > out_off && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = send(sock, out + out_off, out_len - out_off, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				perror("relay: send");
				return -1;
			}
			if (w > 0) {
				out_off += (size_t)w;
				*sent += (unsigned long long)w;
			}
		}
		if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t r = recv(sock, in, sizeof(in), 0);
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				perror("relay: recv");
				return -1;
			}
			if (r == 0)
				sock_open = 0;
			if (r > 0) {
				if (write_all(1, in, (size_t)r) < 0)
					return -1;
				*got += (unsigned long long)r;
			}
		}
	}
	return in_open ? -1 : 0; /* the peer ended before we had sent everything */
}

/* Echoes a connected socket until its end, then closes it. */
static inline void echo_stream(int fd)
{
	static char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || write_all(fd, buf, (size_t)r) < 0)
			break;
	}
	close(fd);
}

#endif
