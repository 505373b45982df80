/* Unit test: virtio-blk over virtio-pci against a fake in-memory disk, driven like Linux's
 * virtio_blk: reads and writes land at the right offsets with status OK; a read-only disk
 * offers VIRTIO_BLK_F_RO and refuses writes, discards and write-zeroes with IOERR, its bytes
 * untouched; GET_ID returns the id; discards reach the disk as byte ranges; and hostile
 * requests (short headers, ranges past the end or wrapping, partial sectors, unknown types, a
 * chain with no status byte) are refused without touching the disk. With a file-backed image
 * (a memfd through disk_raw_open, io_uring, and again with aio=sync): many chains in flight at
 * once land where they should, with fewer interrupts than chains, also from a driver that
 * notifies only when asked; under a seccomp filter that refuses io_uring_setup, the same
 * through the fallback. Two queues (MQ) answer on their own vectors. A chain whose disk I/O
 * is still running when the driver resets the device is never completed after the reset. */
#include <linux/virtio_blk.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"
#include "devices/devices.h"
#include "backends/disk_queue.h"
#include "devices/virtio/blk.h"
#define VD_QSIZE 128 /* 32 chains of 3 buffers in flight at once */
#include "virtio_driver.h"

#define SECTORS 128
#define HDR   0x20000ULL
#define DATA  0x21000ULL
#define STAT  0x23000ULL

struct fake_disk {
	struct disk d;
	uint8_t bytes[SECTORS * 512];
	unsigned writes, discards;
	uint64_t discard_off, discard_len;
};

static ssize_t fd_copy(struct disk *d, const struct iovec *iov, int n, uint64_t off, bool write)
{
	struct fake_disk *f = (struct fake_disk *)d;
	size_t done = 0;
	for (int i = 0; i < n; i++) {
		CHECK(off + done + iov[i].iov_len <= sizeof(f->bytes), "the device passed a bad range");
		if (write)
			memcpy(f->bytes + off + done, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, f->bytes + off + done, iov[i].iov_len);
		done += iov[i].iov_len;
	}
	if (write)
		f->writes++;
	return (ssize_t)done;
}

static ssize_t fd_readv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return fd_copy(d, iov, n, off, false);
}

static ssize_t fd_writev(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return fd_copy(d, iov, n, off, true);
}

static int fd_flush(struct disk *d) { return 0; }

/* A gate for the reset test: reads wait in the disk until the test opens it. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool armed, entered, open;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, false };

static ssize_t fd_gated_readv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	pthread_mutex_lock(&gate.lock);
	if (gate.armed) {
		gate.entered = true;
		pthread_cond_broadcast(&gate.cond);
		while (!gate.open)
			pthread_cond_wait(&gate.cond, &gate.lock);
	}
	pthread_mutex_unlock(&gate.lock);
	return fd_copy(d, iov, n, off, false);
}

static int fd_discard(struct disk *d, uint64_t off, uint64_t len)
{
	struct fake_disk *f = (struct fake_disk *)d;
	CHECK(off + len <= sizeof(f->bytes), "discard past the end reached the disk");
	memset(f->bytes + off, 0, len);
	f->discards++;
	f->discard_off = off;
	f->discard_len = len;
	return 0;
}

static void fd_close(struct disk *d) {}

static const struct disk_ops fake_disk_ops = {
	.readv = fd_readv, .writev = fd_writev, .flush = fd_flush, .discard = fd_discard,
	.close = fd_close,
};

static const struct disk_ops gated_disk_ops = {
	.readv = fd_gated_readv, .writev = fd_writev, .flush = fd_flush, .discard = fd_discard,
	.close = fd_close,
};

static struct guest_mem mem;

static void put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	memcpy(gmem_ptr(&mem, HDR, sizeof(h)), &h, sizeof(h));
}

static uint8_t status(void)
{
	return *(uint8_t *)gmem_ptr(&mem, STAT, 1);
}

static unsigned req_queue; /* the queue request() uses */

/* header, data (direction by write), status */
static long request(struct vdriver *d, uint32_t type, uint64_t sector, uint32_t data_len,
		    bool data_to_device)
{
	put_hdr(type, sector);
	*(uint8_t *)gmem_ptr(&mem, STAT, 1) = 0xEE;
	uint64_t gpa[3] = { HDR, DATA, STAT };
	uint32_t len[3] = { sizeof(struct virtio_blk_outhdr), data_len, 1 };
	bool w[3] = { false, !data_to_device, true };
	if (data_len == 0) {
		gpa[1] = STAT;
		len[1] = 1;
		w[1] = true;
		return vd_submit_q(d, req_queue, 2, gpa, len, w);
	}
	return vd_submit_q(d, req_queue, 3, gpa, len, w);
}

