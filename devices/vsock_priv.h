/*
 * vsock_priv.h: what the files of the vsock device call across, and
 * nothing else may: virtio_vsock.c (the device: TX packets, the virtio
 * ops, life cycle), vsock_rx.c (what goes to the guest, replies owed),
 * vsock_conn.c (one connection: credit, data both ways,
 * half-close, its state machine) and vsock_host.c (the host side: the
 * listening socket and its CONNECT line, connecting out to `path`_PORT or
 * an in-process handler).
 */
#ifndef RINGVM_VSOCK_PRIV_H
#define RINGVM_VSOCK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_vsock.h"

/* A packet header in host byte order (the wire form is little-endian). */
struct vsock_pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

/* --- virtio_vsock.c --- */

/* vsock_parse_u32: all of [s, s + n) as a decimal number <= UINT32_MAX. 0 or -1. */
int vsock_parse_u32(const char *s, size_t n, uint32_t *out);

/* vsock_flush_later: run vsock_rx_flush and the interrupts before the loop sleeps. */
void vsock_flush_later(struct vsock *vs);

/* vsock_irq_later: interrupt the driver for queue `q` before the loop sleeps (once per iteration). */
void vsock_irq_later(struct vsock *vs, unsigned q);

/* --- vsock_rx.c --- */

/*
 * vsock_rx_pop: the next guest RX buffer into vs->rx_chain. Returns 1; 0
 * when there is none (vs->rx_starved is set and the guest asked for a
 * kick); -1 when the ring or the chain is malformed (NEEDS_RESET).
 */
int vsock_rx_pop(struct vsock *vs);

/* vsock_rx_unpop: give vs->rx_chain back to the ring unused. */
void vsock_rx_unpop(struct vsock *vs);

/*
 * vsock_rx_send: publish vs->rx_chain as a packet of `c` (op, flags, `len`
 * payload bytes already written after the header), carrying our current
 * credit (buf_alloc, fwd_cnt), which the guest now knows.
 */
void vsock_rx_send(struct vsock *vs, struct vsock_conn *c, uint16_t op, uint32_t flags,
    uint32_t len);

/*
 * vsock_rx_flush: deliver what is owed to the guest while it has RX
 * buffers: RST replies without a connection, then each connection's
 * control packets. Frees a connection whose RST went out. Not from inside
 * a use of vs->rx_chain.
 */
void vsock_rx_flush(struct vsock *vs);

/* vsock_rx_resume: the guest posted RX buffers: owed packets first, then every data reader. */
void vsock_rx_resume(struct vsock *vs);

/*
 * vsock_rx_rst: owe RST for packet `p`, which matched no connection.
 * Returns 0, or -EAGAIN when VSOCK_ORPHAN_MAX are already owed (the caller
 * rolls the chain back). Callers reach it before any side effect of `p`.
 */
int vsock_rx_rst(struct vsock *vs, const struct vsock_pkt *p);

/* --- vsock_conn.c --- */

/*
 * vsock_conn_new: a free slot in `state` for host socket `fd` (-1: none
 * yet). Returns NULL at VSOCK_MAX_CONNS. The fd becomes the connection's.
 */
struct vsock_conn *vsock_conn_new(struct vsock *vs, enum vsock_state state, int fd);

/* vsock_conn_find: the live connection (local_port, peer_port), or NULL. */
struct vsock_conn *vsock_conn_find(struct vsock *vs, uint32_t local_port, uint32_t peer_port);

/* vsock_conn_port: a host port >= VSOCK_PORT_MIN no live connection uses. */
uint32_t vsock_conn_port(struct vsock *vs);

/* vsock_conn_free: close the host socket, drop buffered bytes, free the slot. */
void vsock_conn_free(struct vsock_conn *c);

/*
 * vsock_conn_reset: end the connection: close the host socket and owe the
 * guest RST (state CLOSING until it is delivered). `clean`: both ways are
 * done and control already owed (SHUTDOWN) still goes first; otherwise RST
 * replaces it. A connection the guest never heard of is freed at once.
 */
void vsock_conn_reset(struct vsock_conn *c, bool clean);

/* vsock_conn_open: established: take the guest's credit from `p`, watch the socket. */
void vsock_conn_open(struct vsock_conn *c, const struct vsock_pkt *p);

/* vsock_conn_ctl: owe the guest the control packets `bits` (VSOCK_CTL_*). */
void vsock_conn_ctl(struct vsock_conn *c, unsigned bits);

/* vsock_conn_credit: the guest's buf_alloc and fwd_cnt from `p`; reading resumes if it can. */
void vsock_conn_credit(struct vsock_conn *c, const struct vsock_pkt *p);

/*
 * vsock_conn_rw: `len` payload bytes of chain `ch` (after the header) for
 * the host socket: written now, the rest buffered. Returns 0, -EDQUOT
 * when the guest sent beyond the credit it was given, -EPIPE when it sent
 * after its own SHUTDOWN(SEND); the caller resets the connection then.
 * Host socket failures reset the connection here and return 0.
 */
int vsock_conn_rw(struct vsock_conn *c, const struct virtq_chain *ch, uint32_t len);

/* vsock_conn_shutdown: the guest's SHUTDOWN `flags` (permanent, cumulative). */
void vsock_conn_shutdown(struct vsock_conn *c, uint32_t flags);

/* vsock_conn_watch: start or stop the socket watchers for what the connection can do now. */
void vsock_conn_watch(struct vsock_conn *c);

/* vsock_conn_buffered: guest bytes waiting for the host socket. */
uint32_t vsock_conn_buffered(const struct vsock_conn *c);

/* --- vsock_host.c --- */

/* vsock_host_listen: the listening socket at spec.path (none without a path). 0 or -errno. */
int vsock_host_listen(struct vsock *vs);

/* vsock_host_close: stop listening and remove the socket file if it is still ours. */
void vsock_host_close(struct vsock *vs);

/* vsock_host_resume: a slot was freed: listen again if accept had to pause. */
void vsock_host_resume(struct vsock *vs);

/* vsock_host_line: a HANDSHAKE connection's socket is readable: read its CONNECT line. */
void vsock_host_line(struct vsock_conn *c);

/* vsock_host_ok: tell the host program "OK <local_port>\n". 0, or -errno (then reset). */
int vsock_host_ok(struct vsock_conn *c);

/*
 * vsock_host_connect: a host stream socket for a guest connection to host
 * port `port`: the port's in-process handler, else `path`_PORT. Returns a
 * non-blocking fd, or -errno (-ECONNREFUSED with neither).
 */
int vsock_host_connect(struct vsock *vs, uint32_t port);

#endif
