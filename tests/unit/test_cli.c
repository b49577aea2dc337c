/*
 * test_cli.c: the command line (HOSTILE.md H7) and -d disk specs: every bad
 * input gives one line naming the problem and status 2 (3 for a bad disk
 * file); sizes are checked for overflow; repeated options are refused
 * except -d, which repeats up to RV_MAX_DISKS times.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "device.h"
#include "devinst.h"
#include "kvmdev.h"
#include "log.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "virtio_rng.h"
#include "virtio_vsock.h"
#include "vm.h"
#include "unit.h"

/* The platform devices have no header of their own: the table names them. */
extern const struct device_ops serial_ops, pm_ops, pvpanic_ops;

static struct unit u = { .file = "cli" };

static struct rv_config cfg;
static char err[256];

/* nr_of: instances of `ops` in the last parse. */
static unsigned nr_of(const struct device_ops *ops)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg.nr_dev; i++)
		n += cfg.dev[i].ops == ops;
	return n;
}

/* spec_of: the spec of the `i`th instance of `ops`, or "". */
static const char *spec_of(const struct device_ops *ops, unsigned i)
{
	for (unsigned k = 0; k < cfg.nr_dev; k++)
		if (cfg.dev[k].ops == ops && i-- == 0)
			return cfg.dev[k].spec ? cfg.dev[k].spec : "";
	return "";
}

/* parse: cli_parse on "ringvm" + the NULL-terminated arguments. */
static enum cli_result parse(const char *first, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	FILE *out = fopen("/dev/null", "w");
	enum cli_result r;

	argv[argc++] = (char *)"ringvm";
	va_start(ap, first);
	for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 0, sizeof(err));
	devinst_free(&cfg);	/* the last parse's specs: cli_parse starts from zero */
	r = cli_parse(argc, argv, &cfg, out, err, sizeof(err));
	fclose(out);
	return r;
}

/* error_is: the parse failed with exactly `msg`, a single line. */
static int error_is(enum cli_result r, const char *msg)
{
	if (r != CLI_ERROR || strcmp(err, msg)) {
		printf("# got %d '%s'\n#   want '%s'\n", r, err, msg);
		return 0;
	}
	return strchr(err, '\n') == NULL;
}

static void test_sizes(void)
{
	static const struct { const char *s; int ret; uint64_t bytes; } t[] = {
		{ "256M", 0, 256ull << 20 }, { "1G", 0, 1ull << 30 }, { "4096K", 0, 4096ull << 10 },
		{ "2T", 0, 2ull << 40 }, { "512", 0, 512ull << 20 }, { "1g", 0, 1ull << 30 },
		{ "3k", 0, 3072 }, { "64MiB", 0, 64ull << 20 }, { "64MB", 0, 64ull << 20 },
		{ "64mib", 0, 64ull << 20 }, { "0", 0, 0 }, { "007M", 0, 7ull << 20 },
		{ "16777215T", 0, 16777215ull << 40 }, { "17592186044415", 0, 17592186044415ull << 20 },
		{ "abc", -EINVAL, 0 }, { "", -EINVAL, 0 }, { "M", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 }, { " 1", -EINVAL, 0 }, { "1 ", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 }, { "1GG", -EINVAL, 0 }, { "16E", -EINVAL, 0 },
		{ "12Q", -EINVAL, 0 }, { "0x100", -EINVAL, 0 }, { "1MiBx", -EINVAL, 0 },
		{ "1iB", -EINVAL, 0 },
		{ "18446744073709551616", -ERANGE, 0 }, { "99999999999999999999999", -ERANGE, 0 },
		{ "18446744073709551615", -ERANGE, 0 }, { "17592186044416", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 }, { "18446744073709551615K", -ERANGE, 0 },
		{ "18014398509481984K", -ERANGE, 0 },
	};
	char name[96];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t bytes = 0xabad1dea;
		int r = cli_parse_size(t[i].s, &bytes);

		snprintf(name, sizeof(name), "size '%s' -> %s", t[i].s,
		    t[i].ret == 0 ? "bytes" : t[i].ret == -EINVAL ? "EINVAL" : "ERANGE");
		UNIT_OK(&u, r == t[i].ret && (r || bytes == t[i].bytes), name);
	}
}

