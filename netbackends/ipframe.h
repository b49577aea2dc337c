/*
 * ipframe.h: where the IP and transport headers of an Ethernet frame are,
 * for the user backend's guards (tcp_guard.c, slirp_flows.c), which both
 * look at guest frames before libslirp does. One parser, so the two agree
 * on what a frame is.
 */
#ifndef RINGVM_IPFRAME_H
#define RINGVM_IPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipframe {
	uint8_t af;			/* 4 or 6 */
	uint8_t proto;			/* IPv4 protocol, or IPv6 next header */
	const uint8_t *src, *dst;	/* addresses in the frame: 4 or 16 bytes */
	size_t l4;			/* offset of the transport header */
	size_t l4len;			/* its bytes, header and payload */
};

/*
 * ipframe_parse: an IPv4 or IPv6 packet (no IPv6 extension headers, which
 * libslirp does not follow either) whose header and stated length lie
 * inside the frame. Returns false for anything else: libslirp drops what
 * it cannot parse, so the guards leave it alone.
 */
bool ipframe_parse(const uint8_t *f, size_t len, struct ipframe *ip);

#endif
