/*
 * test_boot.c: the x86 bzImage loader (src/arch/x86/boot.c) against built
 * images: header checks (HOSTILE.md H2), initrd placement (H3), command-line
 * limits (H4), missing and odd files (H1), and the zero page, e820 map and
 * memory contents a good image leaves behind. Fatal paths run in a child and
 * must exit with the documented status and one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asm/bootparam.h>

#include "arch.h"
#include "boot.h"
#include "config.h"
#include "gmem.h"
#include "log.h"
#include "pci.h"
#include "vm.h"
#include "unit.h"

#define MIB (1ull << 20)
/* The default command line when there is no initrd (the check_dies cases below have none). */
#define NOINITRD_DEFAULTS (X86_DEFAULT_CMDLINE " " X86_NOINITRD_CMDLINE)
#define PAYLOAD 4096u		/* bytes of protected-mode code in the test image */

static struct unit u = { .file = "boot" };
static char dir[] = "/tmp/ringvm-boot-XXXXXX";

/* The header fields a test varies; the rest are as a real kernel has them. */
struct img {
	uint8_t setup_sects;
	uint32_t syssize;
	uint16_t protocol;
	uint16_t xloadflags;
	uint8_t jump;		/* byte 0x201: header ends at 0x202 + jump */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
};

static const struct img good = {
	.setup_sects = 1, .syssize = PAYLOAD / 16, .protocol = 0x020f, .xloadflags = 3,
	.jump = 0x66, .initrd_addr_max = 0x7fffffff, .cmdline_size = 2047,
	.pref_address = 0x1000000, .init_size = 0x100000,
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* mkimg: a bzImage of (setup_sects + 1) * 512 + PAYLOAD bytes into buf; returns its length. */
static size_t mkimg(uint8_t *buf, size_t cap, const struct img *m)
{
	size_t setup = (size_t)((m->setup_sects ? m->setup_sects : 4) + 1) * 512;
	size_t len = setup + PAYLOAD;

	if (len > cap)
		abort();
	memset(buf, 0, len);
	buf[0x1f1] = m->setup_sects;
	put32(buf + 0x1f4, m->syssize);
	put16(buf + 0x1fe, 0xaa55);
	buf[0x200] = 0xeb;
	buf[0x201] = m->jump;
	memcpy(buf + 0x202, "HdrS", 4);
	put16(buf + 0x206, m->protocol);
	buf[0x211] = 0x01;
	put32(buf + 0x22c, m->initrd_addr_max);
	put32(buf + 0x230, 0x200000);
	buf[0x234] = 1;
	put16(buf + 0x236, m->xloadflags);
	put32(buf + 0x238, m->cmdline_size);
	put64(buf + 0x258, m->pref_address);
	put32(buf + 0x260, m->init_size);
	buf[0x268] = 0x77;	/* kernel_info_offset: beyond the header a jump of 0x66 ends */
	for (size_t i = 0; i < PAYLOAD; i++)
		buf[setup + i] = (uint8_t)(i * 13 + 1);
	return len;
}

/* parse: bzimage_parse on image `m` cut or padded to `file_len` bytes (0: as built). */
static int parse(const struct img *m, size_t file_len, struct arch_vm *a, char *err, size_t len)
{
	static uint8_t buf[256 * 1024];
	size_t n = mkimg(buf, sizeof(buf), m);

	memset(a, 0, sizeof(*a));
	err[0] = '\0';
	return bzimage_parse(buf, BZIMAGE_HEAD_LEN, file_len ? file_len : n, a, err, len);
}

static int parse_err(const struct img *m, size_t file_len, const char *msg)
{
	struct arch_vm a;
	char err[256];

	if (parse(m, file_len, &a, err, sizeof(err)) != -1 || strcmp(err, msg)) {
		printf("# got '%s'\n#   want '%s'\n", err, msg);
		return 0;
	}
	return 1;
}

static void test_parse(void)
{
	static uint8_t buf[256 * 1024];
	struct arch_vm a;
	struct img m;
	char err[256];
	size_t n;

	UNIT_OK(&u, parse(&good, 0, &a, err, sizeof(err)) == 0, "good image parses");
	UNIT_OK(&u, a.setup_size == 1024 && a.kernel_size == 1024 + PAYLOAD &&
	    a.kernel_gpa == 0x1000000 && a.init_size == 0x100000 &&
	    a.initrd_addr_max == 0x7fffffff && a.cmdline_size == 2047 && a.protocol == 0x020f,
	    "good image: sizes, load address, limits");
	UNIT_OK(&u, a.setup_header[0] == 1 && !memcmp(a.setup_header + 0x202 - 0x1f1, "HdrS", 4) &&
	    a.setup_header[0x260 - 0x1f1] == 0x00 && a.setup_header[0x262 - 0x1f1] == 0x10 &&
	    a.setup_header[0x268 - 0x1f1] == 0 && a.setup_header[0x267 - 0x1f1] == 0,
	    "setup header copied up to its end only");

	m = good;
	m.setup_sects = 0;
	UNIT_OK(&u, parse(&m, 0, &a, err, sizeof(err)) == 0 && a.setup_size == 5 * 512,
	    "setup_sects 0 means 4");
	m = good;
	m.init_size = 16;
	UNIT_OK(&u, parse(&m, 0, &a, err, sizeof(err)) == 0 && a.init_size == PAYLOAD,
	    "init_size below the payload is raised to it");
	m = good;
	m.protocol = 0x020c;
	UNIT_OK(&u, parse(&m, 0, &a, err, sizeof(err)) == 0, "protocol 2.12 is enough");
	m = good;
	m.jump = 0x62;
	UNIT_OK(&u, parse(&m, 0, &a, err, sizeof(err)) == 0, "shortest header (to init_size)");
	m = good;
	m.jump = 0x8e;
	UNIT_OK(&u, parse(&m, 0, &a, err, sizeof(err)) == 0, "longest header (0x290)");
	UNIT_OK(&u, parse(&good, 1024 + PAYLOAD + 100, &a, err, sizeof(err)) == 0 &&
	    a.kernel_size == 1024 + PAYLOAD + 100 && a.init_size == 0x100000,
	    "file longer than setup + syssize");

	UNIT_OK(&u, parse_err(&good, 100, "is too small to be a kernel (100 bytes)"),
	    "100-byte file");
	UNIT_OK(&u, parse_err(&good, BZIMAGE_HEAD_LEN - 1, "is too small to be a kernel (655 bytes)"),
	    "one byte short of a header");
	n = mkimg(buf, sizeof(buf), &good);
	memcpy(buf, "\177ELF", 4);
	UNIT_OK(&u, bzimage_parse(buf, BZIMAGE_HEAD_LEN, n, &a, err, sizeof(err)) == -1 &&
	    !strcmp(err, "is an ELF file, not a bzImage"), "ELF file");
	n = mkimg(buf, sizeof(buf), &good);
	UNIT_OK(&u, bzimage_parse(buf, BZIMAGE_HEAD_LEN - 1, n, &a, err, sizeof(err)) == -1 &&
	    !strncmp(err, "is too small to be a kernel", 27), "short read of the header");
	n = mkimg(buf, sizeof(buf), &good);
	put16(buf + 0x1fe, 0x55aa);
	UNIT_OK(&u, bzimage_parse(buf, BZIMAGE_HEAD_LEN, n, &a, err, sizeof(err)) == -1 &&
	    !strcmp(err, "is not a bzImage (no HdrS boot header)"), "no 0xaa55 boot flag");
	n = mkimg(buf, sizeof(buf), &good);
	memcpy(buf + 0x202, "HdrX", 4);
	UNIT_OK(&u, bzimage_parse(buf, BZIMAGE_HEAD_LEN, n, &a, err, sizeof(err)) == -1 &&
	    !strcmp(err, "is not a bzImage (no HdrS boot header)"), "wrong HdrS magic");
	for (size_t i = 0; i < BZIMAGE_HEAD_LEN; i++)
		buf[i] = (uint8_t)(i * 167 + 89);
	UNIT_OK(&u, bzimage_parse(buf, BZIMAGE_HEAD_LEN, 1 << 20, &a, err, sizeof(err)) == -1 &&
	    !strcmp(err, "is not a bzImage (no HdrS boot header)"), "random bytes");

	m = good;
	m.protocol = 0x020b;
	UNIT_OK(&u, parse_err(&m, 0, "uses boot protocol 2.11; ringvm needs 2.12 or later"),
	    "protocol 2.11 is too old");
	m.protocol = 0x0201;
	UNIT_OK(&u, parse_err(&m, 0, "uses boot protocol 2.01; ringvm needs 2.12 or later"),
	    "protocol 2.01 is too old");
	m = good;
	m.xloadflags = 0;
	UNIT_OK(&u, parse_err(&m, 0, "is not a 64-bit kernel (no XLF_KERNEL_64)"), "xloadflags 0");
	m.xloadflags = 2;
	UNIT_OK(&u, parse_err(&m, 0, "is not a 64-bit kernel (no XLF_KERNEL_64)"),
	    "XLF_CAN_BE_LOADED_ABOVE_4G alone is not 64-bit");
	m = good;
	m.jump = 0x61;
	UNIT_OK(&u, parse_err(&m, 0, "has a malformed setup header (length 114)"),
	    "header ending before init_size");
	m.jump = 0x8f;
	UNIT_OK(&u, parse_err(&m, 0, "has a malformed setup header (length 160)"),
	    "header longer than the bytes read");

	m = good;
	UNIT_OK(&u, parse_err(&m, 1024 + PAYLOAD - 16, "is truncated: need 5120 bytes, file has 5104"),
	    "payload one paragraph short");
	m.syssize = 0x10000000;
	UNIT_OK(&u, parse_err(&m, 0, "is truncated: need 4294968320 bytes, file has 5120"),
	    "syssize far beyond the file");
	m.syssize = 0xffffffff;
	UNIT_OK(&u, parse_err(&m, 0, "is truncated: need 68719477744 bytes, file has 5120"),
	    "largest syssize does not wrap");
	m = good;
	m.syssize = 0;
	UNIT_OK(&u, parse_err(&m, 0, "is truncated: need 1024 bytes, file has 5120"),
	    "syssize 0: no payload");
	m = good;
	m.setup_sects = 255;
	UNIT_OK(&u, parse_err(&m, 1024 + PAYLOAD, "is truncated: need 135168 bytes, file has 5120"),
	    "setup_sects beyond the file");

	m = good;
	m.pref_address = 0x80000;
	UNIT_OK(&u, parse_err(&m, 0, "asks to be loaded at 0x80000, outside low RAM"),
	    "load address below 1 MiB");
	m.pref_address = 0xc0000000;
	UNIT_OK(&u, parse_err(&m, 0, "asks to be loaded at 0xc0000000, outside low RAM"),
	    "load address in the MMIO hole");
	m.pref_address = 0x1000800;
	UNIT_OK(&u, parse_err(&m, 0, "asks to be loaded at 0x1000800, outside low RAM"),
	    "unaligned load address");
	m.pref_address = 0x100000000ull;
	UNIT_OK(&u, parse_err(&m, 0, "asks to be loaded at 0x100000000, outside low RAM"),
	    "load address above 4 GiB");
}

static void test_place_initrd(void)
{
	struct arch_vm a;
	char err[300];

	memset(&a, 0, sizeof(a));
	a.kernel_gpa = 16 * MIB;
	a.init_size = 1 * MIB;
	a.initrd_addr_max = 0x7fffffff;
	a.initrd_size = MIB + 123;
	UNIT_OK(&u, boot_place_initrd(&a, 256 * MIB, 256 * MIB, err, sizeof(err)) == 0 &&
	    a.initrd_gpa == 0xfeff000, "initrd at the top of RAM, page aligned");
	UNIT_OK(&u, a.initrd_gpa + a.initrd_size <= 256 * MIB && !(a.initrd_gpa & 0xfff),
	    "initrd ends inside RAM");

	a.initrd_addr_max = 0x37ffffff;
	a.initrd_size = MIB;
	UNIT_OK(&u, boot_place_initrd(&a, 2048 * MIB, 2048 * MIB, err, sizeof(err)) == 0 &&
	    a.initrd_gpa == 0x37f00000, "initrd ends at initrd_addr_max + 1");
	a.initrd_addr_max = 0xffffffff;
	UNIT_OK(&u, boot_place_initrd(&a, 3072 * MIB, 8192 * MIB, err, sizeof(err)) == 0 &&
	    a.initrd_gpa == 3072 * MIB - MIB, "initrd below the hole when the kernel allows 4 GiB");

	a.initrd_addr_max = 0x7fffffff;
	a.initrd_size = 47 * MIB;
	UNIT_OK(&u, boot_place_initrd(&a, 64 * MIB, 64 * MIB, err, sizeof(err)) == 0 &&
	    a.initrd_gpa == 17 * MIB, "initrd right after the kernel's footprint fits");
	a.initrd_size = 47 * MIB + 1;
	UNIT_OK(&u, boot_place_initrd(&a, 64 * MIB, 64 * MIB, err, sizeof(err)) == -1 &&
	    !strcmp(err, "(49283073 bytes) does not fit in guest memory (67108864 bytes) beside "
	    "the kernel, which takes 1048576 bytes from 0x1000000: raise -m"),
	    "one byte more overlaps the kernel: both sizes named");
	a.initrd_size = 300 * MIB;
	UNIT_OK(&u, boot_place_initrd(&a, 64 * MIB, 64 * MIB, err, sizeof(err)) == -1 &&
	    strstr(err, "(314572800 bytes)") && strstr(err, "(67108864 bytes)"),
	    "initrd larger than RAM: both sizes named");
	a.initrd_addr_max = 0x01ffffff;
	a.initrd_size = 20 * MIB;
	UNIT_OK(&u, boot_place_initrd(&a, 256 * MIB, 256 * MIB, err, sizeof(err)) == -1 &&
	    strstr(err, "(20971520 bytes)") && strstr(err, "(268435456 bytes)"),
	    "initrd above initrd_addr_max: refused, both sizes named");
	a.initrd_addr_max = 0;
	a.initrd_size = 1;
	UNIT_OK(&u, boot_place_initrd(&a, 256 * MIB, 256 * MIB, err, sizeof(err)) == -1,
	    "initrd_addr_max 0 leaves no room");
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
		_exit(0);
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

/* mkfile: write `len` bytes to dir/name (a sparse file of `len` bytes when buf is NULL). */
static const char *mkfile(const char *name, const void *buf, size_t len)
{
	static char paths[16][256];
	static unsigned next;
	char *p = paths[next++ % 16];
	int fd;

	snprintf(p, 256, "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return p;
	if (buf ? write(fd, buf, len) != (ssize_t)len : ftruncate(fd, (off_t)len) != 0)
		printf("# cannot write %s\n", p);
	close(fd);
	return p;
}

static const char *mkkernel(const char *name, const struct img *m, size_t cut)
{
	static uint8_t buf[256 * 1024];
	size_t n = mkimg(buf, sizeof(buf), m);

	return mkfile(name, buf, cut ? cut : n);
}

/* check: arch_boot_check on a fresh vm, as main runs it. */
static struct rv_config ccfg;
static struct vm cvm;

static void check(void *arg)
{
	(void)arg;
	struct rv_err e;

	memset(&cvm, 0, sizeof(cvm));
	cvm.kvm_fd = cvm.vm_fd = -1;
	/* As main reports a setup failure: one line, the status it calls for. */
	if (arch_boot_check(&cvm, &ccfg, &e))
		diex(e.status, "%s", e.msg);
	arch_boot_fini(&cvm);
}

static int check_dies(const char *kernel, const char *initrd, const char *append,
    uint64_t mem, int code, const char *msg)
{
	struct child c;

	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.kernel = kernel;
	ccfg.initrd = initrd;
	ccfg.append = append;
	ccfg.mem_size = mem;
	ccfg.ncpus = 1;
	run_child(check, NULL, &c);
	return exited_with(&c, code, msg);
}

/* check_ok: the checks pass for `kernel` (the child exits 0, silent). */
static int check_ok(const char *kernel, const char *append)
{
	struct child c;

	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.kernel = kernel;
	ccfg.append = append;
	ccfg.mem_size = 64 * MIB;
	ccfg.ncpus = 1;
	run_child(check, NULL, &c);
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || c.len) {
		printf("# check of '%s': status %#x, stderr '%.*s'\n", kernel, c.status,
		    (int)strcspn(c.err, "\n"), c.err);
		return 0;
	}
	return 1;
}

static void test_check_files(void)
{
	static char longa[70000];
	char msg[700], none[300];
	const char *k, *p;
	struct img m;

	k = mkkernel("good", &good, 0);
	snprintf(none, sizeof(none), "%s/none", dir);
	snprintf(msg, sizeof(msg), "cannot open kernel '%s': No such file or directory", none);
	UNIT_OK(&u, check_dies(none, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "missing kernel: exit 3");
	snprintf(msg, sizeof(msg), "kernel '%s' is not a regular file", dir);
	UNIT_OK(&u, check_dies(dir, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "kernel is a directory: exit 3");
	snprintf(msg, sizeof(msg), "cannot open initrd '%s': No such file or directory", none);
	UNIT_OK(&u, check_dies(k, none, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "missing initrd: exit 3");

	{
		uint8_t rnd[8192];

		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(i * 2654435761u >> 13);
		p = mkfile("random", rnd, sizeof(rnd));
	}
	snprintf(msg, sizeof(msg), "kernel '%s' is not a bzImage (no HdrS boot header)", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "random bytes: exit 3");
	p = mkfile("tiny", "0123456789", 10);
	snprintf(msg, sizeof(msg), "kernel '%s' is too small to be a kernel (10 bytes)", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "10-byte kernel: exit 3");
	p = mkfile("empty", "", 0);
	snprintf(msg, sizeof(msg), "kernel '%s' is too small to be a kernel (0 bytes)", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "empty kernel: exit 3");

	m = good;
	m.protocol = 0x0206;
	p = mkkernel("old", &m, 0);
	snprintf(msg, sizeof(msg), "kernel '%s' uses boot protocol 2.06; ringvm needs 2.12 or later", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "old protocol: exit 3");
	m = good;
	m.xloadflags = 0;
	p = mkkernel("not64", &m, 0);
	snprintf(msg, sizeof(msg), "kernel '%s' is not a 64-bit kernel (no XLF_KERNEL_64)", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "not 64-bit: exit 3");
	p = mkkernel("trunc", &good, 1024 + PAYLOAD / 2);
	snprintf(msg, sizeof(msg), "kernel '%s' is truncated: need 5120 bytes, file has 3072", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "truncated: exit 3");

	m = good;
	m.init_size = 64 * MIB;
	p = mkkernel("big", &m, 0);
	snprintf(msg, sizeof(msg), "memory size 16M is too small for kernel '%s': it needs 80M", p);
	UNIT_OK(&u, check_dies(p, NULL, NULL, 16 * MIB, RV_EXIT_USAGE, msg),
	    "kernel too big for RAM: exit 2");

	/*
	 * Command line: ringvm's defaults (no initrd here, so with panic=), a
	 * space, then -a; the limit excludes the NUL.
	 */
	m = good;
	m.cmdline_size = (uint32_t)strlen(NOINITRD_DEFAULTS) + 8;
	p = mkkernel("cmd30", &m, 0);
	snprintf(msg, sizeof(msg), "kernel command line is %u bytes; this kernel accepts at most %u",
	    m.cmdline_size + 1, m.cmdline_size);
	UNIT_OK(&u, check_dies(p, NULL, "01234567", 64 * MIB, RV_EXIT_USAGE, msg),
	    "command line over cmdline_size: exit 2");
	UNIT_OK(&u, check_ok(p, "0123456"), "command line of exactly cmdline_size is accepted");
	memset(longa, 'a', sizeof(longa) - 1);
	longa[65536 - 1 - strlen(NOINITRD_DEFAULTS)] = '\0';
	UNIT_OK(&u, check_dies(k, NULL, longa, 64 * MIB, RV_EXIT_USAGE,
	    "kernel command line is 65536 bytes; this kernel accepts at most 2047"),
	    "64 KiB command line against cmdline_size 2047: exit 2");
	m = good;
	m.cmdline_size = 0x7fffffff;
	p = mkkernel("cmdbig", &m, 0);
	UNIT_OK(&u, check_dies(p, NULL, longa, 64 * MIB, RV_EXIT_USAGE,
	    "kernel command line is 65536 bytes; ringvm accepts at most 65535"),
	    "command line over ringvm's 64 KiB area: exit 2");

	p = mkfile("empty.rd", "", 0);
	snprintf(msg, sizeof(msg), "initrd '%s' is empty", p);
	UNIT_OK(&u, check_dies(k, p, NULL, 64 * MIB, RV_EXIT_BADFILE, msg), "empty initrd: exit 3");
	snprintf(msg, sizeof(msg), "initrd '%s' is not a regular file", dir);
	UNIT_OK(&u, check_dies(k, dir, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "initrd is a directory: exit 3");
	p = mkfile("big.rd", NULL, 300 * MIB);
	snprintf(msg, sizeof(msg), "initrd '%s' (314572800 bytes) does not fit in guest memory "
	    "(67108864 bytes) beside the kernel, which takes 1048576 bytes from 0x1000000: raise -m", p);
	UNIT_OK(&u, check_dies(k, p, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "initrd larger than RAM: exit 3, both sizes");
	m = good;
	m.initrd_addr_max = 0x01ffffff;
	p = mkkernel("lowmax", &m, 0);
	snprintf(msg, sizeof(msg), "initrd '%s/mid.rd' (20971520 bytes) does not fit in guest memory "
	    "(268435456 bytes) beside the kernel, which takes 1048576 bytes from 0x1000000: raise -m",
	    dir);
	UNIT_OK(&u, check_dies(p, mkfile("mid.rd", NULL, 20 * MIB), NULL, 256 * MIB, RV_EXIT_BADFILE,
	    msg), "initrd above initrd_addr_max: exit 3, both sizes");
}

/* FIFOs: open(O_RDONLY) waits for a writer unless the loader refuses them first. */
static void test_fifos(void)
{
	char fifo[300], msg[600];
	const char *k = mkkernel("good", &good, 0);

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (mkfifo(fifo, 0600)) {
		UNIT_OK(&u, 0, "mkfifo");
		return;
	}
	snprintf(msg, sizeof(msg), "kernel '%s' is not a regular file", fifo);
	UNIT_OK(&u, check_dies(fifo, NULL, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "kernel is a FIFO: exit 3, no hang");
	snprintf(msg, sizeof(msg), "initrd '%s' is not a regular file", fifo);
	UNIT_OK(&u, check_dies(k, fifo, NULL, 64 * MIB, RV_EXIT_BADFILE, msg),
	    "initrd is a FIFO: exit 3, no hang");
	unlink(fifo);
}

/* load: arch_boot_check + arch_boot_load into fresh guest RAM of `mem` bytes. */
static int load(struct vm *vm, struct rv_config *cfg, uint64_t mem)
{
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	unsigned n;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->cfg = cfg;
	vm->nr_vcpus = 2;
	cfg->mem_size = mem;
	n = arch_mem_layout(mem, base, limit);
	if (gmem_init(&vm->mem, mem, base, limit, n))
		return -1;
	struct rv_err e;

	if (arch_boot_check(vm, cfg, &e) || pci_init(vm, &e) || arch_boot_load(vm, cfg, &e)) {
		printf("# %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int e820_is(const struct boot_e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	return e->addr == addr && e->size == size && e->type == type;
}

static void test_load(void)
{
	static uint8_t kbuf[64 * 1024], rd[100000];
	static const uint8_t reset[] = { 0xb0, 0x01, 0xba, 0x02, 0x06, 0xee, 0xf4, 0xeb, 0xfd };
	static struct vm vm;
	struct rv_config cfg;
	struct boot_params *bp;
	const char *k, *r, *cmd;
	uint64_t *pml4, *pd;
	size_t klen;
	int kfd, rfd, ok;

	klen = mkimg(kbuf, sizeof(kbuf), &good);
	k = mkfile("load.bz", kbuf, klen);
	if (!UNIT_OK(&u, check_ok(k, "quiet"), "good image passes the checks"))
		return;
	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i * 31 + 7);
	r = mkfile("load.rd", rd, sizeof(rd));
	memset(&cfg, 0, sizeof(cfg));
	cfg.kernel = k;
	cfg.initrd = r;
	cfg.append = "quiet";
	cfg.ncpus = 2;
	if (load(&vm, &cfg, 64 * MIB)) {
		UNIT_OK(&u, 0, "load into 64 MiB");
		return;
	}
	kfd = vm.arch.kernel_fd;
	rfd = vm.arch.initrd_fd;
	UNIT_OK(&u, kfd == -1 && rfd == -1, "kernel and initrd fds closed after loading");
	UNIT_OK(&u, !memcmp(gmem_ptr(&vm.mem, 0x1000000, PAYLOAD), kbuf + 1024, PAYLOAD),
	    "payload copied to pref_address");
	UNIT_OK(&u, vm.arch.initrd_gpa && !(vm.arch.initrd_gpa & 0xfff) &&
	    vm.arch.initrd_gpa + sizeof(rd) <= 64 * MIB &&
	    vm.arch.initrd_gpa >= 0x1000000 + vm.arch.init_size, "initrd placed high, page aligned");
	UNIT_OK(&u, !memcmp(gmem_ptr(&vm.mem, vm.arch.initrd_gpa, sizeof(rd)), rd, sizeof(rd)),
	    "initrd bytes copied");

	bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
	UNIT_OK(&u, bp && bp->hdr.header == 0x53726448 && bp->hdr.boot_flag == 0xaa55 &&
	    bp->hdr.version == 0x020f && bp->hdr.setup_sects == 1 && bp->hdr.syssize == PAYLOAD / 16 &&
	    bp->hdr.cmdline_size == 2047 && bp->hdr.init_size == 0x100000,
	    "zero page: the file's setup header");
	UNIT_OK(&u, bp->hdr.type_of_loader == 0xff, "type_of_loader 0xff");
	UNIT_OK(&u, (bp->hdr.loadflags & (LOADED_HIGH | CAN_USE_HEAP)) == (LOADED_HIGH | CAN_USE_HEAP) &&
	    bp->hdr.heap_end_ptr == 0xfe00 && bp->hdr.vid_mode == 0xffff,
	    "loadflags, heap_end_ptr, vid_mode");
	UNIT_OK(&u, bp->hdr.cmd_line_ptr == X86_CMDLINE_GPA && bp->ext_cmd_line_ptr == 0,
	    "cmd_line_ptr");
	cmd = gmem_ptr(&vm.mem, X86_CMDLINE_GPA, 64);
	UNIT_OK(&u, cmd && !strcmp(cmd, "console=ttyS0 sysctl.kernel.panic=-1 quiet"), "command line in memory, with an initrd: no panic= that an initramfs would read");
	UNIT_OK(&u, bp->hdr.ramdisk_image == vm.arch.initrd_gpa &&
	    bp->hdr.ramdisk_size == sizeof(rd) && bp->ext_ramdisk_image == 0 &&
	    bp->ext_ramdisk_size == 0, "ramdisk_image and ramdisk_size");
	UNIT_OK(&u, bp->acpi_rsdp_addr == vm.arch.rsdp_gpa && vm.arch.rsdp_gpa >= X86_ACPI_GPA &&
	    !memcmp(gmem_ptr(&vm.mem, vm.arch.rsdp_gpa, 8), "RSD PTR ", 8), "acpi_rsdp_addr");
	UNIT_OK(&u, bp->e820_entries == 3, "e820: three entries for 64 MiB");
	UNIT_OK(&u, e820_is(&bp->e820_table[0], 0, 0x9fc00, 1) &&
	    e820_is(&bp->e820_table[1], 0x9fc00, 0x60400, 2) &&
	    e820_is(&bp->e820_table[2], 0x100000, 63 * MIB, 1),
	    "e820: low RAM, reserved to 1 MiB, RAM to the end");
	ok = 1;
	for (unsigned i = 0; i < bp->e820_entries; i++)
		if (bp->e820_table[i].type == 1)
			ok &= gmem_ptr(&vm.mem, bp->e820_table[i].addr, bp->e820_table[i].size) != NULL;
	UNIT_OK(&u, ok, "e820: every RAM entry is guest RAM");
	UNIT_OK(&u, !memcmp(gmem_ptr(&vm.mem, X86_RESET_VECTOR_GPA, sizeof(reset)), reset,
	    sizeof(reset)), "reset vector stub");
	pml4 = gmem_ptr(&vm.mem, X86_PML4_GPA, 4096);
	pd = gmem_ptr(&vm.mem, X86_PD_GPA, 4 * 4096);
	UNIT_OK(&u, pml4[0] == (X86_PDPT_GPA | 3) && pd[1] == 0x200083 && pd[2047] == 0xffe00083,
	    "boot page tables identity-map 4 GiB");
	free(vm.arch.cmdline);
	pci_fini(&vm);
	gmem_fini(&vm.mem);

	/*
	 * ringvm's own archive (the command runner's) after the file at the next
	 * 4-byte boundary (100000 is one), then alone; its parameters come
	 * after the defaults and before -a, and "panic=" is not added.
	 */
	{
		static const uint8_t extra[] = "070701-ringvm's-own-archive";
		static uint8_t odd[99999];

		cfg.initrd_extra = extra;
		cfg.initrd_extra_len = sizeof(extra);
		cfg.cmdline_extra = "rdinit=/ringvm/init";
		if (!load(&vm, &cfg, 64 * MIB)) {
			bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
			cmd = gmem_ptr(&vm.mem, X86_CMDLINE_GPA, 80);
			UNIT_OK(&u, bp->hdr.ramdisk_size == sizeof(rd) + sizeof(extra) &&
			    !memcmp(gmem_ptr(&vm.mem, vm.arch.initrd_gpa, sizeof(rd)), rd, sizeof(rd)) &&
			    !memcmp(gmem_ptr(&vm.mem, vm.arch.initrd_gpa + sizeof(rd), sizeof(extra)),
			    extra, sizeof(extra)), "ringvm's archive follows the initrd file");
			UNIT_OK(&u, cmd && !strcmp(cmd, "console=ttyS0 sysctl.kernel.panic=-1 "
			    "rdinit=/ringvm/init quiet"), "ringvm's parameters before -a's");
			free(vm.arch.cmdline);
			pci_fini(&vm);
			gmem_fini(&vm.mem);
		}
		cfg.initrd = mkfile("load.odd", odd, sizeof(odd));
		if (!load(&vm, &cfg, 64 * MIB)) {
			bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
			UNIT_OK(&u, bp->hdr.ramdisk_size == sizeof(odd) + 1 + sizeof(extra) &&
			    *(uint8_t *)gmem_ptr(&vm.mem, vm.arch.initrd_gpa + sizeof(odd), 1) == 0 &&
			    !memcmp(gmem_ptr(&vm.mem, vm.arch.initrd_gpa + sizeof(odd) + 1, sizeof(extra)),
			    extra, sizeof(extra)), "after an odd-sized file: zero padding to 4 bytes");
			free(vm.arch.cmdline);
			pci_fini(&vm);
			gmem_fini(&vm.mem);
		}
		cfg.initrd = NULL;
		if (!load(&vm, &cfg, 64 * MIB)) {
			bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
			cmd = gmem_ptr(&vm.mem, X86_CMDLINE_GPA, 80);
			UNIT_OK(&u, bp->hdr.ramdisk_size == sizeof(extra) && !memcmp(gmem_ptr(&vm.mem,
			    vm.arch.initrd_gpa, sizeof(extra)), extra, sizeof(extra)) && cmd &&
			    !strcmp(cmd, "console=ttyS0 sysctl.kernel.panic=-1 rdinit=/ringvm/init quiet"),
			    "ringvm's archive alone is the initramfs (and no panic= for want of one)");
			free(vm.arch.cmdline);
			pci_fini(&vm);
			gmem_fini(&vm.mem);
		}
		cfg.initrd_extra = NULL;
		cfg.initrd_extra_len = 0;
		cfg.cmdline_extra = NULL;
	}

	/* Above 3 GiB: the e820 map gets the RAM above the hole; no initrd, no append. */
	cfg.initrd = NULL;
	cfg.append = NULL;
	if (load(&vm, &cfg, 3 * 1024 * MIB + 256 * MIB)) {
		UNIT_OK(&u, 0, "load into 3.25 GiB");
		return;
	}
	bp = gmem_ptr(&vm.mem, X86_ZERO_PAGE_GPA, sizeof(*bp));
	UNIT_OK(&u, bp->e820_entries == 4 &&
	    e820_is(&bp->e820_table[2], 0x100000, 3 * 1024 * MIB - MIB, 1) &&
	    e820_is(&bp->e820_table[3], 4096 * MIB, 256 * MIB, 1), "e820: RAM above 4 GiB");
	UNIT_OK(&u, bp->hdr.ramdisk_image == 0 && bp->hdr.ramdisk_size == 0, "no initrd: no ramdisk");
	cmd = gmem_ptr(&vm.mem, X86_CMDLINE_GPA, 64);
	UNIT_OK(&u, !strcmp(cmd, "console=ttyS0 sysctl.kernel.panic=-1 panic=-1"),
	    "no -a, no initrd: the defaults and panic=-1 only");
	free(vm.arch.cmdline);
	pci_fini(&vm);
	gmem_fini(&vm.mem);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* arch_boot_check offers each bzImage to the kernel cache: keep it in here. */
	setenv("XDG_CACHE_HOME", dir, 1);
	test_parse();
	test_place_initrd();
	test_check_files();
	test_fifos();
	test_load();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return unit_done(&u);
}
