/* ipframe.c: find the IP and transport headers of an Ethernet frame (ipframe.h). */
#include "ipframe.h"

#define ETH_HLEN 14

static uint16_t ipframe_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool ipframe_parse(const uint8_t *f, size_t len, struct ipframe *ip)
{
	const uint8_t *h = f + ETH_HLEN;
	size_t hl, tot;

	if (len < ETH_HLEN + 20)
		return false;
	switch (ipframe_be16(f + 12)) {
	case 0x0800:
		hl = (size_t)(h[0] & 15) * 4;
		tot = ipframe_be16(h + 2);
		if ((h[0] >> 4) != 4 || hl < 20 || tot < hl || ETH_HLEN + tot > len)
			return false;
		ip->af = 4;
		ip->proto = h[9];
		ip->src = h + 12;
		ip->dst = h + 16;
		ip->l4 = ETH_HLEN + hl;
		ip->l4len = tot - hl;
		return true;
	case 0x86dd:
		if (len < ETH_HLEN + 40 || (h[0] >> 4) != 6)
			return false;
		tot = ipframe_be16(h + 4);
		if (ETH_HLEN + 40 + tot > len)
			return false;
		ip->af = 6;
		ip->proto = h[6];
		ip->src = h + 8;
		ip->dst = h + 24;
		ip->l4 = ETH_HLEN + 40;
		ip->l4len = tot;
		return true;
	default:
		return false;
	}
}
