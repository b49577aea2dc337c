/*
 * netbench.c: TCP bulk throughput for bench/net, one static tool for both
 * ends (the guest runs the client, the host the server).
 *
 *   netbench server PORT [PID]
 *       Listen on 0.0.0.0:PORT, accept one connection (waiting at most
 *       ACCEPT_SECS), serve it, exit. The client's first line picks the mode:
 *       "s SECS\n": the client sends for SECS seconds and the server sinks;
 *       "r SECS\n": the server sends for SECS seconds to the client.
 *       With PID, the server also reads the CPU time (utime + stime, all
 *       threads, from /proc/PID/stat) of that process at the start and the
 *       end of the transfer, and adds "cpu=SECONDS guest=SECONDS" (guest:
 *       the part of it spent running guest code, /proc/PID/stat field 43).
 *   netbench client ADDR PORT send|recv SECONDS
 *       Connect (retrying for CONNECT_SECS while refused or unreachable),
 *       send the mode line, transfer, print the result.
 *
 * Both ends print one line:
 *   NETBENCH dir=send|recv bytes=N secs=S mbps=M [side=server cpu=C guest=G]
 * dir is always the client's direction (send: client to server). mbps is
 * megabits per second (10^6 bits). The transfer ends cleanly on both sides:
 * the sender stops after SECONDS and shuts its side down; the receiver reads
 * to end of file and closes; the sender's clock stops only when it sees that
 * close, so bytes still in flight are counted in the time and every byte
 * counted was delivered. bytes and secs are then the same on both ends up to
 * clock differences.
 *
 * Nothing can hang: every socket has send and receive timeouts of IO_SECS,
 * and alarm() ends the process SECONDS + SLACK_SECS after it starts
 * transferring.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (128u << 10)
#define ACCEPT_SECS 240		/* the guest boots first, slowly when nested */
#define CONNECT_SECS 60
#define IO_SECS 20		/* one send or receive making no progress */
#define SLACK_SECS 90		/* beyond the transfer's own length */
#define MAX_SECS 3600

static char buf[BUF_SIZE];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void dief(const char *msg)
{
	fprintf(stderr, "netbench: %s\n", msg);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "netbench: overall time limit reached\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "netbench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_SECS };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("setsockopt timeouts");
}

/* send_for: write the buffer over and over for secs; returns bytes sent. */
static uint64_t send_for(int fd, double secs)
{
	double end = now() + secs;
	uint64_t total = 0;

	while (now() < end) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(errno == EAGAIN ? "send (timed out)" : "send");
		}
		total += (uint64_t)n;
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	return total;
}

/* recv_all: read to end of file; returns bytes read. */
static uint64_t recv_all(int fd)
{
	uint64_t total = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			return total;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(errno == EAGAIN ? "recv (timed out)" : "recv");
		}
		total += (uint64_t)n;
	}
}

/* wait_close: after the sender's shutdown, wait for the peer to close. */
static void wait_close(int fd)
{
	if (recv_all(fd) != 0)
		dief("unexpected data from the receiver");
}

static void report(const char *dir, uint64_t bytes, double secs, const char *extra)
{
	printf("NETBENCH dir=%s bytes=%llu secs=%.3f mbps=%.2f%s\n", dir,
	    (unsigned long long)bytes, secs, secs > 0 ? bytes * 8 / secs / 1e6 : 0.0, extra);
	fflush(stdout);
}

/* proc_cpu: CPU seconds (utime + stime) and guest seconds of a process. */
static int proc_cpu(long pid, double *cpu, double *guest)
{
	char path[64], text[2048], *p;
	unsigned long long v[64];
	long tck = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t len;
	int i = 3;	/* the field after the command name is field 3 */

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	p = strrchr(text, ')');
	if (!p)
		return -1;
	p++;
	memset(v, 0, sizeof(v));
	while (*p && i < 64) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		v[i++] = strtoull(p, &p, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (i <= 43 || tck <= 0)
		return -1;
	*cpu = (double)(v[14] + v[15]) / tck;
	*guest = (double)v[43] / tck;
	return 0;
}

static int server(int argc, char **argv)
{
	long port = parse_num(argv[2], 1, 65535, "port"), pid = 0, secs = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	double cpu0 = 0, cpu1 = 0, g0 = 0, g1 = 0, t0, t;
	char line[32], extra[96] = "";
	struct pollfd pfd;
	int lfd, fd, one = 1, r;
	size_t got = 0;
	uint64_t bytes;
	char mode;

	if (argc > 3)
		pid = parse_num(argv[3], 1, 1L << 30, "pid");
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(lfd, 1))
		die("listen");
	fprintf(stderr, "netbench: listening on port %ld\n", port);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	do
		r = poll(&pfd, 1, ACCEPT_SECS * 1000);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		die("poll");
	if (r == 0)
		dief("no connection in time");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die("accept");
	close(lfd);
	set_timeouts(fd);
	/* The mode line: "s SECS\n" or "r SECS\n", read a byte at a time. */
	while (got < sizeof(line) - 1) {
		ssize_t n = recv(fd, line + got, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv mode line");
		if (n == 0)
			dief("connection closed before the mode line");
		if (line[got++] == '\n')
			break;
	}
	line[got] = '\0';
	if (got < 3 || (line[0] != 's' && line[0] != 'r') || line[1] != ' ' ||
	    (secs = strtol(line + 2, NULL, 10)) < 1 || secs > MAX_SECS)
		dief("bad mode line");
	mode = line[0];
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(secs + SLACK_SECS));
	if (pid && proc_cpu(pid, &cpu0, &g0))
		pid = 0;
	t0 = now();
	if (mode == 's') {
		bytes = recv_all(fd);
	} else {
		bytes = send_for(fd, (double)secs);
		wait_close(fd);
	}
	t = now() - t0;
	if (pid && !proc_cpu(pid, &cpu1, &g1))
		snprintf(extra, sizeof(extra), " side=server cpu=%.2f guest=%.2f",
		    cpu1 - cpu0, g1 - g0);
	else
		snprintf(extra, sizeof(extra), " side=server");
	close(fd);
	report(mode == 's' ? "send" : "recv", bytes, t, extra);
	return 0;
}

static int client(char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long port = parse_num(argv[3], 1, 65535, "port");
	const char *dir = argv[4];
	long secs = parse_num(argv[5], 1, MAX_SECS, "seconds");
	double give_up = now() + CONNECT_SECS, t0, t;
	char line[32];
	uint64_t bytes;
	int fd, len;

	if (strcmp(dir, "send") && strcmp(dir, "recv"))
		dief("direction must be send or recv");
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
		dief("bad IPv4 address");
	sa.sin_port = htons((uint16_t)port);
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		set_timeouts(fd);	/* SO_SNDTIMEO also bounds connect */
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (now() > give_up)
			die("connect");
		close(fd);
		usleep(500000);
	}
	len = snprintf(line, sizeof(line), "%c %ld\n", dir[0] == 's' ? 's' : 'r', secs);
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
		die("send mode line");
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(secs + SLACK_SECS));
	t0 = now();
	if (dir[0] == 's') {
		bytes = send_for(fd, (double)secs);
		wait_close(fd);
	} else {
		bytes = recv_all(fd);
	}
	t = now() - t0;
	close(fd);
	report(dir, bytes, t, "");
	return 0;
}

int main(int argc, char **argv)
{
	memset(buf, 0x5a, sizeof(buf));
	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "server"))
		return server(argc, argv);
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv);
	fprintf(stderr, "usage: netbench server PORT [PID]\n"
	    "       netbench client ADDR PORT send|recv SECONDS\n");
	return 2;
}
