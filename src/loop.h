/*
 * loop.h: the one event loop (libev, epoll backend) that owns all device
 * state, and the stop request that ends it.
 *
 * vCPU hand-offs arrive on an eventfd (loop_handoff_post, from any thread),
 * delivered to the hand-off callback the vCPU code installs, which finds
 * the vCPUs with a posted exit by itself. Signals arrive through a
 * signalfd watched like any other fd: the host's SIGINT, SIGTERM, SIGHUP
 * and SIGQUIT, which stop the VM in order with 128 + the signal, and
 * SIGWINCH, passed to the command mode's terminal (loop_set_winch).
 * The loop knows nothing of VMs or vCPUs: it is at the bottom of the core's
 * layering (docs/ARCHITECTURE.md), and everyone above may call loop_stop.
 */
#ifndef RINGVM_LOOP_H
#define RINGVM_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

/* Thread-directed kick that makes KVM_RUN return (unblocked only inside KVM_RUN). */
#define SIG_LOOP_KICK (SIGRTMIN + 2)

/* handoff: at least one loop_handoff_post happened since the last call: emulate the posted exits. */
typedef void loop_handoff_fn(void *ctx);

/* winch: the terminal's size changed (SIGWINCH). */
typedef void loop_winch_fn(void *ctx);

struct loop {
	struct ev_loop *ev;
	int sig_fd;		/* signalfd for the signals listed above */
	ev_io sig_watcher;
	int handoff_fd;		/* eventfd: vCPU threads post, the loop reads */
	ev_io handoff_watcher;
	loop_handoff_fn *handoff;
	void *handoff_ctx;
	loop_winch_fn *winch;
	void *winch_ctx;
	bool stopping;		/* loop_stop was called */
	int exit_status;	/* what the first loop_stop asked for */
};

/*
 * loop_block_signals: block the loop's signals and the vCPU kick in the
 * calling thread, so that threads created afterwards inherit the mask and
 * only the signalfd sees them; ignore SIGPIPE. Call first thing in main.
 * Returns 0 or -errno.
 */
int loop_block_signals(void);

/*
 * loop_init: create the libev loop, the signalfd and the hand-off eventfd
 * watchers. Returns 0,
 * or -errno with the failing call named in err.
 */
int loop_init(struct loop *loop, char *err, size_t errlen);

/* loop_set_handoff: route vCPU hand-offs to `fn(ctx, idx)`. Before loop_run. */
void loop_set_handoff(struct loop *loop, loop_handoff_fn *fn, void *ctx);

/*
 * loop_handoff_post: wake the loop for a hand-off (one eventfd write).
 * Any thread; the caller publishes what the loop should find (with release
 * ordering) before calling it. Posts coalesce: the callback runs once for
 * any number of posts since its last run. Returns 0 or -errno.
 */
int loop_handoff_post(struct loop *loop);

/* loop_set_winch: call `fn(ctx)` on SIGWINCH (otherwise it is read and ignored). */
void loop_set_winch(struct loop *loop, loop_winch_fn *fn, void *ctx);

/* loop_run: run until loop_stop(). Returns 0, or -errno if the loop itself failed. */
int loop_run(struct loop *loop);

/*
 * loop_stop: stop the VM with exit `status`: loop_run returns after the
 * current callback. The first request fixes the status; later ones are
 * ignored. Loop thread (or setup) only. NULL-safe.
 */
void loop_stop(struct loop *loop, int status);

/* loop_fini: release the loop. */
void loop_fini(struct loop *loop);

#endif
