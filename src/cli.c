/*
 * cli.c: the command line. Owns the core options (kernel, memory, CPUs,
 * --check, --help, --version) and reads every device option, its --help
 * text and its spec parser from the device table (src/devices.c), so a new
 * device adds its option without touching this file. Every bad input gets
 * one line naming the problem; nothing is opened here.
 *
 * Exported: cli_parse (argv to struct rv_config), cli_parse_size (sizes
 * like 256M), cli_usage (--help). Contracts in cli.h.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "devinst.h"

#ifndef RINGVM_VERSION
#define RINGVM_VERSION "0.0"
#endif

/* getopt values of the core options without a short form, and of device options. */
enum {
	CLI_OPT_CHECK = 0x100,
	CLI_OPT_TIMEOUT,
	CLI_OPT_OUTPUT_LIMIT,
	CLI_OPT_RESULT,
	CLI_OPT_CONSOLE,
	CLI_OPT_ROOT,
	CLI_OPT_MODULES,
	CLI_OPT_SANDBOX,
	CLI_OPT_KCACHE,
	CLI_OPT_DUMP_DTB,
	CLI_OPT_DEVICE = 0x200,		/* + index in rv_devices */
};

#define CLI_MAX_OPTS 32
#define CLI_MAX_SPECS RV_MAX_INSTANCES

/* One core option, as getopt_long and --help see it. */
struct cli_core {
	const char *name;
	int has_arg;
	int val;
	const char *arg, *summary;
};

static const struct cli_core cli_core_opts[] = {
	{ "kernel", required_argument, 'k', "FILE", "Linux kernel to boot (required): x86 bzImage or ELF, arm64 Image" },
	{ "initrd", required_argument, 'i', "FILE", "initramfs to load" },
	{ "append", required_argument, 'a', "CMDLINE", "kernel command line, after ringvm's defaults" },
	{ "memory", required_argument, 'm', "SIZE", "guest memory: 256M, 1G, ... (default 256M)" },
	{ "cpus", required_argument, 'c', "N", "number of vCPUs (default 1)" },
	{ NULL, 0, 0, NULL, NULL },	/* the device options go here in --help */
	/* The command mode's (after "--"): */
	{ "env", required_argument, 'e', "NAME=VAL", "the command's environment (repeatable)" },
	{ "workdir", required_argument, 'w', "DIR", "the command's working directory" },
	{ "user", required_argument, 'u', "UID[:GID]", "run it as this user and group (default 0:0)" },
	{ "timeout", required_argument, CLI_OPT_TIMEOUT, "TIME", "stop it after TIME (10, 2.5s, 3m, 1h): status 124" },
	{ "output-limit", required_argument, CLI_OPT_OUTPUT_LIMIT, "SIZE",
	    "stop it once stdout or stderr passes SIZE: 153" },
	{ "result", required_argument, CLI_OPT_RESULT, "FILE", "write the run's outcome to FILE as JSON" },
	{ "console", required_argument, CLI_OPT_CONSOLE, "FILE", "the guest console's output (else dropped)" },
	{ "root", required_argument, CLI_OPT_ROOT, "IMAGE", "root file system: ext4, squashfs or erofs, read-only" },
	{ "modules", required_argument, CLI_OPT_MODULES, "DIR", "the guest kernel's modules (else /lib/modules/VER)" },
	{ "sandbox", required_argument, CLI_OPT_SANDBOX, "on|off",
	    "confine ringvm: seccomp, Landlock (default on)" },
	{ "kcache", required_argument, CLI_OPT_KCACHE, "on|off",
	    "keep unpacked kernels in ~/.cache/ringvm (default on)" },
	{ "check", no_argument, CLI_OPT_CHECK, NULL, "check the options and files, start nothing" },
	{ "dump-dtb", required_argument, CLI_OPT_DUMP_DTB, "FILE",
	    "arm64: write the guest's device tree to FILE, start nothing" },
	{ "help", no_argument, 'h', NULL, "show this help" },
	{ "version", no_argument, 'V', NULL, "show the version" },
};

#define CLI_NR_CORE (sizeof(cli_core_opts) / sizeof(cli_core_opts[0]))

