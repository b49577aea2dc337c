/*
 * test_vsock_flow.c: the virtio-vsock device against docs/VSOCK.md, second
 * half: credit both ways (a guest that never grants credit, a guest that
 * sends beyond ours, CREDIT_UPDATE when our fwd_cnt moved), counters
 * wrapping at 2^32, the connection cap with guest and host connections, an
 * RST storm against a full reply queue, and device reset with live
 * connections. Every check that could grow memory counts the bytes held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_vsock.h"

/* fill: write pattern `seed` to `fd` until it would block. Returns bytes written. */
static size_t fill(int fd, unsigned seed)
{
	static uint8_t chunk[16384];
	size_t total = 0;

	for (;;) {
		ssize_t n;

		pattern(chunk, sizeof(chunk), seed, total);
		n = write(fd, chunk, sizeof(chunk));
		if (n <= 0)
			return total;
		total += (size_t)n;
	}
}

/* collect: run and gather RW payload for (src, dst) into buf; counts other ops in `ops`. */
static size_t collect(struct vsg *g, uint32_t src, uint32_t dst, uint8_t *buf, size_t cap,
    unsigned ops[16])
{
	struct vsg_pkt p;
	size_t got = 0;

	for (int round = 0; round < 4; round++) {
		while (rx_next(g, &p)) {
			if (p.h.op < 16)
				ops[p.h.op]++;
			if (buf && p.h.op == VIRTIO_VSOCK_OP_RW && p.h.src_port == src &&
			    p.h.dst_port == dst && got + p.h.len <= cap) {
				memcpy(buf + got, p.data, p.h.len);
				got += p.h.len;
			}
		}
		/* Keep RX stocked so only credit can hold the device back. */
		if (g->rx_posted < 32)
			vsg_post_rx(g, 32, 4096);
	}
	return got;
}

static bool same_pattern(const uint8_t *p, size_t len, unsigned seed, size_t off)
{
	uint8_t want[4096];

	for (size_t done = 0; done < len; ) {
		size_t n = len - done < sizeof(want) ? len - done : sizeof(want);

		pattern(want, n, seed, off + done);
		if (memcmp(p + done, want, n))
			return false;
		done += n;
	}
	return true;
}

/* --- host -> guest: the guest's credit --- */

static void test_credit_never(void)
{
	static uint8_t got[65536];
	unsigned ops[16] = { 0 };
	struct vsock_conn *c;
	struct vsg g;
	size_t wrote, n;
	int lfd, hfd;

	fx_init(&g, true);
	lfd = srv_listen(2000);
	guest_connect(&g, 2000, 100, 8192);	/* the guest grants 8 KiB and never more */
	hfd = srv_accept(lfd);
	c = conn_of(&g, 2000, 100);
	wrote = fill(hfd, 5);
	n = collect(&g, 2000, 100, got, sizeof(got), ops);
	UNIT_OK(&u, n == 8192 && same_pattern(got, n, 5, 0),
	    "no credit: exactly the 8 KiB granted reach the guest, intact");
	UNIT_OK(&u, ops[VIRTIO_VSOCK_OP_CREDIT_REQUEST] == 1, "no credit: one CREDIT_REQUEST, not one per wakeup");
	UNIT_OK(&u, g.vs->held == 0 && !ev_is_active(&c->rio) && wrote > 8192,
	    "no credit: the device holds 0 bytes and stops reading; the rest stays in the host socket");
	memset(ops, 0, sizeof(ops));
	n = collect(&g, 2000, 100, got, sizeof(got), ops);
	UNIT_OK(&u, n == 0 && ops[VIRTIO_VSOCK_OP_CREDIT_REQUEST] == 0, "no credit: nothing more, asked once");
	/* The guest's CREDIT_UPDATE resumes it exactly by what it frees. */
	tx_ctl(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 100, 2000, 0, 8192, 4096);
	n = collect(&g, 2000, 100, got, sizeof(got), ops);
	UNIT_OK(&u, n == 4096 && same_pattern(got, n, 5, 8192) && ops[VIRTIO_VSOCK_OP_CREDIT_REQUEST] == 1,
	    "CREDIT_UPDATE fwd_cnt 4096: 4096 more bytes, then asked again");
	/* A guest whose fwd_cnt runs ahead of what it got gains nothing. */
	tx_ctl(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 100, 2000, 0, 8192, 12288 + 100);
	n = collect(&g, 2000, 100, got, sizeof(got), ops);
	UNIT_OK(&u, n == 0 && g.vs->held == 0, "fwd_cnt past what we sent: no credit (no wrap to 4 GiB)");
	close(hfd);
	close(lfd);
	vsg_fini(&g);
}

