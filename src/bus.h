/*
 * bus.h: address decoding for port I/O and MMIO exits.
 *
 * A device claims a range with bus_add() and gets its own offsets back; the
 * loop thread calls bus_read()/bus_write() for each emulated access. Unclaimed
 * reads return all ones and unclaimed writes are dropped, as on real hardware.
 */
#ifndef RINGVM_BUS_H
#define RINGVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* Handlers see the offset into their range and an access size of 1, 2, 4 or 8. */
struct bus_ops {
	uint64_t (*read)(void *dev, uint64_t off, unsigned size);
	void (*write)(void *dev, uint64_t off, uint64_t val, unsigned size);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	struct bus_range range[BUS_MAX_RANGES];	/* sorted by base, disjoint */
	unsigned nr;
};

/*
 * bus_add: claim [base, base + len) for `dev`. Returns 0, -EINVAL for an
 * empty or wrapping range, -EEXIST when it overlaps a claimed range, or
 * -ENOSPC when the table is full.
 */
int bus_add(struct bus *bus, uint64_t base, uint64_t len,
    const struct bus_ops *ops, void *dev, const char *name);

/* bus_remove: release the range that starts at `base`. Returns 0 or -ENOENT. */
int bus_remove(struct bus *bus, uint64_t base);

/*
 * bus_read: read `size` bytes (1, 2, 4 or 8) at `addr` into `data`
 * (little-endian). Returns true when a device claimed the whole access;
 * false leaves all ones in `data`.
 */
bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size);

/* bus_write: write `size` bytes from `data`. Returns true when claimed. */
bool bus_write(const struct bus *bus, uint64_t addr, const void *data,
    unsigned size);

#endif
