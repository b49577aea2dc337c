/*
 * virtio_rng.c: virtio entropy device (virtio 1.2, section 5.4), on by
 * default: one queue (requestq) of device-writable buffers that the
 * device fills with bytes from getrandom(2), through a token bucket so
 * that what a guest takes, and the host CPU it costs, is bounded.
 *
 * Everything is done inside vrng_process, on the loop thread: a request is
 * served at once or left in the ring. When the bucket is empty the device
 * rolls the request back, stops asking for kicks and arms one timer for
 * the moment the bucket holds enough; it never spins and never sleeps.
 *
 * Hostile guests (docs/ARCHITECTURE.md "Entropy", HOSTILE.md R7, M5): a
 * device-readable buffer in the queue (the driver MUST NOT post one) puts
 * the device in DEVICE_NEEDS_RESET, as do the ring faults the walker
 * reports (a zero-length chain among them); a buffer larger than
 * VRNG_CHAIN_MAX gets VRNG_CHAIN_MAX bytes (the spec lets the device fill
 * less); every request costs at least VRNG_REQ_COST bytes of the bucket,
 * so a storm of one-byte buffers is as limited as any other; kicks while
 * the device waits are ignored; a reset does not refill the bucket.
 *
 * At run time the device itself calls only getrandom(2); its timer is a
 * libev timer (the loop's epoll_wait timeout), and its kicks and
 * interrupts are the transport's ioeventfd and irqfd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "device.h"
#include "log.h"
#include "loop.h"
#include "virtio_rng.h"
#include "vm.h"

/* --- the spec --- */

/*
 * vrng_bytes: the `n` characters at `s` as a byte count: digits with an
 * optional K, M or G (powers of 1024), at most `max`. Returns 0 with *out,
 * or -1.
 */
static int vrng_bytes(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;	/* stops long before v * 10 could wrap (max is at most 2^30) */
	}
	if (i == 0)
		return -1;
	if (i < n) {
		switch (s[i]) {
		case 'k': case 'K': mul = 1u << 10; break;
		case 'm': case 'M': mul = 1u << 20; break;
		case 'g': case 'G': mul = 1u << 30; break;
		default: return -1;
		}
		if (++i != n)
			return -1;
	}
	if (v > max / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int vrng_parse_spec(const char *s, struct vrng_spec *spec, char *err, size_t errlen)
{
	bool have_rate = false, have_burst = false;

	spec->rate = VRNG_RATE_DEFAULT;
	spec->burst = VRNG_BURST_DEFAULT;
	if (!strcmp(s, "off"))
		return DEVICE_NONE;
	if (!strcmp(s, "on"))
		return 0;
	for (const char *opt = s;;) {
		const char *end = strchr(opt, ',');
		size_t n = end ? (size_t)(end - opt) : strlen(opt);

		if (n > 5 && !strncmp(opt, "rate=", 5) && !have_rate) {
			size_t m = n - 5;

			if (m > 2 && !strncmp(opt + n - 2, "/s", 2))
				m -= 2;
			if (vrng_bytes(opt + 5, m, VRNG_RATE_MAX, &spec->rate) ||
			    spec->rate < VRNG_RATE_MIN) {
				snprintf(err, errlen, "rng '%.64s': rate '%.*s' is not 1K/s to 1G/s", s,
				    (int)(n - 5), opt + 5);
				return -EINVAL;
			}
			have_rate = true;
		} else if (n > 6 && !strncmp(opt, "burst=", 6) && !have_burst) {
			if (vrng_bytes(opt + 6, n - 6, VRNG_BURST_MAX, &spec->burst) ||
			    spec->burst < VRNG_BURST_MIN) {
				snprintf(err, errlen, "rng '%.64s': burst '%.*s' is not 64 to 16M bytes", s,
				    (int)(n - 6), opt + 6);
				return -EINVAL;
			}
			have_burst = true;
		} else {
			snprintf(err, errlen, "rng '%.64s': %s option '%.*s' (use off, on, or "
			    "rate=BYTES[/s],burst=BYTES)", s, (n > 5 && !strncmp(opt, "rate=", 5)) ||
			    (n > 6 && !strncmp(opt, "burst=", 6)) ? "repeated" : "unknown", (int)n, opt);
			return -EINVAL;
		}
		if (!end)
			return 0;
		opt = end + 1;
	}
}

/* --- the bucket and the queue --- */

static double vrng_clock_ev(struct vrng *r)
{
	return ev_now(r->vm->loop->ev);
}

/* vrng_refill: add what the time since the last refill earned, up to the burst. */
static void vrng_refill(struct vrng *r)
{
	double now = r->clock(r), dt = now - r->last;

	r->last = now;
	/* A clock that went back earns nothing; one that leapt ahead fills at most the bucket. */
	if (dt <= 0)
		return;
	r->tokens += dt * (double)r->spec.rate;
	if (r->tokens > (double)r->spec.burst)
		r->tokens = (double)r->spec.burst;
}

/* vrng_wait: (re)arm the one timer: vrng_process runs again in `s` seconds. */
static void vrng_wait(struct vrng *r, double s)
{
	struct ev_loop *ev = r->vm->loop->ev;

	ev_timer_stop(ev, &r->wait);
	ev_timer_set(&r->wait, s, 0.);
	ev_timer_start(ev, &r->wait);
}

/*
 * vrng_fill: `len` (at most VRNG_CHAIN_MAX) random bytes into r->buf.
 * GRND_NONBLOCK: the loop thread must never block. Once the host's CRNG
 * is initialised (early in the host's boot) getrandom never blocks either
 * way and the bytes are the same; before that, flags 0 would stop every
 * device and every vCPU exit until it is, while GRND_NONBLOCK says EAGAIN
 * and the device tries again later. Returns 0 or -errno.
 */
static int vrng_fill(struct vrng *r, uint32_t len)
{
	uint32_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(r->buf + got, len - got, GRND_NONBLOCK);

		if (n < 0 && errno == EINTR)
			continue;	/* a signal: the call did nothing; bounded by signals sent */
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (uint32_t)n;
	}
	return 0;
}

