/*
 * test_vrng.c: the virtio entropy device (devices/virtio_rng.c) against its
 * hostile-guest rows (docs/ARCHITECTURE.md "Entropy", G1-G9) and its rate
 * limit. The device is the real one behind the real transport, fed by the
 * fake driver of vfake.c, split and packed rings; the bucket reads a fake
 * clock, so the limit is checked exactly, with no sleep; getrandom is
 * wrapped (-Wl,--wrap=getrandom) to make it fail on demand. No KVM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "unit.h"
#include "vfake.h"
#include "virtio_pci.h"
#include "virtio_rng.h"

#define R0_LEN 0x100000ull
#define HOLE 0x100000ull
#define R1_GPA 0x200000ull
#define R1_LEN 0x100000ull
#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)
#define USED_F_NO_NOTIFY 1u

static struct unit u = { .file = "vrng" };
static struct vstub_vm v;

/* The fake clock the devices' buckets read, and getrandom's injected failures. */
static double fake_now = 1000.0;
static unsigned getrandom_fail;	/* fail this many more calls with EAGAIN */
static unsigned long getrandom_calls;

ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	getrandom_calls++;
	if (getrandom_fail) {
		getrandom_fail--;
		errno = EAGAIN;
		return -1;
	}
	return __real_getrandom(buf, len, flags);
}

static double fake_clock(struct vrng *r)
{
	(void)r;
	return fake_now;
}

struct dev {
	const char *spec;
	struct vrng *r;
	struct virtio_pci *vp;
	struct vf_ring q;
	bool packed;
	uint64_t desc, drv, dev, heap, heap_len;
};

static struct dev on = { .spec = "on", .desc = 0x1000, .drv = 0x2000, .dev = 0x3000,
	.heap = R1_GPA, .heap_len = R1_LEN };
static struct dev lim = { .spec = "rate=1K,burst=1K", .desc = 0x4000, .drv = 0x5000,
	.dev = 0x6000, .heap = 0x10000, .heap_len = 0x70000 };
static struct dev big = { .spec = "rate=1G/s,burst=16M", .desc = 0x7000, .drv = 0x8000,
	.dev = 0x9000, .heap = 0x80000, .heap_len = 0x70000 };

static uint8_t *at(uint64_t gpa, uint64_t len) { return vf_at(&v.vm.mem, gpa, len); }

