/*
 * netbackend.h: the one interface every network backend in netbackends/
 * fills. A backend moves Ethernet frames between the virtio-net device and
 * the host (a TAP interface, libslirp's user-mode stack, or nothing), all in
 * the loop thread: its fds and timers are libev watchers on the VM's loop.
 *
 * Flow control is explicit in both directions, so nothing ever busy-spins
 * and nothing queues without bound (HOSTILE.md N7, N8; seed XSA-300):
 *  - host to guest: the backend calls nb->rx(). When the device has no guest
 *    buffer it returns -EAGAIN; the backend then stops reading its source
 *    (TAP) or keeps the frame in its bounded queue (slirp, which pushes), and
 *    waits for ops->rx_resume(), which the device calls once the guest posts
 *    buffers.
 *  - guest to host: the device calls ops->send(). -EAGAIN means the peer
 *    cannot take the frame now; the device rolls the chain back into the
 *    ring and waits for nb->tx_ready(), which the backend calls once it can
 *    send again (TAP writability).
 */
#ifndef RINGVM_NETBACKEND_H
#define RINGVM_NETBACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ev_loop;
struct net_backend;

/* The largest frame a backend hands to the device or accepts from it:
 * 64 KiB of IP payload plus an Ethernet header and a VLAN tag. */
#define NET_FRAME_MAX (65536 + 18)

/* Queue bounds for backends that cannot stop their producer (slirp). */
#define NET_RXQ_MAX_FRAMES 256
#define NET_RXQ_MAX_BYTES (1u << 20)

/* Counters every backend keeps; printed by the device at exit when nonzero. */
struct net_stats {
	uint64_t rx_frames, rx_bytes;	/* delivered to the guest */
	uint64_t tx_frames, tx_bytes;	/* sent to the host */
	uint64_t rx_dropped;		/* queue full or frame too big */
	uint64_t tx_dropped;		/* host refused a frame (not EAGAIN) */
};

struct net_backend_ops {
	const char *name;	/* "tap", "user", "none": the -n spec's first word */
	const char *summary;	/* --help's line for the backend */
	const char *help;	/* --help's lines for its options ("    key=VAL  text\n"...), or NULL */
	/*
	 * open: parse the backend's options (`opts`: what follows "NAME," in
	 * the -n spec, or "" when none) and open it on loop `ev`. On failure
	 * writes a one-line reason to err (no "ringvm:" prefix) and returns
	 * -errno; -EINVAL means the options are wrong (a usage error).
	 * Reading does not start until rx_resume().
	 */
	int (*open)(struct net_backend *nb, struct ev_loop *ev, const char *opts,
	    char *err, size_t errlen);
	/*
	 * check: parse `opts` as open() would, opening nothing, so that the
	 * whole command line is judged before the VM exists. Returns 0, or
	 * -EINVAL with the same one-line reason open() would give.
	 */
	int (*check)(const char *opts, char *err, size_t errlen);
	/*
	 * send: transmit one frame gathered from `iov` (`len` bytes in all,
	 * 14 <= len <= NET_FRAME_MAX; with vnet_hdr_len > 0 the frame is
	 * preceded by that many bytes of virtio_net_hdr). Returns 0 when the
	 * frame was taken (sent, or dropped and counted), or -EAGAIN when the
	 * peer is full: then the backend calls nb->tx_ready() once it can take
	 * frames again. The iovecs are only valid during the call.
	 */
	int (*send)(struct net_backend *nb, const struct iovec *iov, int iovcnt, size_t len);
	/*
	 * rx_resume: the device has guest buffers again. Deliver what is
	 * queued (until nb->rx() says -EAGAIN) and restart reading the source.
	 */
	void (*rx_resume)(struct net_backend *nb);
	/*
	 * rx_flush: optional: the device was reset: drop every frame held for
	 * the old driver (queued or refused), counted in stats.rx_dropped,
	 * as a NIC drops its receive FIFO. What arrives later is delivered to
	 * the new driver once it posts buffers.
	 */
	void (*rx_flush)(struct net_backend *nb);
	/*
	 * set_offload: optional (NULL when the backend has no offloads): tell
	 * the host side which virtio-net features the driver accepted (only
	 * those in nb->features matter: the receive offloads it can take).
	 * 0 after a reset. Returns 0 or -errno.
	 */
	int (*set_offload)(struct net_backend *nb, uint64_t guest_features);
	/* close: stop every watcher and release everything. Safe after a failed open. */
	void (*close)(struct net_backend *nb);
	/*
	 * inherited_fd: optional: the descriptor the options `opts` name that
	 * ringvm inherited from its parent and must keep open (tap's fd=N),
	 * or -1 for none. Pure: parses `opts`, touches no descriptor.
	 */
	int (*inherited_fd)(const char *opts);
};

struct net_backend {
	const struct net_backend_ops *ops;
	struct ev_loop *ev;
	/* Set by the device before open: */
	void *owner;
	/*
	 * rx: offer one received frame (with vnet_hdr_len bytes of header first
	 * when nonzero). Returns 0 when the device took it (copied into guest
	 * memory, or dropped and counted as malformed), -EAGAIN when the guest
	 * has no buffer for it: keep it, stop reading, wait for rx_resume().
	 */
	int (*rx)(void *owner, const uint8_t *frame, size_t len);
	/* tx_ready: the backend can take frames again after send() said -EAGAIN. */
	void (*tx_ready)(void *owner);
	/*
	 * vnet_hdr_len: bytes of virtio_net_hdr the backend sends and receives
	 * with each frame: 0 (none; the device strips it on TX and writes a
	 * zeroed one on RX), or 12 when the backend passes offload headers
	 * through (TAP with IFF_VNET_HDR). Set by open.
	 */
	unsigned vnet_hdr_len;
	/*
	 * mtu: the link MTU the backend wants the guest to use (the device
	 * offers it with VIRTIO_NET_F_MTU), or 0 for none in particular
	 * (Ethernet's 1500). Set by open.
	 */
	unsigned mtu;
	/*
	 * features: the virtio-net feature bits (VIRTIO_NET_F_*) the backend
	 * can carry: the checksum and segmentation offloads, which need
	 * vnet_hdr_len > 0. The device offers these and nothing it cannot
	 * carry. Set by open.
	 */
	uint64_t features;
	/* link_up: the link has a peer (false for "none"). Set by open; read as the link status. */
	bool link_up;
	/*
	 * runtime_fds: the most file descriptors the backend may open after
	 * setup (user: the guest's sockets and port-forward connections).
	 * Set by open; ringvm's RLIMIT_NOFILE leaves room for them.
	 */
	unsigned runtime_fds;
	/* runtime_path: a file the backend opens by path after setup, or NULL. Set by open. */
	const char *runtime_path;
	struct net_stats stats;
	void *priv;		/* the backend's own state */
};

/* Every backend, defined in its own file in netbackends/. */
extern const struct net_backend_ops net_tap_ops;
extern const struct net_backend_ops net_user_ops;
extern const struct net_backend_ops net_none_ops;

/* The backend table, NULL-terminated, in --help order (netbackends/netbackends.c). */
extern const struct net_backend_ops *const net_backends[];

/* net_backend_find: the backend named by the `len` bytes at `name`, or NULL. */
const struct net_backend_ops *net_backend_find(const char *name, size_t len);

/* net_backend_names: "user, tap or none", for messages. */
const char *net_backend_names(char *buf, size_t len);

/* net_backends_usage: each backend's --help lines. */
void net_backends_usage(FILE *out);

#endif
