/*
 * vcpu.c: vCPU threads that run KVM_RUN and nothing else, and the loop-side
 * emulation of the exits they hand off (port I/O, MMIO, shutdown events).
 *
 * Exported (contracts in vcpu.h): vcpu_create_all, vcpu_start_all,
 * vcpu_release_all, vcpu_handle_exit, vcpu_stop_all, vcpu_destroy_all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arch.h"
#include "log.h"
#include "loop.h"
#include "sandbox.h"
#include "vcpu.h"
#include "vm.h"

#define VCPU_STACK_SIZE (256u << 10)	/* the thread only calls ioctl, write and futex */

/* An empty handler: the kick only needs to be pending to make KVM_RUN return. */
static void vcpu_on_kick(int sig)
{
	(void)sig;
}

int vcpu_create_all(struct vm *vm, struct rv_err *err)
{
	struct sigaction sa;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_on_kick;
	if (sigaction(SIG_LOOP_KICK, &sa, NULL) < 0)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "sigaction");
	vm->vcpu = calloc(vm->nr_vcpus, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return rv_fail(err, RV_EXIT_FAILURE, ENOMEM, "vCPU array");
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpu[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		void *run;

		v->vm = vm;
		v->idx = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0)
			return rv_fail(err, RV_EXIT_FAILURE, errno,
			    "KVM: ioctl (CREATE_VCPU) failed for vCPU %u", i);
		run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (run == MAP_FAILED)
			return rv_fail(err, RV_EXIT_FAILURE, errno, "mmap of vCPU %u run area", i);
		v->run = run;
		if (sem_init(&v->resume, 0, 0) < 0)
			return rv_fail(err, RV_EXIT_FAILURE, errno, "sem_init");
		v->sem_ready = true;
		r = arch_vcpu_setup(vm, v, err);
		if (r)
			return r;
	}
	return 0;
}

/*
 * vcpu_set_run_mask: KVM_RUN runs with this thread's mask minus the kick, so
 * a kick pending before or during KVM_RUN makes it return -EINTR at once,
 * with no window where it could be missed. Outside KVM_RUN the kick stays
 * blocked and pending until vcpu_eat_kick() takes it.
 */
static int vcpu_set_run_mask(struct vcpu *v)
{
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];		/* the kernel's sigset_t is 64 bits on x86-64 and arm64 */
	} m;
	sigset_t cur;

	if (pthread_sigmask(SIG_BLOCK, NULL, &cur))
		return -EINVAL;
	sigdelset(&cur, SIG_LOOP_KICK);
	m.hdr.len = 8;
	memcpy(m.set, &cur, 8);
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &m) < 0)
		return -errno;
	return 0;
}

static void vcpu_eat_kick(void)
{
	const struct timespec zero = { 0, 0 };
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIG_LOOP_KICK);
	while (sigtimedwait(&kick, NULL, &zero) > 0)
		;
}

/* vcpu_hand_off: post this vCPU's exit to the loop and wait until it is emulated. */
static void vcpu_hand_off(struct vcpu *v)
{
	/*
	 * Release: the loop's acquiring exchange of `exited` must see what
	 * this thread wrote before (run_errno, and the run area KVM filled
	 * on this thread's KVM_RUN).
	 */
	atomic_store_explicit(&v->exited, true, memory_order_release);
	if (loop_handoff_post(v->vm->loop) < 0)
		return;
	while (sem_wait(&v->resume) < 0 && errno == EINTR)
		;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	int r = vcpu_set_run_mask(v);

	/* Confined before the first KVM_RUN: the guest never meets an unfiltered vCPU. */
	if (!r)
		r = sandbox_enter(v->vm->sandbox, SANDBOX_VCPU);
	/* The gate: no guest instruction before the loop thread is confined too. */
	while (sem_wait(&v->resume) < 0 && errno == EINTR)
		;
	if (r) {
		v->run_errno = -r;
		vcpu_hand_off(v);
		return NULL;
	}
	while (!atomic_load(&v->stop)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu_eat_kick();
				continue;
			}
			v->run_errno = errno;
		} else if (v->run->exit_reason == KVM_EXIT_INTR) {
			continue;
		}
		vcpu_hand_off(v);
	}
	return NULL;
}

