/*
 * test_disk_cow.c: snapshot disks (disk_cow.c) on a real loop, with both
 * engines: partial-cluster writes and writes across clusters, reads that
 * mix overlay and base, discard and write-zeroes, flush, writes in flight
 * together into one fresh cluster, a model-checked random run; the base
 * byte-identical after all of it; the overlay unlinked from the start
 * (O_TMPFILE, and the mkstemp fallback), the map bound and a bad TMPDIR.
 * open and fdatasync are wrapped (--wrap, tests/unit/virtio.mk) to force
 * the fallback and to see which file a flush syncs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "disk.h"
#include "disk_tmp.h"
#include "unit.h"
#include "vfake.h"

#define CL DISK_COW_CLUSTER
#define DISK_LEN ((1u << 20) + 1536)	/* the last cluster is short */
#define SLOTS 16

static struct unit u = { .file = "disk_cow" };

/* --- wrapped calls --- */
static int fail_tmpfile;	/* open(O_TMPFILE) fails with EOPNOTSUPP */
static int last_sync_fd = -1;	/* the fd of the last fdatasync */

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (fail_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return __real_open(path, flags, mode);
}

int __wrap_fdatasync(int fd)
{
	last_sync_fd = fd;
	return __real_fdatasync(fd);
}

/* --- a snapshot disk on a loop, and a model of what it must read --- */
struct rig {
	struct ev_loop *ev;
	struct disk d;
	int base_fd;
	char base_path[64];
	uint8_t *base0;			/* the base as created */
	uint8_t *model;			/* what the disk must read */
	unsigned calls[SLOTS];		/* done calls per tag */
	int res[SLOTS];
	unsigned pending;
	uint8_t *buf[SLOTS];		/* each tag's data */
	struct iovec iov[SLOTS][8];
};

static void on_done(void *owner, uint64_t tag, int res)
{
	struct rig *r = owner;

	if (tag < SLOTS) {
		r->calls[tag]++;
		r->res[tag] = res;
	}
	r->pending--;
}

static void on_drained(void *owner)
{
	(void)owner;
}