/* What one cli_parse call collects before judging it (no file-scope state). */
struct cli_state {
	struct option opts[CLI_MAX_OPTS];
	char shorts[2 * CLI_MAX_OPTS + 2];
	const char *mem, *cpus, *timeout, *output_limit, *user;
	bool runner_opt;	/* an option only the command mode takes was given */
	char runner_name[32];
	struct { const struct device_ops *ops; const char *spec; } specs[CLI_MAX_SPECS];
	unsigned nr_specs;
};

/* cli_usage_line: "  -k, --kernel FILE     text", columns as in ringvm(1)'s synopsis. */
static void cli_usage_line(FILE *out, int short_name, const char *name, const char *arg,
    const char *summary)
{
	char left[40];

	if (short_name > 0 && short_name < 0x100)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", short_name, name, arg ? " " : "",
		    arg ? arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", name, arg ? " " : "", arg ? arg : "");
	fprintf(out, "  %-20s  %s\n", left, summary);
}

void cli_usage(FILE *out)
{
	char word[48];
	int col = 13;

	fputs("usage: ringvm -k kernel [-i initrd] [-a cmdline] [-m size] [-c cpus]\n"
	    "             ", out);
	/* The device options, then the command, wrapped within 80 columns. */
	for (const struct device_ops *const *d = rv_devices; ; d++) {
		const struct device_option *o = *d ? (*d)->option : NULL;
		int n;

		if (*d && !o)
			continue;
		if (!*d)
			n = snprintf(word, sizeof(word), " [-- COMMAND [ARG...]]");
		else if (o->short_name)
			n = snprintf(word, sizeof(word), " [-%c %s]", o->short_name, o->arg);
		else
			n = snprintf(word, sizeof(word), " [--%s %s]", o->name, o->arg);
		if (col + n > 79) {
			fputs("\n             ", out);
			col = 13;
		}
		fputs(word, out);
		col += n;
		if (!*d)
			break;
	}
	fputs("\n\n", out);
	for (size_t i = 0; i < CLI_NR_CORE; i++) {
		const struct cli_core *c = &cli_core_opts[i];

		if (c->name) {
			cli_usage_line(out, c->val, c->name, c->arg, c->summary);
			continue;
		}
		for (const struct device_ops *const *d = rv_devices; *d; d++)
			if ((*d)->option)
				cli_usage_line(out, (*d)->option->short_name, (*d)->option->name,
				    (*d)->option->arg, (*d)->option->summary);
	}
	fputc('\n', out);
	/* Each device's sub-options, one per line, as ringvm(1) orders them. */
	for (const struct device_ops *const *d = rv_devices; *d; d++)
		if ((*d)->option && (*d)->option->usage)
			(*d)->option->usage(out);
	fputs("\n"
	    "Exit status without a command: 0 the guest powered off, 1 host failure, 2 bad\n"
	    "command line, 3 bad kernel, initrd or disk file, 4 the guest rebooted, 5 guest\n"
	    "kernel panic, 6 vCPU failure, 128+N stopped by signal N (Ctrl-A x: 130).\n"
	    "With -- COMMAND: the command's own, 128+N killed by signal N, 124 timed out,\n"
	    "125 ringvm or the VM failed, 126 not executable, 127 not found, 153 output\n"
	    "limit. Either way: 159 a thread of ringvm broke its sandbox (see stderr).\n"
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

/* cli_build: getopt_long's tables from the core options and the device table. */
static void cli_build(struct cli_state *st)
{
	unsigned n = 0;
	char *s = st->shorts;

	*s++ = '+';	/* stop at the first word that is not an option: "--" ends them */
	*s++ = ':';	/* report a missing argument as ':' */
	for (size_t i = 0; i < CLI_NR_CORE; i++) {
		const struct cli_core *c = &cli_core_opts[i];

		if (!c->name)
			continue;
		st->opts[n++] = (struct option){ c->name, c->has_arg, NULL, c->val };
		if (c->val < 0x100) {
			*s++ = (char)c->val;
			if (c->has_arg)
				*s++ = ':';
		}
	}
	for (unsigned i = 0; rv_devices[i] && n < CLI_MAX_OPTS - 1; i++) {
		const struct device_option *o = rv_devices[i]->option;

		if (!o)
			continue;
		st->opts[n++] = (struct option){ o->name, required_argument, NULL,
		    o->short_name ? o->short_name : CLI_OPT_DEVICE + (int)i };
		if (o->short_name) {
			*s++ = o->short_name;
			*s++ = ':';
		}
	}
	st->opts[n] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
}

/* cli_optname: the option as the user spelled it, for messages. */
static const char *cli_optname(const struct cli_state *st, int c, int longidx, char *buf,
    size_t len)
{
	if (longidx >= 0)
		snprintf(buf, len, "--%s", st->opts[longidx].name);
	else
		snprintf(buf, len, "-%c", c);
	return buf;
}

/* cli_bad_option: the message for an unknown option or a missing or extra argument. */
static enum cli_result cli_bad_option(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c == ':') {
		/* glibc sets optopt for long options too: name what was typed. */
		if (!strncmp(arg, "--", 2))
			return cli_err(err, errlen, "option %s needs an argument", arg);
		return cli_err(err, errlen, "option -%c needs an argument", optopt);
	}
	if (!strncmp(arg, "--", 2)) {
		int n = (int)strcspn(arg, "=");

		if (optopt)
			return cli_err(err, errlen, "option %.*s takes no argument", n, arg);
		return cli_err(err, errlen, "unknown option '%s' (see ringvm --help)", arg);
	}
	return cli_err(err, errlen, "unknown option '-%c' (see ringvm --help)", optopt);
}

/* cli_once: store a single-use option, refusing a repeat. */
static enum cli_result cli_once(const struct cli_state *st, const char **slot, int c,
    int longidx, char *err, size_t errlen)
{
	char name[32];

	if (*slot)
		return cli_err(err, errlen, "option %s given twice",
		    cli_optname(st, c, longidx, name, sizeof(name)));
	*slot = optarg;
	return CLI_RUN;
}

int cli_parse_duration(const char *s, uint64_t *ms)
{
	unsigned long long whole = 0, frac = 0, scale = 1, mul;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (unsigned long long)(*p - '0'), &whole))
			return -ERANGE;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			if (scale < 1000000) {
				frac = frac * 10 + (unsigned long long)(*p - '0');
				scale *= 10;
			}
	}
	if (!strcmp(p, "ms"))
		mul = 1;
	else if (!*p || !strcmp(p, "s"))
		mul = 1000;
	else if (!strcmp(p, "m"))
		mul = 60000;
	else if (!strcmp(p, "h"))
		mul = 3600000;
	else
		return -EINVAL;
	/* Up to 30 days: enough for any run, far from overflow. */
	if (whole > 30ull * 24 * 3600000 / mul)
		return -ERANGE;
	*ms = whole * mul + frac * mul / scale;
	return 0;
}

