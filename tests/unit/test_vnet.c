/*
 * test_vnet.c: virtio-net against HOSTILE.md 2e (N1-N8, N10) and 2h (X2,
 * X4: the bands of man/ringvm.1 LIMITS tested at their edges), transmit
 * side: header and frame size bands, descriptor bands, directions, offload
 * headers, EAGAIN back-pressure, the per-iteration budget, ring sync. The
 * receive side, reset, storms and feature negotiation are in
 * test_vnet_rx.c.
 *
 * The device is the real one (devices/virtio_net.c, made by its own setup
 * hook from a -n spec) behind the real virtio-pci transport, driven by the
 * fake driver of vfake.c through BAR accesses; its backend is the fake of
 * vnetfake.c, which records every frame. No KVM.
 *
 * Outcomes: DROP = used entry with length 0, a counter up by one, nothing
 * sent; RESET = DEVICE_NEEDS_RESET set, no used entry, nothing sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_vnet.h"

struct unit u = { .file = "vnet" };
struct vstub_vm v;
struct dev d_user = { .spec = "user", .idx = 0 };
struct dev d_tap = { .spec = "tap", .idx = 1 };
struct dev d_tap0 = { .spec = "tap,hdr=0", .idx = 2 };
struct dev d_tapfail = { .spec = "tap,offload_fail", .idx = 3 };
struct dev d_s1 = { .spec = "user", .idx = 4 };
struct dev d_s2 = { .spec = "user", .idx = 5 };
uint8_t fbuf[NET_FRAME_MAX + 64];

static const uint8_t zero_hdr[VNET_HDR_LEN];

/* --- the fixture (declared in test_vnet.h) --- */

uint8_t *at(uint64_t gpa, uint64_t len)
{
	return vf_at(&v.vm.mem, gpa, len);
}

bool all_bytes(uint64_t gpa, uint64_t len, uint8_t b)
{
	const uint8_t *p = at(gpa, len);

	for (uint64_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

const char *rname(bool packed)
{
	return packed ? "packed" : "split";
}

void rings_at(struct dev *d, bool packed, bool alt)
{
	uint64_t b = DEV_AREA(d->idx) + (alt ? 0x8000 : 0);
	uint64_t h = DEV_AREA(d->idx) + (alt ? 0x300000 : 0x100000), hl = alt ? 0x80000 : 0x100000;

	vf_ring_init(&d->rx, &v.vm.mem, VNET_QUEUE_SIZE, packed, b, b + 0x1000, b + 0x2000, h, hl);
	vf_ring_init(&d->tx, &v.vm.mem, VNET_QUEUE_SIZE, packed, b + 0x3000, b + 0x4000, b + 0x5000,
	    h + hl, hl);
	d->packed = packed;
}

uint64_t up_at(struct dev *d, bool packed, uint64_t want, bool alt)
{
	/* The device forgets the old rings before we wipe them. */
	vstub_bar_write(d->vp, VS_STATUS, 0, 1);
	rings_at(d, packed, alt);
	memset(&d->n->cnt, 0, sizeof(d->n->cnt));
	memset(&d->n->nb.stats, 0, sizeof(d->n->nb.stats));
	fnet_clear_tx(d->f);
	fnet_drop_rxq(d->f);
	d->f->eagain = false;
	d->f->on_send = NULL;
	d->f->send_calls = d->f->eagain_calls = d->f->sent = d->f->contract = 0;
	d->f->rx_resume_calls = d->f->delivered = d->f->rx_eagain = 0;
	d->f->max_iovcnt = 0;
	d->feat = vn_driver_init(d->vp, packed ? want | F_PACKED : want & ~F_PACKED, &d->rx, &d->tx);
	return d->feat;
}

uint64_t up(struct dev *d, bool packed, uint64_t want)
{
	return up_at(d, packed, want, false);
}

bool needs_reset(struct dev *d)
{
	return vstub_status(d->vp) & VS_S_NEEDS_RESET;
}

void kick_tx(struct dev *d)
{
	vn_kick(d->vp, VNET_TXQ);
}

void kick_rx(struct dev *d)
{
	vn_kick(d->vp, VNET_RXQ);
}

void frame(uint8_t *p, uint32_t len, unsigned seed)
{
	static const uint8_t head[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00 };

	for (uint32_t i = 0; i < len; i++)
		p[i] = i < 14 ? head[i] : (uint8_t)(i * 13 + seed * 7 + 1);
}

uint64_t tx_put(struct dev *d, const void *hdr, const uint8_t *fr, uint32_t len)
{
	uint64_t a = vf_alloc(&d->tx, VNET_HDR_LEN + len, 0);

	memcpy(at(a, VNET_HDR_LEN), hdr ? hdr : zero_hdr, VNET_HDR_LEN);
	if (len)
		memcpy(at(a + VNET_HDR_LEN, len), fr, len);
	return a;
}

uint16_t tx_one(struct dev *d, const void *hdr, const uint8_t *fr, uint32_t len)
{
	struct vf_seg s = { tx_put(d, hdr, fr, len), VNET_HDR_LEN + len, false };

	return vf_chain(&d->tx, &s, 1);
}

uint16_t rx_post(struct dev *d, uint32_t len, uint8_t fill, uint64_t *gpa)
{
	struct vf_seg s = { vf_alloc(&d->rx, len, fill), len, true };

	if (gpa)
		*gpa = s.addr;
	return vf_chain(&d->rx, &s, 1);
}

bool used_is(struct vf_ring *r, uint32_t id, uint32_t len)
{
	uint32_t gid, glen;

	if (vf_used_next(r, &gid, &glen) != 1) {
		printf("# no used entry (wanted id %u len %u)\n", id, len);
		return false;
	}
	if (gid != id || glen != len)
		printf("# used entry id %u len %u, wanted id %u len %u\n", gid, glen, id, len);
	return gid == id && glen == len;
}

bool used_none(struct vf_ring *r)
{
	uint32_t gid, glen;

	if (vf_used_next(r, &gid, &glen) == 0)
		return true;
	printf("# unexpected used entry id %u len %u\n", gid, glen);
	return false;
}

bool sent_is(struct fnet *f, unsigned k, const void *hdr, unsigned hdrlen, const uint8_t *fr,
    uint32_t len)
{
	if (k >= f->ntx || f->tx[k].len != hdrlen + len)
		return false;
	return (!hdrlen || !memcmp(f->tx[k].data, hdr, hdrlen)) && !memcmp(f->tx[k].data + hdrlen, fr, len);
}

/* --- N1: header and Ethernet header --- */

static void test_n1(bool packed)
{
	static const struct { uint32_t len; bool two; const char *what; } c[] = {
		{ 5, false, "5-byte chain, shorter than the 12-byte header" },
		{ 12, false, "12-byte chain, header only" },
		{ 12 + 13, true, "header + 13 bytes (no Ethernet header), two descriptors" },
		{ 12 + 13, false, "header + 13 bytes in one descriptor" },
	};
	struct dev *d = &d_user;
	char what[160];
	uint16_t id;

	up(d, packed, W_PLAIN);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t a = vf_alloc(&d->tx, c[i].len, 0x11);
		struct vf_seg s[2] = { { a, c[i].two ? 12 : c[i].len, false }, { a + 12, c[i].len - 12, false } };

		id = vf_chain(&d->tx, s, c[i].two ? 2 : 1);
		kick_tx(d);
		snprintf(what, sizeof(what), "N1 %s: %s: DROP (used len 0, tx_malformed %u, nothing sent)",
		    rname(packed), c[i].what, i + 1);
		UNIT_OK(&u, used_is(&d->tx, id, 0) && d->n->cnt.tx_malformed == i + 1 &&
		    d->f->send_calls == 0 && !needs_reset(d), what);
	}
	frame(fbuf, 14, 1);
	id = tx_one(d, NULL, fbuf, 14);
	kick_tx(d);
	snprintf(what, sizeof(what), "N1 %s: header + 14-byte Ethernet header is sent as is", rname(packed));
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 1 && sent_is(d->f, 0, NULL, 0, fbuf, 14) &&
	    d->n->cnt.tx_malformed == 4 && d->f->contract == 0, what);
}

