/*
 * virtio_vsock.c: virtio socket device (virtio 1.2, section 5.10), the
 * guest-facing half: the three queues, the packet header on TX, replies
 * and data on RX, the spec parser and the device's life cycle.
 * Connections live in vsock_conn.c, the host sockets in vsock_host.c.
 *
 * Every guest mistake has one outcome (docs/VSOCK.md "Hostile guests"):
 * a chain whose shape is wrong (writable TX buffers, no room for the
 * header, over the descriptor or byte limit; an RX buffer that is not
 * write-only or cannot hold a header) puts the device in NEEDS_RESET; a
 * well-formed chain whose header is wrong (length, op, type, CID, credit)
 * is answered with RST and logged once per episode. Back-pressure never
 * spins: replies the guest has no RX buffer for are owed (flags on the
 * connection, or a bounded queue of RSTs); when that queue is full, TX
 * rolls its chain back and waits for RX buffers.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "loop.h"
#include "vsock_priv.h"
#include "vm.h"

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_LEN, "vsock header size");

/* --- the spec --- */

int vsock_parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int vsock_parse_spec(const char *s, struct vsock_spec *spec, char *err, size_t errlen)
{
	bool have_path = false, have_cid = false;

	memset(spec, 0, sizeof(*spec));
	spec->cid = VSOCK_CID_DEFAULT;
	for (const char *opt = s; *s; ) {
		const char *end = strchr(opt, ',');
		size_t n = end ? (size_t)(end - opt) : strlen(opt);

		if (n > 5 && !strncmp(opt, "path=", 5) && !have_path) {
			if (n - 5 > VSOCK_PATH_MAX) {
				snprintf(err, errlen, "vsock '%.64s': path longer than %d bytes (the "
				    "socket for port N is PATH_N, and a socket path holds 107)",
				    s, VSOCK_PATH_MAX);
				return -1;
			}
			memcpy(spec->path, opt + 5, n - 5);
			have_path = true;
		} else if (n > 4 && !strncmp(opt, "cid=", 4) && !have_cid) {
			/* 0-2 are reserved or the host's, 0xffffffff is VMADDR_CID_ANY. */
			if (vsock_parse_u32(opt + 4, n - 4, &spec->cid) || spec->cid < 3 ||
			    spec->cid == UINT32_MAX) {
				snprintf(err, errlen, "vsock '%.64s': cid '%.*s' is not a number from "
				    "3 to 4294967294", s, (int)(n - 4), opt + 4);
				return -1;
			}
			have_cid = true;
		} else {
			snprintf(err, errlen, "vsock '%.64s': %s option '%.*s' (use path=SOCK,cid=N)",
			    s, (n > 5 && !strncmp(opt, "path=", 5)) || (n > 4 && !strncmp(opt, "cid=", 4)) ?
			    "repeated" : "unknown", (int)n, opt);
			return -1;
		}
		if (!end)
			break;
		opt = end + 1;
	}
	return 0;
}

/* --- header codec --- */

static void vsock_pkt_load(const struct virtq_chain *ch, struct vsock_pkt *p)
{
	struct virtio_vsock_hdr h;

	virtq_copy_from(ch, 0, &h, sizeof(h));	/* one copy: validation and use read the same bytes */
	p->src_cid = le64toh(h.src_cid);
	p->dst_cid = le64toh(h.dst_cid);
	p->src_port = le32toh(h.src_port);
	p->dst_port = le32toh(h.dst_port);
	p->len = le32toh(h.len);
	p->type = le16toh(h.type);
	p->op = le16toh(h.op);
	p->flags = le32toh(h.flags);
	p->buf_alloc = le32toh(h.buf_alloc);
	p->fwd_cnt = le32toh(h.fwd_cnt);
}

/* --- before the loop sleeps: owed packets and interrupts --- */

void vsock_irq_later(struct vsock *vs, unsigned q)
{
	vs->irq_pending[q] = true;
	vsock_flush_later(vs);
}

