/*
 * virtio_rng.h: the virtio entropy device (virtio 1.2, section 5.4): its
 * limits and state, shared with its unit tests.
 *
 * The guest posts device-writable buffers on its one queue (requestq); the
 * device fills them with bytes from getrandom(2) at no more than a rate
 * the user sets, so a guest cannot turn ringvm into a CPU furnace.
 */
#ifndef RINGVM_VIRTIO_RNG_H
#define RINGVM_VIRTIO_RNG_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "log.h"
#include "virtio_pci.h"

#define VRNG_DEVICE_ID 4	/* virtio device type: entropy source */
#define VRNG_QUEUE_SIZE 256	/* descriptors in requestq */

/*
 * The specified limits (man/ringvm.1 LIMITS, docs/ARCHITECTURE.md). The rate
 * limit is a token bucket of `burst` bytes refilled at `rate` bytes per
 * second; it starts full, and a device reset does not refill it.
 *  - VRNG_CHAIN_MAX: bytes given per request, whatever its size (the spec
 *    lets the device fill less than the buffer; HOSTILE.md M5). It is also
 *    the only buffer the device holds, so no guest value sizes an
 *    allocation.
 *  - VRNG_REQ_COST: the least a request takes from the bucket, even one
 *    asking for a single byte: a guest gets at most rate / 64 requests per
 *    second, which bounds the host's CPU per second whatever the guest
 *    posts. 64 bytes is what Linux asks for per request, so Linux gets the
 *    full rate.
 *  - VRNG_BATCH: requests served per loop iteration; the rest continue on
 *    the next (a zero timer), so one guest cannot hold the loop.
 *  - VRNG_WAIT_MIN_S: the least the device waits when the bucket is empty,
 *    so rounding can never turn the wait into a spin.
 *  - VRNG_RETRY_S: the wait before trying getrandom again after it failed.
 */
#define VRNG_CHAIN_MAX 4096u
#define VRNG_REQ_COST 64u
#define VRNG_BATCH 256u
#define VRNG_WAIT_MIN_S 0.00005
#define VRNG_RETRY_S 1.0

/* The --rng defaults and bounds, bytes and bytes per second. */
#define VRNG_RATE_DEFAULT (256u << 10)
#define VRNG_BURST_DEFAULT (64u << 10)
#define VRNG_RATE_MIN (1u << 10)
#define VRNG_RATE_MAX (1u << 30)
#define VRNG_BURST_MIN VRNG_REQ_COST
#define VRNG_BURST_MAX (16u << 20)

/* What an --rng spec asks for. */
struct vrng_spec {
	uint64_t rate;		/* bytes per second */
	uint64_t burst;		/* the bucket's size, bytes */
};

struct vrng {
	struct vm *vm;
	struct virtio_pci *vp;
	struct vrng_spec spec;
	double tokens;		/* bytes the guest may take now, 0 to burst */
	double last;		/* the clock at the last refill */
	/* clock: seconds, for the bucket (ev_now; tests put a fake clock here). */
	double (*clock)(struct vrng *r);
	ev_timer wait;		/* running while the device waits: bucket empty, batch done, retry */
	struct log_once host_fail;	/* getrandom failed: one line per episode */
	struct virtq_chain chain;	/* scratch for virtq_pop */
	uint8_t buf[VRNG_CHAIN_MAX];	/* random bytes on their way to the guest */
	uint64_t bytes, requests, waits;	/* given, served, times the bucket ran dry */
};

/*
 * vrng_parse_spec: "off", "on", or "[rate=BYTES[/s]][,burst=BYTES]"
 * (BYTES: a number with an optional K, M or G, powers of 1024). Returns 0
 * with *spec set, DEVICE_NONE for "off", or -EINVAL with a one-line reason
 * in `err`.
 */
int vrng_parse_spec(const char *s, struct vrng_spec *spec, char *err, size_t errlen);

/*
 * vrng_process: serve the requests in the queue while the bucket allows
 * (loop thread). Stops, rolling the next request back into the ring, when
 * the bucket is empty (the wait timer then resumes), after VRNG_BATCH
 * requests, or on a ring fault (DEVICE_NEEDS_RESET). Interrupts the
 * driver once for everything it published.
 */
void vrng_process(struct vrng *r);

/* The device, for the table in src/devices.c and for tests. */
extern const struct device_ops vrng_ops;

#endif
