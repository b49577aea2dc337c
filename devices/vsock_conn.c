/*
 * vsock_conn.c: one vsock connection, a guest stream socket relayed to a
 * host stream socket: the slot table, credit-based flow control both ways,
 * half-close, and the state machine of docs/VSOCK.md.
 *
 * Flow control (spec 5.10.6.3). Host to guest: the host socket is read
 * only while the guest grants credit (its buf_alloc minus what we sent
 * and it has not yet forwarded) and has an RX buffer, straight into that
 * buffer, so nothing from the host is ever held here; at zero credit the
 * watcher stops and CREDIT_REQUEST goes out, and the guest's next credit
 * news resumes it. Guest to host: the device advertises VSOCK_BUF_ALLOC;
 * what the host socket does not take at once waits in a ring of that size,
 * which the credit check keeps from overflowing (a guest that sends more
 * than it was granted gets RST); CREDIT_UPDATE goes out when the guest's
 * view is VSOCK_CREDIT_STALE bytes behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "vm.h"
#include "vsock_priv.h"

static void vsock_conn_on_read(struct ev_loop *ev, ev_io *w, int revents);
static void vsock_conn_on_write(struct ev_loop *ev, ev_io *w, int revents);

uint32_t vsock_conn_buffered(const struct vsock_conn *c)
{
	return c->rx_cnt - c->fwd_cnt;	/* mod 2^32: both counters wrap together */
}

/*
 * vsock_conn_peer_free: what we may still send the guest. Counters are
 * free-running mod 2^32, so the difference is right across a wrap. A guest
 * that reports more in flight than its buf_alloc (a shrunk buffer, or a
 * fwd_cnt ahead of what we sent) grants nothing rather than wrapping.
 */
static uint32_t vsock_conn_peer_free(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static struct ev_loop *vsock_conn_ev(const struct vsock_conn *c)
{
	return c->vs->vm->loop->ev;
}

/* vsock_conn_clear: an empty slot (watchers stopped, no fd). */
static void vsock_conn_clear(struct vsock_conn *c, struct vsock *vs)
{
	memset(c, 0, sizeof(*c));
	c->vs = vs;
	c->fd = -1;
}

struct vsock_conn *vsock_conn_new(struct vsock *vs, enum vsock_state state, int fd)
{
	struct vsock_conn *c = NULL;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS && !c; i++)
		if (vs->conn[i].state == VSOCK_FREE)
			c = &vs->conn[i];
	if (!c)
		return NULL;
	vsock_conn_clear(c, vs);
	c->state = state;
	c->fd = fd;
	ev_io_init(&c->rio, vsock_conn_on_read, fd, EV_READ);
	c->rio.data = c;
	ev_io_init(&c->wio, vsock_conn_on_write, fd, EV_WRITE);
	c->wio.data = c;
	vs->nr_conns++;
	return c;
}