/* vsock_flush: before the loop sleeps: owed packets, then one interrupt per queue. */
static void vsock_flush(struct ev_loop *ev, ev_prepare *w, int revents)
{
	struct vsock *vs = w->data;

	(void)revents;
	ev_prepare_stop(ev, w);
	vsock_rx_flush(vs);
	for (unsigned q = 0; q < 2; q++) {
		if (vs->irq_pending[q]) {
			vs->irq_pending[q] = false;
			virtio_pci_interrupt(vs->vp, q);
		}
	}
}

void vsock_flush_later(struct vsock *vs)
{
	if (!ev_is_active(&vs->flush))
		ev_prepare_start(vs->vm->loop->ev, &vs->flush);
}

/* --- TX: what the guest sends --- */

/*
 * vsock_refuse: answer packet `p`, which has no connection, with RST.
 * 0, or -EAGAIN (roll back; counted when it is finally answered).
 */
static int vsock_refuse(struct vsock *vs, const struct vsock_pkt *p)
{
	int r = vsock_rx_rst(vs, p);

	if (r == 0)
		vs->cnt.refused++;
	return r;
}

/*
 * vsock_bad: a semantic fault in packet `p`: reset its connection, or
 * answer RST when it has none; counted and logged once per episode.
 * 0, or -EAGAIN (roll back, nothing counted yet).
 */
static int vsock_bad(struct vsock *vs, struct vsock_conn *c, const struct vsock_pkt *p,
    const char *why)
{
	if (c)
		vsock_conn_reset(c, false);
	else if (vsock_rx_rst(vs, p))
		return -EAGAIN;
	vs->cnt.bad_pkt++;
	log_guest(&vs->log_tx, "virtio-vsock: %s (op %u, type %u, len %u, port %u -> %u); RST",
	    why, p->op, p->type, p->len, p->src_port, p->dst_port);
	return 0;
}

/* vsock_request: the guest connects to host port p->dst_port. 0, or -EAGAIN to roll back. */
static int vsock_request(struct vsock *vs, struct vsock_conn *c, const struct vsock_pkt *p)
{
	int fd;

	if (c)		/* its ports are in use: a protocol error on that connection */
		return vsock_bad(vs, c, p, "REQUEST for a live connection");
	/*
	 * A refusal is answered from the RST queue: make sure of room before
	 * the connect, the packet's only side effect, so a roll-back never
	 * repeats it.
	 */
	if (vs->orphan_n == VSOCK_ORPHAN_MAX)
		return -EAGAIN;
	if (vs->nr_conns == VSOCK_MAX_CONNS)
		return vsock_refuse(vs, p);
	fd = vsock_host_connect(vs, p->dst_port);
	if (fd < 0)
		return vsock_refuse(vs, p);		/* room checked above */
	c = vsock_conn_new(vs, VSOCK_OPEN, fd);	/* a slot is free: checked above */
	c->local_port = p->dst_port;
	c->peer_port = p->src_port;
	vsock_conn_open(c, p);
	vsock_conn_ctl(c, VSOCK_CTL_RESPONSE);
	return 0;
}

