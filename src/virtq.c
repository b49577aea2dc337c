/*
 * virtq.c: the split and packed virtqueue walker (virtio 1.2, sections 2.7
 * and 2.8). Every guest-shared field is read once into a local before it is
 * checked and used (HOSTILE.md R9); ring memory is reached only through
 * host addresses checked by gmem_ptr() when the queue was enabled, and
 * buffers through gmem_ptr() as each descriptor is walked.
 *
 * Exported (contracts in virtq.h): virtq_enable, virtq_disable, virtq_halt,
 * virtq_pop, virtq_kick_news, virtq_pop_armed, virtq_unpop, virtq_push,
 * virtq_need_interrupt, virtq_kick_enable, virtq_copy_from, virtq_copy_to.
 */
#include <errno.h>
#include <string.h>

#include "virtq.h"

/* Descriptor flags (split and packed). */
#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define DESC_F_INDIRECT 4u
#define DESC_F_AVAIL (1u << 7)
#define DESC_F_USED (1u << 15)
#define SPLIT_FLAGS_KNOWN (DESC_F_NEXT | DESC_F_WRITE | DESC_F_INDIRECT)
#define PACKED_FLAGS_KNOWN (SPLIT_FLAGS_KNOWN | DESC_F_AVAIL | DESC_F_USED)
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u
#define EVENT_F_ENABLE 0u
#define EVENT_F_DISABLE 1u
#define EVENT_F_DESC 2u

/* Both rings use 16-byte descriptors; the packed one replaces `next` with an ID. */
struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags_or_id;	/* split: flags; packed: Buffer ID */
	uint16_t next_or_flags;	/* split: next; packed: flags */
};
_Static_assert(sizeof(struct vdesc) == 16, "virtqueue descriptors are 16 bytes");

/* Offsets inside the split rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4

static uint16_t ld16(const uint8_t *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); }
static uint16_t ld16_acq(const uint8_t *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE); }
static void st16(uint8_t *p, uint16_t v) { __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED); }
static void st16_rel(uint8_t *p, uint16_t v) { __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE); }
static void st32(uint8_t *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED); }

/* virtq_fail: remember the first reason and stop the queue. */
static int virtq_fail(struct virtq *vq, const char *why)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->why = why;
	}
	return -EPROTO;
}

/* virtq_map: the checked host address of a ring area aligned to `align`. */
static uint8_t *virtq_map(const struct gmem *mem, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return gmem_ptr(mem, gpa, len);
}

int virtq_enable(struct virtq *vq, const struct gmem *mem, uint16_t size,
    uint64_t features, uint64_t desc, uint64_t driver, uint64_t device)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->packed = features & (1ull << VIRTQ_F_RING_PACKED);
	vq->event_idx = features & (1ull << VIRTQ_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTQ_F_INDIRECT_DESC);
	vq->size = size;
	/* Size 0 can never be enabled; split sizes must be powers of two (T1). */
	if (size == 0 || size > VIRTQ_MAX_SIZE)
		return virtq_fail(vq, "queue size out of range"), -EINVAL;
	if (!vq->packed && (size & (size - 1)))
		return virtq_fail(vq, "split queue size is not a power of 2"), -EINVAL;
	vq->desc = virtq_map(mem, desc, 16ull * size, 16);
	if (vq->packed) {
		vq->driver_event = virtq_map(mem, driver, 4, 4);
		vq->device_event = virtq_map(mem, device, 4, 4);
		if (!vq->desc || !vq->driver_event || !vq->device_event)
			return virtq_fail(vq, "packed ring outside RAM or misaligned"), -EINVAL;
		vq->avail_wrap = vq->used_wrap = true;	/* both wrap counters start at 1 */
	} else {
		/* flags, idx, ring[size], used_event / avail_event */
		vq->avail = virtq_map(mem, driver, 6 + 2ull * size, 2);
		vq->used = virtq_map(mem, device, 6 + 8ull * size, 4);
		if (!vq->desc || !vq->avail || !vq->used)
			return virtq_fail(vq, "split ring outside RAM or misaligned"), -EINVAL;
		/* A queue starts with both indices at 0 (the driver zeroed its rings). */
		vq->used_idx = vq->last_avail = vq->signalled_used = 0;
	}
	vq->unsignalled = 0;
	vq->enabled = true;
	return 0;
}

