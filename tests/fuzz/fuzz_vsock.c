/*
 * fuzz_vsock.c: virtio-vsock end to end: the real device (vsock_create,
 * in-process ports only: no files) behind the real transport, driven by a
 * fake driver whose every move the input picks: REQUESTs and every other op
 * with random ports, flags, credit (buf_alloc, fwd_cnt) and types; RW
 * payloads from 0 bytes to past 64 KiB; raw headers with any field and a
 * chain split over 1 to 3 descriptors, short, over-long or with a writable
 * part; RX buffers from 20 bytes to 64 KiB; host ends (socketpairs made by
 * the port handlers) writing, reading, half-closing and closing; loop
 * iterations; device resets on split or packed rings.
 *
 * Oracle, checked after every step:
 * - bookkeeping: nr_conns counts the live slots, at most VSOCK_MAX_CONNS;
 *   `held` is the sum of the per-connection buffers, each at most
 *   VSOCK_BUF_ALLOC; the RST queue at most VSOCK_ORPHAN_MAX;
 * - credit: during a loop run (when no guest packet can change it), a
 *   connection sends the guest at most the credit the guest had granted;
 * - every RX packet is well formed: USED length = 44 + len, len <= 64 KiB
 *   and fits the buffer, to the guest's CID, a known op, data only in RW;
 * - NEEDS_RESET only after the input built a chain of the wrong shape;
 * - at the end, with RX buffers plenty, every TX chain is used unless the
 *   device needs a reset (no chain is lost or kept).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsockfake.h"

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)
#define KEEP_MAX 160			/* test ends of socketpairs */
#define TX_OUT_MAX 240			/* TX descriptors outstanding (ring of 256) */
#define RX_OUT_MAX 120			/* RX buffers outstanding */

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_vsock: invariant broken at line %d: %s\n", line, what);
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

static uint32_t in32(struct in *in)
{
	uint32_t lo = in16(in);

	return lo | (uint32_t)in16(in) << 16;
}

static struct {
	bool ready;
	struct vsg g;
	int keep[KEEP_MAX];		/* host ends the handlers handed out, -1 when closed */
	unsigned nkeep;
	bool shape_bad;			/* the input built a chain the device must refuse */
	uint8_t tx_nd[VIRTQ_MAX_SIZE];	/* descriptors of each TX chain not yet used, FIFO */
	unsigned tx_head, tx_chains, tx_desc;
	uint32_t rx_len[VIRTQ_MAX_SIZE];	/* RX buffer length posted under each id */
	uint8_t payload[VSOCK_MAX_PKT + 64];
} f;

/* The handlers: ports 1-3 connect, port 4 refuses. */
static int fz_connect(void *ctx, uint32_t port)
{
	int sv[2];

	(void)ctx;
	if (port == 4)
		return -ECONNREFUSED;
	if (f.nkeep == KEEP_MAX || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -EMFILE;
	if (port == 3) {
		int small = 4096;	/* a slow host: guest data gets buffered */

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	}
	f.keep[f.nkeep++] = sv[1];
	return sv[0];
}

static void setup(void)
{
	struct vsock_spec spec = { .cid = VSG_CID };

	if (vsg_init(&f.g, &spec, false))
		abort();
	for (uint32_t p = 1; p <= 4; p++)
		if (vsock_set_port_handler(f.g.vs, p, fz_connect, NULL))
			abort();
	f.ready = true;
}

static void check_books(void)
{
	struct vsock *vs = f.g.vs;
	uint64_t held = 0;
	unsigned live = 0;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &vs->conn[i];

		if (c->state == VSOCK_FREE)
			continue;
		live++;
		CHECK(vsock_conn_buffered(c) <= VSOCK_BUF_ALLOC);
		CHECK(vsock_conn_buffered(c) == 0 || c->buf);
		held += vsock_conn_buffered(c);
	}
	CHECK(live == vs->nr_conns && live <= VSOCK_MAX_CONNS);
	CHECK(held == vs->held);
	CHECK(vs->orphan_n <= VSOCK_ORPHAN_MAX);
	CHECK(!vsg_needs_reset(&f.g) || f.shape_bad);
}

/*
 * run: a loop run, checking that no connection sent past the guest's
 * credit. Only TX changes that credit, and TX runs in the loop only when
 * it was blocked or yielded: then the run is not checked.
 */
static void run(void)
{
	struct { uint32_t lp, pp, tx, free; bool open; } snap[VSOCK_MAX_CONNS];
	struct vsock *vs = f.g.vs;
	bool quiet_tx = !vs->tx_blocked && !ev_is_active(&vs->tx_more);

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &vs->conn[i];
		uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

		snap[i].open = c->state == VSOCK_OPEN;
		snap[i].lp = c->local_port;
		snap[i].pp = c->peer_port;
		snap[i].tx = c->tx_cnt;
		snap[i].free = in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
	}
	vsg_run(&f.g);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &vs->conn[i];

		if (quiet_tx && snap[i].open && c->state != VSOCK_FREE && c->local_port == snap[i].lp &&
		    c->peer_port == snap[i].pp)
			CHECK(c->tx_cnt - snap[i].tx <= snap[i].free);
	}
	check_books();
}

