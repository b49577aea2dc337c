/*
 * virtio_net.c: virtio network device (virtio 1.2, section 5.1), one RX and
 * one TX queue, in front of a backend from netbackends/ (TAP, libslirp or
 * none).
 *
 * Every limit is specified (virtio_net.h) and every guest mistake has one
 * outcome (HOSTILE.md 2e): a frame the device cannot use is dropped and
 * counted and its buffer published as used with length 0; a ring the walker
 * finds malformed, or a chain in the malicious band, puts the device in
 * DEVICE_NEEDS_RESET. Back-pressure in both directions waits for readiness
 * and never spins: a TX chain the backend cannot take is rolled back into the
 * ring, and an RX frame with no guest buffer stays with the backend, which
 * stops reading until the guest posts buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "device.h"
#include "log.h"
#include "loop.h"
#include "virtio_net.h"
#include "vm.h"

/* Offloads that need a backend passing virtio_net_hdr through (TAP). */
#define VNET_OFFLOADS (1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM | \
	1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 | \
	1ull << VIRTIO_NET_F_HOST_ECN | 1ull << VIRTIO_NET_F_GUEST_TSO4 | \
	1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN)

static bool vnet_has(const struct vnet *n, unsigned bit)
{
	return n->negotiated & (1ull << bit);
}

static int vnet_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	unsigned v[6];
	char buf[18], tail;

	if (len != 17)
		return -1;
	memcpy(buf, s, 17);
	buf[17] = '\0';
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
	    &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A multicast source address would confuse every switch it meets. */
	return (mac[0] & 1) ? -1 : 0;
}

int vnet_parse_spec(const char *s, unsigned index, struct vnet_spec *spec, char *err,
    size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t nlen = comma ? (size_t)(comma - s) : strlen(s), used = 0;
	char names[64];

	memset(spec, 0, sizeof(*spec));
	spec->backend = net_backend_find(s, nlen);
	if (!spec->backend) {
		snprintf(err, errlen, "net '%.64s': unknown backend '%.*s' (use %s)",
		    s, (int)nlen, s, net_backend_names(names, sizeof(names)));
		return -1;
	}
	/* QEMU's default prefix 52:54:00, numbered by the order of -n options. */
	memcpy(spec->mac, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 6);
	spec->mac[5] = (uint8_t)(0x56 + index);
	for (const char *p = comma; p && *p; ) {
		const char *opt = p + 1, *end = strchr(opt, ',');
		size_t n = end ? (size_t)(end - opt) : strlen(opt);

		if (n > 4 && !strncmp(opt, "mac=", 4)) {
			if (vnet_parse_mac(opt + 4, n - 4, spec->mac)) {
				snprintf(err, errlen, "net '%.64s': mac '%.*s' is not a unicast "
				    "address like 52:54:00:12:34:56", s, (int)(n - 4), opt + 4);
				return -1;
			}
		} else if (n == 10 && !strncmp(opt, "ring=split", n)) {
			spec->split_only = true;
		} else if (n == 11 && !strncmp(opt, "ring=packed", n)) {
			spec->split_only = false;
		} else {
			/* Everything else belongs to the backend, in order. */
			if (used + n + 2 > sizeof(spec->backend_opts)) {
				snprintf(err, errlen, "net '%.64s': options too long", s);
				return -1;
			}
			if (used)
				spec->backend_opts[used++] = ',';
			memcpy(spec->backend_opts + used, opt, n);
			used += n;
			spec->backend_opts[used] = '\0';
		}
		p = end;
	}
	return 0;
}

/* vnet_kick: raise the queue's interrupt once per loop iteration, not per frame. */
static void vnet_irq_flush(struct ev_loop *ev, ev_prepare *w, int revents)
{
	struct vnet *n = w->data;

	(void)revents;
	ev_prepare_stop(ev, w);
	for (unsigned q = 0; q < 2; q++) {
		if (n->irq_pending[q]) {
			n->irq_pending[q] = false;
			virtio_pci_interrupt(n->vp, q);
		}
	}
}

