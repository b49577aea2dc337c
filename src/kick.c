/*
 * kick.c: the queue notification watcher with its empty-storm pause (see
 * kick.h).
 *
 * Exported (contracts in kick.h): kick_resume, kick_init, kick_fini.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kick.h"

/* kick_drain: consume every kick counted so far; false when there was none. */
static bool kick_drain(struct kick *k)
{
	uint64_t n;

	/* One read takes any number of kicks: a storm costs O(1) per wakeup (S1). */
	return read(k->fd, &n, sizeof(n)) == sizeof(n);
}

static void kick_pause(struct kick *k)
{
	ev_io_stop(k->ev, &k->io);
	ev_timer_set(&k->pause, KICK_PAUSE_MS / 1000.0, KICK_PAUSE_MS / 1000.0);
	ev_timer_start(k->ev, &k->pause);
	k->paused = true;
	k->pauses++;
}

/* kick_unpause: watch every kick again; the empty run is kept. */
static void kick_unpause(struct kick *k)
{
	if (!k->paused)
		return;
	ev_timer_stop(k->ev, &k->pause);
	/*
	 * Kicks that came since the last drain are still counted in the
	 * eventfd, which epoll reports level-triggered: none is lost.
	 */
	ev_io_start(k->ev, &k->io);
	k->paused = false;
}

void kick_resume(struct kick *k)
{
	k->empty_run = 0;
	kick_unpause(k);
}

/* kick_handle: let the owner look at the ring; count the empty kicks in a row. */
static void kick_handle(struct kick *k)
{
	k->kicks++;
	if (k->fn(k->arg)) {
		kick_resume(k);
		return;
	}
	k->empty++;
	if (++k->empty_run >= KICK_EMPTY_RUN && !k->paused)
		kick_pause(k);
}

static void kick_on_io(struct ev_loop *ev, ev_io *w, int revents)
{
	struct kick *k = w->data;

	(void)ev;
	(void)revents;
	if (kick_drain(k))
		kick_handle(k);
}

static void kick_on_pause(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct kick *k = w->data;

	(void)ev;
	(void)revents;
	/*
	 * A whole pause without a kick: watch every kick again. The empty run
	 * is kept, so a storm that merely stuttered pauses again at its next
	 * empty kick, not after another KICK_EMPTY_RUN wakeups; the first kick
	 * that finds work clears it.
	 */
	if (!kick_drain(k)) {
		kick_unpause(k);
		return;
	}
	kick_handle(k);		/* work resumes the watcher; nothing new keeps the pause */
}

int kick_init(struct kick *k, struct ev_loop *ev, kick_fn *fn, void *arg)
{
	k->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	k->ev = ev;
	k->fn = fn;
	k->arg = arg;
	k->empty_run = 0;
	k->paused = false;
	k->kicks = k->empty = k->pauses = 0;
	ev_io_init(&k->io, kick_on_io, k->fd, EV_READ);
	k->io.data = k;
	ev_timer_init(&k->pause, kick_on_pause, 0, 0);
	k->pause.data = k;
	ev_io_start(ev, &k->io);
	return 0;
}

void kick_fini(struct kick *k)
{
	if (k->fd < 0)
		return;
	ev_io_stop(k->ev, &k->io);
	ev_timer_stop(k->ev, &k->pause);
	close(k->fd);
	k->fd = -1;
}
