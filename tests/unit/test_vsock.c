/*
 * test_vsock.c: the virtio-vsock device against docs/VSOCK.md, first half:
 * the spec parser and the socket file, guest connections to a host
 * listener and to an in-process port (data both ways), the host CONNECT
 * handshake, half-close both ways, RST for unknown ports, CIDs, types and
 * ops, and malformed chains. Credit, wrap, caps, storms and reset are in
 * test_vsock_flow.c.
 *
 * The device is the real one (vsock_create) behind the real virtio-pci
 * transport, driven by the fake driver of vsockfake.c; host programs are
 * AF_UNIX sockets in a scratch directory. No KVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_vsock.h"

struct unit u = { .file = "vsock" };
static char dir[64];
char sock_path[128];

/* --- the fixture (test_vsock.h) --- */

void fx_init(struct vsg *g, bool path)
{
	struct vsock_spec spec = { .cid = VSG_CID };

	if (path)
		snprintf(spec.path, sizeof(spec.path), "%.80s", sock_path);
	if (vsg_init(g, &spec, false)) {
		printf("not ok - vsock: fixture: vsg_init failed\n");
		exit(1);
	}
	vsg_post_rx(g, 64, 4096);
}

static int uds(const char *path, bool do_listen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (do_listen ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) :
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int srv_listen(uint32_t port)
{
	char p[160];

	snprintf(p, sizeof(p), "%s_%u", sock_path, port);
	unlink(p);
	return uds(p, true);
}

int srv_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int host_dial(void)
{
	return uds(sock_path, false);
}

long host_read(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : n;
}

size_t host_drain(int fd, uint8_t *buf, size_t cap, bool *eof)
{
	size_t got = 0;

	*eof = false;
	for (;;) {
		uint8_t junk[4096];
		ssize_t n = read(fd, got < cap ? buf + got : junk,
		    got < cap ? cap - got : sizeof(junk));

		/* A peer that closed with our bytes unread resets: that is an end too. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			*eof = true;
		if (n <= 0)
			return got;
		got += (size_t)n;
	}
}

void tx_ctl(struct vsg *g, uint16_t op, uint32_t src, uint32_t dst, uint32_t flags,
    uint32_t buf_alloc, uint32_t fwd_cnt)
{
	struct vsock_pkt h = { .src_port = src, .dst_port = dst, .op = op, .flags = flags,
	    .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt };

	vsg_tx(g, &h, NULL, 0);
}

void tx_data(struct vsg *g, uint32_t src, uint32_t dst, const void *data, uint32_t len,
    uint32_t buf_alloc, uint32_t fwd_cnt)
{
	struct vsock_pkt h = { .src_port = src, .dst_port = dst, .op = OP(RW),
	    .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt };

	vsg_tx(g, &h, data, len);
}

bool rx_next(struct vsg *g, struct vsg_pkt *p)
{
	vsg_run(g);
	vsg_tx_used(g);
	return vsg_rx(g, p) == 1;
}

bool rx_is(struct vsg *g, struct vsg_pkt *p, uint16_t op, uint32_t src, uint32_t dst)
{
	if (!rx_next(g, p)) {
		printf("# no packet (wanted op %u %u -> %u)\n", op, src, dst);
		return false;
	}
	if (p->h.op != op || p->h.src_port != src || p->h.dst_port != dst ||
	    p->h.src_cid != VSOCK_HOST_CID || p->h.dst_cid != VSG_CID ||
	    p->used_len != VSOCK_HDR_LEN + p->h.len) {
		printf("# packet op %u %u -> %u cid %llu -> %llu len %u used %u; wanted op %u %u -> %u\n",
		    p->h.op, p->h.src_port, p->h.dst_port, (unsigned long long)p->h.src_cid,
		    (unsigned long long)p->h.dst_cid, p->h.len, p->used_len, op, src, dst);
		return false;
	}
	return true;
}

bool rx_none(struct vsg *g)
{
	struct vsg_pkt p;

	if (!rx_next(g, &p))
		return true;
	printf("# unexpected packet op %u %u -> %u\n", p.h.op, p.h.src_port, p.h.dst_port);
	return false;
}

bool guest_connect(struct vsg *g, uint32_t dst, uint32_t src, uint32_t buf_alloc)
{
	struct vsg_pkt p;

	tx_ctl(g, OP(REQUEST), src, dst, 0, buf_alloc, 0);
	return rx_is(g, &p, OP(RESPONSE), dst, src) && p.h.buf_alloc == VSOCK_BUF_ALLOC &&
	    p.h.type == VIRTIO_VSOCK_TYPE_STREAM;
}

void pattern(uint8_t *p, size_t len, unsigned seed, size_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((off + i) * 31 + seed * 7 + ((off + i) >> 9));
}

struct vsock_conn *conn_of(struct vsg *g, uint32_t local, uint32_t peer)
{
	return vsock_conn_find(g->vs, local, peer);
}

int hpair_connect(void *ctx, uint32_t port)
{
	struct hpair *h = ctx;
	int sv[2];

	(void)port;
	if (h->fail)
		return h->fail;
	if (h->n == sizeof(h->keep) / sizeof(h->keep[0]) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -EMFILE;
	if (h->sndbuf)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &h->sndbuf, sizeof(h->sndbuf));
	h->keep[h->n++] = sv[1];
	return sv[0];
}

void hpair_close(struct hpair *h)
{
	for (unsigned i = 0; i < h->n; i++)
		close(h->keep[i]);
	h->n = 0;
}

/* --- the spec and the socket file --- */

static void test_spec(void)
{
	static const struct { const char *s; bool ok; uint32_t cid; const char *path; } c[] = {
		{ "", true, 3, "" },
		{ "cid=7", true, 7, "" },
		{ "path=/tmp/x.sock", true, 3, "/tmp/x.sock" },
		{ "cid=4294967294,path=/a", true, 4294967294u, "/a" },
		{ "cid=2", false, 0, NULL },
		{ "cid=0", false, 0, NULL },
		{ "cid=4294967295", false, 0, NULL },
		{ "cid=99999999999", false, 0, NULL },
		{ "cid=3x", false, 0, NULL },
		{ "cid=", false, 0, NULL },
		{ "path=", false, 0, NULL },
		{ "path=/a,path=/b", false, 0, NULL },
		{ "cid=3,cid=4", false, 0, NULL },
		{ "port=1", false, 0, NULL },
		{ "path=/a,", false, 0, NULL },
	};
	char longp[200], err[300], name[200];
	struct vsock_spec spec;

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = vsock_parse_spec(c[i].s, &spec, err, sizeof(err));
		bool good = c[i].ok ? r == 0 && spec.cid == c[i].cid && !strcmp(spec.path, c[i].path) :
		    r == -1 && err[0];

		snprintf(name, sizeof(name), "spec '%s' %s", c[i].s, c[i].ok ? "parses" : "is refused");
		UNIT_OK(&u, good, name);
	}
	memcpy(longp, "path=", 5);
	memset(longp + 5, 'a', VSOCK_PATH_MAX);
	longp[5 + VSOCK_PATH_MAX] = '\0';
	UNIT_OK(&u, vsock_parse_spec(longp, &spec, err, sizeof(err)) == 0 &&
	    strlen(spec.path) == VSOCK_PATH_MAX, "spec: a path of VSOCK_PATH_MAX bytes parses");
	strcat(longp, "a");
	UNIT_OK(&u, vsock_parse_spec(longp, &spec, err, sizeof(err)) == -1 && strstr(err, "longer"),
	    "spec: one byte more is refused (PATH_PORT must fit sun_path)");
}

static void test_path_file(void)
{
	struct vsock_spec spec = { .cid = 3 };
	struct vstub_vm v;
	struct vsock *vs = NULL;
	struct stat st;
	char err[300];
	int fd, r;

	vstub_vm_init(&v, VSG_RAM, 0, 0);
	snprintf(spec.path, sizeof(spec.path), "%.80s", sock_path);
	/* A regular file in the way is refused, untouched. */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	UNIT_OK(&u, vsock_host_path_check(sock_path, err, sizeof(err)) == -EEXIST &&
	    strstr(err, "not a socket"), "path: a regular file is refused with a reason");
	vf_stderr_begin();
	r = vsock_create(&v.vm, &spec, &vs);
	vf_stderr_end(err, sizeof(err));
	UNIT_OK(&u, r == -EEXIST && stat(sock_path, &st) == 0 && S_ISREG(st.st_mode),
	    "path: vsock_create refuses a regular file and leaves it alone");
	unlink(sock_path);
	/* A stale socket is replaced, and left at destroy (the sandbox removes no file). */
	fd = uds(sock_path, true);
	close(fd);
	r = vsock_create(&v.vm, &spec, &vs);
	UNIT_OK(&u, r == 0 && vs->listen_fd >= 0 && stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "path: a stale socket file is replaced by the device's listener");
	fd = host_dial();
	UNIT_OK(&u, fd >= 0, "path: host programs can connect to it");
	close(fd);
	vsock_destroy(vs);
	UNIT_OK(&u, stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "path: destroy leaves the socket file (no file is removed once sandboxed)");
	r = vsock_create(&v.vm, &spec, &vs);
	UNIT_OK(&u, r == 0 && vs->listen_fd >= 0, "path: the next device replaces the one left");
	vsock_destroy(vs);
	unlink(sock_path);
	/* No path: a device with in-process ports only. */
	spec.path[0] = '\0';
	r = vsock_create(&v.vm, &spec, &vs);
	UNIT_OK(&u, r == 0 && vs->listen_fd == -1, "path: optional (in-process ports only)");
	UNIT_OK(&u, vstub_bar_read(vs->vp, VS_DEVCFG, 4) == 3 && vstub_bar_read(vs->vp, VS_DEVCFG + 4, 4) == 0 &&
	    vs->vp->pci.cfg[2] == 0x40 + 19 && vs->vp->pci.cfg[3] == 0x10,
	    "config: guest_cid 3 (le64) in config space; PCI device 0x1053 (virtio type 19)");
	vsock_destroy(vs);
	vstub_vm_fini(&v);
}

/* --- guest connections --- */

/*
 * sndbuf_is_ours: every live connection's host socket has the send buffer
 * ringvm sets: VSOCK_HOST_SNDBUF, doubled by the kernel within wmem_max.
 */
static bool sndbuf_is_ours(const struct vsock *vs)
{
	long wmax = 212992;
	unsigned n = 0;
	FILE *f = fopen("/proc/sys/net/core/wmem_max", "r");

	if (f) {
		if (fscanf(f, "%ld", &wmax) != 1)
			wmax = 212992;
		fclose(f);
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		int v = 0;
		socklen_t l = sizeof(v);

		if (vs->conn[i].state == VSOCK_FREE || vs->conn[i].fd < 0)
			continue;
		if (getsockopt(vs->conn[i].fd, SOL_SOCKET, SO_SNDBUF, &v, &l) < 0 ||
		    v != 2 * (VSOCK_HOST_SNDBUF < wmax ? (long)VSOCK_HOST_SNDBUF : wmax))
			return false;
		n++;
	}
	return n > 0;
}

static void test_guest_uds(void)
{
	struct vsg g;
	struct vsg_pkt p;
	uint8_t out[6000], in[6000];
	bool eof, ok;
	int lfd, hfd;

	fx_init(&g, true);
	lfd = srv_listen(1234);
	UNIT_OK(&u, guest_connect(&g, 1234, 5000, GBUF), "guest -> host:1234: RESPONSE from PATH_1234");
	hfd = srv_accept(lfd);
	UNIT_OK(&u, hfd >= 0, "guest -> host:1234: the host program's accept() returns");
	UNIT_OK(&u, sndbuf_is_ours(g.vs), "guest -> host:1234: the host socket's SO_SNDBUF is "
	    "VSOCK_HOST_SNDBUF, not the host's default");
	pattern(out, 3000, 1, 0);
	tx_data(&g, 5000, 1234, out, 3000, GBUF, 0);
	vsg_run(&g);
	UNIT_OK(&u, host_drain(hfd, in, sizeof(in), &eof) == 3000 && !memcmp(in, out, 3000),
	    "guest -> host: 3000 bytes arrive intact");
	pattern(out, 1000, 2, 0);
	ok = write(hfd, out, 1000) == 1000 && rx_is(&g, &p, OP(RW), 1234, 5000) && p.h.len == 1000 &&
	    !memcmp(p.data, out, 1000) && p.h.fwd_cnt == 3000 && p.h.buf_alloc == VSOCK_BUF_ALLOC;
	UNIT_OK(&u, ok, "host -> guest: 1000 bytes in one RW packet carrying fwd_cnt 3000, buf_alloc 256 KiB");
	/* More than one RX buffer holds: split at the buffer size, in order. */
	pattern(out, sizeof(out), 3, 0);
	ok = write(hfd, out, sizeof(out)) == sizeof(out) && rx_is(&g, &p, OP(RW), 1234, 5000) &&
	    p.h.len == 4096 - VSOCK_HDR_LEN && !memcmp(p.data, out, p.h.len);
	ok = ok && rx_is(&g, &p, OP(RW), 1234, 5000) && p.h.len == 6000 - (4096 - VSOCK_HDR_LEN) &&
	    !memcmp(p.data, out + 4096 - VSOCK_HDR_LEN, p.h.len);
	UNIT_OK(&u, ok, "host -> guest: 6000 bytes into 4 KiB buffers: 4052 + 1948, in order");
	/* A guest connection to a port nobody listens on is refused. */
	tx_ctl(&g, OP(REQUEST), 5001, 4321, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 4321, 5001) && g.vs->nr_conns == 1,
	    "guest -> host:4321 with no PATH_4321 listener: RST, no slot kept");
	/* The guest resets: the host program reads EOF. */
	tx_ctl(&g, OP(RST), 5000, 1234, 0, GBUF, 0);
	vsg_run(&g);
	host_drain(hfd, in, sizeof(in), &eof);
	UNIT_OK(&u, eof && g.vs->nr_conns == 0 && rx_none(&g),
	    "guest RST: host socket closed (EOF), slot freed, no RST answered");
	close(hfd);
	close(lfd);
	vsg_fini(&g);
}

static void test_handler(void)
{
	struct hpair h = { 0 }, h2 = { .fail = -ECONNREFUSED };
	struct vsg g;
	struct vsg_pkt p;
	uint8_t buf[100];
	bool eof;
	int lfd;

	fx_init(&g, true);
	lfd = srv_listen(7000);
	UNIT_OK(&u, vsock_set_port_handler(g.vs, 7000, hpair_connect, &h) == 0 &&
	    vsock_set_port_handler(g.vs, 7001, hpair_connect, &h2) == 0, "handler: registered");
	UNIT_OK(&u, guest_connect(&g, 7000, 6000, GBUF) && h.n == 1 && srv_accept(lfd) < 0,
	    "handler: guest -> host:7000 uses the handler, not PATH_7000");
	tx_data(&g, 6000, 7000, "ping", 4, GBUF, 0);
	vsg_run(&g);
	UNIT_OK(&u, host_drain(h.keep[0], buf, sizeof(buf), &eof) == 4 && !memcmp(buf, "ping", 4),
	    "handler: guest data reaches the in-process end");
	UNIT_OK(&u, write(h.keep[0], "pong!", 5) == 5 && rx_is(&g, &p, OP(RW), 7000, 6000) &&
	    p.h.len == 5 && !memcmp(p.data, "pong!", 5), "handler: in-process data reaches the guest");
	tx_ctl(&g, OP(REQUEST), 6001, 7001, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 7001, 6001) && g.vs->cnt.refused == 1,
	    "handler: a handler's -ECONNREFUSED answers the guest with RST");
	vsock_set_port_handler(g.vs, 7000, NULL, NULL);
	tx_ctl(&g, OP(REQUEST), 6002, 7000, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RESPONSE), 7000, 6002) && h.n == 1,
	    "handler: removed, port 7000 falls back to PATH_7000");
	for (uint32_t i = 0; i < VSOCK_MAX_HANDLERS; i++)
		vsock_set_port_handler(g.vs, 100 + i, hpair_connect, &h);
	UNIT_OK(&u, vsock_set_port_handler(g.vs, 99, hpair_connect, &h) == -ENOSPC &&
	    vsock_set_port_handler(g.vs, 100, hpair_connect, &h2) == 0,
	    "handler: at most 16 (-ENOSPC), replacing one is fine");
	hpair_close(&h);
	close(lfd);
	vsg_fini(&g);
}

