/*
 * fuzz_slirp.c: libFuzzer target for the guest-to-slirp path (HOSTILE.md
 * N9): what a guest sends through virtio-net reaches libslirp's parsers (ARP,
 * IPv4 fragments, TCP, UDP, DHCP/BOOTP, ICMP, IPv6, ICMPv6, DHCPv6) inside
 * ringvm's process. The input is a list of frames, each a 2-byte length and
 * its bytes, sent through the user backend's send(); the loop runs between
 * frames so slirp's replies and timers are exercised too.
 *
 * Two modes, chosen by the top bit of the input's last byte (so the corpus
 * of frame lists keeps its layout):
 *  - restricted (restrict=on): every frame as the fuzzer wrote it; nothing
 *    leaves for the outside world, everything is still parsed;
 *  - open (restrict=off): flows really open. So that no fuzzer
 *    frame can reach beyond this machine, every IPv4 destination is
 *    rewritten to 10.0.2.2 (the host's loopback side) with its IP, TCP and
 *    UDP checksums recomputed, TCP goes to a listener the harness keeps on
 *    127.0.0.1, and IPv6 frames are left out (the restricted mode covers
 *    them). Here sockets, connections and out-of-order segments accumulate
 *    as a guest would make them (issue 14).
 *
 * Invariants: no crash or sanitizer report; every frame slirp hands back is
 * a whole Ethernet frame within NET_FRAME_MAX; the heap grows by less than
 * FS_HEAP_BOUND over one input, whatever it sends.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "netbackend.h"

struct fs_owner {
	unsigned long frames;
};

static int fs_rx(void *owner, const uint8_t *frame, size_t len)
{
	struct fs_owner *o = owner;

	if (len < 14 || len > NET_FRAME_MAX)
		abort();	/* slirp must hand back whole frames within the limit */
	o->frames++;
	(void)frame;
	return 0;
}

static void fs_tx_ready(void *owner)
{
	(void)owner;
}

/*
 * What one input may make the user backend hold: 256 out-of-order segments
 * of at most the MTU (the TCP guard), sockets=16 sockets with libslirp's
 * buffers, and its queue of 1 MiB, with room to spare.
 */
#define FS_HEAP_BOUND (64u << 20)

static uint16_t fs_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t fs_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

/*
 * fs_confine: open mode: point an IPv4 frame at 10.0.2.2 (TCP at `port`)
 * and make its checksums right again. Returns false for frames left out.
 */
static bool fs_confine(uint8_t *f, size_t len, uint16_t port)
{
	uint8_t *ip = f + 14, *l4, ph[12];
	size_t hl, tot, l4len;
	uint16_t c;

	if (f[12] == 0x08 && f[13] == 0x06)
		return true;		/* ARP stays on the link */
	if (f[12] != 0x08 || f[13] != 0x00 || len < 34)
		return false;
	hl = (size_t)(ip[0] & 15) * 4;
	tot = (size_t)ip[2] << 8 | ip[3];
	if (hl < 20 || 14 + hl > len)
		return false;
	ip[16] = 10, ip[17] = 0, ip[18] = 2, ip[19] = 2;
	ip[10] = ip[11] = 0;
	c = fs_fold(fs_sum(0, ip, hl));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	if (tot < hl || 14 + tot > len || (ip[6] & 0x3f) || ip[7])
		return true;		/* slirp drops or (fragments) ringvm does */
	l4 = ip + hl;
	l4len = tot - hl;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0, ph[9] = ip[9], ph[10] = (uint8_t)(l4len >> 8), ph[11] = (uint8_t)l4len;
	if (ip[9] == 6 && l4len >= 20) {
		l4[2] = (uint8_t)(port >> 8), l4[3] = (uint8_t)port;
		l4[16] = l4[17] = 0;
		c = fs_fold(fs_sum(fs_sum(0, ph, 12), l4, l4len));
		l4[16] = (uint8_t)(c >> 8), l4[17] = (uint8_t)c;
	} else if (ip[9] == 17 && l4len >= 8) {
		l4[6] = l4[7] = 0;
		c = fs_fold(fs_sum(fs_sum(0, ph, 12), l4, l4len));
		l4[6] = (uint8_t)(c >> 8), l4[7] = (uint8_t)c;
	}
	return true;
}

/* fs_listener: a TCP listener on 127.0.0.1 that open-mode connections reach. */
static int fs_listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		abort();
	*port = ntohs(sa.sin_port);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *ev;
	struct fs_owner owner = { 0 };
	struct net_backend nb;
	char err[256];

	static uint8_t frame[NET_FRAME_MAX];
	static uint16_t port;
	static int lfd = -1;
	bool open_mode = size > 0 && (data[size - 1] & 0x80);
	size_t heap0;
	int afd;

	if (!ev)
		ev = ev_loop_new(EVBACKEND_EPOLL);
	if (lfd < 0)
		lfd = fs_listener(&port);
	memset(&nb, 0, sizeof(nb));
	nb.ops = &net_user_ops;
	nb.owner = &owner;
	nb.rx = fs_rx;
	nb.tx_ready = fs_tx_ready;
	heap0 = mallinfo2().uordblks;
	if (nb.ops->open(&nb, ev, open_mode ? "restrict=off,ipv6=off,sockets=16" :
	    getenv("FUZZ_SLIRP_OPTS") ? getenv("FUZZ_SLIRP_OPTS") : "restrict=on", err, sizeof(err)))
		abort();
	nb.ops->rx_resume(&nb);
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		struct iovec iov;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len >= 14 && len <= NET_FRAME_MAX) {
			memcpy(frame, data, len);
			if (!open_mode || fs_confine(frame, len, port)) {
				iov.iov_base = frame;
				iov.iov_len = len;
				nb.ops->send(&nb, &iov, 1, len);
				ev_run(ev, EVRUN_NOWAIT);
			}
		}
		data += len;
		size -= len;
	}
	/* Whatever the guest sent, what the backend holds stays bounded. */
	if (mallinfo2().uordblks > heap0 + FS_HEAP_BOUND)
		abort();
	while ((afd = accept(lfd, NULL, NULL)) >= 0)
		close(afd);
	nb.ops->close(&nb);
	return 0;
}
