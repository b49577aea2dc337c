/*
 * memhost.c: the host's side of the bed's worst-case memory test
 * (tests/bed/cases/mem.sh).
 *   memhost sink TCPPORT UDSPATH BYTES FIFO
 *       listen on 127.0.0.1:TCPPORT and on the AF_UNIX path UDSPATH
 *       (ringvm's SOCK_PORT for guest vsock connections); accept for ever,
 *       never read; write BYTES to each TCP connection (the guest reads
 *       nothing either). Every second: "memhost tcp=N uds=M tcp_sent=B
 *       uds_inq=B console=B" (uds_inq: bytes ringvm sent that wait unread,
 *       which the kernel charges to ringvm's sockets; console: the bytes
 *       waiting in FIFO, ringvm's --console, which nobody reads).
 *   memhost vconnect SOCK PORT N
 *       N host-to-guest vsock connections through ringvm's SOCK
 *       ("CONNECT PORT"), each written to until it blocks; then
 *       "memhost vconnect ok=N bytes=B", and hold.
 *   memhost watch PID CGROUP GUEST_KIB
 *       sample ringvm (PID) and its cgroup v2 directory every 0.5 s until it
 *       exits; then one "MEMWATCH key=value..." line of peaks in KiB: rss
 *       (VmRSS), guest (the Rss of the guest RAM mapping, the one of
 *       GUEST_KIB), vmm (rss - guest), the cgroup's anon, file, kernel,
 *       sock, current, their peak (memory.peak), over (the largest vmm +
 *       kernel + sock of one sample), hwm (VmHWM), threads. On SIGUSR1 it
 *       prints the current sample as a "MEMNOW ..." line (the test's
 *       baseline, once the guest is up and before the load).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#define MEMHOST_MAX 8192	/* connections per kind */

static unsigned char memhost_buf[65536];

/* memhost_listen_tcp, memhost_listen_uds: a non-blocking listener; -1 on failure. */
static int memhost_listen_tcp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1024) < 0)
		return -1;
	return s;
}

static int memhost_listen_uds(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1024) < 0)
		return -1;
	return s;
}

/* memhost_push: write to fd until it blocks or `left` is 0. Returns bytes written. */
static unsigned long long memhost_push(int fd, unsigned long long *left)
{
	unsigned long long sent = 0;

	while (*left) {
		size_t k = *left < sizeof(memhost_buf) ? (size_t)*left : sizeof(memhost_buf);
		ssize_t w = write(fd, memhost_buf, k);

		if (w <= 0)
			break;
		sent += (unsigned long long)w;
		*left -= (unsigned long long)w;
	}
	return sent;
}

