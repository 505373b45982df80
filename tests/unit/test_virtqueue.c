/* Unit test: the virtqueue walker against hostile drivers, on real guest memory (no KVM): good
 * chains (direct, indirect, wrapped indices) come out right, and loops, addresses outside RAM
 * or wrapping past 2^64, bad indices, writable-before-readable, nested or unnegotiated indirect
 * tables, oversized chains and bad ring addresses all break the queue without touching memory
 * outside RAM (ASan would see it) and without consuming anything. */
#include <linux/virtio_ring.h>

#include "check.h"
#include "devices/virtio/queue.h"

#define QSIZE 16
#define DESC  0x10000ULL
#define AVAIL 0x11000ULL
#define USED  0x12000ULL
#define BUFS  0x20000ULL
#define INDIR 0x30000ULL

static struct guest_mem mem;

static struct vring_desc *desc_at(uint64_t gpa, unsigned i)
{
	return (struct vring_desc *)gmem_ptr(&mem, gpa + 16ULL * i, 16);
}

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*desc_at(table, i) = (struct vring_desc){ .addr = addr, .len = len, .flags = flags,
						  .next = next };
}

static struct vring_avail *avail(void)
{
	return gmem_ptr(&mem, AVAIL, 4 + 2 * QSIZE);
}

static struct vring_used *used(void)
{
	return gmem_ptr(&mem, USED, 4 + 8 * QSIZE);
}

/* A fresh, active queue whose driver has published nothing. */
static void fresh(struct virtq *q, bool indirect)
{
	memset(gmem_ptr(&mem, DESC, 0x3000), 0, 0x3000);
	vq_reset(q);
	q->size = QSIZE;
	q->desc_gpa = DESC;
	q->avail_gpa = AVAIL;
	q->used_gpa = USED;
	CHECK(vq_activate(q, &mem, indirect) == 0, "activate");
}

/* The driver makes head available (avail->idx one past the queue's last_avail). */
static void publish(struct virtq *q, uint16_t head)
{
	avail()->ring[q->last_avail & (QSIZE - 1)] = head;
	avail()->idx = (uint16_t)(q->last_avail + 1);
}

static void expect_broken(struct virtq *q, const char *what)
{
	struct vq_chain c;
	uint16_t before = q->last_avail;
	CHECK(vq_pop(q, &mem, &c) == -1, "%s: accepted", what);
	CHECK(q->broken && q->last_avail == before, "%s: queue not broken or consumed", what);
	CHECK(vq_pop(q, &mem, &c) == -1, "%s: broken queue popped again", what);
}

