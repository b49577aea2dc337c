/*
 * kickbench.c: what one queue notification (kick) costs the loop thread,
 * without KVM (issue 7, O-1). The real virtio-net device and virtio-pci
 * transport, on the fake backend and fake VM of tests/unit, kicked through
 * the queue's ioeventfd as KVM kicks it.
 *
 *   kickbench sync empty|useful N
 *	N kicks, each followed by one non-blocking loop pass (the loop's
 *	whole path: epoll, libev, the eventfd read, the device). "useful":
 *	each kick has one new TX chain (sent to the fake backend, published,
 *	interrupt); "empty": nothing new in the ring. Prints ns per kick;
 *	under callgrind, count instructions of kb_sync only:
 *	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=kb_sync
 *
 *   kickbench storm N INTERVAL_US
 *	a vCPU-like thread kicks an empty TX ring N times, one kick every
 *	INTERVAL_US (74 was measured per kick in the nested bed), while the
 *	loop thread runs ev_run as ringvm does; then it posts one real frame
 *	and kicks once. Prints the loop thread's CPU time per kick, its loop
 *	iterations, and how long the real frame waited for the device.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

#include "virtio_net.h"
#include "virtio_pci.h"
#include "vfake.h"
#include "vnetfake.h"

#define KB_AREA 0x400000ull

struct kb {
	struct vstub_vm v;
	struct vnet *n;
	struct virtio_pci *vp;
	struct fnet *f;
	struct vf_ring rx, tx;
	uint8_t frame[64];
	/* storm mode */
	unsigned long kicks;
	unsigned interval_us;
	ev_async done;
	uint64_t real_post_ns, real_sent_ns;
};

static uint64_t kb_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* kb_post: one TX chain (header + 64-byte frame) in the ring, not kicked. */
static void kb_post(struct kb *k)
{
	uint64_t a = vf_alloc(&k->tx, 12 + sizeof(k->frame), 0);
	struct vf_seg s = { a, 12 + sizeof(k->frame), false };

	memcpy(vf_at(&k->v.vm.mem, a + 12, sizeof(k->frame)), k->frame, sizeof(k->frame));
	vf_chain(&k->tx, &s, 1);
}

static int kb_kick_fd(struct kb *k)
{
	return k->vp->qcfg[VNET_TXQ].kick.fd;
}

/* kb_sync: the measured part of sync mode (callgrind's --toggle-collect target). */
__attribute__((noinline)) static uint64_t kb_sync(struct kb *k, unsigned long n, bool useful)
{
	uint64_t loop_ns = 0;

	for (unsigned long i = 0; i < n; i++) {
		uint64_t t0;

		if (useful)
			kb_post(k);
		eventfd_write(kb_kick_fd(k), 1);
		t0 = kb_ns(CLOCK_MONOTONIC);
		ev_run(k->v.loop.ev, EVRUN_NOWAIT);
		loop_ns += kb_ns(CLOCK_MONOTONIC) - t0;
	}
	return loop_ns;
}

static void kb_on_send(void *arg, const uint8_t *fr, size_t len)
{
	struct kb *k = arg;

	(void)fr;
	(void)len;
	if (k->real_post_ns && !k->real_sent_ns)
		k->real_sent_ns = kb_ns(CLOCK_MONOTONIC);
}

static void kb_done(struct ev_loop *ev, ev_async *w, int revents)
{
	struct kb *k = w->data;

	(void)revents;
	if (k->real_sent_ns)
		ev_break(ev, EVBREAK_ALL);
}

/* kb_kicker: the vCPU: N empty kicks at the interval, then one real frame. */
static void *kb_kicker(void *arg)
{
	struct kb *k = arg;
	struct timespec next;

	prctl(PR_SET_TIMERSLACK, 1ul);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long i = 0; i < k->kicks; i++) {
		next.tv_nsec += (long)k->interval_us * 1000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		eventfd_write(kb_kick_fd(k), 1);
	}
	/* The ring is written before the kick; eventfd_write is a full barrier. */
	kb_post(k);
	k->real_post_ns = kb_ns(CLOCK_MONOTONIC);
	eventfd_write(kb_kick_fd(k), 1);
	while (!__atomic_load_n(&k->real_sent_ns, __ATOMIC_ACQUIRE)) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
	}
	ev_async_send(k->v.loop.ev, &k->done);
	return NULL;
}