/* --- guest -> host: our credit --- */

static void test_credit_ours(void)
{
	static uint8_t blob[4 * VSOCK_MAX_PKT], back[4 * VSOCK_MAX_PKT];
	struct hpair h = { .sndbuf = 4096 };
	unsigned ops[16] = { 0 }, lines;
	struct vsock_conn *c;
	struct vsg g;
	struct vsg_pkt p;
	size_t got = 0;
	bool eof, ok = true;
	uint64_t peak = 0;

	fx_init(&g, false);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	guest_connect(&g, 5, 300, GBUF);
	c = conn_of(&g, 5, 300);
	pattern(blob, sizeof(blob), 9, 0);
	/* Exactly the credit: 4 x 64 KiB while the host end reads nothing. */
	for (int i = 0; i < 4; i++) {
		tx_data(&g, 300, 5, blob + i * VSOCK_MAX_PKT, VSOCK_MAX_PKT, GBUF, 0);
		vsg_run(&g);
		peak = g.vs->held > peak ? g.vs->held : peak;
		ok = ok && g.vs->held == vsock_conn_buffered(c);
	}
	UNIT_OK(&u, ok && c->rx_cnt == VSOCK_BUF_ALLOC && peak <= VSOCK_BUF_ALLOC && g.vs->held > 0 &&
	    c->fwd_cnt + vsock_conn_buffered(c) == VSOCK_BUF_ALLOC,
	    "guest sends exactly its 256 KiB credit: the rest of what the host takes is buffered, <= 256 KiB");
	vf_stderr_begin();
	tx_data(&g, 300, 5, "!", 1, GBUF, 0);
	ok = rx_is(&g, &p, VIRTIO_VSOCK_OP_RST, 5, 300);
	lines = vf_stderr_end(NULL, 0);
	UNIT_OK(&u, ok && lines == 1 && g.vs->cnt.bad_pkt == 1 && g.vs->held == 0 && !conn_of(&g, 5, 300),
	    "one byte beyond the credit: RST, one log line, buffer freed");
	got = host_drain(h.keep[0], back, sizeof(back), &eof);
	UNIT_OK(&u, eof && got > 0 && same_pattern(back, got, 9, 0), "the host end reads what was written, then EOF");
	/* Draining the host end moves fwd_cnt; CREDIT_UPDATE once the guest's view is 128 KiB stale. */
	guest_connect(&g, 5, 301, GBUF);
	c = conn_of(&g, 5, 301);
	for (int i = 0; i < 3; i++)
		tx_data(&g, 301, 5, blob + i * VSOCK_MAX_PKT, VSOCK_MAX_PKT, GBUF, 0);
	vsg_run(&g);
	got = 0;
	for (int i = 0; i < 200 && got < 3 * VSOCK_MAX_PKT; i++) {
		got += host_drain(h.keep[1], back + got, sizeof(back) - got, &eof);
		collect(&g, 5, 301, NULL, 0, ops);
	}
	UNIT_OK(&u, got == 3 * VSOCK_MAX_PKT && same_pattern(back, got, 9, 0) && g.vs->held == 0,
	    "192 KiB through a slow host socket arrive intact; nothing stays buffered");
	UNIT_OK(&u, ops[VIRTIO_VSOCK_OP_CREDIT_UPDATE] >= 1 && c->fwd_cnt_sent >= VSOCK_CREDIT_STALE &&
	    c->fwd_cnt - c->fwd_cnt_sent < VSOCK_CREDIT_STALE,
	    "CREDIT_UPDATE tells the guest once 128 KiB were forwarded");
	tx_ctl(&g, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 301, 5, 0, GBUF, 0);
	ok = rx_is(&g, &p, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5, 301) && p.h.fwd_cnt == 3 * VSOCK_MAX_PKT &&
	    p.h.buf_alloc == VSOCK_BUF_ALLOC;
	UNIT_OK(&u, ok, "CREDIT_REQUEST: answered with fwd_cnt 192 KiB, buf_alloc 256 KiB");
	hpair_close(&h);
	vsg_fini(&g);
}

