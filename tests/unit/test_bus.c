/*
 * test_bus.c: port I/O and MMIO decoding (src/bus.h): claims, overlaps,
 * dispatch with the device's own offset, unclaimed and straddling accesses
 * (all ones on read, dropped on write, no handler called).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bus.h"
#include "unit.h"

static struct unit u = { .file = "bus" };

/* A fake device: remembers its last access and answers reads with a pattern. */
struct fake {
	unsigned reads, writes;
	uint64_t off;
	uint64_t val;
	unsigned size;
	uint64_t answer;
};

static uint64_t fake_read(void *dev, uint64_t off, unsigned size)
{
	struct fake *f = dev;

	f->reads++;
	f->off = off;
	f->size = size;
	return f->answer + off;
}

static void fake_write(void *dev, uint64_t off, uint64_t val, unsigned size)
{
	struct fake *f = dev;

	f->writes++;
	f->off = off;
	f->val = val;
	f->size = size;
}

static const struct bus_ops fake_ops = { .read = fake_read, .write = fake_write };
static const struct bus_ops write_only_ops = { .write = fake_write };
static const struct bus_ops read_only_ops = { .read = fake_read };

static uint64_t rd(const struct bus *b, uint64_t addr, unsigned size, bool *claimed)
{
	uint64_t v = 0;

	*claimed = bus_read(b, addr, &v, size);
	return v;
}

static void test_claims(void)
{
	static struct bus b;
	struct fake f = { 0 };

	memset(&b, 0, sizeof(b));
	UNIT_OK(&u, bus_add(&b, 0x3f8, 8, &fake_ops, &f, "com1") == 0, "claim 0x3f8+8");
	UNIT_OK(&u, bus_add(&b, 0x3f8, 8, &fake_ops, &f, "dup") == -EEXIST, "same range again");
	UNIT_OK(&u, bus_add(&b, 0x3f0, 9, &fake_ops, &f, "left") == -EEXIST,
	    "overlap by one byte on the left");
	UNIT_OK(&u, bus_add(&b, 0x3ff, 4, &fake_ops, &f, "right") == -EEXIST,
	    "overlap by one byte on the right");
	UNIT_OK(&u, bus_add(&b, 0x3fa, 2, &fake_ops, &f, "inside") == -EEXIST, "range inside a claim");
	UNIT_OK(&u, bus_add(&b, 0x300, 0x200, &fake_ops, &f, "around") == -EEXIST,
	    "range around a claim");
	UNIT_OK(&u, bus_add(&b, 0x3f0, 8, &fake_ops, &f, "below") == 0, "adjacent below");
	UNIT_OK(&u, bus_add(&b, 0x400, 1, &fake_ops, &f, "above") == 0, "adjacent above");
	UNIT_OK(&u, b.nr == 3 && b.range[0].base == 0x3f0 && b.range[1].base == 0x3f8 &&
	    b.range[2].base == 0x400, "table sorted by base");
	UNIT_OK(&u, bus_add(&b, 0x3f7, 2, &fake_ops, &f, "seam") == -EEXIST,
	    "range across two adjacent claims");
	UNIT_OK(&u, bus_add(&b, 0x100, 0x400, &fake_ops, &f, "over-all") == -EEXIST,
	    "range covering several claims");
	UNIT_OK(&u, bus_add(&b, 0x1000, 0, &fake_ops, &f, "empty") == -EINVAL, "empty range");
	UNIT_OK(&u, bus_add(&b, UINT64_MAX, 2, &fake_ops, &f, "wrap") == -EINVAL,
	    "range wrapping 2^64");
	UNIT_OK(&u, bus_add(&b, 2, UINT64_MAX, &fake_ops, &f, "wrap2") == -EINVAL,
	    "length 2^64-1 from 2 wraps");
	UNIT_OK(&u, bus_add(&b, UINT64_MAX, 1, &fake_ops, &f, "top") == 0,
	    "last byte of the space can be claimed");
	UNIT_OK(&u, bus_add(&b, UINT64_MAX - 15, 16, &fake_ops, &f, "top2") == -EEXIST,
	    "overlap at the top of the space");
	UNIT_OK(&u, b.nr == 4, "refused claims left the table alone");

	UNIT_OK(&u, bus_remove(&b, 0x3f9) == -ENOENT, "remove needs the exact base");
	UNIT_OK(&u, bus_remove(&b, 0x3f8) == 0 && b.nr == 3, "remove a claim");
	UNIT_OK(&u, bus_remove(&b, 0x3f8) == -ENOENT, "remove it twice");
	UNIT_OK(&u, bus_add(&b, 0x3f8, 8, &fake_ops, &f, "again") == 0 && b.range[1].base == 0x3f8,
	    "a removed range can be claimed again, in order");
}

