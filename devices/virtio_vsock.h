/*
 * virtio_vsock.h: the virtio socket device (virtio 1.2, section 5.10): its
 * limits, its state and its public interface, shared with vsock_conn.c,
 * vsock_host.c, the unit tests and the fuzzer.
 *
 * The guest talks AF_VSOCK stream sockets to the host (CID 2); ringvm
 * relays each connection to a host stream socket, Firecracker's way over
 * AF_UNIX (docs/VSOCK.md): host programs connect to the listening socket
 * `path` and ask for a guest port with "CONNECT <port>\n"; a guest
 * connection to host port P reaches the socket `path`_P, or an in-process
 * handler registered for P. Everything runs on the loop thread.
 */
#ifndef RINGVM_VIRTIO_VSOCK_H
#define RINGVM_VIRTIO_VSOCK_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "device.h"
#include "log.h"
#include "virtio_pci.h"

struct vm;

#define VSOCK_DEVICE_ID 19
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_NQUEUES 3
#define VSOCK_QUEUE_SIZE 256	/* descriptors per queue */
#define VSOCK_HDR_LEN 44	/* struct virtio_vsock_hdr on the wire */
#define VSOCK_HOST_CID 2	/* the well-known CID of the host */
#define VSOCK_CID_DEFAULT 3	/* the guest's CID unless cid=N says otherwise */
#define VSOCK_F_STREAM 0	/* feature bits (spec 5.10.3) */
#define VSOCK_F_NO_IMPLIED_STREAM 2

/*
 * The specified limits (docs/VSOCK.md "Limits", man/ringvm.1). What
 * happens at each:
 *  - VSOCK_MAX_CONNS live connections per device, in any state (a host
 *    program still writing its CONNECT line counts). A guest REQUEST
 *    beyond it gets RST; a host program beyond it is accepted and closed
 *    at once (it reads EOF).
 *  - VSOCK_BUF_ALLOC: the receive space the device advertises (buf_alloc)
 *    for each connection. Guest data the host socket cannot take yet waits
 *    in a per-connection buffer that can never hold more, because the
 *    guest may not send more than that credit; a guest that sends beyond
 *    it gets RST. In total at most VSOCK_MAX_CONNS * VSOCK_BUF_ALLOC
 *    (16 MiB) per device, allocated only while a host socket is full.
 *    Host-to-guest data is never buffered: it is read from the host socket
 *    straight into a guest RX buffer, only while the guest grants credit.
 *  - VSOCK_MAX_PKT payload bytes per packet, both ways (the 64 KiB Linux
 *    uses). A TX header announcing more gets RST.
 *  - VSOCK_TX_SEGS_MAX descriptors and VSOCK_HDR_LEN + VSOCK_MAX_PKT bytes
 *    per TX chain: beyond either the guest is malicious (NEEDS_RESET).
 *  - VSOCK_ORPHAN_MAX RST replies waiting for RX buffers for packets that
 *    match no connection. When full, the TX queue stops (its chain is
 *    rolled back) until the guest posts RX buffers: the bounded "additional
 *    resources" of spec 5.10.6.1. Replies for a connection are flags on
 *    it, bounded by the connection cap.
 *  - VSOCK_LINE_MAX bytes for a host program's CONNECT line, newline
 *    included; a longer or malformed line closes the host connection.
 *  - VSOCK_MAX_HANDLERS in-process port handlers.
 *  - VSOCK_TX_BUDGET packets per loop iteration before TX yields.
 */
#define VSOCK_MAX_CONNS 64
#define VSOCK_BUF_ALLOC (256u << 10)
#define VSOCK_MAX_PKT (64u << 10)
#define VSOCK_TX_SEGS_MAX 64
#define VSOCK_ORPHAN_MAX 64
#define VSOCK_LINE_MAX 32
#define VSOCK_MAX_HANDLERS 16
#define VSOCK_TX_BUDGET 256
#define VSOCK_CREDIT_STALE (VSOCK_BUF_ALLOC / 2)	/* forwarded bytes that make the guest's view stale */
#define VSOCK_PORT_MIN 1024	/* first host port for host-initiated connections */
#define VSOCK_ACCEPT_BUDGET 16	/* host connections accepted per listener wakeup */
/*
 * SO_SNDBUF of the host sockets ringvm makes for connections (to PATH_PORT,
 * and accepted on PATH; an in-process handler's socket is left as made):
 * guest bytes a host program does not read wait there, in kernel memory
 * charged to ringvm, as much as the send buffer allows (the kernel doubles
 * the value, and a stream may overshoot it by one packet of up to half of
 * it). Set, not inherited from net.core.wmem_default, so the bound is
 * ringvm's (docs/SECURITY.md).
 */
