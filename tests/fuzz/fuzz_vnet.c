/*
 * fuzz_vnet.c: virtio-net end to end: the real device (made by its own
 * setup hook) behind the real transport, on the fake backend of
 * tests/unit/vnetfake.c ("user": no vnet_hdr; "tap": 12-byte vnet_hdr and
 * offloads), driven by a fake driver whose every move the input picks:
 * TX chains (frame lengths from 0 to past NET_FRAME_MAX, 1 to 130
 * descriptors, zero-length and device-writable ones, indirect tables,
 * garbage offload headers), RX chains (1 to 4 buffers, some with
 * device-readable parts), frames offered by the backend (0 bytes to past
 * 64 KiB, with random backend headers, optionally from inside send() as
 * slirp does), kicks (BAR and ioeventfd), backend
 * EAGAIN on and off, tx_ready, loop iterations, and device resets with a
 * fresh negotiation (random feature sets, split or packed, queue sizes 1 to
 * 256) on other rings.
 *
 * Oracle, checked after every step:
 * - a used entry only for a chain that is available and not yet used, TX
 *   in ring order with length 0; used.idx never passes avail.idx;
 * - a TX chain's outcome follows the bands of man/ringvm.1 (sent, dropped,
 *   or DEVICE_NEEDS_RESET), and a frame the backend gets is exactly the
 *   chain's bytes past the 12-byte header (with a vnet_hdr backend: the
 *   sanitised header, then those bytes);
 * - device-writable TX buffers and every byte of an RX chain with
 *   device-readable parts are never written;
 * - every frame the backend handed over is accounted for, in order: placed
 *   (num_buffers in the first header equals the number of used entries that
 *   hold it, the bytes are the frame's), dropped with a used length of 0
 *   (buffer too small), or dropped before any buffer (bad size);
 * - no lost wake-up: while the backend holds a frame the device is waiting
 *   for buffers, and once the posted buffers can hold it a kick delivers it;
 * - after a reset nothing touches the old rings or buffers and nothing from
 *   them is sent (F3); FEATURES_OK follows the dependency rules (F1);
 * - when the driver stops misbehaving everything it posted on TX is used
 *   (X2), unless a malicious chain put the device in NEEDS_RESET.
 *
 * FUZZ_VNET_SKIP_KNOWN=1 in the environment stops generating RX chains
 * with device-readable buffers while MRG_RXBUF is negotiated: the known
 * defect reported with test_vnet (a returned bad chain is published again
 * after a mergeable frame is rolled back) otherwise ends every long run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include <linux/virtio_net.h>

#include "vfake.h"
#include "virtio_net.h"
#include "virtio_pci.h"
#include "vnetfake.h"

#define R0_LEN 0x1000000ull		/* 16 MiB */
#define HOLE 0x100000ull
#define R1_LEN 0x10000ull
#define AREA_RINGS(a) (0x10000ull + 0x10000ull * (a))
#define AREA_RXHEAP(a) (0x100000ull + 0x400000ull * (a))
#define AREA_TXHEAP(a) (0x300000ull + 0x400000ull * (a))
#define HEAP_LEN 0x200000ull
#define MAXCH 300			/* live chains per queue (queue size <= 256) */
#define MAXF 64				/* frames held by the backend */
#define TXSEG_MAX 140

#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)
#define F_EVENT_IDX (1ull << VIRTQ_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTQ_F_INDIRECT_DESC)
#define F_NET(b) (1ull << VIRTIO_NET_F_##b)
#define F_OFFLOADS (F_NET(CSUM) | F_NET(GUEST_CSUM) | F_NET(HOST_TSO4) | F_NET(HOST_TSO6) | \
	F_NET(HOST_ECN) | F_NET(GUEST_TSO4) | F_NET(GUEST_TSO6) | F_NET(GUEST_ECN))

enum { SEND, DROP, RESET };

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_vnet: invariant broken at line %d: %s\n", line, what);
	abort();
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t in8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t in16(struct in *in)
{
	uint16_t lo = in8(in);

	return (uint16_t)(lo | in8(in) << 8);
}

/* A chain the driver made available and the device has not used yet. */
struct chain {
	bool live;
	uint16_t id;
	uint32_t slot0, nslots;		/* ring slots [slot0, slot0 + nslots), counted from init */
	uint32_t idpos;			/* packed: the buffer id's position, counted from init */
	/* RX */
	unsigned nseg;
	struct vf_seg seg[4];
	uint32_t write_len;
	bool bad;			/* has device-readable buffers */
	uint8_t fill;
	/* TX */
	int expect;
	uint8_t *sent;			/* what the backend must get (expect SEND) */
	size_t sent_len;
	uint64_t wbuf;			/* a device-writable buffer in a TX chain, or 0 */
	uint32_t wlen;
};