static void test_durations(void)
{
	static const struct { const char *s; int ret; uint64_t ms; } t[] = {
		{ "10", 0, 10000 }, { "2.5s", 0, 2500 }, { "500ms", 0, 500 }, { "3m", 0, 180000 },
		{ "1h", 0, 3600000 }, { "0.001", 0, 1 }, { "720h", 0, 720ull * 3600000 },
		{ "721h", -ERANGE, 0 }, { "99999999999999999999", -ERANGE, 0 }, { "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "1d", -EINVAL, 0 }, { "1 s", -EINVAL, 0 },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ms = 0;
		int r = cli_parse_duration(t[i].s, &ms);

		snprintf(name, sizeof(name), "duration '%s'", t[i].s);
		UNIT_OK(&u, r == t[i].ret && (r || ms == t[i].ms), name);
	}
}

static void test_good(void)
{
	UNIT_OK(&u, parse("-k", "bzImage", NULL) == CLI_RUN, "-k alone runs");
	UNIT_OK(&u, !strcmp(cfg.kernel, "bzImage") && cfg.initrd == NULL && cfg.append == NULL &&
	    cfg.mem_size == RV_MEM_DEFAULT && cfg.ncpus == 1 && nr_of(&vblk_ops) == 0 &&
	    nr_of(&vnet_ops) == 0, "defaults: 256M, 1 cpu, no initrd, append or disks");
	UNIT_OK(&u, nr_of(&serial_ops) == 1 && nr_of(&pm_ops) == 1 && nr_of(&pvpanic_ops) == 1 &&
	    nr_of(&vrng_ops) == 1 && cfg.nr_dev == 4 && cfg.dev[0].ops == rv_devices[0] &&
	    cfg.dev[3].ops == &vrng_ops && !strcmp(spec_of(&vrng_ops, 0), "on"),
	    "every VM has one serial, pm and pvpanic, and the entropy device (on), in table order");
	UNIT_OK(&u, parse("-k", "k", "-i", "rd", "-a", "quiet loglevel=3", "-m", "1G", "-c", "4",
	    NULL) == CLI_RUN && !strcmp(cfg.initrd, "rd") &&
	    !strcmp(cfg.append, "quiet loglevel=3") && cfg.mem_size == 1ull << 30 && cfg.ncpus == 4,
	    "short options");
	UNIT_OK(&u, parse("--kernel=k", "--initrd", "rd", "--append=x", "--memory=2048",
	    "--cpus", "64", NULL) == CLI_RUN && !strcmp(cfg.kernel, "k") &&
	    cfg.mem_size == 2048ull << 20 && cfg.ncpus == 64 && !strcmp(cfg.append, "x"),
	    "long options, = and separate arguments");
	UNIT_OK(&u, parse("-m", "16M", "-k", "k", NULL) == CLI_RUN && cfg.mem_size == RV_MEM_MIN,
	    "-m 16M is the minimum, accepted");
	UNIT_OK(&u, parse("-k", "k", "-m", "16384K", NULL) == CLI_RUN && cfg.mem_size == 16ull << 20,
	    "-m 16384K");
	UNIT_OK(&u, parse("-k", "k", "-m", "1T", NULL) == CLI_RUN && cfg.mem_size == 1ull << 40,
	    "-m 1T parses (the host check is main's)");
	UNIT_OK(&u, parse("-k", "k", "-c", "007", NULL) == CLI_RUN && cfg.ncpus == 7,
	    "-c with leading zeros");
	UNIT_OK(&u, parse("-k", "k", "-a", "", NULL) == CLI_RUN && cfg.append && !cfg.append[0],
	    "-a with an empty string");
	UNIT_OK(&u, parse("-k", "-m", NULL) == CLI_RUN && !strcmp(cfg.kernel, "-m"),
	    "an option's argument may start with a dash");
	UNIT_OK(&u, parse("-kk2", NULL) == CLI_RUN && !strcmp(cfg.kernel, "k2"),
	    "attached short argument");
	UNIT_OK(&u, parse("--kern", "k3", NULL) == CLI_RUN && !strcmp(cfg.kernel, "k3"),
	    "unambiguous long prefix");
	UNIT_OK(&u, parse("-k", "k", NULL) == CLI_RUN && !cfg.kernel_cache_off,
	    "the kernel cache is on by default");
	UNIT_OK(&u, parse("-k", "k", "--kcache", "off", NULL) == CLI_RUN && cfg.kernel_cache_off,
	    "--kcache off");
	UNIT_OK(&u, parse("-k", "k", "--kcache=on", NULL) == CLI_RUN && !cfg.kernel_cache_off,
	    "--kcache=on");
}

static void test_bad(void)
{
	enum cli_result r;

	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "abc", NULL),
	    "memory size 'abc' is not a size (use e.g. 256M or 1G)"), "-m abc");
	UNIT_OK(&u, error_is(parse("-k", "k", "--kcache", "yes", NULL),
	    "kernel cache 'yes' is not on or off"), "--kcache yes");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "0", NULL),
	    "memory size '0' is too small: the minimum is 16M"), "-m 0");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "16383K", NULL),
	    "memory size '16383K' is too small: the minimum is 16M"), "-m just below 16M");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "18446744073709551616", NULL),
	    "memory size '18446744073709551616' is too large"), "-m 2^64 overflows");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "16777216T", NULL),
	    "memory size '16777216T' is too large"), "-m 2^64 by suffix overflows");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "16E", NULL),
	    "memory size '16E' is not a size (use e.g. 256M or 1G)"), "-m 16E (no E suffix)");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "", NULL),
	    "memory size '' is not a size (use e.g. 256M or 1G)"), "-m empty");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "0", NULL),
	    "cpu count 0 is out of range: use 1 to 64"), "-c 0");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "65", NULL),
	    "cpu count 65 is out of range: use 1 to 64"), "-c 65");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "9999", NULL),
	    "cpu count 9999 is out of range: use 1 to 64"), "-c 9999");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "18446744073709551616", NULL),
	    "cpu count 18446744073709551616 is out of range: use 1 to 64"), "-c 2^64");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "4294967297", NULL),
	    "cpu count 4294967297 is out of range: use 1 to 64"), "-c 2^32+1 does not wrap to 1");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "two", NULL),
	    "cpu count 'two' is not a number"), "-c two");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "-1", NULL),
	    "cpu count '-1' is not a number"), "-c -1");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", " 1", NULL),
	    "cpu count ' 1' is not a number"), "-c with a leading space");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "1x", NULL),
	    "cpu count '1x' is not a number"), "-c 1x");
	UNIT_OK(&u, error_is(parse("-k", "k", "-c", "", NULL),
	    "cpu count '' is not a number"), "-c empty");
	UNIT_OK(&u, error_is(parse("-k", "k", "-x", NULL),
	    "unknown option '-x' (see ringvm --help)"), "unknown short option");
	UNIT_OK(&u, error_is(parse("-k", "k", "--bogus", NULL),
	    "unknown option '--bogus' (see ringvm --help)"), "unknown long option");
	UNIT_OK(&u, error_is(parse("-k", "k", "--bogus=1", NULL),
	    "unknown option '--bogus=1' (see ringvm --help)"), "unknown long option with =");
	UNIT_OK(&u, error_is(parse("-k", "k", "--version=2", NULL),
	    "option --version takes no argument"),
	    "argument to an option that takes none names the long option");
	UNIT_OK(&u, error_is(parse("-k", "k", "--memory", NULL),
	    "option --memory needs an argument"),
	    "a long option without its argument is named as typed");
	UNIT_OK(&u, error_is(parse("-k", NULL), "option -k needs an argument"), "-k without a file");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", NULL), "option -m needs an argument"),
	    "-m without a size");
	/* glibc sets optopt for long options too, so either spelling may appear. */
	r = parse("-k", "k", "--memory", NULL);
	UNIT_OK(&u, r == CLI_ERROR && (!strcmp(err, "option --memory needs an argument") ||
	    !strcmp(err, "option -m needs an argument")), "--memory without a size");
	UNIT_OK(&u, error_is(parse(NULL), "no kernel given: use -k FILE (see ringvm --help)"),
	    "no arguments at all");
	UNIT_OK(&u, error_is(parse("-m", "1G", "-c", "2", NULL),
	    "no kernel given: use -k FILE (see ringvm --help)"), "missing -k");
	UNIT_OK(&u, error_is(parse("-k", "k", "extra", NULL),
	    "unexpected argument 'extra' (a command goes after --; see ringvm --help)"),
	    "stray argument");
	/* After "--", everything is the command's, options included. */
	UNIT_OK(&u, parse("-k", "k", "--", "-m", "x", NULL) == CLI_RUN && cfg.run.argc == 2 &&
	    !strcmp(cfg.run.argv[0], "-m") && !strcmp(cfg.run.argv[1], "x") && cfg.mem_size ==
	    RV_MEM_DEFAULT, "-- COMMAND: the words after -- are the command, even -m");
	UNIT_OK(&u, error_is(parse("-k", "k", "--", NULL), "no command after --"), "-- alone");
	UNIT_OK(&u, parse("-k", "k", NULL) == CLI_RUN && cfg.run.argc == 0, "no --: console mode");
	UNIT_OK(&u, parse("-k", "k", "-e", "A=1", "--env=B=2", "-w", "/tmp", "--timeout", "2.5s",
	    "--output-limit", "64K", "--result", "r.json", "--console", "c.log", "--root", "r.img",
	    "--modules", "/m", "--", "true", NULL) == CLI_RUN && cfg.run.nr_env == 2 &&
	    !strcmp(cfg.run.env[1], "B=2") && !strcmp(cfg.run.workdir, "/tmp") &&
	    cfg.run.timeout_ms == 2500 && cfg.run.output_limit == 65536 &&
	    !strcmp(cfg.run.result, "r.json") && !strcmp(cfg.run.console, "c.log") &&
	    !strcmp(cfg.run.root, "r.img") && !strcmp(cfg.run.modules, "/m"),
	    "command mode options: -e (repeated), -w, --timeout, --output-limit, --result, "
	    "--console, --root, --modules");
	UNIT_OK(&u, error_is(parse("-k", "k", "--timeout", "5", NULL),
	    "option --timeout needs a command after -- (see ringvm --help)"),
	    "a command mode option without a command");
	UNIT_OK(&u, parse("-k", "k", "-u", "1000", "--", "id", NULL) == CLI_RUN &&
	    cfg.run.uid == 1000 && cfg.run.gid == 1000 &&
	    parse("-k", "k", "--user=65534:100", "--", "id", NULL) == CLI_RUN &&
	    cfg.run.uid == 65534 && cfg.run.gid == 100, "-u UID (group the same), --user UID:GID");
	UNIT_OK(&u, error_is(parse("-k", "k", "-u", "root", "--", "id", NULL),
	    "user 'root' is not UID or UID:GID (numbers below 4294967295)") &&
	    error_is(parse("-k", "k", "-u", "4294967295", "--", "id", NULL),
	    "user '4294967295' is not UID or UID:GID (numbers below 4294967295)") &&
	    error_is(parse("-k", "k", "-u", "1:", "--", "id", NULL),
	    "user '1:' is not UID or UID:GID (numbers below 4294967295)"),
	    "-u: names, (uid_t)-1 and a missing GID are refused");
	UNIT_OK(&u, error_is(parse("-k", "k", "-e", "NOEQUALS", "--", "true", NULL),
	    "environment 'NOEQUALS' is not NAME=VALUE"), "-e without =");
	UNIT_OK(&u, error_is(parse("-k", "k", "--timeout", "0", "--", "true", NULL),
	    "timeout '0' is not a time (use e.g. 10, 2.5s, 3m or 1h, at most 30 days)"),
	    "--timeout 0");
	UNIT_OK(&u, error_is(parse("-k", "k", "--output-limit", "lots", "--", "true", NULL),
	    "output limit 'lots' is not a size (use e.g. 64K or 10M)"), "--output-limit lots");
	/* -n specs are kept as given (the virtio-net device parses them), up to 4. */
	UNIT_OK(&u, parse("-k", "k", "-n", "user", "--net=tap,ifname=t0", NULL) == CLI_RUN &&
	    nr_of(&vnet_ops) == 2 && !strcmp(spec_of(&vnet_ops, 0), "user") &&
	    !strcmp(spec_of(&vnet_ops, 1), "tap,ifname=t0"),
	    "-n and --net collect network specs in order");
	UNIT_OK(&u, error_is(parse("-k", "k", "-n", "a", "-n", "b", "-n", "c", "-n", "d", "-n", "e",
	    NULL), "more than 4 network devices"), "a fifth -n is refused");
	/* --vsock: one spec, kept as given (the vsock device parses it). */
	UNIT_OK(&u, parse("-k", "k", "--vsock", "path=/tmp/v.sock,cid=5", NULL) == CLI_RUN &&
	    nr_of(&vsock_ops) == 1 && !strcmp(spec_of(&vsock_ops, 0), "path=/tmp/v.sock,cid=5"),
	    "--vsock keeps its spec");
	UNIT_OK(&u, error_is(parse("-k", "k", "--vsock=cid=3", "--vsock", "cid=4", NULL),
	    "option --vsock given twice"), "--vsock twice is refused");

	/* --rng: on by default, "off" leaves it out, options replace the default's. */
	UNIT_OK(&u, parse("-k", "k", "--rng", "off", NULL) == CLI_RUN && nr_of(&vrng_ops) == 0 &&
	    cfg.nr_dev == 3 && cfg.nr_off == 1, "--rng off: no entropy device, and no default");
	UNIT_OK(&u, parse("-k", "k", "--rng=rate=64K/s,burst=8K", NULL) == CLI_RUN &&
	    nr_of(&vrng_ops) == 1 && !strcmp(spec_of(&vrng_ops, 0), "rate=64K/s,burst=8K") &&
	    ((const struct vrng_spec *)cfg.dev[3].conf)->rate == 65536 &&
	    ((const struct vrng_spec *)cfg.dev[3].conf)->burst == 8192,
	    "--rng rate=,burst=: one device with those, not the default besides");
	UNIT_OK(&u, parse("-k", "k", "--rng", "on", "-d", "x.img", NULL) == CLI_RUN &&
	    nr_of(&vrng_ops) == 1 && cfg.dev[cfg.nr_dev - 1].ops == &vrng_ops,
	    "--rng on: one device, after the disks (table order)");
	UNIT_OK(&u, error_is(parse("-k", "k", "--rng", "off", "--rng", "on", NULL),
	    "option --rng given twice"), "--rng twice is refused");
	UNIT_OK(&u, error_is(parse("-k", "k", "--rng", "rate=0", NULL),
	    "rng 'rate=0': rate '0' is not 1K/s to 1G/s"), "--rng rate=0 is refused");
	UNIT_OK(&u, error_is(parse("-k", "k", "--rng", "fast", NULL),
	    "rng 'fast': unknown option 'fast' (use off, on, or rate=BYTES[/s],burst=BYTES)"),
	    "--rng with an unknown word");
	UNIT_OK(&u, error_is(parse("-k", "k", "--rng", "", NULL),
	    "rng '': unknown option '' (use off, on, or rate=BYTES[/s],burst=BYTES)"),
	    "--rng with an empty spec");
	UNIT_OK(&u, parse("-k", "k", "--rng", "off", "--", "true", NULL) == CLI_RUN &&
	    nr_of(&vrng_ops) == 0, "--rng off in the command mode");

	/* Repeated single-use options (the man page: "an unknown or repeated option"). */
	UNIT_OK(&u, error_is(parse("-k", "a", "-k", "b", NULL), "option -k given twice"), "-k twice");
	UNIT_OK(&u, error_is(parse("-k", "a", "--kernel", "b", NULL),
	    "option --kernel given twice"), "repeat named as spelled");
	UNIT_OK(&u, error_is(parse("-k", "a", "-i", "x", "-i", "x", NULL), "option -i given twice"),
	    "-i twice");
	UNIT_OK(&u, error_is(parse("-k", "a", "-a", "x", "--append", "y", NULL),
	    "option --append given twice"), "-a twice");
	UNIT_OK(&u, error_is(parse("-k", "a", "-m", "1G", "-m", "1G", NULL),
	    "option -m given twice"), "-m twice, even with the same value");
	UNIT_OK(&u, error_is(parse("-k", "a", "-c", "1", "--cpus=2", NULL),
	    "option --cpus given twice"), "-c twice");

	/* The first problem is reported; option errors come before value errors. */
	UNIT_OK(&u, error_is(parse("-m", "abc", "-x", NULL),
	    "unknown option '-x' (see ringvm --help)"), "unknown option before a bad value");
	UNIT_OK(&u, error_is(parse("-k", "k", "-m", "abc", "-c", "0", NULL),
	    "memory size 'abc' is not a size (use e.g. 256M or 1G)"), "memory before cpus");

	/* Reentrant: a failed parse leaves nothing behind for the next. */
	UNIT_OK(&u, parse("-k", "again", NULL) == CLI_RUN && !strcmp(cfg.kernel, "again") &&
	    cfg.mem_size == RV_MEM_DEFAULT, "parse again after an error");
	{
		char small[12];
		char *argv[] = { (char *)"ringvm", (char *)"-k", (char *)"k", (char *)"-m",
			(char *)"abcdefghij", NULL };

		memset(small, 'Z', sizeof(small));
		UNIT_OK(&u, cli_parse(5, argv, &cfg, stdout, small, sizeof(small)) == CLI_ERROR &&
		    small[sizeof(small) - 1] == '\0' && !strncmp(small, "memory size", 11),
		    "a short error buffer is truncated and terminated");
	}
}

