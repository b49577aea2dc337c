/*
 * vcpu_post.c: the posted-write ring between a vCPU thread and the loop
 * thread (contracts in vcpu_post.h).
 *
 * Exported: vcpu_post_push, vcpu_post_rearm, vcpu_post_pop.
 *
 * Ordering. The slot is written before `tail` is published (release) and
 * read after `tail` is loaded (acquire); `head` is published after the
 * slot is copied out, so the producer never reuses a slot being read.
 * The wake-up flag and `tail` form a store-buffering pair: the vCPU stores
 * `tail` then exchanges `woken`; the loop stores `woken` = false then loads
 * `tail`. All four are sequentially consistent, so either the vCPU's
 * exchange reads false (and it wakes the loop) or the loop's load sees the
 * new tail (and emulates the write in this pass): no write is left behind.
 */
#include <string.h>

#include "vcpu_post.h"

bool vcpu_post_push(struct vcpu_post *q, const struct vcpu_post_write *w, bool *wake)
{
	unsigned tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	/* Acquire: the loop is done with the slot it freed. */
	unsigned head = atomic_load_explicit(&q->head, memory_order_acquire);

	*wake = false;
	if (tail - head >= VCPU_POST_SLOTS)
		return false;
	q->slot[tail & (VCPU_POST_SLOTS - 1)] = *w;
	atomic_store_explicit(&q->tail, tail + 1, memory_order_seq_cst);
	*wake = !atomic_exchange_explicit(&q->woken, true, memory_order_seq_cst);
	return true;
}

void vcpu_post_rearm(struct vcpu_post *q)
{
	atomic_store_explicit(&q->woken, false, memory_order_seq_cst);
}

bool vcpu_post_pop(struct vcpu_post *q, struct vcpu_post_write *w)
{
	unsigned head = atomic_load_explicit(&q->head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&q->tail, memory_order_seq_cst);

	if (head == tail)
		return false;
	*w = q->slot[head & (VCPU_POST_SLOTS - 1)];
	/* Release: the copy above is done before the vCPU may reuse the slot. */
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	return true;
}
