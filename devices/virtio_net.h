/* virtio_net.h: the virtio network device's state, shared with its unit tests and fuzzer. */
#ifndef RINGVM_VIRTIO_NET_H
#define RINGVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "netbackend.h"
#include "virtio_pci.h"

#define VNET_MAX_DEVICES 4	/* -n options per VM */
#define VNET_QUEUE_SIZE 256	/* descriptors per queue */
#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_HDR_LEN 12		/* virtio_net_hdr with num_buffers (VERSION_1) */

/*
 * The specified limits (HOSTILE.md N2, N3, X4), in three bands each:
 * valid, dropped with a counter, malicious (DEVICE_NEEDS_RESET).
 *  - Descriptors per TX packet: Linux needs MAX_SKB_FRAGS + 2 = 19; up to
 *    VNET_TX_SEGS_VALID is valid, up to VNET_TX_SEGS_DROP dropped, more is
 *    malicious (the chain walker already refuses chains over the queue size).
 *  - Bytes per TX frame (after the header): up to NET_FRAME_MAX valid, up to
 *    VNET_TX_BYTES_DROP dropped, more malicious.
 */
#define VNET_TX_SEGS_VALID 64
#define VNET_TX_SEGS_DROP 128
#define VNET_TX_BYTES_DROP (1u << 24)
#define VNET_TX_BUDGET 256	/* frames per loop iteration before yielding (S1) */

/* What a -n spec asks for: the device's own options, the rest for the backend. */
struct vnet_spec {
	const struct net_backend_ops *backend;
	uint8_t mac[6];
	bool split_only;
	char backend_opts[512];
};

struct vnet_counters {
	uint64_t tx_malformed;	/* N1, N4, N5: no header, writable TX buffer, bad header */
	uint64_t tx_too_big;	/* N2: frame over NET_FRAME_MAX */
	uint64_t tx_too_many_segs;	/* N3: the drop band */
	uint64_t rx_too_small;	/* N6: chain shorter than the frame (no MRG_RXBUF) */
	uint64_t rx_bad_chain;	/* N4: device-readable descriptors in an RX chain */
};

struct vnet {
	struct vm *vm;
	struct virtio_pci *vp;
	struct vnet_spec spec;
	struct net_backend nb;
	uint64_t features;	/* offered */
	uint64_t negotiated;
	bool tx_blocked;	/* the backend said EAGAIN; waiting for tx_ready */
	bool rx_waiting;	/* a frame is waiting for guest RX buffers */
	bool open;		/* the backend is open */
	ev_idle tx_more;	/* TX budget used up: continue next iteration */
	ev_prepare irq_flush;	/* one interrupt per queue per loop iteration */
	bool irq_pending[2];
	struct vnet_counters cnt;
	struct log_once log_tx, log_rx;
	uint8_t tx_hdr[VNET_HDR_LEN];	/* the sanitised header passed to a vnet_hdr backend */
	struct iovec tx_iov[VNET_TX_SEGS_VALID + 1];
	/*
	 * Scratch chains, one per path: slirp answers some frames inside
	 * send() (ARP, ICMP, DHCP), so RX runs nested in TX and must not
	 * touch the TX chain being sent.
	 */
	struct virtq_chain tx_chain;
	struct virtq_chain rx_more;	/* the further chains of a mergeable RX packet */
	struct virtq_chain first;	/* the first chain of a mergeable RX packet */
	struct {			/* their tokens and lengths, until published */
		struct virtq_token tok;
		uint32_t len;
	} mrg[VNET_QUEUE_SIZE];
};

/*
 * vnet_parse_spec: "user|tap|none[,mac=XX:XX:XX:XX:XX:XX][,ring=split|packed]
 * [,backend options]". `index` picks the default MAC. Returns 0, or -1 with
 * a reason in `err`.
 */
int vnet_parse_spec(const char *s, unsigned index, struct vnet_spec *spec, char *err,
    size_t errlen);

/* vnet_tx: send what the TX queue holds, within the budget (loop thread). */
void vnet_tx(struct vnet *n);

/* vnet_rx: the backend's rx callback: place one frame in guest RX buffers. */
int vnet_rx(void *owner, const uint8_t *frame, size_t len);

extern const struct virtio_ops vnet_virtio_ops;

/* The device, for the table in src/devices.c and for tests. */
extern const struct device_ops vnet_ops;

#endif