static void vnet_irq_later(struct vnet *n, unsigned q)
{
	n->irq_pending[q] = true;
	if (!ev_is_active(&n->irq_flush))
		ev_prepare_start(n->vm->loop->ev, &n->irq_flush);
}

/*
 * vnet_tx_header: check and sanitise the driver's header for a backend that
 * takes one (N5). Offload fields the driver did not negotiate are cleared,
 * never trusted; negotiated ones are checked against the frame before the
 * host kernel sees them. Returns 0, or -1 to drop the frame.
 */
static int vnet_tx_header(struct vnet *n, struct virtio_net_hdr_v1 *h, uint32_t frame_len)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	h->num_buffers = 0;	/* the driver MUST set 0; the host must not read it */
	if (!vnet_has(n, VIRTIO_NET_F_CSUM)) {
		memset(h, 0, sizeof(*h));
		return 0;
	}
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
		return -1;
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		h->csum_start = h->csum_offset = 0;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		h->gso_size = h->hdr_len = 0;	/* meaningless without GSO: never passed on */
		return 0;
	}
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !vnet_has(n, VIRTIO_NET_F_HOST_ECN))
		return -1;
	if (!(gso == VIRTIO_NET_HDR_GSO_TCPV4 && vnet_has(n, VIRTIO_NET_F_HOST_TSO4)) &&
	    !(gso == VIRTIO_NET_HDR_GSO_TCPV6 && vnet_has(n, VIRTIO_NET_F_HOST_TSO6)))
		return -1;
	if (h->gso_size == 0 || h->hdr_len > frame_len || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return -1;
	return 0;
}

/*
 * vnet_tx_one: send the chain in n->tx_chain. Returns 0 when it was consumed
 * (sent or dropped), -EAGAIN when the backend is full (the caller rolls the
 * chain back), -EPROTO when the chain is malicious (the device is failed).
 */
static int vnet_tx_one(struct vnet *n, struct virtq_chain *c)
{
	struct virtio_net_hdr_v1 h;
	uint32_t frame_len, skip = VNET_HDR_LEN;
	int cnt = 0, r;

	if (c->nseg > VNET_TX_SEGS_DROP) {
		virtio_pci_fail(n->vp, "virtio-net: TX chain with more descriptors than the limit");
		return -EPROTO;
	}
	if (c->read_len > VNET_TX_BYTES_DROP) {
		virtio_pci_fail(n->vp, "virtio-net: TX chain longer than the limit");
		return -EPROTO;
	}
	/* N4: a TX chain is all device-readable; N1: header plus an Ethernet header. */
	if (c->nread != c->nseg || c->read_len < VNET_HDR_LEN + 14) {
		n->cnt.tx_malformed++;
		log_guest(&n->log_tx, "virtio-net: malformed TX chain (%u bytes, %u of %u "
		    "segments readable); dropped", c->read_len, c->nread, c->nseg);
		return 0;
	}
	frame_len = c->read_len - VNET_HDR_LEN;
	if (frame_len > NET_FRAME_MAX) {
		n->cnt.tx_too_big++;
		log_guest(&n->log_tx, "virtio-net: TX frame of %u bytes over the %u limit; dropped",
		    frame_len, NET_FRAME_MAX);
		return 0;
	}
	if (c->nseg > VNET_TX_SEGS_VALID) {
		n->cnt.tx_too_many_segs++;
		log_guest(&n->log_tx, "virtio-net: TX frame in %u descriptors, over the %u "
		    "limit; dropped", c->nseg, VNET_TX_SEGS_VALID);
		return 0;
	}
	if (n->nb.vnet_hdr_len) {
		virtq_copy_from(c, 0, &h, sizeof(h));
		if (vnet_tx_header(n, &h, frame_len)) {
			n->cnt.tx_malformed++;
			log_guest(&n->log_tx, "virtio-net: TX header with offloads the frame "
			    "cannot have; dropped");
			return 0;
		}
		memcpy(n->tx_hdr, &h, sizeof(h));
		n->tx_iov[cnt++] = (struct iovec){ n->tx_hdr, VNET_HDR_LEN };
	}
	/* The frame: the readable segments past the header (which may span several). */
	for (unsigned i = 0; i < c->nseg; i++) {
		struct iovec v = c->seg[i].iov;

		if (skip >= v.iov_len) {
			skip -= (uint32_t)v.iov_len;
			continue;
		}
		v.iov_base = (uint8_t *)v.iov_base + skip;
		v.iov_len -= skip;
		skip = 0;
		n->tx_iov[cnt++] = v;
	}
	r = n->nb.ops->send(&n->nb, n->tx_iov, cnt, frame_len + n->nb.vnet_hdr_len);
	return r == -EAGAIN ? -EAGAIN : 0;
}

