/*
 * vcpu.h: vCPU threads and the exit hand-off to the loop thread.
 *
 * A vCPU thread only runs KVM_RUN. When an exit needs emulation it sets its
 * `exited` flag and wakes the loop through the loop's hand-off eventfd
 * (loop_handoff_post); the loop thread finds the flagged vCPUs, emulates
 * their exits on its own thread, where all device state lives, then posts
 * each one's semaphore and the vCPU re-enters the guest. Two system calls
 * per exit on the vCPU side (the eventfd write, the semaphore's futex
 * wait), and no signal: bench/exits measured the queued signal's hand-off
 * (sigqueue, signalfd) and this one side by side.
 */
#ifndef RINGVM_VCPU_H
#define RINGVM_VCPU_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "log.h"
#include "loop.h"

struct vm;
struct kvm_run;


struct vcpu {
	struct vm *vm;
	unsigned idx;			/* index in vm->vcpu; also the APIC ID */
	int fd;				/* KVM_CREATE_VCPU */
	struct kvm_run *run;		/* shared with KVM; read by the loop during a hand-off */
	pthread_t thread;
	bool started;
	sem_t resume;			/* posted by the loop after emulating an exit */
	bool sem_ready;			/* resume was initialised */
	atomic_bool stop;		/* set by the loop: leave the thread */
	atomic_bool exited;		/* set by the vCPU: an exit waits for the loop */
	int run_errno;			/* KVM_RUN failure, or 0 */
	struct log_once bad_exit;	/* unexpected exit reasons */
};

/*
 * vcpu_create_all: create cfg->ncpus vCPUs, map their run areas, set them
 * up (arch_vcpu_setup). Returns 0 or -errno with the reason in `err`; what
 * was created stays for vcpu_destroy_all.
 */
int vcpu_create_all(struct vm *vm, struct rv_err *err);

/*
 * vcpu_start_all: start one thread per vCPU. Each loads the vCPU seccomp
 * filter (vm->sandbox) and then waits at a gate: no guest instruction
 * runs before vcpu_release_all. Returns 0 or -errno with the reason in `err`.
 */
int vcpu_start_all(struct vm *vm, struct rv_err *err);

/*
 * vcpu_release_all: open the gate; the guest starts. Called once the
 * loop thread is confined as well.
 */
void vcpu_release_all(struct vm *vm);

/*
 * vcpu_handle_exit: the loop's hand-off callback (loop_handoff_fn; `ctx` is
 * the struct vm): emulate the pending exit of every vCPU that posted one and
 * let each run again. Loop thread only. A stop (loop_stop) makes the vCPU
 * leave instead.
 */
void vcpu_handle_exit(void *ctx);

/* vcpu_stop_all: make every vCPU leave KVM_RUN and join the threads. */
void vcpu_stop_all(struct vm *vm);

/* vcpu_destroy_all: unmap and close; after vcpu_stop_all. */
void vcpu_destroy_all(struct vm *vm);

#endif