/*
 * vrng_serve: serve the popped chain when the bucket allows. Returns 1 when
 * it was published, 0 when it was rolled back and the timer armed.
 */
static int vrng_serve(struct vrng *r, struct virtq *vq)
{
	struct virtq_chain *c = &r->chain;
	uint32_t want = c->tok.write_len, cost;
	int e;

	/* Bounded whatever the guest offers: no guest length sizes host work or memory (M5). */
	if (want > VRNG_CHAIN_MAX)
		want = VRNG_CHAIN_MAX;
	if (want > r->spec.burst)
		want = (uint32_t)r->spec.burst;
	/* A one-byte request costs as much as a 64-byte one: requests per second are bounded too. */
	cost = want > VRNG_REQ_COST ? want : VRNG_REQ_COST;
	if (r->tokens < cost) {
		/* Back into the ring; no kicks until the timer, which the bucket's deficit sets. */
		virtq_unpop(vq, c);
		virtq_kick_enable(vq, false);
		r->waits++;
		vrng_wait(r, (cost - r->tokens) / (double)r->spec.rate + VRNG_WAIT_MIN_S);
		return 0;
	}
	e = vrng_fill(r, want);
	if (e) {
		/* The host's failure, not the guest's: keep the request and try again later. */
		virtq_unpop(vq, c);
		virtq_kick_enable(vq, false);
		log_guest(&r->host_fail, "virtio-rng: getrandom failed (%s); trying again every %.0f s",
		    strerror(-e), VRNG_RETRY_S);
		vrng_wait(r, VRNG_RETRY_S);
		return 0;
	}
	log_guest_rearm(&r->host_fail);
	r->tokens -= cost;
	virtq_copy_to(c, 0, r->buf, want);
	virtq_push(vq, &c->tok, want);
	r->bytes += want;
	r->requests++;
	return 1;
}

void vrng_process(struct vrng *r)
{
	struct virtq *vq = virtio_pci_queue(r->vp, 0);
	unsigned served = 0;

	/* While the timer runs the device is waiting on purpose: kicks change nothing (S1). */
	if (!vq || ev_is_active(&r->wait))
		return;
	vrng_refill(r);
	for (;;) {
		int n;

		if (served == VRNG_BATCH) {
			vrng_wait(r, 0.);	/* the rest on the next loop iteration */
			break;
		}
		n = virtq_pop_armed(vq, &r->chain);
		if (n < 0) {
			virtio_pci_fail(r->vp, vq->why);
			break;
		}
		if (n == 0)
			break;
		/* The driver MUST NOT post device-readable buffers (5.4.6.1); never guess at one. */
		if (r->chain.nread) {
			virtio_pci_fail(r->vp, "device-readable buffer in the request queue");
			break;
		}
		if (!vrng_serve(r, vq))
			break;
		served++;
	}
	if (served)
		virtio_pci_interrupt(r->vp, 0);
}

