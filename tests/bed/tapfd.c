/*
 * tapfd.c: the privileged parent of the bed's -n tap,fd=N case
 * (tests/bed/cases/net.sh), as libvirt is to QEMU: open /dev/net/tun,
 * attach it to an existing TAP interface, put the descriptor at N (not
 * close-on-exec), optionally give up every capability for good, and exec the
 * program, which inherits the descriptor.
 *   tapfd [-p] [-v] IFNAME N PROGRAM [ARG...]
 *     IFNAME "-" opens nothing (only -p applies): the unprivileged control
 *     -p  drop all privilege first: capabilities, the bounding set and the
 *         inheritable set are emptied (uid 0 stays, but execve then grants
 *         nothing), so the program cannot attach a TAP by itself
 *     -v  attach with IFF_VNET_HDR (offloads)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/capability.h>
#include <linux/if_tun.h>

/* tapfd_drop_privilege: no capability now or after execve. 0 or -1. */
static int tapfd_drop_privilege(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	/* The bounding set first: dropping from it needs CAP_SETPCAP, still held here. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv)
{
	bool drop = false, vnet = false;
	struct ifreq ifr;
	int fd, n, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-p"))
			drop = true;
		else if (!strcmp(argv[i], "-v"))
			vnet = true;
		else
			break;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: tapfd [-p] [-v] IFNAME N PROGRAM [ARG...]\n");
		return 2;
	}
	n = atoi(argv[i + 1]);
	if (!strcmp(argv[i], "-"))
		goto run;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("tapfd: /dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[i]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("tapfd: TUNSETIFF");
		return 1;
	}
	/* dup2 clears close-on-exec on the copy: the program inherits exactly N. */
	if (fd != n && (dup2(fd, n) < 0 || close(fd) < 0)) {
		perror("tapfd: dup2");
		return 1;
	}
	if (fd == n && fcntl(n, F_SETFD, 0) < 0)
		return 1;
run:
	if (drop && tapfd_drop_privilege() < 0) {
		perror("tapfd: dropping privilege");
		return 1;
	}
	execvp(argv[i + 2], argv + i + 2);
	perror("tapfd: exec");
	return 127;
}