/* cli_run_option: an option of the command mode (judged in cli_finish with the command). */
static enum cli_result cli_run_option(struct cli_state *st, int c, int longidx,
    struct rv_config *cfg, char *err, size_t errlen)
{
	struct rv_run *run = &cfg->run;

	switch (c) {
	case 'e':
		if (run->nr_env == RV_MAX_ENV)
			return cli_err(err, errlen, "more than %d -e options", RV_MAX_ENV);
		if (!strchr(optarg, '=') || optarg[0] == '=')
			return cli_err(err, errlen, "environment '%s' is not NAME=VALUE", optarg);
		run->env[run->nr_env++] = optarg;
		return CLI_RUN;
	case 'w': return cli_once(st, &run->workdir, c, longidx, err, errlen);
	case 'u': return cli_once(st, &st->user, c, longidx, err, errlen);
	case CLI_OPT_TIMEOUT: return cli_once(st, &st->timeout, c, longidx, err, errlen);
	case CLI_OPT_OUTPUT_LIMIT: return cli_once(st, &st->output_limit, c, longidx, err, errlen);
	case CLI_OPT_RESULT: return cli_once(st, &run->result, c, longidx, err, errlen);
	case CLI_OPT_CONSOLE: return cli_once(st, &run->console, c, longidx, err, errlen);
	case CLI_OPT_ROOT: return cli_once(st, &run->root, c, longidx, err, errlen);
	default: return cli_once(st, &run->modules, c, longidx, err, errlen);
	}
}

/* cli_user: "UID" or "UID:GID", decimal; GID defaults to UID. Returns 0 or -EINVAL. */
static int cli_user(const char *s, uint32_t *uid, uint32_t *gid)
{
	unsigned long long v[2] = { 0, 0 };
	const char *p = s;

	for (int i = 0; i < 2; i++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			v[i] = v[i] * 10 + (unsigned long long)(*p - '0');
			if (v[i] >= 0xffffffffull)	/* (uid_t)-1 means "unchanged" to the kernel */
				return -EINVAL;
		}
		if (i == 0 && *p != ':') {
			v[1] = v[0];
			break;
		}
		p += i == 0;
	}
	if (*p)
		return -EINVAL;
	*uid = (uint32_t)v[0];
	*gid = (uint32_t)v[1];
	return 0;
}