void vnet_tx(struct vnet *n)
{
	struct virtq *vq = virtio_pci_queue(n->vp, VNET_TXQ);
	unsigned sent = 0;

	if (!vq || n->tx_blocked)
		return;
	for (;;) {
		int r;

		if (sent == VNET_TX_BUDGET) {
			/* Yield to the other watchers; continue next iteration (S1). */
			ev_idle_start(n->vm->loop->ev, &n->tx_more);
			break;
		}
		r = virtq_pop_armed(vq, &n->tx_chain);
		if (r < 0) {
			virtio_pci_fail(n->vp, vq->why);
			return;
		}
		if (r == 0)
			break;
		r = vnet_tx_one(n, &n->tx_chain);
		if (r == -EPROTO)
			return;
		if (r == -EAGAIN) {
			/*
			 * N8: roll the chain back and stop taking kicks; the backend
			 * calls vnet_tx_ready when it can send again. Nothing spins.
			 */
			virtq_unpop(vq, &n->tx_chain);
			virtq_kick_enable(vq, false);
			n->tx_blocked = true;
			break;
		}
		virtq_push(vq, &n->tx_chain.tok, 0);
		sent++;
	}
	if (sent)
		vnet_irq_later(n, VNET_TXQ);
}

static void vnet_tx_more(struct ev_loop *ev, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(ev, w);
	vnet_tx(w->data);
}

static void vnet_tx_ready(void *owner)
{
	struct vnet *n = owner;

	n->tx_blocked = false;
	vnet_tx(n);
}

/*
 * vnet_rx_pop: the next RX chain into `c`: 1, or 0 when the guest has none
 * (kicks are enabled then), or -1 when the ring is malformed (device
 * failed). Chains with device-readable descriptors are returned to the
 * guest unused and counted (N4: never write a readable buffer); with
 * `keep_bad`, such a chain is left in `c` unpublished and 2 is returned.
 */
static int vnet_rx_pop(struct vnet *n, struct virtq *vq, struct virtq_chain *c, bool keep_bad)
{
	for (unsigned tries = 0; tries <= vq->size; tries++) {
		int r = virtq_pop_armed(vq, c);

		if (r < 0) {
			virtio_pci_fail(n->vp, vq->why);
			return -1;
		}
		if (r == 0)
			return 0;
		if (c->nread == 0 && c->tok.write_len > 0)
			return 1;
		if (keep_bad)
			return 2;	/* the caller publishes it, after what it already holds */
		n->cnt.rx_bad_chain++;
		log_guest(&n->log_rx, "virtio-net: RX chain with device-readable buffers; "
		    "returned unused");
		virtq_push(vq, &c->tok, 0);
		vnet_irq_later(n, VNET_RXQ);
	}
	return 0;
}

