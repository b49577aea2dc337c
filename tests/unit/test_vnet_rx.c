/*
 * test_vnet_rx.c: virtio-net's receive side (HOSTILE.md N4, N5 on RX, N6,
 * N7), ordering of num_buffers before USED (X3), reset mid-traffic (F3,
 * F4), storms and logs (S1, S2) and feature negotiation (F1). The fixture
 * is in test_vnet.c.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "kick.h"
#include "test_vnet.h"

/* hdr_is: the virtio_net_hdr at `gpa` is all zero except num_buffers == nb. */
static bool hdr_is(uint64_t gpa, uint16_t nb)
{
	struct virtio_net_hdr_v1 h, want;

	memcpy(&h, at(gpa, sizeof(h)), sizeof(h));
	memset(&want, 0, sizeof(want));
	want.num_buffers = nb;
	if (memcmp(&h, &want, sizeof(h)))
		printf("# header: flags %#x gso %#x hdr_len %u gso_size %u csum %u/%u num_buffers %u\n",
		    h.flags, h.gso_type, h.hdr_len, h.gso_size, h.csum_start, h.csum_offset, h.num_buffers);
	return !memcmp(&h, &want, sizeof(h));
}

static bool mem_is(uint64_t gpa, const uint8_t *p, uint32_t len)
{
	return !memcmp(at(gpa, len), p, len);
}

/* --- N4 (RX side): device-readable descriptors in an RX chain --- */

static void test_n4_rx(bool packed)
{
	struct dev *d = &d_user;
	struct vf_seg s[2];
	uint64_t ra, wa, rc, b;
	uint16_t id_a, id_c, id_b;
	char what[220];
	int r;

	up(d, packed, W_PLAIN);
	s[0] = (struct vf_seg){ ra = vf_alloc(&d->rx, 64, 0x33), 64, false };
	s[1] = (struct vf_seg){ wa = vf_alloc(&d->rx, 2000, 0xee), 2000, true };
	id_a = vf_chain(&d->rx, s, 2);
	s[0] = (struct vf_seg){ rc = vf_alloc(&d->rx, 100, 0x34), 100, false };
	id_c = vf_chain(&d->rx, s, 1);
	id_b = rx_post(d, 2000, 0xee, &b);
	frame(fbuf, 100, 9);
	r = vnet_rx(d->n, fbuf, 100);
	snprintf(what, sizeof(what), "N4 %s: RX chains with device-readable descriptors are returned with "
	    "used len 0 and counted (rx_bad_chain 2), their bytes unchanged", rname(packed));
	UNIT_OK(&u, r == 0 && used_is(&d->rx, id_a, 0) && used_is(&d->rx, id_c, 0) &&
	    d->n->cnt.rx_bad_chain == 2 && all_bytes(ra, 64, 0x33) && all_bytes(wa, 2000, 0xee) &&
	    all_bytes(rc, 100, 0x34), what);
	snprintf(what, sizeof(what), "N4 %s: the frame goes to the next good chain (used len 112)",
	    rname(packed));
	UNIT_OK(&u, used_is(&d->rx, id_b, 112) && hdr_is(b, 1) && mem_is(b + 12, fbuf, 100) &&
	    all_bytes(b + 112, 2000 - 112, 0xee) && used_none(&d->rx), what);
}

/* test_n4_rx_bytes: the readable and writable parts of a bad RX chain, both untouched. */
static void test_n4_rx_bytes(bool packed)
{
	struct dev *d = &d_user;
	struct vf_seg s[2];
	char what[200];
	uint16_t id;

	up(d, packed, W_PLAIN);
	s[0] = (struct vf_seg){ vf_alloc(&d->rx, 64, 0x33), 64, false };
	s[1] = (struct vf_seg){ vf_alloc(&d->rx, 2000, 0xee), 2000, true };
	id = vf_chain(&d->rx, s, 2);
	frame(fbuf, 100, 10);
	snprintf(what, sizeof(what), "N4 %s: a bad RX chain's readable and writable buffers are not "
	    "written; with no good chain the frame waits (-EAGAIN)", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == -EAGAIN && used_is(&d->rx, id, 0) &&
	    all_bytes(s[0].addr, 64, 0x33) && all_bytes(s[1].addr, 2000, 0xee) && d->n->rx_waiting, what);
}

/* --- N6: RX buffer sizes, with and without mergeable buffers --- */

