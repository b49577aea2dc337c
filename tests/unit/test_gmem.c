/*
 * test_gmem.c: the one guest-memory accessor (BRIEF rule 1, HOSTILE.md 2b):
 * ranges inside a region, across a region end, across the x86 hole, outside
 * RAM, wrapping 2^64; the copies built on it; loading from a file; and how
 * gmem_init splits RAM around the architecture's holes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "gmem.h"
#include "unit.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)

static struct unit u = { .file = "gmem" };

/* refused: gmem_ptr returns NULL and sets errno to EFAULT. */
static int refused(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	errno = 0;
	return gmem_ptr(gm, gpa, len) == NULL && errno == EFAULT;
}

/* at: gmem_ptr returns exactly the host address `hva`. */
static int at(const struct gmem *gm, uint64_t gpa, uint64_t len, const uint8_t *hva)
{
	return gmem_ptr(gm, gpa, len) == hva;
}

/* The x86 layout: low RAM up to 3 GiB, the rest from 4 GiB. */
static void test_x86_layout(void)
{
	uint64_t base[GMEM_MAX_REGIONS], limit[GMEM_MAX_REGIONS];
	uint64_t ram = 4 * GIB + 64 * 1024;	/* 3 GiB low, 1 GiB + 64 KiB high */
	uint64_t hi_len = ram - 3 * GIB, end;
	unsigned n = arch_mem_layout(ram, base, limit);
	struct gmem gm;
	uint8_t *lo, *hi;

	UNIT_OK(&u, n == 2 && n <= GMEM_MAX_REGIONS, "x86 layout has two slots");
	UNIT_OK(&u, gmem_init(&gm, ram, base, limit, n) == 0, "init 4 GiB + 64 KiB");
	UNIT_OK(&u, gm.nr_regions == 2, "two regions around the hole");
	UNIT_OK(&u, gm.region[0].gpa == 0 && gm.region[0].len == 3 * GIB,
	    "region 0 is [0, 3 GiB)");
	UNIT_OK(&u, gm.region[1].gpa == 4 * GIB && gm.region[1].len == hi_len,
	    "region 1 is [4 GiB, 4 GiB + rest)");
	UNIT_OK(&u, gm.ram_size == ram, "ram_size is the sum");
	UNIT_OK(&u, ((uintptr_t)gm.map & (GMEM_ALIGN - 1)) == 0, "mapping is 2 MiB aligned");
	UNIT_OK(&u, gm.region[1].hva == gm.region[0].hva + 3 * GIB,
	    "regions share one mapping back to back");
	lo = gm.region[0].hva;
	hi = gm.region[1].hva;
	end = 4 * GIB + hi_len;

	/* Wholly inside one region. */
	UNIT_OK(&u, at(&gm, 0, 1, lo), "first byte of RAM");
	UNIT_OK(&u, at(&gm, 0, 3 * GIB, lo), "all of region 0 at once");
	UNIT_OK(&u, at(&gm, 0x7000, 4096, lo + 0x7000), "a page inside region 0");
	UNIT_OK(&u, at(&gm, 3 * GIB - 1, 1, lo + 3 * GIB - 1), "last byte of region 0");
	UNIT_OK(&u, at(&gm, 3 * GIB - 4096, 4096, lo + 3 * GIB - 4096), "last page of region 0");
	UNIT_OK(&u, at(&gm, 4 * GIB, hi_len, hi), "all of region 1 at once");
	UNIT_OK(&u, at(&gm, 4 * GIB + 100, 50, hi + 100), "offset inside region 1");
	UNIT_OK(&u, at(&gm, end - 1, 1, hi + hi_len - 1), "last byte of RAM");

	/* Crossing a region end, the hole, or the end of RAM. */
	UNIT_OK(&u, refused(&gm, 3 * GIB - 1, 2), "one byte past region 0 is refused");
	UNIT_OK(&u, refused(&gm, 3 * GIB - 4096, 8192), "page pair across the hole start");
	UNIT_OK(&u, refused(&gm, 3 * GIB, 1), "first byte of the hole");
	UNIT_OK(&u, refused(&gm, 3 * GIB + GIB / 2, 4096), "middle of the hole");
	UNIT_OK(&u, refused(&gm, 4 * GIB - 1, 1), "last byte of the hole");
	UNIT_OK(&u, refused(&gm, 4 * GIB - 1, 2), "hole into region 1");
	UNIT_OK(&u, refused(&gm, 3 * GIB - 4096, GIB + 8192),
	    "range straddling both regions and the hole");
	UNIT_OK(&u, refused(&gm, 0, ram), "ram_size bytes from 0 (spans the hole)");
	UNIT_OK(&u, refused(&gm, end - 1, 2), "one byte past the end of RAM");
	UNIT_OK(&u, refused(&gm, end, 1), "first byte after RAM");
	UNIT_OK(&u, refused(&gm, 4 * GIB, hi_len + 1), "region 1 plus one byte");
	UNIT_OK(&u, refused(&gm, 1ull << 48, 4096), "far outside RAM");

	/* Wrapping 2^64. */
	UNIT_OK(&u, refused(&gm, 0xfffffffffffff000ull, 0x2000), "gpa + len wraps 2^64");
	UNIT_OK(&u, refused(&gm, UINT64_MAX, 1), "last address of the space");
	UNIT_OK(&u, refused(&gm, UINT64_MAX, 0), "len 0 at the last address");
	UNIT_OK(&u, refused(&gm, 1, UINT64_MAX), "len 2^64-1 from 1 wraps");
	UNIT_OK(&u, refused(&gm, 0, UINT64_MAX), "len 2^64-1 from 0");
	UNIT_OK(&u, refused(&gm, 4 * GIB, UINT64_MAX - 4 * GIB + 1), "region 1 to 2^64 exactly");

	/* len 0 is checked as one byte. */
	UNIT_OK(&u, at(&gm, end - 1, 0, hi + hi_len - 1), "len 0 at the last byte");
	UNIT_OK(&u, refused(&gm, end, 0), "len 0 one past the end");
	UNIT_OK(&u, at(&gm, 3 * GIB - 1, 0, lo + 3 * GIB - 1), "len 0 at region 0's last byte");
	UNIT_OK(&u, refused(&gm, 3 * GIB, 0), "len 0 in the hole");
	UNIT_OK(&u, at(&gm, 0, 0, lo), "len 0 at 0");

	/* The whole allowed range can be touched (the mapping really backs it). */
	lo[3 * GIB - 1] = 0x5a;
	hi[hi_len - 1] = 0xa5;
	UNIT_OK(&u, *(uint8_t *)gmem_ptr(&gm, 3 * GIB - 1, 1) == 0x5a &&
	    *(uint8_t *)gmem_ptr(&gm, end - 1, 1) == 0xa5, "last bytes are writable");
	gmem_fini(&gm);
	UNIT_OK(&u, gm.map == NULL && gm.nr_regions == 0 && refused(&gm, 0, 1),
	    "fini clears the regions");
	gmem_fini(&gm);
	UNIT_OK(&u, gm.map == NULL, "fini twice is safe");

	/* Small guests stay in region 0; exactly 3 GiB does not start region 1. */
	n = arch_mem_layout(16 * MIB, base, limit);
	UNIT_OK(&u, gmem_init(&gm, 16 * MIB, base, limit, n) == 0 && gm.nr_regions == 1 &&
	    gm.region[0].len == 16 * MIB, "16 MiB: one region");
	UNIT_OK(&u, refused(&gm, 16 * MIB, 1) && at(&gm, 16 * MIB - 1, 1, gm.region[0].hva +
	    16 * MIB - 1), "16 MiB: end of RAM");
	gmem_fini(&gm);
	n = arch_mem_layout(3 * GIB, base, limit);
	UNIT_OK(&u, gmem_init(&gm, 3 * GIB, base, limit, n) == 0 && gm.nr_regions == 1,
	    "exactly 3 GiB: one region");
	UNIT_OK(&u, refused(&gm, 4 * GIB, 1), "exactly 3 GiB: nothing at 4 GiB");
	gmem_fini(&gm);
}

