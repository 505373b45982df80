/* blkpattern: writes or verifies a pattern over a whole block device (or image file) from
 * THREADS threads at once, with O_DIRECT, so many requests are in flight at the device. Block
 * b (BS bytes) holds 64-bit words (b << 24 | word index) ^ SEED: every block differs, so a
 * request that lands at the wrong offset, or data torn between requests, shows up. The threads
 * take blocks from one shared cursor in an order that jumps around the device.
 * Prints "blkpattern: write ok blocks=N" or "blkpattern: verify ok blocks=N" (exit 0), or the
 * first bad block (exit 1). Usage: blkpattern DEV write|verify BS THREADS SEED */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_THREADS 64

struct job {
	int fd;
	bool write;
	uint64_t bs, blocks, seed;
	uint64_t cursor;             /* next index, atomically */
	uint64_t bad_block, nr_bad;  /* under the lock */
	int error;
	pthread_mutex_t lock;
};

static void fill(const struct job *j, uint64_t block, uint64_t *buf)
{
	for (uint64_t w = 0; w < j->bs / 8; w++)
		buf[w] = (block << 24 | w) ^ j->seed;
}

static void *work(void *arg)
{
	struct job *j = arg;
	void *mem, *want_mem;
	if (posix_memalign(&mem, 4096, j->bs) || posix_memalign(&want_mem, 4096, j->bs)) {
		j->error = ENOMEM;
		return NULL;
	}
	uint64_t *buf = mem, *want = want_mem;
	for (;;) {
		uint64_t i = __atomic_fetch_add(&j->cursor, 1, __ATOMIC_RELAXED);
		if (i >= j->blocks)
			break;
		/* A prime stride visits every block once, out of order (blocks < 2654435761). */
		uint64_t block = (i * 2654435761u) % j->blocks;
		off_t off = (off_t)(block * j->bs);
		fill(j, block, want);
		ssize_t n = j->write ? pwrite(j->fd, want, j->bs, off) : pread(j->fd, buf, j->bs, off);
		if (n != (ssize_t)j->bs) {
			j->error = n < 0 ? errno : EIO;
			break;
		}
		if (!j->write && memcmp(buf, want, j->bs)) {
			pthread_mutex_lock(&j->lock);
			if (j->nr_bad++ == 0)
				j->bad_block = block;
			pthread_mutex_unlock(&j->lock);
		}
	}
	free(mem);
	free(want_mem);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: blkpattern DEV write|verify BS THREADS SEED\n");
		return 2;
	}
	struct job j = { .lock = PTHREAD_MUTEX_INITIALIZER };
	j.write = !strcmp(argv[2], "write");
	j.bs = strtoull(argv[3], NULL, 0);
	int threads = atoi(argv[4]);
	j.seed = strtoull(argv[5], NULL, 0);
	if ((!j.write && strcmp(argv[2], "verify")) || j.bs == 0 || j.bs % 512 || threads < 1 ||
	    threads > MAX_THREADS) {
		fprintf(stderr, "blkpattern: bad arguments\n");
		return 2;
	}
	j.fd = open(argv[1], (j.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (j.fd < 0 && errno == EINVAL) /* a file on tmpfs (before Linux 6.6): no O_DIRECT */
		j.fd = open(argv[1], j.write ? O_RDWR : O_RDONLY);
	uint64_t size = 0;
	if (j.fd >= 0 && ioctl(j.fd, BLKGETSIZE64, &size) < 0)
		size = (uint64_t)lseek(j.fd, 0, SEEK_END);
	if (j.fd < 0 || size < j.bs) {
		fprintf(stderr, "blkpattern: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	j.blocks = size / j.bs;
	pthread_t tid[MAX_THREADS];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, work, &j) != 0)
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	if (j.write && fdatasync(j.fd) < 0)
		j.error = errno;
	if (j.error) {
		fprintf(stderr, "blkpattern: I/O error: %s\n", strerror(j.error));
		return 1;
	}
	if (j.nr_bad) {
		printf("blkpattern: verify FAILED: %llu bad blocks, first %llu\n",
		       (unsigned long long)j.nr_bad, (unsigned long long)j.bad_block);
		return 1;
	}
	printf("blkpattern: %s ok blocks=%llu\n", j.write ? "write" : "verify",
	       (unsigned long long)j.blocks);
	return 0;
}