struct side {
	struct vf_ring r;
	struct chain ch[MAXCH];
	unsigned head, n;		/* FIFO of chains in posting order */
	uint32_t slots, ids;		/* slots and ids handed out since init */
	uint64_t heap, heap_start, heap_end;
	uint32_t posted, used;
};

/* A frame the backend holds or held: what the guest must find. */
struct rxf {
	uint8_t *data;			/* as offered (backend header first with vnet_hdr) */
	size_t len;
	bool size_drop;			/* dropped before any buffer (bad length) */
};

static struct {
	bool ready, skip_known;
	bool nest;			/* the backend delivers held frames from inside send() */
	struct vstub_vm v;
	struct vnet *dev[2];		/* user, tap */
	/* this input */
	struct vnet *n;
	struct virtio_pci *vp;
	struct fnet *f;
	bool hdr, packed, running;
	unsigned area;
	uint16_t qsize;
	uint64_t feat;
	struct side rx, tx;
	struct rxf fr[MAXF * 8];
	unsigned nfr, rx_cons;		/* frames queued so far; the next one the device consumes */
	unsigned long delivered0;	/* f->delivered when this frame list started */
	uint8_t *sentq[2 * MAXCH];
	size_t sentq_len[2 * MAXCH];
	unsigned nsent;
	unsigned long sends;		/* send calls seen */
	uint32_t seq;
	bool poison;			/* a TX chain that must put the device in NEEDS_RESET is live */
} g;

static uint8_t *at(uint64_t gpa, uint64_t len) { return vf_at(&g.v.vm.mem, gpa, len ? len : 1); }

static bool has(uint64_t bit) { return (g.feat & bit) != 0; }

static bool needs_reset(void) { return vstub_status(g.vp) & VS_S_NEEDS_RESET; }

static bool all(uint64_t gpa, uint32_t len, uint8_t b)
{
	const uint8_t *p = at(gpa, len);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

/* on_send: the backend took a frame: keep it until its chain is used. */
static void on_send(void *arg, const uint8_t *fr, size_t len)
{
	(void)arg;
	CHECK(g.nsent < 2 * MAXCH);
	g.sentq[g.nsent] = malloc(len ? len : 1);
	if (!g.sentq[g.nsent])
		abort();
	memcpy(g.sentq[g.nsent], fr, len);
	g.sentq_len[g.nsent++] = len;
	/* Like slirp, which answers ARP, ICMP and DHCP inside send(): RX nested in TX. */
	if (g.nest)
		fnet_deliver(g.f);
}

static void setup(void)
{
	if (vstub_vm_init(&g.v, R0_LEN, HOLE, R1_LEN))
		abort();
	g.dev[0] = vn_add(&g.v, "user");
	g.dev[1] = vn_add(&g.v, "tap");
	if (!g.dev[0] || !g.dev[1])
		abort();
	for (int i = 0; i < 2; i++) {
		struct fnet *f = fnet_of(g.dev[i]);

		f->record = false;
		f->on_send = on_send;
	}
	g.skip_known = getenv("FUZZ_VNET_SKIP_KNOWN") && *getenv("FUZZ_VNET_SKIP_KNOWN") == '1';
	g.ready = true;
}

/* --- chain bookkeeping --- */

static void side_init(struct side *s, bool rx)
{
	uint64_t b = AREA_RINGS(g.area) + (rx ? 0 : 0x3000);

	for (unsigned i = 0; i < MAXCH; i++) {
		free(s->ch[i].sent);
		s->ch[i].sent = NULL;
		s->ch[i].live = false;
	}
	s->head = s->n = 0;
	s->slots = s->ids = 0;
	s->posted = s->used = 0;
	s->heap = s->heap_start = rx ? AREA_RXHEAP(g.area) : AREA_TXHEAP(g.area);
	s->heap_end = s->heap + HEAP_LEN;
	vf_ring_init(&s->r, &g.v.vm.mem, g.qsize, g.packed, b, b + 0x1000, b + 0x2000, s->heap,
	    HEAP_LEN);
}

/* room: whether `nslots` more ring slots and `bytes` of heap can be handed out. */
static bool room(struct side *s, uint32_t nslots, uint64_t bytes)
{
	uint32_t oldest = s->slots, oldest_id = s->ids;

	if (s->n == 0)
		s->heap = s->heap_start;	/* nothing live: the buffers can be reused */
	if (s->n == MAXCH || s->heap + bytes + 16 * 4 > s->heap_end)
		return false;
	/* Slots and ids are handed out round robin: never past the oldest live chain's. */
	for (unsigned i = 0; i < s->n; i++) {
		const struct chain *c = &s->ch[(s->head + i) % MAXCH];

		if (c->live && c->slot0 < oldest)
			oldest = c->slot0;
		if (c->live && c->idpos < oldest_id)
			oldest_id = c->idpos;
	}
	return s->slots + nslots - oldest <= g.qsize && s->ids + 1 - oldest_id <= g.qsize;
}

static uint64_t halloc(struct side *s, uint32_t len, uint8_t fill)
{
	uint64_t a = s->heap;

	s->heap = (s->heap + len + 15) & ~15ull;
	if (len)
		memset(at(a, len), fill, len);
	return a;
}

static struct chain *push_chain(struct side *s, uint16_t id, uint32_t nslots)
{
	struct chain *c = &s->ch[(s->head + s->n) % MAXCH];

	free(c->sent);
	memset(c, 0, sizeof(*c));
	c->live = true;
	c->id = id;
	c->slot0 = s->slots;
	c->nslots = nslots;
	c->idpos = s->ids;
	s->slots += nslots;
	s->ids++;
	s->n++;
	s->posted++;
	return c;
}

/* pop_dead: drop used chains from the front of the FIFO. */
static void pop_dead(struct side *s)
{
	while (s->n && !s->ch[s->head].live) {
		free(s->ch[s->head].sent);
		s->ch[s->head].sent = NULL;
		s->head = (s->head + 1) % MAXCH;
		s->n--;
	}
}

static struct chain *find_live(struct side *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct chain *c = &s->ch[(s->head + i) % MAXCH];

		if (c->live && c->id == id)
			return c;
	}
	return NULL;
}

