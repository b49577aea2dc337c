/*
 * test_slirp_flows.c: the cap on host sockets a guest can make the user
 * backend hold, and the cost of a loop iteration that slirp did not cause
 * (issue 7, F-1). The real backend and libslirp, guest frames built here.
 *
 * A hostile guest sent UDP from thousands of source ports to 10.0.2.2:
 * libslirp opened a host socket for each and kept it for minutes, ringvm
 * ran out of fds in under a second, and every loop iteration walked every
 * socket. Here: sockets=8; new flows beyond 8 are dropped and counted,
 * existing flows, TCP data and port forwards keep working, the process's
 * fds stay bounded; and an iteration woken by something else calls
 * neither slirp_pollfds_fill nor slirp_pollfds_poll (counted through the
 * linker's --wrap, tests/unit/netbackends.mk), at 0 and at 256 flows.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <slirp/libslirp.h>

#include "gframe.h"
#include "netbackend.h"
#include "slirp_flows.h"
#include "slirp_opts.h"
#include "unit.h"

static struct unit u = { .file = "slirp_flows" };

/* --- calls into libslirp, counted --- */
static unsigned long fills, polls;

void __real_slirp_pollfds_fill(Slirp *s, uint32_t *timeout, SlirpAddPollCb add, void *opaque);
void __wrap_slirp_pollfds_fill(Slirp *s, uint32_t *timeout, SlirpAddPollCb add, void *opaque);
void __real_slirp_pollfds_poll(Slirp *s, int err, SlirpGetREventsCb get, void *opaque);
void __wrap_slirp_pollfds_poll(Slirp *s, int err, SlirpGetREventsCb get, void *opaque);

void __wrap_slirp_pollfds_fill(Slirp *s, uint32_t *timeout, SlirpAddPollCb add, void *opaque)
{
	fills++;
	__real_slirp_pollfds_fill(s, timeout, add, opaque);
}

void __wrap_slirp_pollfds_poll(Slirp *s, int err, SlirpGetREventsCb get, void *opaque)
{
	polls++;
	__real_slirp_pollfds_poll(s, err, get, opaque);
}

/* --- the guest side --- */
struct cap {
	unsigned frames;
	unsigned syn_to_guest;		/* TCP SYNs libslirp sent the guest (port forwards) */
	unsigned arp_requests;
};

static int cap_rx(void *owner, const uint8_t *f, size_t len)
{
	struct cap *c = owner;

	c->frames++;
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1)
		c->arp_requests++;
	if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6 &&
	    (f[14 + 20 + 13] & 0x12) == 0x02)
		c->syn_to_guest++;
	return 0;
}

static void cap_tx_ready(void *owner)
{
	(void)owner;
}

/* udp: a datagram from the guest's port `sport` to 10.0.2.2:dport. */
static size_t udp(uint8_t *f, uint16_t sport, uint16_t dport, const char *data)
{
	return gframe_udp(f, "10.0.2.15", sport, "10.0.2.2", dport, data, strlen(data));
}

/* syn: the guest opens a connection from sport to 10.0.2.2:dport. */
static size_t syn(uint8_t *f, uint16_t sport, uint16_t dport)
{
	return gframe_tcp(f, "10.0.2.15", sport, "10.0.2.2", dport, 1, 0, 0x02, 0);
}

static void send1(struct net_backend *nb, const uint8_t *f, size_t n)
{
	nb->ops->send(nb, &(struct iovec){ (void *)f, n }, 1, n);
}