int vcpu_start_all(struct vm *vm, struct rv_err *err)
{
	pthread_attr_t attr;
	int r = 0;

	if (pthread_attr_init(&attr))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "pthread_attr_init");
	if (pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE))
		r = rv_fail(err, RV_EXIT_FAILURE, 0, "pthread_attr_setstacksize");
	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		int e = pthread_create(&v->thread, &attr, vcpu_thread, v);

		if (e)
			r = rv_fail(err, RV_EXIT_FAILURE, e, "pthread_create for vCPU %u", i);
		else
			v->started = true;
	}
	pthread_attr_destroy(&attr);
	return r;
}

void vcpu_release_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpu[i].started)
			sem_post(&vm->vcpu[i].resume);
}

/* vcpu_pio: a port I/O exit; `count` > 1 for string instructions (rep ins/outs). */
static void vcpu_pio(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vm->pio, run->io.port, data, size);
		else
			bus_read(&vm->pio, run->io.port, data, size);
	}
}

static void vcpu_mmio(struct vm *vm, struct kvm_run *run)
{
	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
	else
		bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
}

/* vcpu_handle_one: emulate vCPU `idx`'s posted exit, then let it run (or leave). */
static void vcpu_handle_one(struct vm *vm, unsigned idx)
{
	struct vcpu *v = &vm->vcpu[idx];
	struct kvm_run *run = v->run;

	if (v->run_errno) {
		errno = v->run_errno;
		log_warn("vCPU %u: KVM_RUN failed", idx);
		loop_stop(vm->loop, RV_EXIT_VCPU);
		goto resume;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_pio(vm, run);
		break;
	case KVM_EXIT_MMIO:
		vcpu_mmio(vm, run);
		break;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: Linux's last-resort reboot method. */
		loop_stop(vm->loop, RV_EXIT_REBOOT);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			loop_stop(vm->loop, RV_EXIT_POWEROFF);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			/* arm64: the warm reset ringvm asks Linux to make on panic. */
			if (ARCH_RESET_IS_PANIC(run)) {
				log_warnx("guest kernel panicked");
				loop_stop(vm->loop, RV_EXIT_PANIC);
			} else {
				loop_stop(vm->loop, RV_EXIT_REBOOT);
			}
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			loop_stop(vm->loop, RV_EXIT_PANIC);
			break;
		default:
			log_guest(&v->bad_exit, "vCPU %u: unknown system event %u", idx,
			    run->system_event.type);
		}
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		log_warnx("vCPU %u: KVM internal error, suberror %u", idx,
		    run->internal.suberror);
		loop_stop(vm->loop, RV_EXIT_VCPU);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		log_warnx("vCPU %u: entry failed, reason %#" PRIx64, idx,
		    (uint64_t)run->fail_entry.hardware_entry_failure_reason);
		loop_stop(vm->loop, RV_EXIT_VCPU);
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; the guest idles with interrupts off: stopped. */
		loop_stop(vm->loop, RV_EXIT_VCPU);
		break;
	default:
		log_warnx("vCPU %u: unexpected exit reason %u", idx, run->exit_reason);
		loop_stop(vm->loop, RV_EXIT_VCPU);
		break;
	}
resume:
	if (vm->loop->stopping)
		atomic_store(&v->stop, true);
	/* sem_post orders our writes (the run area's results) before the vCPU's wake-up. */
	sem_post(&v->resume);
}

void vcpu_handle_exit(void *ctx)
{
	struct vm *vm = ctx;

	/*
	 * Acquire, paired with vcpu_hand_off's release: the run area is read
	 * only after the flag. Clearing it here, before the emulation, is
	 * safe: the vCPU cannot post again before this vCPU's sem_post.
	 */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (atomic_exchange_explicit(&vm->vcpu[i].exited, false, memory_order_acquire))
			vcpu_handle_one(vm, i);
}

void vcpu_stop_all(struct vm *vm)
{
	if (!vm->vcpu)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		atomic_store(&vm->vcpu[i].stop, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (!v->started)
			continue;
		/* Out of KVM_RUN through the kick, out of a hand-off through the semaphore. */
		pthread_kill(v->thread, SIG_LOOP_KICK);
		sem_post(&v->resume);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
		vm->vcpu[i].started = false;
	}
}

void vcpu_destroy_all(struct vm *vm)
{
	if (!vm->vcpu)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (v->run)
			munmap(v->run, (size_t)vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
		if (v->sem_ready)
			sem_destroy(&v->resume);
	}
	free(vm->vcpu);
	vm->vcpu = NULL;
}
