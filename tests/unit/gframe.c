/* gframe.c: guest frames for the user backend's tests (gframe.h). */
#include <arpa/inet.h>
#include <string.h>

#include "gframe.h"

const uint8_t gframe_guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const uint8_t gframe_host_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

uint16_t gframe_csum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void gframe_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t gframe_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void gframe_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, gframe_guest_mac, 6);
	gframe_put16(f + 12, type);
}

size_t gframe_ipv4(uint8_t *ip, uint8_t proto, const char *src, const char *dst, size_t payload)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	gframe_put16(ip + 2, (uint16_t)(20 + payload));
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	gframe_put16(ip + 10, gframe_csum(ip, 20, 0));
	return 20;
}

/* gframe_arp: an ARP packet with operation `op` from the guest. */
static size_t gframe_arp(uint8_t *f, const uint8_t *to, uint16_t op, const uint8_t *tha,
    const char *target)
{
	memset(f, 0, 60);
	gframe_eth(f, to, 0x0806);
	gframe_put16(f + 14, 1);
	gframe_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	gframe_put16(f + 20, op);
	memcpy(f + 22, gframe_guest_mac, 6);
	inet_pton(AF_INET, "10.0.2.15", f + 28);
	if (tha)
		memcpy(f + 32, tha, 6);
	inet_pton(AF_INET, target, f + 38);
	return 60;
}

size_t gframe_arp_request(uint8_t *f, const char *target)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return gframe_arp(f, bcast, 1, NULL, target);
}

size_t gframe_arp_reply(uint8_t *f)
{
	return gframe_arp(f, gframe_host_mac, 2, gframe_host_mac, "10.0.2.2");
}

size_t gframe_icmp_echo(uint8_t *f, const char *dst, uint16_t seq, size_t payload)
{
	uint8_t *ic = f + 34;

	gframe_eth(f, gframe_host_mac, 0x0800);
	gframe_ipv4(f + 14, 1, "10.0.2.15", dst, 8 + payload);
	memset(ic, 0, 8 + payload);
	ic[0] = 8;
	gframe_put16(ic + 4, 0x1234);
	gframe_put16(ic + 6, seq);
	for (size_t i = 0; i < payload; i++)
		ic[8 + i] = (uint8_t)i;
	gframe_put16(ic + 2, gframe_csum(ic, 8 + payload, 0));
	return 34 + 8 + payload;
}

/* gframe_l4sum: the TCP/UDP checksum of `n` bytes at f + 34 over the pseudo-header. */
static uint16_t gframe_l4sum(const uint8_t *f, uint8_t proto, size_t n)
{
	uint8_t ph[12];
	uint32_t s = 0;

	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = proto;
	gframe_put16(ph + 10, (uint16_t)n);
	for (size_t i = 0; i < 12; i += 2)
		s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	return gframe_csum(f + 34, n, s);
}

size_t gframe_tcp(uint8_t *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    uint32_t seq, uint32_t ack, uint8_t flags, size_t plen)
{
	uint8_t *t = f + 34;

	gframe_eth(f, gframe_host_mac, 0x0800);
	gframe_ipv4(f + 14, 6, src, dst, 20 + plen);
	memset(t, 0, 20);
	gframe_put16(t, sport);
	gframe_put16(t + 2, dport);
	gframe_put16(t + 4, (uint16_t)(seq >> 16));
	gframe_put16(t + 6, (uint16_t)seq);
	gframe_put16(t + 8, (uint16_t)(ack >> 16));
	gframe_put16(t + 10, (uint16_t)ack);
	t[12] = 5 << 4;
	t[13] = flags;
	gframe_put16(t + 14, 65535);
	memset(t + 20, 'x', plen);
	gframe_put16(t + 16, gframe_l4sum(f, 6, 20 + plen));
	return 34 + 20 + plen;
}

size_t gframe_udp(uint8_t *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    const void *data, size_t dlen)
{
	uint8_t *u = f + 34;

	gframe_eth(f, gframe_host_mac, 0x0800);
	gframe_ipv4(f + 14, 17, src, dst, 8 + dlen);
	gframe_put16(u, sport);
	gframe_put16(u + 2, dport);
	gframe_put16(u + 4, (uint16_t)(8 + dlen));
	gframe_put16(u + 6, 0);
	memcpy(u + 8, data, dlen);
	gframe_put16(u + 6, gframe_l4sum(f, 17, 8 + dlen));
	return 34 + 8 + dlen;
}