static void test_rw_disk(void)
{
	struct fake_env f;
	struct error err = { 0 };
	fake_env_init(&f);
	f.svc.mem = &mem;
	static struct fake_disk disk;
	disk = (struct fake_disk){ .d = { .ops = &fake_disk_ops, .size = sizeof(disk.bytes) } };
	for (unsigned i = 0; i < sizeof(disk.bytes); i++)
		disk.bytes[i] = (uint8_t)(i * 7 + i / 512);
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_blk_create(&f.svc, host, &disk.d, "disk-one", 1, &err), "%s", err.msg);
	struct vdriver d;
	uint32_t features = vd_init(&d, &f, &mem, 1, ~0u);

	SECTION("features and config: capacity, no RO on a read-write disk");
	CHECK(!(features & (1u << VIRTIO_BLK_F_RO)), "RO offered on a rw disk");
	CHECK(features & (1u << VIRTIO_BLK_F_FLUSH) && features & (1u << VIRTIO_BLK_F_DISCARD),
	      "flush/discard not offered");
	CHECK(fake_mmio_read(&f, d.device + offsetof(struct virtio_blk_config, capacity), 8) == SECTORS,
	      "capacity");

	SECTION("read two sectors at sector 5");
	CHECK(request(&d, VIRTIO_BLK_T_IN, 5, 1024, false) == 1025, "used length");
	CHECK(status() == VIRTIO_BLK_S_OK, "status %u", status());
	CHECK(!memcmp(gmem_ptr(&mem, DATA, 1024), disk.bytes + 5 * 512, 1024), "read data");

	SECTION("write one sector at sector 9");
	memset(gmem_ptr(&mem, DATA, 512), 0x5A, 512);
	CHECK(request(&d, VIRTIO_BLK_T_OUT, 9, 512, true) == 1 && status() == VIRTIO_BLK_S_OK,
	      "write status %u", status());
	CHECK(disk.bytes[9 * 512] == 0x5A && disk.bytes[10 * 512 - 1] == 0x5A &&
	      disk.bytes[10 * 512] != 0x5A, "write landed wrong");

	SECTION("GET_ID, FLUSH, DISCARD");
	CHECK(request(&d, VIRTIO_BLK_T_GET_ID, 0, 20, false) > 0 && status() == VIRTIO_BLK_S_OK,
	      "GET_ID status");
	CHECK(!memcmp(gmem_ptr(&mem, DATA, 9), "disk-one", 9), "GET_ID returned '%.20s'",
	      (char *)gmem_ptr(&mem, DATA, 20));
	CHECK(request(&d, VIRTIO_BLK_T_FLUSH, 0, 0, true) == 1 && status() == VIRTIO_BLK_S_OK,
	      "flush");
	struct virtio_blk_discard_write_zeroes seg = { .sector = 3, .num_sectors = 2 };
	memcpy(gmem_ptr(&mem, DATA, sizeof(seg)), &seg, sizeof(seg));
	CHECK(request(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), true) == 1 &&
	      status() == VIRTIO_BLK_S_OK, "discard status %u", status());
	CHECK(disk.discards == 1 && disk.discard_off == 3 * 512 && disk.discard_len == 1024,
	      "discard range %llu+%llu", (unsigned long long)disk.discard_off,
	      (unsigned long long)disk.discard_len);
	seg = (struct virtio_blk_discard_write_zeroes){ .sector = SECTORS - 1, .num_sectors = 2 };
	memcpy(gmem_ptr(&mem, DATA, sizeof(seg)), &seg, sizeof(seg));
	CHECK(request(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), true) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR && disk.discards == 1, "write-zeroes past the end");

	SECTION("hostile requests: past the end, wrapping, partial sectors, unknown type, short header");
	unsigned writes = disk.writes;
	CHECK(request(&d, VIRTIO_BLK_T_IN, SECTORS, 512, false) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR, "read at the end");
	CHECK(request(&d, VIRTIO_BLK_T_IN, SECTORS - 1, 1024, false) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR, "read across the end");
	CHECK(request(&d, VIRTIO_BLK_T_OUT, 1ULL << 55, 512, true) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR, "write where sector*512 wraps");
	CHECK(request(&d, VIRTIO_BLK_T_OUT, 0, 100, true) == 1 && status() == VIRTIO_BLK_S_IOERR,
	      "partial sector");
	CHECK(request(&d, 77, 0, 512, true) == 1 && status() == VIRTIO_BLK_S_UNSUPP, "unknown type");
	CHECK(disk.writes == writes, "a refused request wrote to the disk");
	uint64_t gpa[2] = { HDR, STAT };
	uint32_t len[2] = { 8, 1 };
	bool w[2] = { false, true };
	*(uint8_t *)gmem_ptr(&mem, STAT, 1) = 0xEE;
	CHECK(vd_submit(&d, 2, gpa, len, w) == 1 && status() == VIRTIO_BLK_S_IOERR, "short header");

	SECTION("a chain without a status byte breaks the device (NEEDS_RESET), nothing used");
	uint32_t len1[1] = { 16 };
	bool w1[1] = { false };
	put_hdr(VIRTIO_BLK_T_FLUSH, 0);
	CHECK(vd_submit(&d, 1, gpa, len1, w1) == -1, "used a chain with no status byte");
	CHECK(vd_read(&d, VD_CC(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET, "no NEEDS_RESET");
	fake_env_destroy(&f);
}

static void test_ro_disk(void)
{
	struct fake_env f;
	struct error err = { 0 };
	fake_env_init(&f);
	f.svc.mem = &mem;
	static struct fake_disk disk;
	disk = (struct fake_disk){ .d = { .ops = &fake_disk_ops, .size = sizeof(disk.bytes),
					  .readonly = true } };
	memset(disk.bytes, 0x11, sizeof(disk.bytes));
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_blk_create(&f.svc, host, &disk.d, NULL, 1, &err), "%s", err.msg);
	struct vdriver d;
	uint32_t features = vd_init(&d, &f, &mem, 1, ~0u);

	SECTION("read-only: RO offered; writes, discards, write-zeroes refused with IOERR");
	CHECK(features & (1u << VIRTIO_BLK_F_RO), "RO not offered");
	memset(gmem_ptr(&mem, DATA, 512), 0x77, 512);
	CHECK(request(&d, VIRTIO_BLK_T_OUT, 0, 512, true) == 1 && status() == VIRTIO_BLK_S_IOERR,
	      "write to a ro disk: status %u", status());
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0, .num_sectors = 1 };
	memcpy(gmem_ptr(&mem, DATA, sizeof(seg)), &seg, sizeof(seg));
	CHECK(request(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), true) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR, "discard on a ro disk");
	CHECK(request(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), true) == 1 &&
	      status() == VIRTIO_BLK_S_IOERR, "write-zeroes on a ro disk");
	CHECK(disk.writes == 0 && disk.discards == 0 && disk.bytes[0] == 0x11, "the ro disk changed");
	CHECK(request(&d, VIRTIO_BLK_T_IN, 0, 512, false) == 513 && status() == VIRTIO_BLK_S_OK &&
	      *(uint8_t *)gmem_ptr(&mem, DATA, 1) == 0x11, "reads still work");
	CHECK(request(&d, VIRTIO_BLK_T_GET_ID, 0, 20, false) > 0 &&
	      *(uint8_t *)gmem_ptr(&mem, DATA, 1) == 0, "no id: an empty string");
	fake_env_destroy(&f);
}


