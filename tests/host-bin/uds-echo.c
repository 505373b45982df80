/* Test helper: a Unix socket echo server, the host side of a guest's vsock connection to
 * CID 2 (hardy connects to PATH_<port>). Usage: uds-echo PATH ; prints "listening" once
 * ready, echoes every connection (one process each) until it is killed. */
#include <signal.h>
#include <stdlib.h>
#include <sys/un.h>

#include "stream_relay.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: uds-echo PATH\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		perror("uds-echo");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			echo_stream(c);
			_exit(0);
		}
		close(c);
	}
}