static uint64_t fnv(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* base_sum: a checksum of the base file as it is now. */
static uint64_t base_sum(struct rig *r)
{
	uint8_t *p = malloc(DISK_LEN);
	uint64_t h = 0;

	if (p && pread(r->base_fd, p, DISK_LEN, 0) == DISK_LEN)
		h = fnv(p, DISK_LEN);
	free(p);
	return h;
}

static int rig_open(struct rig *r, enum disk_engine engine)
{
	char err[256];

	memset(r, 0, sizeof(*r));
	r->base_fd = vf_tmpdisk(r->base_path, sizeof(r->base_path), DISK_LEN);
	r->ev = ev_loop_new(EVBACKEND_EPOLL);
	r->base0 = malloc(DISK_LEN);
	r->model = malloc(DISK_LEN);
	for (unsigned i = 0; i < SLOTS; i++)
		r->buf[i] = malloc(1u << 17);
	if (r->base_fd < 0 || !r->ev || !r->base0 || !r->model || !r->buf[SLOTS - 1] ||
	    pread(r->base_fd, r->base0, DISK_LEN, 0) != DISK_LEN)
		return -1;
	memcpy(r->model, r->base0, DISK_LEN);
	if (disk_open(&r->d, r->base_path, DISK_SNAPSHOT, err, sizeof(err))) {
		printf("# disk_open: %s\n", err);
		return -1;
	}
	return disk_start(&r->d, r->ev, engine, SLOTS, on_done, on_drained, r);
}

static void rig_close(struct rig *r)
{
	disk_close(&r->d);
	ev_loop_destroy(r->ev);
	close(r->base_fd);
	free(r->base0);
	free(r->model);
	for (unsigned i = 0; i < SLOTS; i++)
		free(r->buf[i]);
}

/* split: `len` bytes of tag's buffer as `nseg` iovecs of uneven lengths. */
static int split(struct rig *r, unsigned tag, uint32_t len, int nseg)
{
	uint32_t at = 0;
	int n = 0;

	for (int i = 0; i < nseg && at < len; i++) {
		uint32_t take = i == nseg - 1 ? len - at : (len - at) / 3 + 1;

		r->iov[tag][n].iov_base = r->buf[tag] + at;
		r->iov[tag][n].iov_len = take;
		at += take;
		n++;
	}
	return n;
}

/* q_write: queue a write of `len` bytes of `fill`-derived data at `off`; the model follows. */
static int q_write(struct rig *r, unsigned tag, uint64_t off, uint32_t len, uint8_t fill, int nseg)
{
	int n;

	for (uint32_t i = 0; i < len; i++)
		r->buf[tag][i] = (uint8_t)(fill + i / 512);
	memcpy(r->model + off, r->buf[tag], len);
	n = split(r, tag, len, nseg);
	r->pending++;
	return disk_writev(&r->d, tag, r->iov[tag], n, off) ? (r->pending--, -1) : 0;
}

static int q_read(struct rig *r, unsigned tag, uint64_t off, uint32_t len, int nseg)
{
	int n = split(r, tag, len, nseg);

	memset(r->buf[tag], 0xee, len);
	r->pending++;
	return disk_readv(&r->d, tag, r->iov[tag], n, off) ? (r->pending--, -1) : 0;
}

/* q_fill: discard (zero < 0) or write-zeroes (unmap = zero); the model reads zeros. */
static int q_fill(struct rig *r, unsigned tag, uint64_t off, uint32_t len, int zero)
{
	int e;

	memset(r->model + off, 0, len);
	r->pending++;
	e = zero < 0 ? disk_discard(&r->d, tag, off, len) : disk_zero(&r->d, tag, off, len, zero);
	return e ? (r->pending--, -1) : 0;
}

/* run: submit and run the loop until every queued request is done (a bounded wait). */
static void run(struct rig *r)
{
	disk_submit(&r->d);
	for (unsigned i = 0; r->pending && i < 10000; i++)
		ev_run(r->ev, EVRUN_ONCE);
}

/* read_ok: read [off, off+len) in `nseg` pieces and compare it with the model. */
static bool read_ok(struct rig *r, uint64_t off, uint32_t len, int nseg)
{
	r->calls[15] = 0;
	if (q_read(r, 15, off, len, nseg))
		return false;
	run(r);
	return r->calls[15] == 1 && r->res[15] == (int)len &&
	    !memcmp(r->buf[15], r->model + off, len);
}

/* disk_ok: the whole disk reads as the model, in 64 KiB reads of 5 segments each. */
static bool disk_ok(struct rig *r)
{
	for (uint64_t off = 0; off < DISK_LEN; off += 65536) {
		uint32_t len = DISK_LEN - off < 65536 ? (uint32_t)(DISK_LEN - off) : 65536;

		if (!read_ok(r, off, len, 5))
			return false;
	}
	return true;
}

/* only_ok: tags [0, n) each done once with `want` (bytes, or 0 for the others). */
static bool only_ok(struct rig *r, unsigned n, const int *want)
{
	for (unsigned i = 0; i < n; i++)
		if (r->calls[i] != 1 || r->res[i] != want[i])
			return false;
	memset(r->calls, 0, sizeof(r->calls));
	return r->pending == 0;
}

static void test_engine(enum disk_engine engine)
{
	const char *en = engine == DISK_URING ? "uring" : "sync";
	char name[160];
	struct rig r;
	uint64_t sum0;
	unsigned long cu;

#define OK(cond, what) (snprintf(name, sizeof(name), "%s: %s", en, what), UNIT_OK(&u, cond, name))
	if (rig_open(&r, engine)) {
		OK(0, "set up a snapshot disk");
		return;
	}
	sum0 = fnv(r.base0, DISK_LEN);
	OK(base_sum(&r) == sum0 && disk_ok(&r), "a fresh snapshot reads as its base");

	/* Aligned, whole clusters: no copy-up. */
	OK(q_write(&r, 0, 4 * CL, 2 * CL, 0x10, 3) == 0, "queue an aligned 8 KiB write");
	run(&r);
	OK(only_ok(&r, 1, (int[]){ 2 * CL }) && r.d.cow->copyups == 0,
	    "an aligned write completes once, whole, with no copy-up");
	/* One sector inside a fresh cluster: one copy-up. */
	OK(q_write(&r, 0, 10 * CL + 1024, 512, 0x20, 1) == 0, "queue a 512-byte write");
	run(&r);
	OK(only_ok(&r, 1, (int[]){ 512 }) && r.d.cow->copyups == 1,
	    "a partial-cluster write copies its cluster up once");
	OK(read_ok(&r, 10 * CL - 512, CL + 1024, 4),
	    "the written sector reads back, its cluster's other bytes are the base's");
	/* Across clusters: partial, whole, partial. */
	cu = r.d.cow->copyups;
	OK(q_write(&r, 0, 20 * CL + 3584, 512 + CL + 1024, 0x30, 4) == 0,
	    "queue a write across three clusters");
	run(&r);
	OK(only_ok(&r, 1, (int[]){ 512 + CL + 1024 }) && r.d.cow->copyups == cu + 2,
	    "a write across clusters copies up its two partial ends only");
	OK(read_ok(&r, 19 * CL, 5 * CL, 7), "it reads back between base bytes on both sides");
	/* Writes in flight together into one fresh cluster lose nothing. */
	OK(q_write(&r, 0, 30 * CL, 1024, 0x40, 1) == 0 &&
	    q_write(&r, 1, 30 * CL + 3072, 1024, 0x50, 2) == 0 &&
	    q_write(&r, 2, 30 * CL + 1024, 1024, 0x60, 1) == 0, "queue three writes into one cluster");
	run(&r);
	OK(only_ok(&r, 3, (int[]){ 1024, 1024, 1024 }), "all three complete");
	OK(read_ok(&r, 30 * CL, CL, 3), "all three are there, and the base between them");
	/*
	 * A whole-cluster write into a fresh cluster, landed in the file but
	 * not yet delivered (submitted, and given time), then a partial one
	 * over it: were the cluster marked only on delivery, the partial
	 * write's copy-up would put the base back over the whole one.
	 */
	OK(q_write(&r, 0, 40 * CL, CL, 0x70, 2) == 0, "queue a whole-cluster write");
	disk_submit(&r.d);
	usleep(20000);
	OK(q_write(&r, 1, 40 * CL + 512, 512, 0x70, 1) == 0, "then a partial one over it");
	run(&r);
	OK(only_ok(&r, 2, (int[]){ CL, 512 }) && read_ok(&r, 40 * CL, CL, 1),
	    "the partial write never copies the base over the whole one");
	/* The short last cluster. */
	OK(q_write(&r, 0, DISK_LEN - 1024, 512, 0x80, 1) == 0 &&
	    q_write(&r, 1, DISK_LEN - 512, 512, 0x90, 1) == 0, "queue writes into the short last cluster");
	run(&r);
	OK(only_ok(&r, 2, (int[]){ 512, 512 }) && read_ok(&r, DISK_LEN - 2 * CL, 2 * CL, 2),
	    "the short last cluster copies up and reads back");
	/* Reads that mix: alternate clusters written, read through uneven segments. */
	for (unsigned i = 0; i < 8; i += 2)
		q_write(&r, i / 2, (64 + i) * CL, CL, (uint8_t)(0xa0 + i), 1);
	run(&r);
	OK(only_ok(&r, 4, (int[]){ CL, CL, CL, CL }), "four alternate clusters written");
	OK(read_ok(&r, 63 * CL + 512, 10 * CL, 8), "a read across 11 clusters, overlay and base alternating");
	OK(read_ok(&r, 64 * CL, CL + 512, 2), "a read of one overlay cluster and a base sector");
	/* Discard and write-zeroes: zeros from then on, never the base. */
	OK(q_fill(&r, 0, 62 * CL + 512, 6 * CL, -1) == 0, "queue a discard over base and overlay clusters");
	OK(q_fill(&r, 1, 80 * CL + 1536, 3 * CL, 1) == 0 && q_fill(&r, 2, 90 * CL, 2 * CL + 512, 0) == 0,
	    "queue write-zeroes, with and without unmap");
	run(&r);
	OK(only_ok(&r, 3, (int[]){ 0, 0, 0 }), "they complete with 0");
	OK(read_ok(&r, 61 * CL, 32 * CL, 8) && read_ok(&r, 89 * CL, 4 * CL, 3),
	    "the ranges read as zeros, the bytes around them unchanged");
	OK(q_write(&r, 0, 62 * CL + 1024, 512, 0xb0, 1) == 0, "write into a discarded cluster");
	run(&r);
	OK(only_ok(&r, 1, (int[]){ 512 }) && read_ok(&r, 62 * CL, CL, 1),
	    "a discarded cluster takes writes, its other bytes stay zero");
	/* Flush syncs the overlay, never the base. */
	last_sync_fd = -1;
	r.pending++;
	OK(disk_flush(&r.d, 0) == 0, "queue a flush");
	run(&r);
	OK(only_ok(&r, 1, (int[]){ 0 }), "the flush completes with 0");
	if (engine == DISK_SYNC)
		OK(last_sync_fd == r.d.cow->overlay.fd, "it is an fdatasync of the overlay");
	/* Out of range: refused, nothing queued. */
	OK(disk_writev(&r.d, 0, r.iov[0], 1, DISK_LEN) == -EINVAL &&
	    disk_discard(&r.d, 0, DISK_LEN - 512, 1024) == -EINVAL, "ranges past the end are refused");
	OK(disk_ok(&r), "the whole disk reads as the model");
	OK(base_sum(&r) == sum0, "the base's checksum is unchanged");
	rig_close(&r);
#undef OK
}

/* rnd: xorshift64, the same run every time. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * test_random: batches of up to 8 requests in flight, on ranges that do
 * not overlap within a batch (so the model knows the outcome) but often
 * share clusters; every read is checked against the model.
 */
static void test_random(enum disk_engine engine)
{
	const char *en = engine == DISK_URING ? "uring" : "sync";
	char name[160];
	struct rig r;
	uint64_t x = 0x1234567887654321ull, sum0;
	unsigned bad = 0, reads = 0, ops = 0;

	if (rig_open(&r, engine)) {
		snprintf(name, sizeof(name), "%s: random run: set up", en);
		UNIT_OK(&u, 0, name);
		return;
	}
	sum0 = fnv(r.base0, DISK_LEN);
	for (unsigned round = 0; round < 300; round++) {
		unsigned n = 1 + rnd(&x) % 8, nread = 0;
		uint64_t lo = (rnd(&x) % 160) * CL + (rnd(&x) % 8) * 512;
		unsigned rtag[8];
		uint64_t roff[8];
		uint32_t rlen[8];

		/* Ascending, disjoint ranges in the disk's first 768 KiB: clusters shared often. */
		for (unsigned t = 0; t < n; t++) {
			uint64_t off = lo + (rnd(&x) % 6) * 512;
			uint32_t len = (uint32_t)(1 + rnd(&x) % 24) * 512;
			unsigned kind = rnd(&x) % 10;

			if (off + len > (768u << 10))
				break;
			lo = off + len;
			ops++;
			if (kind < 4) {
				q_write(&r, t, off, len, (uint8_t)rnd(&x), 1 + (int)(rnd(&x) % 4));
			} else if (kind < 8) {
				/* Reads compare after the batch, against the model as of its end. */
				q_read(&r, t, off, len, 1 + (int)(rnd(&x) % 8));
				rtag[nread] = t;
				roff[nread] = off;
				rlen[nread++] = len;
			} else {
				q_fill(&r, t, off, len, kind == 8 ? -1 : (int)(rnd(&x) % 2));
			}
		}
		run(&r);
		for (unsigned i = 0; i < nread; i++) {
			reads++;
			if (r.res[rtag[i]] != (int)rlen[i] ||
			    memcmp(r.buf[rtag[i]], r.model + roff[i], rlen[i]))
				bad++;
		}
		if (r.pending)
			bad++;
		memset(r.calls, 0, sizeof(r.calls));
	}
	snprintf(name, sizeof(name), "%s: random run: %u requests, %u reads as the model", en, ops, reads);
	UNIT_OK(&u, bad == 0 && disk_ok(&r), name);
	printf("# %s: %lu copy-ups\n", en, r.d.cow->copyups);
	snprintf(name, sizeof(name), "%s: random run: the base's checksum is unchanged", en);
	UNIT_OK(&u, base_sum(&r) == sum0, name);
	rig_close(&r);
}

/* dir_entries: names in `dir` other than . and .. */
static unsigned dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 99;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* overlay_link: what /proc says the overlay's fd names. */
static const char *overlay_link(const struct disk *d)
{
	static char link[4200];
	char fdpath[64];
	ssize_t n;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", d->cow->overlay.fd);
	n = readlink(fdpath, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	return link;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

static void test_tmpdir(void)
{
	char dir[] = "/tmp/ringvm-cow-test.XXXXXX", path[64], err[512], want[600];
	unsigned fds = vf_open_fds();
	struct disk d;
	int base;

	if (!mkdtemp(dir) || (base = vf_tmpdisk(path, sizeof(path), 1 << 20)) < 0) {
		UNIT_OK(&u, 0, "tmpdir: set up");
		return;
	}
	fds++;		/* the base */
	setenv("TMPDIR", dir, 1);
	UNIT_OK(&u, disk_open(&d, path, DISK_SNAPSHOT, err, sizeof(err)) == 0,
	    "tmpdir: a snapshot disk opens with TMPDIR an empty directory");
	UNIT_OK(&u, dir_entries(dir) == 0 && ends_with(overlay_link(&d), " (deleted)") &&
	    !strncmp(overlay_link(&d), dir, strlen(dir)),
	    "tmpdir: its overlay is in TMPDIR and has no name there (O_TMPFILE)");
	UNIT_OK(&u, (fcntl(d.img.fd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
	    (fcntl(d.cow->overlay.fd, F_GETFD) & FD_CLOEXEC),
	    "tmpdir: the base is open read-only, the overlay close-on-exec");
	disk_close(&d);
	fail_tmpfile = 1;
	UNIT_OK(&u, disk_open(&d, path, DISK_SNAPSHOT, err, sizeof(err)) == 0 &&
	    dir_entries(dir) == 0 && ends_with(overlay_link(&d), " (deleted)") &&
	    strstr(overlay_link(&d), "/ringvm-snapshot-"),
	    "tmpdir: without O_TMPFILE, mkstemp's file is unlinked at once");
	disk_close(&d);
	fail_tmpfile = 0;
	UNIT_OK(&u, vf_open_fds() == fds && dir_entries(dir) == 0,
	    "tmpdir: closing leaves no fd open and nothing in TMPDIR");

	/* A TMPDIR that cannot hold the overlay: named, with the reason. */
	setenv("TMPDIR", "/nonexistent-ringvm-dir", 1);
	UNIT_OK(&u, disk_open(&d, path, DISK_SNAPSHOT, err, sizeof(err)) == -ENOENT &&
	    !strcmp(err, "cannot have its snapshot overlay in '/nonexistent-ringvm-dir' (TMPDIR): "
	    "No such file or directory"), "tmpdir: a missing TMPDIR is named, with the reason");
	printf("#   %s\n", err);
	setenv("TMPDIR", "", 1);
	UNIT_OK(&u, !strcmp(disk_tmp_dir(), "/tmp"), "tmpdir: an empty TMPDIR means /tmp");
	unsetenv("TMPDIR");
	UNIT_OK(&u, !strcmp(disk_tmp_dir(), "/tmp"), "tmpdir: no TMPDIR means /tmp");
	UNIT_OK(&u, vf_open_fds() == fds, "tmpdir: failures leave no fd open");
	setenv("TMPDIR", dir, 1);

	/* The map bound: 512 GiB opens (a 16 MiB map, untouched), a sector more is refused. */
	UNIT_OK(&u, ftruncate(base, (off_t)DISK_COW_SIZE_MAX) == 0 &&
	    disk_open(&d, path, DISK_SNAPSHOT, err, sizeof(err)) == 0 &&
	    d.cow->map_len == DISK_COW_MAP_MAX, "map: a 512 GiB snapshot disk opens, with a 16 MiB map");
	disk_close(&d);
	snprintf(want, sizeof(want), "has %llu bytes; a snapshot disk may have at most 512 GiB (its "
	    "overlay map, one bit per 4 KiB, is capped at 16 MiB)",
	    (unsigned long long)DISK_COW_SIZE_MAX + 512);
	UNIT_OK(&u, ftruncate(base, (off_t)DISK_COW_SIZE_MAX + 512) == 0 &&
	    disk_open(&d, path, DISK_SNAPSHOT, err, sizeof(err)) == -EFBIG && !strcmp(err, want),
	    "map: a bigger disk is refused, with the bound");
	printf("#   %s\n", err);
	UNIT_OK(&u, disk_open(&d, path, DISK_RW, err, sizeof(err)) == 0 && disk_close(&d) == 0,
	    "map: the bound is the snapshot's only (the same image opens read-write)");
	UNIT_OK(&u, vf_open_fds() == fds && dir_entries(dir) == 0, "tmpdir: still empty, no fd left");
	close(base);
	rmdir(dir);
	unsetenv("TMPDIR");
}

int main(void)
{
	char dir[] = "/tmp/ringvm-cow-run.XXXXXX";

	/* Overlays of the engine tests go to a directory of their own, checked empty at the end. */
	if (!mkdtemp(dir))
		return 1;
	setenv("TMPDIR", dir, 1);
	test_engine(DISK_URING);
	test_engine(DISK_SYNC);
	test_random(DISK_URING);
	test_random(DISK_SYNC);
	UNIT_OK(&u, dir_entries(dir) == 0, "nothing was left in TMPDIR");
	rmdir(dir);
	unsetenv("TMPDIR");
	test_tmpdir();
	printf("# disk_cow: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