static bool all_bytes(uint64_t gpa, uint32_t len, uint8_t b)
{
	const uint8_t *p = at(gpa, len);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

/* up: rings emptied, then reset .. DRIVER_OK; split or packed. */
static void up(struct dev *d, bool packed)
{
	d->packed = packed;
	vf_ring_init(&d->q, &v.vm.mem, VRNG_QUEUE_SIZE, packed, d->desc, d->drv, d->dev, d->heap,
	    d->heap_len);
	vstub_driver_init(d->vp, F_VERSION_1 | (packed ? F_PACKED : 0), 0, VRNG_QUEUE_SIZE, d->desc,
	    d->drv, d->dev);
}

static bool needs_reset(struct dev *d)
{
	return vstub_status(d->vp) & VS_S_NEEDS_RESET;
}

static void kick(struct dev *d)
{
	vstub_bar_write(d->vp, VS_NOTIFY, 0, 2);
	vstub_run(&v);
}

/* fire: what the wait timer does when it expires; false when it was not running. */
static bool fire(struct dev *d)
{
	if (!ev_is_active(&d->r->wait))
		return false;
	ev_timer_stop(v.loop.ev, &d->r->wait);
	ev_invoke(v.loop.ev, &d->r->wait, EV_TIMER);
	vstub_run(&v);
	return true;
}

/* kicks_off: the device asked the driver not to notify (split rings without EVENT_IDX, packed). */
static bool kicks_off(struct dev *d)
{
	return d->packed ? vf_get16(&v.vm.mem, d->dev + 2) == 1 :
	    (vf_get16(&v.vm.mem, d->dev) & USED_F_NO_NOTIFY) != 0;
}

/* post: one chain of one device-writable buffer of `len` bytes (filled with `fill`). */
static uint16_t post(struct dev *d, uint32_t len, uint8_t fill, uint64_t *gpa)
{
	struct vf_seg s = { vf_alloc(&d->q, len, fill), len, true };

	if (gpa)
		*gpa = s.addr;
	return vf_chain(&d->q, &s, 1);
}

/* used_all: read every published used entry; returns how many, the last id and length. */
static unsigned used_all(struct dev *d, uint32_t *id, uint32_t *len)
{
	uint32_t i, l;
	unsigned n = 0;

	while (vf_used_next(&d->q, &i, &l) == 1) {
		n++;
		if (id)
			*id = i;
		if (len)
			*len = l;
	}
	return n;
}

/* G0: bytes arrive, different each time, across segments; USED carries the chain's id and length. */
static void test_deliver(bool packed)
{
	const char *ring = packed ? "packed" : "split";
	struct vf_seg s[3];
	uint64_t a, b;
	uint32_t id, len;
	uint16_t want;
	char name[128];

	up(&on, packed);
	want = post(&on, 64, 0, &a);
	kick(&on);
	snprintf(name, sizeof(name), "G0 %s: a 64-byte buffer comes back with 64 random bytes", ring);
	UNIT_OK(&u, used_all(&on, &id, &len) == 1 && id == want && len == 64 &&
	    !all_bytes(a, 64, 0), name);
	want = post(&on, 64, 0, &b);
	kick(&on);
	snprintf(name, sizeof(name), "G0 %s: the next 64 bytes are other bytes", ring);
	UNIT_OK(&u, used_all(&on, &id, &len) == 1 && id == want && len == 64 &&
	    memcmp(at(a, 64), at(b, 64), 64) != 0, name);
	s[0] = (struct vf_seg){ vf_alloc(&on.q, 16, 0), 16, true };
	s[1] = (struct vf_seg){ vf_alloc(&on.q, 16, 0), 16, true };
	s[2] = (struct vf_seg){ vf_alloc(&on.q, 32, 0), 32, true };
	want = vf_chain(&on.q, s, 3);
	kick(&on);
	snprintf(name, sizeof(name), "G0 %s: a chain of 16+16+32 bytes is filled whole", ring);
	UNIT_OK(&u, used_all(&on, &id, &len) == 1 && id == want && len == 64 &&
	    !all_bytes(s[0].addr, 16, 0) && !all_bytes(s[1].addr, 16, 0) &&
	    !all_bytes(s[2].addr, 32, 0), name);
	snprintf(name, sizeof(name), "G0 %s: the device needs no reset", ring);
	UNIT_OK(&u, !needs_reset(&on), name);
}

/* G3 (M5): a buffer bigger than VRNG_CHAIN_MAX gets VRNG_CHAIN_MAX bytes; the rest is untouched. */
static void test_cap(bool packed)
{
	uint64_t a;
	uint32_t id, len;
	uint16_t want;
	char name[128];

	up(&on, packed);
	want = post(&on, 65536, 0xa5, &a);
	kick(&on);
	snprintf(name, sizeof(name), "G3 %s: a 64 KiB buffer gets 4 KiB, the rest untouched",
	    packed ? "packed" : "split");
	UNIT_OK(&u, used_all(&on, &id, &len) == 1 && id == want && len == VRNG_CHAIN_MAX &&
	    !all_bytes(a, VRNG_CHAIN_MAX, 0xa5) &&
	    all_bytes(a + VRNG_CHAIN_MAX, 65536 - VRNG_CHAIN_MAX, 0xa5), name);
}

/* G1, G2, G8: readable buffers, zero-length chains, buffers in the hole: RESET, nothing written. */
static void test_hostile(bool packed)
{
	const char *ring = packed ? "packed" : "split";
	struct vf_seg s[2];
	uint64_t faults;
	char name[128];

	up(&on, packed);
	s[0] = (struct vf_seg){ vf_alloc(&on.q, 64, 0x11), 64, false };
	vf_chain(&on.q, s, 1);
	faults = on.vp->faults;
	kick(&on);
	snprintf(name, sizeof(name), "G1 %s: a device-readable buffer: RESET, not written, no USED",
	    ring);
	UNIT_OK(&u, needs_reset(&on) && on.vp->faults == faults + 1 && all_bytes(s[0].addr, 64, 0x11) &&
	    used_all(&on, NULL, NULL) == 0, name);

	up(&on, packed);
	s[0] = (struct vf_seg){ vf_alloc(&on.q, 16, 0x22), 16, false };
	s[1] = (struct vf_seg){ vf_alloc(&on.q, 64, 0x33), 64, true };
	vf_chain(&on.q, s, 2);
	kick(&on);
	snprintf(name, sizeof(name), "G1 %s: readable then writable: RESET, neither written", ring);
	UNIT_OK(&u, needs_reset(&on) && all_bytes(s[0].addr, 16, 0x22) &&
	    all_bytes(s[1].addr, 64, 0x33) && used_all(&on, NULL, NULL) == 0, name);

	up(&on, packed);
	s[0] = (struct vf_seg){ vf_alloc(&on.q, 16, 0), 0, true };
	vf_chain(&on.q, s, 1);
	kick(&on);
	snprintf(name, sizeof(name), "G2 %s: a zero-length chain: RESET (R7)", ring);
	UNIT_OK(&u, needs_reset(&on) && used_all(&on, NULL, NULL) == 0, name);

	up(&on, packed);
	s[0] = (struct vf_seg){ R0_LEN + 0x1000, 64, true };
	vf_chain(&on.q, s, 1);
	kick(&on);
	snprintf(name, sizeof(name), "G8 %s: a buffer in the memory hole: RESET (M1)", ring);
	UNIT_OK(&u, needs_reset(&on) && used_all(&on, NULL, NULL) == 0, name);

	/* After the driver's reset, the device works again. */
	test_deliver(packed);
}

/*
 * G4, G5: the rate limit (rate=1K, burst=1K) on the fake clock: the bucket
 * serves exactly what it holds, then the device stops taking requests,
 * turns kicks off and arms its timer for the deficit; kicks in between do
 * nothing; the timer serves what the time earned, and no more than the
 * burst after a long pause.
 */
static void test_rate(bool packed)
{
	const char *ring = packed ? "packed" : "split";
	uint64_t calls, req0;
	char name[160];
	unsigned n;
	double rem;

	up(&lim, packed);
	lim.r->tokens = 1024;
	lim.r->last = fake_now;
	req0 = lim.r->requests;
	for (int i = 0; i < 32; i++)
		post(&lim, 64, 0, NULL);
	kick(&lim);
	n = used_all(&lim, NULL, NULL);
	snprintf(name, sizeof(name), "G4 %s: a full 1 KiB bucket serves 16 of 32 64-byte requests, "
	    "then waits with kicks off", ring);
	UNIT_OK(&u, n == 16 && lim.r->requests - req0 == 16 && ev_is_active(&lim.r->wait) &&
	    kicks_off(&lim), name);
	snprintf(name, sizeof(name), "G4 %s: the timer is set for the deficit, 64 B at 1 KiB/s", ring);
	rem = ev_timer_remaining(v.loop.ev, &lim.r->wait);
	UNIT_OK(&u, rem > 0.06 && rem < 0.07, name);
	calls = getrandom_calls;
	for (int i = 0; i < 1000; i++)
		kick(&lim);
	snprintf(name, sizeof(name), "G5 %s: 1000 kicks while waiting: nothing served, no getrandom",
	    ring);
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 0 && getrandom_calls == calls &&
	    ev_is_active(&lim.r->wait), name);
	fake_now += 0.5;
	fire(&lim);
	snprintf(name, sizeof(name), "G4 %s: half a second later: 512 bytes, 8 requests, then wait",
	    ring);
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 8 && ev_is_active(&lim.r->wait), name);
	fake_now += 100;
	fire(&lim);
	snprintf(name, sizeof(name), "G4 %s: after a long pause at most the burst: the last 8 served, "
	    "512 bytes left, kicks on", ring);
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 8 && !ev_is_active(&lim.r->wait) &&
	    !kicks_off(&lim) && lim.r->tokens > 511.9 && lim.r->tokens < 512.1, name);
	fake_now -= 50;	/* a clock that goes back earns nothing, and breaks nothing */
	for (int i = 0; i < 9; i++)
		post(&lim, 64, 0, NULL);
	kick(&lim);
	snprintf(name, sizeof(name), "G4 %s: a clock that went back earns nothing", ring);
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 8 && ev_is_active(&lim.r->wait), name);
	fake_now += 1;
	fire(&lim);
	used_all(&lim, NULL, NULL);
	fake_now += 100;
}