/* vsock_packet: act on packet `p` of chain `ch`. 0 done, -EAGAIN roll back. */
static int vsock_packet(struct vsock *vs, const struct virtq_chain *ch, const struct vsock_pkt *p)
{
	struct vsock_conn *c;
	int r;

	/* The guest must send from its own CID (5.10.6.4); a reply could not reach it. */
	if (p->src_cid != vs->spec.cid) {
		vs->cnt.bad_cid++;
		log_guest(&vs->log_tx, "virtio-vsock: packet from CID %llu, not the guest's %u; "
		    "dropped", (unsigned long long)p->src_cid, vs->spec.cid);
		return 0;
	}
	c = vsock_conn_find(vs, p->dst_port, p->src_port);
	/* Never answer RST with RST: two peers could bounce them forever. */
	if (p->op == VIRTIO_VSOCK_OP_RST) {
		if (c)
			vsock_conn_free(c);
		return 0;
	}
	/* Only the host is reachable; an unknown type MUST get RST (5.10.6.4). */
	if (p->dst_cid != VSOCK_HOST_CID || p->type != VIRTIO_VSOCK_TYPE_STREAM)
		return vsock_refuse(vs, p);
	if (c && c->state == VSOCK_CLOSING) {
		vs->cnt.stale++;	/* sent before the guest saw our RST */
		return 0;
	}
	if (p->len > VSOCK_MAX_PKT)
		return vsock_bad(vs, c, p, "packet payload over 64 KiB");
	if (p->len > ch->read_len - VSOCK_HDR_LEN)
		return vsock_bad(vs, c, p, "header length past the end of the chain");
	if (p->op != VIRTIO_VSOCK_OP_RW && p->len)
		return vsock_bad(vs, c, p, "payload on a control packet");
	if (p->op == VIRTIO_VSOCK_OP_REQUEST)
		return vsock_request(vs, c, p);
	if (!c)
		return vsock_refuse(vs, p);
	/* Every packet of a stream carries the sender's credit (5.10.6.3.1). */
	vsock_conn_credit(c, p);
	switch (p->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_REQUEST || (c->ctl & VSOCK_CTL_REQUEST))
			return vsock_bad(vs, c, p, "RESPONSE without a REQUEST");
		if (vsock_host_ok(c) < 0) {
			vsock_conn_reset(c, false);
			return 0;
		}
		vsock_conn_open(c, p);
		return 0;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != VSOCK_OPEN)
			return vsock_bad(vs, c, p, "SHUTDOWN before the connection opened");
		vsock_conn_shutdown(c, p->flags);
		return 0;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != VSOCK_OPEN)
			return vsock_bad(vs, c, p, "data before the connection opened");
		r = vsock_conn_rw(c, ch, p->len);
		if (r == -EDQUOT)
			return vsock_bad(vs, c, p, "data beyond the credit the device gave");
		if (r == -EPIPE)
			return vsock_bad(vs, c, p, "data after the guest's SHUTDOWN(SEND)");
		return 0;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return 0;	/* the credit is taken above */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		vsock_conn_ctl(c, VSOCK_CTL_CREDIT_UPDATE);
		return 0;
	default:
		return vsock_bad(vs, c, p, "unknown op");
	}
}

/*
 * vsock_tx_one: one TX chain. Returns 0 when consumed, -EAGAIN when it
 * must wait (rolled back by the caller), -EPROTO when the device failed.
 */
static int vsock_tx_one(struct vsock *vs, struct virtq_chain *ch)
{
	struct vsock_pkt p;

	/* Shape first: without a readable header nothing in the chain can be trusted or answered. */
	if (ch->nread != ch->nseg) {
		virtio_pci_fail(vs->vp, "TX chain with device-writable buffers");
		return -EPROTO;
	}
	if (ch->nseg > VSOCK_TX_SEGS_MAX) {
		virtio_pci_fail(vs->vp, "TX chain with more descriptors than the limit");
		return -EPROTO;
	}
	if (ch->read_len < VSOCK_HDR_LEN) {
		virtio_pci_fail(vs->vp, "TX chain shorter than the 44-byte packet header");
		return -EPROTO;
	}
	if (ch->read_len > VSOCK_HDR_LEN + VSOCK_MAX_PKT) {
		virtio_pci_fail(vs->vp, "TX chain longer than a header and 64 KiB");
		return -EPROTO;
	}
	vsock_pkt_load(ch, &p);
	return vsock_packet(vs, ch, &p);
}

static void vsock_tx(struct vsock *vs)
{
	struct virtq *vq = virtio_pci_queue(vs->vp, VSOCK_TXQ);
	unsigned done = 0;

	if (!vq || vs->tx_blocked)
		return;
	for (;;) {
		int r;

		if (done == VSOCK_TX_BUDGET) {
			ev_idle_start(vs->vm->loop->ev, &vs->tx_more);	/* yield (HOSTILE S1) */
			break;
		}
		r = virtq_pop_armed(vq, &vs->tx_chain);
		if (r < 0) {
			virtio_pci_fail(vs->vp, vq->why);
			return;
		}
		if (r == 0)
			break;
		r = vsock_tx_one(vs, &vs->tx_chain);
		if (r == -EPROTO)
			return;
		if (r == -EAGAIN) {
			/*
			 * The RST queue is full: the packet waits in the ring, and so
			 * does TX, until RX buffers drain the queue (spec 5.10.6.1).
			 * No kick is wanted meanwhile; vsock_rx_flush restarts us.
			 */
			virtq_unpop(vq, &vs->tx_chain);
			virtq_kick_enable(vq, false);
			vs->tx_blocked = true;
			vs->cnt.tx_blocked++;
			break;
		}
		virtq_push(vq, &vs->tx_chain.tok, 0);
		done++;
	}
	if (done)
		vsock_irq_later(vs, VSOCK_TXQ);
}