/* cli_command: the words after "--", and the values of the command mode's options. */
static enum cli_result cli_command(struct cli_state *st, int argc, char **argv,
    struct rv_config *cfg, char *err, size_t errlen)
{
	struct rv_run *run = &cfg->run;
	int r;

	if (optind < argc && (optind == 0 || strcmp(argv[optind - 1], "--")))
		return cli_err(err, errlen, "unexpected argument '%s' (a command goes after --; "
		    "see ringvm --help)", argv[optind]);
	if (optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--") && optind == argc)
		return cli_err(err, errlen, "no command after --");
	run->argc = argc - optind;
	run->argv = argv + optind;
	if (st->runner_opt && !run->argc)
		return cli_err(err, errlen, "option %s needs a command after -- (see ringvm --help)",
		    st->runner_name);
	if (st->timeout) {
		r = cli_parse_duration(st->timeout, &run->timeout_ms);
		if (r || !run->timeout_ms)
			return cli_err(err, errlen, "timeout '%s' is not a time (use e.g. 10, 2.5s, 3m "
			    "or 1h, at most 30 days)", st->timeout);
	}
	if (st->user && cli_user(st->user, &run->uid, &run->gid))
		return cli_err(err, errlen, "user '%s' is not UID or UID:GID (numbers below "
		    "4294967295)", st->user);
	if (st->output_limit) {
		r = cli_parse_size(st->output_limit, &run->output_limit);
		if (r || !run->output_limit)
			return cli_err(err, errlen, "output limit '%s' is not a size (use e.g. 64K or "
			    "10M)", st->output_limit);
	}
	return CLI_RUN;
}

/*
 * cli_option: take one option getopt returned. Returns CLI_RUN to go on,
 * CLI_EXIT_OK after --help or --version, or CLI_ERROR.
 */
static enum cli_result cli_option(struct cli_state *st, int c, int longidx, char **argv,
    struct rv_config *cfg, FILE *out, char *err, size_t errlen)
{
	const struct device_ops *dev;

	switch (c) {
	case 'k': return cli_once(st, &cfg->kernel, c, longidx, err, errlen);
	case 'i': return cli_once(st, &cfg->initrd, c, longidx, err, errlen);
	case 'a': return cli_once(st, &cfg->append, c, longidx, err, errlen);
	case 'm': return cli_once(st, &st->mem, c, longidx, err, errlen);
	case 'c': return cli_once(st, &st->cpus, c, longidx, err, errlen);
	case CLI_OPT_CHECK:
		cfg->check_only = true;
		return CLI_RUN;
	case CLI_OPT_DUMP_DTB: return cli_once(st, &cfg->dump_dtb, c, longidx, err, errlen);
	case CLI_OPT_SANDBOX:
		if (strcmp(optarg, "on") && strcmp(optarg, "off"))
			return cli_err(err, errlen, "sandbox '%s' is not on or off", optarg);
		cfg->sandbox_off = !strcmp(optarg, "off");
		return CLI_RUN;
	case CLI_OPT_KCACHE:
		if (strcmp(optarg, "on") && strcmp(optarg, "off"))
			return cli_err(err, errlen, "kernel cache '%s' is not on or off", optarg);
		cfg->kernel_cache_off = !strcmp(optarg, "off");
		return CLI_RUN;
	case 'e': case 'w': case 'u': case CLI_OPT_TIMEOUT: case CLI_OPT_OUTPUT_LIMIT: case CLI_OPT_RESULT:
	case CLI_OPT_CONSOLE: case CLI_OPT_ROOT: case CLI_OPT_MODULES:
		if (!st->runner_opt)
			cli_optname(st, c, longidx, st->runner_name, sizeof(st->runner_name));
		st->runner_opt = true;
		return cli_run_option(st, c, longidx, cfg, err, errlen);
	case 'h':
		cli_usage(out);
		return CLI_EXIT_OK;
	case 'V':
		fprintf(out, "ringvm %s\n", RINGVM_VERSION);
		return CLI_EXIT_OK;
	}
	dev = c >= CLI_OPT_DEVICE ? rv_devices[c - CLI_OPT_DEVICE] :
	    c > 0 && c < 0x100 && c != ':' && c != '?' ? devices_find_option(NULL, (char)c) : NULL;
	if (!dev)
		return cli_bad_option(c, argv, err, errlen);
	/* Specs are judged once every option is known; only their number now. */
	if (dev->option) {
		unsigned n = 0;

		for (unsigned i = 0; i < st->nr_specs; i++)
			n += st->specs[i].ops == dev;
		if (n == dev->option->max && n == 1)
			return cli_err(err, errlen, "option --%s given twice", dev->option->name);
		if (n == dev->option->max)
			return cli_err(err, errlen, "more than %u %s", dev->option->max,
			    dev->option->noun);
	}
	if (st->nr_specs == CLI_MAX_SPECS)
		return cli_err(err, errlen, "more than %d device options", CLI_MAX_SPECS);
	st->specs[st->nr_specs].ops = dev;
	st->specs[st->nr_specs++].spec = optarg;
	return CLI_RUN;
}

/* cli_memory: -m's value, within [RV_MEM_MIN, 2^64). */
static enum cli_result cli_memory(const char *mem, uint64_t *bytes, char *err, size_t errlen)
{
	int r = cli_parse_size(mem, bytes);

