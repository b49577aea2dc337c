/*
 * tcp_guard.h: a guard in front of libslirp's TCP that bounds what a guest
 * can make it hold and walk (issue 14, C1).
 *
 * libslirp 4.7 keeps every out-of-order segment a guest sends, with no cap,
 * in a list it walks on each insert: a guest could grow ringvm by gigabytes
 * and stall the loop for minutes through one connection. On a link inside
 * ringvm nothing is lost or reordered, so a well-behaved guest sends no
 * out-of-order segment at all; the guard lets a few through per connection
 * (TCP_GUARD_OOO_PER_FLOW, TCP_GUARD_OOO_TOTAL in all) and drops the rest,
 * which the guest's TCP retransmits in order, as it would after a loss.
 *
 * It follows each guest connection from the guest's SYN (or its SYN-ACK to
 * a port forward) to a reset or a FIN each way, tracking the end of the
 * contiguous data the guest has sent and the out-of-order ranges beyond it
 * that libslirp may hold. Connections are capped (new ones beyond the cap
 * are dropped at their SYN) and looked up in a dense array.
 *
 * Pure: it parses frames and answers pass or drop; the user backend
 * (slirp.c) calls it for every frame each way.
 */
#ifndef RINGVM_TCP_GUARD_H
#define RINGVM_TCP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_GUARD_OOO_PER_FLOW 8	/* out-of-order ranges libslirp may hold per connection */
#define TCP_GUARD_OOO_TOTAL 256		/* ... and in all */
#define TCP_GUARD_WINDOW (256u << 10)	/* a segment further ahead than this is dropped */
#define TCP_GUARD_SYN_TIMEOUT_MS 75000	/* a connection the host side never answered */

/* One guest TCP connection. */
struct tcp_guard_flow {
	uint8_t af;			/* 4 or 6 */
	uint8_t guest[16], host[16];	/* addresses (IPv4 in the first 4 bytes) */
	uint16_t gport, hport;		/* ports, host byte order */
	uint32_t next;			/* end of the guest's contiguous data (sequence space) */
	bool host_seen;			/* the host side sent something */
	bool fin_guest, fin_host;
	uint8_t nooo;
	struct { uint32_t start, end; } ooo[TCP_GUARD_OOO_PER_FLOW];
	uint64_t last_ms;
};

struct tcp_guard {
	struct tcp_guard_flow *flow;	/* dense: flow[0..n) in use */
	unsigned n, cap;
	unsigned ooo_total;
	unsigned long dropped_ooo;	/* out-of-order segments beyond the caps */
	unsigned long dropped_far;	/* segments beyond TCP_GUARD_WINDOW */
	unsigned long dropped_flows;	/* SYNs beyond the connection cap */
};

/*
 * tcp_guard_init: room for `cap` connections (cap > 0). Returns 0 or
 * -ENOMEM.
 */
int tcp_guard_init(struct tcp_guard *g, unsigned cap);

/* tcp_guard_fini: release the table. Safe on a zeroed guard. */
void tcp_guard_fini(struct tcp_guard *g);

/*
 * tcp_guard_guest: judge one Ethernet frame the guest sends, at `now_ms`.
 * Returns true to pass it to libslirp, false to drop it (counted). Frames
 * that are not TCP over IPv4 or IPv6 always pass.
 */
bool tcp_guard_guest(struct tcp_guard *g, const uint8_t *frame, size_t len, uint64_t now_ms);

/*
 * tcp_guard_host: follow one Ethernet frame libslirp sends the guest (a
 * reset or FIN ends a connection's entry). Never drops.
 */
void tcp_guard_host(struct tcp_guard *g, const uint8_t *frame, size_t len, uint64_t now_ms);

#endif
