/* api-hostile SOCK N SECONDS: hostile clients of an HTTP server on a Unix socket, for the API
 * tests: three that stall inside their headers, one that half-closes mid-headers, one that
 * vanishes mid-body, and a flood of N connections that each send half a request line; all held
 * open for SECONDS, then closed. Prints how many connections it opened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void say(int fd, const char *s)
{
	if (fd >= 0 && send(fd, s, strlen(s), MSG_NOSIGNAL) < 0)
		return;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: api-hostile SOCK N SECONDS\n");
		return 2;
	}
	int n = atoi(argv[2]), secs = atoi(argv[3]), opened = 0;
	int *fds = calloc((size_t)n + 5, sizeof(int));
	if (!fds)
		return 1;
	for (int i = 0; i < 3; i++) {
		fds[i] = dial(argv[1]);
		say(fds[i], "PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Len");
	}
	fds[3] = dial(argv[1]);
	say(fds[3], "PUT /boot-source HTTP/1.1\r\nHo");
	if (fds[3] >= 0)
		shutdown(fds[3], SHUT_WR);
	fds[4] = dial(argv[1]);
	say(fds[4], "PUT /logger HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"lo");
	if (fds[4] >= 0)
		close(fds[4]);
	fds[4] = -1;
	for (int i = 5; i < n + 5; i++) {
		fds[i] = dial(argv[1]);
		say(fds[i], "GET / HTTP/1.1\r\n");
	}
	for (int i = 0; i < n + 5; i++)
		opened += fds[i] >= 0;
	printf("api-hostile: %d connections open\n", opened);
	fflush(stdout);
	sleep((unsigned)secs);
	for (int i = 0; i < n + 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}