static void test_n6_plain(bool packed)
{
	struct dev *d = &d_user;
	struct vf_seg s[2];
	uint64_t b;
	uint16_t id;
	uint8_t img[112];
	struct virtio_net_hdr_v1 h;
	char what[200];

	up(d, packed, W_PLAIN & ~F_NET(MRG_RXBUF));
	frame(fbuf, 100, 11);
	id = rx_post(d, 12 + 100 - 1, 0xee, &b);
	snprintf(what, sizeof(what), "N6 %s, no MRG_RXBUF: a buffer of 12 + frame - 1 bytes: frame dropped, "
	    "buffer used with len 0 and untouched, rx_too_small 1", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == 0 && used_is(&d->rx, id, 0) && all_bytes(b, 111, 0xee) &&
	    d->n->cnt.rx_too_small == 1, what);
	id = rx_post(d, 8, 0xee, &b);
	snprintf(what, sizeof(what), "N6 %s, no MRG_RXBUF: a buffer shorter than the header: DROP, "
	    "rx_too_small 2", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == 0 && used_is(&d->rx, id, 0) && all_bytes(b, 8, 0xee) &&
	    d->n->cnt.rx_too_small == 2, what);
	id = rx_post(d, 12 + 100, 0xee, &b);
	snprintf(what, sizeof(what), "N6 %s, no MRG_RXBUF: a buffer of exactly 12 + frame: used len 112, "
	    "header zero with num_buffers 1, frame whole", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == 0 && used_is(&d->rx, id, 112) && hdr_is(b, 1) &&
	    mem_is(b + 12, fbuf, 100), what);
	/* One chain of two writable descriptors (legal without MRG_RXBUF): the header spans both. */
	s[0] = (struct vf_seg){ vf_alloc(&d->rx, 6, 0xee), 6, true };
	s[1] = (struct vf_seg){ vf_alloc(&d->rx, 200, 0xee), 200, true };
	id = vf_chain(&d->rx, s, 2);
	memset(&h, 0, sizeof(h));
	h.num_buffers = 1;
	memcpy(img, &h, 12);
	memcpy(img + 12, fbuf, 100);
	snprintf(what, sizeof(what), "N6 %s, no MRG_RXBUF: a chain of 6 + 200 writable bytes gets header "
	    "and frame across both", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == 0 && used_is(&d->rx, id, 112) && mem_is(s[0].addr, img, 6) &&
	    mem_is(s[1].addr, img + 6, 106) && all_bytes(s[1].addr + 106, 94, 0xee), what);
	/* Frame sizes outside [14, NET_FRAME_MAX]: dropped before any buffer is taken. */
	id = rx_post(d, 12 + NET_FRAME_MAX, 0xee, &b);
	frame(fbuf, NET_FRAME_MAX + 1, 12);
	snprintf(what, sizeof(what), "N6 %s: frames of NET_FRAME_MAX + 1 and 13 bytes: dropped and counted "
	    "(rx_dropped 2), no buffer used", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, NET_FRAME_MAX + 1) == 0 && vnet_rx(d->n, fbuf, 13) == 0 &&
	    d->n->nb.stats.rx_dropped == 2 && used_none(&d->rx), what);
	snprintf(what, sizeof(what), "N6 %s, no MRG_RXBUF: a NET_FRAME_MAX frame fills a 12 + %u buffer whole",
	    rname(packed), NET_FRAME_MAX);
	UNIT_OK(&u, vnet_rx(d->n, fbuf, NET_FRAME_MAX) == 0 && used_is(&d->rx, id, 12 + NET_FRAME_MAX) &&
	    hdr_is(b, 1) && mem_is(b + 12, fbuf, NET_FRAME_MAX), what);
}

/* mrg_check: the frame in fbuf (len) lies in buffers b[0..n) of `sz` bytes, first after the header. */
static bool mrg_check(const uint64_t *b, unsigned n, uint32_t sz, uint32_t len)
{
	uint32_t off = 0;

	if (!hdr_is(b[0], (uint16_t)n))
		return false;
	for (unsigned i = 0; i < n && off < len; i++) {
		uint32_t skip = i == 0 ? 12 : 0, take = sz - skip < len - off ? sz - skip : len - off;

		if (!mem_is(b[i] + skip, fbuf + off, take))
			return false;
		off += take;
	}
	return off == len;
}