/* G6: one-byte requests cost 64 bytes each: a 1 KiB bucket serves 16 of them. */
static void test_tiny(bool packed)
{
	char name[128];
	uint32_t len = 0;

	up(&lim, packed);
	lim.r->tokens = 1024;
	lim.r->last = fake_now;
	for (int i = 0; i < 32; i++)
		post(&lim, 1, 0, NULL);
	kick(&lim);
	snprintf(name, sizeof(name), "G6 %s: 32 one-byte requests: 16 served (64 bytes each "
	    "from the bucket)", packed ? "packed" : "split");
	UNIT_OK(&u, used_all(&lim, NULL, &len) == 16 && len == 1 && ev_is_active(&lim.r->wait),
	    name);
	fake_now += 100;
	fire(&lim);
	used_all(&lim, NULL, NULL);
	fake_now += 100;
}

/* G7: a reset neither refills the bucket nor keeps the timer. */
static void test_reset(bool packed)
{
	char name[128];

	up(&lim, packed);
	lim.r->tokens = 0;
	lim.r->last = fake_now;
	post(&lim, 64, 0, NULL);
	kick(&lim);
	snprintf(name, sizeof(name), "G7 %s: an empty bucket: the request waits",
	    packed ? "packed" : "split");
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 0 && ev_is_active(&lim.r->wait), name);
	up(&lim, packed);	/* status 0, then the whole start-up again */
	snprintf(name, sizeof(name), "G7 %s: after a reset and DRIVER_OK: still empty, still waiting",
	    packed ? "packed" : "split");
	post(&lim, 64, 0, NULL);
	kick(&lim);
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 0 && ev_is_active(&lim.r->wait) &&
	    lim.r->tokens < 64, name);
	fake_now += 100;
	fire(&lim);
	snprintf(name, sizeof(name), "G7 %s: served once the time has earned it",
	    packed ? "packed" : "split");
	UNIT_OK(&u, used_all(&lim, NULL, NULL) == 1, name);
	fake_now += 100;
}

