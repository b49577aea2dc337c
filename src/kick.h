/*
 * kick.h: a virtqueue's notification eventfd (KVM's ioeventfd) and its
 * loop watcher, which pauses during an empty-kick storm.
 *
 * A guest can write the notify register in a loop with nothing new in the
 * ring (HOSTILE.md S1). Each write wakes the loop (epoll, the eventfd read,
 * the device's look at its ring): in the nested bed that cost ~74 us of
 * loop time per kick, close to the guest's own CPU. After KICK_EMPTY_RUN
 * kicks in a row that found nothing new, the watcher stops and a
 * KICK_PAUSE_MS timer takes over: each tick drains whatever kicks came and
 * handles them as one. The first tick with no kick restores the per-kick
 * watcher (and the next empty kick pauses it again); a kick that finds work
 * restores it and clears the run. So a storm costs one wakeup per
 * millisecond however fast it kicks, a real kick is delayed at most
 * KICK_PAUSE_MS and only after KICK_EMPTY_RUN empty ones, and nothing
 * spins. Documented in man/ringvm.1 (LIMITS).
 */
#ifndef RINGVM_KICK_H
#define RINGVM_KICK_H

#include <ev.h>
#include <stdbool.h>

#define KICK_EMPTY_RUN 64	/* empty kicks in a row before the watcher pauses */
#define KICK_PAUSE_MS 1		/* the pause: how long a kick may wait then */

/*
 * kick_fn: the queue was kicked (one or more times since the last call):
 * handle it. Return true when the kick found work (new buffers in the
 * ring), false when it found nothing new.
 */
typedef bool kick_fn(void *arg);

struct kick {
	int fd;				/* the eventfd; -1 before kick_init */
	ev_io io;			/* per-kick watcher (stopped while paused) */
	ev_timer pause;			/* the pause tick (running while paused) */
	struct ev_loop *ev;
	kick_fn *fn;
	void *arg;
	unsigned empty_run;		/* kicks in a row that found nothing new */
	bool paused;
	unsigned long kicks, empty, pauses;	/* handled, found nothing, pauses entered */
};

/*
 * kick_init: a non-blocking eventfd for `k`, watched on loop `ev`; `fn`
 * with `arg` handles kicks. Returns 0 or -errno (k->fd stays -1).
 */
int kick_init(struct kick *k, struct ev_loop *ev, kick_fn *fn, void *arg);

/* kick_fini: stop watching and close the eventfd. Safe after a failed kick_init. */
void kick_fini(struct kick *k);

/* kick_resume: forget the empty run and watch every kick again (device reset). */
void kick_resume(struct kick *k);

#endif