static void collect(void)
{
	uint32_t id, len;
	struct vsg_pkt p;

	/* TX chains are used in the order they were posted, each with length 0. */
	while (vf_used_next(&f.g.q[VSOCK_TXQ], &id, &len)) {
		CHECK(len == 0);
		CHECK(f.tx_chains > 0);
		f.tx_desc -= f.tx_nd[f.tx_head];
		f.tx_head = (f.tx_head + 1) % VIRTQ_MAX_SIZE;
		f.tx_chains--;
	}
	while (vsg_rx(&f.g, &p) == 1) {
		CHECK(p.used_len == VSOCK_HDR_LEN + p.h.len && p.used_len <= f.rx_len[p.id]);
		CHECK(p.h.len <= VSOCK_MAX_PKT);
		CHECK(p.h.dst_cid == VSG_CID);
		CHECK(p.h.op >= VIRTIO_VSOCK_OP_REQUEST && p.h.op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST);
		CHECK(p.h.len == 0 || p.h.op == VIRTIO_VSOCK_OP_RW);
		CHECK(p.h.op == VIRTIO_VSOCK_OP_RST || (p.h.src_cid == VSOCK_HOST_CID &&
		    p.h.type == VIRTIO_VSOCK_TYPE_STREAM && p.h.buf_alloc == VSOCK_BUF_ALLOC));
	}
}

/* post_rx: 1-8 RX buffers of one size (20 bytes to 64 KiB), rarely device-readable. */
static void post_rx(uint8_t b)
{
	static const uint32_t sizes[] = { 44, 45, 100, 4096, 4096, 8192, VSOCK_HDR_LEN + VSOCK_MAX_PKT, 20 };
	unsigned n = 1 + (b & 7);
	uint32_t len = sizes[(b >> 3) & 7];
	bool readable = (b & 0xc0) == 0xc0;

	if (len < VSOCK_HDR_LEN || readable)
		f.shape_bad = true;
	for (unsigned i = 0; i < n && f.g.rx_posted < RX_OUT_MAX; i++) {
		struct vf_seg s = { vf_alloc(&f.g.q[VSOCK_RXQ], len, 0xee), len, !readable };
		uint16_t id = vf_chain(&f.g.q[VSOCK_RXQ], &s, 1);

		f.g.rx_gpa[id] = s.addr;
		f.rx_len[id] = len;
		f.g.rx_posted++;
	}
	vsg_kick(&f.g, VSOCK_RXQ);
}

/* tx: a packet of the input's choosing. `raw` lets every header field and the chain shape vary. */
static void tx(struct in *in, bool raw)
{
	static const uint16_t ops[] = { 1, 2, 3, 4, 5, 6, 7, 0, 8, 5, 5, 1 };
	struct vsock_pkt h = { 0 };
	uint8_t hdr[VSOCK_HDR_LEN], b = in8(in);
	struct vf_seg s[3];
	uint32_t plen = 0;
	unsigned n;

	if (f.tx_desc + 3 > TX_OUT_MAX)
		return;
	h.src_cid = VSG_CID;
	h.dst_cid = VSOCK_HOST_CID;
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = ops[b % (sizeof(ops) / sizeof(ops[0]))];
	h.src_port = 1000 + (in8(in) & 7);
	h.dst_port = in8(in) & 7;
	h.flags = in8(in) & 7;
	h.buf_alloc = (b & 0x80) ? in32(in) : 1u << (in8(in) % 20);
	h.fwd_cnt = (b & 0x40) ? in32(in) : in16(in);
	if (h.op == VIRTIO_VSOCK_OP_RW)
		plen = (b & 0x20) ? in16(in) + (in8(in) & 1 ? 1u : 0) : in8(in);
	h.len = plen;
	if (raw) {
		uint8_t which = in8(in);

		if (which & 1)
			h.src_cid = in8(in);
		if (which & 2)
			h.dst_cid = in8(in);
		if (which & 4)
			h.type = in8(in) & 3;
		if (which & 8)
			h.op = in8(in);
		if (which & 16)
			h.len = in32(in) & 0x1ffff;
	}
	memset(f.payload, b, plen);
	vsg_hdr(&h, hdr);
	if (raw && (in8(in) & 3) == 3) {
		/* A chain of the wrong shape: short, writable or over-long. */
		uint8_t how = in8(in) % 3;

		f.shape_bad = true;
		if (how == 0) {
			s[0] = (struct vf_seg){ vsg_txmem(&f.g, hdr, 30), 30, false };
			n = 1;
		} else if (how == 1) {
			s[0] = (struct vf_seg){ vsg_txmem(&f.g, hdr, VSOCK_HDR_LEN), VSOCK_HDR_LEN, false };
			s[1] = (struct vf_seg){ vsg_txmem(&f.g, NULL, 8), 8, true };
			n = 2;
		} else {
			s[0] = (struct vf_seg){ vsg_txmem(&f.g, hdr, VSOCK_HDR_LEN), VSOCK_HDR_LEN, false };
			s[1] = (struct vf_seg){ vsg_txmem(&f.g, NULL, VSOCK_MAX_PKT + 1), VSOCK_MAX_PKT + 1, false };
			n = 2;
		}
	} else if (raw && plen > 8 && (in8(in) & 1)) {
		/* Header split over two descriptors, payload in a third. */
		s[0] = (struct vf_seg){ vsg_txmem(&f.g, hdr, 20), 20, false };
		s[1] = (struct vf_seg){ vsg_txmem(&f.g, hdr + 20, 24), 24, false };
		s[2] = (struct vf_seg){ vsg_txmem(&f.g, f.payload, plen), plen, false };
		n = 3;
	} else {
		s[0] = (struct vf_seg){ vsg_txmem(&f.g, hdr, VSOCK_HDR_LEN), VSOCK_HDR_LEN, false };
		s[1] = (struct vf_seg){ plen ? vsg_txmem(&f.g, f.payload, plen) : 0, plen, false };
		n = plen ? 2 : 1;
	}
	vf_chain(&f.g.q[VSOCK_TXQ], s, n);
	f.tx_nd[(f.tx_head + f.tx_chains++) % VIRTQ_MAX_SIZE] = (uint8_t)n;
	f.tx_desc += n;
	vsg_kick(&f.g, VSOCK_TXQ);
	check_books();
}