/* vnet_rx_give_back: publish a chain unused (a frame it cannot hold is dropped). */
static void vnet_rx_give_back(struct vnet *n, struct virtq *vq, struct virtq_chain *c)
{
	virtq_push(vq, &c->tok, 0);
	vnet_irq_later(n, VNET_RXQ);
}

/*
 * vnet_rx_single: without mergeable buffers, the frame and its header go
 * in the one chain popped into n->first, or it is dropped (N6: a buffer
 * too small is given back empty).
 */
static void vnet_rx_single(struct vnet *n, struct virtq *vq, struct virtio_net_hdr_v1 *h,
    const uint8_t *frame, uint32_t len)
{
	uint32_t total = VNET_HDR_LEN + len;

	if (n->first.tok.write_len < total) {
		n->cnt.rx_too_small++;
		log_guest(&n->log_rx, "virtio-net: RX buffer of %u bytes for a %u-byte "
		    "frame; dropped", n->first.tok.write_len, total);
		vnet_rx_give_back(n, vq, &n->first);
		return;
	}
	h->num_buffers = 1;
	virtq_copy_to(&n->first, 0, h, VNET_HDR_LEN);
	virtq_copy_to(&n->first, VNET_HDR_LEN, frame, len);
	virtq_push(vq, &n->first.tok, total);
	vnet_irq_later(n, VNET_RXQ);
}

/*
 * vnet_rx_merge: with mergeable buffers, fill chains in order, starting
 * with n->first, until the frame is placed. Returns 0 (placed or dropped)
 * or -EAGAIN when the guest has too few buffers: every chain taken goes
 * back (rolled back, not published) and the frame waits.
 */
static int vnet_rx_merge(struct vnet *n, struct virtq *vq, struct virtio_net_hdr_v1 *h,
    const uint8_t *frame, uint32_t len)
{
	uint32_t total = VNET_HDR_LEN + len, w, off;
	unsigned extra = 0;
	int r;

	if (n->first.tok.write_len < VNET_HDR_LEN) {
		n->cnt.rx_too_small++;
		vnet_rx_give_back(n, vq, &n->first);
		return 0;
	}
	w = n->first.tok.write_len < total ? n->first.tok.write_len : total;
	off = virtq_copy_to(&n->first, VNET_HDR_LEN, frame, w - VNET_HDR_LEN);
	while (off < len) {
		r = extra + 1 < vq->size ? vnet_rx_pop(n, vq, &n->rx_more, true) : 0;
		if (r < 0)
			return 0;
		if (r == 2) {
			/*
			 * A bad chain after buffers already taken: publishing it
			 * alone would forbid the roll-back below, so the frame is
			 * dropped and everything taken goes back empty, in order.
			 */
			n->cnt.rx_bad_chain++;
			n->nb.stats.rx_dropped++;
			log_guest(&n->log_rx, "virtio-net: RX chain with device-readable "
			    "buffers; returned unused");
			virtq_push(vq, &n->first.tok, 0);
			for (unsigned i = 0; i < extra; i++)
				virtq_push(vq, &n->mrg[i].tok, 0);
			vnet_rx_give_back(n, vq, &n->rx_more);
			return 0;
		}
		if (r == 0) {
			/* Not enough buffers: give all back (position before the first) and wait. */
			virtq_unpop(vq, &n->first);
			n->rx_waiting = true;
			return -EAGAIN;
		}
		n->mrg[extra].len = virtq_copy_to(&n->rx_more, 0, frame + off, len - off);
		n->mrg[extra].tok = n->rx_more.tok;
		off += n->mrg[extra++].len;
	}
	/* N6, CVE-2021-3748: num_buffers is in place before any USED entry is published. */
	h->num_buffers = (uint16_t)(1 + extra);
	virtq_copy_to(&n->first, 0, h, VNET_HDR_LEN);
	virtq_push(vq, &n->first.tok, w);
	for (unsigned i = 0; i < extra; i++)
		virtq_push(vq, &n->mrg[i].tok, n->mrg[i].len);
	vnet_irq_later(n, VNET_RXQ);
	return 0;
}

