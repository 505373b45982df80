/* Test helper: holds an OFD lock on a file the way another hardy (or another program using
 * fcntl locks) would, so input_disk_values.sh can check that a busy image is refused without
 * needing KVM. Usage: hold-lock FILE ro|rw ; prints "locked" once it holds the lock, then
 * waits until it is killed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "ro") && strcmp(argv[2], "rw"))) {
		fprintf(stderr, "usage: hold-lock FILE ro|rw\n");
		return 2;
	}
	int rw = !strcmp(argv[2], "rw");
	int fd = open(argv[1], rw ? O_RDWR : O_RDONLY);
	struct flock lk = { .l_type = rw ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };
	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &lk) < 0) {
		perror("hold-lock");
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	for (;;)
		pause();
}