/* --- host-initiated: CONNECT <port> --- */

static void test_host_connect(void)
{
	struct vsg g;
	struct vsg_pkt p;
	char buf[64];
	bool eof, ok;
	int hfd, h2;

	fx_init(&g, true);
	hfd = host_dial();
	/* The line and the first data in one write: the data must wait for the stream. */
	ok = write(hfd, "CONNECT 52\nhello", 16) == 16 && rx_is(&g, &p, OP(REQUEST), 1024, 52) &&
	    p.h.buf_alloc == VSOCK_BUF_ALLOC;
	UNIT_OK(&u, ok, "CONNECT 52: the guest gets REQUEST 1024 -> 52");
	UNIT_OK(&u, host_read(hfd, buf, sizeof(buf)) == -EAGAIN, "CONNECT: nothing for the host before RESPONSE");
	tx_ctl(&g, OP(RESPONSE), 52, 1024, 0, GBUF, 0);
	ok = rx_is(&g, &p, OP(RW), 1024, 52) && p.h.len == 5 && !memcmp(p.data, "hello", 5);
	UNIT_OK(&u, ok, "CONNECT: after RESPONSE the bytes after the line reach the guest");
	ok = host_read(hfd, buf, sizeof(buf)) == 8 && !memcmp(buf, "OK 1024\n", 8);
	UNIT_OK(&u, ok, "CONNECT: the host program reads 'OK 1024'");
	tx_data(&g, 52, 1024, "reply", 5, GBUF, 5);
	vsg_run(&g);
	UNIT_OK(&u, host_read(hfd, buf, sizeof(buf)) == 5 && !memcmp(buf, "reply", 5),
	    "CONNECT: guest data reaches the host program");
	/* A second program gets the next port; the guest refuses it: EOF, no OK. */
	h2 = host_dial();
	ok = write(h2, "CONNECT 52\n", 11) == 11 && rx_is(&g, &p, OP(REQUEST), 1025, 52);
	UNIT_OK(&u, ok, "CONNECT: a second host program gets host port 1025");
	tx_ctl(&g, OP(RST), 52, 1025, 0, 0, 0);
	vsg_run(&g);
	UNIT_OK(&u, host_drain(h2, (uint8_t *)buf, sizeof(buf), &eof) == 0 && eof && g.vs->nr_conns == 1,
	    "CONNECT refused by the guest (RST): the host program reads EOF without OK");
	close(h2);
	/* Host ports wrap before 0xffffffff (VMADDR_PORT_ANY) and skip live ones (1024 is). */
	g.vs->next_port = 0xfffffffe;
	h2 = host_dial();
	ok = write(h2, "CONNECT 53\n", 11) == 11 && rx_is(&g, &p, OP(REQUEST), 0xfffffffe, 53);
	close(h2);
	h2 = host_dial();
	ok = ok && write(h2, "CONNECT 54\n", 11) == 11 && rx_is(&g, &p, OP(REQUEST), 1025, 54);
	UNIT_OK(&u, ok, "host ports: 0xfffffffe, then wrap to 1024, which is live, so 1025");
	close(h2);
	close(hfd);
	vsg_run(&g);
	vsg_fini(&g);
}

