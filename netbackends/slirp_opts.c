/*
 * slirp_opts.c: parse the user backend's options: net=, hostfwd= (QEMU's
 * syntax), restrict=, ipv6=, hostname=, mtu=. Every value is checked before
 * libslirp sees it; errors name the option and the reason in one line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "slirp_opts.h"

/* user_number: a decimal number in [min, max]; -1 when not a number, -2 when out of range. */
static long user_number(const char *s, long min, long max)
{
	size_t n = strlen(s);
	long v = 0;

	if (n == 0 || strspn(s, "0123456789") != n)
		return -1;
	if (n > 9)
		return -2;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v < min || v > max ? -2 : v;
}

/* user_on_off: parse "on" or "off" into *b. Returns 0 or -EINVAL with a reason. */
static int user_on_off(const char *key, const char *val, bool *b, char *err, size_t errlen)
{
	if (!strcmp(val, "on")) {
		*b = true;
	} else if (!strcmp(val, "off")) {
		*b = false;
	} else {
		snprintf(err, errlen, "%s '%s': expected on or off", key, val);
		return -EINVAL;
	}
	return 0;
}

/* user_port: parse one port of a hostfwd rule (1-65535). */
static int user_port(const char *spec, const char *which, const char *s, int *port,
    char *err, size_t errlen)
{
	long v = user_number(s, 1, 65535);

	if (v == -1)
		snprintf(err, errlen, "hostfwd '%s': %s port '%s' is not a number", spec, which, s);
	else if (v == -2)
		snprintf(err, errlen, "hostfwd '%s': %s port '%s' is out of range (1-65535)",
		    spec, which, s);
	if (v < 0)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* user_addr: parse one address of a hostfwd rule; "" keeps *a. */
static int user_addr(const char *spec, const char *which, const char *s, struct in_addr *a,
    char *err, size_t errlen)
{
	if (*s == '\0')
		return 0;
	if (inet_pton(AF_INET, s, a) != 1) {
		snprintf(err, errlen, "hostfwd '%s': %s address '%s' is not an IPv4 address",
		    spec, which, s);
		return -EINVAL;
	}
	return 0;
}

/*
 * user_parse_fwd: parse one hostfwd rule in QEMU's syntax,
 * [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT; the colon before
 * HOSTPORT may be left out with the address. f->spec keeps `spec`.
 */
static int user_parse_fwd(const char *spec, struct user_fwd *f, char *err, size_t errlen)
{
	char work[USER_OPTS_MAX];
	char *dash, *colon, *port;
	int r;

	memset(f, 0, sizeof(*f));
	f->spec = spec;
	snprintf(work, sizeof(work), "%s", spec);
	dash = strchr(work, '-');
	colon = strchr(work, ':');
	if (!dash || !colon || colon > dash) {
		snprintf(err, errlen, "hostfwd '%s': expected "
		    "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT", spec);
		return -EINVAL;
	}
	*dash = '\0';
	*colon = '\0';
	if (work[0] == '\0' || !strcmp(work, "tcp")) {
		f->udp = false;
	} else if (!strcmp(work, "udp")) {
		f->udp = true;
	} else {
		snprintf(err, errlen, "hostfwd '%s': protocol '%s' is not tcp or udp", spec, work);
		return -EINVAL;
	}
	/*
	 * The host side defaults to 127.0.0.1, not QEMU's 0.0.0.0: a forward
	 * reachable from the whole network must be asked for by address.
	 */
	f->host_addr.s_addr = htonl(INADDR_LOOPBACK);
	port = strrchr(colon + 1, ':');
	if (port) {
		*port++ = '\0';
		r = user_addr(spec, "host", colon + 1, &f->host_addr, err, errlen);
		if (r < 0)
			return r;
	} else {
		port = colon + 1;
	}
	r = user_port(spec, "host", port, &f->host_port, err, errlen);
	if (r < 0)
		return r;
	port = strrchr(dash + 1, ':');
	if (port) {
		*port++ = '\0';
		r = user_addr(spec, "guest", dash + 1, &f->guest_addr, err, errlen);
		if (r < 0)
			return r;
	} else {
		port = dash + 1;
	}
	return user_port(spec, "guest", port, &f->guest_port, err, errlen);
}

/* user_parse_net: "ADDR[/PREFIX]" (prefix 1-27, default 24) into o. */
static int user_parse_net(const char *val, struct user_opts *o, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN + 1];
	const char *slash = strchr(val, '/');
	size_t alen = slash ? (size_t)(slash - val) : strlen(val);
	uint32_t net, mask;
	long prefix = 24;

	if (alen >= sizeof(addr)) {
		snprintf(err, errlen, "net '%s': not an IPv4 network (ADDR/PREFIX)", val);
		return -EINVAL;
	}
	memcpy(addr, val, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &o->net) != 1) {
		snprintf(err, errlen, "net '%s': '%s' is not an IPv4 address", val, addr);
		return -EINVAL;
	}
	if (slash) {
		prefix = user_number(slash + 1, 1, USER_PREFIX_MAX);
		if (prefix < 0) {
			snprintf(err, errlen, "net '%s': prefix length '%s' is not a number "
			    "from 1 to %d", val, slash + 1, USER_PREFIX_MAX);
			return -EINVAL;
		}
	}
	net = ntohl(o->net.s_addr);
	mask = 0xffffffffu << (32 - prefix);
	if (net & ~mask) {
		snprintf(err, errlen, "net '%s': address has bits set outside the /%ld prefix",
		    val, prefix);
		return -EINVAL;
	}
	/* The guest's addresses must not shadow this host, "any" or multicast. */
	if ((net >> 24) == 0 || (net >> 24) == 127 || net >= 0xe0000000u) {
		snprintf(err, errlen, "net '%s': must not be within 0.0.0.0/8, 127.0.0.0/8 "
		    "or 224.0.0.0/3", val);
		return -EINVAL;
	}
	o->prefix = (unsigned)prefix;
	o->mask.s_addr = htonl(mask);
	o->host.s_addr = htonl(net | 2);
	o->dns.s_addr = htonl(net | 3);
	o->dhcp.s_addr = htonl(net | 15);
	return 0;
}