static void spin(struct ev_loop *ev, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ev_run(ev, EVRUN_NOWAIT);
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* udp_drain: datagrams waiting on the host socket. */
static unsigned udp_drain(int fd)
{
	char buf[64];
	unsigned n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

static int bind_lo(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    ((type & SOCK_STREAM) && listen(fd, 16)) || getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_cap(void)
{
	struct ev_loop *ev = ev_loop_new(EVBACKEND_EPOLL);
	struct net_backend nb;
	struct cap c = { 0 };
	static uint8_t f[256];
	char opts[128], err[256];
	uint16_t uport, tport, fport;
	int ufd = bind_lo(SOCK_DGRAM, &uport), tfd = bind_lo(SOCK_STREAM | SOCK_NONBLOCK, &tport), cfd;
	unsigned fd0, fd1, got;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	/* A free port for the forward: bind one, close it, reuse its number. */
	{
		int t = bind_lo(SOCK_STREAM, &fport);

		close(t);
	}
	memset(&nb, 0, sizeof(nb));
	nb.ops = &net_user_ops;
	nb.owner = &c;
	nb.rx = cap_rx;
	nb.tx_ready = cap_tx_ready;
	snprintf(opts, sizeof(opts), "sockets=8,hostfwd=tcp:127.0.0.1:%u-:22", fport);
	if (!ev || ufd < 0 || tfd < 0 || nb.ops->open(&nb, ev, opts, err, sizeof(err))) {
		UNIT_OK(&u, 0, "F-1: open the user backend with sockets=8 and a port forward");
		return;
	}
	nb.ops->rx_resume(&nb);
	send1(&nb, f, gframe_arp_request(f, "10.0.2.2"));
	spin(ev, 2);
	fd0 = count_fds();
	for (unsigned i = 0; i < 8; i++)
		send1(&nb, f, udp(f, (uint16_t)(20000 + i), uport, "in"));
	spin(ev, 5);
	got = udp_drain(ufd);
	UNIT_OK(&u, got == 8, "F-1: 8 UDP flows from 8 guest ports reach the host (8 sockets)");
	for (unsigned i = 0; i < 1000; i++)
		send1(&nb, f, udp(f, (uint16_t)(30000 + i), uport, "out"));
	spin(ev, 5);
	got = udp_drain(ufd);
	fd1 = count_fds();
	UNIT_OK(&u, got == 0 && nb.stats.tx_dropped == 1000,
	    "F-1: 1000 more flows from new ports: none reaches the host, all dropped and counted");
	UNIT_OK(&u, fd1 <= fd0 + 8, "F-1: the process holds at most 8 more fds for them");
	printf("# F-1: fds %u -> %u after 1008 guest UDP flows with sockets=8\n", fd0, fd1);
	send1(&nb, f, udp(f, 20003, uport, "again"));
	spin(ev, 5);
	UNIT_OK(&u, udp_drain(ufd) == 1, "F-1: at the cap, a datagram of an existing flow still passes");
	send1(&nb, f, syn(f, 40000, tport));
	spin(ev, 20);
	cfd = accept4(tfd, NULL, NULL, SOCK_CLOEXEC);
	UNIT_OK(&u, cfd < 0 && nb.stats.tx_dropped == 1001,
	    "F-1: at the cap, a guest TCP SYN opens no host connection (dropped, counted)");
	if (cfd >= 0)
		close(cfd);
	/* A port forward at the cap: the host connects, slirp accepts and calls the guest. */
	sa.sin_port = htons(fport);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	connect(cfd, (struct sockaddr *)&sa, sizeof(sa));
	/* Up to 10 s: on a loaded machine the accept and the ARP exchange take a while. */
	for (int i = 0; i < 10000 && !c.syn_to_guest; i++) {
		spin(ev, 1);
		if (!c.syn_to_guest)
			usleep(1000);
	}
	UNIT_OK(&u, c.syn_to_guest >= 1,
	    "F-1: at the cap, a connection to a port forward is accepted and reaches the guest");
	close(cfd);
	nb.ops->close(&nb);
	close(ufd);
	close(tfd);
	ev_loop_destroy(ev);
}

static void on_wake(struct ev_loop *ev, ev_io *w, int revents)
{
	uint64_t n;

	(void)ev;
	(void)revents;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
}

/*
 * iterations: `n` loop iterations each woken by an eventfd (as a vCPU exit
 * wakes the loop through its signalfd), slirp not involved. Returns the
 * mean time per iteration in microseconds; counts slirp calls meanwhile.
 */
static double iterations(struct ev_loop *ev, int efd, unsigned n, unsigned long *calls)
{
	struct timespec a, b;
	unsigned long f0 = fills, p0 = polls;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = 0; i < n; i++) {
		eventfd_write(efd, 1);
		ev_run(ev, EVRUN_ONCE);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	*calls = fills - f0 + polls - p0;
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n / 1e3;
}

static void test_iteration_cost(void)
{
	struct ev_loop *ev = ev_loop_new(EVBACKEND_EPOLL);
	struct net_backend nb;
	struct cap c = { 0 };
	static uint8_t f[256];
	char err[256];
	uint16_t uport;
	int ufd = bind_lo(SOCK_DGRAM, &uport), efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev_io wake;
	unsigned long calls0, calls256;
	double t0, t256;
	long rss0, rss1;
	unsigned fd0, fd1;

	memset(&nb, 0, sizeof(nb));
	nb.ops = &net_user_ops;
	nb.owner = &c;
	nb.rx = cap_rx;
	nb.tx_ready = cap_tx_ready;
	if (!ev || ufd < 0 || efd < 0 || nb.ops->open(&nb, ev, "sockets=256", err, sizeof(err))) {
		UNIT_OK(&u, 0, "F-1: open the user backend with sockets=256");
		return;
	}
	ev_io_init(&wake, on_wake, efd, EV_READ);
	ev_io_start(ev, &wake);
	nb.ops->rx_resume(&nb);
	send1(&nb, f, gframe_arp_request(f, "10.0.2.2"));
	spin(ev, 3);
	iterations(ev, efd, 1000, &calls0);	/* warm up */
	t0 = iterations(ev, efd, 20000, &calls0);
	rss0 = rss_kib();
	fd0 = count_fds();
	for (unsigned i = 0; i < 256; i++)
		send1(&nb, f, udp(f, (uint16_t)(20000 + i), uport, "x"));
	spin(ev, 5);
	udp_drain(ufd);
	rss1 = rss_kib();
	fd1 = count_fds();
	iterations(ev, efd, 1000, &calls256);
	t256 = iterations(ev, efd, 20000, &calls256);
	printf("# F-1: a loop iteration slirp did not cause: %.2f us with 0 flows, %.2f us with 256 "
	    "(slirp calls: %lu, %lu); at the cap: fds %u -> %u, RSS %ld -> %ld KiB\n",
	    t0, t256, calls0, calls256, fd0, fd1, rss0, rss1);
	UNIT_OK(&u, calls0 == 0 && calls256 == 0,
	    "F-1: 20,000 iterations woken by something else call slirp not once, at 0 and at 256 flows");
	UNIT_OK(&u, fd1 >= fd0 + 256 && fd1 <= fd0 + 260, "F-1: 256 flows hold 256 host sockets");
	ev_io_stop(ev, &wake);
	nb.ops->close(&nb);
	close(ufd);
	close(efd);
	ev_loop_destroy(ev);
}

/* sysctl_int: a number from /proc/sys, or `dflt` when it cannot be read. */
static long sysctl_int(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v = dflt;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

/*
 * sock_at: the fd of this process's socket of `type` bound to local port
 * `port` (host byte order), skipping `not`; -1 when none.
 */
static int sock_at(int type, uint16_t port, int not)
{
	for (int fd = 3; fd < 4096; fd++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int t = 0;
		socklen_t tl = sizeof(t);

		if (fd == not || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
		    sa.sin_family != AF_INET || getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tl) < 0 ||
		    t != type || (port && ntohs(sa.sin_port) != port))
			continue;
		return fd;
	}
	return -1;
}

/* bufs_capped: fd's buffers are USER_SOCK_BUF as set (doubled by the kernel, within its maxima). */
static bool bufs_capped(int fd)
{
	long rmax = sysctl_int("/proc/sys/net/core/rmem_max", 212992);
	long wmax = sysctl_int("/proc/sys/net/core/wmem_max", 212992);
	int rcv = 0, snd = 0;
	socklen_t l = sizeof(int);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &l) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &l) < 0)
		return false;
	printf("# buffers of fd %d: SO_RCVBUF %d, SO_SNDBUF %d (rmem_max %ld, wmem_max %ld)\n",
	    fd, rcv, snd, rmax, wmax);
	return rcv == 2 * (USER_SOCK_BUF < rmax ? USER_SOCK_BUF : rmax) &&
	    snd == 2 * (USER_SOCK_BUF < wmax ? USER_SOCK_BUF : wmax);
}

