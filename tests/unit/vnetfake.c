/* vnetfake.c: the fake network backend and virtio-net driver (see vnetfake.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "device.h"
#include "vnetfake.h"
#include "virtio_net.h"
#include "virtio_pci.h"

/* Every checksum and segmentation offload, as TAP with IFF_VNET_HDR carries them. */
#define FNET_OFFLOADS (1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM | \
	1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 | \
	1ull << VIRTIO_NET_F_HOST_ECN | 1ull << VIRTIO_NET_F_GUEST_TSO4 | \
	1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN)

struct fnet *fnet_last;

static int fnet_open(struct net_backend *nb, struct ev_loop *ev, const char *opts, char *err,
    size_t errlen, const char *kind, unsigned hdr)
{
	struct fnet *f = calloc(1, sizeof(*f));
	const char *p = opts ? opts : "";

	nb->ev = ev;
	nb->priv = f;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->nb = nb;
	f->kind = kind;
	f->record = true;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 5 && !strncmp(p, "hdr=0", 5)) {
			hdr = 0;
		} else if (n == 6 && !strncmp(p, "hdr=12", 6)) {
			hdr = VNET_HDR_LEN;
		} else if (n == 12 && !strncmp(p, "offload_fail", 12)) {
			f->offload_fail = true;
		} else if (n > 4 && !strncmp(p, "mtu=", 4)) {
			nb->mtu = (unsigned)strtoul(p + 4, NULL, 10);
		} else {
			snprintf(err, errlen, "unknown option '%.*s'", (int)n, p);
			return -EINVAL;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	nb->vnet_hdr_len = hdr;
	/* As tap.c: a header means every offload can be carried; only "none" has no link. */
	nb->features = hdr ? FNET_OFFLOADS : 0;
	nb->link_up = strcmp(kind, "none") != 0;
	fnet_last = f;
	return 0;
}

static int fnet_open_tap(struct net_backend *nb, struct ev_loop *ev, const char *opts, char *err,
    size_t errlen)
{
	return fnet_open(nb, ev, opts, err, errlen, "tap", VNET_HDR_LEN);
}

static int fnet_open_user(struct net_backend *nb, struct ev_loop *ev, const char *opts, char *err,
    size_t errlen)
{
	return fnet_open(nb, ev, opts, err, errlen, "user", 0);
}

static int fnet_open_none(struct net_backend *nb, struct ev_loop *ev, const char *opts, char *err,
    size_t errlen)
{
	return fnet_open(nb, ev, opts, err, errlen, "none", 0);
}