/* --- counters across 2^32 --- */

static void test_wrap(void)
{
	static uint8_t got[16384], blob[VSOCK_MAX_PKT];
	struct hpair h = { .sndbuf = 4096 };
	unsigned ops[16] = { 0 };
	struct vsock_conn *c;
	struct vsg g;
	struct vsg_pkt p;
	size_t n;
	bool ok = true;

	fx_init(&g, false);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	guest_connect(&g, 5, 400, 0);		/* no credit yet */
	collect(&g, 5, 400, got, 0, ops);	/* its CREDIT_REQUEST */
	c = conn_of(&g, 5, 400);
	c->tx_cnt = 0xfffff000u;		/* as if 4 GiB - 4 KiB had been sent */
	tx_ctl(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 400, 5, 0, 8192, 0xfffff000u);
	if (write(h.keep[0], blob, 12288) != 12288)
		abort();
	n = collect(&g, 5, 400, got, sizeof(got), ops);
	UNIT_OK(&u, n == 8192 && c->tx_cnt == 0x1000, "host -> guest: tx_cnt wraps past 2^32, credit still 8 KiB");
	tx_ctl(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 400, 5, 0, 8192, 0x1000);
	n = collect(&g, 5, 400, got, sizeof(got), ops);
	UNIT_OK(&u, n == 4096 && c->tx_cnt == 0x2000, "guest fwd_cnt wrapped too: the last 4 KiB flow");
	/* Guest -> host across the wrap, then exactly at and past the credit. */
	c->rx_cnt = c->fwd_cnt = c->fwd_cnt_sent = 0xffffff00u;
	for (int i = 0; i < 4; i++) {
		tx_data(&g, 400, 5, blob, VSOCK_MAX_PKT, 8192, 0x2000);
		vsg_run(&g);
		ok = ok && !vsg_needs_reset(&g) && conn_of(&g, 5, 400) && g.vs->held <= VSOCK_BUF_ALLOC;
	}
	UNIT_OK(&u, ok && c->rx_cnt == 0x3ff00 && vsock_conn_buffered(c) == g.vs->held,
	    "guest -> host: rx_cnt wraps, 256 KiB accepted, held bytes counted right");
	vf_stderr_begin();
	tx_data(&g, 400, 5, blob, 1, 8192, 0x2000);
	ok = rx_is(&g, &p, VIRTIO_VSOCK_OP_RST, 5, 400) && g.vs->held == 0;
	vf_stderr_end(NULL, 0);
	UNIT_OK(&u, ok, "guest -> host: one byte past the credit across the wrap: RST");
	hpair_close(&h);
	vsg_fini(&g);
}

/* --- the connection cap --- */

