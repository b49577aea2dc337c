/*
 * test_vcpu_post.c: the posted-write ring (src/vcpu_post.h): order, the
 * bound (a full ring refuses, never grows), one wake-up outstanding until
 * the loop rearms, and a producer thread racing the consumer loses no
 * write and no wake-up.
 */
#include <pthread.h>
#include <string.h>

#include "unit.h"
#include "vcpu_post.h"

static struct unit u = { .file = "vcpu_post" };

static struct vcpu_post_write wr(uint64_t addr)
{
	struct vcpu_post_write w;

	memset(&w, 0, sizeof(w));
	w.space = VCPU_POST_PIO;
	w.addr = addr;
	w.len = 1;
	w.data[0] = (uint8_t)addr;
	return w;
}

static void test_order_and_bound(void)
{
	static struct vcpu_post q;
	struct vcpu_post_write w = wr(0), out;
	bool wake, ok = true;
	unsigned wakes = 0;
	unsigned n;

	UNIT_OK(&u, !vcpu_post_pop(&q, &out) && !vcpu_post_pending(&q), "empty ring: nothing to pop");
	for (n = 0; n < VCPU_POST_SLOTS; n++) {
		w = wr(n);
		ok = ok && vcpu_post_push(&q, &w, &wake);
		wakes += wake;
	}
	UNIT_OK(&u, ok, "a ring's worth of writes is taken");
	UNIT_OK(&u, wakes == 1, "one wake-up for a burst of writes");
	w = wr(999);
	UNIT_OK(&u, !vcpu_post_push(&q, &w, &wake) && !wake, "a full ring refuses the next write");
	vcpu_post_rearm(&q);
	for (n = 0; vcpu_post_pop(&q, &out); n++)
		ok = ok && out.addr == n && out.data[0] == (uint8_t)n;
	UNIT_OK(&u, ok && n == VCPU_POST_SLOTS, "writes come out in order, all of them");
	w = wr(7);
	UNIT_OK(&u, vcpu_post_push(&q, &w, &wake) && wake, "after a rearm the next write wakes again");
	UNIT_OK(&u, vcpu_post_pending(&q), "pending after a push");
}

#define RACE_WRITES 200000u

struct race {
	struct vcpu_post q;
	unsigned wakes_sent;	/* producer: wake-ups it was told to send */
};

static void *race_producer(void *arg)
{
	struct race *r = arg;

	for (unsigned i = 0; i < RACE_WRITES; i++) {
		struct vcpu_post_write w = wr(i);
		bool wake;

		while (!vcpu_post_push(&r->q, &w, &wake))
			;	/* test only: ringvm hands off instead of retrying */
		if (wake)
			__atomic_add_fetch(&r->wakes_sent, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/*
 * The consumer drains only when it has a wake-up to consume, as the loop
 * does: if a wake-up were lost, it would stop before the last write.
 */
static void test_race(void)
{
	static struct race r;
	struct vcpu_post_write out;
	unsigned got = 0, consumed = 0, spins = 0;
	bool ordered = true;
	pthread_t t;

	if (pthread_create(&t, NULL, race_producer, &r)) {
		UNIT_OK(&u, 0, "race: producer thread");
		return;
	}
	while (got < RACE_WRITES && spins < 100000000u) {
		if (consumed == __atomic_load_n(&r.wakes_sent, __ATOMIC_SEQ_CST)) {
			spins++;
			continue;
		}
		consumed++;
		vcpu_post_rearm(&r.q);
		while (vcpu_post_pop(&r.q, &out)) {
			ordered = ordered && out.addr == got;
			got++;
		}
	}
	pthread_join(t, NULL);
	UNIT_OK(&u, got == RACE_WRITES, "race: every write arrives, each drain started by a wake-up");
	UNIT_OK(&u, ordered, "race: in order");
}

int main(void)
{
	test_order_and_bound();
	test_race();
	return unit_done(&u);
}