static void host(struct in *in)
{
	uint8_t b = in8(in), buf[8192];
	int fd;

	if (!f.nkeep)
		return;
	fd = f.keep[in8(in) % f.nkeep];
	if (fd < 0)
		return;
	switch (b % 4) {
	case 0: {
		uint32_t len = (uint32_t)in16(in) + (b & 0x80 ? 65536u : 0);

		while (len) {
			size_t n = len < sizeof(buf) ? len : sizeof(buf);

			memset(buf, b, n);
			if (send(fd, buf, n, MSG_NOSIGNAL) <= 0)
				break;
			len -= (uint32_t)n;
		}
		break;
	}
	case 1:
		for (int i = 0; i < 64 && read(fd, buf, sizeof(buf)) > 0; i++)
			;
		break;
	case 2:
		shutdown(fd, b & 0x80 ? SHUT_RD : SHUT_WR);
		break;
	case 3:
		for (unsigned i = 0; i < f.nkeep; i++)
			if (f.keep[i] == fd)
				f.keep[i] = -1;
		close(fd);
		break;
	}
}

static void close_keep(void)
{
	for (unsigned i = 0; i < f.nkeep; i++)
		if (f.keep[i] >= 0)
			close(f.keep[i]);
	f.nkeep = 0;
}

/* driver_up: reset (every connection the driver knew ends) and a fresh negotiation. */
static void driver_up(bool packed)
{
	vsg_up(&f.g, packed);
	CHECK(vstub_status(f.g.vp) & VS_S_DRIVER_OK);
	CHECK(f.g.vs->orphan_n == 0 && f.g.vs->held == 0);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		CHECK(f.g.vs->conn[i].state == VSOCK_FREE);	/* no listener: nothing survives */
	f.shape_bad = false;
	f.tx_head = f.tx_chains = f.tx_desc = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned ops = 0;

	if (!f.ready)
		setup();
	driver_up(in8(&in) & 1);
	close_keep();
	while (in.n && ops++ < 300) {
		uint8_t op = in8(&in);

		switch (op % 9) {
		case 0: case 1:
			tx(&in, false);
			break;
		case 2:
			tx(&in, true);
			break;
		case 3:
			post_rx(in8(&in));
			break;
		case 4:
			host(&in);
			break;
		case 5: case 6:
			run();
			collect();
			break;
		case 7:
			vsg_kick(&f.g, op & 0x80 ? VSOCK_TXQ : (op & 0x40 ? VSOCK_EVQ : VSOCK_RXQ));
			break;
		case 8:
			if ((op & 0xf0) == 0xf0) {
				driver_up(op & 1);
				close_keep();
			}
			break;
		}
	}
	/* Drain: with RX buffers plenty every TX chain is used, unless the device needs a reset. */
	for (int i = 0; i < 20; i++) {
		for (int k = 0; k < 8 && f.g.rx_posted < 64; k++)
			post_rx(0x1f);		/* 8 x 4096 bytes */
		vsg_kick(&f.g, VSOCK_TXQ);
		run();
		collect();
	}
	if (!vsg_needs_reset(&f.g))
		CHECK(f.tx_chains == 0 && !f.g.vs->tx_blocked);
	CHECK(vstub_irq.msi_bad == 0);
	return 0;
}
