/* vsockfake.c: the fake virtio-vsock driver (see vsockfake.h). */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "vsockfake.h"

#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << VIRTQ_F_RING_PACKED)

static void vsg_rings(struct vsg *g, bool packed)
{
	for (unsigned q = 0; q < VSOCK_NQUEUES; q++) {
		uint64_t b = VSG_RINGS + 0x4000ull * q;
		uint64_t heap = q == VSOCK_TXQ ? VSG_TXHEAP : VSG_RXHEAP;
		uint64_t hlen = q == VSOCK_TXQ ? VSG_TXHEAP_LEN : VSG_RXHEAP_LEN;

		vf_ring_init(&g->q[q], &g->v.vm.mem, VSOCK_QUEUE_SIZE, packed, b, b + 0x1000,
		    b + 0x2000, heap, hlen);
	}
	g->packed = packed;
	g->rx_posted = 0;
}

void vsg_up(struct vsg *g, bool packed)
{
	struct virtio_pci *vp = g->vp;
	uint64_t want = F_VERSION_1 | (packed ? F_PACKED : 0) | 1ull << VSOCK_F_STREAM, offered;

	vstub_bar_write(vp, VS_STATUS, 0, 1);	/* the device lets go of the old rings first */
	vsg_rings(g, packed);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK, 1);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER, 1);
	vstub_bar_write(vp, VS_DFSELECT, 0, 4);
	offered = vstub_bar_read(vp, VS_DF, 4);
	vstub_bar_write(vp, VS_DFSELECT, 1, 4);
	offered |= vstub_bar_read(vp, VS_DF, 4) << 32;
	g->feat = offered & want;
	vstub_bar_write(vp, VS_GFSELECT, 0, 4);
	vstub_bar_write(vp, VS_GF, (uint32_t)g->feat, 4);
	vstub_bar_write(vp, VS_GFSELECT, 1, 4);
	vstub_bar_write(vp, VS_GF, g->feat >> 32, 4);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK, 1);
	for (uint16_t q = 0; q < VSOCK_NQUEUES; q++)
		vstub_queue_enable(vp, q, g->q[q].size, g->q[q].desc, g->q[q].driver,
		    g->q[q].device);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK | VS_S_DRIVER_OK, 1);
}

int vsg_init(struct vsg *g, const struct vsock_spec *spec, bool packed)
{
	int r;

	memset(g, 0, sizeof(*g));
	r = vstub_vm_init(&g->v, VSG_RAM, 0, 0);
	if (r)
		return r;
	r = vsock_create(&g->v.vm, spec, &g->vs);
	if (r) {
		vstub_vm_fini(&g->v);
		return r;
	}
	g->vp = g->vs->vp;
	vsg_up(g, packed);
	return 0;
}

void vsg_fini(struct vsg *g)
{
	vsock_destroy(g->vs);
	g->vs = NULL;
	vstub_vm_fini(&g->v);
}

void vsg_run(struct vsg *g)
{
	vstub_run(&g->v);
}

void vsg_kick(struct vsg *g, unsigned q)
{
	vstub_bar_write(g->vp, VS_NOTIFY + 4ull * q, 0, 2);
}

void vsg_post_rx(struct vsg *g, unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		struct vf_seg s = { vf_alloc(&g->q[VSOCK_RXQ], len, 0xee), len, true };
		uint16_t id = vf_chain(&g->q[VSOCK_RXQ], &s, 1);

		g->rx_gpa[id] = s.addr;
		g->rx_posted++;
	}
	vsg_kick(g, VSOCK_RXQ);
}

void vsg_hdr(const struct vsock_pkt *h, uint8_t out[VSOCK_HDR_LEN])
{
	struct virtio_vsock_hdr w = {
		.src_cid = htole64(h->src_cid), .dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port), .dst_port = htole32(h->dst_port),
		.len = htole32(h->len), .type = htole16(h->type), .op = htole16(h->op),
		.flags = htole32(h->flags), .buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};

	memcpy(out, &w, VSOCK_HDR_LEN);
}

uint64_t vsg_txmem(struct vsg *g, const void *src, uint32_t len)
{
	uint64_t a = vf_alloc(&g->q[VSOCK_TXQ], len ? len : 1, 0);

	if (src && len)
		memcpy(vf_at(&g->v.vm.mem, a, len), src, len);
	return a;
}

uint16_t vsg_tx_raw(struct vsg *g, const struct vf_seg *s, unsigned n)
{
	uint16_t id = vf_chain(&g->q[VSOCK_TXQ], s, n);

	vsg_kick(g, VSOCK_TXQ);
	return id;
}

uint16_t vsg_tx(struct vsg *g, const struct vsock_pkt *h, const void *payload, uint32_t plen)
{
	struct vsock_pkt p = *h;
	uint8_t hdr[VSOCK_HDR_LEN];
	struct vf_seg s[2];

	if (!p.src_cid)
		p.src_cid = g->vs->spec.cid;
	if (!p.dst_cid)
		p.dst_cid = VSOCK_HOST_CID;
	if (!p.type)
		p.type = VIRTIO_VSOCK_TYPE_STREAM;
	if (!p.len)
		p.len = plen;
	vsg_hdr(&p, hdr);
	s[0] = (struct vf_seg){ vsg_txmem(g, hdr, VSOCK_HDR_LEN), VSOCK_HDR_LEN, false };
	s[1] = (struct vf_seg){ plen ? vsg_txmem(g, payload, plen) : 0, plen, false };
	return vsg_tx_raw(g, s, plen ? 2 : 1);
}

int vsg_rx(struct vsg *g, struct vsg_pkt *p)
{
	struct virtio_vsock_hdr w;
	uint32_t id, len;

	if (!vf_used_next(&g->q[VSOCK_RXQ], &id, &len))
		return 0;
	g->rx_posted--;
	memcpy(&w, vf_at(&g->v.vm.mem, g->rx_gpa[id], VSOCK_HDR_LEN), VSOCK_HDR_LEN);
	p->h = (struct vsock_pkt){
		.src_cid = le64toh(w.src_cid), .dst_cid = le64toh(w.dst_cid),
		.src_port = le32toh(w.src_port), .dst_port = le32toh(w.dst_port),
		.len = le32toh(w.len), .type = le16toh(w.type), .op = le16toh(w.op),
		.flags = le32toh(w.flags), .buf_alloc = le32toh(w.buf_alloc),
		.fwd_cnt = le32toh(w.fwd_cnt),
	};
	p->used_len = len;
	p->id = (uint16_t)id;
	p->data = vf_at(&g->v.vm.mem, g->rx_gpa[id] + VSOCK_HDR_LEN, p->h.len ? p->h.len : 1);
	return 1;
}

unsigned vsg_tx_used(struct vsg *g)
{
	uint32_t id, len;
	unsigned n = 0;

	while (vf_used_next(&g->q[VSOCK_TXQ], &id, &len))
		n++;
	return n;
}

bool vsg_needs_reset(struct vsg *g)
{
	return vstub_status(g->vp) & VS_S_NEEDS_RESET;
}