/* --- N2: frame bytes: NET_FRAME_MAX valid, then dropped, RESET over VNET_TX_BYTES_DROP --- */

static void test_n2(bool packed)
{
	struct dev *d = &d_user;
	const uint32_t half = VNET_TX_BYTES_DROP / 2;
	struct vf_seg s[3] = { { BIG, half, false }, { BIG, half, false }, { BIG, 1, false } };
	char what[160];
	uint16_t id;

	up(d, packed, W_PLAIN);
	frame(fbuf, NET_FRAME_MAX, 2);
	id = tx_one(d, NULL, fbuf, NET_FRAME_MAX);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: a frame of NET_FRAME_MAX (%u) bytes is sent whole",
	    rname(packed), NET_FRAME_MAX);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 1 &&
	    sent_is(d->f, 0, NULL, 0, fbuf, NET_FRAME_MAX) && d->n->cnt.tx_too_big == 0, what);

	frame(fbuf, NET_FRAME_MAX + 1, 3);
	id = tx_one(d, NULL, fbuf, NET_FRAME_MAX + 1);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: NET_FRAME_MAX + 1 bytes: DROP, tx_too_big 1", rname(packed));
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->send_calls == 1 && d->n->cnt.tx_too_big == 1 &&
	    !needs_reset(d), what);

	/* 16 MiB of chain: two descriptors over the same 8 MiB (the walker allows aliasing). */
	if (BIG_LEN < half + 1u) {
		UNIT_OK(&u, 0, "N2: test bug: BIG area smaller than half of VNET_TX_BYTES_DROP");
		return;
	}
	memset(at(BIG, half + 1u), 0x42, half + 1u);
	id = vf_chain(&d->tx, s, 2);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: a chain of exactly VNET_TX_BYTES_DROP (16 MiB): DROP, "
	    "tx_too_big 2, no RESET", rname(packed));
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->n->cnt.tx_too_big == 2 && d->f->send_calls == 1 &&
	    !needs_reset(d), what);
	vf_chain(&d->tx, s, 3);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: a chain of VNET_TX_BYTES_DROP + 1 bytes: RESET, no used "
	    "entry, nothing sent", rname(packed));
	UNIT_OK(&u, needs_reset(d) && used_none(&d->tx) && d->f->send_calls == 1 &&
	    d->n->cnt.tx_too_big == 2, what);
	tx_one(d, NULL, fbuf, 60);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: a failed device sends nothing more until reset", rname(packed));
	UNIT_OK(&u, d->f->send_calls == 1 && used_none(&d->tx), what);

	/* With a vnet_hdr backend the backend gets the header in front. */
	d = &d_tap;
	up(d, packed, W_PLAIN);
	frame(fbuf, NET_FRAME_MAX, 4);
	id = tx_one(d, NULL, fbuf, NET_FRAME_MAX);
	kick_tx(d);
	snprintf(what, sizeof(what), "N2 %s: vnet_hdr backend: NET_FRAME_MAX frame sent as 12 + %u bytes",
	    rname(packed), NET_FRAME_MAX);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 1 &&
	    sent_is(d->f, 0, zero_hdr, VNET_HDR_LEN, fbuf, NET_FRAME_MAX) && d->f->contract == 0, what);
}