void virtq_disable(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

void virtq_halt(struct virtq *vq)
{
	vq->halted = true;
}

/*
 * chain_add: append one descriptor's buffer after checking its direction,
 * its guest range and the running totals (R6, M1-M3).
 */
static int chain_add(struct virtq *vq, struct virtq_chain *c, uint64_t addr, uint32_t len,
    bool write, uint64_t *total)
{
	void *hva;

	if (c->nseg == vq->size)
		return virtq_fail(vq, "chain longer than the queue");
	if (!write && c->nseg != c->nread)
		return virtq_fail(vq, "device-readable descriptor after a writable one");
	hva = gmem_ptr(vq->mem, addr, len);
	if (!hva)
		return virtq_fail(vq, "descriptor buffer outside guest RAM");
	/* 64-bit sum; a chain may not describe more than 4 GiB (M3). */
	if (__builtin_add_overflow(*total, (uint64_t)len, total) || *total > UINT32_MAX)
		return virtq_fail(vq, "chain length overflows 32 bits");
	c->seg[c->nseg].iov.iov_base = hva;
	c->seg[c->nseg].iov.iov_len = len;
	c->seg[c->nseg].write = write;
	c->nseg++;
	if (write) {
		c->tok.write_len += len;
	} else {
		c->nread++;
		c->read_len += len;
	}
	return 0;
}

/*
 * chain_indirect: walk an indirect table (I1-I5). In a split ring, entries
 * link by `next` within the table and may not be indirect themselves; in a
 * packed ring they are used in order and flags other than WRITE are ignored.
 */
static int chain_indirect(struct virtq *vq, struct virtq_chain *c, const struct vdesc *d,
    uint64_t *total)
{
	const uint8_t *table;
	uint32_t n, i = 0, walked = 0;

	if (!vq->indirect)
		return virtq_fail(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (d->len == 0 || d->len % sizeof(struct vdesc))
		return virtq_fail(vq, "indirect table size is not a multiple of 16");
	n = d->len / sizeof(struct vdesc);
	if (n > vq->size)
		return virtq_fail(vq, "indirect table longer than the queue");
	table = gmem_ptr(vq->mem, d->addr, d->len);
	if (!table)
		return virtq_fail(vq, "indirect table outside guest RAM");
	for (;;) {
		struct vdesc e;
		uint16_t flags;
		int r;

		/* Each entry is read once; only this copy is checked and used. */
		memcpy(&e, table + (size_t)i * sizeof(e), sizeof(e));
		if (++walked > n)
			return virtq_fail(vq, "loop in an indirect table");
		if (vq->packed) {
			flags = e.next_or_flags & DESC_F_WRITE;
			r = chain_add(vq, c, e.addr, e.len, flags & DESC_F_WRITE, total);
			if (r)
				return r;
			if (++i == n)
				return 0;
			continue;
		}
		flags = e.flags_or_id;
		if (flags & ~SPLIT_FLAGS_KNOWN)
			return virtq_fail(vq, "unknown descriptor flags");
		if (flags & DESC_F_INDIRECT)
			return virtq_fail(vq, "nested indirect descriptor");
		r = chain_add(vq, c, e.addr, e.len, flags & DESC_F_WRITE, total);
		if (r)
			return r;
		if (!(flags & DESC_F_NEXT))
			return 0;
		if (e.next_or_flags >= n)
			return virtq_fail(vq, "indirect next index out of the table");
		i = e.next_or_flags;
	}
}

static void chain_reset(struct virtq_chain *c)
{
	c->nseg = c->nread = 0;
	c->read_len = c->tok.write_len = 0;
	c->tok.ndesc = 0;
}

static int virtq_pop_split(struct virtq *vq, struct virtq_chain *c)
{
	uint16_t avail_idx, head, i;
	uint64_t total = 0;
	unsigned walked = 0;

	/* Acquire: ring entries written before the index are visible after it. */
	avail_idx = ld16_acq(vq->avail + AVAIL_IDX);
	if (avail_idx == vq->last_avail)
		return 0;
	/* More than a ring's worth ahead is impossible for a correct driver (R5). */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return virtq_fail(vq, "available index moved more than the queue size");
	head = ld16(vq->avail + AVAIL_RING + 2 * (vq->last_avail & (vq->size - 1)));
	if (head >= vq->size)
		return virtq_fail(vq, "available ring entry out of range");
	chain_reset(c);
	c->prev_avail = vq->last_avail;
	c->tok.id = head;
	c->tok.ndesc = 1;
	for (i = head;;) {
		struct vdesc d;
		int r;

		if (++walked > vq->size)
			return virtq_fail(vq, "descriptor loop");
		memcpy(&d, vq->desc + (size_t)i * sizeof(d), sizeof(d));
		if (d.flags_or_id & ~SPLIT_FLAGS_KNOWN)
			return virtq_fail(vq, "unknown descriptor flags");
		if (d.flags_or_id & DESC_F_INDIRECT) {
			/* The WRITE bit of the table's own descriptor is ignored (I4). */
			if (d.flags_or_id & DESC_F_NEXT)
				return virtq_fail(vq, "indirect descriptor with NEXT");
			r = chain_indirect(vq, c, &d, &total);
			if (r)
				return r;
			break;
		}
		r = chain_add(vq, c, d.addr, d.len, d.flags_or_id & DESC_F_WRITE, &total);
		if (r)
			return r;
		if (!(d.flags_or_id & DESC_F_NEXT))
			break;
		if (d.next_or_flags >= vq->size)
			return virtq_fail(vq, "next descriptor index out of range");
		i = d.next_or_flags;
	}
	if (total == 0)
		return virtq_fail(vq, "zero-length chain");
	vq->last_avail++;
	return 1;
}

/* packed_avail: whether descriptor flags say "available" for wrap counter `wrap`. */
static bool packed_avail(uint16_t flags, bool wrap)
{
	return !!(flags & DESC_F_AVAIL) == wrap && !!(flags & DESC_F_USED) != wrap;
}

static int virtq_pop_packed(struct virtq *vq, struct virtq_chain *c)
{
	uint16_t i = vq->next_avail, flags;
	bool wrap = vq->avail_wrap;
	uint64_t total = 0;
	unsigned walked = 0;
	struct vdesc d;

	/* Acquire: the descriptor body is read only after its flags say it is ours. */
	flags = ld16_acq(vq->desc + (size_t)i * sizeof(d) + 14);
	if (!packed_avail(flags, wrap))
		return 0;
	chain_reset(c);
	c->prev_avail = vq->next_avail;
	c->prev_wrap = vq->avail_wrap;
	for (;;) {
		int r;

		if (++walked > vq->size)
			return virtq_fail(vq, "descriptor list longer than the queue");
		memcpy(&d, vq->desc + (size_t)i * sizeof(d), sizeof(d));
		flags = d.next_or_flags;
		/*
		 * Decide on this copy only. The driver makes the head available
		 * last, so after the acquire above every link must already be
		 * available (P1); a head that changed under us is the same fault.
		 */
		if (!packed_avail(flags, wrap))
			return virtq_fail(vq, "chained descriptor not yet available");
		if (flags & ~PACKED_FLAGS_KNOWN)
			return virtq_fail(vq, "unknown descriptor flags");
		if (flags & DESC_F_INDIRECT) {
			if (flags & DESC_F_NEXT)
				return virtq_fail(vq, "indirect descriptor with NEXT");
			r = chain_indirect(vq, c, &d, &total);
		} else {
			r = chain_add(vq, c, d.addr, d.len, flags & DESC_F_WRITE, &total);
		}
		if (r)
			return r;
		c->tok.id = d.flags_or_id;	/* the Buffer ID of the last descriptor counts (P2) */
		if (++i == vq->size) {
			i = 0;
			wrap = !wrap;
		}
		if (!(flags & DESC_F_NEXT))
			break;
	}
	if (total == 0)
		return virtq_fail(vq, "zero-length chain");
	c->tok.ndesc = (uint16_t)walked;
	vq->next_avail = i;
	vq->avail_wrap = wrap;
	return 1;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	int r;

	if (!vq->enabled || vq->broken || vq->halted)
		return vq->broken ? -EPROTO : 0;
	r = vq->packed ? virtq_pop_packed(vq, c) : virtq_pop_split(vq, c);
	if (r == 1)
		vq->pops++;
	return r;
}

bool virtq_kick_news(struct virtq *vq, uint16_t *seen)
{
	uint16_t now;

	if (!vq->enabled || vq->broken || vq->halted)
		return false;
	if (vq->packed) {
		now = vq->pops;
	} else {
		now = ld16_acq(vq->avail + AVAIL_IDX);
		/*
		 * A driver cannot be more than a ring ahead (R5): an index that
		 * says so is no news, or a guest could make every kick look
		 * useful by bumping it on a queue the device does not pop.
		 */
		if ((uint16_t)(now - vq->last_avail) > vq->size)
			return false;
	}
	if (now == *seen)
		return false;
	*seen = now;
	return true;
}

int virtq_pop_armed(struct virtq *vq, struct virtq_chain *c)
{
	int r = virtq_pop(vq, c);

	if (r != 0)
		return r;
	virtq_kick_enable(vq, true);
	return virtq_pop(vq, c);
}

void virtq_unpop(struct virtq *vq, const struct virtq_chain *c)
{
	if (vq->packed) {
		vq->next_avail = c->prev_avail;
		vq->avail_wrap = c->prev_wrap;
	} else {
		vq->last_avail = c->prev_avail;
	}
}

void virtq_push(struct virtq *vq, const struct virtq_token *tok, uint32_t written)
{
	/* A broken ring or a failed device gets no more used entries (F-2). */
	if (!vq->enabled || vq->broken || vq->halted)
		return;
	if (written > tok->write_len)
		written = tok->write_len;
	if (vq->packed) {
		uint8_t *d = vq->desc + (size_t)vq->next_used * sizeof(struct vdesc);
		uint16_t flags = vq->used_wrap ? (DESC_F_AVAIL | DESC_F_USED) : 0;

		if (written)
			flags |= DESC_F_WRITE;
		st32(d + 8, written);
		st16(d + 12, tok->id);
		/* Release: ID and length are visible before the flags hand the slot back. */
		st16_rel(d + 14, flags);
		vq->unsignalled += tok->ndesc;
		vq->next_used = (uint16_t)(vq->next_used + tok->ndesc);
		if (vq->next_used >= vq->size) {
			vq->next_used = (uint16_t)(vq->next_used - vq->size);
			vq->used_wrap = !vq->used_wrap;
		}
		return;
	}
	{
		uint8_t *e = vq->used + USED_RING + 8 * (size_t)(vq->used_idx & (vq->size - 1));

		st32(e, tok->id);
		st32(e + 4, written);
		vq->unsignalled++;
		vq->used_idx++;
		/* Release: the element is visible before the index that publishes it (X3). */
		st16_rel(vq->used + USED_IDX, vq->used_idx);
	}
}

/* need_event: the virtio "vring_need_event" test on 16-bit ring positions. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now;
	uint32_t pushed = vq->unsignalled;

	if (!vq->enabled || vq->halted)
		return false;
	/* Nothing published since the last decision: nothing to tell (S1). */
	vq->unsignalled = 0;
	if (pushed == 0)
		return false;
	/*
	 * Full barrier: our used index (or flags) must be visible to the driver
	 * before we read its suppression state, or both sides can miss each
	 * other and the driver sleeps with work pending.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->packed) {
		uint16_t flags = ld16(vq->driver_event + 2), off_wrap;
		uint32_t ring2 = 2u * vq->size, now_lin, ev_lin, back;

		if (flags == EVENT_F_ENABLE)
			return true;
		if (flags != EVENT_F_DESC || !vq->event_idx)
			return false;
		/*
		 * Positions over two laps (slot, wrap counter) are a counter mod
		 * 2 * size. The driver's event slot was used in this batch when
		 * it lies 1..pushed slots behind our next slot; a batch of a
		 * whole ring or more passed it for certain.
		 */
		off_wrap = ld16(vq->driver_event);
		now_lin = vq->next_used + (vq->used_wrap ? vq->size : 0u);
		ev_lin = (off_wrap & 0x7fffu) % vq->size + ((off_wrap >> 15) ? vq->size : 0u);
		back = (now_lin + ring2 - ev_lin) % ring2;
		return pushed >= vq->size || (back >= 1 && back <= pushed);
	}
	now = vq->used_idx;
	vq->signalled_used = now;
	if (vq->event_idx)
		return pushed >= 0x10000u ||
		    need_event(ld16(vq->avail + AVAIL_RING + 2 * vq->size), now, old);
	return !(ld16(vq->avail + AVAIL_FLAGS) & AVAIL_F_NO_INTERRUPT);
}

