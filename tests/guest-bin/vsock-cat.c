/* Guest test program: an AF_VSOCK client. Usage: vsock-cat CID PORT ; connects, copies stdin
 * to the peer and what comes back to stdout. Exit 3 when the connection is refused, 1 on any
 * other failure. */
#include <linux/vm_sockets.h>
#include <stdlib.h>

#include "../host-bin/stream_relay.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vsock-cat CID PORT\n");
		return 2;
	}
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = (unsigned)atoi(argv[1]),
				  .svm_port = (unsigned)atoi(argv[2]) };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("vsock-cat: socket");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vsock-cat: connect: %s\n", strerror(errno));
		return errno == ECONNRESET || errno == ECONNREFUSED ? 3 : 1;
	}
	unsigned long long sent, got;
	int r = relay_stream(fd, &sent, &got);
	fprintf(stderr, "vsock-cat: sent %llu got %llu\n", sent, got);
	return r < 0 ? 1 : 0;
}