struct vsock_conn *vsock_conn_find(struct vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &vs->conn[i];

		/* A HANDSHAKE slot has no ports yet: the guest cannot name it. */
		if (c->state != VSOCK_FREE && c->state != VSOCK_HANDSHAKE &&
		    c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

uint32_t vsock_conn_port(struct vsock *vs)
{
	/* Ends within VSOCK_MAX_CONNS + 1 tries: at most that many ports are taken. */
	for (;;) {
		uint32_t p = vs->next_port;
		bool taken = false;

		/* 0xffffffff is VMADDR_PORT_ANY: wrap before it. */
		vs->next_port = p >= UINT32_MAX - 1 ? VSOCK_PORT_MIN : p + 1;
		for (unsigned i = 0; i < VSOCK_MAX_CONNS && !taken; i++)
			taken = vs->conn[i].state != VSOCK_FREE && vs->conn[i].local_port == p;
		if (!taken)
			return p;
	}
}

/* vsock_conn_drop_buf: forget the guest bytes waiting for the host socket. */
static void vsock_conn_drop_buf(struct vsock_conn *c)
{
	c->vs->held -= vsock_conn_buffered(c);
	free(c->buf);
	c->buf = NULL;
	c->buf_head = 0;
	c->fwd_cnt = c->rx_cnt;
}

/* vsock_conn_close_fd: stop watching the host socket and close it. */
static void vsock_conn_close_fd(struct vsock_conn *c)
{
	ev_io_stop(vsock_conn_ev(c), &c->rio);
	ev_io_stop(vsock_conn_ev(c), &c->wio);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void vsock_conn_free(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;

	if (c->state == VSOCK_FREE)
		return;
	vsock_conn_close_fd(c);
	vsock_conn_drop_buf(c);
	vsock_conn_clear(c, vs);
	vs->nr_conns--;
	vsock_host_resume(vs);
}

void vsock_conn_reset(struct vsock_conn *c, bool clean)
{
	/* The guest never heard of it: nothing to tell, just go. */
	if (c->state == VSOCK_HANDSHAKE ||
	    (c->state == VSOCK_REQUEST && (c->ctl & VSOCK_CTL_REQUEST))) {
		vsock_conn_free(c);
		return;
	}
	if (c->state == VSOCK_CLOSING || c->state == VSOCK_FREE)
		return;
	vsock_conn_close_fd(c);
	vsock_conn_drop_buf(c);
	c->ctl = clean ? c->ctl | VSOCK_CTL_RST : VSOCK_CTL_RST;
	c->state = VSOCK_CLOSING;
	vsock_flush_later(c->vs);
}

void vsock_conn_ctl(struct vsock_conn *c, unsigned bits)
{
	c->ctl |= bits;
	vsock_flush_later(c->vs);
}

void vsock_conn_watch(struct vsock_conn *c)
{
	struct ev_loop *ev = vsock_conn_ev(c);
	bool rd = false, wr = false;

	if (c->fd < 0)
		return;
	if (c->state == VSOCK_HANDSHAKE) {
		rd = true;	/* the CONNECT line */
	} else if (c->state == VSOCK_OPEN) {
		wr = vsock_conn_buffered(c) > 0;
		rd = !c->host_eof && !(c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_RCV);
		if (rd && vsock_conn_peer_free(c) == 0) {
			/* No credit: stop reading and ask once; the guest's credit news resumes us. */
			rd = false;
			if (!c->credit_asked) {
				c->credit_asked = true;
				vsock_conn_ctl(c, VSOCK_CTL_CREDIT_REQUEST);
			}
		}
		if (c->vs->rx_starved)
			rd = false;	/* no RX buffer: an RX kick restarts every reader */
	}
	if (rd && !ev_is_active(&c->rio))
		ev_io_start(ev, &c->rio);
	else if (!rd && ev_is_active(&c->rio))
		ev_io_stop(ev, &c->rio);
	if (wr && !ev_is_active(&c->wio))
		ev_io_start(ev, &c->wio);
	else if (!wr && ev_is_active(&c->wio))
		ev_io_stop(ev, &c->wio);
}

void vsock_conn_credit(struct vsock_conn *c, const struct vsock_pkt *p)
{
	/* Only news clears the request latch, or every packet would ask again. */
	if (p->buf_alloc != c->peer_buf_alloc || p->fwd_cnt != c->peer_fwd_cnt)
		c->credit_asked = false;
	c->peer_buf_alloc = p->buf_alloc;
	c->peer_fwd_cnt = p->fwd_cnt;
	vsock_conn_watch(c);
}

void vsock_conn_open(struct vsock_conn *c, const struct vsock_pkt *p)
{
	c->state = VSOCK_OPEN;
	vsock_conn_credit(c, p);
}

/* vsock_conn_done: both directions are finished: close cleanly with RST (spec 5.10.6.5). */
static void vsock_conn_done(struct vsock_conn *c)
{
	bool out_done = (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) && vsock_conn_buffered(c) == 0;
	bool in_done = (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) || c->host_eof;

	if (c->state == VSOCK_OPEN && out_done && in_done)
		vsock_conn_reset(c, true);
}

/* vsock_conn_credit_news: tell the guest about freed space once its view is stale enough. */
static void vsock_conn_credit_news(struct vsock_conn *c)
{
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_CREDIT_STALE)
		vsock_conn_ctl(c, VSOCK_CTL_CREDIT_UPDATE);
}

/*
 * vsock_conn_iov: iovecs for bytes [off, off + len) of the chain's readable
 * (`write` false) or writable segments, which are checked guest memory.
 * Returns the count (at most the chain's segments).
 */
static int vsock_conn_iov(const struct virtq_chain *ch, bool write, uint32_t off, uint32_t len,
    struct iovec *iov)
{
	unsigned first = write ? ch->nread : 0, last = write ? ch->nseg : ch->nread;
	int n = 0;

	for (unsigned i = first; i < last && len; i++) {
		size_t seglen = ch->seg[i].iov.iov_len, take;

		if (off >= seglen) {
			off -= (uint32_t)seglen;
			continue;
		}
		take = seglen - off < len ? seglen - off : len;
		iov[n].iov_base = (uint8_t *)ch->seg[i].iov.iov_base + off;
		iov[n].iov_len = take;
		n++;
		len -= (uint32_t)take;
		off = 0;
	}
	return n;
}

static ssize_t vsock_conn_send(struct vsock_conn *c, struct iovec *iov, int cnt)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };

	/* No SIGPIPE from a host peer that went away: EPIPE resets the connection instead. */
	return sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static bool vsock_conn_again(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

int vsock_conn_rw(struct vsock_conn *c, const struct virtq_chain *ch, uint32_t len)
{
	struct iovec iov[VIRTQ_MAX_SIZE];
	uint32_t held = vsock_conn_buffered(c), sent = 0, pos, first;

	if (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND)
		return -EPIPE;
	/*
	 * The guest may have at most VSOCK_BUF_ALLOC bytes in flight past the
	 * fwd_cnt it last saw; summed in 64 bits. This is also what bounds
	 * the buffer below (fwd_cnt_sent <= fwd_cnt).
	 */
	if ((uint64_t)(c->rx_cnt - c->fwd_cnt_sent) + len > VSOCK_BUF_ALLOC)
		return -EDQUOT;
	if (len == 0)
		return 0;
	/*
	 * The counters and `held` move together at the end, only once the
	 * bytes are sent or kept: a reset on the way drops exactly what is held.
	 */
	if (held == 0) {
		ssize_t n = vsock_conn_send(c, iov, vsock_conn_iov(ch, false, VSOCK_HDR_LEN, len, iov));

		if (n < 0 && !vsock_conn_again(errno)) {
			vsock_conn_reset(c, false);	/* EPIPE etc.: the host end will not read */
			return 0;
		}
		sent = n > 0 ? (uint32_t)n : 0;
	}
	if (sent < len) {
		/* The rest waits; held + len <= VSOCK_BUF_ALLOC by the credit check. */
		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				vsock_conn_reset(c, false);
				return 0;
			}
			c->buf_head = 0;
		}
		pos = (c->buf_head + held) % VSOCK_BUF_ALLOC;
		first = len - sent < VSOCK_BUF_ALLOC - pos ? len - sent : VSOCK_BUF_ALLOC - pos;
		virtq_copy_from(ch, VSOCK_HDR_LEN + sent, c->buf + pos, first);
		virtq_copy_from(ch, VSOCK_HDR_LEN + sent + first, c->buf, len - sent - first);
	}
	c->rx_cnt += len;
	c->fwd_cnt += sent;
	c->vs->held += len - sent;
	vsock_conn_credit_news(c);
	vsock_conn_watch(c);
	return 0;
}