static void test_n6_mrg(bool packed)
{
	struct dev *d = &d_user;
	uint64_t b[48], bad[2];
	uint16_t id[48], idbad;
	uint32_t gid, glen;
	unsigned bad_seen = 0, nused = 0;
	struct vf_seg s[2];
	char what[220];
	bool ok;
	int r;

	up(d, packed, W_PLAIN);
	for (unsigned i = 0; i < 4; i++)
		id[i] = rx_post(d, 1500, 0xee, &b[i]);
	frame(fbuf, 3000, 13);
	r = vnet_rx(d->n, fbuf, 3000);
	ok = r == 0 && used_is(&d->rx, id[0], 1500) && used_is(&d->rx, id[1], 1500) &&
	    used_is(&d->rx, id[2], 12 + 3000 - 1500 - 1500) && used_none(&d->rx);
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: a 3000-byte frame over 1500-byte buffers: used "
	    "(%u,1500) (%u,1500) (%u,12)", rname(packed), id[0], id[1], id[2]);
	UNIT_OK(&u, ok, what);
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: num_buffers 3 in the first header, the frame "
	    "whole across the three, the rest and the fourth buffer untouched", rname(packed));
	UNIT_OK(&u, mrg_check(b, 3, 1500, 3000) && all_bytes(b[2] + 12, 1500 - 12, 0xee) &&
	    all_bytes(b[3], 1500, 0xee), what);

	/* A first buffer shorter than the header. */
	up(d, packed, W_PLAIN);
	id[0] = rx_post(d, 8, 0xee, &b[0]);
	id[1] = rx_post(d, 1500, 0xee, &b[1]);
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: a first buffer of 8 bytes: used len 0, rx_too_small, "
	    "untouched", rname(packed));
	UNIT_OK(&u, vnet_rx(d->n, fbuf, 100) == 0 && used_is(&d->rx, id[0], 0) &&
	    d->n->cnt.rx_too_small == 1 && all_bytes(b[0], 8, 0xee), what);

	/* Not enough buffers: nothing published, -EAGAIN; more buffers and a kick deliver it whole. */
	up(d, packed, W_PLAIN);
	id[0] = rx_post(d, 1500, 0xee, &b[0]);
	id[1] = rx_post(d, 1500, 0xee, &b[1]);
	fnet_queue_rx(d->f, fbuf, 3000);
	d->f->rx_resume_calls = 0;
	r = fnet_deliver(d->f);
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: 3000 bytes, two 1500-byte buffers: -EAGAIN, "
	    "nothing published, rx_waiting", rname(packed));
	UNIT_OK(&u, r == -EAGAIN && (packed || vf_used_idx(&d->rx) == 0) && used_none(&d->rx) &&
	    d->n->rx_waiting && d->f->rxq_n == 1, what);
	id[2] = rx_post(d, 1500, 0xee, &b[2]);
	kick_rx(d);
	ok = d->f->rx_resume_calls == 1 && d->f->rxq_n == 0 && d->f->delivered == 1 &&
	    used_is(&d->rx, id[0], 1500) && used_is(&d->rx, id[1], 1500) && used_is(&d->rx, id[2], 12) &&
	    used_none(&d->rx) && mrg_check(b, 3, 1500, 3000) && !d->n->rx_waiting;
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: a third buffer and an RX kick: rx_resume once, the "
	    "frame arrives whole with num_buffers 3", rname(packed));
	UNIT_OK(&u, ok, what);

	/* The largest frame over 1500-byte buffers: 44 of them, the last holding 1066 bytes. */
	up(d, packed, W_PLAIN);
	for (unsigned i = 0; i < 45; i++)
		id[i] = rx_post(d, 1500, 0xee, &b[i]);
	frame(fbuf, NET_FRAME_MAX, 14);
	ok = vnet_rx(d->n, fbuf, NET_FRAME_MAX) == 0;
	for (unsigned i = 0; i < 44; i++)
		ok = ok && used_is(&d->rx, id[i], i < 43 ? 1500 : 12 + NET_FRAME_MAX - 43 * 1500);
	snprintf(what, sizeof(what), "N6 %s, MRG_RXBUF: a NET_FRAME_MAX frame takes 44 buffers, num_buffers "
	    "44, the 45th untouched", rname(packed));
	UNIT_OK(&u, ok && used_none(&d->rx) && mrg_check(b, 44, 1500, NET_FRAME_MAX) &&
	    all_bytes(b[44], 1500, 0xee), what);

	/*
	 * A device-readable chain met while gathering buffers for a frame: the
	 * device cannot roll back past a chain it gives back, so it drops the
	 * frame and returns everything it took, in order, each exactly once
	 * with used length 0; the readable chain is never written. The next
	 * frame then uses the buffers posted after.
	 */
	up(d, packed, W_PLAIN);
	id[0] = rx_post(d, 1500, 0xee, &b[0]);
	s[0] = (struct vf_seg){ bad[0] = vf_alloc(&d->rx, 64, 0x33), 64, false };
	s[1] = (struct vf_seg){ bad[1] = vf_alloc(&d->rx, 1500, 0xee), 1500, true };
	idbad = vf_chain(&d->rx, s, 2);
	frame(fbuf, 3000, 15);
	fnet_queue_rx(d->f, fbuf, 3000);
	r = fnet_deliver(d->f);
	while (vf_used_next(&d->rx, &gid, &glen)) {
		nused++;
		bad_seen += gid == idbad && glen == 0;
		ok = gid != id[0] || glen == 0;
	}
	if (bad_seen != 1 || nused != 2 || d->n->cnt.rx_bad_chain != 1)
		printf("# %s: %u used entries, the bad chain's id %u seen %u times, rx_bad_chain %llu, "
		    "delivered %lu\n", rname(packed), nused, idbad, bad_seen,
		    (unsigned long long)d->n->cnt.rx_bad_chain, d->f->delivered);
	snprintf(what, sizeof(what), "N6+N4 %s, MRG_RXBUF: a bad chain met while gathering buffers: "
	    "frame dropped, both chains used once with length 0, rx_bad_chain 1", rname(packed));
	UNIT_OK(&u, r == 0 && ok && bad_seen == 1 && nused == 2 && d->n->cnt.rx_bad_chain == 1 &&
	    d->n->nb.stats.rx_dropped == 1 && all_bytes(bad[0], 64, 0x33) &&
	    (packed || vf_used_idx(&d->rx) == d->rx.avail_idx), what);
	id[1] = rx_post(d, 1500, 0xee, &b[1]);
	id[2] = rx_post(d, 1500, 0xee, &b[2]);
	frame(fbuf, 2000, 16);
	fnet_queue_rx(d->f, fbuf, 2000);
	r = fnet_deliver(d->f);
	snprintf(what, sizeof(what), "N6+N4 %s, MRG_RXBUF: ... and the next frame arrives whole in the "
	    "buffers posted after", rname(packed));
	UNIT_OK(&u, r == 0 && used_is(&d->rx, id[1], 1500) && used_is(&d->rx, id[2], 12 + 2000 - 1500) &&
	    used_none(&d->rx) && hdr_is(b[1], 2) && mem_is(b[1] + 12, fbuf, 1488) &&
	    mem_is(b[2], fbuf + 1488, 512), what);
}

/* --- N5 on RX: the backend's header reaches the guest only for negotiated offloads --- */

