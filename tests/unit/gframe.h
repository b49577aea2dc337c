/*
 * gframe.h: Ethernet frames a guest sends on the user backend's link
 * (10.0.2.0/24: the guest 10.0.2.15, libslirp's host 10.0.2.2), with
 * correct checksums, for the tests that feed the real backend and libslirp
 * (test_netbackends, test_tcp_guard, test_slirp_flows). Addresses are
 * dotted quads; each builder returns the frame's length.
 */
#ifndef RINGVM_GFRAME_H
#define RINGVM_GFRAME_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t gframe_guest_mac[6];	/* 52:54:00:12:34:56, the device's */
extern const uint8_t gframe_host_mac[6];	/* 52:55:0a:00:02:02, libslirp's */

/* gframe_csum: the Internet checksum of p[0..len), starting from `sum`. */
uint16_t gframe_csum(const void *p, size_t len, uint32_t sum);

void gframe_put16(uint8_t *p, uint16_t v);
uint16_t gframe_get16(const uint8_t *p);

/* gframe_eth: an Ethernet header from the guest's MAC to `dst`. */
void gframe_eth(uint8_t *f, const uint8_t *dst, uint16_t type);

/* gframe_ipv4: an IPv4 header for `payload` bytes at ip; returns its length (20). */
size_t gframe_ipv4(uint8_t *ip, uint8_t proto, const char *src, const char *dst, size_t payload);

/* gframe_arp_request: the guest asks who has `target` (60 bytes). */
size_t gframe_arp_request(uint8_t *f, const char *target);

/* gframe_arp_reply: the guest answers libslirp's "who has 10.0.2.15" (60 bytes). */
size_t gframe_arp_reply(uint8_t *f);

/* gframe_icmp_echo: an echo request from the guest to `dst` with `payload` bytes. */
size_t gframe_icmp_echo(uint8_t *f, const char *dst, uint16_t seq, size_t payload);

/*
 * gframe_tcp: a TCP segment from src:sport to dst:dport with `plen` bytes
 * of 'x', window 65535.
 */
size_t gframe_tcp(uint8_t *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    uint32_t seq, uint32_t ack, uint8_t flags, size_t plen);

/* gframe_udp: a datagram from src:sport to dst:dport carrying `dlen` bytes of `data`. */
size_t gframe_udp(uint8_t *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    const void *data, size_t dlen);

#endif