int vnet_rx(void *owner, const uint8_t *frame, size_t len)
{
	struct vnet *n = owner;
	struct virtq *vq = virtio_pci_queue(n->vp, VNET_RXQ);
	struct virtio_net_hdr_v1 h;
	int r;

	if (!vq) {
		/* Not running (yet, or being reset): the frame waits for start. */
		n->rx_waiting = true;
		return -EAGAIN;
	}
	memset(&h, 0, sizeof(h));
	if (n->nb.vnet_hdr_len) {
		if (len < n->nb.vnet_hdr_len)
			return 0;
		memcpy(&h, frame, VNET_HDR_LEN);
		frame += n->nb.vnet_hdr_len;
		len -= n->nb.vnet_hdr_len;
		/* Offload fields only for what the guest negotiated. */
		if (!vnet_has(n, VIRTIO_NET_F_GUEST_CSUM))
			memset(&h, 0, sizeof(h));
	}
	if (len < 14 || len > NET_FRAME_MAX) {
		n->nb.stats.rx_dropped++;
		return 0;
	}
	r = vnet_rx_pop(n, vq, &n->first, false);
	if (r <= 0) {
		if (r == 0)
			n->rx_waiting = true;
		return r == 0 ? -EAGAIN : 0;
	}
	if (vnet_has(n, VIRTIO_NET_F_MRG_RXBUF))
		return vnet_rx_merge(n, vq, &h, frame, (uint32_t)len);
	vnet_rx_single(n, vq, &h, frame, (uint32_t)len);
	return 0;
}

static void vnet_rx_resume(struct vnet *n)
{
	n->rx_waiting = false;
	if (n->open)
		n->nb.ops->rx_resume(&n->nb);
}

static uint64_t vnet_features(void *dev)
{
	return ((struct vnet *)dev)->features;
}

static int vnet_features_ok(void *dev, uint64_t f)
{
	struct vnet *n = dev;

	/* F1: each offload needs the one it builds on (virtio 1.2, 5.1.3.1). */
	if ((f & (1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6)) &&
	    !(f & 1ull << VIRTIO_NET_F_CSUM))
		return -EINVAL;
	if ((f & (1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6)) &&
	    !(f & 1ull << VIRTIO_NET_F_GUEST_CSUM))
		return -EINVAL;
	if ((f & 1ull << VIRTIO_NET_F_HOST_ECN) &&
	    !(f & (1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6)))
		return -EINVAL;
	if ((f & 1ull << VIRTIO_NET_F_GUEST_ECN) &&
	    !(f & (1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6)))
		return -EINVAL;
	n->negotiated = f;
	if (n->nb.ops->set_offload && n->nb.ops->set_offload(&n->nb, f & n->nb.features) < 0)
		return -EINVAL;
	return 0;
}

static void vnet_config_read(void *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct vnet *n = dev;
	struct virtio_net_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, n->spec.mac, 6);
	cfg.status = n->nb.link_up ? VIRTIO_NET_S_LINK_UP : 0;
	cfg.max_virtqueue_pairs = 1;
	cfg.mtu = (uint16_t)n->nb.mtu;
	memcpy(buf, (uint8_t *)&cfg + off, len);	/* off + len <= config_size, checked by the transport */
}

static void vnet_config_write(void *dev, uint32_t off, const uint8_t *buf, uint32_t len)
{
	/* The MAC is writable only in legacy devices; nothing else is writable. */
	(void)dev; (void)off; (void)buf; (void)len;
}

static void vnet_start(void *dev)
{
	struct vnet *n = dev;

	vnet_rx_resume(n);
	vnet_tx(n);
}

