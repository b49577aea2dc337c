/*
 * vsock_rx.c: everything the vsock device sends the guest on its RX queue:
 * taking and checking RX buffers, writing packet headers, and the replies
 * owed while the guest had no buffer: flags on each connection (at most
 * one of each kind) and a queue of at most VSOCK_ORPHAN_MAX RSTs for
 * packets that matched no connection. Data packets are written by
 * vsock_conn.c straight into the buffer taken here.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "loop.h"
#include "vm.h"
#include "vsock_priv.h"

/* vsock_rx_store: the header `p`, little-endian, at the start of the RX chain. */
static void vsock_rx_store(struct virtq_chain *ch, const struct vsock_pkt *p)
{
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(p->src_cid), .dst_cid = htole64(p->dst_cid),
		.src_port = htole32(p->src_port), .dst_port = htole32(p->dst_port),
		.len = htole32(p->len), .type = htole16(p->type), .op = htole16(p->op),
		.flags = htole32(p->flags), .buf_alloc = htole32(p->buf_alloc),
		.fwd_cnt = htole32(p->fwd_cnt),
	};

	virtq_copy_to(ch, 0, &h, sizeof(h));
}

int vsock_rx_pop(struct vsock *vs)
{
	struct virtq *vq = virtio_pci_queue(vs->vp, VSOCK_RXQ);
	int r;

	if (!vq) {
		vs->rx_starved = true;	/* not running: start() or a kick resumes */
		return 0;
	}
	r = virtq_pop_armed(vq, &vs->rx_chain);
	/* A failed device has no RX buffers either: readers stop rather than spin. */
	if (r <= 0)
		vs->rx_starved = true;
	if (r < 0) {
		virtio_pci_fail(vs->vp, vq->why);
		return -1;
	}
	if (r == 0)
		return 0;
	/* Spec 5.10.6.4: RX buffers are write-only; a packet needs room for its header. */
	if (vs->rx_chain.nread || vs->rx_chain.tok.write_len < VSOCK_HDR_LEN) {
		vs->rx_starved = true;
		virtio_pci_fail(vs->vp, vs->rx_chain.nread ? "RX chain with device-readable buffers" :
		    "RX buffer shorter than the 44-byte packet header");
		return -1;
	}
	return 1;
}

void vsock_rx_unpop(struct vsock *vs)
{
	struct virtq *vq = virtio_pci_queue(vs->vp, VSOCK_RXQ);

	if (vq)
		virtq_unpop(vq, &vs->rx_chain);
}

void vsock_rx_send(struct vsock *vs, struct vsock_conn *c, uint16_t op, uint32_t flags,
    uint32_t len)
{
	struct virtq *vq = virtio_pci_queue(vs->vp, VSOCK_RXQ);
	struct vsock_pkt p = {
		.src_cid = VSOCK_HOST_CID, .dst_cid = vs->spec.cid,
		.src_port = c->local_port, .dst_port = c->peer_port,
		.len = len, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};

	if (!vq)
		return;
	vsock_rx_store(&vs->rx_chain, &p);
	/* The payload and header are in place before USED makes them visible (virtq_push releases). */
	virtq_push(vq, &vs->rx_chain.tok, VSOCK_HDR_LEN + len);
	c->fwd_cnt_sent = c->fwd_cnt;
	vsock_irq_later(vs, VSOCK_RXQ);
}

/* vsock_rx_orphan: deliver the oldest queued RST (vs->rx_chain holds a buffer). */
static void vsock_rx_orphan(struct vsock *vs)
{
	struct virtq *vq = virtio_pci_queue(vs->vp, VSOCK_RXQ);
	const struct vsock_orphan *o = &vs->orphan[vs->orphan_head];
	struct vsock_pkt p = {
		.src_cid = o->src_cid, .dst_cid = vs->spec.cid,
		.src_port = o->src_port, .dst_port = o->dst_port,
		.type = o->type, .op = VIRTIO_VSOCK_OP_RST,
	};

	vsock_rx_store(&vs->rx_chain, &p);
	virtq_push(vq, &vs->rx_chain.tok, VSOCK_HDR_LEN);
	vs->orphan_head = (vs->orphan_head + 1) % VSOCK_ORPHAN_MAX;
	vs->orphan_n--;
	vs->cnt.rst_sent++;
	vsock_irq_later(vs, VSOCK_RXQ);
}

/* vsock_rx_op: the op of one VSOCK_CTL_* flag. */
static uint16_t vsock_rx_op(unsigned bit)
{
	switch (bit) {
	case VSOCK_CTL_REQUEST: return VIRTIO_VSOCK_OP_REQUEST;
	case VSOCK_CTL_RESPONSE: return VIRTIO_VSOCK_OP_RESPONSE;
	case VSOCK_CTL_CREDIT_UPDATE: return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	case VSOCK_CTL_CREDIT_REQUEST: return VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	case VSOCK_CTL_SHUTDOWN: return VIRTIO_VSOCK_OP_SHUTDOWN;
	default: return VIRTIO_VSOCK_OP_RST;
	}
}

void vsock_rx_flush(struct vsock *vs)
{
	while (vs->orphan_n) {
		if (vsock_rx_pop(vs) != 1)
			return;
		vsock_rx_orphan(vs);
	}
	if (vs->tx_blocked) {
		/* The queue has room again: TX continues next iteration (not nested in here). */
		vs->tx_blocked = false;
		ev_idle_start(vs->vm->loop->ev, &vs->tx_more);
	}
	/* Round robin, so one connection's replies cannot keep the others' waiting. */
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		unsigned idx = (vs->ctl_cursor + i) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = &vs->conn[idx];

		while (c->ctl) {
			unsigned bit = c->ctl & -c->ctl;	/* lowest first: the order of VSOCK_CTL_* */

			if (vsock_rx_pop(vs) != 1) {
				vs->ctl_cursor = idx;
				return;
			}
			c->ctl &= ~bit;
			vsock_rx_send(vs, c, vsock_rx_op(bit),
			    bit == VSOCK_CTL_SHUTDOWN ? c->shut_sent : 0, 0);
			if (bit == VSOCK_CTL_RST) {
				vs->cnt.rst_sent++;
				vsock_conn_free(c);
			}
		}
	}
	vs->ctl_cursor = (vs->ctl_cursor + 1) % VSOCK_MAX_CONNS;
}

void vsock_rx_resume(struct vsock *vs)
{
	vs->rx_starved = false;
	vsock_rx_flush(vs);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (vs->conn[i].state != VSOCK_FREE)
			vsock_conn_watch(&vs->conn[i]);
}

int vsock_rx_rst(struct vsock *vs, const struct vsock_pkt *p)
{
	struct vsock_orphan *o;

	if (vs->orphan_n == VSOCK_ORPHAN_MAX)
		return -EAGAIN;
	o = &vs->orphan[(vs->orphan_head + vs->orphan_n) % VSOCK_ORPHAN_MAX];
	*o = (struct vsock_orphan){ .src_cid = p->dst_cid, .src_port = p->dst_port,
	    .dst_port = p->src_port, .type = p->type };
	vs->orphan_n++;
	vsock_flush_later(vs);
	return 0;
}
