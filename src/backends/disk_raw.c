/* Raw image files: preadv/pwritev at the guest's offsets, fdatasync for FLUSH, hole punching
 * for DISCARD and WRITE_ZEROES, so sparse images stay sparse. */
#include "backends/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t raw_readv(struct disk *d, const struct iovec *iov, int n, uint64_t offset)
{
	ssize_t r;
	do
		r = preadv(d->fd, iov, n, (off_t)offset);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t raw_writev(struct disk *d, const struct iovec *iov, int n, uint64_t offset)
{
	ssize_t r;
	do
		r = pwritev(d->fd, iov, n, (off_t)offset);
	while (r < 0 && errno == EINTR);
	return r;
}

static int raw_flush(struct disk *d)
{
	return fdatasync(d->fd);
}

static int raw_discard(struct disk *d, uint64_t offset, uint64_t len)
{
	return fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
			 (off_t)len);
}

static void raw_close(struct disk *d)
{
	close(d->fd); /* drops the OFD lock */
	free(d);
}

static const struct disk_ops raw_ops = {
	.readv = raw_readv, .writev = raw_writev, .flush = raw_flush, .discard = raw_discard,
	.close = raw_close, .file_backed = true,
};

struct disk *disk_raw_open(const char *path, bool readonly, struct error *err)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, ERR_INPUT, "--disk %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	uint64_t size = 0;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		error_set(err, ERR_INPUT, "--disk %s: not a regular file or block device", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		error_set(err, ERR_INPUT, "--disk %s: cannot read its size", path);
		goto fail;
	}
	if (size < 512) {
		error_set(err, ERR_INPUT, "--disk %s: smaller than one 512-byte sector", path);
		goto fail;
	}
	struct flock lk = { .l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			error_set(err, ERR_INPUT, "--disk %s: the image is in use by another %s "
				  "(it holds a lock on it)", path, readonly ? "writer" : "process");
		else
			error_set(err, ERR_INPUT, "--disk %s: cannot lock it: %s", path, strerror(errno));
		goto fail;
	}
	struct disk *d = calloc(1, sizeof(*d));
	if (!d) {
		error_errno(err, "out of memory");
		goto fail;
	}
	*d = (struct disk){ .ops = &raw_ops, .size = size & ~511ULL, .readonly = readonly, .fd = fd };
	return d;
fail:
	close(fd);
	return NULL;
}
