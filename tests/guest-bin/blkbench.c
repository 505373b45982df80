/* blkbench: the guest side of bench/virtio-blk.sh. Reads or writes a block device with
 * O_DIRECT (the guest's page cache out of the way) from THREADS threads, each doing blocking
 * pread/pwrite of BS bytes, so THREADS requests are in flight at the device; runs for SECS
 * seconds and prints one parseable line:
 *   blkbench: mode=randread bs=4096 threads=16 secs=5.00 ops=12345 MBps=9.88 IOPS=2469
 * seq*: the threads take the next block from one shared cursor (one sequential stream, wrapping
 * at the end of the device); rand*: each thread picks blocks uniformly (xorshift, fixed seeds,
 * so every VMM gets the same offsets). Writes write a pattern; nothing checks it.
 * Usage: blkbench DEV seqread|seqwrite|randread|randwrite BS THREADS SECS */
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
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

struct bench {
	int fd;
	bool write, random;
	uint64_t bs, blocks;
	double end;
	uint64_t cursor; /* seq: next block, atomically */
	int error;
};

struct worker {
	pthread_t tid;
	struct bench *b;
	uint64_t seed, ops;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	void *buf;
	if (posix_memalign(&buf, 4096, b->bs) != 0) {
		b->error = ENOMEM;
		return NULL;
	}
	memset(buf, 0xA5 ^ (int)w->seed, b->bs);
	while (now_s() < b->end) {
		uint64_t block = b->random ? xorshift(&w->seed) % b->blocks
					   : __atomic_fetch_add(&b->cursor, 1, __ATOMIC_RELAXED) % b->blocks;
		off_t off = (off_t)(block * b->bs);
		ssize_t n = b->write ? pwrite(b->fd, buf, b->bs, off) : pread(b->fd, buf, b->bs, off);
		if (n != (ssize_t)b->bs) {
			b->error = n < 0 ? errno : EIO;
			break;
		}
		w->ops++;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: blkbench DEV seqread|seqwrite|randread|randwrite BS THREADS SECS\n");
		return 2;
	}
	struct bench b = { 0 };
	const char *mode = argv[2];
	b.write = strstr(mode, "write") != NULL;
	b.random = !strncmp(mode, "rand", 4);
	b.bs = strtoull(argv[3], NULL, 0);
	int threads = atoi(argv[4]);
	double secs = atof(argv[5]);
	if (b.bs == 0 || b.bs % 512 || threads < 1 || threads > MAX_THREADS || secs <= 0 ||
	    (strcmp(mode, "seqread") && strcmp(mode, "seqwrite") && strcmp(mode, "randread") &&
	     strcmp(mode, "randwrite"))) {
		fprintf(stderr, "blkbench: bad arguments\n");
		return 2;
	}
	b.fd = open(argv[1], (b.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (b.fd < 0 && errno == EINVAL) /* a file on tmpfs (before Linux 6.6): no O_DIRECT */
		b.fd = open(argv[1], b.write ? O_RDWR : O_RDONLY);
	uint64_t size = 0;
	if (b.fd >= 0 && ioctl(b.fd, BLKGETSIZE64, &size) < 0) /* a file, to try it on a host */
		size = (uint64_t)lseek(b.fd, 0, SEEK_END);
	if (b.fd < 0 || size < b.bs) {
		fprintf(stderr, "blkbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	b.blocks = size / b.bs;
	static struct worker w[MAX_THREADS];
	double start = now_s();
	b.end = start + secs;
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ .b = &b, .seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) };
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0) {
			fprintf(stderr, "blkbench: pthread_create failed\n");
			return 1;
		}
	}
	uint64_t ops = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		ops += w[i].ops;
	}
	double took = now_s() - start;
	if (b.error) {
		fprintf(stderr, "blkbench: I/O error: %s\n", strerror(b.error));
		return 1;
	}
	printf("blkbench: mode=%s bs=%llu threads=%d secs=%.2f ops=%llu MBps=%.2f IOPS=%.0f\n", mode,
	       (unsigned long long)b.bs, threads, took, (unsigned long long)ops,
	       (double)ops * (double)b.bs / took / 1e6, (double)ops / took);
	return 0;
}
