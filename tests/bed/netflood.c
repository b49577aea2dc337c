/*
 * netflood.c: the host side of the network back-pressure test. First
 * watches process PID idle for IDLE seconds (the baseline), then sends
 * broadcast Ethernet frames on an interface (a TAP whose guest takes
 * nothing) as fast as the interface accepts them for SECONDS, and measures
 * over each window what PID did: its CPU time (all threads, from
 * /proc/PID/stat), and its loop thread's CPU time and wakeups (context
 * switches, from /proc/PID/task/PID/; ringvm's loop is its main thread).
 *
 *   netflood IFNAME SECONDS PID [IDLE]
 *
 * Prints one line:
 *   NETFLOOD frames=N cpu_ms=M wall_ms=W cpu_pct=P loop_cpu_ms=L
 *            loop_wakeups=K idle_ms=I idle_cpu_ms=C idle_loop_wakeups=J
 * A sleeping device keeps loop_wakeups near idle_loop_wakeups whatever the
 * frame count; one that wakes per frame or spins does not. A test tool, run
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

/* cpu_ms: utime + stime of the task whose stat file is `path`, in ms, or -1. */
static double cpu_ms(const char *path)
{
	char buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

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

/* switches: voluntary + involuntary context switches in a status file, or -1. */
static long switches(const char *path)
{
	char line[256];
	long n = 0, v;
	int seen = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1) {
			n += v;
			seen++;
		}
	}
	fclose(f);
	return seen == 2 ? n : -1;
}

/* What one look at the process shows. */
struct sample {
	double t, cpu, loop_cpu;
	long loop_sw;
};

static int sample(const char *pid, struct sample *s)
{
	char stat[64], tstat[96], tstatus[96];

	snprintf(stat, sizeof(stat), "/proc/%s/stat", pid);
	snprintf(tstat, sizeof(tstat), "/proc/%s/task/%s/stat", pid, pid);
	snprintf(tstatus, sizeof(tstatus), "/proc/%s/task/%s/status", pid, pid);
	s->t = now_ms();
	s->cpu = cpu_ms(stat);
	s->loop_cpu = cpu_ms(tstat);
	s->loop_sw = switches(tstatus);
	return s->cpu < 0 || s->loop_cpu < 0 || s->loop_sw < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll to = { 0 };
	unsigned char frame[1000];
	unsigned long frames = 0;
	struct sample i0, f0, f1;
	double idle = argc == 5 ? atof(argv[4]) : 0;
	int fd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: netflood IFNAME SECONDS PID [IDLE]\n");
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
	if (sample(argv[3], &i0) < 0)
		goto noproc;
	if (idle > 0)
		usleep((useconds_t)(idle * 1e6));
	if (sample(argv[3], &f0) < 0)
		goto noproc;
	while (now_ms() - f0.t < atof(argv[2]) * 1000) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			frames++;
		else if (errno == ENOBUFS || errno == EAGAIN)
			usleep(100);	/* the device queue is full: that is the point */
	}
	if (sample(argv[3], &f1) < 0)
		goto noproc;
	printf("NETFLOOD frames=%lu cpu_ms=%.0f wall_ms=%.0f cpu_pct=%.2f loop_cpu_ms=%.0f "
	    "loop_wakeups=%ld idle_ms=%.0f idle_cpu_ms=%.0f idle_loop_wakeups=%ld\n",
	    frames, f1.cpu - f0.cpu, f1.t - f0.t, 100.0 * (f1.cpu - f0.cpu) / (f1.t - f0.t),
	    f1.loop_cpu - f0.loop_cpu, f1.loop_sw - f0.loop_sw, f0.t - i0.t, f0.cpu - i0.cpu,
	    f0.loop_sw - i0.loop_sw);
	return 0;
noproc:
	fprintf(stderr, "netflood: cannot read /proc/%s\n", argv[3]);
	return 1;
}