/* test_rng_specs: --rng's values, bounds and mistakes (vrng_parse_spec). */
static void test_rng_specs(void)
{
	static const struct { const char *s; int ret; uint64_t rate, burst; } t[] = {
		{ "on", 0, 256 << 10, 64 << 10 }, { "off", DEVICE_NONE, 256 << 10, 64 << 10 },
		{ "rate=64K/s", 0, 64 << 10, 64 << 10 }, { "rate=64k", 0, 64 << 10, 64 << 10 },
		{ "burst=4096", 0, 256 << 10, 4096 }, { "rate=1M,burst=1M", 0, 1 << 20, 1 << 20 },
		{ "burst=8K,rate=2048/s", 0, 2048, 8192 }, { "rate=1G/s", 0, 1 << 30, 64 << 10 },
		{ "rate=1024", 0, 1024, 64 << 10 }, { "burst=64", 0, 256 << 10, 64 },
		{ "burst=16M", 0, 256 << 10, 16 << 20 }, { "rate=1073741824/s", 0, 1 << 30, 64 << 10 },
		{ "rate=1023", -EINVAL, 0, 0 }, { "rate=1073741825", -EINVAL, 0, 0 },
		{ "rate=2G", -EINVAL, 0, 0 }, { "rate=18446744073709551617", -EINVAL, 0, 0 },
		{ "rate=", -EINVAL, 0, 0 }, { "rate=/s", -EINVAL, 0, 0 }, { "rate=1K/m", -EINVAL, 0, 0 },
		{ "rate=1KB", -EINVAL, 0, 0 }, { "rate=-1K", -EINVAL, 0, 0 }, { "rate= 1K", -EINVAL, 0, 0 },
		{ "burst=63", -EINVAL, 0, 0 }, { "burst=17M", -EINVAL, 0, 0 }, { "burst=1K/s", -EINVAL, 0, 0 },
		{ "rate=4K,rate=8K", -EINVAL, 0, 0 }, { "burst=1K,burst=1K", -EINVAL, 0, 0 },
		{ "off,rate=4K", -EINVAL, 0, 0 }, { "on,burst=1K", -EINVAL, 0, 0 },
		{ "rate=4K,", -EINVAL, 0, 0 }, { ",rate=4K", -EINVAL, 0, 0 }, { "OFF", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
	};
	char name[96];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vrng_spec sp;
		int r;

		memset(err, 0, sizeof(err));
		r = vrng_parse_spec(t[i].s, &sp, err, sizeof(err));
		snprintf(name, sizeof(name), "rng spec '%s' -> %s", t[i].s,
		    t[i].ret == 0 ? "ok" : t[i].ret == DEVICE_NONE ? "off" : "EINVAL");
		UNIT_OK(&u, r == t[i].ret && (r < 0 ? err[0] && !strchr(err, '\n') :
		    sp.rate == t[i].rate && sp.burst == t[i].burst), name);
	}
}