/* Two regions that touch in guest-physical space are still two regions. */
static void test_adjacent_regions(void)
{
	const uint64_t base[2] = { 0, 0x10000 }, limit[2] = { 0x10000, 0x10000 };
	struct gmem gm;

	UNIT_OK(&u, gmem_init(&gm, 0x18000, base, limit, 2) == 0 && gm.nr_regions == 2 &&
	    gm.region[1].len == 0x8000, "adjacent layout: second region takes the rest");
	UNIT_OK(&u, at(&gm, 0xffff, 1, gm.region[0].hva + 0xffff) &&
	    at(&gm, 0x10000, 1, gm.region[1].hva), "both sides of the seam");
	UNIT_OK(&u, refused(&gm, 0xffff, 2), "range across two adjacent regions is refused");
	UNIT_OK(&u, refused(&gm, 0x8000, 0x10000), "larger range across the seam is refused");
	UNIT_OK(&u, refused(&gm, 0x18000, 1), "end of the second region");
	gmem_fini(&gm);
}

/* gmem_init: region i takes min(remaining, limit[i]); bad layouts are EINVAL. */
static void test_layout_split(void)
{
	const uint64_t base[4] = { 0x0, 0x100000, 0x200000, 0x300000 };
	const uint64_t limit[4] = { 0x3000, 0x5000, 0x4000, 0x1000 };
	uint64_t b[2], l[2];
	struct gmem gm;

	UNIT_OK(&u, gmem_init(&gm, 0x9000, base, limit, 4) == 0, "split 0x9000 over 4 slots");
	UNIT_OK(&u, gm.nr_regions == 3 && gm.region[0].len == 0x3000 &&
	    gm.region[1].len == 0x5000 && gm.region[2].len == 0x1000,
	    "regions take 0x3000, 0x5000, then the 0x1000 left");
	UNIT_OK(&u, gm.region[1].gpa == 0x100000 && gm.region[2].gpa == 0x200000,
	    "regions start at their layout bases");
	UNIT_OK(&u, gm.region[1].hva == gm.map + 0x3000 && gm.region[2].hva == gm.map + 0x8000,
	    "host offsets follow the lengths");
	UNIT_OK(&u, refused(&gm, 0x3000, 1) && refused(&gm, 0x105000, 1) &&
	    refused(&gm, 0x201000, 1) && refused(&gm, 0x300000, 1), "nothing beyond each region");
	gmem_fini(&gm);

	UNIT_OK(&u, gmem_init(&gm, 0x2000, base, limit, 4) == 0 && gm.nr_regions == 1 &&
	    gm.region[0].len == 0x2000, "less than the first limit: one region");
	gmem_fini(&gm);
	UNIT_OK(&u, gmem_init(&gm, 0x8000, base, limit, 4) == 0 && gm.nr_regions == 2 &&
	    gm.region[1].len == 0x5000, "exactly two limits: two regions");
	gmem_fini(&gm);
	UNIT_OK(&u, gmem_init(&gm, 0xd000, base, limit, 4) == 0 && gm.nr_regions == 4,
	    "all four limits filled");
	gmem_fini(&gm);

	UNIT_OK(&u, gmem_init(&gm, 0xd001, base, limit, 4) == -EINVAL && gm.map == NULL &&
	    gm.nr_regions == 0, "RAM beyond the layout is EINVAL, nothing left mapped");
	UNIT_OK(&u, gmem_init(&gm, 0, base, limit, 4) == -EINVAL, "zero RAM is EINVAL");
	UNIT_OK(&u, gmem_init(&gm, 0x1000, base, limit, 0) == -EINVAL, "no layout is EINVAL");
	UNIT_OK(&u, gmem_init(&gm, 0x1000, base, limit, GMEM_MAX_REGIONS + 1) == -EINVAL,
	    "too many layout slots is EINVAL");
	UNIT_OK(&u, gmem_init(&gm, UINT64_MAX, base, limit, 4) == -ENOMEM,
	    "RAM beyond the address space is ENOMEM");

	b[0] = 0; l[0] = 0;
	b[1] = 0x100000; l[1] = 0x10000;
	UNIT_OK(&u, gmem_init(&gm, 0x1000, b, l, 2) == -EINVAL && gm.map == NULL,
	    "a zero limit with RAM left is EINVAL");
	b[0] = UINT64_MAX - 0xfff; l[0] = UINT64_MAX;
	UNIT_OK(&u, gmem_init(&gm, 0x2000, b, l, 1) == -EINVAL, "a region wrapping 2^64 is EINVAL");
	b[0] = UINT64_MAX - 0xfff; l[0] = UINT64_MAX;
	UNIT_OK(&u, gmem_init(&gm, 0x1000, b, l, 1) == -EINVAL,
	    "a region ending exactly at 2^64 is EINVAL");
	b[0] = UINT64_MAX - 0x1fff;
	UNIT_OK(&u, gmem_init(&gm, 0x1000, b, l, 1) == 0 &&
	    at(&gm, UINT64_MAX - 0x1000, 1, gm.map + 0xfff) && refused(&gm, UINT64_MAX - 0xfff, 1) &&
	    refused(&gm, UINT64_MAX - 0x1000, 0x1000), "a region just below 2^64");
	gmem_fini(&gm);
	memset(&gm, 0, sizeof(gm));
	UNIT_OK(&u, refused(&gm, 0, 1), "a zeroed gmem refuses everything");
}