static void test_host_bad_lines(void)
{
	static const char *const bad[] = {
		"CONNEKT 52\n", "CONNECT \n", "CONNECT 52x\n", "CONNECT 4294967295\n",
		"CONNECT 99999999999\n", "connect 52\n", "CONNECT  52\n", "CONNECT 52\r\n",
		"CONNECT 00000000000000000000000000052\n",
	};
	struct vsg g;
	uint8_t buf[64];
	char name[120];
	bool eof;
	int fd;

	fx_init(&g, true);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = host_dial();
		if (write(fd, bad[i], strlen(bad[i])) < 0)
			abort();
		vsg_run(&g);
		snprintf(name, sizeof(name), "CONNECT line %u (bad): closed, no REQUEST", i);
		UNIT_OK(&u, host_drain(fd, buf, sizeof(buf), &eof) == 0 && eof && rx_none(&g) &&
		    g.vs->nr_conns == 0, name);
		close(fd);
	}
	/* 40 bytes and no newline: past VSOCK_LINE_MAX, closed; in pieces, bytes are bounded. */
	fd = host_dial();
	for (int i = 0; i < 5; i++) {
		if (write(fd, "CONNECT ", 8) != 8 && i < 4)
			abort();	/* the fifth may find the device gone (EPIPE) */
		vsg_run(&g);
	}
	UNIT_OK(&u, host_drain(fd, buf, sizeof(buf), &eof) == 0 && eof && g.vs->nr_conns == 0 &&
	    g.vs->cnt.host_refused == sizeof(bad) / sizeof(bad[0]) + 1,
	    "CONNECT line: 40 bytes without a newline are refused at 32");
	close(fd);
	/* A line in pieces is fine. */
	fd = host_dial();
	if (write(fd, "CONN", 4) != 4)
		abort();
	vsg_run(&g);
	if (write(fd, "ECT 9\n", 6) != 6)
		abort();
	UNIT_OK(&u, rx_is(&g, &(struct vsg_pkt){ 0 }, OP(REQUEST), 1024, 9),
	    "CONNECT line written in two pieces: REQUEST");
	close(fd);
	vsg_run(&g);
	vsg_fini(&g);
}