#define NR_FLIGHT 32
#define FL_HDR  0x30000ULL /* 16 bytes per chain */
#define FL_STAT 0x31000ULL /* one byte per chain */
#define FL_DATA 0x40000ULL /* 4 KiB per chain */

static bool drv_event_idx; /* the test driver negotiated VIRTIO_RING_F_EVENT_IDX */

/* NR_FLIGHT chains of one type, all made available before one notification; or (lazy) each
 * made available in turn and notified only when the device asks (VRING_USED_F_NO_NOTIFY
 * clear, or with EVENT_IDX avail_event crossed), as Linux's driver does. With EVENT_IDX the
 * driver asks for one interrupt, when the last chain is used (used_event). */
static void in_flight_batch(struct vdriver *d, uint32_t type, const unsigned *sector, bool lazy)
{
	struct vring_used *used = gmem_ptr(&mem, VD_USED, 4 + 8 * VD_QSIZE + 2);
	struct vring_avail *avail = gmem_ptr(&mem, VD_AVAIL, 4 + 2 * VD_QSIZE + 2);
	struct vring vr = { .num = VD_QSIZE, .avail = avail, .used = used };
	uint16_t before = vd_used_idx(d, 0);
	if (drv_event_idx)
		__atomic_store_n(&vring_used_event(&vr), (uint16_t)(before + NR_FLIGHT - 1),
				 __ATOMIC_RELEASE);
	for (unsigned i = 0; i < NR_FLIGHT; i++) {
		struct virtio_blk_outhdr h = { .type = type, .sector = sector[i] };
		memcpy(gmem_ptr(&mem, FL_HDR + 16 * i, sizeof(h)), &h, sizeof(h));
		*(uint8_t *)gmem_ptr(&mem, FL_STAT + i, 1) = 0xEE;
		uint64_t gpa[3] = { FL_HDR + 16 * i, FL_DATA + 4096 * i, FL_STAT + i };
		uint32_t len[3] = { sizeof(h), 4096, 1 };
		bool w[3] = { false, type == VIRTIO_BLK_T_IN, true };
		uint16_t old = avail->idx;
		vd_add(d, 0, 3, gpa, len, w);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* avail index before the device's flag */
		bool kick = drv_event_idx
				    ? vring_need_event(__atomic_load_n(&vring_avail_event(&vr), __ATOMIC_RELAXED),
						       (uint16_t)(old + 1), old)
				    : !(__atomic_load_n(&used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
		if (lazy && kick)
			vd_notify(d, 0);
	}
	if (!lazy)
		vd_notify(d, 0);
	CHECK(vd_wait_used_to(d, 0, (uint16_t)(before + NR_FLIGHT), 2000), "only %u of %u chains used%s",
	      (unsigned)(uint16_t)(vd_used_idx(d, 0) - before), NR_FLIGHT,
	      lazy ? " (a chain added while notifications were off was lost)" : "");
	usleep(20000);
	if (drv_event_idx)
		CHECK(__atomic_load_n(&vring_avail_event(&vr), __ATOMIC_RELAXED) == avail->idx,
		      "the idle device's avail_event is %u, not the next index %u: the driver would "
		      "never kick it again", vring_avail_event(&vr), avail->idx);
	else
		CHECK(!(__atomic_load_n(&used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY),
		      "the idle device left notifications off: the driver would never kick it again");
	for (unsigned i = 0; i < NR_FLIGHT; i++)
		CHECK(*(uint8_t *)gmem_ptr(&mem, FL_STAT + i, 1) == VIRTIO_BLK_S_OK, "chain %u status %u",
		      i, *(uint8_t *)gmem_ptr(&mem, FL_STAT + i, 1));
}

/* A memfd image through the real backend: io_uring, or the inline engine with aio=sync; the
 * driver with or without EVENT_IDX. */
static void test_file_disk(bool sync_only, bool event_idx)
{
	struct fake_env f;
	struct error err = { 0 };
	fake_env_init(&f);
	f.svc.mem = &mem;
	int fd = memfd_create("blk-unit", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "memfd");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct disk *disk = disk_raw_open(path, false, &err);
	CHECK(disk, "%s", err.msg);
	disk->sync_only = sync_only;
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_blk_create(&f.svc, host, disk, NULL, 1, &err), "%s", err.msg);
	struct vdriver d;
	uint32_t features = vd_init(&d, &f, &mem, 1,
				    event_idx ? ~0u : ~(1u << VIRTIO_RING_F_EVENT_IDX));
	CHECK(features & (1u << VIRTIO_RING_F_EVENT_IDX), "EVENT_IDX not offered");
	drv_event_idx = event_idx;
	bool uring = false;
	if (!sync_only) {
		struct disk_queue *q = disk_queue_open(disk, 4);
		CHECK(q, "out of memory");
		uring = !strcmp(q->engine, "io_uring");
		disk_queue_close(q);
		if (!uring) /* e.g. a container whose seccomp filter refuses io_uring_setup */
			printf("  NOTE: io_uring refused here: the fallback runs instead, batching unchecked\n");
	}

	char engine[40];
	snprintf(engine, sizeof(engine), "%s%s", sync_only ? "aio=sync" : uring ? "io_uring" : "fallback",
		 event_idx ? ", EVENT_IDX" : "");
	SECTION("%s: %u writes in flight at scattered sectors, then %u reads of them", engine,
		NR_FLIGHT, NR_FLIGHT);
	unsigned sector[NR_FLIGHT];
	for (unsigned i = 0; i < NR_FLIGHT; i++) {
		sector[i] = (i * 37 % NR_FLIGHT) * 64; /* 32 KiB apart, not in order */
		memset(gmem_ptr(&mem, FL_DATA + 4096 * i, 4096), 0x40 + i, 4096);
	}
	unsigned msi_before = f.msi_count;
	in_flight_batch(&d, VIRTIO_BLK_T_OUT, sector, false);
	unsigned msis = f.msi_count - msi_before;
	for (unsigned i = 0; i < NR_FLIGHT; i++) {
		uint8_t got[4096], want[4096];
		memset(want, 0x40 + i, sizeof(want));
		CHECK(pread(fd, got, sizeof(got), (off_t)sector[i] * 512) == 4096 &&
		      !memcmp(got, want, sizeof(got)), "write %u did not land at sector %u", i, sector[i]);
	}
	if (event_idx)
		/* The first interrupt of a queue is always sent; then only at used_event. */
		CHECK(msis >= 1 && msis <= 2, "%u interrupts for %u chains with used_event at the last",
		      msis, NR_FLIGHT);
	else if (uring)
		CHECK(msis < NR_FLIGHT / 2, "%u interrupts for %u chains made available at once", msis,
		      NR_FLIGHT);
	memset(gmem_ptr(&mem, FL_DATA, 4096 * NR_FLIGHT), 0, 4096 * NR_FLIGHT);
	unsigned rsector[NR_FLIGHT];
	for (unsigned i = 0; i < NR_FLIGHT; i++)
		rsector[i] = sector[NR_FLIGHT - 1 - i];
	in_flight_batch(&d, VIRTIO_BLK_T_IN, rsector, false);
	for (unsigned i = 0; i < NR_FLIGHT; i++)
		CHECK(*(uint8_t *)gmem_ptr(&mem, FL_DATA + 4096 * i + 100, 1) ==
		      0x40 + (NR_FLIGHT - 1 - i), "read %u returned the wrong bytes", i);

	SECTION("%s: a driver that notifies only when asked (VRING_USED_F_NO_NOTIFY): 10 x %u chains",
		engine, NR_FLIGHT);
	for (unsigned round = 0; round < 10; round++)
		in_flight_batch(&d, round % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, sector, true);

	SECTION("%s: flush, then discard reads back as zeros", engine);
	CHECK(request(&d, VIRTIO_BLK_T_FLUSH, 0, 0, true) == 1 && status() == VIRTIO_BLK_S_OK, "flush");
	struct virtio_blk_discard_write_zeroes seg[2] = { { .sector = sector[0], .num_sectors = 8 },
							  { .sector = sector[1], .num_sectors = 8 } };
	memcpy(gmem_ptr(&mem, DATA, sizeof(seg)), seg, sizeof(seg));
	CHECK(request(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), true) == 1 &&
	      status() == VIRTIO_BLK_S_OK, "discard status %u", status());
	uint8_t got[4096], zero[4096] = { 0 };
	CHECK(pread(fd, got, sizeof(got), (off_t)sector[1] * 512) == 4096 &&
	      !memcmp(got, zero, sizeof(got)), "discarded sectors do not read back as zeros");
	fake_env_destroy(&f);
	disk_close(disk);
	close(fd);
}

/* Two queues (VIRTIO_BLK_F_MQ): each answers its own chains, with its own MSI-X vector; a
 * write through queue 1 is read back through queue 0. */
static void test_multi_queue(void)
{
	struct fake_env f;
	struct error err = { 0 };
	fake_env_init(&f);
	f.svc.mem = &mem;
	static struct fake_disk disk;
	disk = (struct fake_disk){ .d = { .ops = &fake_disk_ops, .size = sizeof(disk.bytes) } };
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_blk_create(&f.svc, host, &disk.d, NULL, 2, &err), "%s", err.msg);
	struct vdriver d;
	uint32_t features = vd_init_queues(&d, &f, &mem, 1, ~0u, 2);

	SECTION("two queues: MQ offered, num_queues 2, each queue answers with its own vector");
	CHECK(features & (1u << VIRTIO_BLK_F_MQ), "MQ not offered with 2 queues");
	CHECK(fake_mmio_read(&f, d.device + offsetof(struct virtio_blk_config, num_queues), 2) == 2,
	      "num_queues");
	req_queue = 1;
	memset(gmem_ptr(&mem, DATA, 512), 0x3C, 512);
	CHECK(request(&d, VIRTIO_BLK_T_OUT, 7, 512, true) == 1 && status() == VIRTIO_BLK_S_OK,
	      "write on queue 1: status %u", status());
	CHECK(f.msi_data == 0x32, "queue 1's completion came on MSI data %#x, not its vector 2",
	      f.msi_data);
	CHECK(disk.bytes[7 * 512] == 0x3C, "the write through queue 1 did not land");
	req_queue = 0;
	memset(gmem_ptr(&mem, DATA, 512), 0, 512);
	CHECK(request(&d, VIRTIO_BLK_T_IN, 7, 512, false) == 513 && status() == VIRTIO_BLK_S_OK &&
	      *(uint8_t *)gmem_ptr(&mem, DATA + 511, 1) == 0x3C, "read back on queue 0");
	CHECK(f.msi_data == 0x31, "queue 0's completion came on MSI data %#x", f.msi_data);
	fake_env_destroy(&f);
}

