/*
 * tap_opts.c: parse the tap backend's options (ifname=, vnet_hdr=, fd=) and
 * check a descriptor a privileged parent passed with fd=N (see tap_opts.h).
 * Errors name the option and the reason in one line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/if_tun.h>

#include "tap_opts.h"

/* tap_opts_ifname_ok: what the kernel accepts as a name (dev_valid_name), minus patterns. */
static bool tap_opts_ifname_ok(const char *s, size_t len)
{
	if (len == 0 || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* '%' would make TUNSETIFF treat the name as a pattern and create a device. */
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '%')
			return false;
	}
	return true;
}

/*
 * tap_opts_fd: parse fd=N's value: decimal digits only (no sign, no
 * spaces, no hex), at least TAP_FD_MIN, below INT_MAX.
 */
static int tap_opts_fd(const char *val, struct tap_opts *o, char *err, size_t errlen)
{
	size_t n = strlen(val);
	long v = 0;

	if (n == 0 || n > 9 || strspn(val, "0123456789") != n) {
		snprintf(err, errlen, "fd '%s': not a descriptor number", val);
		return -EINVAL;
	}
	v = strtol(val, NULL, 10);
	/* Standard input and output are the guest console's; never hand them to a NIC. */
	if (v < TAP_FD_MIN) {
		snprintf(err, errlen, "fd %ld: descriptors 0, 1 and 2 are the console's; "
		    "pass the TAP as 3 or above", v);
		return -EINVAL;
	}
	o->fd = (int)v;
	return 0;
}

/* tap_opts_value: store one option `key`=`val` (val may be NULL). */
static int tap_opts_value(const char *key, const char *val, struct tap_opts *o, char *err,
    size_t errlen)
{
	if (!strcmp(key, "ifname")) {
		if (!val || !tap_opts_ifname_ok(val, strlen(val))) {
			snprintf(err, errlen, "ifname '%s': not a valid interface name "
			    "(1-%d characters, no '/', ':', '%%' or spaces)",
			    val ? val : "", IFNAMSIZ - 1);
			return -EINVAL;
		}
		strcpy(o->ifname, val);
		return 0;
	}
	if (!strcmp(key, "vnet_hdr")) {
		o->vnet_hdr_given = true;
		if (val && !strcmp(val, "on")) {
			o->vnet_hdr = true;
		} else if (val && !strcmp(val, "off")) {
			o->vnet_hdr = false;
		} else {
			snprintf(err, errlen, "vnet_hdr '%s': expected on or off", val ? val : "");
			return -EINVAL;
		}
		return 0;
	}
	return tap_opts_fd(val ? val : "", o, err, errlen);	/* "fd", the last key */
}

int tap_opts_parse(const char *opts, struct tap_opts *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "ifname", "vnet_hdr", "fd" };
	char buf[TAP_OPTS_MAX];
	unsigned seen = 0;	/* a bit per option */
	char *p = buf;

	memset(o, 0, sizeof(*o));
	o->vnet_hdr = true;
	o->fd = -1;
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(err, errlen, "options too long (at most %d characters)", TAP_OPTS_MAX - 1);
		return -EINVAL;
	}
	strcpy(buf, opts);
	while (buf[0] != '\0') {
		char *comma = strchr(p, ','), *val;
		unsigned k;

		if (comma)
			*comma = '\0';
		if (p[0] == '\0') {
			snprintf(err, errlen, "empty option");
			return -EINVAL;
		}
		val = strchr(p, '=');
		if (val)
			*val++ = '\0';
		for (k = 0; k < 3 && strcmp(p, keys[k]); k++)
			;
		if (k == 3) {
			snprintf(err, errlen, "unknown option '%s'", p);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			snprintf(err, errlen, "option '%s' given twice", p);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (tap_opts_value(p, val, o, err, errlen) < 0)
			return -EINVAL;
		if (!comma)
			break;
		p = comma + 1;
	}
	/* The descriptor is attached to its interface already: a name could only disagree. */
	if (o->fd >= 0 && o->ifname[0]) {
		snprintf(err, errlen, "fd= and ifname= exclude each other (the descriptor names "
		    "its interface)");
		return -EINVAL;
	}
	return 0;
}

int tap_opts_probe_fd(struct tap_opts *o, struct tap_fd_info *info, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct stat st;
	int e;

	memset(info, 0, sizeof(*info));
	if (fstat(o->fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "fd %d: not an open descriptor (%s); the parent must pass "
		    "it open, without close-on-exec", o->fd, strerror(e));
		return -e;
	}
	/*
	 * Only a character device can be a TAP (/dev/net/tun, /dev/tapN of
	 * macvtap); the ioctl is not tried on files, pipes or sockets.
	 */
	if (!S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "fd %d: not a TAP device (not a character device)", o->fd);
		return -ENOTTY;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(o->fd, TUNGETIFF, &ifr) < 0) {
		e = errno;
		if (e == EBADFD)
			snprintf(err, errlen, "fd %d: /dev/net/tun not attached to an interface "
			    "(the parent must TUNSETIFF first)", o->fd);
		else
			snprintf(err, errlen, "fd %d: not a TAP device (TUNGETIFF: %s)", o->fd,
			    strerror(e));
		return e == EBADFD ? -EINVAL : -ENOTTY;
	}
	memcpy(info->ifname, ifr.ifr_name, IFNAMSIZ - 1);
	info->ifname[IFNAMSIZ - 1] = '\0';
	/* A TUN device carries IP packets, not Ethernet frames: the guest would see garbage. */
	if (!(ifr.ifr_flags & IFF_TAP)) {
		snprintf(err, errlen, "fd %d: '%s' is a TUN (layer 3) device, not a TAP",
		    o->fd, info->ifname);
		return -EINVAL;
	}
	/* With packet information every frame starts with 4 bytes the device would misread. */
	if (!(ifr.ifr_flags & IFF_NO_PI)) {
		snprintf(err, errlen, "fd %d: '%s' was opened without IFF_NO_PI", o->fd,
		    info->ifname);
		return -EINVAL;
	}
	info->vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
	/*
	 * IFF_VNET_HDR is fixed when the parent attaches: without it ringvm
	 * works without offloads; with it every frame carries the header, so
	 * vnet_hdr=off cannot be honoured.
	 */
	if (o->vnet_hdr_given && o->vnet_hdr != info->vnet_hdr) {
		snprintf(err, errlen, "fd %d: '%s' was opened %s IFF_VNET_HDR; drop vnet_hdr=%s",
		    o->fd, info->ifname, info->vnet_hdr ? "with" : "without",
		    o->vnet_hdr ? "on" : "off");
		return -EINVAL;
	}
	o->vnet_hdr = info->vnet_hdr;
	return 0;
}
