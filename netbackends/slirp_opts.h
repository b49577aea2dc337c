/*
 * slirp_opts.h: the user backend's options (-n user,...), parsed apart from
 * the backend so the parser stays small, testable and fuzzable.
 */
#ifndef RINGVM_SLIRP_OPTS_H
#define RINGVM_SLIRP_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>

#define USER_OPTS_MAX 2048	/* longest option string accepted */
#define USER_HOSTFWD_MAX 32	/* hostfwd rules per backend */
#define USER_HOSTNAME_MAX 32	/* slirp's DHCP host name field holds 32 */
/*
 * The default MTU: the link ends inside ringvm, where slirp's own TCP
 * sockets re-segment for the real network, so a larger MTU saves per-packet
 * work (the guest learns it through VIRTIO_NET_F_MTU). Not 65520: with
 * Linux's default 64 KiB receive window a single segment fills it, and
 * host-to-guest TCP stalls into stop-and-wait (bench/net: 5 Mbit/s). 16384
 * keeps most of the gain with no stall (bench/net's MTU sweep).
 */
#define USER_MTU_DEFAULT 16384
#define USER_MTU_MIN 1280	/* IPv6's minimum link MTU */
#define USER_MTU_MAX 65521	/* libslirp's IF_MTU_MAX */
#define USER_PREFIX_MAX 27	/* room for host .2, DNS .3 and the DHCP pool .15-.30 */
/*
 * Host sockets the guest's own flows may hold at once (TCP connections it
 * opens, UDP source ports, pings): sockets=N, F-1. Port forwards and the
 * connections they accept are not counted against it.
 */
#define USER_SOCKETS_DEFAULT 256
#define USER_SOCKETS_MAX 4096
/* One parsed hostfwd rule. */
struct user_fwd {
	bool udp;
	struct in_addr host_addr, guest_addr;	/* guest 0: the first DHCP address */
	int host_port, guest_port;
	const char *spec;			/* the text, for messages during parsing */
};

/* Parsed options, with defaults filled in. */
struct user_opts {
	struct in_addr net, mask, host, dns, dhcp;
	unsigned prefix;
	bool restricted, ipv6;
	unsigned mtu;
	unsigned sockets;			/* sockets=N: the guest's host sockets, at most */
	char hostname[USER_HOSTNAME_MAX + 1];
	struct user_fwd fwd[USER_HOSTFWD_MAX];
	unsigned nfwd;
};

/*
 * user_parse: parse the comma-separated options into o, defaults first.
 * Each option but hostfwd may appear once. Returns 0 or -EINVAL with a
 * one-line reason naming the bad option in err.
 */
int user_parse(const char *opts, struct user_opts *o, char *err, size_t errlen);

#endif