/* --- half-close --- */

static void test_half_close(void)
{
	struct vsg g;
	struct vsg_pkt p;
	uint8_t buf[64];
	bool eof, ok;
	int lfd, hfd;

	fx_init(&g, true);
	lfd = srv_listen(80);
	/* Guest stops sending first; the host still sends, then closes. */
	guest_connect(&g, 80, 9000, GBUF);
	hfd = srv_accept(lfd);
	tx_data(&g, 9000, 80, "abc", 3, GBUF, 0);
	tx_ctl(&g, OP(SHUTDOWN), 9000, 80, SHUT_S, GBUF, 0);
	vsg_run(&g);
	ok = host_drain(hfd, buf, sizeof(buf), &eof) == 3 && eof && conn_of(&g, 80, 9000);
	UNIT_OK(&u, ok, "guest SHUTDOWN(SEND): the host reads the data, then EOF; still open");
	ok = write(hfd, "xyz", 3) == 3 && rx_is(&g, &p, OP(RW), 80, 9000) && p.h.len == 3;
	UNIT_OK(&u, ok, "guest SHUTDOWN(SEND): host -> guest still flows");
	shutdown(hfd, SHUT_WR);
	ok = rx_is(&g, &p, OP(SHUTDOWN), 80, 9000) && p.h.flags == SHUT_S &&
	    rx_is(&g, &p, OP(RST), 80, 9000) && !conn_of(&g, 80, 9000);
	UNIT_OK(&u, ok, "then host EOF: SHUTDOWN(SEND) to the guest, then RST (both ways done)");
	close(hfd);
	/* Host stops sending first; the guest still sends, then closes both ways. */
	guest_connect(&g, 80, 9001, GBUF);
	hfd = srv_accept(lfd);
	shutdown(hfd, SHUT_WR);
	ok = rx_is(&g, &p, OP(SHUTDOWN), 80, 9001) && p.h.flags == SHUT_S && rx_none(&g);
	UNIT_OK(&u, ok, "host EOF: SHUTDOWN(SEND) to the guest, connection stays");
	tx_data(&g, 9001, 80, "late", 4, GBUF, 0);
	vsg_run(&g);
	UNIT_OK(&u, host_read(hfd, buf, sizeof(buf)) == 4, "host EOF: guest -> host still flows");
	tx_ctl(&g, OP(SHUTDOWN), 9001, 80, SHUT_R | SHUT_S, GBUF, 0);
	ok = rx_is(&g, &p, OP(RST), 80, 9001) && !conn_of(&g, 80, 9001);
	UNIT_OK(&u, ok, "then guest SHUTDOWN(RCV|SEND): RST, slot freed");
	UNIT_OK(&u, host_read(hfd, buf, sizeof(buf)) == 0, "and the host reads EOF");
	close(hfd);
	/* Guest will not receive: the host's writes fail (EPIPE), nothing is read for it. */
	guest_connect(&g, 80, 9002, GBUF);
	hfd = srv_accept(lfd);
	tx_ctl(&g, OP(SHUTDOWN), 9002, 80, SHUT_R, GBUF, 0);
	vsg_run(&g);
	ok = send(hfd, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE && rx_none(&g);
	UNIT_OK(&u, ok, "guest SHUTDOWN(RCV): the host's writes fail with EPIPE, nothing reaches the guest");
	/* SHUTDOWN flags are permanent: a later SHUTDOWN without them changes nothing. */
	tx_ctl(&g, OP(SHUTDOWN), 9002, 80, 0, GBUF, 0);
	tx_ctl(&g, OP(SHUTDOWN), 9002, 80, SHUT_S, GBUF, 0);
	ok = rx_is(&g, &p, OP(RST), 80, 9002);
	UNIT_OK(&u, ok, "guest RCV then SEND (a flagless one between): RST");
	close(hfd);
	/* The host program goes away entirely: guest data then finds EPIPE and gets RST. */
	guest_connect(&g, 80, 9003, GBUF);
	hfd = srv_accept(lfd);
	close(hfd);
	ok = rx_is(&g, &p, OP(SHUTDOWN), 80, 9003) && p.h.flags == SHUT_S;
	tx_data(&g, 9003, 80, "lost", 4, GBUF, 0);
	ok = ok && rx_is(&g, &p, OP(RST), 80, 9003) && !conn_of(&g, 80, 9003) && g.vs->held == 0;
	UNIT_OK(&u, ok, "host closed: SHUTDOWN(SEND), then guest data gets RST; nothing counted as held");
	close(lfd);
	vsg_fini(&g);
}

/* --- RST for what matches nothing --- */

static void test_rst(void)
{
	struct vsg g;
	struct vsg_pkt p;
	struct hpair h = { 0 };
	struct vsock_pkt x;
	uint8_t buf[16];
	bool eof, ok;

	fx_init(&g, false);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	x = (struct vsock_pkt){ .dst_cid = 77, .src_port = 1, .dst_port = 5, .op = OP(REQUEST) };
	vsg_tx(&g, &x, NULL, 0);
	ok = rx_next(&g, &p) && p.h.op == OP(RST) && p.h.src_cid == 77 && p.h.src_port == 5 &&
	    p.h.dst_port == 1 && p.h.dst_cid == VSG_CID;
	UNIT_OK(&u, ok, "REQUEST to CID 77 (not the host): RST from CID 77");
	x = (struct vsock_pkt){ .type = VIRTIO_VSOCK_TYPE_SEQPACKET, .src_port = 1, .dst_port = 5,
	    .op = OP(REQUEST) };
	vsg_tx(&g, &x, NULL, 0);
	ok = rx_next(&g, &p) && p.h.op == OP(RST) && p.h.type == VIRTIO_VSOCK_TYPE_SEQPACKET && h.n == 0;
	UNIT_OK(&u, ok, "SEQPACKET REQUEST: RST of that type, the handler is not called");
	x = (struct vsock_pkt){ .type = 9, .src_port = 1, .dst_port = 5, .op = OP(RW) };
	vsg_tx(&g, &x, NULL, 0);
	UNIT_OK(&u, rx_next(&g, &p) && p.h.op == OP(RST) && p.h.type == 9, "unknown type 9: RST");
	tx_ctl(&g, OP(REQUEST), 2, 6, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 6, 2), "REQUEST to a port with no handler and no path: RST");
	tx_ctl(&g, OP(RW), 2, 6, 0, GBUF, 0);
	tx_ctl(&g, OP(CREDIT_UPDATE), 2, 6, 0, GBUF, 0);
	tx_ctl(&g, OP(RESPONSE), 2, 6, 0, GBUF, 0);
	ok = rx_is(&g, &p, OP(RST), 6, 2) && rx_is(&g, &p, OP(RST), 6, 2) && rx_is(&g, &p, OP(RST), 6, 2);
	UNIT_OK(&u, ok, "RW, CREDIT_UPDATE, RESPONSE for no connection: RST each");
	tx_ctl(&g, OP(RST), 2, 6, 0, GBUF, 0);
	UNIT_OK(&u, rx_none(&g), "RST for no connection: no answer (never RST for RST)");
	tx_ctl(&g, 0, 2, 6, 0, GBUF, 0);
	tx_ctl(&g, 8, 2, 6, 0, GBUF, 0);
	tx_ctl(&g, 0xffff, 2, 6, 0, GBUF, 0);
	ok = rx_is(&g, &p, OP(RST), 6, 2) && rx_is(&g, &p, OP(RST), 6, 2) && rx_is(&g, &p, OP(RST), 6, 2);
	UNIT_OK(&u, ok, "ops INVALID, 8, 0xffff for no connection: RST each");
	/* Unknown op on a live connection: it is reset, the host end closed, one log line. */
	guest_connect(&g, 5, 40, GBUF);
	vf_stderr_begin();
	tx_ctl(&g, 8, 40, 5, 0, GBUF, 0);
	ok = rx_is(&g, &p, OP(RST), 5, 40) && !conn_of(&g, 5, 40);
	ok = vf_stderr_end(NULL, 0) == 1 && ok;
	host_drain(h.keep[0], buf, sizeof(buf), &eof);
	UNIT_OK(&u, ok && eof, "unknown op 8 on a connection: RST, one log line, the host end reads EOF");
	vf_stderr_begin();
	guest_connect(&g, 5, 41, GBUF);
	tx_ctl(&g, OP(REQUEST), 41, 5, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 5, 41) && !conn_of(&g, 5, 41),
	    "REQUEST for a live connection: that connection is reset");
	guest_connect(&g, 5, 42, GBUF);
	tx_ctl(&g, OP(RESPONSE), 42, 5, 0, GBUF, 0);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 5, 42), "RESPONSE on an open connection: RST");
	vf_stderr_end(NULL, 0);
	/* A packet claiming another source CID is dropped: no reply could reach it. */
	x = (struct vsock_pkt){ .src_cid = 9, .src_port = 1, .dst_port = 5, .op = OP(REQUEST) };
	vf_stderr_begin();
	vsg_tx(&g, &x, NULL, 0);
	vsg_run(&g);
	ok = vsg_tx_used(&g) == 1 && rx_none(&g) && g.vs->cnt.bad_cid == 1 && h.n == 3;
	vf_stderr_end(NULL, 0);
	UNIT_OK(&u, ok, "src_cid 9 (not the guest's): dropped, counted, USED published, no reply");
	UNIT_OK(&u, !vsg_needs_reset(&g), "no RST case needs a device reset");
	hpair_close(&h);
	vsg_fini(&g);
}