#define VSOCK_HOST_SNDBUF (96u << 10)

/* sun_path (108) must hold path, "_", ten digits and the NUL. */
#define VSOCK_PATH_MAX (108 - 12)

/* What a --vsock spec asks for. */
struct vsock_spec {
	char path[VSOCK_PATH_MAX + 1];	/* listening socket, "" for none */
	uint32_t cid;			/* the guest's CID */
};

/*
 * A connection's state (docs/VSOCK.md "State machine").
 *   HANDSHAKE  a host program connected to `path`; its CONNECT line is read
 *   REQUEST    REQUEST queued/sent to the guest; waiting for RESPONSE or RST
 *   OPEN       established; each direction may be half-closed (flags)
 *   CLOSING    the host socket is closed, RST is waiting for an RX buffer;
 *              the slot is freed when the RST is delivered
 */
enum vsock_state {
	VSOCK_FREE = 0,
	VSOCK_HANDSHAKE,
	VSOCK_REQUEST,
	VSOCK_OPEN,
	VSOCK_CLOSING,
};

/* Control packets a connection owes the guest, sent in this bit order. */
#define VSOCK_CTL_REQUEST (1u << 0)
#define VSOCK_CTL_RESPONSE (1u << 1)
#define VSOCK_CTL_CREDIT_UPDATE (1u << 2)
#define VSOCK_CTL_CREDIT_REQUEST (1u << 3)
#define VSOCK_CTL_SHUTDOWN (1u << 4)
#define VSOCK_CTL_RST (1u << 5)		/* last: the slot is freed once it is sent */

struct vsock;

struct vsock_conn {
	struct vsock *vs;
	enum vsock_state state;
	uint32_t local_port;		/* the host side's port (our src_port on RX) */
	uint32_t peer_port;		/* the guest's port */
	int fd;				/* host stream socket, -1 when none */
	ev_io rio, wio;			/* host socket readable / writable */
	unsigned ctl;			/* VSOCK_CTL_* owed to the guest */
	uint32_t shut_sent;		/* SHUTDOWN flags owed or sent to the guest */
	uint32_t guest_shut;		/* SHUTDOWN flags the guest sent (permanent) */
	bool host_eof;			/* the host socket read EOF */
	bool credit_asked;		/* CREDIT_REQUEST sent since the last credit news */
	/* host -> guest: the guest's receive space as it last told us */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;		/* payload bytes sent to the guest (free-running) */
	/* guest -> host */
	uint32_t rx_cnt;		/* payload bytes received from the guest (free-running) */
	uint32_t fwd_cnt;		/* of those, written to the host socket */
	uint32_t fwd_cnt_sent;		/* fwd_cnt as the guest last saw it */
	uint8_t *buf;			/* VSOCK_BUF_ALLOC ring, allocated while bytes wait */
	uint32_t buf_head;		/* first waiting byte in buf */
	/* HANDSHAKE: the CONNECT line so far */
	char line[VSOCK_LINE_MAX];
	unsigned line_len;
};

/* A queued RST for a packet that matched no connection: the reply's addressing. */
struct vsock_orphan {
	uint64_t src_cid;		/* the packet's dst_cid, echoed */
	uint32_t src_port, dst_port;	/* the packet's ports, swapped */
	uint16_t type;			/* the packet's type, echoed */
};

struct vsock_handler {
	uint32_t port;
	int (*connect)(void *ctx, uint32_t port);
	void *ctx;
};

