/* cli.c: getopt_long parsing of ringvm's options; every bad input gets one clear line. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef RINGVM_VERSION
#define RINGVM_VERSION "0.0"
#endif

static const char cli_short[] = ":k:i:a:m:c:d:n:hV";

static const struct option cli_long[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "append", required_argument, NULL, 'a' },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "disk", required_argument, NULL, 'd' },
	{ "net", required_argument, NULL, 'n' },
	{ "vsock", required_argument, NULL, 'S' },
	{ "check", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
	fputs("usage: ringvm -k kernel [-i initrd] [-a cmdline] [-m size] [-c cpus]\n"
	    "              [-d disk] [-n net] [--vsock spec]\n"
	    "\n"
	    "  -k, --kernel FILE     Linux bzImage to boot (required)\n"
	    "  -i, --initrd FILE     initramfs to load\n"
	    "  -a, --append CMDLINE  kernel command line, after ringvm's defaults\n"
	    "  -m, --memory SIZE     guest memory: 256M, 1G, ... (default 256M)\n"
	    "  -c, --cpus N          number of vCPUs (default 1)\n"
	    "  -d, --disk SPEC       virtio disk: PATH[,OPTION...], options below\n"
	    "  -n, --net SPEC        virtio network: BACKEND[,OPTION...], backends below\n"
	    "      --vsock SPEC      virtio socket device: [path=SOCK][,cid=N], options below\n"
	    "      --check           check the options and files, start nothing\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    /* One sub-option per line, as ringvm(1) orders them: adding one is one line. */
	    "Disk options (-d PATH,OPTION,...):\n"
	    "  ro                 read-only for the guest\n"
	    "  serial=ID          the disk's serial number (up to 20 bytes)\n"
	    "  ring=split|packed  virtqueue layout offered\n"
	    "  aio=uring|sync     how the host does the I/O\n"
	    "Network backends (-n BACKEND,OPTION,...); each takes mac=MAC, ring=split|packed:\n"
	    "  user               user-mode TCP/IP, no privilege needed; options:\n"
	    "    hostfwd=tcp|udp:[HOSTADDR]:PORT-[GUESTADDR]:PORT  forward (repeatable)\n"
	    "    restrict=on|off  keep the guest from the host and outside (default off)\n"
	    "    net=ADDR/PREFIX  the guest network (default 10.0.2.0/24)\n"
	    "    ipv6=on|off      IPv6 too (default on)\n"
	    "    hostname=NAME    the host name DHCP offers the guest\n"
	    "    mtu=BYTES        the link MTU, 1280 to 65521 (default 16384)\n"
	    "    sockets=N        host sockets the guest's flows may hold (default 256)\n"
	    "  tap                a TAP interface; options:\n"
	    "    ifname=NAME      attach to this existing interface (else create one)\n"
	    "    vnet_hdr=on|off  pass virtio-net headers, for offloads (default on)\n"
	    "  none               a device with no link\n"
	    "Socket device options (--vsock OPTION,...):\n"
	    "  path=SOCK          host programs connect to SOCK and send CONNECT <port>;\n"
	    "                     guest connections to host port P go to SOCK_P\n"
	    "  cid=N              the guest's context ID, 3 or more (default 3)\n"
	    "\n"
	    "Exit status: 0 the guest powered off, 1 host failure, 2 bad command line,\n"
	    "3 bad kernel, initrd or disk file, 4 the guest rebooted, 5 guest kernel panic,\n"
	    "6 vCPU failure, 128+N stopped by signal N (Ctrl-A x: 130).\n"
	    "\n"
	    "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A. See ringvm(1).\n",
	    out);
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t val = 0, mul = 1ull << 20;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		/* Checked multiply-add: "18446744073709551616" must not wrap. */
		if (__builtin_mul_overflow(val, 10, &val) ||
		    __builtin_add_overflow(val, (uint64_t)(*p - '0'), &val))
			return -ERANGE;
	}
	switch (tolower((unsigned char)*p)) {
	case '\0': break;
	case 'k': mul = 1ull << 10; p++; break;
	case 'm': mul = 1ull << 20; p++; break;
	case 'g': mul = 1ull << 30; p++; break;
	case 't': mul = 1ull << 40; p++; break;
	default: return -EINVAL;
	}
	/* Accept "M", "MB", "MiB" alike; nothing else may follow. */
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	if (__builtin_mul_overflow(val, mul, bytes))
		return -ERANGE;
	return 0;
}

static enum cli_result cli_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum cli_result cli_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLI_ERROR;
}