static void test_help_version(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char *argv[] = { (char *)"ringvm", (char *)"--version", NULL };
	char *argh[] = { (char *)"ringvm", (char *)"-k", (char *)"k", (char *)"-h", NULL };

	UNIT_OK(&u, cli_parse(2, argv, &cfg, out, err, sizeof(err)) == CLI_EXIT_OK,
	    "--version exits OK");
	fflush(out);
#ifdef RINGVM_VERSION
	UNIT_OK(&u, !strcmp(buf, "ringvm " RINGVM_VERSION "\n"), "--version prints the version");
#else
	UNIT_OK(&u, !strncmp(buf, "ringvm ", 7) && strchr(buf, '\n') == buf + len - 1,
	    "--version prints one line");
#endif
	fclose(out);
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	UNIT_OK(&u, cli_parse(4, argh, &cfg, out, err, sizeof(err)) == CLI_EXIT_OK, "-h exits OK");
	fflush(out);
	UNIT_OK(&u, !strncmp(buf, "usage: ringvm -k kernel", 23) && strstr(buf, "--disk SPEC") &&
	    strstr(buf, "Ctrl-A x quits"), "-h prints the usage");
	fclose(out);
	free(buf);
}

static void test_disks_cli(void)
{
	UNIT_OK(&u, parse("-k", "k", "-d", "a.img", "--disk=b.img,ro", NULL) == CLI_RUN &&
	    nr_of(&vblk_ops) == 2 && !strcmp(spec_of(&vblk_ops, 0), "a.img") &&
	    !strcmp(spec_of(&vblk_ops, 1), "b.img,ro"),
	    "-d repeats, in order");
	UNIT_OK(&u, parse("-k", "k", "-d", "1", "-d", "2", "-d", "3", "-d", "4", "-d", "5", "-d",
	    "6", "-d", "7", "-d", "8", NULL) == CLI_RUN && nr_of(&vblk_ops) == VBLK_MAX_DEVICES &&
	    !strcmp(spec_of(&vblk_ops, 7), "8"), "8 disks are accepted");
	UNIT_OK(&u, error_is(parse("-k", "k", "-d", "1", "-d", "2", "-d", "3", "-d", "4", "-d", "5",
	    "-d", "6", "-d", "7", "-d", "8", "-d", "9", NULL), "more than 8 disks"),
	    "a 9th disk is refused");
}