static void test_flood(void)
{
	struct hpair h = { 0 };
	struct vsg g;
	struct vsg_pkt p;
	uint8_t buf[8];
	unsigned base, opened = 0;
	bool eof;
	int fd;

	fx_init(&g, true);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	base = vf_open_fds();
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++) {
		opened += guest_connect(&g, 5, 1000 + i, GBUF);
		if (g.rx_posted < 8)
			vsg_post_rx(&g, 32, 4096);
	}
	UNIT_OK(&u, opened == VSOCK_MAX_CONNS && g.vs->nr_conns == VSOCK_MAX_CONNS, "64 guest connections open");
	tx_ctl(&g, VIRTIO_VSOCK_OP_REQUEST, 2000, 5, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, VIRTIO_VSOCK_OP_RST, 5, 2000) && h.n == VSOCK_MAX_CONNS &&
	    g.vs->cnt.refused == 1, "the 65th: RST, the handler is not even asked");
	fd = host_dial();
	vsg_run(&g);
	UNIT_OK(&u, host_drain(fd, buf, sizeof(buf), &eof) == 0 && eof && g.vs->cnt.host_refused == 1,
	    "a host program at the cap: accepted and closed at once (EOF)");
	close(fd);
	tx_ctl(&g, VIRTIO_VSOCK_OP_RST, 1000, 5, 0, 0, 0);
	UNIT_OK(&u, guest_connect(&g, 5, 2001, GBUF), "one connection reset: the next one fits");
	/* Host programs in their handshake count too. */
	tx_ctl(&g, VIRTIO_VSOCK_OP_RST, 1001, 5, 0, 0, 0);
	fd = host_dial();
	vsg_run(&g);
	tx_ctl(&g, VIRTIO_VSOCK_OP_REQUEST, 2002, 5, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, VIRTIO_VSOCK_OP_RST, 5, 2002) && g.vs->nr_conns == VSOCK_MAX_CONNS,
	    "a host program still writing its line holds a slot");
	close(fd);
	vsg_run(&g);
	UNIT_OK(&u, g.vs->nr_conns == VSOCK_MAX_CONNS - 1, "and gives it back when it leaves");
	for (uint32_t i = 2; i < VSOCK_MAX_CONNS; i++)
		tx_ctl(&g, VIRTIO_VSOCK_OP_RST, 1000 + i, 5, 0, 0, 0);
	tx_ctl(&g, VIRTIO_VSOCK_OP_RST, 2001, 5, 0, 0, 0);
	vsg_run(&g);
	hpair_close(&h);
	UNIT_OK(&u, g.vs->nr_conns == 0 && vf_open_fds() == base,
	    "all reset by the guest: no slot and no fd left");
	vsg_fini(&g);
}

/* --- the listener out of file descriptors --- */

static void test_accept_pause(void)
{
	struct rlimit old, low;
	struct vsg g;
	struct vsg_pkt p;
	char last[256];
	unsigned lines;
	bool ok;
	int fd;

	fx_init(&g, true);
	fd = host_dial();		/* its fd exists before the limit drops */
	vf_stderr_begin();
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)dup(0);	/* the lowest free fd: accept4 needs it, EMFILE */
	close((int)low.rlim_cur);
	setrlimit(RLIMIT_NOFILE, &low);
	vsg_run(&g);
	lines = vf_stderr_end(last, sizeof(last));
	setrlimit(RLIMIT_NOFILE, &old);
	ok = g.vs->listen_paused && !ev_is_active(&g.vs->listen_io) && lines == 1 && strstr(last, "pausing");
	UNIT_OK(&u, ok, "accept fails with EMFILE: the listener pauses (one line), no level-triggered spin");
	if (write(fd, "CONNECT 5\n", 10) != 10)
		abort();
	usleep(1100 * 1000);		/* the retry timer: 1 s */
	vsg_run(&g);
	ok = !g.vs->listen_paused && rx_is(&g, &p, VIRTIO_VSOCK_OP_REQUEST, 1024, 5);
	UNIT_OK(&u, ok, "after the retry the waiting program is accepted and served");
	close(fd);
	vsg_run(&g);
	vsg_fini(&g);
}

/* --- RST storms --- */