static int memhost_sink(int port, const char *path, unsigned long long bytes, const char *fifo)
{
	static int tcp[MEMHOST_MAX], uds[MEMHOST_MAX];
	static unsigned long long left[MEMHOST_MAX];
	int lt = memhost_listen_tcp(port), lu = memhost_listen_uds(path);
	/* Opened only to count what waits in it (FIONREAD); never read. */
	int ff = open(fifo, O_RDONLY | O_NONBLOCK);
	/*
	 * The console's pipe at its smallest, one page: ringvm's console ring
	 * and the pipe then fill after about 20 KiB of guest output instead of
	 * 80, a quarter of the port-write exits, which is what the nested
	 * bed's outer VM copes with worst. (A one-slot pipe takes what merges
	 * into its one page, often only the first write.)
	 */
	if (ff >= 0)
		fcntl(ff, F_SETPIPE_SZ, 4096);
	unsigned nt = 0, nu = 0;
	unsigned long long sent = 0;
	time_t last = 0;

	if (lt < 0 || lu < 0) {
		perror("memhost: listen");
		return 1;
	}
	printf("memhost listening\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = lt, .events = POLLIN }, { .fd = lu, .events = POLLIN } };
		unsigned long long inq = 0;
		int c, con = -1;

		poll(p, 2, 200);
		while (nt < MEMHOST_MAX && (c = accept4(lt, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
			/* Our own send buffer small: the test's memory is ringvm's, not ours. */
			int sz = 64 << 10;

			setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
			left[nt] = bytes;
			tcp[nt++] = c;
		}
		while (nu < MEMHOST_MAX && (c = accept4(lu, NULL, NULL, SOCK_NONBLOCK)) >= 0)
			uds[nu++] = c;
		for (unsigned i = 0; i < nt; i++)
			sent += memhost_push(tcp[i], &left[i]);
		if (time(NULL) == last)
			continue;
		last = time(NULL);
		for (unsigned i = 0; i < nu; i++) {
			int q = 0;

			if (ioctl(uds[i], FIONREAD, &q) == 0)
				inq += (unsigned long long)q;
		}
		if (ff >= 0 && ioctl(ff, FIONREAD, &con) < 0)
			con = -1;
		printf("memhost tcp=%u uds=%u tcp_sent=%llu uds_inq=%llu console=%d\n", nt, nu, sent,
		    inq, con);
		fflush(stdout);
	}
	return 0;
}

static int memhost_vconnect(const char *path, const char *port, unsigned n)
{
	unsigned long long bytes = 0, left;
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0), fl;
		char line[64];
		size_t got = 0;

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			continue;
		snprintf(line, sizeof(line), "CONNECT %s\n", port);
		if (write(s, line, strlen(line)) < 0)
			continue;
		while (got < sizeof(line) - 1 && read(s, line + got, 1) == 1 && line[got] != '\n')
			got++;
		line[got] = '\0';
		if (strncmp(line, "OK ", 3))
			continue;
		ok++;
		fl = fcntl(s, F_GETFL);
		fcntl(s, F_SETFL, fl | O_NONBLOCK);
		/* The guest reads nothing: what the socket takes waits in the kernel, not in ringvm. */
		left = 64ull << 20;
		bytes += memhost_push(s, &left);
	}
	printf("memhost vconnect ok=%u bytes=%llu\n", ok, bytes);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* memhost_field: the number after `key` in a "key value" or "key: value kB" file; -1 if none. */
static long long memhost_field(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == ':' || line[kl] == '\t')) {
			v = strtoll(line + kl + 1 + (line[kl] == ':'), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* memhost_guest_rss: the Rss (KiB) of the mapping of exactly guest_kib in /proc/PID/smaps. */
static long long memhost_guest_rss(const char *smaps, long long guest_kib)
{
	char line[512];
	long long rss = 0, size = -1, v;
	FILE *f = fopen(smaps, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %lld kB", &v) == 1)
			size = v;
		else if (sscanf(line, "Rss: %lld kB", &v) == 1 && size == guest_kib)
			rss += v;
	}
	fclose(f);
	return rss;
}

static volatile sig_atomic_t memhost_now;

static void memhost_on_usr1(int sig)
{
	(void)sig;
	memhost_now = 1;
}

#define PEAK(k, v) do { long long _v = (v); if (_v > peak[k]) peak[k] = _v; } while (0)

static int memhost_watch(const char *pid, const char *cg, long long guest_kib)
{
	enum { RSS, GUEST, VMM, ANON, FILEP, KERNEL, SOCK, CURRENT, OVER, HWM, THREADS, NKEYS };
	static const char *const name[NKEYS] = { "rss", "guest", "vmm", "anon", "file", "kernel",
	    "sock", "current", "over", "hwm", "threads" };
	long long peak[NKEYS] = { 0 }, kpeak = -1;
	char status[64], smaps[64], stat[256], cur[256], pk[256];
	unsigned samples = 0;

	snprintf(status, sizeof(status), "/proc/%s/status", pid);
	snprintf(smaps, sizeof(smaps), "/proc/%s/smaps", pid);
	snprintf(stat, sizeof(stat), "%s/memory.stat", cg);
	snprintf(cur, sizeof(cur), "%s/memory.current", cg);
	snprintf(pk, sizeof(pk), "%s/memory.peak", cg);
	signal(SIGUSR1, memhost_on_usr1);
	for (;;) {
		long long rss = memhost_field(status, "VmRSS"), guest, kernel, sock, c;

		if (rss < 0)
			break;
		guest = memhost_guest_rss(smaps, guest_kib);
		kernel = memhost_field(stat, "kernel") / 1024;
		sock = memhost_field(stat, "sock") / 1024;
		if (memhost_now) {
			memhost_now = 0;
			printf("MEMNOW rss=%lld guest=%lld vmm=%lld kernel=%lld sock=%lld over=%lld\n",
			    rss, guest, rss - guest, kernel, sock, rss - guest + kernel + sock);
		}
		PEAK(RSS, rss);
		PEAK(GUEST, guest);
		PEAK(VMM, rss - guest);
		PEAK(ANON, memhost_field(stat, "anon") / 1024);
		PEAK(FILEP, memhost_field(stat, "file") / 1024);
		PEAK(KERNEL, kernel);
		PEAK(SOCK, sock);
		PEAK(OVER, rss - guest + kernel + sock);
		PEAK(HWM, memhost_field(status, "VmHWM"));
		PEAK(THREADS, memhost_field(status, "Threads"));
		{
			FILE *f = fopen(cur, "r");

			if (f) {
				if (fscanf(f, "%lld", &c) == 1)
					PEAK(CURRENT, c / 1024);
				fclose(f);
			}
			f = fopen(pk, "r");
			if (f) {
				if (fscanf(f, "%lld", &c) == 1 && c / 1024 > kpeak)
					kpeak = c / 1024;
				fclose(f);
			}
		}
		samples++;
		usleep(500000);
	}
	printf("MEMWATCH samples=%u", samples);
	for (int k = 0; k < NKEYS; k++)
		printf(" %s=%lld", name[k], peak[k]);
	printf(" peak=%lld\n", kpeak);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	memset(memhost_buf, 'h', sizeof(memhost_buf));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "sink"))
		return memhost_sink(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10), argv[5]);
	if (argc == 5 && !strcmp(argv[1], "vconnect"))
		return memhost_vconnect(argv[2], argv[3], (unsigned)atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "watch"))
		return memhost_watch(argv[2], argv[3], strtoll(argv[4], NULL, 10));
	fprintf(stderr, "usage: memhost sink TCPPORT UDSPATH BYTES FIFO | vconnect SOCK PORT N | "
	    "watch PID CGROUP GUEST_KIB\n");
	return 2;
}