static void vnet_notify(void *dev, unsigned q)
{
	struct vnet *n = dev;

	if (q == VNET_RXQ) {
		struct virtq *vq = virtio_pci_queue(n->vp, VNET_RXQ);

		/*
		 * The guest has posted buffers: stop asking for RX kicks until we
		 * run out again (vnet_rx_pop re-enables them and looks once more),
		 * or every refill of a packed ring would cost the guest an exit.
		 */
		if (vq)
			virtq_kick_enable(vq, false);
		if (n->rx_waiting)
			vnet_rx_resume(n);
	} else if (q == VNET_TXQ) {
		vnet_tx(n);
	}
}

static bool vnet_reset(void *dev)
{
	struct vnet *n = dev;
	struct ev_loop *ev = n->vm->loop->ev;

	/*
	 * Sends and receives complete inside their calls, so nothing is in
	 * flight: a parked TX chain is simply forgotten (it was rolled back into
	 * a ring that no longer exists), and frames the backend holds for the
	 * old driver are dropped and counted, as a NIC drops its receive FIFO
	 * (O-2); the new driver gets what arrives after its buffers.
	 */
	if (n->nb.ops->rx_flush)
		n->nb.ops->rx_flush(&n->nb);
	n->tx_blocked = false;
	n->rx_waiting = false;
	n->irq_pending[0] = n->irq_pending[1] = false;
	ev_idle_stop(ev, &n->tx_more);
	ev_prepare_stop(ev, &n->irq_flush);
	n->negotiated = 0;
	if (n->nb.ops->set_offload)
		n->nb.ops->set_offload(&n->nb, 0);
	/* A new driver instance: its malformed chains are a new episode (O-3). */
	log_guest_rearm(&n->log_tx);
	log_guest_rearm(&n->log_rx);
	return true;
}

const struct virtio_ops vnet_virtio_ops = {
	.name = "virtio-net",
	.device_id = 1,
	.pci_class = 0x020000,		/* network controller, Ethernet */
	.num_queues = 2,
	.queue_max = VNET_QUEUE_SIZE,
	.config_size = 12,		/* mac, status, max_virtqueue_pairs, mtu */
	.features = vnet_features,
	.features_ok = vnet_features_ok,
	.config_read = vnet_config_read,
	.config_write = vnet_config_write,
	.start = vnet_start,
	.queue_notify = vnet_notify,
	.reset = vnet_reset,
};

static void vnet_usage(FILE *out)
{
	fputs("Network backends (-n BACKEND,OPTION,...); each takes mac=MAC, ring=split|packed:\n",
	    out);
	net_backends_usage(out);
}

static const struct device_option vnet_option = {
	.name = "net", .short_name = 'n', .arg = "SPEC",
	.summary = "virtio network: BACKEND[,OPTION...], backends below",
	.max = VNET_MAX_DEVICES, .noun = "network devices", .usage = vnet_usage,
};

/*
 * vnet_parse: the spec parses and its backend accepts its options
 * (backend check: nothing opened, no port bound).
 */
static int vnet_parse(const char *text, unsigned index, void **conf, char *err, size_t errlen)
{
	struct vnet_spec *spec = calloc(1, sizeof(*spec));
	char why[300];

	if (!spec)
		return -ENOMEM;
	if (vnet_parse_spec(text, index, spec, err, errlen))
		goto bad;
	if (spec->backend->check && spec->backend->check(spec->backend_opts, why, sizeof(why))) {
		snprintf(err, errlen, "net '%.64s': %s", text, why);
		goto bad;
	}
	*conf = spec;
	return 0;
bad:
	free(spec);
	return -EINVAL;
}