/* spec_err: vblk_parse_spec refuses `s` with exactly `msg`. */
static int spec_err(const char *s, const char *msg)
{
	struct vblk_spec sp;
	char e[300] = "";

	if (vblk_parse_spec(s, &sp, e, sizeof(e)) != -1 || strcmp(e, msg)) {
		printf("# spec '%.40s': got '%s'\n#   want '%s'\n", s, e, msg);
		return 0;
	}
	return 1;
}

static void test_disk_specs(void)
{
	static struct vblk_spec sp;
	static char longpath[5000];
	char e[300];

	UNIT_OK(&u, vblk_parse_spec("disk.img", &sp, e, sizeof(e)) == 0 &&
	    !strcmp(sp.path, "disk.img") && !sp.ro && !sp.split_only && sp.engine == DISK_URING &&
	    sp.serial[0] == '\0', "PATH: read-write, both rings, io_uring, no serial");
	UNIT_OK(&u, vblk_parse_spec("/x/disk.img,ro", &sp, e, sizeof(e)) == 0 &&
	    !strcmp(sp.path, "/x/disk.img") && sp.ro, "PATH,ro");
	UNIT_OK(&u, vblk_parse_spec("d,serial=ABCDEFGHIJ0123456789", &sp, e, sizeof(e)) == 0 &&
	    !strcmp(sp.serial, "ABCDEFGHIJ0123456789"), "serial of 20 bytes is kept whole");
	UNIT_OK(&u, spec_err("d,serial=ABCDEFGHIJ0123456789X",
	    "disk 'd,serial=ABCDEFGHIJ0123456789X': serial longer than 20 bytes"),
	    "serial of 21 bytes is refused");
	UNIT_OK(&u, spec_err("d,serial=", "disk 'd,serial=': unknown option 'serial='"),
	    "empty serial is refused");
	UNIT_OK(&u, vblk_parse_spec("d,ring=split", &sp, e, sizeof(e)) == 0 && sp.split_only,
	    "ring=split");
	UNIT_OK(&u, vblk_parse_spec("d,ring=split,ring=packed", &sp, e, sizeof(e)) == 0 &&
	    !sp.split_only, "ring=packed after ring=split: the last wins");
	UNIT_OK(&u, spec_err("d,ring=bogus", "disk 'd,ring=bogus': unknown option 'ring=bogus'"),
	    "ring=bogus");
	UNIT_OK(&u, spec_err("d,ring=splitx", "disk 'd,ring=splitx': unknown option 'ring=splitx'"),
	    "ring= with a valid prefix");
	UNIT_OK(&u, vblk_parse_spec("d,aio=sync", &sp, e, sizeof(e)) == 0 && sp.engine == DISK_SYNC,
	    "aio=sync");
	UNIT_OK(&u, vblk_parse_spec("d,aio=sync,aio=uring", &sp, e, sizeof(e)) == 0 &&
	    sp.engine == DISK_URING, "aio=uring after aio=sync: the last wins");
	UNIT_OK(&u, spec_err("d,aio=bogus", "disk 'd,aio=bogus': unknown option 'aio=bogus'"),
	    "aio=bogus");
	UNIT_OK(&u, vblk_parse_spec("d,ro,serial=S1,ring=split,aio=sync", &sp, e, sizeof(e)) == 0 &&
	    sp.ro && sp.split_only && sp.engine == DISK_SYNC && !strcmp(sp.serial, "S1") &&
	    !strcmp(sp.path, "d"), "all options together");
	UNIT_OK(&u, vblk_parse_spec("d,snapshot,aio=sync", &sp, e, sizeof(e)) == 0 && sp.snapshot &&
	    !sp.ro && sp.engine == DISK_SYNC, "snapshot");
	UNIT_OK(&u, spec_err("d,ro,snapshot", "disk 'd,ro,snapshot': ro and snapshot exclude each "
	    "other (a snapshot disk is writable; its image is never written either way)"),
	    "ro with snapshot is refused");
	UNIT_OK(&u, spec_err("d,snapshot=on", "disk 'd,snapshot=on': unknown option 'snapshot=on'"),
	    "snapshot takes no value");
	UNIT_OK(&u, spec_err("d,RO", "disk 'd,RO': unknown option 'RO'"), "options are case-sensitive");
	UNIT_OK(&u, spec_err("d,ro=1", "disk 'd,ro=1': unknown option 'ro=1'"), "ro takes no value");
	UNIT_OK(&u, spec_err("d,r", "disk 'd,r': unknown option 'r'"), "prefix of ro");
	UNIT_OK(&u, spec_err("d,", "disk 'd,': unknown option ''"), "trailing comma");
	UNIT_OK(&u, spec_err("d,,ro", "disk 'd,,ro': unknown option ''"), "empty option");
	UNIT_OK(&u, spec_err(",ro", "disk ',ro': no image path"), "no path before the options");
	UNIT_OK(&u, spec_err("", "disk '': no image path"), "empty spec");

	memset(longpath, 'p', 4095);
	longpath[4095] = '\0';
	UNIT_OK(&u, vblk_parse_spec(longpath, &sp, e, sizeof(e)) == 0 && strlen(sp.path) == 4095,
	    "a 4095-byte path fits");
	longpath[4095] = 'p';
	longpath[4096] = '\0';
	UNIT_OK(&u, vblk_parse_spec(longpath, &sp, e, sizeof(e)) == -1 && !strncmp(e, "disk '", 6) &&
	    strlen(e) == sizeof(e) - 1, "a 4096-byte path is refused, the message truncated");
}

/* A child process's exit and what it wrote on stderr. */
struct child {
	int status;
	char err[2048];
	size_t len;
};

/* run_child: run fn(arg) in a child, stdout to /dev/null, stderr captured; 200 ms at most. */
static void run_child(void (*fn)(void *), void *arg, struct child *c)
{
	int p[2];
	pid_t pid;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	fflush(stdout);
	fflush(stderr);
	if (pipe(p) < 0) {
		c->status = -1;
		return;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		struct itimerval it = { .it_value = { .tv_usec = 200000 } };

		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		close(p[0]);
		setitimer(ITIMER_REAL, &it, NULL);	/* a hang is a failure, not a stuck test */
		fn(arg);
		_exit(99);
	}
	close(p[1]);
	while (c->len < sizeof(c->err) - 1 &&
	    (n = read(p[0], c->err + c->len, sizeof(c->err) - 1 - c->len)) > 0)
		c->len += (size_t)n;
	close(p[0]);
	waitpid(pid, &c->status, 0);
}

