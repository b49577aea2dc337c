/*
 * loop.c: the libev loop, the eventfd that brings vCPU hand-offs to it, the
 * signalfd that brings host signals, and the stop request. Owns the exit
 * status of the run.
 *
 * Exported (contracts in loop.h): loop_block_signals, loop_init,
 * loop_set_handoff, loop_handoff_post, loop_set_winch, loop_run, loop_stop,
 * loop_fini.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

/* loop_sigset: every signal the signalfd reads, plus the kick (blocked, never read). */
static void loop_sigset(sigset_t *set, bool with_kick)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGWINCH);
	if (with_kick)
		sigaddset(set, SIG_LOOP_KICK);
}

int loop_block_signals(void)
{
	sigset_t set;
	int r;

	loop_sigset(&set, true);
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	/* A closed stdout pipe must become EPIPE on write, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * loop_on_handoff: the eventfd is readable: reset it, then let the vCPU code
 * find every posted exit. Reset first: a post racing with the callback
 * then makes the eventfd readable again (at worst one empty pass), never
 * a lost wake-up.
 */
static void loop_on_handoff(struct ev_loop *ev, ev_io *w, int revents)
{
	struct loop *loop = w->data;
	uint64_t n;

	(void)ev;
	(void)revents;
	if (read(loop->handoff_fd, &n, sizeof(n)) < 0 && errno != EAGAIN && errno != EINTR)
		log_warn("hand-off eventfd read");
	if (loop->handoff)
		loop->handoff(loop->handoff_ctx);
}

int loop_handoff_post(struct loop *loop)
{
	const uint64_t one = 1;

	/* The counter cannot reach its limit (2^64 - 2): no EAGAIN to handle. */
	while (write(loop->handoff_fd, &one, sizeof(one)) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* loop_on_signal: drain the signalfd: host signals. */
static void loop_on_signal(struct ev_loop *ev, ev_io *w, int revents)
{
	struct loop *loop = w->data;
	struct signalfd_siginfo si[16];
	ssize_t n;

	(void)ev;
	(void)revents;
	n = read(loop->sig_fd, si, sizeof(si));
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("signalfd read");
		return;
	}
	for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
		if ((int)si[i].ssi_signo == SIGWINCH) {
			if (loop->winch)
				loop->winch(loop->winch_ctx);
			continue;
		}
		/* Host signals stop the VM in order; status 128 + signal, as a shell reports. */
		loop_stop(loop, RV_EXIT_SIGNAL + (int)si[i].ssi_signo);
	}
}

int loop_init(struct loop *loop, char *err, size_t errlen)
{
	sigset_t set;
	int r;

	memset(loop, 0, sizeof(*loop));
	loop->sig_fd = -1;
	loop->handoff_fd = -1;
	loop->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
	if (!loop->ev) {
		snprintf(err, errlen, "libev: cannot create an epoll loop");
		return -ENOMEM;
	}
	loop_sigset(&set, false);
	loop->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sig_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return r;
	}
	ev_io_init(&loop->sig_watcher, loop_on_signal, loop->sig_fd, EV_READ);
	loop->sig_watcher.data = loop;
	ev_io_start(loop->ev, &loop->sig_watcher);
	/* Not shared with any other process: only our own threads can post a hand-off. */
	loop->handoff_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->handoff_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return r;
	}
	ev_io_init(&loop->handoff_watcher, loop_on_handoff, loop->handoff_fd, EV_READ);
	/* First among the ready watchers: a stopped vCPU waits for it, device work can wait. */
	ev_set_priority(&loop->handoff_watcher, EV_MAXPRI);
	loop->handoff_watcher.data = loop;
	ev_io_start(loop->ev, &loop->handoff_watcher);
	return 0;
}

void loop_set_handoff(struct loop *loop, loop_handoff_fn *fn, void *ctx)
{
	loop->handoff = fn;
	loop->handoff_ctx = ctx;
}

void loop_set_winch(struct loop *loop, loop_winch_fn *fn, void *ctx)
{
	loop->winch = fn;
	loop->winch_ctx = ctx;
}

int loop_run(struct loop *loop)
{
	/* A stop requested during setup (e.g. SIGTERM already queued) still ends the run. */
	if (loop->stopping)
		return 0;
	ev_run(loop->ev, 0);
	return 0;
}

void loop_stop(struct loop *loop, int status)
{
	if (!loop || loop->stopping)
		return;
	loop->stopping = true;
	loop->exit_status = status;
	if (loop->ev)
		ev_break(loop->ev, EVBREAK_ALL);
}

void loop_fini(struct loop *loop)
{
	if (loop->ev) {
		ev_io_stop(loop->ev, &loop->sig_watcher);
		if (loop->handoff_fd >= 0)
			ev_io_stop(loop->ev, &loop->handoff_watcher);
		ev_loop_destroy(loop->ev);
		loop->ev = NULL;
	}
	if (loop->sig_fd >= 0)
		close(loop->sig_fd);
	loop->sig_fd = -1;
	if (loop->handoff_fd >= 0)
		close(loop->handoff_fd);
	loop->handoff_fd = -1;
}