/* ring_sane: used.idx never passes avail.idx (split), used never exceeds posted. */
static void ring_sane(struct side *s)
{
	CHECK(s->used <= s->posted);
	if (!g.packed)
		CHECK((uint16_t)(s->r.avail_idx - vf_used_idx(&s->r)) <= g.qsize);
}

/* --- TX --- */

/* tx_expect_hdr: the device's header contract (N5); false means DROP. */
static bool tx_expect_hdr(const struct virtio_net_hdr_v1 *in, uint32_t flen, struct virtio_net_hdr_v1 *out)
{
	uint8_t base;

	*out = *in;
	out->num_buffers = 0;
	if (!has(F_NET(CSUM))) {
		memset(out, 0, sizeof(*out));
		return true;
	}
	out->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if ((out->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (uint32_t)out->csum_start + out->csum_offset + 2 > flen)
		return false;
	if (!(out->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		out->csum_start = out->csum_offset = 0;
	if (out->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		out->gso_size = out->hdr_len = 0;
		return true;
	}
	if ((out->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(F_NET(HOST_ECN)))
		return false;
	base = out->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (!(base == VIRTIO_NET_HDR_GSO_TCPV4 && has(F_NET(HOST_TSO4))) &&
	    !(base == VIRTIO_NET_HDR_GSO_TCPV6 && has(F_NET(HOST_TSO6))))
		return false;
	return out->gso_size && out->hdr_len <= flen && (out->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

/*
 * stamp: `len` bytes of pseudo-random content (a window of a table made
 * once: a per-byte loop under coverage instrumentation would cost more than
 * the device), with the sequence number in bytes 8..11 (the source MAC) so
 * that no two frames are alike.
 */
#define PATTERN_LEN (NET_FRAME_MAX + 8192 + 4096)
static uint8_t pattern[PATTERN_LEN];

static void stamp(uint8_t *p, uint32_t len, uint32_t seq, uint8_t salt)
{
	uint32_t off = (seq * 131u + salt) % 4096u;

	if (!pattern[0] && !pattern[1]) {
		uint32_t x = 2463534242u;

		for (uint32_t i = 0; i < PATTERN_LEN; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			pattern[i] = (uint8_t)(x | 1);
		}
	}
	if (len > PATTERN_LEN - off)
		abort();
	memcpy(p, pattern + off, len);
	if (len >= 12)
		memcpy(p + 8, &seq, 4);
}

static void build_tx(struct in *in)
{
	static const uint16_t bands[8] = { 63, 64, 65, 66, 127, 128, 129, 130 };
	static const uint8_t gsos[8] = { 0, 1, 4, 3, 5, 0x81, 0x80, 0x84 };
	static struct vf_seg s[TXSEG_MAX + 1];
	struct side *t = &g.tx;
	uint8_t a = in8(in), b = in8(in), k = in8(in);
	uint32_t flen = 0, total, nseg, n, wlen = 0;
	bool indirect, wr, wr_first, zeros = b & 0x20;
	struct virtio_net_hdr_v1 h, hx;
	uint64_t buf, wbuf = 0;
	struct chain *c;
	uint16_t id;

	switch (a & 7) {
	case 0: flen = in8(in) % 20; break;
	case 1: flen = 14 + in8(in); break;
	case 2: flen = 14 + in16(in) % 1500; break;
	case 3: flen = 1500 + in16(in) % 3000; break;
	case 4: flen = NET_FRAME_MAX - 2 + in8(in) % 5; break;
	default: flen = 60 + in8(in) % 64; break;
	}
	total = (a & 7) == 5 ? in8(in) % 12 : 12 + flen;	/* case 5: not even a header */
	switch (b & 3) {
	case 0: nseg = 1; break;
	case 1: nseg = 1 + in8(in) % 8; break;
	case 2: nseg = bands[in8(in) % 8]; break;
	default: nseg = 2 + in8(in) % 20; break;
	}
	if (!zeros && nseg > total)
		nseg = total ? total : 1;
	indirect = (b & 4) && has(F_INDIRECT);
	wr = (b & 0x18) == 0x18;
	wr_first = wr && (k & 1);	/* a writable buffer before the readable ones (R6) */
	if (!indirect && nseg + wr > g.qsize)
		nseg = g.qsize > wr ? g.qsize - wr : 1;
	if (!indirect && nseg + wr > g.qsize)
		wr = wr_first = false;
	if (!room(t, indirect ? 1 : nseg + wr, total + 16ull * (nseg + 1) + 128))
		return;
	memset(&h, 0, sizeof(h));
	if (a & 0x80) {
		h.flags = in8(in);
		h.gso_type = in8(in) & 1 ? in8(in) : gsos[in8(in) % 8];
		h.hdr_len = in8(in) & 1 ? in16(in) : (uint16_t)(flen - 2 + in8(in) % 4);
		h.gso_size = in8(in) & 1 ? in16(in) : 0;
		h.csum_start = in8(in) & 1 ? in16(in) : (uint16_t)(flen > 40 ? 34 : 0);
		h.csum_offset = in8(in) & 1 ? (uint16_t)(flen - h.csum_start - 2 + in8(in) % 3) : 16;
		h.num_buffers = in16(in);
	}
	buf = halloc(t, total, 0);
	if (total) {
		uint8_t *p = at(buf, total);

		memcpy(p, &h, total < 12 ? total : 12);
		if (total > 12)
			stamp(p + 12, total - 12, ++g.seq, k);
	}
	/* Split the bytes over nseg descriptors, zero-length ones allowed when asked. */
	n = 0;
	for (uint32_t i = 0, off = 0; i < nseg; i++) {
		uint32_t left = total - off;
		uint32_t piece = i + 1 == nseg ? left : zeros && (in8(in) & 1) ? 0 : left / (nseg - i);

		s[n++] = (struct vf_seg){ buf + off, piece, false };
		off += piece;
	}
	if (wr) {
		wlen = 1 + in8(in) % 100;
		wbuf = halloc(t, wlen, 0x5a);
		if (wr_first) {
			memmove(&s[1], &s[0], n * sizeof(s[0]));
			s[0] = (struct vf_seg){ wbuf, wlen, true };
		} else {
			s[n] = (struct vf_seg){ wbuf, wlen, true };
		}
		n++;
	}
	if (indirect)
		id = vf_chain_indirect(&t->r, halloc(t, 16 * n, 0), s, n, (k & 2) ? VF_WRITE : 0);
	else
		id = vf_chain(&t->r, s, n);
	c = push_chain(t, id, indirect ? 1 : n);
	c->wbuf = wbuf;
	c->wlen = wlen;
	/* The expected outcome: the walker's RESETs, then the bands of man/ringvm.1 in order. */
	if (total + wlen == 0 || wr_first || (indirect && n > g.qsize) || n > VNET_TX_SEGS_DROP) {
		c->expect = RESET;
		g.poison = true;
	} else if (wr || total < 12 + 14 || flen > NET_FRAME_MAX || n > VNET_TX_SEGS_VALID) {
		c->expect = DROP;
	} else if (g.hdr && !tx_expect_hdr(&h, flen, &hx)) {
		c->expect = DROP;
	} else {
		c->expect = SEND;
		c->sent_len = (g.hdr ? 12 : 0) + flen;
		c->sent = malloc(c->sent_len);
		if (!c->sent)
			abort();
		if (g.hdr)
			memcpy(c->sent, &hx, 12);
		memcpy(c->sent + (g.hdr ? 12 : 0), at(buf + 12, flen), flen);
	}
}

/* reap_tx: TX used entries come in ring order, length 0, with the outcome expected. */
static void reap_tx(void)
{
	struct side *t = &g.tx;
	unsigned sent_i = 0;
	uint32_t id, len;

	while (vf_used_next(&t->r, &id, &len)) {
		struct chain *c;

		pop_dead(t);
		CHECK(t->n > 0);
		c = &t->ch[t->head];
		CHECK(c->live && c->id == id);
		CHECK(len == 0);
		CHECK(c->expect != RESET);
		if (c->expect == SEND) {
			CHECK(sent_i < g.nsent);
			CHECK(g.sentq_len[sent_i] == c->sent_len);
			CHECK(!memcmp(g.sentq[sent_i], c->sent, c->sent_len));
			sent_i++;
		}
		if (c->wbuf)
			CHECK(all(c->wbuf, c->wlen, 0x5a));
		c->live = false;
		t->used++;
	}
	pop_dead(t);
	CHECK(sent_i == g.nsent);		/* every frame sent belongs to a used chain */
	for (unsigned i = 0; i < g.nsent; i++)
		free(g.sentq[i]);
	g.nsent = 0;
	ring_sane(t);
	if (needs_reset()) {
		/* Only a malicious chain does that, once everything before it was used. */
		CHECK(g.poison);
		CHECK(t->n > 0 && t->ch[t->head].expect == RESET);
	}
}

/* --- RX --- */

static void build_rx(struct in *in)
{
	struct side *r = &g.rx;
	uint8_t a = in8(in);
	unsigned nseg = 1 + (a & 3);
	bool indirect = (a & 4) && has(F_INDIRECT), bad = (a & 0x18) == 0x18;
	struct vf_seg s[4];
	uint32_t len[4], sum = 0, wl = 0;
	struct chain *c;
	uint8_t fill;
	uint16_t id;

	if (bad && g.skip_known && has(F_NET(MRG_RXBUF)))
		bad = false;
	for (unsigned i = 0; i < nseg; i++) {
		switch (in8(in) % 6) {
		case 0: len[i] = 1 + in8(in) % 16; break;
		case 1: len[i] = 64 + in16(in) % 1984; break;
		case 2: len[i] = 1500; break;
		case 3: len[i] = 12; break;
		case 4: len[i] = 12 + NET_FRAME_MAX - in8(in) % 3; break;
		default: len[i] = 1 + in16(in); break;
		}
		sum += len[i];
	}
	if (indirect && nseg > g.qsize)
		indirect = false;
	if (!indirect && nseg > g.qsize)
		nseg = g.qsize;
	if (!room(r, indirect ? 1 : nseg, sum + 16ull * (nseg + 1) + 64))
		return;
	fill = (uint8_t)(0xa0 | (g.seq++ & 0x1f));
	for (unsigned i = 0; i < nseg; i++) {
		bool readable = bad && i == 0;	/* readable first: a legal order, a bad RX chain */

		s[i] = (struct vf_seg){ halloc(r, len[i], readable ? 0x33 : fill), len[i], !readable };
		if (!readable)
			wl += len[i];
	}
	if (indirect)
		id = vf_chain_indirect(&r->r, halloc(r, 16 * nseg, 0), s, nseg, 0);
	else
		id = vf_chain(&r->r, s, nseg);
	c = push_chain(r, id, indirect ? 1 : nseg);
	c->nseg = nseg;
	memcpy(c->seg, s, sizeof(s[0]) * nseg);
	c->write_len = wl;
	c->bad = bad;
	c->fill = fill;
}

/* chain_untouched: every byte of the chain is as the driver filled it. */
static bool chain_untouched(const struct chain *c)
{
	for (unsigned i = 0; i < c->nseg; i++)
		if (!all(c->seg[i].addr, c->seg[i].len, c->seg[i].write ? c->fill : 0x33))
			return false;
	return true;
}

/* gather: `len` bytes written to chain c's writable buffers, appended at out. */
static void gather(const struct chain *c, uint32_t len, uint8_t *out)
{
	for (unsigned i = 0; i < c->nseg && len; i++) {
		uint32_t take = c->seg[i].len < len ? c->seg[i].len : len;

		if (!c->seg[i].write)
			continue;
		memcpy(out, at(c->seg[i].addr, take), take);
		out += take;
		len -= take;
	}
}

/* frame_flen: the frame's length past the backend header, or -1 when dropped unseen. */
static long frame_flen(const struct rxf *f)
{
	size_t hl = g.hdr ? 12 : 0;

	if (f->len < hl)
		return -1;
	if (f->len - hl < 14 || f->len - hl > NET_FRAME_MAX)
		return -1;
	return (long)(f->len - hl);
}

/* skip_dropped: frames the device consumes without a buffer (bad size). */
static void skip_dropped(void)
{
	unsigned long cons = g.f->delivered - g.delivered0;

	while (g.rx_cons < g.nfr && g.rx_cons < cons && g.fr[g.rx_cons].size_drop)
		g.rx_cons++;
}

static void reap_rx(void)
{
	static uint8_t got[12 + NET_FRAME_MAX + 4096];
	struct side *r = &g.rx;
	uint32_t id, len;

	while (vf_used_next(&r->r, &id, &len)) {
		struct chain *c = find_live(r, id);
		const struct rxf *f;
		struct virtio_net_hdr_v1 h, want;
		uint32_t total = 0, nb;
		long flen;

		CHECK(c);			/* no used entry for a chain not available (or used twice) */
		c->live = false;
		r->used++;
		if (c->bad) {
			CHECK(len == 0);
			CHECK(chain_untouched(c));	/* N4: never write a readable RX buffer */
			continue;
		}
		skip_dropped();
		CHECK(g.rx_cons < g.nfr && g.rx_cons < g.f->delivered - g.delivered0);
		f = &g.fr[g.rx_cons];
		flen = frame_flen(f);
		CHECK(flen >= 0);
		if (len == 0 && has(F_NET(MRG_RXBUF)) && c->write_len >= 12) {
			/*
			 * A readable chain met while gathering: the frame is dropped
			 * and every chain taken comes back empty, in order, the
			 * readable one last.
			 */
			for (;;) {
				struct chain *c2;
				uint32_t id2, len2;

				CHECK(vf_used_next(&r->r, &id2, &len2) == 1);
				c2 = find_live(r, id2);
				CHECK(c2 && len2 == 0);
				c2->live = false;
				r->used++;
				if (c2->bad) {
					CHECK(chain_untouched(c2));
					break;
				}
			}
			g.rx_cons++;
			continue;
		}
		if (len == 0) {
			/* Too small: the frame is dropped, the buffer untouched. */
			CHECK(has(F_NET(MRG_RXBUF)) ? c->write_len < 12 : c->write_len < 12 + (uint32_t)flen);
			if (!has(F_NET(MRG_RXBUF)))
				CHECK(chain_untouched(c));
			g.rx_cons++;
			continue;
		}
		CHECK(len <= c->write_len);
		gather(c, len, got);
		total = len;
		CHECK(total >= 12);
		memcpy(&h, got, 12);
		nb = h.num_buffers;
		CHECK(nb >= 1);
		if (!has(F_NET(MRG_RXBUF)))
			CHECK(nb == 1);
		/* num_buffers == the used entries holding this frame, published together. */
		for (uint32_t k = 1; k < nb; k++) {
			struct chain *c2;
			uint32_t id2, len2;

			CHECK(vf_used_next(&r->r, &id2, &len2) == 1);
			c2 = find_live(r, id2);
			CHECK(c2 && !c2->bad);
			CHECK(len2 > 0 && len2 <= c2->write_len);
			CHECK(total + len2 <= sizeof(got));
			gather(c2, len2, got + total);
			total += len2;
			c2->live = false;
			r->used++;
		}
		CHECK(total == 12 + (uint32_t)flen);
		memset(&want, 0, sizeof(want));
		if (g.hdr && has(F_NET(GUEST_CSUM)))
			memcpy(&want, f->data, 12);
		want.num_buffers = (uint16_t)nb;
		CHECK(!memcmp(&h, &want, 12));
		CHECK(!memcmp(got + 12, f->data + (g.hdr ? 12 : 0), (size_t)flen));
		g.rx_cons++;
	}
	pop_dead(r);
	skip_dropped();
	/* Every frame the backend handed over is accounted for. */
	CHECK(g.rx_cons == g.f->delivered - g.delivered0);
	ring_sane(r);
	/* No lost wake-up: a held frame means the device waits for buffers. */
	if (g.f->rxq_n && g.running && !needs_reset())
		CHECK(g.n->rx_waiting);
}

static void offer_rx(struct in *in)
{
	uint8_t a = in8(in);
	size_t flen, len;
	struct rxf *f;
	uint8_t *p;

	if (g.f->rxq_n == MAXF || g.nfr == sizeof(g.fr) / sizeof(g.fr[0]))
		return;
	switch (a & 7) {
	case 0: flen = in8(in) % 21; break;
	case 1: flen = 14 + in16(in) % 1500; break;
	case 2: flen = 1500 + in16(in) % 2600; break;
	case 3: flen = NET_FRAME_MAX - in8(in) % 4; break;
	case 4: flen = NET_FRAME_MAX + 1 + in16(in) % 5000; break;
	default: flen = 60 + in8(in); break;
	}
	len = (g.hdr ? 12 : 0) + flen;
	if (g.hdr && (a & 0x38) == 0x38)
		len = in8(in) % 12;		/* shorter than the backend header */
	p = malloc(len ? len : 1);
	if (!p)
		abort();
	stamp(p, len, ++g.seq, a);
	if (g.hdr && len >= 12 && !(a & 0x40))
		memset(p, 0, 12);
	f = &g.fr[g.nfr++];
	f->data = p;
	f->len = len;
	f->size_drop = frame_flen(f) < 0;
	/* Like TAP: read and offer at once, unless waiting for rx_resume (then it queues). */
	CHECK(fnet_queue_rx(g.f, p, len) == 0);
	if (g.f->rxq_n == 1)
		fnet_deliver(g.f);
}

/* --- the device's life --- */

static uint64_t offered(void)
{
	uint64_t f;

	vstub_bar_write(g.vp, VS_DFSELECT, 0, 4);
	f = vstub_bar_read(g.vp, VS_DF, 4);
	vstub_bar_write(g.vp, VS_DFSELECT, 1, 4);
	return f | vstub_bar_read(g.vp, VS_DF, 4) << 32;
}

/* f1_valid: the dependency rules of virtio 1.2, 5.1.3.1, for the features the driver took. */
static bool f1_valid(uint64_t f)
{
	if ((f & (F_NET(HOST_TSO4) | F_NET(HOST_TSO6))) && !(f & F_NET(CSUM)))
		return false;
	if ((f & (F_NET(GUEST_TSO4) | F_NET(GUEST_TSO6))) && !(f & F_NET(GUEST_CSUM)))
		return false;
	if ((f & F_NET(HOST_ECN)) && !(f & (F_NET(HOST_TSO4) | F_NET(HOST_TSO6))))
		return false;
	if ((f & F_NET(GUEST_ECN)) && !(f & (F_NET(GUEST_TSO4) | F_NET(GUEST_TSO6))))
		return false;
	return true;
}

/* bring_up: negotiate, rings on the current area, DRIVER_OK. */
static void bring_up(struct in *in)
{
	uint16_t w = in16(in);
	uint8_t q = in8(in);
	uint64_t want = F_VERSION_1 | F_NET(MAC) | F_NET(STATUS), take;
	static const uint64_t bits[11] = {
		F_NET(MRG_RXBUF), F_NET(CSUM), F_NET(GUEST_CSUM), F_NET(HOST_TSO4), F_NET(HOST_TSO6),
		F_NET(HOST_ECN), F_NET(GUEST_TSO4), F_NET(GUEST_TSO6), F_NET(GUEST_ECN), F_EVENT_IDX,
		F_INDIRECT,
	};

	for (int i = 0; i < 11; i++)
		if (w & (1u << i))
			want |= bits[i];
	g.packed = w & 0x800;
	if (g.packed)
		want |= F_PACKED;
	if (q & 0x80)
		g.qsize = (uint16_t)(1 + (q & 0x7f) * 2);	/* packed: any size; split: a power of 2 */
	else
		g.qsize = (uint16_t)(1u << (q % 9));
	if (!g.packed)
		g.qsize = (uint16_t)(1u << (q % 9));
	if (g.qsize > VNET_QUEUE_SIZE)
		g.qsize = VNET_QUEUE_SIZE;
	take = offered() & want;
	side_init(&g.rx, true);
	side_init(&g.tx, false);
	g.poison = false;
	g.feat = vn_driver_init(g.vp, want, &g.rx.r, &g.tx.r);
	/* F1: FEATURES_OK exactly when the set is consistent. */
	CHECK((g.feat != 0) == f1_valid(take));
	if (!g.feat) {
		g.feat = vn_driver_init(g.vp, want & ~F_OFFLOADS, &g.rx.r, &g.tx.r);
		CHECK(g.feat);
	}
	CHECK(g.feat == take || g.feat == (take & ~F_OFFLOADS));
	CHECK(!!(g.feat & F_PACKED) == g.packed);
	CHECK(vstub_status(g.vp) == (VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK | VS_S_DRIVER_OK));
	g.running = true;
}

static void kick(unsigned q, bool fd)
{
	if (fd) {
		eventfd_write(g.vp->qcfg[q].kick.fd, 1);
		vstub_run(&g.v);
	} else {
		vn_kick(g.vp, q);
	}
}

static void reap(void)
{
	reap_tx();
	reap_rx();
}

static uint8_t snap_rings[0x6000];

/* reset_op: status 0 mid-traffic (F3); the old rings stay untouched; a fresh driver elsewhere. */
static void reset_op(struct in *in)
{
	uint64_t rings = AREA_RINGS(g.area);
	uint64_t rxh = AREA_RXHEAP(g.area), txh = AREA_TXHEAP(g.area);
	uint64_t rxl = g.rx.heap - rxh, txl = g.tx.heap - txh;
	uint8_t a = in8(in);
	uint8_t *snap_rx, *snap_tx;
	unsigned long sends, flushed;

	reap();
	memcpy(snap_rings, at(rings, sizeof(snap_rings)), sizeof(snap_rings));
	snap_rx = malloc(rxl + 1);
	snap_tx = malloc(txl + 1);
	if (!snap_rx || !snap_tx)
		abort();
	memcpy(snap_rx, at(rxh, rxl), rxl);
	memcpy(snap_tx, at(txh, txl), txl);
	flushed = g.f->rx_flushed;
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	CHECK(vstub_status(g.vp) == 0);		/* nothing in flight: reads 0 at once */
	/* O-2: the frames held for the old driver were dropped: the newest ones queued. */
	CHECK(g.f->rxq_n == 0);
	CHECK(g.f->rx_flushed - flushed <= g.nfr);
	for (unsigned long k = 0; k < g.f->rx_flushed - flushed; k++)
		free(g.fr[--g.nfr].data);
	g.running = false;
	sends = g.f->send_calls;
	if (a & 1)
		g.n->nb.tx_ready(g.n->nb.owner);
	if (a & 2)
		CHECK(g.f->rxq_n == 0 || fnet_deliver(g.f) == -EAGAIN);
	if (a & 4) {
		kick(VNET_TXQ, a & 8);
		kick(VNET_RXQ, a & 8);
	}
	if (a & 16)
		vstub_run(&g.v);
	CHECK(g.f->send_calls == sends && g.nsent == 0);
	CHECK(!memcmp(snap_rings, at(rings, sizeof(snap_rings)), sizeof(snap_rings)));
	CHECK(!memcmp(snap_rx, at(rxh, rxl), rxl));
	CHECK(!memcmp(snap_tx, at(txh, txl), txl));
	free(snap_rx);
	free(snap_tx);
	g.area ^= 1;
	bring_up(in);
	reap();
}

/* drain: the driver behaves: backend open, kicks, a loop iteration; then X2 and liveness. */
static void drain(void)
{
	struct side *r = &g.rx;

	g.f->eagain = false;
	g.n->nb.tx_ready(g.n->nb.owner);
	kick(VNET_TXQ, false);
	kick(VNET_RXQ, false);
	vstub_run(&g.v);
	reap();
	if (needs_reset())
		return;
	/* X2: every TX chain used (a malicious one would have put the device in NEEDS_RESET). */
	CHECK(!g.poison);
	CHECK(g.tx.n == 0 && g.tx.used == g.tx.posted);
	if (!g.packed)
		CHECK(vf_used_idx(&g.tx.r) == g.tx.r.avail_idx);
	/* Liveness: when the posted good buffers can take the held frame, it was taken. */
	if (g.f->rxq_n) {
		const struct rxf *f = &g.fr[g.rx_cons];
		long flen = frame_flen(f);
		uint64_t sum = 0;
		unsigned good = 0;
		bool takes = false;

		CHECK(g.rx_cons < g.nfr && flen >= 0);
		for (unsigned i = 0; i < r->n && !takes; i++) {
			const struct chain *c = &r->ch[(r->head + i) % MAXCH];

			if (!c->live || c->bad)
				continue;
			/* Without MRG_RXBUF one chain takes it (placed or too small: dropped). */
			if (good++ == 0 && (!has(F_NET(MRG_RXBUF)) || c->write_len < 12))
				takes = true;
			sum += c->write_len;
			if (sum >= 12 + (uint64_t)flen)
				takes = true;
		}
		CHECK(!takes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t h0 = in8(&in);
	unsigned ops = 0;

	if (!g.ready)
		setup();
	g.hdr = h0 & 1;
	g.nest = h0 & 2;
	g.n = g.dev[g.hdr];
	g.vp = g.n->vp;
	g.f = fnet_of(g.n);
	g.f->eagain = false;
	fnet_drop_rxq(g.f);
	g.nfr = g.rx_cons = 0;
	g.delivered0 = g.f->delivered;
	g.nsent = 0;
	g.area = 0;
	bring_up(&in);
	reap();
	while (in.n && ops++ < 300) {
		uint8_t op = in8(&in);

		switch (op % 13) {
		case 0: case 1: case 2:
			build_tx(&in);
			break;
		case 3: case 4:
			build_rx(&in);
			break;
		case 5:
			kick(VNET_TXQ, op & 0x80);
			break;
		case 6:
			kick(VNET_RXQ, op & 0x80);
			break;
		case 7:
			g.f->eagain = !g.f->eagain;
			break;
		case 8:
			g.n->nb.tx_ready(g.n->nb.owner);
			break;
		case 9: case 10:
			offer_rx(&in);
			break;
		case 11:
			if (op & 0x80)
				reset_op(&in);
			else
				fnet_deliver(g.f);
			break;
		case 12:
			vstub_run(&g.v);
			break;
		}
		reap();
	}
	drain();
	/* Leave the device reset and the backend empty for the next input. */
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	fnet_drop_rxq(g.f);
	for (unsigned i = 0; i < g.nfr; i++)
		free(g.fr[i].data);
	g.nfr = 0;
	for (unsigned i = 0; i < g.nsent; i++)
		free(g.sentq[i]);
	g.nsent = 0;
	side_init(&g.rx, true);
	side_init(&g.tx, false);
	CHECK(vstub_irq.msi_bad == 0);
	return 0;
}