/* --- N3: descriptors per frame --- */

/*
 * tx_segs: a frame over `nseg` descriptors: the first holds the header and 8
 * frame bytes, each further one 10 bytes. Direct, or through an indirect
 * table. Returns the id; *flen gets the frame length (fbuf holds it).
 */
static uint16_t tx_segs(struct dev *d, unsigned nseg, bool indirect, uint32_t *flen)
{
	static struct vf_seg s[VIRTQ_MAX_SIZE];
	uint32_t len = 8 + 10 * (nseg - 1);
	uint64_t a;

	frame(fbuf, len, nseg);
	a = tx_put(d, NULL, fbuf, len);
	s[0] = (struct vf_seg){ a, VNET_HDR_LEN + 8, false };
	for (unsigned i = 1; i < nseg; i++)
		s[i] = (struct vf_seg){ a + VNET_HDR_LEN + 8 + 10 * (i - 1), 10, false };
	*flen = len;
	if (indirect)
		return vf_chain_indirect(&d->tx, vf_alloc(&d->tx, 16 * nseg, 0), s, nseg, 0);
	return vf_chain(&d->tx, s, nseg);
}

static void test_n3(bool packed, struct dev *d)
{
	bool hdr = d->n->nb.vnet_hdr_len != 0;
	const char *be = hdr ? "vnet_hdr backend" : "no vnet_hdr";
	char what[200];
	uint32_t flen;
	uint16_t id;

	up(d, packed, W_PLAIN);
	id = tx_segs(d, VNET_TX_SEGS_VALID, false, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: a frame in VNET_TX_SEGS_VALID (%u) descriptors is sent "
	    "whole (%u iovecs)", rname(packed), be, VNET_TX_SEGS_VALID, VNET_TX_SEGS_VALID + hdr);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 1 &&
	    sent_is(d->f, 0, zero_hdr, hdr ? VNET_HDR_LEN : 0, fbuf, flen) &&
	    d->f->max_iovcnt == (int)(VNET_TX_SEGS_VALID + hdr) && d->f->contract == 0, what);
	id = tx_segs(d, VNET_TX_SEGS_VALID, true, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: the same through an indirect table is sent whole",
	    rname(packed), be);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 2 &&
	    sent_is(d->f, 1, zero_hdr, hdr ? VNET_HDR_LEN : 0, fbuf, flen), what);
	id = tx_segs(d, VNET_TX_SEGS_VALID + 1, false, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: VNET_TX_SEGS_VALID + 1 descriptors: DROP, "
	    "tx_too_many_segs 1", rname(packed), be);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->send_calls == 2 && d->n->cnt.tx_too_many_segs == 1 &&
	    !needs_reset(d), what);
	id = tx_segs(d, VNET_TX_SEGS_DROP, false, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: VNET_TX_SEGS_DROP (%u) descriptors: DROP, "
	    "tx_too_many_segs 2", rname(packed), be, VNET_TX_SEGS_DROP);
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->send_calls == 2 && d->n->cnt.tx_too_many_segs == 2 &&
	    !needs_reset(d), what);
	tx_segs(d, VNET_TX_SEGS_DROP + 1, true, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: VNET_TX_SEGS_DROP + 1 descriptors (indirect table): "
	    "RESET, no used entry", rname(packed), be);
	UNIT_OK(&u, needs_reset(d) && used_none(&d->tx) && d->f->send_calls == 2, what);
	up(d, packed, W_PLAIN);
	tx_segs(d, VNET_TX_SEGS_DROP + 1, false, &flen);
	kick_tx(d);
	snprintf(what, sizeof(what), "N3 %s, %s: VNET_TX_SEGS_DROP + 1 direct descriptors: RESET",
	    rname(packed), be);
	UNIT_OK(&u, needs_reset(d) && used_none(&d->tx) && d->f->send_calls == 0, what);
}