/*
 * test_buffers: every host socket libslirp opens for the guest gets its
 * kernel buffers set to USER_SOCK_BUF, which also stops autotuning: a TCP
 * connection the guest opens and a UDP flow. Unset, a TCP socket starts at
 * tcp_rmem[1]/tcp_wmem[1] and may grow to megabytes.
 */
static void test_buffers(void)
{
	struct ev_loop *ev = ev_loop_new(EVBACKEND_EPOLL);
	struct net_backend nb;
	struct cap c = { 0 };
	static uint8_t f[256];
	char err[256];
	uint16_t uport, tport;
	int ufd = bind_lo(SOCK_DGRAM, &uport), tfd = bind_lo(SOCK_STREAM | SOCK_NONBLOCK, &tport);
	int cfd = -1;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);

	memset(&nb, 0, sizeof(nb));
	nb.ops = &net_user_ops;
	nb.owner = &c;
	nb.rx = cap_rx;
	nb.tx_ready = cap_tx_ready;
	if (!ev || ufd < 0 || tfd < 0 || nb.ops->open(&nb, ev, "sockets=8", err, sizeof(err))) {
		UNIT_OK(&u, 0, "buffers: open the user backend");
		return;
	}
	nb.ops->rx_resume(&nb);
	send1(&nb, f, gframe_arp_request(f, "10.0.2.2"));
	spin(ev, 2);
	send1(&nb, f, syn(f, 41000, tport));
	for (int i = 0; i < 5000 && cfd < 0; i++) {
		spin(ev, 1);
		cfd = accept4(tfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (cfd < 0)
			usleep(1000);
	}
	UNIT_OK(&u, cfd >= 0 && bufs_capped(sock_at(SOCK_STREAM, ntohs(peer.sin_port), cfd)),
	    "buffers: a guest TCP connection's host socket has SO_RCVBUF and SO_SNDBUF set "
	    "to USER_SOCK_BUF");
	send1(&nb, f, udp(f, 21000, uport, "x"));
	spin(ev, 5);
	UNIT_OK(&u, udp_drain(ufd) == 1 && bufs_capped(sock_at(SOCK_DGRAM, 0, ufd)),
	    "buffers: a guest UDP flow's host socket too");
	if (cfd >= 0)
		close(cfd);
	nb.ops->close(&nb);
	close(ufd);
	close(tfd);
	ev_loop_destroy(ev);
}

int main(void)
{
	test_cap();
	test_buffers();
	test_iteration_cost();
	printf("# slirp_flows: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
