/* Test helper: a host client of hardy's vsock Unix socket. Usage: uds-vsock-cat PATH PORT.
 * Connects to PATH, writes "CONNECT PORT\n", expects "OK <hostport>\n" (printed on stderr),
 * then copies stdin to the guest's port and what comes back to stdout. Exit 3 when the
 * connection was refused (closed without OK), 1 on any other failure. */
#include <stdlib.h>
#include <sys/un.h>

#include "stream_relay.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: uds-vsock-cat PATH PORT\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("uds-vsock-cat: connect");
		return 1;
	}
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %s\n", argv[2]);
	if (write_all(fd, line, (size_t)n) < 0) {
		perror("uds-vsock-cat: write");
		return 1;
	}
	/* The answer line, byte by byte so that no data after it is taken. */
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		ssize_t r = read(fd, line + len, 1);
		if (r <= 0) {
			fprintf(stderr, "uds-vsock-cat: refused (closed before OK)\n");
			return 3;
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	unsigned port;
	if (sscanf(line, "OK %u", &port) != 1) {
		fprintf(stderr, "uds-vsock-cat: unexpected answer '%s'\n", line);
		return 1;
	}
	fprintf(stderr, "%s", line);
	unsigned long long sent, got;
	int r = relay_stream(fd, &sent, &got);
	fprintf(stderr, "uds-vsock-cat: sent %llu got %llu\n", sent, got);
	return r < 0 ? 1 : 0;
}