static int kb_storm(struct kb *k)
{
	pthread_t th;
	uint64_t cpu0, cpu1, wall0, wall1;
	unsigned it0;

	ev_async_init(&k->done, kb_done);
	k->done.data = k;
	ev_async_start(k->v.loop.ev, &k->done);
	k->f->on_send = kb_on_send;
	k->f->on_send_arg = k;
	it0 = ev_iteration(k->v.loop.ev);
	cpu0 = kb_ns(CLOCK_THREAD_CPUTIME_ID);
	wall0 = kb_ns(CLOCK_MONOTONIC);
	if (pthread_create(&th, NULL, kb_kicker, k))
		return 1;
	ev_run(k->v.loop.ev, 0);
	cpu1 = kb_ns(CLOCK_THREAD_CPUTIME_ID);
	wall1 = kb_ns(CLOCK_MONOTONIC);
	pthread_join(th, NULL);
	printf("storm: %lu empty kicks every %u us in %.3f s: loop CPU %.0f ns per kick "
	    "(%.1f%% of the wall time), %u loop iterations; a real frame after it waited %.0f us; "
	    "sent %lu\n", k->kicks, k->interval_us, (double)(wall1 - wall0) / 1e9,
	    (double)(cpu1 - cpu0) / (double)k->kicks, 100.0 * (double)(cpu1 - cpu0) /
	    (double)(wall1 - wall0), ev_iteration(k->v.loop.ev) - it0,
	    (double)(k->real_sent_ns - k->real_post_ns) / 1e3, k->f->sent);
	printf("storm: the TX kick watcher handled %lu wakeups, %lu empty, paused %lu times\n",
	    k->vp->qcfg[VNET_TXQ].kick.kicks, k->vp->qcfg[VNET_TXQ].kick.empty,
	    k->vp->qcfg[VNET_TXQ].kick.pauses);
	return 0;
}

int main(int argc, char **argv)
{
	static struct kb k;
	unsigned long n;

	if (argc < 3 || (strcmp(argv[1], "sync") && strcmp(argv[1], "storm")) ||
	    (!strcmp(argv[1], "storm") && argc < 4) || (!strcmp(argv[1], "sync") && argc < 4)) {
		fprintf(stderr, "usage: kickbench sync empty|useful N | storm N INTERVAL_US\n");
		return 2;
	}
	if (vstub_vm_init(&k.v, 0x1000000ull, 0x100000ull, 0x100000ull))
		return 1;
	k.n = vn_add(&k.v, "user");
	if (!k.n)
		return 1;
	k.vp = k.n->vp;
	k.f = fnet_of(k.n);
	k.f->record = false;
	memset(k.frame, 0xff, 14);
	vf_ring_init(&k.rx, &k.v.vm.mem, VNET_QUEUE_SIZE, false, KB_AREA, KB_AREA + 0x1000,
	    KB_AREA + 0x2000, KB_AREA + 0x100000, 0x100000);
	vf_ring_init(&k.tx, &k.v.vm.mem, VNET_QUEUE_SIZE, false, KB_AREA + 0x3000, KB_AREA + 0x4000,
	    KB_AREA + 0x5000, KB_AREA + 0x200000, 0x100000);
	/* As Linux: split ring, EVENT_IDX, no packed ring. */
	if (!vn_driver_init(k.vp, ~(1ull << VIRTQ_F_RING_PACKED), &k.rx, &k.tx))
		return 1;
	if (!strcmp(argv[1], "storm")) {
		k.kicks = strtoul(argv[2], NULL, 0);
		k.interval_us = (unsigned)strtoul(argv[3], NULL, 0);
		return kb_storm(&k);
	}
	n = strtoul(argv[3], NULL, 0);
	{
		bool useful = !strcmp(argv[2], "useful");
		uint64_t ns = kb_sync(&k, n, useful);

		printf("sync %s: %lu kicks, loop %.0f ns per kick, %lu frames sent\n",
		    useful ? "useful" : "empty", n, (double)ns / (double)n, k.f->sent);
	}
	return 0;
}
