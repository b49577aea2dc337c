/*
 * vcpu_post.h: posted writes: the port and MMIO writes a vCPU leaves for the
 * loop thread without waiting for them, in a bounded single-producer (the
 * vCPU thread), single-consumer (the loop thread) ring.
 *
 * A write exit needs nothing back from the device, so the vCPU queues it
 * and re-enters the guest at once; the loop emulates the queued writes in
 * order, and always before that vCPU's next handed-off exit (a read, or a
 * write that found the ring full), so the guest never sees a read overtake
 * its own earlier write. The ring holds VCPU_POST_SLOTS writes: a full ring
 * makes the vCPU hand off and wait, never allocate or spin.
 */
#ifndef RINGVM_VCPU_POST_H
#define RINGVM_VCPU_POST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define VCPU_POST_SLOTS 64u	/* a power of two: indices wrap with a mask */

enum vcpu_post_space { VCPU_POST_PIO, VCPU_POST_MMIO };

struct vcpu_post_write {
	uint64_t addr;		/* port or guest-physical address */
	uint8_t space;		/* enum vcpu_post_space */
	uint8_t len;		/* 1..8 */
	uint8_t data[8];
};

struct vcpu_post {
	struct vcpu_post_write slot[VCPU_POST_SLOTS];
	atomic_uint head;	/* next slot to emulate; the loop thread writes it */
	atomic_uint tail;	/* next free slot; the vCPU thread writes it */
	atomic_bool woken;	/* a wake-up of the loop is on its way */
};

/*
 * vcpu_post_push: queue `w` (vCPU thread). Returns false when the ring is
 * full (the caller hands the exit off instead). *wake is set when the
 * caller must wake the loop (loop_handoff_post): no wake-up is pending.
 */
bool vcpu_post_push(struct vcpu_post *q, const struct vcpu_post_write *w, bool *wake);

/*
 * vcpu_post_rearm: the loop thread is about to drain `q`: a push from now on
 * sends a new wake-up. Call before vcpu_post_pop's first call of a pass.
 */
void vcpu_post_rearm(struct vcpu_post *q);

/* vcpu_post_pop: take the oldest write into *w (loop thread). Returns false when empty. */
bool vcpu_post_pop(struct vcpu_post *q, struct vcpu_post_write *w);

#endif