/* --- N4 (TX side): device-writable descriptors in a TX chain --- */

static void test_n4_tx(bool packed)
{
	struct dev *d = &d_user;
	struct vf_seg s[2];
	char what[160];
	uint16_t id;

	up(d, packed, W_PLAIN);
	frame(fbuf, 60, 5);
	s[0] = (struct vf_seg){ tx_put(d, NULL, fbuf, 60), VNET_HDR_LEN + 60, false };
	s[1] = (struct vf_seg){ vf_alloc(&d->tx, 100, 0x5a), 100, true };
	id = vf_chain(&d->tx, s, 2);
	kick_tx(d);
	snprintf(what, sizeof(what), "N4 %s: TX chain with a device-writable descriptor: DROP "
	    "(used len 0, tx_malformed 1), not a byte written to it", rname(packed));
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->n->cnt.tx_malformed == 1 && d->f->send_calls == 0 &&
	    all_bytes(s[1].addr, 100, 0x5a) && !needs_reset(d), what);
	s[0] = (struct vf_seg){ vf_alloc(&d->tx, 72, 0x5b), 72, true };
	id = vf_chain(&d->tx, s, 1);
	kick_tx(d);
	snprintf(what, sizeof(what), "N4 %s: TX chain of only device-writable buffers: DROP, untouched",
	    rname(packed));
	UNIT_OK(&u, used_is(&d->tx, id, 0) && d->n->cnt.tx_malformed == 2 && d->f->send_calls == 0 &&
	    all_bytes(s[0].addr, 72, 0x5b), what);
}

/* --- N5: the virtio_net_hdr a guest sends --- */

static struct virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
    uint16_t cs, uint16_t co, uint16_t nb)
{
	struct virtio_net_hdr_v1 h;

	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.gso_type = gso;
	h.hdr_len = hdr_len;
	h.gso_size = gso_size;
	h.csum_start = cs;
	h.csum_offset = co;
	h.num_buffers = nb;
	return h;
}

/* tx_hdr: send header `h` with a 60-byte frame; 1 if sent (*seen = what the backend got), 0 if dropped. */
static int tx_hdr(struct dev *d, struct virtio_net_hdr_v1 h, struct virtio_net_hdr_v1 *seen)
{
	unsigned long before = d->f->sent;
	uint16_t id;

	frame(fbuf, 60, 6);
	id = tx_one(d, &h, fbuf, 60);
	kick_tx(d);
	if (!used_is(&d->tx, id, 0))
		return -1;
	if (d->f->sent == before)
		return 0;
	if (d->f->ntx == 0 || d->f->tx[d->f->ntx - 1].len != VNET_HDR_LEN + 60 ||
	    memcmp(d->f->tx[d->f->ntx - 1].data + VNET_HDR_LEN, fbuf, 60))
		return -1;
	memcpy(seen, d->f->tx[d->f->ntx - 1].data, sizeof(*seen));
	return 1;
}

#define CS VIRTIO_NET_HDR_F_NEEDS_CSUM

