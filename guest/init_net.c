/*
 * init_net.c: the guest's network set-up, done with the classic socket
 * ioctls (SIOCSIFFLAGS, SIOCSIFADDR, SIOCADDRT) so the guest image needs
 * no `ip` or busybox: loopback always, and with AGENT_EXEC_NET_USER eth0
 * with the fixed addresses of ringvm's user (libslirp) network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define INIT_NET_IF "eth0"
#define INIT_NET_WAIT_MS 2000		/* for the virtio-net driver to create eth0 */
#define INIT_NET_RESOLV "/etc/resolv.conf"

/* init_net_ifreq: an ifreq naming `ifname`. */
static struct ifreq init_net_ifreq(const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	return ifr;
}

/* init_net_up: set IFF_UP on `ifname` through the socket `s`. */
static int init_net_up(int s, const char *ifname)
{
	struct ifreq ifr = init_net_ifreq(ifname);

	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

/* init_net_sin: an AF_INET sockaddr for the dotted quad (a constant of ours). */
static void init_net_sin(struct sockaddr *sa, in_addr_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	memcpy(sa, &sin, sizeof(sin));
}

int init_net_lo(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0)
		return -errno;
	r = init_net_up(s, "lo");
	close(s);
	return r;
}

/* init_net_wait: wait up to INIT_NET_WAIT_MS for `ifname` to exist. */
static int init_net_wait(int s, const char *ifname)
{
	const struct timespec step = { 0, 10 * 1000 * 1000 };

	for (unsigned waited = 0; ; waited += 10) {
		struct ifreq ifr = init_net_ifreq(ifname);

		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
			return 0;
		if (errno != ENODEV || waited >= INIT_NET_WAIT_MS)
			return -errno;
		nanosleep(&step, NULL);
	}
}

/* init_net_eth0: address, netmask, up, default route. *what names the failing step. */
static int init_net_eth0(int s, const char **what)
{
	struct ifreq ifr = init_net_ifreq(INIT_NET_IF);
	char dev[IFNAMSIZ] = INIT_NET_IF;
	struct rtentry rt;
	int r;

	*what = "waiting for " INIT_NET_IF;
	if ((r = init_net_wait(s, INIT_NET_IF)))
		return r;
	*what = "setting the address of " INIT_NET_IF;
	init_net_sin(&ifr.ifr_addr, inet_addr(AGENT_NET_ADDR));
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -errno;
	*what = "setting the netmask of " INIT_NET_IF;
	init_net_sin(&ifr.ifr_netmask, htonl(~0u << (32 - AGENT_NET_PREFIX)));
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		return -errno;
	*what = "bringing " INIT_NET_IF " up";
	if ((r = init_net_up(s, INIT_NET_IF)))
		return r;
	*what = "adding the default route";
	memset(&rt, 0, sizeof(rt));
	init_net_sin(&rt.rt_dst, INADDR_ANY);
	init_net_sin(&rt.rt_genmask, INADDR_ANY);
	init_net_sin(&rt.rt_gateway, inet_addr(AGENT_NET_GATEWAY));
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* init_net_resolv: write INIT_NET_RESOLV, replacing a file or a dangling link. */
static int init_net_resolv(void)
{
	static const char text[] = "nameserver " AGENT_NET_DNS "\n";
	int fd, r;

	if ((r = init_mount_mkdirs("/etc", 0755)))
		return r;
	/* Images often link it into /run/systemd, which is empty here. */
	if (unlink(INIT_NET_RESOLV) < 0 && errno != ENOENT)
		return -errno;
	fd = open(INIT_NET_RESOLV, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1 ? 0 : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

int init_net_user(char *err, size_t err_len)
{
	const char *what = "opening a socket";
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	r = s < 0 ? -errno : init_net_eth0(s, &what);
	if (s >= 0)
		close(s);
	if (!r) {
		what = "writing " INIT_NET_RESOLV;
		r = init_net_resolv();
	}
	if (r)
		snprintf(err, err_len, "network: %s: %s", what, strerror(-r));
	return r;
}
