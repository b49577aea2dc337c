/*
 * netflood.c: the host side of the network back-pressure test. Sends
 * broadcast Ethernet frames on an interface (a TAP whose guest takes
 * nothing) as fast as the interface accepts them for a number of seconds,
 * and measures the CPU time process PID used meanwhile from /proc/PID/stat.
 *
 *   netflood IFNAME SECONDS PID
 *
 * Prints "NETFLOOD frames=N cpu_ms=M wall_ms=W cpu_pct=P". A test tool, run
 * as root (AF_PACKET) inside the bed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* cpu_ms: utime + stime of `pid` in milliseconds, or -1. */
static double cpu_ms(const char *pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Fields after the command name, which may hold spaces: skip past ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}

int main(int argc, char **argv)
{
	struct sockaddr_ll to = { 0 };
	unsigned char frame[1000];
	unsigned long frames = 0;
	double t0, c0, t1, c1;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: netflood IFNAME SECONDS PID\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("netflood: socket");
		return 1;
	}
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)if_nametoindex(argv[1]);
	to.sll_halen = 6;
	memset(to.sll_addr, 0xff, 6);
	if (!to.sll_ifindex) {
		fprintf(stderr, "netflood: no interface %s\n", argv[1]);
		return 1;
	}
	/* Broadcast destination, a locally administered source, an unused EtherType. */
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	t0 = now_ms();
	c0 = cpu_ms(argv[3]);
	while (now_ms() - t0 < atof(argv[2]) * 1000) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			frames++;
		else if (errno == ENOBUFS || errno == EAGAIN)
			usleep(100);	/* the device queue is full: that is the point */
	}
	t1 = now_ms();
	c1 = cpu_ms(argv[3]);
	if (c0 < 0 || c1 < 0) {
		fprintf(stderr, "netflood: cannot read /proc/%s/stat\n", argv[3]);
		return 1;
	}
	printf("NETFLOOD frames=%lu cpu_ms=%.0f wall_ms=%.0f cpu_pct=%.2f\n", frames, c1 - c0,
	    t1 - t0, 100.0 * (c1 - c0) / (t1 - t0));
	return 0;
}