static void test_n5(void)
{
	struct virtio_net_hdr_v1 seen, want;
	struct dev *d = &d_tap;
	bool ok;

	/* No offloads negotiated: every field cleared, the frame still goes. */
	up(d, false, W_PLAIN);
	ok = tx_hdr(d, hdr(0xff, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 7),
	    &seen) == 1 && !memcmp(&seen, zero_hdr, VNET_HDR_LEN) && d->n->cnt.tx_malformed == 0;
	UNIT_OK(&u, ok, "N5: no offloads negotiated: a garbage header reaches the backend all zero, "
	    "frame sent");

	/* CSUM only. */
	up(d, false, W_PLAIN | F_NET(CSUM));
	want = hdr(CS, 0, 0, 0, 34, 16, 0);
	UNIT_OK(&u, tx_hdr(d, hdr(CS, 0, 0, 0, 34, 16, 7), &seen) == 1 && !memcmp(&seen, &want, sizeof(want)),
	    "N5: CSUM: a valid NEEDS_CSUM header passes; num_buffers 7 on TX reaches the backend as 0");
	want = hdr(CS, 0, 0, 0, 44, 14, 0);
	UNIT_OK(&u, tx_hdr(d, hdr(CS, 0, 0, 0, 44, 14, 0), &seen) == 1 && !memcmp(&seen, &want, sizeof(want)),
	    "N5: CSUM: csum_start + csum_offset + 2 == frame length passes");
	UNIT_OK(&u, tx_hdr(d, hdr(CS, 0, 0, 0, 45, 14, 0), &seen) == 0 && d->n->cnt.tx_malformed == 1,
	    "N5: CSUM: csum_start + csum_offset + 2 == frame length + 1: DROP, tx_malformed");
	UNIT_OK(&u, tx_hdr(d, hdr(CS, 0, 0, 0, 0xffff, 0xffff, 0), &seen) == 0 && d->n->cnt.tx_malformed == 2,
	    "N5: CSUM: csum_start 0xffff, csum_offset 0xffff: DROP (no 16-bit wrap)");
	want = hdr(CS, 0, 0, 0, 34, 16, 0);
	UNIT_OK(&u, tx_hdr(d, hdr(0xff, 0, 0, 0, 34, 16, 0), &seen) == 1 && seen.flags == CS,
	    "N5: CSUM: unknown flag bits are cleared, NEEDS_CSUM kept");
	UNIT_OK(&u, tx_hdr(d, hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0), &seen) == 0 &&
	    d->n->cnt.tx_malformed == 3, "N5: CSUM without HOST_TSO4: gso_type TCPV4: DROP");
	ok = tx_hdr(d, hdr(0, VIRTIO_NET_HDR_GSO_NONE, 0xffff, 1448, 0, 0, 0), &seen) == 1;
	UNIT_OK(&u, ok, "N5: CSUM: GSO_NONE with garbage gso_size/hdr_len is sent");
	if (ok && (seen.gso_size || seen.hdr_len))
		printf("# backend saw gso_size %u hdr_len %u for GSO_NONE without TSO negotiated\n",
		    seen.gso_size, seen.hdr_len);
	UNIT_OK(&u, ok && seen.gso_size == 0 && seen.hdr_len == 0,
	    "N5: CSUM without TSO: gso_size and hdr_len (un-negotiated offload fields) reach the backend as 0");

	/* CSUM + HOST_TSO4. */
	up(d, false, W_PLAIN | F_NET(CSUM) | F_NET(HOST_TSO4));
	want = hdr(CS, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0);
	UNIT_OK(&u, tx_hdr(d, hdr(CS, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 3), &seen) == 1 &&
	    !memcmp(&seen, &want, sizeof(want)), "N5: HOST_TSO4: a valid TSO header passes intact (num_buffers 0)");
	want = hdr(CS, VIRTIO_NET_HDR_GSO_TCPV4, 60, 1448, 34, 16, 0);
	UNIT_OK(&u, tx_hdr(d, hdr(CS, VIRTIO_NET_HDR_GSO_TCPV4, 60, 1448, 34, 16, 0), &seen) == 1 &&
	    !memcmp(&seen, &want, sizeof(want)), "N5: HOST_TSO4: hdr_len == frame length passes");
	{
		static const struct { uint8_t flags, gso; uint16_t hlen, gsz; const char *what; } bad[] = {
			{ CS, 5, 54, 1448, "N5: unknown gso_type 5: DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_UDP, 54, 1448, "N5: gso_type UDP (UFO never offered): DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_TCPV6, 54, 1448, "N5: gso_type TCPV6 without HOST_TSO6: DROP" },
			{ 0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, "N5: gso TCPV4 without NEEDS_CSUM: DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448,
			    "N5: gso TCPV4|ECN without HOST_ECN: DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, "N5: gso TCPV4 with gso_size 0: DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_TCPV4, 61, 1448, "N5: gso TCPV4 with hdr_len past the frame: DROP" },
			{ CS, VIRTIO_NET_HDR_GSO_ECN, 54, 1448, "N5: gso_type ECN alone: DROP" },
		};

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			UNIT_OK(&u, tx_hdr(d, hdr(bad[i].flags, bad[i].gso, bad[i].hlen, bad[i].gsz, 34, 16, 0),
			    &seen) == 0 && d->n->cnt.tx_malformed == i + 1, bad[i].what);
	}

	/* No vnet_hdr in the backend: the header is stripped and never looked at. */
	d = &d_user;
	up(d, false, W_PLAIN);
	frame(fbuf, 60, 7);
	{
		struct virtio_net_hdr_v1 g = hdr(0xff, 0xff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);
		uint16_t id = tx_one(d, &g, fbuf, 60);

		kick_tx(d);
		UNIT_OK(&u, used_is(&d->tx, id, 0) && d->f->sent == 1 && sent_is(d->f, 0, NULL, 0, fbuf, 60) &&
		    d->n->cnt.tx_malformed == 0, "N5: backend without vnet_hdr: an all-0xff header is stripped, "
		    "the frame alone sent");
	}
}
#undef CS

/* --- N8: EAGAIN from the backend --- */

struct n8_hook {
	struct dev *d;
	unsigned block_after;	/* set EAGAIN once this many frames were taken */
};

static void n8_on_send(void *arg, const uint8_t *fr, size_t len)
{
	struct n8_hook *h = arg;

	(void)fr;
	(void)len;
	if (h->d->f->sent == h->block_after)
		h->d->f->eagain = true;
}

/* kicks_off: the driver sees "do not kick" in the TX ring's suppression field. */
static bool kicks_off(struct dev *d)
{
	if (d->packed)
		return vf_get16(&v.vm.mem, d->tx.device + 2) == 1;	/* RING_EVENT_FLAGS_DISABLE */
	return vf_get16(&v.vm.mem, d->tx.device) & 1;			/* VRING_USED_F_NO_NOTIFY */
}

