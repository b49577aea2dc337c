/*
 * tcpooo.c: the guest side of the reassembly test (issue 14, C1): a TCP
 * endpoint of its own on a raw packet socket, at an address the guest
 * kernel does not own (so the kernel neither answers nor resets its
 * connections), that opens or accepts one connection through ringvm's user
 * backend and then sends N one-byte segments that each skip the next
 * expected byte: out of order, every one. Unguarded, libslirp keeps them
 * all. Then one in-order byte, which the peer must acknowledge: the
 * connection still works.
 *
 *   tcpooo connect IFACE MYIP PEERIP PORT N   open a connection to PEERIP:PORT
 *   tcpooo accept  IFACE MYIP PORT N          take one to MYIP:PORT (a port forward)
 *
 * Prints "TCPOOO sent=N acked=0|1". Built static by tests/bed/mkguest.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>

struct ep {
	int fd, ifindex;
	uint8_t mac[6], peer_mac[6];
	uint32_t me, peer;		/* network order */
	uint16_t myport, peerport;	/* host order */
	uint32_t snd, rcv;		/* next sequence to send, next expected */
	int have_peer_mac;
};

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static void tx(struct ep *e, const uint8_t *f, size_t n)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = e->ifindex, .sll_halen = 6 };

	memcpy(to.sll_addr, f, 6);
	if (sendto(e->fd, f, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		perror("tcpooo: sendto");
}

/* arp: a request for `target` (op 1) or a reply to `to_mac` (op 2). */
static void arp(struct ep *e, int op, uint32_t target, const uint8_t *to_mac)
{
	uint8_t f[42] = { 0 };

	memcpy(f, op == 1 ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : to_mac, 6);
	memcpy(f + 6, e->mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4, f[21] = (uint8_t)op;
	memcpy(f + 22, e->mac, 6);
	memcpy(f + 28, &e->me, 4);
	if (op == 2)
		memcpy(f + 32, to_mac, 6);
	memcpy(f + 38, &target, 4);
	tx(e, f, sizeof(f));
}

static void seg(struct ep *e, uint32_t seq, uint8_t flags, size_t plen)
{
	uint8_t f[14 + 20 + 20 + 64] = { 0 }, *ip = f + 14, *th = ip + 20, ph[12];
	size_t tl = 20 + plen;
	uint16_t c;

	memcpy(f, e->peer_mac, 6);
	memcpy(f + 6, e->mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tl) >> 8), ip[3] = (uint8_t)(20 + tl);
	ip[8] = 64, ip[9] = 6;
	memcpy(ip + 12, &e->me, 4);
	memcpy(ip + 16, &e->peer, 4);
	c = fold(sum(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	th[0] = (uint8_t)(e->myport >> 8), th[1] = (uint8_t)e->myport;
	th[2] = (uint8_t)(e->peerport >> 8), th[3] = (uint8_t)e->peerport;
	*(uint32_t *)(th + 4) = htonl(seq);
	*(uint32_t *)(th + 8) = htonl(e->rcv);
	th[12] = 5 << 4, th[13] = flags;
	th[14] = 0xff, th[15] = 0xff;
	memset(th + 20, 'o', plen);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0, ph[9] = 6, ph[10] = (uint8_t)(tl >> 8), ph[11] = (uint8_t)tl;
	c = fold(sum(sum(0, ph, 12), th, tl));
	th[16] = (uint8_t)(c >> 8), th[17] = (uint8_t)c;
	tx(e, f, 14 + 20 + tl);
}

/*
 * rx: wait up to `ms` for a TCP segment of our connection (answering ARP
 * for our address meanwhile). Fills flags, seq, ack; returns 1, or 0 on
 * timeout.
 */
static int rx(struct ep *e, int ms, uint8_t *flags, uint32_t *seq, uint32_t *ack, uint16_t *sport)
{
	uint8_t f[2048];
	struct pollfd p = { .fd = e->fd, .events = POLLIN };

	while (poll(&p, 1, ms) > 0) {
		ssize_t n = recv(e->fd, f, sizeof(f), 0);
		const uint8_t *ip = f + 14, *th;

		if (n < 42)
			continue;
		if (f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && !memcmp(f + 38, &e->me, 4)) {
			arp(e, 2, *(uint32_t *)(f + 28), f + 22);
			continue;
		}
		if (f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 && !memcmp(f + 28, &e->peer, 4)) {
			memcpy(e->peer_mac, f + 22, 6);
			e->have_peer_mac = 1;
			continue;
		}
		if (n < 54 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 6 || memcmp(ip + 16, &e->me, 4))
			continue;
		th = ip + (ip[0] & 15) * 4;
		if ((uint16_t)(th[2] << 8 | th[3]) != e->myport)
			continue;
		memcpy(e->peer_mac, f + 6, 6);
		e->have_peer_mac = 1;
		if (!e->peer)
			memcpy(&e->peer, ip + 12, 4);
		*flags = th[13];
		*seq = ntohl(*(const uint32_t *)(th + 4));
		*ack = ntohl(*(const uint32_t *)(th + 8));
		*sport = (uint16_t)(th[0] << 8 | th[1]);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ep e = { 0 };
	struct ifreq ifr = { 0 };
	uint8_t fl;
	uint32_t sq, ak;
	uint16_t sp;
	int accept_mode, n, acked = 0, i;

	if (argc < 6) {
		fprintf(stderr, "usage: tcpooo connect IFACE MYIP PEERIP PORT N | accept IFACE MYIP PORT N\n");
		return 2;
	}
	accept_mode = !strcmp(argv[1], "accept");
	e.fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
	if (e.fd < 0 || ioctl(e.fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("tcpooo: socket");
		return 1;
	}
	memcpy(e.mac, ifr.ifr_hwaddr.sa_data, 6);
	e.ifindex = (int)if_nametoindex(argv[2]);
	{
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		    .sll_ifindex = e.ifindex };

		bind(e.fd, (struct sockaddr *)&sll, sizeof(sll));
	}
	inet_pton(AF_INET, argv[3], &e.me);
	e.snd = 1000;
	if (!accept_mode) {
		inet_pton(AF_INET, argv[4], &e.peer);
		e.peerport = (uint16_t)atoi(argv[5]);
		e.myport = 40000;
		n = atoi(argv[6]);
		for (i = 0; i < 50 && !e.have_peer_mac; i++) {
			arp(&e, 1, e.peer, NULL);
			rx(&e, 100, &fl, &sq, &ak, &sp);
		}
		seg(&e, e.snd, 0x02, 0);
		while (rx(&e, 5000, &fl, &sq, &ak, &sp) && (fl & 0x12) != 0x12)
			;
		if ((fl & 0x12) != 0x12) {
			printf("TCPOOO no SYN-ACK\n");
			return 1;
		}
	} else {
		e.myport = (uint16_t)atoi(argv[4]);
		n = atoi(argv[5]);
		while (rx(&e, 60000, &fl, &sq, &ak, &sp) && (fl & 0x12) != 0x02)
			;
		if ((fl & 0x12) != 0x02) {
			printf("TCPOOO no SYN\n");
			return 1;
		}
		e.peerport = sp;
		e.rcv = sq + 1;
		seg(&e, e.snd, 0x12, 0);
		while (rx(&e, 5000, &fl, &sq, &ak, &sp) && !(fl & 0x10))
			;
	}
	e.rcv = sq + 1;
	if (!accept_mode)
		seg(&e, ++e.snd, 0x10, 0);	/* the handshake's ACK */
	else
		e.snd++;
	/* e.snd is the next byte expected: skip it, and every other one after. */
	for (i = 0; i < n; i++)
		seg(&e, e.snd + 1 + 2 * (uint32_t)i, 0x10, 1);
	/* One in-order byte: the peer must acknowledge it. */
	seg(&e, e.snd, 0x18, 1);
	for (i = 0; i < 50 && !acked; i++) {
		if (rx(&e, 200, &fl, &sq, &ak, &sp) && (fl & 0x10) && (int32_t)(ak - e.snd) >= 1)
			acked = 1;
		else if (i % 10 == 9)
			seg(&e, e.snd, 0x18, 1);
	}
	printf("TCPOOO sent=%d acked=%d\n", n, acked);
	return acked ? 0 : 1;
}
