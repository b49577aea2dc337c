/*
 * vsockfake.h: a fake virtio-vsock driver for test_vsock and fuzz_vsock:
 * the real device (vsock_create) behind the real transport in a vstub VM,
 * three split or packed queues, and helpers that build TX packets, post RX
 * buffers and read back the packets the device published, the way the
 * Linux driver lays them out (a header descriptor, then the payload).
 */
#ifndef RINGVM_VSOCKFAKE_H
#define RINGVM_VSOCKFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfake.h"
#include "virtio_vsock.h"
#include "vsock_priv.h"

/* Guest RAM: 32 MiB in one region; rings low, RX and TX heaps above. */
#define VSG_RAM (32ull << 20)
#define VSG_RINGS 0x10000ull
#define VSG_RXHEAP 0x100000ull
#define VSG_RXHEAP_LEN (12ull << 20)
#define VSG_TXHEAP (0x100000ull + VSG_RXHEAP_LEN)
#define VSG_TXHEAP_LEN (12ull << 20)
#define VSG_CID 3

/* One packet as the guest sees it. */
struct vsg_pkt {
	struct vsock_pkt h;
	uint8_t *data;		/* payload in guest memory (h.len bytes) */
	uint32_t used_len;	/* what USED said */
	uint16_t id;		/* the RX chain it came in */
};

struct vsg {
	struct vstub_vm v;
	struct vsock *vs;
	struct virtio_pci *vp;
	struct vf_ring q[VSOCK_NQUEUES];
	bool packed;
	uint64_t rx_gpa[VIRTQ_MAX_SIZE];	/* the buffer posted under each RX id */
	unsigned rx_posted;			/* RX buffers not yet used */
	uint64_t feat;
};

/* vsg_init: VM, device from `spec` (cid, path), driver up on `packed` or split rings. 0 or -errno. */
int vsg_init(struct vsg *g, const struct vsock_spec *spec, bool packed);

/* vsg_fini: the device destroyed, the VM released. */
void vsg_fini(struct vsg *g);

/* vsg_up: reset the device and bring the driver up again on fresh rings. */
void vsg_up(struct vsg *g, bool packed);

/* vsg_run: run the loop without blocking until nothing is pending. */
void vsg_run(struct vsg *g);

/* vsg_kick: the driver notifies queue `q` through the BAR. */
void vsg_kick(struct vsg *g, unsigned q);

/* vsg_post_rx: `n` RX buffers of `len` bytes each, one descriptor each; kicks RX. */
void vsg_post_rx(struct vsg *g, unsigned n, uint32_t len);

/*
 * vsg_tx: a TX packet from the guest (src_cid = its CID unless `h` says
 * otherwise: fields left 0 in `h` get defaults: src_cid VSG_CID, dst_cid 2,
 * type STREAM, len = `plen`), header and payload in two descriptors (one
 * without payload); published and kicked. Returns the chain's id.
 */
uint16_t vsg_tx(struct vsg *g, const struct vsock_pkt *h, const void *payload, uint32_t plen);

/* vsg_tx_raw: a TX chain of the given segments (addresses from vsg_txmem), published and kicked. */
uint16_t vsg_tx_raw(struct vsg *g, const struct vf_seg *s, unsigned n);

/* vsg_txmem: `len` bytes of TX heap holding `src` (zeros when NULL). Returns the address. */
uint64_t vsg_txmem(struct vsg *g, const void *src, uint32_t len);

/* vsg_hdr: encode `h` into 44 wire bytes. */
void vsg_hdr(const struct vsock_pkt *h, uint8_t out[VSOCK_HDR_LEN]);

/* vsg_rx: the next packet the device published on RX. 1, or 0 when none. */
int vsg_rx(struct vsg *g, struct vsg_pkt *p);

/* vsg_tx_used: drain the TX used ring. Returns entries seen. */
unsigned vsg_tx_used(struct vsg *g);

/* vsg_needs_reset: DEVICE_NEEDS_RESET is set. */
bool vsg_needs_reset(struct vsg *g);

#endif