static void test_storm(void)
{
	struct vsg g;
	struct vsg_pkt p;
	unsigned used = 0, rsts = 0, n = 200;
	bool ok;

	fx_init(&g, false);
	vsg_up(&g, false);			/* fresh rings: no RX buffer at all */
	for (uint32_t i = 0; i < n; i++) {
		struct vsock_pkt h = { .src_port = 10000 + i, .dst_port = 9, .op = VIRTIO_VSOCK_OP_REQUEST };
		uint8_t hdr[VSOCK_HDR_LEN];
		struct vf_seg s;

		h.src_cid = VSG_CID;
		h.dst_cid = 2;
		h.type = 1;
		vsg_hdr(&h, hdr);
		s = (struct vf_seg){ vsg_txmem(&g, hdr, VSOCK_HDR_LEN), VSOCK_HDR_LEN, false };
		vf_chain(&g.q[VSOCK_TXQ], &s, 1);
	}
	vsg_kick(&g, VSOCK_TXQ);
	vsg_run(&g);
	used = vsg_tx_used(&g);
	UNIT_OK(&u, used == VSOCK_ORPHAN_MAX && g.vs->orphan_n == VSOCK_ORPHAN_MAX && g.vs->tx_blocked,
	    "200 REQUESTs to a closed port, no RX buffers: 64 taken, RSTs queued, TX stops");
	for (int i = 0; i < 5; i++)
		vsg_kick(&g, VSOCK_TXQ);
	vsg_run(&g);
	UNIT_OK(&u, vsg_tx_used(&g) == 0 && g.vs->orphan_n == VSOCK_ORPHAN_MAX,
	    "TX kicks meanwhile take nothing more (no growth, no spin)");
	for (int round = 0; round < 10 && rsts < n; round++) {
		vsg_post_rx(&g, 50, 256);
		vsg_run(&g);
		used += vsg_tx_used(&g);
		while (vsg_rx(&g, &p) == 1)
			rsts += p.h.op == VIRTIO_VSOCK_OP_RST && p.h.src_port == 9;
	}
	UNIT_OK(&u, rsts == n && used == n && g.vs->orphan_n == 0 && !g.vs->tx_blocked,
	    "RX buffers posted: every REQUEST answered with RST, TX resumed");
	/* A storm of RSTs for nothing: no replies, no state. */
	vsg_post_rx(&g, 16, 256);
	for (int round = 0; round < 5; round++) {
		for (uint32_t i = 0; i < 200; i++)
			tx_ctl(&g, VIRTIO_VSOCK_OP_RST, 20000 + i, 9, 0, 0, 0);
		vsg_run(&g);
		vsg_tx_used(&g);
	}
	ok = vsg_rx(&g, &p) == 0 && g.vs->orphan_n == 0 && g.vs->nr_conns == 0 && !vsg_needs_reset(&g);
	UNIT_OK(&u, ok, "1000 RSTs for no connection: nothing answered, nothing kept");
	vsg_fini(&g);
}

/* --- RX buffers with room for a header only --- */

static void test_tiny_rx(void)
{
	struct hpair h = { 0 };
	struct vsg g;
	struct vsg_pkt p;
	unsigned credit = 0, other = 0;

	fx_init(&g, false);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	vsg_up(&g, false);
	vsg_post_rx(&g, 1, 4096);		/* for the RESPONSE only */
	guest_connect(&g, 5, 501, GBUF);
	vsg_post_rx(&g, 8, VSOCK_HDR_LEN);
	if (write(h.keep[0], "data", 4) != 4)
		abort();
	while (rx_next(&g, &p)) {
		credit += p.h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE && p.h.len == 0;
		other += p.h.op != VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	}
	UNIT_OK(&u, credit == 8 && other == 0 && g.rx_posted == 0 && conn_of(&g, 5, 501)->tx_cnt == 0 &&
	    !vsg_needs_reset(&g), "44-byte RX buffers while data waits: each spent on a CREDIT_UPDATE");
	vsg_post_rx(&g, 1, 4096);
	UNIT_OK(&u, rx_is(&g, &p, VIRTIO_VSOCK_OP_RW, 5, 501) && p.h.len == 4,
	    "then a real buffer gets the data");
	hpair_close(&h);
	vsg_fini(&g);
}

/* --- device reset with live connections --- */