static void vrng_on_wait(struct ev_loop *ev, ev_timer *w, int revents)
{
	(void)ev;
	(void)revents;
	vrng_process(w->data);	/* the one-shot timer is stopped by now */
}

/* --- the transport's hooks --- */

static uint64_t vrng_features(void *dev)
{
	(void)dev;
	return 0;	/* none defined (5.4.3) */
}

static int vrng_features_ok(void *dev, uint64_t features)
{
	(void)dev;
	(void)features;
	return 0;
}

static void vrng_start(void *dev)
{
	vrng_process(dev);
}

static void vrng_notify(void *dev, unsigned q)
{
	(void)q;
	vrng_process(dev);
}

static bool vrng_reset(void *dev)
{
	struct vrng *r = dev;

	/*
	 * Nothing is ever in flight: requests are served inside vrng_process.
	 * The bucket is kept as it is: a reset must not be a way to refill it.
	 */
	ev_timer_stop(r->vm->loop->ev, &r->wait);
	return true;
}

/* No configuration space (5.4.4): config_size 0, so the transport never calls config_read/write. */
static const struct virtio_ops vrng_virtio_ops = {
	.name = "virtio-rng",
	.device_id = VRNG_DEVICE_ID,
	.pci_class = 0xff0000,		/* "other", as QEMU presents it */
	.num_queues = 1,
	.queue_max = VRNG_QUEUE_SIZE,
	.config_size = 0,
	.features = vrng_features,
	.features_ok = vrng_features_ok,
	.start = vrng_start,
	.queue_notify = vrng_notify,
	.reset = vrng_reset,
};

/* --- the device table's hooks --- */

static void vrng_usage(FILE *out)
{
	fputs("Entropy device options (--rng off, or --rng OPTION,...; on by default):\n"
	    "  rate=BYTES[/s]     bytes the guest may take per second, 1K-1G (default 256K)\n"
	    "  burst=BYTES        bytes it may take at once, 64-16M (default 64K)\n", out);
}

static const struct device_option vrng_option = {
	.name = "rng", .arg = "SPEC",
	.summary = "virtio entropy device, on by default; options below",
	.max = 1, .noun = "entropy devices", .usage = vrng_usage, .default_spec = "on",
};

static int vrng_parse(const char *text, unsigned index, void **conf, char *err, size_t errlen)
{
	struct vrng_spec *spec = calloc(1, sizeof(*spec));
	int r;

	(void)index;
	if (!spec)
		return -ENOMEM;
	r = vrng_parse_spec(text ? text : "", spec, err, errlen);
	if (r) {
		free(spec);
		return r;	/* DEVICE_NONE for "off", or -EINVAL */
	}
	*conf = spec;
	return 0;
}

static int vrng_create(struct vm *vm, const void *conf, void **state, char *err, size_t errlen)
{
	struct vrng *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	r->vm = vm;
	r->spec = *(const struct vrng_spec *)conf;
	r->clock = vrng_clock_ev;
	r->last = r->clock(r);
	r->tokens = (double)r->spec.burst;	/* full: a booting guest seeds at once */
	ev_timer_init(&r->wait, vrng_on_wait, 0., 0.);
	r->wait.data = r;
	e = virtio_pci_create(vm, &vrng_virtio_ops, r, true, &r->vp);
	if (e) {
		snprintf(err, errlen, "no room for a PCI device");
		free(r);
		return e;
	}
	*state = r;
	return 0;
}

static int vrng_destroy(struct vm *vm, void *state)
{
	struct vrng *r = state;

	ev_timer_stop(vm->loop->ev, &r->wait);
	virtio_pci_destroy(r->vp);
	free(r);
	return 0;
}

/* No describe hook: PCI enumeration finds the device. */
const struct device_ops vrng_ops = {
	.name = "virtio-rng",
	.option = &vrng_option,
	.parse = vrng_parse,
	.create = vrng_create,
	.destroy = vrng_destroy,
};