/* exited_with: status `code` and exactly the stderr line "ringvm: <msg>\n". */
static int exited_with(const struct child *c, int code, const char *msg)
{
	char want[1024];

	snprintf(want, sizeof(want), "ringvm: %s\n", msg);
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != code || strcmp(c->err, want)) {
		printf("# child: %s %d, stderr '%.*s'\n#   want %d '%s'\n",
		    WIFEXITED(c->status) ? "exit" : "signal",
		    WIFEXITED(c->status) ? WEXITSTATUS(c->status) : WTERMSIG(c->status),
		    (int)strcspn(c->err, "\n"), c->err, code, msg);
		return 0;
	}
	return 1;
}

struct argv_box {
	int argc;
	char **argv;
};

/* main_like: what main() does with the parse: status 2 and one line on error. */
static void main_like(void *arg)
{
	struct argv_box *b = arg;
	static char e[256];

	devinst_free(&cfg);	/* the parent's last parse, which this child inherited */
	switch (cli_parse(b->argc, b->argv, &cfg, stdout, e, sizeof(e))) {
	case CLI_ERROR:
		diex(RV_EXIT_USAGE, "%s", e);
	case CLI_EXIT_OK:
		exit(0);
	case CLI_RUN:
		exit(50);
	}
}

static void test_exit_lines(void)
{
	char *a1[] = { (char *)"ringvm", (char *)"-k", (char *)"k", (char *)"-m", (char *)"abc", NULL };
	char *a2[] = { (char *)"ringvm", (char *)"--bogus", NULL };
	char *a3[] = { (char *)"ringvm", (char *)"-c", (char *)"0", NULL };
	struct argv_box b;
	struct child c;

	b = (struct argv_box){ 5, a1 };
	run_child(main_like, &b, &c);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_USAGE,
	    "memory size 'abc' is not a size (use e.g. 256M or 1G)"), "exit 2, one line: -m abc");
	b = (struct argv_box){ 2, a2 };
	run_child(main_like, &b, &c);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_USAGE, "unknown option '--bogus' (see ringvm --help)"),
	    "exit 2, one line: --bogus");
	b = (struct argv_box){ 3, a3 };
	run_child(main_like, &b, &c);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_USAGE, "no kernel given: use -k FILE (see ringvm --help)"),
	    "exit 2, one line: missing -k wins over -c 0");
}

/*
 * spec_run: what the CLI and main do with one spec of `ops` before KVM:
 * parse it (status 2 on failure) and check its files (status 3); exit 0
 * when both pass. No VM, no loop, no KVM.
 */
static void spec_run(const struct device_ops *ops, const char *spec)
{
	static struct rv_config dc;
	char e[512];

	memset(&dc, 0, sizeof(dc));
	if (devinst_parse(&dc, ops, spec, e, sizeof(e)))
		diex(RV_EXIT_USAGE, "%s", e);
	if (devinst_check(&dc, e, sizeof(e)))
		diex(RV_EXIT_BADFILE, "%s", e);
	devinst_free(&dc);
	exit(0);
}

/* disk_setup: spec_run for one -d spec. */
static void disk_setup(void *arg)
{
	spec_run(&vblk_ops, arg);
}

/* spec_check: spec_run for "d:SPEC" (a disk) or "n:SPEC" (a network device). */
static void spec_check(void *arg)
{
	const char *a = arg;

	spec_run(a[0] == 'd' ? &vblk_ops : &vnet_ops, a + 2);
}

/* check_says: spec_check(arg) exits with `code` and, unless 0, exactly `msg`. */
static int check_says(const char *arg, int code, const char *msg)
{
	struct child c;

	run_child(spec_check, (void *)arg, &c);
	if (code == 0) {
		if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 && c.err[0] == '\0')
			return 1;
		printf("# '%s': status %d, stderr '%s'\n", arg, c.status, c.err);
		return 0;
	}
	return exited_with(&c, code, msg);
}

/*
 * test_spec_checks: every -d and -n spec error is found by the devices'
 * check hooks, which main runs before the KVM device is opened (issue 12):
 * the same one line and status as at device creation, with no KVM at all.
 */
