/*
 * test_kick.c: the queue notification watcher (src/kick.c) and its pause
 * during empty-kick storms (issue 7, O-1; HOSTILE.md S1): paused after
 * KICK_EMPTY_RUN empty kicks, no kick lost, a real kick served at the next
 * tick, no spinning while paused, the per-kick watcher back when the storm
 * stops, reset clears it. A bare libev loop and a fake owner; no KVM.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kick.h"
#include "unit.h"

static struct unit u = { .file = "kick" };

/* The owner: answers what the test says, counts its calls. */
struct owner {
	unsigned calls;
	bool work;		/* the next kick finds work */
};

static bool owner_fn(void *arg)
{
	struct owner *o = arg;
	bool w = o->work;

	o->calls++;
	o->work = false;
	return w;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
	struct ev_loop *ev = ev_loop_new(EVBACKEND_EPOLL);
	struct owner o = { 0, false };
	struct kick k;
	unsigned calls, it;
	double t0, t1;
	bool ok = true;

	if (!ev || kick_init(&k, ev, owner_fn, &o)) {
		printf("not ok - kick: setup\n");
		return 1;
	}
	for (unsigned i = 0; i < KICK_EMPTY_RUN - 1; i++) {
		eventfd_write(k.fd, 1);
		ev_run(ev, EVRUN_NOWAIT);
	}
	ok = o.calls == KICK_EMPTY_RUN - 1 && !k.paused;
	eventfd_write(k.fd, 1);
	ev_run(ev, EVRUN_NOWAIT);
	UNIT_OK(&u, ok && o.calls == KICK_EMPTY_RUN && k.paused && k.pauses == 1,
	    "O-1: 63 empty kicks each handled; the 64th pauses the watcher");

	calls = o.calls;
	for (unsigned i = 0; i < 1000; i++) {
		eventfd_write(k.fd, 1);
		ev_run(ev, EVRUN_NOWAIT);
	}
	UNIT_OK(&u, o.calls == calls, "O-1: paused: 1000 kicks wake nothing before the tick");

	o.work = true;
	eventfd_write(k.fd, 1);
	t0 = now_ms();
	ev_run(ev, EVRUN_ONCE);
	t1 = now_ms();
	printf("# a kick with work waited %.2f ms in the pause\n", t1 - t0);
	UNIT_OK(&u, o.calls == calls + 1 && !k.paused && k.empty_run == 0,
	    "O-1: the next tick drains the 1001 kicks in one call; one with work resumes the "
	    "per-kick watcher");
	eventfd_write(k.fd, 1);
	ev_run(ev, EVRUN_NOWAIT);
	UNIT_OK(&u, o.calls == calls + 2 && !k.paused, "O-1: after work each kick is handled again");

	/* Into the pause again, then a storm of 20 ticks: the loop sleeps between them. */
	for (unsigned i = 0; i < KICK_EMPTY_RUN; i++) {
		eventfd_write(k.fd, 1);
		ev_run(ev, EVRUN_NOWAIT);
	}
	calls = o.calls;
	it = ev_iteration(ev);
	t0 = now_ms();
	for (unsigned i = 0; i < 20; i++) {
		eventfd_write(k.fd, 1);
		ev_run(ev, EVRUN_ONCE);
	}
	t1 = now_ms();
	printf("# 20 paused kicks: %.2f ms, %u loop iterations, %u calls\n", t1 - t0,
	    ev_iteration(ev) - it, o.calls - calls);
	UNIT_OK(&u, k.paused && o.calls - calls <= 20 && t1 - t0 >= 20 * KICK_PAUSE_MS * 0.9,
	    "O-1: a storm while paused is served once per tick, the loop blocking in between "
	    "(no spin)");

	/* A tick with no kick: per-kick watching again, but the next empty kick re-pauses. */
	ev_run(ev, EVRUN_ONCE);
	ok = !k.paused && k.empty_run >= KICK_EMPTY_RUN;
	calls = o.calls;
	eventfd_write(k.fd, 1);
	ev_run(ev, EVRUN_NOWAIT);
	UNIT_OK(&u, ok && o.calls == calls + 1 && k.paused,
	    "O-1: a quiet tick unpauses; the storm's next empty kick pauses again at once");

	kick_resume(&k);
	eventfd_write(k.fd, 1);
	ev_run(ev, EVRUN_NOWAIT);
	UNIT_OK(&u, !k.paused && k.empty_run == 1 && o.calls == calls + 2,
	    "O-1: kick_resume (device reset) watches every kick and forgets the run");

	kick_fini(&k);
	UNIT_OK(&u, k.fd == -1 && !ev_is_active(&k.io) && !ev_is_active(&k.pause),
	    "O-1: kick_fini stops both watchers and closes the eventfd");
	kick_fini(&k);
	ev_loop_destroy(ev);
	printf("# kick: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