static void test_copies(void)
{
	const uint64_t base[2] = { 0, 0x100000 }, limit[2] = { 0x10000, 0x10000 };
	uint8_t in[300], out[300], before[16];
	struct gmem gm;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	if (gmem_init(&gm, 0x20000, base, limit, 2)) {
		UNIT_OK(&u, 0, "init for copies");
		return;
	}
	UNIT_OK(&u, gmem_write(&gm, 0x100100, in, sizeof(in)) == 0, "write into region 1");
	UNIT_OK(&u, memcmp(gm.region[1].hva + 0x100, in, sizeof(in)) == 0,
	    "write lands at the right host address");
	memset(out, 0, sizeof(out));
	UNIT_OK(&u, gmem_read(&gm, 0x100100, out, sizeof(out)) == 0 &&
	    memcmp(in, out, sizeof(in)) == 0, "read back the same bytes");
	UNIT_OK(&u, gmem_write(&gm, 0xfff0, in, 16) == 0 && gmem_read(&gm, 0xfff0, out, 16) == 0 &&
	    memcmp(in, out, 16) == 0, "round trip at region 0's end");

	memcpy(before, gm.region[0].hva + 0xfff0, 16);
	UNIT_OK(&u, gmem_write(&gm, 0xfff8, in + 100, 16) == -EFAULT,
	    "write across region 0's end is EFAULT");
	UNIT_OK(&u, memcmp(before, gm.region[0].hva + 0xfff0, 16) == 0,
	    "a refused write changes nothing");
	memset(out, 0xee, sizeof(out));
	UNIT_OK(&u, gmem_read(&gm, 0xfff8, out, 16) == -EFAULT && out[0] == 0xee,
	    "read across region 0's end is EFAULT and copies nothing");
	UNIT_OK(&u, gmem_read(&gm, 0x50000, out, 1) == -EFAULT, "read in the hole is EFAULT");
	UNIT_OK(&u, gmem_write(&gm, 0x110000, in, 1) == -EFAULT, "write after RAM is EFAULT");
	UNIT_OK(&u, gmem_read(&gm, UINT64_MAX - 3, out, 8) == -EFAULT, "read wrapping 2^64");
	UNIT_OK(&u, gmem_write(&gm, 0x0, in, 0) == 0 && gmem_read(&gm, 0x10000, out, 0) == -EFAULT,
	    "zero-length copies are checked as one byte");
	gmem_fini(&gm);
}

