/*
 * vnetfake.h: what test_vnet and fuzz_vnet need beyond vfake.h: a fake
 * network backend and a fake virtio-net driver (two queues).
 *
 * The fake backend stands in for the three real ones: vnetfake.c defines
 * net_user_ops, net_tap_ops and net_none_ops, so the device's own spec
 * parser and create hooks (vnet_ops) build a real struct vnet on top
 * of it. "tap" passes a 12-byte virtio_net_hdr and has set_offload, like
 * TAP with IFF_VNET_HDR ("tap,hdr=0" turns the header off); "user" and
 * "none" have no header and no offloads, like slirp and none. Options:
 * hdr=0|12, offload_fail (set_offload answers -EIO), mtu=N (nb->mtu). The backend
 * records every frame it is given, can be told to answer -EAGAIN, and keeps
 * a queue of frames to deliver that it re-offers through nb->rx on
 * rx_resume, as TAP does when it stops reading.
 */
#ifndef RINGVM_VNETFAKE_H
#define RINGVM_VNETFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netbackend.h"
#include "vfake.h"

struct vnet;

#define FNET_TX_MAX 1024	/* frames recorded; later ones are counted only */
#define FNET_RXQ_MAX 64		/* frames waiting for guest buffers */

struct fnet_frame {
	uint8_t *data;		/* malloc'd: the backend's view (header included when hdr=12) */
	size_t len;
};

struct fnet {
	struct net_backend *nb;
	const char *kind;		/* "tap", "user" or "none" */
	/* knobs the test turns */
	bool eagain;			/* send answers -EAGAIN without taking the frame */
	bool offload_fail;		/* set_offload answers -EIO */
	bool record;			/* keep copies of sent frames (default on) */
	void (*on_send)(void *arg, const uint8_t *frame, size_t len);	/* after each taken frame */
	void *on_send_arg;
	/* what the device did to us */
	unsigned long send_calls;	/* every call, -EAGAIN ones included */
	unsigned long eagain_calls;
	unsigned long sent;		/* frames taken */
	unsigned long contract;		/* sends breaking the send() contract (len, iov sum) */
	unsigned long rx_resume_calls;
	unsigned long rx_flushed;	/* queued frames dropped by rx_flush (device reset) */
	unsigned long set_offload_calls;
	uint64_t last_features;		/* what the last set_offload was given */
	int max_iovcnt;
	struct fnet_frame tx[FNET_TX_MAX];
	unsigned ntx;
	/* frames to deliver, oldest first */
	struct fnet_frame rxq[FNET_RXQ_MAX];
	unsigned rxq_head, rxq_n;
	unsigned long delivered;	/* nb->rx answered 0 */
	unsigned long rx_eagain;	/* nb->rx answered -EAGAIN */
};

/* fnet_last: the backend opened most recently (the device just created). */
extern struct fnet *fnet_last;

/* fnet_of: the fake behind device `n`. */
struct fnet *fnet_of(struct vnet *n);

/* fnet_clear_tx: forget the recorded frames (frees them). */
void fnet_clear_tx(struct fnet *f);

/* fnet_queue_rx: a copy of `frame` waits in the backend. Returns 0, or -ENOSPC. */
int fnet_queue_rx(struct fnet *f, const uint8_t *frame, size_t len);

/*
 * fnet_deliver: offer the queued frames through nb->rx, oldest first, until
 * the device answers -EAGAIN (the frame stays) or the queue is empty.
 * Returns the last answer (0 when nothing was queued).
 */
int fnet_deliver(struct fnet *f);

/* fnet_drop_rxq: forget the queued frames. */
void fnet_drop_rxq(struct fnet *f);

/* vn_add: a virtio-net device made by the real setup hook from a -n spec. NULL on failure. */
struct vnet *vn_add(struct vstub_vm *v, const char *spec);

/* vn_remove: the real teardown hook. */
void vn_remove(struct vstub_vm *v, struct vnet *n);

/*
 * vn_driver_init: reset, ACK, DRIVER, accept `want` & offered, FEATURES_OK,
 * set up queue 0 (RX) and queue 1 (TX) where the rings `rx` and `tx` say,
 * enable both, DRIVER_OK. Returns the features accepted, or 0 when the
 * device left FEATURES_OK clear (nothing further is done then).
 */
uint64_t vn_driver_init(struct virtio_pci *vp, uint64_t want, const struct vf_ring *rx,
    const struct vf_ring *tx);

/* vn_kick: the driver notifies queue `q` through the BAR (synchronous). */
void vn_kick(struct virtio_pci *vp, unsigned q);

#endif
