/* Guest test program: an AF_VSOCK echo server. Usage: vsock-echo PORT COUNT ; listens on
 * PORT, prints "vsock-echo: listening on PORT", echoes COUNT connections (one process each,
 * so they run at once) and exits when all of them ended. */
#include <linux/vm_sockets.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../host-bin/stream_relay.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vsock-echo PORT COUNT\n");
		return 2;
	}
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = (unsigned)atoi(argv[1]) };
	int count = atoi(argv[2]);
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		perror("vsock-echo");
		return 1;
	}
	printf("vsock-echo: listening on %s\n", argv[1]);
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			perror("vsock-echo: accept");
			return 1;
		}
		if (fork() == 0) {
			close(fd);
			echo_stream(c);
			_exit(0);
		}
		close(c);
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