/* cli_once: store a single-use option, refusing a repeat. */
static int cli_once(const char **slot, const char *arg)
{
	if (*slot)
		return -1;
	*slot = arg;
	return 0;
}

/* cli_optname: the option as the user spelled it, for messages. */
static const char *cli_optname(int c, int longidx, char *buf, size_t len)
{
	if (longidx >= 0)
		snprintf(buf, len, "--%s", cli_long[longidx].name);
	else
		snprintf(buf, len, "-%c", c);
	return buf;
}

enum cli_result cli_parse(int argc, char **argv, struct rv_config *cfg,
    FILE *out, char *err, size_t errlen)
{
	const char *mem = NULL, *cpus = NULL;
	char name[32];
	int c, longidx;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = RV_MEM_DEFAULT;
	cfg->ncpus = 1;
	opterr = 0;
	optind = 0;	/* glibc: full reinitialisation, so tests can call us twice */
	for (;;) {
		longidx = -1;
		c = getopt_long(argc, argv, cli_short, cli_long, &longidx);
		if (c == -1)
			break;
		switch (c) {
		case 'k':
		case 'i':
		case 'a': {
			const char **slot = c == 'k' ? &cfg->kernel :
			    c == 'i' ? &cfg->initrd : &cfg->append;

			if (cli_once(slot, optarg))
				return cli_err(err, errlen, "option %s given twice",
				    cli_optname(c, longidx, name, sizeof(name)));
			break;
		}
		case 'm':
		case 'c':
			if (cli_once(c == 'm' ? &mem : &cpus, optarg))
				return cli_err(err, errlen, "option %s given twice",
				    cli_optname(c, longidx, name, sizeof(name)));
			break;
		case 'd':
			if (cfg->nr_disks == RV_MAX_DISKS)
				return cli_err(err, errlen, "more than %d disks", RV_MAX_DISKS);
			cfg->disk[cfg->nr_disks++] = optarg;
			break;
		case 'n':
			if (cfg->nr_nets == RV_MAX_NETS)
				return cli_err(err, errlen, "more than %d network devices", RV_MAX_NETS);
			cfg->net[cfg->nr_nets++] = optarg;
			break;
		case 'S':
			if (cli_once(&cfg->vsock, optarg))
				return cli_err(err, errlen, "option --vsock given twice");
			break;
		case 'C':
			cfg->check_only = true;
			break;
		case 'h':
			cli_usage(out);
			return CLI_EXIT_OK;
		case 'V':
			fprintf(out, "ringvm %s\n", RINGVM_VERSION);
			return CLI_EXIT_OK;
		case ':':
			/* glibc sets optopt for long options too: name what was typed. */
			if (!strncmp(argv[optind - 1], "--", 2))
				return cli_err(err, errlen, "option %s needs an argument",
				    argv[optind - 1]);
			return cli_err(err, errlen, "option -%c needs an argument", optopt);
		default:
			if (!strncmp(argv[optind - 1], "--", 2)) {
				const char *arg = argv[optind - 1];
				int n = (int)strcspn(arg, "=");

				if (optopt)
					return cli_err(err, errlen, "option %.*s takes no argument",
					    n, arg);
				return cli_err(err, errlen,
				    "unknown option '%s' (see ringvm --help)", arg);
			}
			return cli_err(err, errlen,
			    "unknown option '-%c' (see ringvm --help)", optopt);
		}
	}
	if (optind < argc)
		return cli_err(err, errlen, "unexpected argument '%s' (see ringvm --help)",
		    argv[optind]);
	if (!cfg->kernel)
		return cli_err(err, errlen, "no kernel given: use -k FILE (see ringvm --help)");
	if (mem) {
		int r = cli_parse_size(mem, &cfg->mem_size);

		if (r == -ERANGE)
			return cli_err(err, errlen, "memory size '%s' is too large", mem);
		if (r)
			return cli_err(err, errlen,
			    "memory size '%s' is not a size (use e.g. 256M or 1G)", mem);
		if (cfg->mem_size < RV_MEM_MIN)
			return cli_err(err, errlen,
			    "memory size '%s' is too small: the minimum is %lluM",
			    mem, RV_MEM_MIN >> 20);
	}
	if (cpus) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(cpus, &end, 10);
		if (!isdigit((unsigned char)cpus[0]) || *end)
			return cli_err(err, errlen, "cpu count '%s' is not a number", cpus);
		if (errno || n == 0 || n > RV_MAX_VCPUS)
			return cli_err(err, errlen,
			    "cpu count %s is out of range: use 1 to %d", cpus, RV_MAX_VCPUS);
		cfg->ncpus = (unsigned)n;
	}
	return CLI_RUN;
}