static void test_reset(void)
{
	static uint8_t blob[VSOCK_MAX_PKT];
	struct hpair h = { .sndbuf = 4096 };
	struct vsg g;
	struct vsg_pkt p;
	uint8_t buf[64];
	bool eof, e1, e2, e3, ok;
	int lfd, u1, hc, hs, hq;
	unsigned base;

	fx_init(&g, true);
	base = vf_open_fds();
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	lfd = srv_listen(3000);
	guest_connect(&g, 3000, 1, GBUF);
	u1 = srv_accept(lfd);
	guest_connect(&g, 5, 2, GBUF);
	tx_data(&g, 2, 5, blob, sizeof(blob), GBUF, 0);	/* mostly buffered: the pair reads nothing */
	hc = host_dial();
	if (write(hc, "CONNECT 77\n", 11) != 11)
		abort();
	rx_is(&g, &p, VIRTIO_VSOCK_OP_REQUEST, 1024, 77);
	tx_ctl(&g, VIRTIO_VSOCK_OP_RESPONSE, 77, 1024, 0, GBUF, 0);
	hs = host_dial();			/* in its handshake: the guest never heard of it */
	if (write(hs, "CONN", 4) != 4)
		abort();
	vsg_run(&g);
	UNIT_OK(&u, g.vs->nr_conns == 4 && g.vs->held > 0, "before reset: 3 open connections, one handshake, bytes held");
	vstub_bar_write(g.vp, VS_STATUS, 0, 1);
	vsg_run(&g);
	host_drain(u1, buf, sizeof(buf), &e1);
	host_drain(h.keep[0], buf, sizeof(buf), &e2);
	host_drain(hc, buf, sizeof(buf), &e3);
	UNIT_OK(&u, e1 && e2 && e3 && vstub_status(g.vp) == 0,
	    "reset: the host ends of all three read EOF; status reads 0 at once");
	UNIT_OK(&u, g.vs->nr_conns == 1 && g.vs->held == 0, "reset: only the handshake survives; nothing held");
	/* A host program that asks while no driver runs is served by the next one. */
	hq = host_dial();
	if (write(hq, "CONNECT 78\n", 11) != 11)
		abort();
	vsg_run(&g);
	vsg_up(&g, false);
	vsg_post_rx(&g, 16, 4096);
	ok = rx_is(&g, &p, VIRTIO_VSOCK_OP_REQUEST, 1025, 78);
	UNIT_OK(&u, ok, "a CONNECT made during the reset reaches the new driver");
	if (write(hs, "ECT 79\n", 7) != 7)
		abort();
	UNIT_OK(&u, rx_is(&g, &p, VIRTIO_VSOCK_OP_REQUEST, 1026, 79), "the surviving handshake completes");
	/* The event queue only holds buffers. */
	{
		struct vf_seg s = { vf_alloc(&g.q[VSOCK_EVQ], 4, 0), 4, true };
		uint32_t id, len;

		vf_chain(&g.q[VSOCK_EVQ], &s, 1);
		vsg_kick(&g, VSOCK_EVQ);
		vsg_run(&g);
		UNIT_OK(&u, vf_used_next(&g.q[VSOCK_EVQ], &id, &len) == 0 && !vsg_needs_reset(&g),
		    "event queue: buffers are accepted and kept");
	}
	close(u1);
	close(hc);
	close(hs);
	close(hq);
	close(lfd);
	hpair_close(&h);
	vsg_run(&g);
	ok = vf_open_fds() <= base + 2;		/* the two surviving REQUEST slots */
	vsg_up(&g, false);
	vsg_run(&g);
	UNIT_OK(&u, ok && g.vs->nr_conns == 0 && vf_open_fds() == base, "no fd leaks once everything is gone");
	(void)eof;
	vsg_fini(&g);
}

void test_flow_all(void)
{
	test_credit_never();
	test_credit_ours();
	test_wrap();
	test_flood();
	test_accept_pause();
	test_storm();
	test_tiny_rx();
	test_reset();
}
