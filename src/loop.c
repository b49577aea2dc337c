/* loop.c: the libev loop and the signalfd that brings vCPU exits and host signals to it. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "vcpu.h"
#include "vm.h"

/* loop_sigset: every signal the signalfd reads, plus the kick (blocked, never read). */
static void loop_sigset(sigset_t *set, bool with_kick)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIG_VCPU_EXIT);
	if (with_kick)
		sigaddset(set, SIG_VCPU_KICK);
}

void loop_block_signals(void)
{
	sigset_t set;

	loop_sigset(&set, true);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		die(RV_EXIT_FAILURE, "pthread_sigmask");
	/* A closed stdout pipe must become EPIPE on write, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
}

/* loop_on_signal: drain the signalfd; each vCPU exit is emulated in turn. */
static void loop_on_signal(struct ev_loop *ev, ev_io *w, int revents)
{
	struct loop *loop = w->data;
	struct signalfd_siginfo si[16];
	pid_t self = getpid();
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
		if ((int)si[i].ssi_signo == SIG_VCPU_EXIT) {
			/*
			 * Only our own vCPU threads may hand off exits: a queued
			 * signal from another process would otherwise resume a
			 * vCPU whose exit was never emulated.
			 */
			if (si[i].ssi_code != SI_QUEUE || (pid_t)si[i].ssi_pid != self) {
				log_warnx("ignoring a vCPU hand-off signal from pid %u",
				    si[i].ssi_pid);
				continue;
			}
			vcpu_handle_exit(loop->vm, (unsigned)si[i].ssi_int);
			continue;
		}
		/* Host signals stop the VM in order; status 128 + signal, as a shell reports. */
		vm_request_stop(loop->vm, RV_EXIT_SIGNAL + (int)si[i].ssi_signo);
	}
}

void loop_init(struct vm *vm, struct loop *loop)
{
	sigset_t set;

	memset(loop, 0, sizeof(*loop));
	loop->vm = vm;
	loop->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
	if (!loop->ev)
		diex(RV_EXIT_FAILURE, "libev: cannot create an epoll loop");
	loop_sigset(&set, false);
	loop->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sig_fd < 0)
		die(RV_EXIT_FAILURE, "signalfd");
	ev_io_init(&loop->sig_watcher, loop_on_signal, loop->sig_fd, EV_READ);
	loop->sig_watcher.data = loop;
	ev_io_start(loop->ev, &loop->sig_watcher);
	vm->loop = loop;
}

int loop_run(struct loop *loop)
{
	/* A stop requested during setup (e.g. SIGTERM already queued) still ends the run. */
	if (loop->vm->stopping)
		return 0;
	ev_run(loop->ev, 0);
	return 0;
}

void loop_break(struct loop *loop)
{
	if (loop && loop->ev)
		ev_break(loop->ev, EVBREAK_ALL);
}

void loop_fini(struct loop *loop)
{
	if (loop->ev) {
		ev_io_stop(loop->ev, &loop->sig_watcher);
		ev_loop_destroy(loop->ev);
		loop->ev = NULL;
	}
	if (loop->sig_fd > 0)
		close(loop->sig_fd);
	loop->sig_fd = -1;
}
