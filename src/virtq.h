/*
 * virtq.h: virtqueues, split and packed, as the device side sees them.
 *
 * One chain walker serves every device and is the first code a hostile
 * guest meets (BRIEF rules 1-6, 9; HOSTILE.md 2a-2b). It snapshots each
 * descriptor once, walks whole chains bounded by the queue size (indirect
 * tables by their own size), checks every address + length through the
 * guest-memory accessor, checks directions (readable before writable), sums
 * lengths with overflow checks, and reports a structurally malformed ring
 * instead of guessing: the transport then marks the device DEVICE_NEEDS_RESET
 * and the queue stays stopped.
 */
#ifndef RINGVM_VIRTQ_H
#define RINGVM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmem.h"

#define VIRTQ_MAX_SIZE 256	/* largest queue size a device offers */

/* Feature bits the walker itself implements (virtio 1.2, section 6). */
#define VIRTQ_F_INDIRECT_DESC 28
#define VIRTQ_F_EVENT_IDX 29
#define VIRTQ_F_RING_PACKED 34

/* One descriptor's buffer, checked: `iov` lies wholly inside guest RAM. */
struct virtq_seg {
	struct iovec iov;
	bool write;		/* device-writable */
};

/* What publishing a chain as used needs; small enough to keep per request. */
struct virtq_token {
	uint16_t id;		/* split: head index; packed: Buffer ID of the last descriptor */
	uint16_t ndesc;		/* ring slots the chain took (packed bookkeeping) */
	uint32_t write_len;	/* bytes in writable segments: the most USED may report */
};

/* A popped chain: readable segments first, then writable ones. */
struct virtq_chain {
	struct virtq_token tok;
	uint16_t nseg;
	uint16_t nread;		/* segments [0, nread) are device-readable */
	uint32_t read_len;	/* bytes in readable segments */
	uint16_t prev_avail;	/* ring position before this pop, for virtq_unpop */
	bool prev_wrap;
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

struct virtq {
	const struct gmem *mem;
	uint16_t size;
	bool packed, event_idx, indirect;
	bool enabled;
	bool broken;		/* a malformed ring was seen: nothing more is done */
	bool halted;		/* the device needs reset: nothing popped or published */
	const char *why;	/* what was malformed, for the one log line */
	/* split ring (host addresses of checked guest ranges) */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail;	/* next avail ring slot to read */
	uint16_t used_idx;	/* our copy of used->idx */
	/* packed ring */
	uint8_t *driver_event, *device_event;
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	uint16_t pops;		/* chains taken, mod 2^16 (virtq_kick_news) */
	/* interrupt suppression bookkeeping */
	uint16_t signalled_used;	/* split: used index at the last interrupt decision */
	uint32_t unsignalled;		/* entries (packed: slots) pushed since that decision */
};

/*
 * virtq_enable: start a queue of `size` descriptors whose rings the driver
 * placed at desc/driver/device. Checks what the specification requires
 * before any use: size (power of two for split, 1..VIRTQ_MAX_SIZE), ring
 * alignment (16/2/4, packed 16/4/4) and that every ring lies in guest RAM
 * (HOSTILE.md T1, T3). Returns 0, or -EINVAL with vq->why set.
 */
int virtq_enable(struct virtq *vq, const struct gmem *mem, uint16_t size,
    uint64_t features, uint64_t desc, uint64_t driver, uint64_t device);

/* virtq_disable: forget the queue (device reset). */
void virtq_disable(struct virtq *vq);

/*
 * virtq_halt: the device declared itself broken (DEVICE_NEEDS_RESET): from
 * now until virtq_disable the queue pops nothing, publishes nothing and
 * asks for no interrupt, whatever a device still has in hand (rule 4:
 * after the fault the guest's memory is left alone).
 */
void virtq_halt(struct virtq *vq);

/*
 * virtq_pop: take the next available chain into `c`. Returns 1 with a chain,
 * 0 when the ring is empty, -EPROTO when the ring is malformed (vq->broken
 * and vq->why are set; the caller marks the device for reset).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);

/*
 * virtq_pop_armed: virtq_pop, and when the ring is empty, ask the driver for
 * a kick (virtq_kick_enable) and look once more: buffers added before the
 * driver saw the request would otherwise wait for a kick that never comes.
 * Same results as virtq_pop.
 */
int virtq_pop_armed(struct virtq *vq, struct virtq_chain *c);

/*
 * virtq_unpop: give back the chain popped last (back-pressure: the device
 * cannot take it now and will pop it again later).
 */
void virtq_unpop(struct virtq *vq, const struct virtq_chain *c);

/*
 * virtq_push: publish the chain of `tok` as used with `written` bytes
 * written to its writable segments (clamped to tok->write_len). The used
 * entry is written before the index or flags that make it visible (release
 * ordering).
 */
void virtq_push(struct virtq *vq, const struct virtq_token *tok, uint32_t written);

/*
 * virtq_need_interrupt: after one or more pushes, whether the driver asked
 * to be interrupted (EVENT_IDX, or the no-interrupt flags).
 */
bool virtq_need_interrupt(struct virtq *vq);

/*
 * virtq_kick_enable: ask the driver to notify (true) or not (false) when it
 * adds buffers. After enabling, the caller must pop again: buffers added
 * before the driver saw the change would otherwise wait forever.
 */
void virtq_kick_enable(struct virtq *vq, bool on);

/*
 * virtq_kick_news: whether the ring changed since *seen was recorded, for
 * telling a kick with work from an empty one (kick.h). Split: the driver's
 * avail index moved (an index more than a ring ahead is no news); packed,
 * which has no index: the device took a chain. Updates *seen. A stopped or
 * disabled queue has no news.
 */
bool virtq_kick_news(struct virtq *vq, uint16_t *seen);

/* virtq_copy_from: gather `len` bytes at `off` of the chain's readable segments. Returns bytes copied. */
uint32_t virtq_copy_from(const struct virtq_chain *c, uint32_t off, void *dst, uint32_t len);

/* virtq_copy_to: scatter into the writable segments from offset `off`. Returns bytes copied. */
uint32_t virtq_copy_to(const struct virtq_chain *c, uint32_t off, const void *src, uint32_t len);

#endif