static void test_spec_checks(void)
{
	char dir[] = "/tmp/ringvm-chk-XXXXXX", arg[300], msg[600];
	int fd;

	UNIT_OK(&u, check_says("n:user,hostfwd=tcp::99999-:22", RV_EXIT_USAGE,
	    "net 'user,hostfwd=tcp::99999-:22': hostfwd 'tcp::99999-:22': host port '99999' "
	    "is out of range (1-65535)"), "check: -n user with a bad hostfwd port: exit 2");
	UNIT_OK(&u, check_says("n:user,net=10.0.2.0/28", RV_EXIT_USAGE,
	    "net 'user,net=10.0.2.0/28': net '10.0.2.0/28': prefix length '28' is not a number "
	    "from 1 to 27"),
	    "check: -n user with a bad net: exit 2");
	UNIT_OK(&u, check_says("n:user,restrict=maybe", RV_EXIT_USAGE,
	    "net 'user,restrict=maybe': restrict 'maybe': expected on or off"),
	    "check: -n user with a bad restrict: exit 2");
	UNIT_OK(&u, check_says("n:user,sockets=0", RV_EXIT_USAGE,
	    "net 'user,sockets=0': sockets '0': expected a number from 1 to 4096"),
	    "check: -n user with sockets=0: exit 2");
	UNIT_OK(&u, check_says("n:user,sockets=4097", RV_EXIT_USAGE,
	    "net 'user,sockets=4097': sockets '4097': expected a number from 1 to 4096"),
	    "check: -n user with sockets over 4096: exit 2");
	UNIT_OK(&u, check_says("n:tap,bogus=1", RV_EXIT_USAGE,
	    "net 'tap,bogus=1': unknown option 'bogus'"), "check: -n tap with an unknown option");
	UNIT_OK(&u, check_says("n:tap,vnet_hdr=maybe", RV_EXIT_USAGE,
	    "net 'tap,vnet_hdr=maybe': vnet_hdr 'maybe': expected on or off"),
	    "check: -n tap with a bad vnet_hdr");
	UNIT_OK(&u, check_says("n:tap,fd=abc", RV_EXIT_USAGE,
	    "net 'tap,fd=abc': fd 'abc': not a descriptor number"), "check: -n tap,fd=abc: exit 2");
	UNIT_OK(&u, check_says("n:tap,fd=901", RV_EXIT_USAGE,
	    "net 'tap,fd=901': fd 901: not an open descriptor (Bad file descriptor); the parent "
	    "must pass it open, without close-on-exec"), "check: -n tap,fd=N not open: exit 2");
	UNIT_OK(&u, check_says("n:tap,fd=3,ifname=t0", RV_EXIT_USAGE,
	    "net 'tap,fd=3,ifname=t0': fd= and ifname= exclude each other (the descriptor names "
	    "its interface)"), "check: -n tap with fd and ifname: exit 2");
	UNIT_OK(&u, check_says("n:none,foo", RV_EXIT_USAGE, "net 'none,foo': unknown option 'foo'"),
	    "check: -n none with an option");
	UNIT_OK(&u, check_says("n:bogus", RV_EXIT_USAGE,
	    "net 'bogus': unknown backend 'bogus' (use user, tap or none)"),
	    "check: -n with an unknown backend");
	UNIT_OK(&u, check_says("n:user,mac=01:00:00:00:00:01", RV_EXIT_USAGE,
	    "net 'user,mac=01:00:00:00:00:01': mac '01:00:00:00:00:01' is not a unicast address "
	    "like 52:54:00:12:34:56"), "check: -n with a multicast MAC");
	UNIT_OK(&u, check_says("n:user,hostfwd=tcp::2222-:22,restrict=on", 0, NULL),
	    "check: a good -n user spec passes, and binds nothing");
	UNIT_OK(&u, check_says("n:user,hostfwd=tcp::2222-:22,restrict=on", 0, NULL),
	    "check: twice: the port was never bound");
	UNIT_OK(&u, check_says("n:tap,ifname=rv-no-such-tap", 0, NULL),
	    "check: -n tap does not look for the interface (open does)");
	UNIT_OK(&u, check_says("d:x.img,aio=posix", RV_EXIT_USAGE,
	    "disk 'x.img,aio=posix': unknown option 'aio=posix'"), "check: -d with a bad aio");
	if (!mkdtemp(dir)) {
		UNIT_OK(&u, 0, "temp dir");
		return;
	}
	snprintf(arg, sizeof(arg), "d:%s/nope.img", dir);
	snprintf(msg, sizeof(msg), "disk '%s/nope.img' cannot be opened: No such file or directory",
	    dir);
	UNIT_OK(&u, check_says(arg, RV_EXIT_BADFILE, msg), "check: a missing disk: exit 3");
	snprintf(arg, sizeof(arg), "d:%s/ok.img,ro", dir);
	snprintf(msg, sizeof(msg), "%s/ok.img", dir);
	fd = open(msg, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0 && ftruncate(fd, 4096) == 0)
		UNIT_OK(&u, check_says(arg, 0, NULL), "check: a good disk passes");
	snprintf(arg, sizeof(arg), "d:%s/ok.img,snapshot", dir);
	UNIT_OK(&u, check_says(arg, 0, NULL), "check: a snapshot disk passes");
	setenv("TMPDIR", "/nonexistent-ringvm-tmp", 1);
	snprintf(msg, sizeof(msg), "disk '%s/ok.img' cannot have its snapshot overlay in "
	    "'/nonexistent-ringvm-tmp' (TMPDIR): No such file or directory", dir);
	UNIT_OK(&u, check_says(arg, RV_EXIT_BADFILE, msg),
	    "check: a snapshot disk whose TMPDIR is missing: exit 3, TMPDIR named");
	unsetenv("TMPDIR");
	snprintf(msg, sizeof(msg), "%s/ok.img", dir);
	if (fd >= 0)
		close(fd);
	unlink(msg);
	rmdir(dir);
}

/*
 * test_kvm_hints: the KVM device path and what a user is told to do when it
 * cannot be opened (the messages of man/ringvm.1 DIAGNOSTICS).
 */
static void test_kvm_hints(void)
{
	unsetenv("RINGVM_KVM_DEVICE");
	UNIT_OK(&u, !strcmp(kvmdev_path(), "/dev/kvm"), "the KVM device is /dev/kvm by default");
	setenv("RINGVM_KVM_DEVICE", "", 1);
	UNIT_OK(&u, !strcmp(kvmdev_path(), "/dev/kvm"), "an empty RINGVM_KVM_DEVICE is ignored");
	setenv("RINGVM_KVM_DEVICE", "/tmp/fake-kvm", 1);
	UNIT_OK(&u, !strcmp(kvmdev_path(), "/tmp/fake-kvm"), "RINGVM_KVM_DEVICE names another");
	unsetenv("RINGVM_KVM_DEVICE");
	UNIT_OK(&u, kvmdev_hint(ENOENT) && strstr(kvmdev_hint(ENOENT), "kvm_intel or kvm_amd") &&
	    strstr(kvmdev_hint(ENOENT), "nested virtualization"),
	    "no KVM device: load kvm_intel/kvm_amd or enable nested virtualization");
	UNIT_OK(&u, kvmdev_hint(EACCES) && strstr(kvmdev_hint(EACCES), "kvm group") &&
	    strstr(kvmdev_hint(EACCES), "log in again"),
	    "permission denied: join the kvm group, log in again");
	UNIT_OK(&u, kvmdev_hint(EIO) == NULL, "other errors: the errno text alone");
}

static void test_disk_files(void)
{
	char dir[] = "/tmp/ringvm-cli-XXXXXX", path[256], spec[300], msg[600];
	struct child c;
	int fd;

	if (!mkdtemp(dir)) {
		UNIT_OK(&u, 0, "temp dir");
		return;
	}
	run_child(disk_setup, (void *)"x.img,ring=bogus", &c);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_USAGE, "disk 'x.img,ring=bogus': unknown option 'ring=bogus'"),
	    "bad spec: exit 2, one line");
	run_child(disk_setup, (void *)"x.img,serial=123456789012345678901", &c);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_USAGE,
	    "disk 'x.img,serial=123456789012345678901': serial longer than 20 bytes"),
	    "long serial: exit 2, one line");

	snprintf(path, sizeof(path), "%s/nope.img", dir);
	run_child(disk_setup, path, &c);
	snprintf(msg, sizeof(msg), "disk '%s' cannot be opened: No such file or directory", path);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "missing disk: exit 3");

	snprintf(spec, sizeof(spec), "%s,ro", dir);
	run_child(disk_setup, spec, &c);
	snprintf(msg, sizeof(msg), "disk '%s' is not a regular file", dir);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "directory, ro: exit 3");
	run_child(disk_setup, dir, &c);
	snprintf(msg, sizeof(msg), "disk '%s' cannot be opened: Is a directory", dir);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "directory, rw: exit 3");

	snprintf(path, sizeof(path), "%s/empty.img", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	run_child(disk_setup, path, &c);
	snprintf(msg, sizeof(msg), "disk '%s' is empty", path);
	UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "empty disk: exit 3");
	unlink(path);

	snprintf(path, sizeof(path), "%s/odd.img", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0 && ftruncate(fd, 1000) == 0) {
		run_child(disk_setup, path, &c);
		snprintf(msg, sizeof(msg), "disk '%s' has 1000 bytes, not a multiple of 512", path);
		UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "size not a multiple of 512: exit 3");
	}
	close(fd);
	unlink(path);

	/* A FIFO must be refused, not waited on: open blocks until a writer comes. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) == 0) {
		snprintf(spec, sizeof(spec), "%s,ro", path);
		run_child(disk_setup, spec, &c);
		snprintf(msg, sizeof(msg), "disk '%s' is not a regular file", path);
		UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "FIFO, ro: exit 3, no hang");
		run_child(disk_setup, path, &c);
		UNIT_OK(&u, exited_with(&c, RV_EXIT_BADFILE, msg), "FIFO, rw: exit 3, no hang");
		unlink(path);
	}
	rmdir(dir);
}

/*
 * test_table: the device table is a registry the CLI can build on: every
 * device can be created and destroyed, every option has a parser, a cap and
 * help, and no option name or letter is used twice (core options included).
 */
