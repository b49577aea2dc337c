/*
 * slirp_flows.c: count the host sockets libslirp holds for the guest and
 * refuse new guest flows beyond the cap (see slirp_flows.h). Functions are
 * prefixed user_ like the rest of the user backend: libslirp owns slirp_.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipframe.h"
#include "slirp_flows.h"

void user_flows_init(struct user_flows *fl, unsigned cap)
{
	memset(fl, 0, sizeof(*fl));
	fl->cap = cap;
}

void user_flows_fini(struct user_flows *fl)
{
	free(fl->sock);
	fl->sock = NULL;
	fl->len = 0;
}

/*
 * user_flows_classify: what opening a socket this frame may cause, in
 * *key: a TCP SYN (proto 6), a UDP datagram (17) or an IPv4 echo request
 * (1). Returns false for anything else (no socket: ARP, DHCP and DNS
 * answered by libslirp itself are UDP too, and are counted as UDP flows
 * only when libslirp opens a socket for them). IPv4 fragments never get
 * here (slirp.c drops them first).
 */
static bool user_flows_classify(const uint8_t *f, size_t len, struct user_flow_key *key)
{
	struct ipframe ip;
	const uint8_t *l4;

	memset(key, 0, sizeof(*key));
	if (!ipframe_parse(f, len, &ip))
		return false;
	l4 = f + ip.l4;
	key->af = ip.af;
	key->proto = ip.proto;
	memcpy(key->addr, ip.src, ip.af == 4 ? 4 : 16);
	switch (ip.proto) {
	case 6:
		/* A SYN without ACK asks libslirp to connect: a new socket. */
		if (ip.l4len < 20 || (l4[13] & 0x12) != 0x02)
			return false;
		key->port = (uint16_t)(l4[0] << 8 | l4[1]);
		return true;
	case 17:
		if (ip.l4len < 8)
			return false;
		key->port = (uint16_t)(l4[0] << 8 | l4[1]);
		return true;
	case 1:
		/* An IPv4 echo request: libslirp opens a ping socket for each. */
		return ip.af == 4 && ip.l4len >= 8 && l4[0] == 8;
	default:
		return false;
	}
}

/* user_flows_udp_live: a guest UDP socket for this source address and port exists. */
static bool user_flows_udp_live(const struct user_flows *fl, const struct user_flow_key *k)
{
	size_t alen = k->af == 4 ? 4 : 16;

	for (size_t fd = 0; fd < fl->len; fd++) {
		const struct user_sock *s = &fl->sock[fd];

		if (s->live && s->guest && s->key.proto == 17 && s->key.af == k->af &&
		    s->key.port == k->port && !memcmp(s->key.addr, k->addr, alen))
			return true;
	}
	return false;
}

bool user_flows_admit(struct user_flows *fl, const uint8_t *frame, size_t len)
{
	struct user_flow_key k;

	fl->in_input = true;
	if (!user_flows_classify(frame, len, &k)) {
		memset(&fl->cur, 0, sizeof(fl->cur));
		return true;
	}
	fl->cur = k;
	if (fl->guest < fl->cap)
		return true;
	/* At the cap: only a datagram of a flow libslirp already has a socket for. */
	if (k.proto == 17 && user_flows_udp_live(fl, &k))
		return true;
	fl->in_input = false;
	fl->refused++;
	return false;
}

void user_flows_input_done(struct user_flows *fl)
{
	fl->in_input = false;
	memset(&fl->cur, 0, sizeof(fl->cur));
}

int user_flows_register(struct user_flows *fl, int fd)
{
	struct user_sock *s;

	if (fd < 0)
		return 0;	/* libslirp announces failed sockets as -1 */
	if ((size_t)fd >= fl->len) {
		/* fd numbers are bounded by RLIMIT_NOFILE, which slirp.c sets. */
		size_t len = fl->len ? fl->len : 64;
		struct user_sock *n;

		while (len <= (size_t)fd)
			len *= 2;
		n = realloc(fl->sock, len * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + fl->len, 0, (len - fl->len) * sizeof(*n));
		fl->sock = n;
		fl->len = len;
	}
	s = &fl->sock[fd];
	if (s->live)
		return 0;
	s->live = true;
	s->guest = fl->in_input;
	s->key = fl->cur;
	if (s->guest)
		fl->guest++;
	else
		fl->host++;
	return 0;
}

void user_flows_unregister(struct user_flows *fl, int fd)
{
	struct user_sock *s;

	if (fd < 0 || (size_t)fd >= fl->len || !fl->sock[fd].live)
		return;
	s = &fl->sock[fd];
	if (s->guest)
		fl->guest--;
	else
		fl->host--;
	memset(s, 0, sizeof(*s));
}

int user_flows_cap_buffers(int fd)
{
	int v = USER_SOCK_BUF;

	/*
	 * Both ways, on every socket (TCP, UDP, ping): an explicit size is a
	 * fixed bound on the kernel memory the socket can hold, which the
	 * guest can fill by reading nothing, or by sending to a peer that reads
	 * nothing; autotuning would otherwise grow it by megabytes.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0)
		return -errno;
	return 0;
}