/* --- malformed chains and headers --- */

static void test_malformed(void)
{
	struct hpair h = { 0 };
	struct vsg g;
	struct vsg_pkt p;
	struct vsock_pkt x;
	uint8_t hdr[VSOCK_HDR_LEN], big[VSOCK_MAX_PKT + 8] = { 0 };
	struct vf_seg s[VSOCK_TX_SEGS_MAX + 2];
	char last[256];
	bool ok;

	fx_init(&g, false);
	vsock_set_port_handler(g.vs, 5, hpair_connect, &h);
	vf_stderr_begin();
	/* len says 100, the chain holds 10 payload bytes: RST (the connection is reset). */
	guest_connect(&g, 5, 50, GBUF);
	x = (struct vsock_pkt){ .src_port = 50, .dst_port = 5, .op = OP(RW), .len = 100, .buf_alloc = GBUF };
	vsg_tx(&g, &x, "0123456789", 10);
	ok = rx_is(&g, &p, OP(RST), 5, 50) && g.vs->cnt.bad_pkt == 1 && !vsg_needs_reset(&g);
	UNIT_OK(&u, ok, "RW len 100 on a 10-byte payload: RST, connection reset");
	/* len shorter than the chain: the rest is ignored (spec 5.10.6). */
	guest_connect(&g, 5, 51, GBUF);
	x.src_port = 51;
	x.len = 4;
	vsg_tx(&g, &x, "abcdefgh", 8);
	vsg_run(&g);
	ok = read(h.keep[1], last, sizeof(last)) == 4 && !memcmp(last, "abcd", 4);
	UNIT_OK(&u, ok, "RW len 4 on an 8-byte payload: 4 bytes forwarded");
	x.len = VSOCK_MAX_PKT + 1;
	vsg_tx(&g, &x, big, VSOCK_MAX_PKT);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 5, 51), "RW len 64 KiB + 1: RST");
	x = (struct vsock_pkt){ .src_port = 52, .dst_port = 5, .op = OP(REQUEST), .len = 4 };
	vsg_tx(&g, &x, "junk", 4);
	UNIT_OK(&u, rx_is(&g, &p, OP(RST), 5, 52) && h.n == 2, "REQUEST with a payload: RST, not connected");
	/* A header split over two descriptors is fine. */
	x = (struct vsock_pkt){ .src_cid = VSG_CID, .dst_cid = 2, .type = 1, .src_port = 53,
	    .dst_port = 5, .op = OP(REQUEST), .buf_alloc = GBUF };
	vsg_hdr(&x, hdr);
	s[0] = (struct vf_seg){ vsg_txmem(&g, hdr, 10), 10, false };
	s[1] = (struct vf_seg){ vsg_txmem(&g, hdr + 10, 34), 34, false };
	vsg_tx_raw(&g, s, 2);
	UNIT_OK(&u, rx_is(&g, &p, OP(RESPONSE), 5, 53), "a header in two descriptors (10 + 34) works");
	UNIT_OK(&u, !vsg_needs_reset(&g), "nothing above needed a device reset");
	vf_stderr_end(NULL, 0);

	/* Shape faults: NEEDS_RESET, nothing answered; a reset brings the device back. */
	unsigned hn = h.n;
	struct {
		const char *what;
		unsigned n;
		bool write;
		uint32_t len;
	} shape[] = {
		{ "a 43-byte chain (no room for the header)", 1, false, 43 },
		{ "a writable descriptor in a TX chain", 2, true, 44 },
		{ "65 descriptors", VSOCK_TX_SEGS_MAX + 1, false, 44 },
		{ "44 + 64 KiB + 1 bytes", 2, false, VSOCK_HDR_LEN + VSOCK_MAX_PKT + 1 },
	};
	for (unsigned i = 0; i < sizeof(shape) / sizeof(shape[0]); i++) {
		char name[160];
		unsigned lines;

		vsg_up(&g, false);
		vsg_post_rx(&g, 8, 4096);
		x = (struct vsock_pkt){ .src_cid = VSG_CID, .dst_cid = 2, .type = 1, .src_port = 60,
		    .dst_port = 5, .op = OP(REQUEST) };
		vsg_hdr(&x, hdr);
		if (shape[i].n == 1) {
			s[0] = (struct vf_seg){ vsg_txmem(&g, hdr, shape[i].len), shape[i].len, false };
		} else if (i == 1) {
			s[0] = (struct vf_seg){ vsg_txmem(&g, hdr, 44), 44, false };
			s[1] = (struct vf_seg){ vsg_txmem(&g, NULL, 16), 16, true };
		} else if (i == 2) {
			s[0] = (struct vf_seg){ vsg_txmem(&g, hdr, 44), 44, false };
			for (unsigned k = 1; k < shape[i].n; k++)
				s[k] = (struct vf_seg){ vsg_txmem(&g, NULL, 1), 1, false };
		} else {
			s[0] = (struct vf_seg){ vsg_txmem(&g, hdr, 44), 44, false };
			s[1] = (struct vf_seg){ vsg_txmem(&g, NULL, shape[i].len - 44), shape[i].len - 44, false };
		}
		vf_stderr_begin();
		vsg_tx_raw(&g, s, shape[i].n);
		vsg_run(&g);
		lines = vf_stderr_end(last, sizeof(last));
		snprintf(name, sizeof(name), "TX %s: NEEDS_RESET, one log line, no reply", shape[i].what);
		UNIT_OK(&u, vsg_needs_reset(&g) && lines == 1 && vsg_rx(&g, &p) == 0 && h.n == hn, name);
	}
	/* An RX buffer that cannot hold a header, or is readable, is a shape fault too. */
	vsg_up(&g, false);
	{
		struct vf_seg r1 = { vf_alloc(&g.q[VSOCK_RXQ], 20, 0), 20, true };

		vf_chain(&g.q[VSOCK_RXQ], &r1, 1);
	}
	vf_stderr_begin();
	vsg_kick(&g, VSOCK_RXQ);
	tx_ctl(&g, OP(REQUEST), 70, 5, 0, GBUF, 0);
	vsg_run(&g);
	vf_stderr_end(NULL, 0);
	UNIT_OK(&u, vsg_needs_reset(&g), "RX buffer of 20 bytes: NEEDS_RESET");
	vsg_up(&g, false);
	vsg_post_rx(&g, 8, 4096);
	UNIT_OK(&u, !vsg_needs_reset(&g) && guest_connect(&g, 5, 71, GBUF),
	    "after a reset the device works again");
	hpair_close(&h);
	vsg_fini(&g);
}

int main(void)
{
	/* As ringvm itself does (loop_block_signals): a closed peer is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/ringvm-vsock.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("not ok - vsock: mkdtemp\n");
		return 1;
	}
	snprintf(sock_path, 128, "%s/v.sock", dir);
	test_spec();
	test_path_file();
	test_guest_uds();
	test_handler();
	test_host_connect();
	test_host_bad_lines();
	test_half_close();
	test_rst();
	test_malformed();
	test_flow_all();
	/* The scratch directory holds only sockets the tests made. */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			printf("# could not remove %s\n", dir);
	}
	return unit_done(&u);
}