static void vsock_tx_more(struct ev_loop *ev, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(ev, w);
	vsock_tx(w->data);
}

/* --- the virtio_ops --- */

static uint64_t vsock_features(void *dev)
{
	(void)dev;
	/* Streams only; NO_IMPLIED_STREAM is what the spec asks devices to offer. */
	return 1ull << VSOCK_F_STREAM | 1ull << VSOCK_F_NO_IMPLIED_STREAM;
}

static int vsock_features_ok(void *dev, uint64_t features)
{
	((struct vsock *)dev)->negotiated = features;
	return 0;
}

static void vsock_config_read(void *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct virtio_vsock_config cfg = { .guest_cid = htole64(((struct vsock *)dev)->spec.cid) };

	memcpy(buf, (uint8_t *)&cfg + off, len);	/* off + len <= config_size, checked by the transport */
}

static void vsock_config_write(void *dev, uint32_t off, const uint8_t *buf, uint32_t len)
{
	(void)dev; (void)off; (void)buf; (void)len;	/* guest_cid is read-only */
}

static void vsock_start(void *dev)
{
	struct vsock *vs = dev;

	vsock_rx_resume(vs);
	vsock_tx(vs);
}

static void vsock_notify(void *dev, unsigned q)
{
	struct vsock *vs = dev;
	struct virtq *vq;

	if (q == VSOCK_RXQ) {
		/* Buffers came: no more RX kicks until we run out (vsock_rx_pop asks again). */
		vq = virtio_pci_queue(vs->vp, VSOCK_RXQ);
		if (vq)
			virtq_kick_enable(vq, false);
		vsock_rx_resume(vs);
	} else if (q == VSOCK_TXQ) {
		vsock_tx(vs);
	}
	/* The event queue only holds buffers: the device sends no events. */
}

static bool vsock_reset(void *dev)
{
	struct vsock *vs = dev;
	struct ev_loop *ev = vs->vm->loop->ev;

	/*
	 * The old driver's connections end with it: their host sockets close
	 * (the host programs read EOF). Only what the guest never heard of
	 * survives: a host program still writing its CONNECT line, or one whose
	 * REQUEST is not delivered yet (the next driver gets it). Nothing is in
	 * flight: every host socket operation completes inside its call.
	 */
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &vs->conn[i];

		if (c->state == VSOCK_FREE || c->state == VSOCK_HANDSHAKE ||
		    (c->state == VSOCK_REQUEST && (c->ctl & VSOCK_CTL_REQUEST)))
			continue;
		vsock_conn_free(c);
	}
	vs->orphan_head = vs->orphan_n = 0;
	vs->tx_blocked = false;
	vs->rx_starved = true;		/* until start() */
	vs->irq_pending[0] = vs->irq_pending[1] = false;
	vs->negotiated = 0;
	ev_idle_stop(ev, &vs->tx_more);
	ev_prepare_stop(ev, &vs->flush);
	log_guest_rearm(&vs->log_tx);	/* a new driver: a new episode */
	return true;
}

const struct virtio_ops vsock_virtio_ops = {
	.name = "virtio-vsock",
	.device_id = VSOCK_DEVICE_ID,
	.pci_class = 0x078000,		/* communication controller, other */
	.num_queues = VSOCK_NQUEUES,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_vsock_config),
	.features = vsock_features,
	.features_ok = vsock_features_ok,
	.config_read = vsock_config_read,
	.config_write = vsock_config_write,
	.start = vsock_start,
	.queue_notify = vsock_notify,
	.reset = vsock_reset,
};

/* --- life cycle --- */