	if (r == -ERANGE)
		return cli_err(err, errlen, "memory size '%s' is too large", mem);
	if (r)
		return cli_err(err, errlen, "memory size '%s' is not a size (use e.g. 256M or 1G)",
		    mem);
	if (*bytes < RV_MEM_MIN)
		return cli_err(err, errlen, "memory size '%s' is too small: the minimum is %lluM",
		    mem, RV_MEM_MIN >> 20);
	return CLI_RUN;
}

/* cli_cpus: -c's value, 1 to RV_MAX_VCPUS. */
static enum cli_result cli_cpus(const char *cpus, unsigned *ncpus, char *err, size_t errlen)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(cpus, &end, 10);
	if (!isdigit((unsigned char)cpus[0]) || *end)
		return cli_err(err, errlen, "cpu count '%s' is not a number", cpus);
	if (errno || n == 0 || n > RV_MAX_VCPUS)
		return cli_err(err, errlen, "cpu count %s is out of range: use 1 to %d", cpus,
		    RV_MAX_VCPUS);
	*ncpus = (unsigned)n;
	return CLI_RUN;
}

/* cli_finish: judge what the options collected, in a fixed order. */
static enum cli_result cli_finish(struct cli_state *st, struct rv_config *cfg, char *err,
    size_t errlen)
{
	if (!cfg->kernel)
		return cli_err(err, errlen, "no kernel given: use -k FILE (see ringvm --help)");
	if (st->mem && cli_memory(st->mem, &cfg->mem_size, err, errlen))
		return CLI_ERROR;
	if (st->cpus && cli_cpus(st->cpus, &cfg->ncpus, err, errlen))
		return CLI_ERROR;
	for (unsigned i = 0; i < st->nr_specs; i++)
		if (devinst_parse(cfg, st->specs[i].ops, st->specs[i].spec, err, errlen))
			return CLI_ERROR;
	if (devices_configure(cfg, err, errlen))
		return CLI_ERROR;
	return CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct rv_config *cfg,
    FILE *out, char *err, size_t errlen)
{
	struct cli_state st;
	enum cli_result r;
	int c, longidx;

	memset(cfg, 0, sizeof(*cfg));
	memset(&st, 0, sizeof(st));
	cfg->mem_size = RV_MEM_DEFAULT;
	cfg->ncpus = 1;
	cli_build(&st);
	opterr = 0;
	optind = 0;	/* glibc: full reinitialisation, so tests can call us twice */
	for (;;) {
		longidx = -1;
		c = getopt_long(argc, argv, st.shorts, st.opts, &longidx);
		if (c == -1)
			break;
		r = cli_option(&st, c, longidx, argv, cfg, out, err, errlen);
		if (r != CLI_RUN)
			return r;
	}
	r = cli_command(&st, argc, argv, cfg, err, errlen);
	if (r == CLI_RUN)
		r = cli_finish(&st, cfg, err, errlen);
	if (r != CLI_RUN)
		devinst_free(cfg);
	return r;
}