static void test_n5_rx(void)
{
	struct dev *d = &d_tap;
	struct virtio_net_hdr_v1 h;
	static uint8_t in[12 + 100];
	uint64_t b;
	uint16_t id;

	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.hdr_len = 54;
	h.gso_size = 1448;
	h.csum_start = 34;
	h.csum_offset = 16;
	h.num_buffers = 9;
	memcpy(in, &h, 12);
	frame(fbuf, 100, 16);
	memcpy(in + 12, fbuf, 100);
	up(d, false, W_PLAIN);
	id = rx_post(d, 2000, 0xee, &b);
	UNIT_OK(&u, vnet_rx(d->n, in, sizeof(in)) == 0 && used_is(&d->rx, id, 112) && hdr_is(b, 1) &&
	    mem_is(b + 12, fbuf, 100), "N5 RX: no GUEST_CSUM: the backend's offload header reaches the "
	    "guest zeroed (num_buffers 1)");
	up(d, false, W_PLAIN | F_NET(GUEST_CSUM) | F_NET(GUEST_TSO4));
	id = rx_post(d, 2000, 0xee, &b);
	h.num_buffers = 1;
	UNIT_OK(&u, vnet_rx(d->n, in, sizeof(in)) == 0 && used_is(&d->rx, id, 112) &&
	    !memcmp(at(b, 12), &h, 12) && mem_is(b + 12, fbuf, 100),
	    "N5 RX: GUEST_CSUM + GUEST_TSO4: the backend's header passes, num_buffers set by the device");
	id = rx_post(d, 2000, 0xee, &b);
	UNIT_OK(&u, vnet_rx(d->n, in, 11) == 0 && used_none(&d->rx) && all_bytes(b, 2000, 0xee),
	    "N5 RX: a vnet_hdr backend frame shorter than its header is taken and dropped, no buffer used");
}

/* --- X3: num_buffers is in guest memory before the first used write --- */

static struct {
	uint8_t *page;		/* the protected page: where USED is written */
	const uint8_t *hdr;	/* the first RX buffer's header */
	int nb_at_fault;	/* num_buffers when the device first wrote the page */
	unsigned faults;
} x3;