/* G9: at most VRNG_BATCH requests per loop iteration; the rest on the next, by the zero timer. */
static void test_batch(void)
{
	double rem;

	up(&big, false);
	for (unsigned i = 0; i < VRNG_QUEUE_SIZE; i++)
		post(&big, 64, 0, NULL);
	/* The notify register by hand, without running the loop: one iteration's work. */
	vstub_bar_write(big.vp, VS_NOTIFY, 0, 2);
	UNIT_OK(&u, used_all(&big, NULL, NULL) == VRNG_BATCH && ev_is_active(&big.r->wait),
	    "G9: 256 requests served in one go, then the device yields");
	rem = ev_timer_remaining(v.loop.ev, &big.r->wait);
	post(&big, 64, 0, NULL);
	vstub_bar_write(big.vp, VS_NOTIFY, 0, 2);
	UNIT_OK(&u, rem <= 0.001 && used_all(&big, NULL, NULL) == 0,
	    "G9: the rest waits for the next iteration (a zero timer), not for a kick");
	fire(&big);
	UNIT_OK(&u, used_all(&big, NULL, NULL) == 1 && !ev_is_active(&big.r->wait),
	    "G9: the next iteration serves it");
}

/* H1: getrandom failing (a host whose pool is not ready): the request waits, one log line. */
static void test_host_fail(void)
{
	char last[256] = "";
	unsigned lines;
	double rem;

	up(&on, false);
	getrandom_fail = 3;
	vf_stderr_begin();
	post(&on, 64, 0, NULL);
	kick(&on);
	rem = ev_is_active(&on.r->wait) ? ev_timer_remaining(v.loop.ev, &on.r->wait) : 0;
	UNIT_OK(&u, used_all(&on, NULL, NULL) == 0 && rem > 0.9 && rem <= VRNG_RETRY_S &&
	    kicks_off(&on) && !needs_reset(&on),
	    "H1: getrandom says EAGAIN: nothing published, a retry in a second");
	fire(&on);
	fire(&on);
	UNIT_OK(&u, used_all(&on, NULL, NULL) == 0 && ev_is_active(&on.r->wait),
	    "H1: still failing: still waiting");
	fire(&on);
	lines = vf_stderr_end(last, sizeof(last));
	UNIT_OK(&u, used_all(&on, NULL, NULL) == 1 && !ev_is_active(&on.r->wait) && lines == 1 &&
	    strstr(last, "getrandom failed"), "H1: served once getrandom works; one log line in all");
}