/* user_parse_hostname: 1-32 letters, digits, '-' or '.'. */
static int user_parse_hostname(const char *val, struct user_opts *o, char *err, size_t errlen)
{
	size_t len = strlen(val);

	if (len == 0 || len > USER_HOSTNAME_MAX ||
	    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != len) {
		snprintf(err, errlen, "hostname '%s': expected 1-%d letters, digits, '-' or '.'",
		    val, USER_HOSTNAME_MAX);
		return -EINVAL;
	}
	memcpy(o->hostname, val, len + 1);
	return 0;
}

/* user_check_fwds: resolve default guest addresses and keep them inside the network. */
static int user_check_fwds(struct user_opts *o, char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->nfwd; i++) {
		struct user_fwd *f = &o->fwd[i];
		char a[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];

		if (f->guest_addr.s_addr == 0)
			f->guest_addr = o->dhcp;
		if ((f->guest_addr.s_addr & o->mask.s_addr) != o->net.s_addr) {
			inet_ntop(AF_INET, &f->guest_addr, a, sizeof(a));
			inet_ntop(AF_INET, &o->net, n, sizeof(n));
			snprintf(err, errlen, "hostfwd '%s': guest address '%s' is outside net %s/%u",
			    f->spec, a, n, o->prefix);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * user_parse: parse the comma-separated options into o, defaults first.
 * Each option but hostfwd may appear once. Returns 0 or -EINVAL with a
 * one-line reason naming the bad option in err.
 */
/* user_parse_value: store one option's value (`key` known, `val` non-NULL). Returns 0 or -EINVAL. */
static int user_parse_value(const char *key, const char *val, struct user_opts *o, char *err,
    size_t errlen)
{
	long v;
	int r;

	if (!strcmp(key, "hostfwd")) {
		if (o->nfwd == USER_HOSTFWD_MAX) {
			snprintf(err, errlen, "too many hostfwd rules (at most %d)", USER_HOSTFWD_MAX);
			return -EINVAL;
		}
		r = user_parse_fwd(val, &o->fwd[o->nfwd], err, errlen);
		o->nfwd += r == 0;
		return r;
	}
	if (!strcmp(key, "net"))
		return user_parse_net(val, o, err, errlen);
	if (!strcmp(key, "restrict"))
		return user_on_off("restrict", val, &o->restricted, err, errlen);
	if (!strcmp(key, "ipv6"))
		return user_on_off("ipv6", val, &o->ipv6, err, errlen);
	if (!strcmp(key, "hostname"))
		return user_parse_hostname(val, o, err, errlen);
	if (!strcmp(key, "sockets")) {
		v = user_number(val, 1, USER_SOCKETS_MAX);
		if (v < 0) {
			snprintf(err, errlen, "sockets '%s': expected a number from 1 to %d", val,
			    USER_SOCKETS_MAX);
			return -EINVAL;
		}
		o->sockets = (unsigned)v;
		return 0;
	}
	v = user_number(val, USER_MTU_MIN, USER_MTU_MAX);	/* "mtu", the last key */
	if (v < 0) {
		snprintf(err, errlen, "mtu '%s': expected a number from %d to %d", val,
		    USER_MTU_MIN, USER_MTU_MAX);
		return -EINVAL;
	}
	o->mtu = (unsigned)v;
	return 0;
}

/* user_defaults: QEMU's -netdev user defaults: open (restrict=on cuts the way out), IPv6 on. */
static void user_defaults(struct user_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	user_parse_net("10.0.2.0/24", o, err, errlen);
	o->restricted = false;
	o->ipv6 = true;
	o->mtu = USER_MTU_DEFAULT;
	o->sockets = USER_SOCKETS_DEFAULT;
}

int user_parse(const char *opts, struct user_opts *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "net", "restrict", "ipv6", "hostname", "mtu", "sockets" };
	const unsigned nkeys = sizeof(keys) / sizeof(keys[0]);
	char buf[USER_OPTS_MAX];
	unsigned seen = 0;	/* a bit per single-use option */
	char *p = buf;

	user_defaults(o, err, errlen);
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(err, errlen, "options too long (at most %d characters)", USER_OPTS_MAX - 1);
		return -EINVAL;
	}
	strcpy(buf, opts);
	while (buf[0] != '\0') {
		char *comma = strchr(p, ','), *val;
		unsigned k;

		if (comma)
			*comma = '\0';
		if (*p == '\0') {
			snprintf(err, errlen, "empty option");
			return -EINVAL;
		}
		val = strchr(p, '=');
		if (val)
			*val++ = '\0';
		for (k = 0; k < nkeys && strcmp(p, keys[k]); k++)
			;
		if (k < nkeys && (seen & (1u << k))) {
			snprintf(err, errlen, "option '%s' given twice", p);
			return -EINVAL;
		}
		if (k < nkeys)
			seen |= 1u << k;
		else if (strcmp(p, "hostfwd")) {
			snprintf(err, errlen, "unknown option '%s'", p);
			return -EINVAL;
		}
		if (!val) {
			snprintf(err, errlen, "option '%s' needs a value (%s=...)", p, p);
			return -EINVAL;
		}
		if (user_parse_value(p, val, o, err, errlen) < 0)
			return -EINVAL;
		if (!comma)
			break;
		p = comma + 1;
	}
	/* f->spec points into buf: check the rules while it is alive. */
	return user_check_fwds(o, err, errlen);
}