static void test_n8(bool packed)
{
	struct dev *d = &d_user;
	static uint8_t fr[5][200];
	uint16_t id[5];
	struct virtq *q;
	struct n8_hook hook = { d, 2 };
	char what[200];
	bool ok;

	up(d, packed, W_PLAIN);
	q = &d->vp->vq[VNET_TXQ];
	d->f->eagain = true;
	for (unsigned k = 0; k < 5; k++) {
		frame(fr[k], 60 + 10 * k, 20 + k);
		id[k] = tx_one(d, NULL, fr[k], 60 + 10 * k);
	}
	kick_tx(d);
	snprintf(what, sizeof(what), "N8 %s: send says EAGAIN: one attempt, chain rolled back (not used, "
	    "ring position 0), device blocked", rname(packed));
	UNIT_OK(&u, d->f->send_calls == 1 && used_none(&d->tx) && d->n->tx_blocked &&
	    (packed ? q->next_avail == 0 : q->last_avail == 0), what);
	snprintf(what, sizeof(what), "N8 %s: while blocked the driver sees kicks disabled", rname(packed));
	UNIT_OK(&u, kicks_off(d), what);
	for (int i = 0; i < 1000; i++)
		kick_tx(d);
	vstub_run(&v);
	snprintf(what, sizeof(what), "N8 %s: 1000 kicks while blocked: still exactly one send attempt",
	    rname(packed));
	UNIT_OK(&u, d->f->send_calls == 1 && used_none(&d->tx), what);
	d->f->eagain = false;
	d->n->nb.tx_ready(d->n->nb.owner);
	ok = d->f->sent == 5 && d->f->send_calls == 6 && !d->n->tx_blocked;
	for (unsigned k = 0; k < 5; k++)
		ok = ok && sent_is(d->f, k, NULL, 0, fr[k], 60 + 10 * k) && used_is(&d->tx, id[k], 0);
	snprintf(what, sizeof(what), "N8 %s: after tx_ready the 5 pending frames are sent once each, in "
	    "order, and used in order", rname(packed));
	UNIT_OK(&u, ok && used_none(&d->tx), what);
	snprintf(what, sizeof(what), "N8 %s: after tx_ready kicks are enabled again", rname(packed));
	UNIT_OK(&u, !kicks_off(d), what);

	if (!packed) {
		/* With EVENT_IDX the driver's own test (vring_need_event) must say "no kick". */
		uint16_t ev, old_idx;

		up(d, packed, W_PLAIN | F_EVENT_IDX);
		kick_tx(d);			/* empty: the device asks for a kick past 0 */
		d->f->eagain = true;
		tx_one(d, NULL, fr[0], 60);
		kick_tx(d);
		old_idx = d->tx.avail_idx;
		tx_one(d, NULL, fr[1], 70);
		ev = vf_get16(&v.vm.mem, d->tx.device + 4 + 8ull * VNET_QUEUE_SIZE);
		UNIT_OK(&u, d->f->send_calls == 1 && d->n->tx_blocked &&
		    !((uint16_t)(d->tx.avail_idx - ev - 1) < (uint16_t)(d->tx.avail_idx - old_idx)),
		    "N8 split, EVENT_IDX: while blocked, avail_event makes the driver skip the kick");
		d->f->eagain = false;
		d->n->nb.tx_ready(d->n->nb.owner);
		UNIT_OK(&u, d->f->sent == 2 && used_is(&d->tx, 0, 0) && used_is(&d->tx, 1, 0) &&
		    vf_get16(&v.vm.mem, d->tx.device + 4 + 8ull * VNET_QUEUE_SIZE) == d->tx.avail_idx,
		    "N8 split, EVENT_IDX: after tx_ready both sent, avail_event asks for the next kick");
		up(d, packed, W_PLAIN);
	}

	/* EAGAIN in the middle of a batch: nothing lost, nothing twice. */
	fnet_clear_tx(d->f);
	d->f->sent = d->f->send_calls = 0;
	d->f->on_send = n8_on_send;
	d->f->on_send_arg = &hook;
	for (unsigned k = 0; k < 5; k++)
		id[k] = tx_one(d, NULL, fr[k], 60 + 10 * k);
	kick_tx(d);
	ok = d->f->sent == 2 && d->f->send_calls == 3 && used_is(&d->tx, id[0], 0) &&
	    used_is(&d->tx, id[1], 0) && used_none(&d->tx) && kicks_off(d);
	hook.block_after = 99;
	d->f->eagain = false;
	d->n->nb.tx_ready(d->n->nb.owner);
	ok = ok && d->f->sent == 5 && d->f->send_calls == 6;
	for (unsigned k = 0; k < 5; k++)
		ok = ok && sent_is(d->f, k, NULL, 0, fr[k], 60 + 10 * k) && (k < 2 || used_is(&d->tx, id[k], 0));
	snprintf(what, sizeof(what), "N8 %s: EAGAIN after 2 of 5 frames: 3 resent after tx_ready, all 5 "
	    "exactly once, in order", rname(packed));
	UNIT_OK(&u, ok && used_none(&d->tx), what);
	d->f->on_send = NULL;
}

/* --- N10: source MAC policy --- */