/* fnet_send: check the send() contract, record the frame, or answer -EAGAIN when told to. */
static int fnet_send(struct net_backend *nb, const struct iovec *iov, int iovcnt, size_t len)
{
	struct fnet *f = nb->priv;
	size_t sum = 0, off = 0;
	uint8_t *copy;

	f->send_calls++;
	if (iovcnt > f->max_iovcnt)
		f->max_iovcnt = iovcnt;
	if (f->eagain) {
		f->eagain_calls++;
		return -EAGAIN;
	}
	for (int i = 0; i < iovcnt; i++)
		sum += iov[i].iov_len;
	if (sum != len || len < nb->vnet_hdr_len + 14 || len > nb->vnet_hdr_len + NET_FRAME_MAX)
		f->contract++;
	f->sent++;
	nb->stats.tx_frames++;
	nb->stats.tx_bytes += len;
	copy = malloc(sum ? sum : 1);
	if (!copy)
		abort();
	for (int i = 0; i < iovcnt; i++) {
		memcpy(copy + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (f->on_send)
		f->on_send(f->on_send_arg, copy, sum);
	if (f->record && f->ntx < FNET_TX_MAX)
		f->tx[f->ntx++] = (struct fnet_frame){ copy, sum };
	else
		free(copy);
	return 0;
}

int fnet_deliver(struct fnet *f)
{
	int r = 0;

	while (f->rxq_n) {
		struct fnet_frame *fr = &f->rxq[f->rxq_head];

		r = f->nb->rx(f->nb->owner, fr->data, fr->len);
		if (r == -EAGAIN) {
			f->rx_eagain++;
			break;
		}
		f->delivered++;
		free(fr->data);
		fr->data = NULL;
		f->rxq_head = (f->rxq_head + 1) % FNET_RXQ_MAX;
		f->rxq_n--;
	}
	return r;
}

static void fnet_rx_resume(struct net_backend *nb)
{
	struct fnet *f = nb->priv;

	f->rx_resume_calls++;
	fnet_deliver(f);
}

/* fnet_rx_flush: as the real backends: a reset drops what waits for the old driver. */
static void fnet_rx_flush(struct net_backend *nb)
{
	struct fnet *f = nb->priv;

	f->rx_flushed += f->rxq_n;
	fnet_drop_rxq(f);
}

static int fnet_set_offload(struct net_backend *nb, uint64_t guest_features)
{
	struct fnet *f = nb->priv;

	f->set_offload_calls++;
	f->last_features = guest_features;
	return f->offload_fail ? -EIO : 0;
}

static void fnet_close(struct net_backend *nb)
{
	struct fnet *f = nb->priv;

	if (!f)
		return;
	fnet_clear_tx(f);
	fnet_drop_rxq(f);
	if (fnet_last == f)
		fnet_last = NULL;
	free(f);
	nb->priv = NULL;
}

/* The stand-ins for netbackends/{tap,slirp,none}.c: the device's spec parser names them. */
const struct net_backend_ops net_tap_ops = {
	.name = "tap", .open = fnet_open_tap, .send = fnet_send, .rx_resume = fnet_rx_resume,
	.rx_flush = fnet_rx_flush,
	.set_offload = fnet_set_offload, .close = fnet_close,
};
const struct net_backend_ops net_user_ops = {
	.name = "user", .open = fnet_open_user, .send = fnet_send, .rx_resume = fnet_rx_resume,
	.rx_flush = fnet_rx_flush,
	.set_offload = NULL, .close = fnet_close,
};
const struct net_backend_ops net_none_ops = {
	.name = "none", .open = fnet_open_none, .send = fnet_send, .rx_resume = fnet_rx_resume,
	.rx_flush = fnet_rx_flush,
	.set_offload = NULL, .close = fnet_close,
};

struct fnet *fnet_of(struct vnet *n)
{
	return n->nb.priv;
}

void fnet_clear_tx(struct fnet *f)
{
	for (unsigned i = 0; i < f->ntx; i++)
		free(f->tx[i].data);
	f->ntx = 0;
}

int fnet_queue_rx(struct fnet *f, const uint8_t *frame, size_t len)
{
	uint8_t *copy;

	if (f->rxq_n == FNET_RXQ_MAX)
		return -ENOSPC;
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	if (len)
		memcpy(copy, frame, len);
	f->rxq[(f->rxq_head + f->rxq_n) % FNET_RXQ_MAX] = (struct fnet_frame){ copy, len };
	f->rxq_n++;
	return 0;
}

void fnet_drop_rxq(struct fnet *f)
{
	while (f->rxq_n) {
		free(f->rxq[f->rxq_head].data);
		f->rxq[f->rxq_head].data = NULL;
		f->rxq_head = (f->rxq_head + 1) % FNET_RXQ_MAX;
		f->rxq_n--;
	}
}

struct vnet *vn_add(struct vstub_vm *v, const char *spec)
{
	return vstub_dev_add(v, &vnet_ops, spec);
}

void vn_remove(struct vstub_vm *v, struct vnet *n)
{
	vstub_dev_remove(v, n);
}

uint64_t vn_driver_init(struct virtio_pci *vp, uint64_t want, const struct vf_ring *rx,
    const struct vf_ring *tx)
{
	uint64_t offered, take;

	vstub_bar_write(vp, VS_STATUS, 0, 1);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK, 1);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER, 1);
	vstub_bar_write(vp, VS_DFSELECT, 0, 4);
	offered = vstub_bar_read(vp, VS_DF, 4);
	vstub_bar_write(vp, VS_DFSELECT, 1, 4);
	offered |= vstub_bar_read(vp, VS_DF, 4) << 32;
	take = offered & want;
	vstub_bar_write(vp, VS_GFSELECT, 0, 4);
	vstub_bar_write(vp, VS_GF, (uint32_t)take, 4);
	vstub_bar_write(vp, VS_GFSELECT, 1, 4);
	vstub_bar_write(vp, VS_GF, take >> 32, 4);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK, 1);
	if (!(vstub_status(vp) & VS_S_FEATURES_OK))
		return 0;
	vstub_queue_enable(vp, VNET_RXQ, rx->size, rx->desc, rx->driver, rx->device);
	vstub_queue_enable(vp, VNET_TXQ, tx->size, tx->desc, tx->driver, tx->device);
	vstub_bar_write(vp, VS_STATUS, VS_S_ACK | VS_S_DRIVER | VS_S_FEATURES_OK | VS_S_DRIVER_OK, 1);
	return take;
}

void vn_kick(struct virtio_pci *vp, unsigned q)
{
	vstub_bar_write(vp, VS_NOTIFY + 4ull * q, 0, 2);
}
