/* The split-ring walker. Guest memory may change under it at any time, so each descriptor is
 * copied out once and only the copy is checked and used; ring indices are read atomically. */
#include "devices/virtio/queue.h"

#include <string.h>

void vq_reset(struct virtq *q)
{
	*q = (struct virtq){ .size = VQ_MAX_SIZE, .msix_vector = 0xFFFF };
}

int vq_activate(struct virtq *q, const struct guest_mem *m, bool indirect)
{
	uint64_t n = q->size;
	q->active = false;
	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)) || (q->desc_gpa & 15) ||
	    (q->avail_gpa & 1) || (q->used_gpa & 3))
		goto broken;
	uint64_t event = q->event_idx ? 2 : 0; /* used_event, avail_event */
	q->desc = gmem_ptr(m, q->desc_gpa, 16 * n);
	q->avail = gmem_ptr(m, q->avail_gpa, 4 + 2 * n + event);
	q->used = gmem_ptr(m, q->used_gpa, 4 + 8 * n + event);
	if (!q->desc || !q->avail || !q->used)
		goto broken;
	q->indirect = indirect;
	q->last_avail = q->used_idx = 0;
	q->notify_off = q->signalled = false;
	q->active = true;
	q->broken = false;
	return 0;
broken:
	q->broken = true;
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	return -1;
}

/* EVENT_IDX's two words, where the UAPI's vring_avail_event/vring_used_event put them: just
 * past the used ring's and the avail ring's entries (vq_activate mapped both). */
static uint16_t *vq_avail_event(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

static uint16_t *vq_used_event(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

static int vq_break(struct virtq *q)
{
	q->broken = true;
	return -1;
}

/* Adds one buffer to the chain, enforcing the order and the bounds. */
static bool vq_add_buf(struct vq_chain *c, const struct guest_mem *m, const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	if (!writable && c->nr_in)
		return false; /* readable after writable */
	if (d->len == 0)
		return true;
	if (c->nr_out + c->nr_in >= VQ_MAX_SEGS)
		return false;
	uint8_t *host = gmem_ptr(m, d->addr, d->len);
	if (!host)
		return false;
	if (c->out_len + c->in_len + d->len > VQ_MAX_CHAIN_BYTES)
		return false;
	c->buf[c->nr_out + c->nr_in] = (struct vq_buf){ .host = host, .len = d->len };
	if (writable) {
		c->nr_in++;
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return true;
}

int vq_pop(struct virtq *q, const struct guest_mem *m, struct vq_chain *c)
{
	if (!q->active || q->broken)
		return q->broken ? -1 : 0;
	uint16_t avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return vq_break(q);
	uint16_t head = __atomic_load_n(&q->avail->ring[q->last_avail & (q->size - 1)],
					__ATOMIC_RELAXED);
	if (head >= q->size)
		return vq_break(q);

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	const uint8_t *table = (const uint8_t *)q->desc;
	uint32_t table_size = q->size, idx = head, walked = 0;
	bool in_indirect = false;
	for (;;) {
		/* More steps than entries in the table means the chain loops. */
		if (idx >= table_size || ++walked > table_size)
			return vq_break(q);
		struct vring_desc d;
		memcpy(&d, table + 16 * (size_t)idx, sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    d.len == 0 || d.len % 16 || d.len / 16 > VQ_MAX_SEGS)
				return vq_break(q);
			table = gmem_ptr(m, d.addr, d.len);
			if (!table)
				return vq_break(q);
			table_size = d.len / 16;
			idx = 0;
			walked = 0;
			in_indirect = true;
			continue;
		}
		if (!vq_add_buf(c, m, &d))
			return vq_break(q);
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	q->last_avail++;
	if (q->event_idx && !q->notify_off) /* notify when you add the next one */
		__atomic_store_n(vq_avail_event(q), q->last_avail, __ATOMIC_RELAXED);
	return 1;
}

void vq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->active)
		return;
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void vq_unpop(struct virtq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void vq_push_many(struct virtq *q, const struct vring_used_elem *elems, unsigned n)
{
	if (!q->active)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct vring_used_elem *e = &q->used->ring[(uint16_t)(q->used_idx + i) & (q->size - 1)];
		__atomic_store_n(&e->id, elems[i].id, __ATOMIC_RELAXED);
		__atomic_store_n(&e->len, elems[i].len, __ATOMIC_RELAXED);
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	/* All n elements before the one index store that publishes them together. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void vq_set_notify(struct virtq *q, bool enable)
{
	if (!q->active)
		return;
	q->notify_off = !enable;
	if (q->event_idx) {
		/* Off: avail_event stays behind, so the driver's next index does not cross it. */
		if (enable)
			__atomic_store_n(vq_avail_event(q), q->last_avail, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&q->used->flags, enable ? 0 : VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool vq_has_pending(const struct virtq *q)
{
	if (!q->active || q->broken)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the flag before the driver's avail index */
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}

bool vq_wants_interrupt(struct virtq *q)
{
	if (!q->active)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used->idx before the driver's flags */
	if (!q->event_idx)
		return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t event = __atomic_load_n(vq_used_event(q), __ATOMIC_RELAXED);
	bool want = !q->signalled || vring_need_event(event, q->used_idx, q->signalled_used);
	if (want) {
		q->signalled = true;
		q->signalled_used = q->used_idx;
	}
	return want;
}

static uint32_t vq_chain_copy(const struct vq_chain *c, unsigned first, unsigned count,
			      uint64_t offset, uint8_t *p, uint32_t len, bool to_guest)
{
	uint32_t done = 0;
	for (unsigned i = first; i < first + count && done < len; i++) {
		const struct vq_buf *b = &c->buf[i];
		if (offset >= b->len) {
			offset -= b->len;
			continue;
		}
		uint32_t n = b->len - (uint32_t)offset;
		if (n > len - done)
			n = len - done;
		if (to_guest)
			memcpy(b->host + offset, p + done, n);
		else
			memcpy(p + done, b->host + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

uint32_t vq_chain_write(const struct vq_chain *c, uint64_t offset, const void *src, uint32_t len)
{
	return vq_chain_copy(c, c->nr_out, c->nr_in, offset, (uint8_t *)src, len, true);
}

uint32_t vq_chain_read(const struct vq_chain *c, uint64_t offset, void *dst, uint32_t len)
{
	return vq_chain_copy(c, 0, c->nr_out, offset, dst, len, false);
}