static void test_n10(void)
{
	static const uint8_t spoof[6] = { 0x02, 0xde, 0xad, 0xbe, 0xef, 0x01 };
	struct dev *d = &d_user;
	uint8_t mac[6];
	uint16_t id;

	up(d, false, W_PLAIN);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vstub_bar_read(d->vp, VS_DEVCFG + i, 1);
	frame(fbuf, 60, 8);
	memcpy(fbuf + 6, spoof, 6);
	id = tx_one(d, NULL, fbuf, 60);
	kick_tx(d);
	UNIT_OK(&u, memcmp(mac, spoof, 6) && used_is(&d->tx, id, 0) && d->f->sent == 1 &&
	    sent_is(d->f, 0, NULL, 0, fbuf, 60) && !memcmp(d->f->tx[0].data + 6, spoof, 6) &&
	    d->n->cnt.tx_malformed == 0, "N10: a source MAC other than the device's is passed through "
	    "unchanged (documented: not enforced)");
}

/* --- X2: a mix of good, dropped and malformed TX chains keeps the ring in sync --- */

static void test_x2(bool packed)
{
	struct dev *d = &d_user;
	unsigned posted = 0, good = 0, used = 0, too_big = 0, segs = 0, bad = 0;
	uint32_t id, len, flen;
	char what[200];

	up(d, packed, W_PLAIN);
	for (unsigned round = 0; round < 12; round++) {
		for (unsigned i = 0; i < 10; i++) {
			unsigned k = (round * 3 + i) % 5;

			if (k == 0 || k == 1) {
				frame(fbuf, 14 + (round * 97 + i * 31) % 1500, round + i);
				tx_one(d, NULL, fbuf, 14 + (round * 97 + i * 31) % 1500);
				good++;
			} else if (k == 2) {
				frame(fbuf, NET_FRAME_MAX + 1 + i, i);
				tx_one(d, NULL, fbuf, NET_FRAME_MAX + 1 + i);
				too_big++;
			} else if (k == 3) {
				tx_segs(d, VNET_TX_SEGS_VALID + 1 + i, i & 1, &flen);
				segs++;
			} else {
				tx_one(d, NULL, fbuf, i);	/* shorter than an Ethernet header */
				bad++;
			}
			posted++;
		}
		kick_tx(d);
		while (vf_used_next(&d->tx, &id, &len))
			used += len == 0;
	}
	snprintf(what, sizeof(what), "X2 %s: %u mixed TX chains: %u used entries, %s, counters exact, "
	    "no RESET", rname(packed), posted, posted, packed ? "every chain used" : "used.idx == avail.idx");
	UNIT_OK(&u, used == posted && (packed || vf_used_idx(&d->tx) == d->tx.avail_idx) &&
	    d->f->sent == good && d->n->cnt.tx_too_big == too_big && d->n->cnt.tx_too_many_segs == segs &&
	    d->n->cnt.tx_malformed == bad && !needs_reset(d), what);
}

/* --- the TX budget: VNET_TX_BUDGET frames per loop iteration --- */

struct budget {
	struct dev *d;
	unsigned posted, total;
};

/* budget_refill: the driver, as if on another vCPU, reaps used entries and posts more. */
static void budget_refill(void *arg, const uint8_t *fr, size_t len)
{
	struct budget *b = arg;
	uint32_t id, ulen;

	(void)fr;
	(void)len;
	while (vf_used_next(&b->d->tx, &id, &ulen))
		;
	while (b->posted < b->total && (uint16_t)(b->posted - b->d->f->sent + 1) < VNET_QUEUE_SIZE) {
		frame(fbuf, 64, 0);
		memcpy(fbuf + 14, &b->posted, sizeof(b->posted));
		tx_one(b->d, NULL, fbuf, 64);
		b->posted++;
	}
}

static void test_budget(bool packed)
{
	struct dev *d = &d_user;
	struct budget b = { d, 0, 300 };
	char what[200];
	bool order = true;

	up(d, packed, W_PLAIN);
	while (b.posted < VNET_QUEUE_SIZE) {
		frame(fbuf, 64, 0);
		memcpy(fbuf + 14, &b.posted, sizeof(b.posted));
		tx_one(d, NULL, fbuf, 64);
		b.posted++;
	}
	d->f->on_send = budget_refill;
	d->f->on_send_arg = &b;
	kick_tx(d);
	snprintf(what, sizeof(what), "budget %s: %u frames queued: one vnet_tx sends VNET_TX_BUDGET (%u) "
	    "and schedules the rest", rname(packed), b.total, VNET_TX_BUDGET);
	UNIT_OK(&u, b.posted == b.total && d->f->sent == VNET_TX_BUDGET && ev_is_active(&d->n->tx_more),
	    what);
	ev_run(v.loop.ev, EVRUN_NOWAIT);
	for (unsigned k = 0; k < d->f->ntx; k++) {
		unsigned seq;

		memcpy(&seq, d->f->tx[k].data + 14, sizeof(seq));
		order = order && seq == k;
	}
	snprintf(what, sizeof(what), "budget %s: the next loop iteration sends the remaining %u, in order",
	    rname(packed), b.total - VNET_TX_BUDGET);
	UNIT_OK(&u, d->f->sent == b.total && d->f->ntx == b.total && order && !ev_is_active(&d->n->tx_more),
	    what);
	d->f->on_send = NULL;
}

