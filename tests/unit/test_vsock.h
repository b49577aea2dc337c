/*
 * test_vsock.h: the fixture shared by test_vsock.c (connections, the host
 * convention, half-close, RST and malformed packets) and
 * test_vsock_flow.c (credit, counter wrap, caps, storms, reset): a fake
 * driver (vsockfake.c) in front of the real device, a scratch directory
 * for the AF_UNIX sockets, and guest- and host-side helpers.
 */
#ifndef RINGVM_TEST_VSOCK_H
#define RINGVM_TEST_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unit.h"
#include "vsockfake.h"

#define OP(x) VIRTIO_VSOCK_OP_##x
#define SHUT_R VIRTIO_VSOCK_SHUTDOWN_RCV
#define SHUT_S VIRTIO_VSOCK_SHUTDOWN_SEND
#define GBUF (256u << 10)	/* the buf_alloc the fake guest advertises by default */

extern struct unit u;
extern char sock_path[];	/* the device's path=, inside the scratch directory */

/* fx_init: a device with `path` (or none) and cid 3 on split rings; RX buffers posted. */
void fx_init(struct vsg *g, bool path);

/* srv_listen: a host program listening on sock_path_PORT (non-blocking). */
int srv_listen(uint32_t port);
/* srv_accept: accept one connection on `lfd`, non-blocking; -1 when none. */
int srv_accept(int lfd);
/* host_dial: connect to sock_path (the device's listener), non-blocking. -1 on failure. */
int host_dial(void);
/* host_read: read what is there (non-blocking) into buf. Bytes, 0 at EOF, -errno. */
long host_read(int fd, void *buf, size_t len);
/* host_drain: read everything there is; returns bytes, *eof when EOF was seen. */
size_t host_drain(int fd, uint8_t *buf, size_t cap, bool *eof);

/* tx_ctl: a header-only packet from guest port `src` to host port `dst`. */
void tx_ctl(struct vsg *g, uint16_t op, uint32_t src, uint32_t dst, uint32_t flags,
    uint32_t buf_alloc, uint32_t fwd_cnt);
/* tx_data: an RW packet carrying `len` bytes. */
void tx_data(struct vsg *g, uint32_t src, uint32_t dst, const void *data, uint32_t len,
    uint32_t buf_alloc, uint32_t fwd_cnt);

/* rx_next: run the loop; the next packet on RX, or false. */
bool rx_next(struct vsg *g, struct vsg_pkt *p);
/* rx_is: the next packet has `op` from host port `src` to guest port `dst`. */
bool rx_is(struct vsg *g, struct vsg_pkt *p, uint16_t op, uint32_t src, uint32_t dst);
/* rx_none: no packet is waiting. */
bool rx_none(struct vsg *g);

/* guest_connect: REQUEST to host port `dst` from guest port `src`; true when RESPONSE came. */
bool guest_connect(struct vsg *g, uint32_t dst, uint32_t src, uint32_t buf_alloc);

/* pattern: `len` bytes of test data, pattern `seed` at stream offset `off`. */
void pattern(uint8_t *p, size_t len, unsigned seed, size_t off);
/* conn_of: the device's connection (local, peer), or NULL. */
struct vsock_conn *conn_of(struct vsg *g, uint32_t local, uint32_t peer);

/* handler_pair: an in-process port handler; each call makes a socketpair and keeps one end. */
struct hpair {
	int keep[VSOCK_MAX_CONNS + 8];	/* the test's ends, in call order */
	unsigned n;
	int fail;		/* answer this -errno instead, when non-zero */
	int sndbuf;		/* SO_SNDBUF for the device's end, when non-zero */
};
int hpair_connect(void *ctx, uint32_t port);
void hpair_close(struct hpair *h);

/* test_vsock_flow.c */
void test_flow_all(void);

#endif