/* A read is inside the disk when the driver resets and sets the device up again: its
 * completion must not reach the new rings. */
static void test_reset_in_flight(void)
{
	struct fake_env f;
	struct error err = { 0 };
	fake_env_init(&f);
	f.svc.mem = &mem;
	static struct fake_disk disk;
	disk = (struct fake_disk){ .d = { .ops = &gated_disk_ops, .size = sizeof(disk.bytes) } };
	struct pci_host *host = pci_host_create(&f.svc, &err);
	CHECK(host && virtio_blk_create(&f.svc, host, &disk.d, NULL, 1, &err), "%s", err.msg);
	struct vdriver d;
	vd_init(&d, &f, &mem, 1, ~0u);

	SECTION("a chain popped before a reset is not completed after it");
	gate.armed = true;
	put_hdr(VIRTIO_BLK_T_IN, 0);
	uint64_t gpa[3] = { HDR, DATA, STAT };
	uint32_t len[3] = { 16, 512, 1 };
	bool w[3] = { false, true, true };
	vd_add(&d, 0, 3, gpa, len, w);
	vd_notify(&d, 0);
	pthread_mutex_lock(&gate.lock);
	while (!gate.entered)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
	vd_init(&d, &f, &mem, 1, ~0u); /* resets, fresh rings, then DRIVER_OK again */
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	gate.armed = false;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	CHECK(!vd_wait_used_to(&d, 0, 1, 200), "the chain from before the reset was completed after it");
	CHECK(request(&d, VIRTIO_BLK_T_IN, 0, 512, false) == 513 && status() == VIRTIO_BLK_S_OK,
	      "the device does not work after the reset");
	fake_env_destroy(&f);
}