/* H2: kicks before DRIVER_OK do nothing. */
static void test_misc(void)
{
	struct vf_ring q;
	uint64_t calls = getrandom_calls;

	vstub_bar_write(on.vp, VS_STATUS, 0, 1);
	vf_ring_init(&q, &v.vm.mem, VRNG_QUEUE_SIZE, false, on.desc, on.drv, on.dev, on.heap,
	    on.heap_len);
	kick(&on);
	UNIT_OK(&u, getrandom_calls == calls && !ev_is_active(&on.r->wait),
	    "H2: a kick before DRIVER_OK does nothing");
}

/* add: a device from its spec, on the fake clock. */
static bool add(struct dev *d)
{
	d->r = vstub_dev_add(&v, &vrng_ops, d->spec);
	if (!d->r)
		return false;
	d->vp = d->r->vp;
	d->r->clock = fake_clock;
	d->r->last = fake_now;
	return true;
}

int main(void)
{
	int r = vstub_vm_init(&v, R0_LEN, HOLE, R1_LEN);

	if (r || !add(&on) || !add(&lim) || !add(&big)) {
		printf("not ok - vrng: setup failed: %s\n", strerror(r ? -r : EINVAL));
		return 1;
	}
	UNIT_OK(&u, lim.r->spec.rate == 1024 && lim.r->spec.burst == 1024 &&
	    on.r->spec.rate == VRNG_RATE_DEFAULT && on.r->tokens == VRNG_BURST_DEFAULT,
	    "specs reach the device; the bucket starts full");
	vf_stderr_begin();
	for (int packed = 0; packed < 2; packed++) {
		test_deliver(packed);
		test_cap(packed);
		test_hostile(packed);
		test_rate(packed);
		test_tiny(packed);
		test_reset(packed);
	}
	r = (int)vf_stderr_end(NULL, 0);
	UNIT_OK(&u, r <= LOG_GUEST_BURST, "S2: the RESETs above logged within the rate limit");
	test_batch();
	test_host_fail();
	test_misc();
	vstub_vm_fini(&v);
	return unit_done(&u);
}
