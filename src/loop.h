/*
 * loop.h: the one event loop (libev, epoll backend) that owns all device
 * state. Signals arrive through a signalfd watched like any other fd: the
 * vCPU exit hand-off (SIG_VCPU_EXIT with the vCPU index as payload) and the
 * host's SIGINT/SIGTERM/SIGHUP/SIGQUIT, which stop the VM in order.
 */
#ifndef RINGVM_LOOP_H
#define RINGVM_LOOP_H

#include <ev.h>

struct vm;

struct loop {
	struct ev_loop *ev;
	int sig_fd;		/* signalfd for the signals listed above */
	ev_io sig_watcher;
	struct vm *vm;
};

/*
 * loop_block_signals: block the loop's signals and the vCPU kick in the
 * calling thread, so that threads created afterwards inherit the mask and
 * only the signalfd sees them; ignore SIGPIPE. Call first thing in main.
 */
void loop_block_signals(void);

/* loop_init: create the libev loop and the signalfd watcher. Dies on failure. */
void loop_init(struct vm *vm, struct loop *loop);

/* loop_run: run until vm_request_stop(). Returns 0, or -errno if the loop itself failed. */
int loop_run(struct loop *loop);

/* loop_break: make loop_run return after the current callback. NULL-safe. */
void loop_break(struct loop *loop);

/* loop_fini: release the loop. */
void loop_fini(struct loop *loop);

#endif
