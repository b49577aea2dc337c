/*
 * test_vnet.h: the fixture shared by test_vnet.c (transmit path) and
 * test_vnet_rx.c (receive path, reset, storms, features): one fake VM, the
 * virtio-net devices made by the real setup hook on the fake backend of
 * vnetfake.c, and the driver-side helpers.
 */
#ifndef RINGVM_TEST_VNET_H
#define RINGVM_TEST_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include "unit.h"
#include "vfake.h"
#include "virtio_net.h"
#include "virtio_pci.h"
#include "vnetfake.h"

/* Guest RAM: 64 MiB, a 1 MiB hole, 1 MiB. Untouched pages cost nothing. */
#define R0_LEN 0x4000000ull
#define HOLE 0x100000ull
#define R1_LEN 0x100000ull
#define DEV_AREA(i) (0x400000ull * ((i) + 1))	/* 4 MiB per device */
#define BIG 0x2000000ull			/* 8 MiB + 16 of aliased TX data (N2) */
#define BIG_LEN (0x800000ull + 16)

#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)
#define F_EVENT_IDX (1ull << VIRTQ_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTQ_F_INDIRECT_DESC)
#define F_NET(b) (1ull << VIRTIO_NET_F_##b)
#define F_OFFLOADS (F_NET(CSUM) | F_NET(GUEST_CSUM) | F_NET(HOST_TSO4) | F_NET(HOST_TSO6) | \
	F_NET(HOST_ECN) | F_NET(GUEST_TSO4) | F_NET(GUEST_TSO6) | F_NET(GUEST_ECN))
/* What the tests usually accept: everything but offloads and EVENT_IDX (flags stay readable). */
#define W_PLAIN (~(F_OFFLOADS | F_EVENT_IDX))

struct dev {
	const char *spec;
	unsigned idx;			/* its memory area */
	struct vnet *n;
	struct virtio_pci *vp;
	struct fnet *f;
	struct vf_ring rx, tx;
	bool packed;
	uint64_t feat;
};

extern struct unit u;
extern struct vstub_vm v;
extern struct dev d_user, d_tap, d_tap0, d_tapfail, d_s1, d_s2;
extern uint8_t fbuf[NET_FRAME_MAX + 64];	/* a frame being built */

uint8_t *at(uint64_t gpa, uint64_t len);
bool all_bytes(uint64_t gpa, uint64_t len, uint8_t b);
const char *rname(bool packed);

/* rings_at: the driver's rings (set A, or set B when `alt`) emptied; the device is not told. */
void rings_at(struct dev *d, bool packed, bool alt);
/* up: rings (set A, or set B when `alt`) emptied, driver reset .. DRIVER_OK; counters zeroed. */
uint64_t up_at(struct dev *d, bool packed, uint64_t want, bool alt);
uint64_t up(struct dev *d, bool packed, uint64_t want);
bool needs_reset(struct dev *d);
void kick_tx(struct dev *d);
void kick_rx(struct dev *d);

/* frame: `len` bytes of Ethernet frame (dst broadcast, src the device MAC, IPv4 type, pattern `seed`). */
void frame(uint8_t *p, uint32_t len, unsigned seed);

/* tx_put: TX guest memory holding `hdr` (12 bytes, zeros when NULL) then `len` frame bytes. */
uint64_t tx_put(struct dev *d, const void *hdr, const uint8_t *fr, uint32_t len);
/* tx_one: a one-descriptor TX chain of header + frame, published (not kicked). Returns its id. */
uint16_t tx_one(struct dev *d, const void *hdr, const uint8_t *fr, uint32_t len);
/* rx_post: an RX chain of one writable buffer of `len` bytes filled with `fill`. Returns its id. */
uint16_t rx_post(struct dev *d, uint32_t len, uint8_t fill, uint64_t *gpa);

/* used_is: the next used entry of `r` is (id, len). */
bool used_is(struct vf_ring *r, uint32_t id, uint32_t len);
/* used_none: the device published nothing more on `r`. */
bool used_none(struct vf_ring *r);
/* sent_is: the backend's frame `k` is `hdrlen` bytes of `hdr` then `len` bytes of `fr`. */
bool sent_is(struct fnet *f, unsigned k, const void *hdr, unsigned hdrlen, const uint8_t *fr,
    uint32_t len);

/* test_vnet_rx.c */
void test_rx_all(void);

#endif