void virtq_kick_enable(struct virtq *vq, bool on)
{
	if (!vq->enabled || vq->halted)
		return;
	if (vq->packed) {
		st16(vq->device_event + 2, on ? EVENT_F_ENABLE : EVENT_F_DISABLE);
	} else if (vq->event_idx) {
		/* avail_event: kick us once the driver moves past what we have taken. */
		if (on)
			st16(vq->used + USED_RING + 8 * (size_t)vq->size, vq->last_avail);
	} else {
		st16(vq->used + USED_FLAGS, on ? 0 : USED_F_NO_NOTIFY);
	}
	/* The driver reads these before deciding to kick: order them before our next ring read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint32_t virtq_copy_from(const struct virtq_chain *c, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *out = dst;
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nread && done < len; i++) {
		uint32_t seglen = (uint32_t)c->seg[i].iov.iov_len, take;

		if (off >= seglen) {
			off -= seglen;
			continue;
		}
		take = seglen - off < len - done ? seglen - off : len - done;
		memcpy(out + done, (uint8_t *)c->seg[i].iov.iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

uint32_t virtq_copy_to(const struct virtq_chain *c, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *in = src;
	uint32_t done = 0;

	for (unsigned i = c->nread; i < c->nseg && done < len; i++) {
		uint32_t seglen = (uint32_t)c->seg[i].iov.iov_len, take;

		if (off >= seglen) {
			off -= seglen;
			continue;
		}
		take = seglen - off < len - done ? seglen - off : len - done;
		memcpy((uint8_t *)c->seg[i].iov.iov_base + off, in + done, take);
		done += take;
		off = 0;
	}
	return done;
}