/* In a child process: io_uring_setup fails with ENOSYS (as under a container's seccomp
 * profile); the disk queue must fall back to the inline engine and the device still work. */
static void test_uring_refused(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		struct sock_filter prog[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == 0, "seccomp filter");
		SECTION("io_uring_setup refused (seccomp): the inline engine takes over");
		int fd = memfd_create("blk-unit-q", MFD_CLOEXEC);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct error err = { 0 };
		struct disk *disk = fd >= 0 && ftruncate(fd, 4096) == 0 ? disk_raw_open(path, false, &err)
									: NULL;
		CHECK(disk, "%s", err.msg);
		struct disk_queue *q = disk_queue_open(disk, 4);
		CHECK(q && !strcmp(q->engine, "inline"), "engine %s under the filter", q ? q->engine : "-");
		disk_queue_close(q);
		disk_close(disk);
		test_file_disk(false, false);
		fflush(stdout);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the test under seccomp failed (status %d)", st);
}

int main(void)
{
	struct error err = { 0 };
	CHECK(gmem_init(&mem, GMEM_MIN_SIZE, &err) == 0, "%s", err.msg);
	test_rw_disk();
	test_ro_disk();
	test_file_disk(false, false);
	test_file_disk(true, false);
	test_file_disk(true, true); /* one chain per round: an interrupt per chain without EVENT_IDX */
	test_file_disk(false, true);
	test_uring_refused();
	test_multi_queue();
	test_reset_in_flight();
	gmem_destroy(&mem);
	puts("test_virtio_blk: all passed");
	return 0;
}