void vsock_conn_shutdown(struct vsock_conn *c, uint32_t flags)
{
	uint32_t news;

	flags &= VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;	/* other bits: ignored */
	news = flags & ~c->guest_shut;
	c->guest_shut |= flags;		/* permanent (5.10.6.5) */
	/* Half-close the host socket the same way: on AF_UNIX its peer's writes then fail with EPIPE. */
	if (news & VIRTIO_VSOCK_SHUTDOWN_RCV)
		shutdown(c->fd, SHUT_RD);
	/* The host reads EOF only after every byte the guest sent before it. */
	if ((news & VIRTIO_VSOCK_SHUTDOWN_SEND) && vsock_conn_buffered(c) == 0)
		shutdown(c->fd, SHUT_WR);
	vsock_conn_watch(c);
	vsock_conn_done(c);
}

/* vsock_conn_on_write: the host socket takes more: send what waits. */
static void vsock_conn_on_write(struct ev_loop *ev, ev_io *w, int revents)
{
	struct vsock_conn *c = w->data;
	uint32_t held = vsock_conn_buffered(c), first;
	struct iovec iov[2];
	ssize_t n;

	(void)ev; (void)revents;
	first = held < VSOCK_BUF_ALLOC - c->buf_head ? held : VSOCK_BUF_ALLOC - c->buf_head;
	iov[0] = (struct iovec){ c->buf + c->buf_head, first };
	iov[1] = (struct iovec){ c->buf, held - first };
	n = vsock_conn_send(c, iov, held > first ? 2 : 1);
	if (n < 0) {
		if (!vsock_conn_again(errno))
			vsock_conn_reset(c, false);
		return;
	}
	c->buf_head = (c->buf_head + (uint32_t)n) % VSOCK_BUF_ALLOC;
	c->fwd_cnt += (uint32_t)n;
	c->vs->held -= (uint32_t)n;
	if (vsock_conn_buffered(c) == 0) {
		vsock_conn_drop_buf(c);		/* empty: the memory goes back */
		if (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND)
			shutdown(c->fd, SHUT_WR);
	}
	vsock_conn_credit_news(c);
	vsock_conn_watch(c);
	vsock_conn_done(c);
}