static void x3_segv(int sig, siginfo_t *si, void *uctx)
{
	uint8_t *a = si->si_addr;

	(void)uctx;
	if (x3.page && a >= x3.page && a < x3.page + 4096) {
		if (x3.faults++ == 0)
			x3.nb_at_fault = x3.hdr[10] | x3.hdr[11] << 8;
		mprotect(x3.page, 4096, PROT_READ | PROT_WRITE);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void test_x3(bool packed)
{
	struct dev *d = &d_user;
	struct sigaction sa, old;
	uint64_t b[3];
	uint16_t id[3];
	char what[200];
	int r;

	up(d, packed, W_PLAIN);
	for (unsigned i = 0; i < 3; i++)
		id[i] = rx_post(d, 1500, 0xee, &b[i]);
	frame(fbuf, 3000, 17);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = x3_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	/* USED lives in the used ring (split) or the descriptor ring (packed). */
	x3.page = at(packed ? d->rx.desc : d->rx.device, 4096);
	x3.hdr = at(b[0], 12);
	x3.nb_at_fault = -1;
	x3.faults = 0;
	if (((uintptr_t)x3.page & 4095) || sigaction(SIGSEGV, &sa, &old) ||
	    mprotect(x3.page, 4096, PROT_READ)) {
		printf("ok - vnet: X3 %s: cannot protect the ring page here, skipped\n", rname(packed));
		x3.page = NULL;
		return;
	}
	r = vnet_rx(d->n, fbuf, 3000);
	mprotect(x3.page, 4096, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old, NULL);
	x3.page = NULL;
	snprintf(what, sizeof(what), "X3/N6 %s: num_buffers (3) is in the first buffer before the device's "
	    "first write to the %s", rname(packed), packed ? "descriptor ring (used descriptor)" : "used ring");
	UNIT_OK(&u, r == 0 && x3.faults == 1 && x3.nb_at_fault == 3 && used_is(&d->rx, id[0], 1500) &&
	    used_is(&d->rx, id[1], 1500) && used_is(&d->rx, id[2], 12), what);
}

/* --- N7: no RX buffers --- */

static void test_n7(bool packed)
{
	struct dev *d = &d_user;
	unsigned long rr;
	uint64_t b;
	uint16_t id;
	char what[200];
	int r;

	up(d, packed, W_PLAIN);
	rr = d->f->rx_resume_calls;
	frame(fbuf, 60, 18);
	fnet_queue_rx(d->f, fbuf, 60);
	r = fnet_deliver(d->f);
	snprintf(what, sizeof(what), "N7 %s: no RX buffers: vnet_rx says -EAGAIN, rx_waiting, no used entry, "
	    "the frame stays with the backend", rname(packed));
	UNIT_OK(&u, r == -EAGAIN && d->n->rx_waiting && used_none(&d->rx) && d->f->rxq_n == 1 &&
	    d->f->rx_resume_calls == rr, what);
	id = rx_post(d, 1500, 0xee, &b);
	kick_rx(d);
	snprintf(what, sizeof(what), "N7 %s: a buffer and an RX kick: rx_resume called exactly once, the "
	    "frame delivered (used len 72)", rname(packed));
	UNIT_OK(&u, d->f->rx_resume_calls == rr + 1 && d->f->rxq_n == 0 && used_is(&d->rx, id, 72) &&
	    hdr_is(b, 1) && mem_is(b + 12, fbuf, 60) && !d->n->rx_waiting, what);
	for (int i = 0; i < 1000; i++)
		kick_rx(d);
	snprintf(what, sizeof(what), "N7 %s: 1000 more RX kicks with nothing waiting: no rx_resume",
	    rname(packed));
	UNIT_OK(&u, d->f->rx_resume_calls == rr + 1 && used_none(&d->rx), what);
	/* Kicks with no buffers while a frame waits: one re-offer per kick, no spin. */
	fnet_queue_rx(d->f, fbuf, 60);
	fnet_deliver(d->f);
	for (int i = 0; i < 3; i++)
		kick_rx(d);
	snprintf(what, sizeof(what), "N7 %s: 3 RX kicks without buffers: 3 re-offers, each -EAGAIN, "
	    "nothing used", rname(packed));
	UNIT_OK(&u, d->f->rx_resume_calls == rr + 4 && d->f->rx_eagain == 5 && d->f->rxq_n == 1 &&
	    used_none(&d->rx) && d->n->rx_waiting, what);
	fnet_drop_rxq(d->f);
}

/* --- slirp answers inside send(): RX runs nested in TX --- */

struct nest {
	struct dev *d;
	unsigned n;
	int r[3];
};

static void nest_on_send(void *arg, const uint8_t *fr, size_t len)
{
	struct nest *ns = arg;
	static uint8_t reply[3][80];

	(void)fr;
	(void)len;
	frame(reply[ns->n], 80, 40 + ns->n);
	ns->r[ns->n] = vnet_rx(ns->d->n, reply[ns->n], 80);
	ns->n++;
}

static void test_nested(bool packed)
{
	struct dev *d = &d_user;
	struct nest ns = { d, 0, { 1, 1, 1 } };
	static uint8_t fr[3][100];
	uint64_t b[3];
	uint16_t idr[3], idt[3];
	char what[200];
	bool ok = true;

	up(d, packed, W_PLAIN);
	for (unsigned k = 0; k < 3; k++) {
		idr[k] = rx_post(d, 1500, 0xee, &b[k]);
		frame(fr[k], 100, 50 + k);
		idt[k] = tx_one(d, NULL, fr[k], 100);
	}
	d->f->on_send = nest_on_send;
	d->f->on_send_arg = &ns;
	kick_tx(d);
	d->f->on_send = NULL;
	for (unsigned k = 0; k < 3; k++) {
		static uint8_t reply[80];

		frame(reply, 80, 40 + k);
		ok = ok && ns.r[k] == 0 && used_is(&d->tx, idt[k], 0) && sent_is(d->f, k, NULL, 0, fr[k], 100) &&
		    used_is(&d->rx, idr[k], 92) && hdr_is(b[k], 1) && mem_is(b[k] + 12, reply, 80);
	}
	snprintf(what, sizeof(what), "nested %s: a backend answering inside send() (slirp): 3 frames sent "
	    "and 3 replies placed, neither path disturbing the other", rname(packed));
	UNIT_OK(&u, ok && ns.n == 3 && used_none(&d->tx) && used_none(&d->rx), what);
}

/*
 * F-2, as a hostile guest found it: the backend answers inside send()
 * (slirp answering an ARP), the nested RX meets a malformed RX ring and the
 * device declares NEEDS_RESET. Before the fix the TX loop went on popping,
 * sending and publishing the rest of the TX ring (40 used entries and 40
 * frames after the fault); now nothing leaves after the fault: the frame
 * whose send ran into it was already on the wire, no later frame is sent,
 * and no used entry is written on either ring.
 */
static void nest_bad_rx(void *arg, const uint8_t *fr, size_t len)
{
	struct nest *ns = arg;
	static uint8_t reply[80];

	(void)fr;
	(void)len;
	frame(reply, 80, 7);
	ns->r[ns->n < 3 ? ns->n : 2] = vnet_rx(ns->d->n, reply, 80);
	ns->n++;
}

static void test_nested_fault(bool packed)
{
	struct dev *d = &d_user;
	struct nest ns = { d, 0, { 1, 1, 1 } };
	static uint8_t fr[40][100];
	struct vf_seg bad = { 0xfff00000000ull, 1500, true };	/* outside guest RAM (M1) */
	unsigned long sent0;
	char what[200];

	up(d, packed, W_PLAIN);
	vf_chain(&d->rx, &bad, 1);
	for (unsigned k = 0; k < 40; k++) {
		frame(fr[k], 100, 60 + k);
		tx_one(d, NULL, fr[k], 100);
	}
	sent0 = d->f->sent;
	d->f->on_send = nest_bad_rx;
	d->f->on_send_arg = &ns;
	kick_tx(d);
	d->f->on_send = NULL;
	snprintf(what, sizeof(what), "F-2 %s: a malformed RX ring met inside send(): NEEDS_RESET, "
	    "1 frame sent (the one in flight), 0 used entries on TX and RX", rname(packed));
	UNIT_OK(&u, needs_reset(d) && d->f->sent - sent0 == 1 && ns.n == 1 && used_none(&d->tx) &&
	    used_none(&d->rx), what);
	if (d->f->sent - sent0 != 1)
		printf("# sent %lu frames after the fault\n", d->f->sent - sent0);
	/* A later kick changes nothing until the driver resets the device. */
	kick_tx(d);
	kick_rx(d);
	snprintf(what, sizeof(what), "F-2 %s: kicks after the fault send and publish nothing",
	    rname(packed));
	UNIT_OK(&u, d->f->sent - sent0 == 1 && used_none(&d->tx) && used_none(&d->rx), what);
	snprintf(what, sizeof(what), "F-2 %s: after a reset the device works again", rname(packed));
	up(d, packed, W_PLAIN);
	sent0 = d->f->sent;
	frame(fr[0], 100, 99);
	tx_one(d, NULL, fr[0], 100);
	kick_tx(d);
	UNIT_OK(&u, !needs_reset(d) && d->f->sent - sent0 == 1 && sent_is(d->f, 0, NULL, 0, fr[0], 100),
	    what);
}

/*
 * test_kick_storm: O-1 through the real transport: empty TX kicks pause the
 * queue's watcher, a guest bumping the RX avail index past a ring's worth
 * cannot make its kicks look useful, and a real frame is still sent at the
 * next tick.
 */
static void test_kick_storm(void)
{
	struct dev *d = &d_user;
	struct kick *tx = &d->vp->qcfg[VNET_TXQ].kick, *rx = &d->vp->qcfg[VNET_RXQ].kick;
	static uint8_t fr[100];
	unsigned long sent0;
	uint16_t id;

	up(d, false, W_PLAIN);
	sent0 = d->f->sent;
	for (unsigned i = 0; i < KICK_EMPTY_RUN; i++) {
		eventfd_write(tx->fd, 1);
		vstub_run(&v);
	}
	UNIT_OK(&u, tx->paused, "O-1: 64 empty TX ioeventfd kicks pause the TX kick watcher");
	frame(fr, sizeof(fr), 3);
	id = tx_one(d, NULL, fr, sizeof(fr));
	eventfd_write(tx->fd, 1);
	vstub_run(&v);
	ev_run(v.loop.ev, EVRUN_ONCE);
	vstub_run(&v);
	UNIT_OK(&u, d->f->sent == sent0 + 1 && used_is(&d->tx, id, 0) && !tx->paused,
	    "O-1: a real TX frame kicked during the pause is sent at the next tick; watching resumes");
	for (unsigned i = 0; i < VNET_QUEUE_SIZE + KICK_EMPTY_RUN; i++) {
		vf_avail_set_idx(&d->rx, (uint16_t)(i + 1));
		eventfd_write(rx->fd, 1);
		vstub_run(&v);
	}
	UNIT_OK(&u, rx->paused, "O-1: RX kicks that bump avail.idx past a ring's worth count as empty and pause");
	up(d, false, W_PLAIN);
	UNIT_OK(&u, !tx->paused && !rx->paused && tx->empty_run == 0,
	    "O-1: device reset watches every kick again");
}

/* --- F3, F4: reset mid-traffic --- */

static uint8_t snap_ring[0x6000], snap_heap[0x200000];

static void test_f3(bool packed)
{
	struct dev *d = &d_user;
	uint64_t area = DEV_AREA(d->idx), b[3];
	static uint8_t fr_old[80], fr_rx[3000], fr_new[90];
	uint16_t id[3], idt;
	char what[220];
	bool ok;
	int r;

	up(d, packed, W_PLAIN);
	d->f->eagain = true;
	frame(fr_old, 80, 19);
	tx_one(d, NULL, fr_old, 80);
	kick_tx(d);
	rx_post(d, 1500, 0xee, NULL);
	frame(fr_rx, 3000, 20);
	fnet_queue_rx(d->f, fr_rx, 3000);
	r = fnet_deliver(d->f);
	ok = d->n->tx_blocked && d->f->send_calls == 1 && r == -EAGAIN && d->n->rx_waiting;
	memcpy(snap_ring, at(area, sizeof(snap_ring)), sizeof(snap_ring));
	memcpy(snap_heap, at(area + 0x100000, sizeof(snap_heap)), sizeof(snap_heap));
	vstub_bar_write(d->vp, VS_STATUS, 0, 1);
	snprintf(what, sizeof(what), "F3 %s: TX blocked on EAGAIN and RX half-filled, then status 0: "
	    "status reads 0 at once", rname(packed));
	UNIT_OK(&u, ok && vstub_status(d->vp) == 0, what);
	d->f->eagain = false;
	d->n->nb.tx_ready(d->n->nb.owner);
	r = vnet_rx(d->n, fr_rx, 3000);
	kick_tx(d);
	kick_rx(d);
	vstub_run(&v);
	snprintf(what, sizeof(what), "F3 %s: after the reset, tx_ready, vnet_rx and kicks touch neither the "
	    "old rings nor their buffers, and send nothing", rname(packed));
	UNIT_OK(&u, r == -EAGAIN && d->f->send_calls == 1 && d->f->sent == 0 &&
	    !memcmp(snap_ring, at(area, sizeof(snap_ring)), sizeof(snap_ring)) &&
	    !memcmp(snap_heap, at(area + 0x100000, sizeof(snap_heap)), sizeof(snap_heap)), what);

	/*
	 * A fresh driver on new rings (set B). The RX frame that waited for the
	 * old driver was dropped at the reset, as a NIC drops its FIFO (O-2);
	 * a frame arriving now reaches the new driver whole.
	 */
	snprintf(what, sizeof(what), "O-2 %s: the reset dropped the RX frame held for the old driver, "
	    "counted", rname(packed));
	UNIT_OK(&u, d->f->rxq_n == 0 && d->f->rx_flushed >= 1, what);
	rings_at(d, packed, true);
	ok = vn_driver_init(d->vp, packed ? W_PLAIN : W_PLAIN & ~F_PACKED, &d->rx, &d->tx) != 0;
	for (unsigned i = 0; i < 3; i++)
		id[i] = rx_post(d, 1500, 0xee, &b[i]);
	kick_rx(d);
	ok = ok && used_none(&d->rx);
	fnet_queue_rx(d->f, fr_rx, 3000);
	fnet_deliver(d->f);
	frame(fr_new, 90, 21);
	idt = tx_one(d, NULL, fr_new, 90);
	kick_tx(d);
	memcpy(fbuf, fr_rx, 3000);
	ok = ok && used_is(&d->rx, id[0], 1500) && used_is(&d->rx, id[1], 1500) && used_is(&d->rx, id[2], 12) &&
	    mrg_check(b, 3, 1500, 3000) && used_is(&d->tx, idt, 0) && d->f->sent == 1 &&
	    sent_is(d->f, 0, NULL, 0, fr_new, 90);
	snprintf(what, sizeof(what), "F3 %s: re-init on new rings works: nothing old arrives, a new RX "
	    "frame arrives whole, the parked TX chain is forgotten, a new one is sent", rname(packed));
	UNIT_OK(&u, ok, what);
	snprintf(what, sizeof(what), "F3 %s: the old rings are still untouched", rname(packed));
	UNIT_OK(&u, !memcmp(snap_ring, at(area, sizeof(snap_ring)), sizeof(snap_ring)), what);

	/* F4: reset while NEEDS_RESET clears it, and the device works again. */
	{
		struct vf_seg s[VNET_TX_SEGS_DROP + 1];
		uint64_t a = vf_alloc(&d->tx, VNET_TX_SEGS_DROP + 1, 0x11);

		for (unsigned i = 0; i <= VNET_TX_SEGS_DROP; i++)
			s[i] = (struct vf_seg){ a + i, 1, false };
		vf_chain(&d->tx, s, VNET_TX_SEGS_DROP + 1);
		kick_tx(d);
		ok = needs_reset(d);
		vstub_bar_write(d->vp, VS_STATUS, 0, 1);
		ok = ok && vstub_status(d->vp) == 0;
		up(d, packed, W_PLAIN);
		idt = tx_one(d, NULL, fr_new, 90);
		kick_tx(d);
		snprintf(what, sizeof(what), "F4 %s: NEEDS_RESET, then status 0 reads 0; after re-init frames "
		    "flow", rname(packed));
		UNIT_OK(&u, ok && !needs_reset(d) && used_is(&d->tx, idt, 0) && d->f->sent == 1, what);
	}
}

/* --- S1: kick storms on empty rings --- */

static void test_s1(bool packed)
{
	struct dev *d = &d_s1;
	static uint8_t snap[0x6000];
	unsigned long rr;
	size_t heap0;
	unsigned lines;
	char what[220];

	up(d, packed, W_PLAIN);
	kick_tx(d);
	kick_rx(d);
	rr = d->f->rx_resume_calls;
	memcpy(snap, at(DEV_AREA(d->idx), sizeof(snap)), sizeof(snap));
	heap0 = mallinfo2().uordblks;
	vf_stderr_begin();
	for (int i = 0; i < 100000; i++)
		kick_tx(d);
	for (int i = 0; i < 100000; i++)
		kick_rx(d);
	for (int i = 0; i < 100000; i++)
		eventfd_write(d->vp->qcfg[VNET_TXQ].kick.fd, 1);
	vstub_run(&v);
	lines = vf_stderr_end(NULL, 0);
	snprintf(what, sizeof(what), "S1 %s: 100000 TX kicks, 100000 RX kicks and 100000 TX ioeventfd "
	    "kicks on empty rings: no send, no rx_resume, no ring write, no allocation, no log",
	    rname(packed));
	UNIT_OK(&u, d->f->send_calls == 0 && d->f->rx_resume_calls == rr && used_none(&d->tx) &&
	    used_none(&d->rx) && !memcmp(snap, at(DEV_AREA(d->idx), sizeof(snap)), sizeof(snap)) &&
	    mallinfo2().uordblks == heap0 && lines == 0, what);
}

/* --- S2: the same malformed chain, 10000 times --- */

static void test_s2(void)
{
	struct dev *d = &d_s2;
	unsigned lines, nused = 0, nonzero = 0;
	uint32_t id, len;
	char last[256];

	up(d, false, W_PLAIN);
	vf_stderr_begin();
	for (unsigned i = 0; i < 10000; i += 200) {
		for (unsigned j = 0; j < 200; j++) {
			struct vf_seg s = { vf_alloc(&d->tx, 5, 0x11), 5, false };

			vf_chain(&d->tx, &s, 1);
		}
		kick_tx(d);
		while (vf_used_next(&d->tx, &id, &len)) {
			nused++;
			nonzero += len != 0;
		}
	}
	lines = vf_stderr_end(last, sizeof(last));
	if (lines != 1)
		printf("# %u lines, last: %s", lines, last);
	UNIT_OK(&u, lines == 1 && d->n->cnt.tx_malformed == 10000 && nused == 10000 && nonzero == 0 &&
	    d->f->send_calls == 0 && !needs_reset(d),
	    "S2: the same malformed TX chain 10000 times: 10000 used (len 0), tx_malformed 10000, one "
	    "line on stderr");
}

/* --- F1: feature negotiation --- */

static uint64_t offered(struct dev *d)
{
	uint64_t f;

	vstub_bar_write(d->vp, VS_DFSELECT, 0, 4);
	f = vstub_bar_read(d->vp, VS_DF, 4);
	vstub_bar_write(d->vp, VS_DFSELECT, 1, 4);
	return f | vstub_bar_read(d->vp, VS_DF, 4) << 32;
}

static void test_f1(void)
{
	static const struct { uint64_t f; const char *what; } bad[] = {
		{ F_NET(HOST_TSO4), "HOST_TSO4 without CSUM" },
		{ F_NET(HOST_TSO6), "HOST_TSO6 without CSUM" },
		{ F_NET(HOST_TSO4) | F_NET(GUEST_CSUM), "HOST_TSO4 with GUEST_CSUM but not CSUM" },
		{ F_NET(GUEST_TSO4), "GUEST_TSO4 without GUEST_CSUM" },
		{ F_NET(GUEST_TSO6) | F_NET(CSUM), "GUEST_TSO6 with CSUM but not GUEST_CSUM" },
		{ F_NET(CSUM) | F_NET(HOST_ECN), "HOST_ECN without HOST_TSO4/6" },
		{ F_NET(GUEST_CSUM) | F_NET(GUEST_ECN), "GUEST_ECN without GUEST_TSO4/6" },
	};
	static const struct { uint64_t f; const char *what; } good[] = {
		{ F_OFFLOADS, "every offload" },
		{ F_NET(GUEST_CSUM), "GUEST_CSUM alone" },
		{ F_NET(GUEST_CSUM) | F_NET(GUEST_TSO6), "GUEST_CSUM + GUEST_TSO6" },
		{ F_NET(CSUM) | F_NET(HOST_TSO4) | F_NET(HOST_ECN), "CSUM + HOST_TSO4 + HOST_ECN" },
		{ 0, "no offload" },
	};
	const uint64_t base = W_PLAIN & ~F_PACKED;
	char what[200];
	uint64_t got;

	got = offered(&d_tap);
	UNIT_OK(&u, (got & F_OFFLOADS) == F_OFFLOADS && (got & F_NET(MRG_RXBUF)) && (got & F_NET(MAC)) &&
	    (got & F_VERSION_1), "F1: a vnet_hdr backend with set_offload: every offload, MRG_RXBUF, MAC, "
	    "VERSION_1 offered");
	UNIT_OK(&u, !(offered(&d_user) & F_OFFLOADS) && !(offered(&d_tap0) & F_OFFLOADS),
	    "F1: no offload offered without a vnet_hdr backend (user; tap,hdr=0)");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = up(&d_tap, false, base | bad[i].f);
		snprintf(what, sizeof(what), "F1: %s: FEATURES_OK stays clear", bad[i].what);
		UNIT_OK(&u, got == 0 && !(vstub_status(d_tap.vp) & VS_S_FEATURES_OK), what);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		got = up(&d_tap, false, (base & ~F_OFFLOADS) | good[i].f);
		snprintf(what, sizeof(what), "F1: %s: accepted, set_offload gets exactly those "
		    "offloads", good[i].what);
		UNIT_OK(&u, got && (got & F_OFFLOADS) == good[i].f &&
		    (vstub_status(d_tap.vp) & (VS_S_FEATURES_OK | VS_S_DRIVER_OK)) ==
		    (VS_S_FEATURES_OK | VS_S_DRIVER_OK) && d_tap.f->last_features == good[i].f, what);
	}
	up(&d_tap, false, base | F_OFFLOADS);
	vstub_bar_write(d_tap.vp, VS_STATUS, 0, 1);
	UNIT_OK(&u, d_tap.f->last_features == 0 && d_tap.n->negotiated == 0,
	    "F1: reset hands set_offload 0 and forgets the negotiated set");
	got = up(&d_tapfail, false, base & ~F_OFFLOADS);
	UNIT_OK(&u, got == 0 && !(vstub_status(d_tapfail.vp) & VS_S_FEATURES_OK),
	    "F1: set_offload failing: FEATURES_OK stays clear");
	got = up(&d_user, false, ~0ull);
	UNIT_OK(&u, got && !(got & F_OFFLOADS) && !(d_user.n->negotiated & F_OFFLOADS),
	    "F1: offloads asked of a backend without them are not kept");
}

/* --- the MTU a backend asks for (VIRTIO_NET_F_MTU, config offset 10) --- */

static void test_mtu(void)
{
	static const struct { const char *spec; bool offer; unsigned mtu; } c[] = {
		{ "user,mtu=65520", true, 65520 },
		{ "user,mtu=1280", true, 1280 },
		{ "user,mtu=68", true, 68 },
		{ "user,mtu=67", false, 0 },
		{ "user,mtu=65535", true, 65535 },
		{ "user,mtu=65536", false, 0 },	/* the config field is 16 bits (spec: 68..65535) */
		{ "user,mtu=65537", false, 0 },
		{ "user", false, 0 },
	};
	char what[160];

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vnet *n = vn_add(&v, c[i].spec);
		struct dev d = { .n = n };
		uint64_t f;
		unsigned mtu;

		if (!n) {
			UNIT_OK(&u, 0, "MTU: cannot create the device");
			return;
		}
		d.vp = n->vp;
		f = offered(&d);
		mtu = (unsigned)vstub_bar_read(n->vp, VS_DEVCFG + 10, 2);
		if (c[i].offer ? !(f & F_NET(MTU)) || mtu != c[i].mtu : !!(f & F_NET(MTU)))
			printf("# '%s': VIRTIO_NET_F_MTU %s, config mtu %u\n", c[i].spec,
			    f & F_NET(MTU) ? "offered" : "not offered", mtu);
		if (c[i].offer)
			snprintf(what, sizeof(what), "MTU: backend '%s': VIRTIO_NET_F_MTU offered, config mtu "
			    "reads %u", c[i].spec, c[i].mtu);
		else
			snprintf(what, sizeof(what), "MTU: backend '%s': VIRTIO_NET_F_MTU not offered",
			    c[i].spec);
		UNIT_OK(&u, !!(f & F_NET(MTU)) == c[i].offer && (!c[i].offer || mtu == c[i].mtu), what);
		vn_remove(&v, n);
	}
}

void test_rx_all(void)
{
	int lines;

	test_kick_storm();
	vf_stderr_begin();
	for (int p = 0; p < 2; p++) {
		test_n4_rx(p);
		test_n4_rx_bytes(p);
		test_n6_plain(p);
		test_n6_mrg(p);
		test_n7(p);
		test_nested(p);
		test_nested_fault(p);
		test_f3(p);
	}
	test_n5_rx();
	test_f1();
	test_mtu();
	lines = (int)vf_stderr_end(NULL, 0);
	printf("# %d lines on stderr from the receive tests\n", lines);
	/* Outside the capture: the signal handler must not meet a redirected stderr. */
	test_x3(false);
	test_x3(true);
	test_s1(false);
	test_s1(true);
	test_s2();
}