/* --- the -n spec: backend, mac=, ring=, the rest passed on in order --- */

static void test_spec(void)
{
	static const char *const bad[] = {
		"bogus", "usr", "users", "", "user,mac=01:00:00:00:00:01", "user,mac=52:54:00:12:34",
		"user,mac=52:54:00:12:34:5g", "user,mac=52:54:00:12:34:56x",
	};
	struct vnet_spec sp;
	char err[300], what[160], big[700];

	UNIT_OK(&u, vnet_parse_spec("user", 0, &sp, err, sizeof(err)) == 0 && sp.backend == &net_user_ops &&
	    !memcmp(sp.mac, "\x52\x54\x00\x12\x34\x56", 6) && !sp.split_only && sp.backend_opts[0] == 0,
	    "spec 'user': user backend, MAC 52:54:00:12:34:56, packed allowed, no options");
	UNIT_OK(&u, vnet_parse_spec("none", 2, &sp, err, sizeof(err)) == 0 && sp.backend == &net_none_ops &&
	    sp.mac[5] == 0x58, "spec 'none' as the third -n: MAC ends in 0x58");
	UNIT_OK(&u, vnet_parse_spec("tap,ifname=tap0,mac=02:aa:bb:cc:dd:ee,ring=split,vnet_hdr=off", 0, &sp,
	    err, sizeof(err)) == 0 && sp.backend == &net_tap_ops &&
	    !memcmp(sp.mac, "\x02\xaa\xbb\xcc\xdd\xee", 6) && sp.split_only &&
	    !strcmp(sp.backend_opts, "ifname=tap0,vnet_hdr=off"),
	    "spec 'tap,ifname=..,mac=..,ring=split,vnet_hdr=off': device options taken, the rest passed on");
	UNIT_OK(&u, vnet_parse_spec("user,ring=split,ring=packed", 0, &sp, err, sizeof(err)) == 0 &&
	    !sp.split_only, "spec: the last ring= wins");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		snprintf(what, sizeof(what), "spec '%s' is refused with a reason", bad[i]);
		UNIT_OK(&u, vnet_parse_spec(bad[i], 0, &sp, err, sizeof(err)) == -1 && err[0], what);
	}
	/* An empty mac= is not the device's: it goes to the backend, which refuses it. */
	UNIT_OK(&u, vnet_parse_spec("user,mac=", 0, &sp, err, sizeof(err)) == 0 &&
	    !strcmp(sp.backend_opts, "mac="), "spec 'user,mac=': passed on to the backend as 'mac='");
	memcpy(big, "user,", 5);
	memset(big + 5, 'x', sizeof(big) - 6);
	big[sizeof(big) - 1] = 0;
	UNIT_OK(&u, vnet_parse_spec(big, 0, &sp, err, sizeof(err)) == -1,
	    "spec with 694 bytes of backend options: refused, no overflow");
	if (!strstr(err, "too long"))
		printf("# the reason is cut off: err (%zu bytes, as vnet_create has) is \"%.40s...\"\n",
		    sizeof(err), err);
	UNIT_OK(&u, strstr(err, "too long"), "spec with 694 bytes of backend options: the reason "
	    "(\"options too long\") survives in the 300-byte message vnet_create prints");
	memset(big + 5, 'x', sizeof(sp.backend_opts) - 2);
	big[5 + sizeof(sp.backend_opts) - 2] = 0;
	UNIT_OK(&u, vnet_parse_spec(big, 0, &sp, err, sizeof(err)) == 0 &&
	    strlen(sp.backend_opts) == sizeof(sp.backend_opts) - 2,
	    "spec with 510 bytes of backend options: accepted whole");
}

int main(void)
{
	struct dev *all[] = { &d_user, &d_tap, &d_tap0, &d_tapfail, &d_s1, &d_s2 };
	int r = vstub_vm_init(&v, R0_LEN, HOLE, R1_LEN);

	if (r) {
		printf("not ok - vnet: setup failed: %s\n", strerror(-r));
		return 1;
	}
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		all[i]->n = vn_add(&v, all[i]->spec);
		if (!all[i]->n) {
			printf("not ok - vnet: cannot create device '%s'\n", all[i]->spec);
			return 1;
		}
		all[i]->vp = all[i]->n->vp;
		all[i]->f = fnet_of(all[i]->n);
	}
	vf_stderr_begin();
	for (int p = 0; p < 2; p++) {
		test_n1(p);
		test_n2(p);
		test_n3(p, &d_user);
		test_n3(p, &d_tap);
		test_n4_tx(p);
		test_n8(p);
		test_x2(p);
		test_budget(p);
	}
	test_n5();
	test_n10();
	test_spec();
	r = (int)vf_stderr_end(NULL, 0);
	printf("# %d lines on stderr from the transmit tests\n", r);
	test_rx_all();
	vstub_vm_fini(&v);
	printf("# vnet: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