int vsock_create(struct vm *vm, const struct vsock_spec *spec, struct vsock **out)
{
	struct vsock *vs = calloc(1, sizeof(*vs));
	int r;

	if (!vs)
		return -ENOMEM;
	vs->vm = vm;
	vs->spec = *spec;
	vs->listen_fd = -1;
	vs->next_port = VSOCK_PORT_MIN;
	vs->rx_starved = true;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		vs->conn[i].vs = vs;
		vs->conn[i].fd = -1;
	}
	ev_idle_init(&vs->tx_more, vsock_tx_more);
	vs->tx_more.data = vs;
	ev_prepare_init(&vs->flush, vsock_flush);
	vs->flush.data = vs;
	r = vsock_host_listen(vs);
	if (r) {
		free(vs);
		return r;
	}
	r = virtio_pci_create(vm, &vsock_virtio_ops, vs, true, &vs->vp);
	if (r) {
		vsock_host_close(vs);
		free(vs);
		return r;
	}
	*out = vs;
	return 0;
}

void vsock_destroy(struct vsock *vs)
{
	struct ev_loop *ev;

	if (!vs)
		return;
	ev = vs->vm->loop->ev;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (vs->conn[i].state != VSOCK_FREE)
			vsock_conn_free(&vs->conn[i]);
	vsock_host_close(vs);
	ev_idle_stop(ev, &vs->tx_more);
	ev_prepare_stop(ev, &vs->flush);
	virtio_pci_destroy(vs->vp);
	free(vs);
}

int vsock_set_port_handler(struct vsock *vs, uint32_t port,
    int (*connect)(void *ctx, uint32_t port), void *ctx)
{
	struct vsock_handler *h = NULL;

	for (unsigned i = 0; i < vs->nr_handlers; i++)
		if (vs->handler[i].port == port)
			h = &vs->handler[i];
	if (!connect) {
		if (h)
			*h = vs->handler[--vs->nr_handlers];
		return 0;
	}
	if (!h) {
		if (vs->nr_handlers == VSOCK_MAX_HANDLERS)
			return -ENOSPC;
		h = &vs->handler[vs->nr_handlers++];
	}
	*h = (struct vsock_handler){ .port = port, .connect = connect, .ctx = ctx };
	return 0;
}

/* --- the device's entry in the device table (src/devices.c) --- */

static void vsock_usage(FILE *out)
{
	fputs("Socket device options (--vsock OPTION,...):\n"
	    "  path=SOCK          host programs connect to SOCK; guest port P reaches SOCK_P\n"
	    "  cid=N              the guest's context ID, 3 or more (default 3)\n", out);
}

static const struct device_option vsock_option = {
	.name = "vsock", .arg = "SPEC",
	.summary = "virtio socket device: [path=SOCK][,cid=N], options below",
	.max = 1, .noun = "socket devices", .usage = vsock_usage,
};

/* vsock_parse: the spec parses and its path may become a socket (nothing opened). */
static int vsock_parse(const char *text, unsigned index, void **conf, char *err, size_t errlen)
{
	struct vsock_spec *spec = calloc(1, sizeof(*spec));
	char why[300];

	(void)index;
	if (!spec)
		return -ENOMEM;
	if (vsock_parse_spec(text ? text : "", spec, err, errlen))
		goto bad;
	if (spec->path[0] && vsock_host_path_check(spec->path, why, sizeof(why))) {
		snprintf(err, errlen, "vsock '%.64s': %s", text, why);
		goto bad;
	}
	*conf = spec;
	return 0;
bad:
	free(spec);
	return -EINVAL;
}

static int vsock_dev_create(struct vm *vm, const void *conf, void **state, char *err,
    size_t errlen)
{
	struct vsock *vs;
	int r = vsock_create(vm, conf, &vs);

	if (r) {
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	/* Connections, each handler's session end, and one accepted socket in passing. */
	vm->runtime_fds += VSOCK_MAX_CONNS + VSOCK_MAX_HANDLERS + 1;
	*state = vs;
	return 0;
}

static int vsock_dev_destroy(struct vm *vm, void *state)
{
	(void)vm;
	vsock_destroy(state);
	return 0;
}

/* No describe hook: PCI enumeration finds the device. */
const struct device_ops vsock_ops = {
	.name = "virtio-vsock",
	.option = &vsock_option,
	.parse = vsock_parse,
	.create = vsock_dev_create,
	.destroy = vsock_dev_destroy,
};