static void test_full_table(void)
{
	static struct bus b;
	struct fake f = { 0 };
	unsigned ok = 0;

	memset(&b, 0, sizeof(b));
	/* Claim in descending order so every insert moves the whole table. */
	for (unsigned i = BUS_MAX_RANGES; i > 0; i--)
		ok += bus_add(&b, 0x1000 + 0x10 * (uint64_t)i, 0x10, &fake_ops, &f, "r") == 0;
	UNIT_OK(&u, ok == BUS_MAX_RANGES && b.nr == BUS_MAX_RANGES, "fill the table");
	UNIT_OK(&u, bus_add(&b, 0x9000, 1, &fake_ops, &f, "one-more") == -ENOSPC,
	    "a full table is ENOSPC");
	ok = 1;
	for (unsigned i = 1; i < b.nr; i++)
		ok &= b.range[i - 1].base + b.range[i - 1].len <= b.range[i].base;
	UNIT_OK(&u, ok, "a full table stays sorted and disjoint");
	for (unsigned i = 1; i <= BUS_MAX_RANGES; i++) {
		bool claimed;
		uint64_t v;

		f.answer = 0x100 * i;
		v = rd(&b, 0x1000 + 0x10 * (uint64_t)i + 3, 1, &claimed);
		ok &= claimed && f.off == 3 && v == ((0x100 * i + 3) & 0xff);
	}
	UNIT_OK(&u, ok, "every range of a full table dispatches with its offset");
}

static void test_dispatch(void)
{
	static struct bus b;
	struct fake a = { .answer = 0x1122334455667700ull }, c = { .answer = 0xa0 };
	uint64_t v, w;
	bool claimed;
	uint8_t bytes[16];

	memset(&b, 0, sizeof(b));
	bus_add(&b, 0x1000, 0x100, &fake_ops, &a, "a");
	bus_add(&b, 0x2000, 0x10, &fake_ops, &c, "c");
	bus_add(&b, 0x3000, 0x10, &write_only_ops, &c, "wo");
	bus_add(&b, 0x4000, 0x10, &read_only_ops, &c, "ro");

	v = rd(&b, 0x1010, 4, &claimed);
	UNIT_OK(&u, claimed && a.reads == 1 && a.off == 0x10 && a.size == 4,
	    "read reaches its device with the offset and size");
	UNIT_OK(&u, v == 0x55667710, "4-byte read returns the low 4 bytes");
	v = rd(&b, 0x1000, 8, &claimed);
	UNIT_OK(&u, claimed && v == 0x1122334455667700ull, "8-byte read");
	v = rd(&b, 0x1001, 2, &claimed);
	UNIT_OK(&u, claimed && v == 0x7701, "2-byte read at an odd offset");
	memset(bytes, 0xcc, sizeof(bytes));
	UNIT_OK(&u, bus_read(&b, 0x1000, bytes, 1) && bytes[0] == 0x00 && bytes[1] == 0xcc,
	    "1-byte read writes one byte of the buffer");
	UNIT_OK(&u, bus_read(&b, 0x10fc, bytes, 4) && a.off == 0xfc, "read ending at the range end");
	v = rd(&b, 0x2003, 1, &claimed);
	UNIT_OK(&u, claimed && c.reads == 1 && c.off == 3 && v == 0xa3, "second device, own offset");
	UNIT_OK(&u, a.reads == 5, "first device not called for the second's range");

	w = 0xdeadbeefcafef00dull;
	UNIT_OK(&u, bus_write(&b, 0x1020, &w, 2) && a.writes == 1 && a.off == 0x20 &&
	    a.size == 2 && a.val == 0xf00d, "2-byte write passes only 2 bytes");
	UNIT_OK(&u, bus_write(&b, 0x1020, &w, 8) && a.val == w, "8-byte write");
	UNIT_OK(&u, bus_write(&b, 0x3001, &w, 1) && c.writes == 1 && c.off == 1 && c.val == 0x0d,
	    "write-only range takes writes");
	v = rd(&b, 0x3001, 2, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffff && c.reads == 1,
	    "write-only range: read is unclaimed, all ones");
	UNIT_OK(&u, !bus_write(&b, 0x4000, &w, 1) && c.writes == 1,
	    "read-only range: write is unclaimed, dropped");
	v = rd(&b, 0x4002, 1, &claimed);
	UNIT_OK(&u, claimed && v == 0xa2, "read-only range takes reads");
}

