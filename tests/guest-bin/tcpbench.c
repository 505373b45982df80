/* tcpbench: one TCP stream, one direction, for the network benchmark (bench/virtio-net.sh).
 * Static, so the same binary runs in the guest and on the host side (or the nested L1).
 *
 *   tcpbench listen PORT [send BYTES]      accept one connection
 *   tcpbench connect IPV4 PORT [send BYTES]
 *
 * With `send BYTES` this side writes BYTES (128 KiB writes) and closes; otherwise it reads until
 * EOF. The receiver prints the rate, timed from its first byte to EOF:
 *   tcpbench: received BYTES bytes in SECONDS s: MBPS MB/s
 * The sender prints how long its writes took. Exit status 0 only when the whole stream crossed
 * (the receiver checks the byte count against the sender's `send` only through the report). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

static char buf[CHUNK];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	return 1;
}

static int do_send(int fd, unsigned long long bytes)
{
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 131 + 7);
	double t0 = now_s();
	unsigned long long left = bytes;
	while (left) {
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return die("write");
		}
		left -= (unsigned long long)w;
	}
	shutdown(fd, SHUT_WR);
	/* Wait for the receiver to close, so the time covers delivery, not just buffering. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	double secs = now_s() - t0;
	printf("tcpbench: sent %llu bytes in %.3f s: %.1f MB/s\n", bytes, secs,
	       secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
	return 0;
}

static int do_receive(int fd)
{
	unsigned long long total = 0;
	double t0 = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return die("read");
		}
		if (r == 0)
			break;
		if (total == 0)
			t0 = now_s();
		total += (unsigned long long)r;
	}
	double secs = total ? now_s() - t0 : 0;
	printf("tcpbench: received %llu bytes in %.3f s: %.1f MB/s\n", total, secs,
	       secs > 0 ? (double)total / secs / 1e6 : 0.0);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: tcpbench listen PORT [send BYTES] | connect HOST PORT [send BYTES]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int fd, argi;
	if (argc >= 3 && strcmp(argv[1], "listen") == 0) {
		int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		if (ls < 0)
			return die("socket");
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
		if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0)
			return die("bind/listen");
		printf("tcpbench: listening on %s\n", argv[2]);
		fflush(stdout);
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			return die("accept");
		close(ls);
		argi = 3;
	} else if (argc >= 4 && strcmp(argv[1], "connect") == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
			fprintf(stderr, "tcpbench: %s is not an IPv4 address\n", argv[2]);
			return 2;
		}
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("connect");
		argi = 4;
	} else {
		return usage();
	}
	if (argc == argi + 2 && strcmp(argv[argi], "send") == 0)
		return do_send(fd, strtoull(argv[argi + 1], NULL, 0));
	if (argc != argi)
		return usage();
	return do_receive(fd);
}