/* vsock_conn_eof: the host will send no more: SHUTDOWN(SEND) after the data already sent. */
static void vsock_conn_eof(struct vsock_conn *c)
{
	c->host_eof = true;
	c->shut_sent |= VIRTIO_VSOCK_SHUTDOWN_SEND;
	vsock_conn_ctl(c, VSOCK_CTL_SHUTDOWN);
	vsock_conn_watch(c);
	vsock_conn_done(c);
}

/*
 * vsock_conn_pump: the host socket is readable: one packet straight into a
 * guest RX buffer, at most the guest's credit and VSOCK_MAX_PKT. One per
 * wakeup: the loop visits the other connections in between.
 */
static void vsock_conn_pump(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;
	struct iovec iov[VIRTQ_MAX_SIZE];
	uint32_t credit, want;
	ssize_t n;

	/* Replies it owes go first: data must not overtake RESPONSE. */
	if (c->ctl)
		vsock_rx_flush(vs);
	if (c->state != VSOCK_OPEN)
		return;
	credit = vsock_conn_peer_free(c);
	if (c->ctl || credit == 0 || vsock_rx_pop(vs) != 1) {
		vsock_conn_watch(c);	/* starved or no credit: the watcher stops */
		return;
	}
	want = vs->rx_chain.tok.write_len - VSOCK_HDR_LEN;
	if (want == 0) {
		/* A header-only buffer holds no data: spend it on credit news. */
		vsock_rx_send(vs, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0);
		return;
	}
	if (want > credit)
		want = credit;
	if (want > VSOCK_MAX_PKT)
		want = VSOCK_MAX_PKT;
	n = readv(c->fd, iov, vsock_conn_iov(&vs->rx_chain, true, VSOCK_HDR_LEN, want, iov));
	if (n > 0) {
		vsock_rx_send(vs, c, VIRTIO_VSOCK_OP_RW, 0, (uint32_t)n);
		c->tx_cnt += (uint32_t)n;
		vsock_conn_watch(c);
		return;
	}
	vsock_rx_unpop(vs);
	if (n == 0)
		vsock_conn_eof(c);
	else if (!vsock_conn_again(errno))
		vsock_conn_reset(c, false);	/* ECONNRESET and the like */
}

static void vsock_conn_on_read(struct ev_loop *ev, ev_io *w, int revents)
{
	struct vsock_conn *c = w->data;

	(void)ev; (void)revents;
	if (c->state == VSOCK_HANDSHAKE)
		vsock_host_line(c);
	else
		vsock_conn_pump(c);
}