static void test_table(void)
{
	static const char core[] = "kiamchV";
	unsigned devs = 0, opts = 0, ok = 1;

	for (const struct device_ops *const *d = rv_devices; *d; d++) {
		const struct device_option *o = (*d)->option;

		devs++;
		ok &= (*d)->name && (*d)->create && (*d)->destroy;
		if (!o)
			continue;
		opts++;
		ok &= (*d)->parse && o->max > 0 && o->summary && o->noun && o->arg;
		ok &= !o->short_name || !strchr(core, o->short_name);
		ok &= devices_find_option(o->name, 0) == *d;
		ok &= !o->short_name || devices_find_option(NULL, o->short_name) == *d;
		if (o->default_spec) {
			void *conf = NULL;

			/* A default that does not parse would fail every run without the option. */
			ok &= (*d)->parse(o->default_spec, 0, &conf, err, sizeof(err)) == 0;
			free(conf);
		}
	}
	UNIT_OK(&u, ok && devs >= 5 && opts >= 2, "table: every device creates and destroys; every "
	    "option parses (its default spec too), is capped and documented, and is unique");
	UNIT_OK(&u, devices_find_option("disk", 0) == &vblk_ops &&
	    devices_find_option(NULL, 'n') == &vnet_ops && !devices_find_option("kernel", 'k'),
	    "table: -d/--disk and -n/--net find their devices; core options are not devices");
}

/* A device on by default for test_default_off: "off" is DEVICE_NONE, "bad" an error. */
static int fake_parse(const char *spec, unsigned index, void **conf, char *e, size_t elen)
{
	(void)index;
	(void)conf;
	if (!strcmp(spec, "off"))
		return DEVICE_NONE;
	if (!strcmp(spec, "bad")) {
		snprintf(e, elen, "fake: bad spec");
		return -EINVAL;
	}
	return 0;
}

static const struct device_option fake_option = {
	.name = "fake", .arg = "SPEC", .summary = "a test device", .max = 1, .noun = "fakes",
	.default_spec = "on",
};

static const struct device_ops fake_ops = {
	.name = "fake", .option = &fake_option, .parse = fake_parse,
};

/*
 * test_default_off: the instance list's side of default devices: a spec
 * the device answers DEVICE_NONE makes no instance but counts as given
 * (so devices_configure adds no default), a spec that parses makes one,
 * a bad one neither, and devinst_free forgets both.
 */
static void test_default_off(void)
{
	struct rv_config c;

	memset(&c, 0, sizeof(c));
	UNIT_OK(&u, !devinst_given(&c, &fake_ops), "default: a device nothing was said about is not given");
	UNIT_OK(&u, devinst_parse(&c, &fake_ops, "off", err, sizeof(err)) == 0 && c.nr_dev == 0 &&
	    c.nr_off == 1 && devinst_given(&c, &fake_ops),
	    "default: DEVICE_NONE makes no instance, and the device counts as given (off)");
	devinst_free(&c);
	UNIT_OK(&u, c.nr_off == 0 && !devinst_given(&c, &fake_ops), "default: devinst_free forgets 'off'");
	UNIT_OK(&u, devinst_parse(&c, &fake_ops, "on", err, sizeof(err)) == 0 && c.nr_dev == 1 &&
	    c.nr_off == 0 && devinst_given(&c, &fake_ops), "default: a spec that parses is an instance");
	devinst_free(&c);
	UNIT_OK(&u, devinst_parse(&c, &fake_ops, "bad", err, sizeof(err)) == -EINVAL &&
	    c.nr_dev == 0 && c.nr_off == 0 && !devinst_given(&c, &fake_ops) &&
	    !strcmp(err, "fake: bad spec"), "default: a bad spec is neither an instance nor 'off'");
	devinst_free(&c);
}

/*
 * test_inherited_fds: the descriptors a parsed configuration keeps (tap's
 * fd=N), found through the device table's hooks without touching any.
 */
static void test_inherited_fds(void)
{
	static struct rv_config dc;
	const char *specs[] = { "user", "tap,fd=7", "tap,ifname=t0", "tap,vnet_hdr=on,fd=12" };
	int fds[4] = { -1, -1, -1, -1 };
	unsigned n, ok = 1;

	memset(&dc, 0, sizeof(dc));
	for (unsigned i = 0; i < 4; i++) {
		struct vnet_spec *spec = calloc(1, sizeof(*spec));

		ok &= spec && vnet_parse_spec(specs[i], i, spec, err, sizeof(err)) == 0;
		dc.dev[dc.nr_dev++] = (struct dev_instance){ .ops = &vnet_ops, .spec = specs[i],
		    .index = i, .conf = spec };
	}
	n = devinst_inherited_fds(&dc, fds, 4);
	UNIT_OK(&u, ok && n == 2 && fds[0] == 7 && fds[1] == 12,
	    "inherited fds: -n tap,fd=7 and -n tap,fd=12 keep 7 and 12; user and ifname= keep none");
	n = devinst_inherited_fds(&dc, fds, 1);
	UNIT_OK(&u, n == 2 && fds[0] == 7, "inherited fds: a short array gets the first, the count all");
	devinst_free(&dc);
}

int main(void)
{
	test_table();
	test_default_off();
	test_inherited_fds();
	test_durations();
	test_sizes();
	test_good();
	test_bad();
	test_rng_specs();
	test_help_version();
	test_disks_cli();
	test_disk_specs();
	test_exit_lines();
	test_disk_files();
	test_spec_checks();
	test_kvm_hints();
	devinst_free(&cfg);
	return unit_done(&u);
}
