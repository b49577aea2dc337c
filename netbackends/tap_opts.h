/*
 * tap_opts.h: the tap backend's options (-n tap,...) and the check of a
 * descriptor a privileged parent passed (fd=N), apart from the backend so
 * both can be tested without an interface.
 */
#ifndef RINGVM_TAP_OPTS_H
#define RINGVM_TAP_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include <net/if.h>

#define TAP_OPTS_MAX 256	/* longest option string accepted */
#define TAP_FD_MIN 3		/* 0, 1 and 2 are the console's */

/* Parsed options. */
struct tap_opts {
	char ifname[IFNAMSIZ];	/* "" when none was given */
	bool vnet_hdr;		/* pass virtio-net headers (offloads) */
	bool vnet_hdr_given;	/* vnet_hdr= was on the command line */
	int fd;			/* fd=N: an inherited TAP descriptor; -1 for none */
};

/* What an inherited descriptor turned out to be (tap_opts_probe_fd). */
struct tap_fd_info {
	char ifname[IFNAMSIZ];	/* the interface it is attached to */
	bool vnet_hdr;		/* opened with IFF_VNET_HDR */
};

/*
 * tap_opts_parse: parse "ifname=NAME,vnet_hdr=on|off,fd=N" (any order, each
 * at most once; fd and ifname exclude each other) into `o`. Looks at no
 * descriptor. Returns 0, or -EINVAL with a one-line reason in err.
 */
int tap_opts_parse(const char *opts, struct tap_opts *o, char *err, size_t errlen);

/*
 * tap_opts_probe_fd: check that o->fd is open and is a TAP device (a tap
 * attached with IFF_TAP and IFF_NO_PI: /dev/net/tun or macvtap), and that
 * its IFF_VNET_HDR agrees with an explicit vnet_hdr=; fill `info`. Only
 * fstat and the TUNGETIFF ioctl: nothing is changed. Without vnet_hdr=
 * the descriptor's flag decides (o->vnet_hdr is set from it). Returns 0,
 * or -errno with a one-line reason in err: -EBADF (not open), -ENOTTY
 * (not a TAP), -EINVAL (a TUN, no IFF_NO_PI, not attached, vnet_hdr
 * disagrees).
 */
int tap_opts_probe_fd(struct tap_opts *o, struct tap_fd_info *info, char *err, size_t errlen);

#endif
