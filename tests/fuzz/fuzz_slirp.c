/*
 * fuzz_slirp.c: libFuzzer target for the guest-to-slirp path (HOSTILE.md
 * N9): what a guest sends through virtio-net reaches libslirp's parsers (ARP,
 * IPv4 fragments, TCP, UDP, DHCP/BOOTP, ICMP, IPv6, ICMPv6, DHCPv6) inside
 * ringvm's process. The input is a list of frames, each a 2-byte length and
 * its bytes, sent through the user backend's send(); the loop runs between
 * frames so slirp's replies and timers are exercised too. restrict=on keeps
 * a fuzzer from opening connections to the outside world; everything the
 * guest can make slirp parse is still parsed.
 *
 * Invariants: no crash or sanitizer report; every frame slirp hands back is
 * a whole Ethernet frame within NET_FRAME_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *ev;
	struct fs_owner owner = { 0 };
	struct net_backend nb;
	char err[256];

	if (!ev)
		ev = ev_loop_new(EVBACKEND_EPOLL);
	memset(&nb, 0, sizeof(nb));
	nb.ops = &net_user_ops;
	nb.owner = &owner;
	nb.rx = fs_rx;
	nb.tx_ready = fs_tx_ready;
	if (nb.ops->open(&nb, ev, getenv("FUZZ_SLIRP_OPTS") ? getenv("FUZZ_SLIRP_OPTS") : "restrict=on",
	    err, sizeof(err)))
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
			iov.iov_base = (void *)data;
			iov.iov_len = len;
			nb.ops->send(&nb, &iov, 1, len);
			ev_run(ev, EVRUN_NOWAIT);
		}
		data += len;
		size -= len;
	}
	nb.ops->close(&nb);
	return 0;
}
