/*
 * vcpu.h: vCPU threads and the exit hand-off to the loop thread.
 *
 * A vCPU thread only runs KVM_RUN. When an exit needs emulation it queues a
 * signal (SIG_VCPU_EXIT, payload: the vCPU index) with sigqueue(), which the
 * loop thread reads from its signalfd; the loop emulates the exit on its own
 * thread, where all device state lives, then posts the vCPU's semaphore and
 * the vCPU re-enters the guest.
 */
#ifndef RINGVM_VCPU_H
#define RINGVM_VCPU_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "log.h"

struct vm;
struct kvm_run;

/* Exit hand-off, read by the loop's signalfd. */
#define SIG_VCPU_EXIT (SIGRTMIN + 1)
/* Thread-directed kick that makes KVM_RUN return (unblocked only inside KVM_RUN). */
#define SIG_VCPU_KICK (SIGRTMIN + 2)

struct vcpu {
	struct vm *vm;
	unsigned idx;			/* index in vm->vcpu; also the APIC ID */
	int fd;				/* KVM_CREATE_VCPU */
	struct kvm_run *run;		/* shared with KVM; read by the loop during a hand-off */
	pthread_t thread;
	bool started;
	sem_t resume;			/* posted by the loop after emulating an exit */
	atomic_bool stop;		/* set by the loop: leave the thread */
	int run_errno;			/* KVM_RUN failure, or 0 */
	struct log_once bad_exit;	/* unexpected exit reasons */
};

/* vcpu_create_all: create cfg->ncpus vCPUs, map their run areas, set them up. Dies on failure. */
void vcpu_create_all(struct vm *vm);

/* vcpu_start_all: start one thread per vCPU. Dies on failure. */
void vcpu_start_all(struct vm *vm);

/*
 * vcpu_handle_exit: emulate the pending exit of vCPU `idx` and let it run
 * again. Loop thread only; `idx` comes from the signal payload and is range
 * checked here.
 */
void vcpu_handle_exit(struct vm *vm, unsigned idx);

/* vcpu_stop_all: make every vCPU leave KVM_RUN and join the threads. */
void vcpu_stop_all(struct vm *vm);

/* vcpu_destroy_all: unmap and close; after vcpu_stop_all. */
void vcpu_destroy_all(struct vm *vm);

#endif