static int vnet_create(struct vm *vm, const void *conf, void **state, char *err, size_t errlen)
{
	struct vnet *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->spec = *(const struct vnet_spec *)conf;
	n->vm = vm;
	n->nb.ops = n->spec.backend;
	n->nb.owner = n;
	n->nb.rx = vnet_rx;
	n->nb.tx_ready = vnet_tx_ready;
	r = n->nb.ops->open(&n->nb, vm->loop->ev, n->spec.backend_opts, err, errlen);
	if (r)
		goto fail;
	n->open = true;
	vm->runtime_fds += n->nb.runtime_fds;
	if (n->nb.runtime_path && vm->nr_runtime_paths < VM_MAX_RUNTIME_PATHS) {
		unsigned i = 0;

		while (i < vm->nr_runtime_paths && strcmp(vm->runtime_paths[i], n->nb.runtime_path))
			i++;
		if (i == vm->nr_runtime_paths)
			vm->runtime_paths[vm->nr_runtime_paths++] = n->nb.runtime_path;
	}
	ev_idle_init(&n->tx_more, vnet_tx_more);
	n->tx_more.data = n;
	ev_prepare_init(&n->irq_flush, vnet_irq_flush);
	n->irq_flush.data = n;
	/* What the backend can carry, and no offload it cannot (TUN_F_* stay in tap.c). */
	n->features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
	    1ull << VIRTIO_NET_F_MRG_RXBUF | (n->nb.features & VNET_OFFLOADS);
	/* The backend's MTU, advice the guest takes (user: 16384, a link inside ringvm). */
	if (n->nb.mtu >= 68 && n->nb.mtu <= 65535 && n->nb.mtu <= NET_FRAME_MAX - 18)
		n->features |= 1ull << VIRTIO_NET_F_MTU;
	r = virtio_pci_create(vm, &vnet_virtio_ops, n, !n->spec.split_only, &n->vp);
	if (r) {
		snprintf(err, errlen, "no room for a PCI device");
		goto fail;
	}
	*state = n;
	return 0;
fail:
	n->nb.ops->close(&n->nb);
	free(n);
	return r;
}

static int vnet_destroy(struct vm *vm, void *state)
{
	struct vnet *n = state;
	const struct net_stats *s = &n->nb.stats;
	const struct vnet_counters *c = &n->cnt;

	ev_idle_stop(vm->loop->ev, &n->tx_more);
	ev_prepare_stop(vm->loop->ev, &n->irq_flush);
	if (c->tx_malformed || c->tx_too_big || c->tx_too_many_segs || c->rx_too_small ||
	    c->rx_bad_chain || s->rx_dropped || s->tx_dropped)
		log_warnx("virtio-net %s: dropped: %llu malformed, %llu oversized, %llu "
		    "over the descriptor limit on TX; %llu too small, %llu bad chains, %llu "
		    "queue or host drops on RX; %llu host drops on TX",
		    n->spec.backend->name, (unsigned long long)c->tx_malformed,
		    (unsigned long long)c->tx_too_big, (unsigned long long)c->tx_too_many_segs,
		    (unsigned long long)c->rx_too_small, (unsigned long long)c->rx_bad_chain,
		    (unsigned long long)s->rx_dropped, (unsigned long long)s->tx_dropped);
	n->nb.ops->close(&n->nb);
	virtio_pci_destroy(n->vp);
	free(n);
	return 0;
}

/* vnet_inherited_fds: the descriptor the backend's options name (tap's fd=N), if any. */
static unsigned vnet_inherited_fds(const void *conf, int *fds, unsigned max)
{
	const struct vnet_spec *spec = conf;
	int fd;

	if (!spec || !spec->backend->inherited_fd || max == 0)
		return 0;
	fd = spec->backend->inherited_fd(spec->backend_opts);
	if (fd < 0)
		return 0;
	fds[0] = fd;
	return 1;
}

/* No describe hook: PCI enumeration finds the device. */
const struct device_ops vnet_ops = {
	.name = "virtio-net",
	.option = &vnet_option,
	.parse = vnet_parse,
	.create = vnet_create,
	.destroy = vnet_destroy,
	.inherited_fds = vnet_inherited_fds,
};