struct vsock_counters {
	uint64_t rst_sent;		/* RST packets delivered to the guest */
	uint64_t refused;		/* guest REQUESTs refused (no listener, cap, error) */
	uint64_t host_refused;		/* host connections closed at the cap or for a bad line */
	uint64_t bad_pkt;		/* TX headers answered with RST (len, op, type, credit) */
	uint64_t bad_cid;		/* TX packets from a src_cid not the guest's: dropped */
	uint64_t stale;			/* TX packets for a CLOSING connection: dropped */
	uint64_t tx_blocked;		/* TX stops for a full orphan queue */
};

struct vsock {
	struct vm *vm;
	struct virtio_pci *vp;
	struct vsock_spec spec;
	uint64_t negotiated;
	int listen_fd;			/* -1 when there is no path */
	ev_io listen_io;
	bool listen_paused;		/* accept failed (fd limit): wait for a slot or the retry */
	ev_timer listen_retry;		/* while paused: try accepting again */
	bool tx_blocked;		/* orphan queue full: TX waits for RX buffers */
	bool rx_starved;		/* a pop found no RX buffer: waiting for an RX kick */
	ev_idle tx_more;		/* TX budget used, or TX unblocked: continue */
	ev_prepare flush;		/* before the loop sleeps: control packets, interrupts */
	bool irq_pending[2];
	uint32_t next_port;		/* host port allocation counter */
	unsigned nr_conns;
	unsigned ctl_cursor;		/* round robin over connections owing control */
	uint64_t held;			/* guest bytes buffered, all connections */
	struct vsock_conn conn[VSOCK_MAX_CONNS];
	struct vsock_orphan orphan[VSOCK_ORPHAN_MAX];
	unsigned orphan_head, orphan_n;
	struct vsock_handler handler[VSOCK_MAX_HANDLERS];
	unsigned nr_handlers;
	struct vsock_counters cnt;
	struct log_once log_tx;		/* malformed packets: one line per episode */
	struct virtq_chain tx_chain, rx_chain;	/* scratch, one per direction */
};

/*
 * vsock_parse_spec: "[path=SOCK][,cid=N]" (either may be left out, in any
 * order, each at most once). SOCK must be non-empty and at most
 * VSOCK_PATH_MAX bytes; N decimal, 3 <= N < 0xffffffff. Nothing is opened.
 * Returns 0, or -1 with a one-line reason in `err`.
 */
int vsock_parse_spec(const char *s, struct vsock_spec *spec, char *err, size_t errlen);

/*
 * vsock_host_path_check: whether `path` may become the listening socket: it
 * does not exist, or it is a socket (a stale one is removed when the
 * device starts). Opens nothing. Returns 0, or -errno with a reason in
 * `err` (-EEXIST: an existing file that is not a socket).
 */
int vsock_host_path_check(const char *path, char *err, size_t errlen);

/*
 * vsock_create: a virtio-vsock PCI function for `vm` as `spec` says; with
 * a path, the listening socket (a stale socket file there is unlinked,
 * any other file refused with a log line). Setup time only. Returns 0 with
 * *out, or -errno (nothing is left behind).
 */
int vsock_create(struct vm *vm, const struct vsock_spec *spec, struct vsock **out);

/*
 * vsock_destroy: close every connection and the listener (removing its
 * socket file), unplug and free. NULL-safe.
 */
void vsock_destroy(struct vsock *vs);

/*
 * vsock_set_port_handler: guest connections to host port `port` get their
 * host end from `connect(ctx, port)`, which returns a connected stream
 * socket (e.g. one end of socketpair(AF_UNIX, SOCK_STREAM)) that the device
 * then owns and closes, or -errno to refuse (the guest gets RST). It runs
 * on the loop thread and must not call back into the device. A handler
 * takes precedence over `path`_PORT; a NULL `connect` removes the port's
 * handler. Returns 0, -ENOSPC beyond VSOCK_MAX_HANDLERS.
 */
int vsock_set_port_handler(struct vsock *vs, uint32_t port,
    int (*connect)(void *ctx, uint32_t port), void *ctx);

extern const struct virtio_ops vsock_virtio_ops;

/* The device, for the table in src/devices.c and for tests. */
extern const struct device_ops vsock_ops;

#endif