static void test_unclaimed(void)
{
	static struct bus b;
	struct fake a = { 0 };
	uint64_t v, w = 0x1234;
	bool claimed;
	uint8_t bytes[16];

	memset(&b, 0, sizeof(b));
	bus_add(&b, 0x1000, 0x10, &fake_ops, &a, "a");
	bus_add(&b, 0x1010, 0x10, &fake_ops, &a, "b");

	v = rd(&b, 0x80, 4, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffffffff, "unclaimed port reads all ones");
	v = rd(&b, 0x80, 8, &claimed);
	UNIT_OK(&u, !claimed && v == UINT64_MAX, "unclaimed 8-byte read is all ones");
	memset(bytes, 0, sizeof(bytes));
	UNIT_OK(&u, !bus_read(&b, 0x80, bytes, 2) && bytes[0] == 0xff && bytes[1] == 0xff &&
	    bytes[2] == 0, "unclaimed 2-byte read fills only 2 bytes");
	UNIT_OK(&u, !bus_write(&b, 0x80, &w, 4), "unclaimed write is dropped");
	v = rd(&b, 0xfff, 2, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffff, "access starting before a range is unclaimed");
	v = rd(&b, 0x100e, 4, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffffffff,
	    "access straddling two ranges of one device is unclaimed");
	v = rd(&b, 0x101e, 4, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffffffff, "access running off the last range");
	UNIT_OK(&u, !bus_write(&b, 0x100f, &w, 2), "straddling write is dropped");
	UNIT_OK(&u, a.reads == 0 && a.writes == 0, "no handler saw an unclaimed access");
	v = rd(&b, 0x1000, 3, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffffff, "size 3 is not a bus access");
	UNIT_OK(&u, !bus_write(&b, 0x1000, &w, 0) && !bus_write(&b, 0x1000, &w, 16),
	    "sizes 0 and 16 are not bus accesses");
	memset(bytes, 0, sizeof(bytes));
	UNIT_OK(&u, !bus_read(&b, 0x1000, bytes, 16) && bytes[7] == 0xff && bytes[8] == 0,
	    "oversized read fills at most 8 bytes");
	UNIT_OK(&u, a.reads == 0 && a.writes == 0, "bad sizes reach no handler");
	v = rd(&b, UINT64_MAX, 1, &claimed);
	UNIT_OK(&u, !claimed && v == 0xff, "the last address, unclaimed");
	bus_add(&b, UINT64_MAX - 3, 4, &fake_ops, &a, "top");
	v = rd(&b, UINT64_MAX - 1, 4, &claimed);
	UNIT_OK(&u, !claimed && a.reads == 0, "access wrapping past 2^64 is unclaimed");
	v = rd(&b, UINT64_MAX - 3, 4, &claimed);
	UNIT_OK(&u, claimed && a.reads == 1 && a.off == 0, "access ending at 2^64 - 1 is claimed");
	memset(&b, 0, sizeof(b));
	v = rd(&b, 0x1000, 4, &claimed);
	UNIT_OK(&u, !claimed && v == 0xffffffff, "empty bus: all ones");
}

int main(void)
{
	test_claims();
	test_full_table();
	test_dispatch();
	test_unclaimed();
	return unit_done(&u);
}