static void test_good_chains(void)
{
	struct virtq q;
	struct vq_chain c;

	SECTION("nothing published: nothing popped");
	fresh(&q, false);
	CHECK(vq_pop(&q, &mem, &c) == 0, "popped from an empty queue");

	SECTION("a readable then two writable buffers, and the used ring after push");
	memcpy(gmem_ptr(&mem, BUFS, 4), "ping", 4);
	set_desc(DESC, 3, BUFS, 4, VRING_DESC_F_NEXT, 7);
	set_desc(DESC, 7, BUFS + 0x100, 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUFS + 0x200, 5, VRING_DESC_F_WRITE, 0);
	publish(&q, 3);
	CHECK(vq_pop(&q, &mem, &c) == 1, "good chain refused");
	CHECK(c.head == 3 && c.nr_out == 1 && c.nr_in == 2 && c.out_len == 4 && c.in_len == 8,
	      "chain head %u out %u/%llu in %u/%llu", c.head, c.nr_out,
	      (unsigned long long)c.out_len, c.nr_in, (unsigned long long)c.in_len);
	char in[4];
	CHECK(vq_chain_read(&c, 0, in, 4) == 4 && !memcmp(in, "ping", 4), "readable bytes");
	CHECK(vq_chain_write(&c, 1, "abcdefghij", 10) == 7, "write clamps to the buffers");
	CHECK(!memcmp(gmem_ptr(&mem, BUFS + 0x101, 2), "ab", 2) &&
	      !memcmp(gmem_ptr(&mem, BUFS + 0x200, 5), "cdefg", 5), "write split wrong");
	vq_push(&q, c.head, 8);
	CHECK(used()->idx == 1 && used()->ring[0].id == 3 && used()->ring[0].len == 8,
	      "used ring: idx %u id %u len %u", used()->idx, used()->ring[0].id,
	      used()->ring[0].len);
	CHECK(vq_pop(&q, &mem, &c) == 0, "chain popped twice");

	SECTION("indices that wrap past 65535");
	fresh(&q, false);
	q.last_avail = q.used_idx = 0xFFFF;
	set_desc(DESC, 2, BUFS, 8, VRING_DESC_F_WRITE, 0);
	avail()->ring[0xFFFF & (QSIZE - 1)] = 2;
	avail()->ring[0] = 2;
	avail()->idx = 1; /* two pending: 0xFFFF and 0x0000 */
	CHECK(vq_pop(&q, &mem, &c) == 1 && vq_pop(&q, &mem, &c) == 1, "wrapped chains refused");
	CHECK(vq_pop(&q, &mem, &c) == 0, "more than published");
	vq_push(&q, 2, 8);
	vq_push(&q, 2, 8);
	CHECK(used()->idx == 1, "used idx %u after wrapping", used()->idx);

	SECTION("an indirect table, when negotiated");
	fresh(&q, true);
	set_desc(INDIR, 0, BUFS, 16, VRING_DESC_F_NEXT, 2);
	set_desc(INDIR, 2, BUFS + 0x100, 32, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 5, INDIR, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(&q, 5);
	CHECK(vq_pop(&q, &mem, &c) == 1, "indirect chain refused");
	CHECK(c.nr_out == 1 && c.nr_in == 1 && c.out_len == 16 && c.in_len == 32, "indirect chain");

	SECTION("zero-length buffers are skipped, not refused");
	fresh(&q, false);
	set_desc(DESC, 0, 0xFFFFFFFFFFFFFFFFULL, 0, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUFS, 1, VRING_DESC_F_WRITE, 0);
	publish(&q, 0);
	CHECK(vq_pop(&q, &mem, &c) == 1 && c.nr_out == 0 && c.nr_in == 1, "zero-length chain");
}

static void test_hostile_chains(void)
{
	struct virtq q;

	SECTION("a chain that loops");
	fresh(&q, false);
	set_desc(DESC, 0, BUFS, 8, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUFS, 8, VRING_DESC_F_NEXT, 0);
	publish(&q, 0);
	expect_broken(&q, "loop");

	SECTION("a chain that points at itself");
	fresh(&q, false);
	set_desc(DESC, 4, BUFS, 8, VRING_DESC_F_NEXT, 4);
	publish(&q, 4);
	expect_broken(&q, "self loop");

	SECTION("buffers outside RAM, in the hole, and wrapping past 2^64");
	uint64_t addrs[] = { mem.ram_size - 8, GMEM_LOW_LIMIT, 0xFEE00000ULL,
			     0xFFFFFFFFFFFFFFF0ULL, 1ULL << 52 };
	for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fresh(&q, false);
		set_desc(DESC, 0, addrs[i], 0x20, 0, 0);
		publish(&q, 0);
		expect_broken(&q, "buffer outside RAM");
	}

	SECTION("next and head indices past the queue size");
	fresh(&q, false);
	set_desc(DESC, 0, BUFS, 8, VRING_DESC_F_NEXT, QSIZE);
	publish(&q, 0);
	expect_broken(&q, "next past the end");
	fresh(&q, false);
	publish(&q, QSIZE + 3);
	expect_broken(&q, "head past the end");

	SECTION("avail idx claiming more chains than the queue holds");
	fresh(&q, false);
	set_desc(DESC, 0, BUFS, 8, 0, 0);
	avail()->idx = QSIZE + 1;
	expect_broken(&q, "avail idx");

	SECTION("a readable buffer after a writable one");
	fresh(&q, false);
	set_desc(DESC, 0, BUFS, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUFS, 8, 0, 0);
	publish(&q, 0);
	expect_broken(&q, "readable after writable");

	SECTION("a chain longer than VQ_MAX_CHAIN_BYTES");
	fresh(&q, false);
	set_desc(DESC, 0, 0, 40u << 20, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0, 40u << 20, 0, 0);
	publish(&q, 0);
	expect_broken(&q, "oversized chain");

	SECTION("indirect tables: unnegotiated, nested, with NEXT, odd length, looping, outside RAM");
	fresh(&q, false);
	set_desc(DESC, 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(INDIR, 0, BUFS, 8, 0, 0);
	publish(&q, 0);
	expect_broken(&q, "indirect without the feature");
	fresh(&q, true);
	set_desc(DESC, 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(INDIR, 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
	publish(&q, 0);
	expect_broken(&q, "nested indirect");
	fresh(&q, true);
	set_desc(DESC, 0, INDIR, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(INDIR, 0, BUFS, 8, 0, 0);
	publish(&q, 0);
	expect_broken(&q, "indirect with next");
	fresh(&q, true);
	set_desc(DESC, 0, INDIR, 24, VRING_DESC_F_INDIRECT, 0);
	publish(&q, 0);
	expect_broken(&q, "indirect of 1.5 descriptors");
	fresh(&q, true);
	set_desc(DESC, 0, INDIR, 32, VRING_DESC_F_INDIRECT, 0);
	set_desc(INDIR, 0, BUFS, 8, VRING_DESC_F_NEXT, 1);
	set_desc(INDIR, 1, BUFS, 8, VRING_DESC_F_NEXT, 0);
	publish(&q, 0);
	expect_broken(&q, "loop inside an indirect table");
	fresh(&q, true);
	set_desc(DESC, 0, mem.ram_size - 16, 32, VRING_DESC_F_INDIRECT, 0);
	publish(&q, 0);
	expect_broken(&q, "indirect table outside RAM");
	fresh(&q, true);
	set_desc(DESC, 0, INDIR, 16 * (VQ_MAX_SEGS + 1), VRING_DESC_F_INDIRECT, 0);
	publish(&q, 0);
	expect_broken(&q, "indirect table too long");
}

static void test_activate(void)
{
	struct virtq q;
	struct vq_chain c;
	struct { uint16_t size; uint64_t desc, avail, used; const char *what; } bad[] = {
		{ 0, DESC, AVAIL, USED, "size 0" },
		{ 12, DESC, AVAIL, USED, "size not a power of two" },
		{ VQ_MAX_SIZE * 2, DESC, AVAIL, USED, "size above the maximum" },
		{ QSIZE, DESC + 8, AVAIL, USED, "misaligned descriptor table" },
		{ QSIZE, DESC, AVAIL + 1, USED, "misaligned avail ring" },
		{ QSIZE, DESC, AVAIL, USED + 2, "misaligned used ring" },
		{ QSIZE, mem.ram_size - 16, AVAIL, USED, "descriptor table past RAM" },
		{ QSIZE, DESC, GMEM_LOW_LIMIT - 4, USED, "avail ring into the hole" },
		{ QSIZE, DESC, AVAIL, 0xFFFFFFFFFFFFFFF0ULL, "used ring wrapping" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		SECTION("rings refused: %s", bad[i].what);
		vq_reset(&q);
		q.size = bad[i].size;
		q.desc_gpa = bad[i].desc;
		q.avail_gpa = bad[i].avail;
		q.used_gpa = bad[i].used;
		CHECK(vq_activate(&q, &mem, false) < 0 && q.broken && !q.active, "%s accepted",
		      bad[i].what);
		CHECK(vq_pop(&q, &mem, &c) == -1, "%s: popped", bad[i].what);
		vq_push(&q, 0, 0); /* must not write anywhere */
	}
}

int main(void)
{
	struct error err = { 0 };
	CHECK(gmem_init(&mem, GMEM_MIN_SIZE, &err) == 0, "%s", err.msg);
	test_good_chains();
	test_hostile_chains();
	test_activate();
	gmem_destroy(&mem);
	puts("test_virtqueue: all passed");
	return 0;
}