static void test_fill_from_fd(void)
{
	const uint64_t base[2] = { 0, 0x100000 }, limit[2] = { 0x10000, 0x10000 };
	char path[] = "/tmp/ringvm-gmem-XXXXXX";
	uint8_t data[10000];
	struct gmem gm;
	int fd;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data) ||
	    gmem_init(&gm, 0x20000, base, limit, 2)) {
		UNIT_OK(&u, 0, "fill_from_fd setup");
		return;
	}
	unlink(path);
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x100000, fd, 0, sizeof(data)) == 0 &&
	    memcmp(gm.region[1].hva, data, sizeof(data)) == 0, "load a whole file");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x2000, fd, 1234, 4096) == 0 &&
	    memcmp(gm.region[0].hva + 0x2000, data + 1234, 4096) == 0, "load from an offset");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x0, fd, 0, sizeof(data) + 1) == -EIO,
	    "one byte more than the file is EIO");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x0, fd, 9000, 2000) == -EIO,
	    "a range running off the file's end is EIO");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x0, fd, sizeof(data), 1) == -EIO,
	    "reading at the file's end is EIO");
	memset(gm.region[0].hva + 0xf000, 0x11, 0x1000);
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0xf000, fd, 0, 0x2000) == -EFAULT &&
	    gm.region[0].hva[0xf000] == 0x11, "range past region 0 is EFAULT before any read");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x80000, fd, 0, 16) == -EFAULT, "range in the hole");
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0xfffffffffffff000ull, fd, 0, 0x2000) == -EFAULT,
	    "wrapping range");
	close(fd);
	UNIT_OK(&u, gmem_fill_from_fd(&gm, 0x0, fd, 0, 16) == -EBADF, "a closed fd gives -EBADF");
	gmem_fini(&gm);
}

int main(void)
{
	test_x86_layout();
	test_adjacent_regions();
	test_layout_split();
	test_copies();
	test_fill_from_fd();
	return unit_done(&u);
}
