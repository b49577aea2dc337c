/*
 * bus.c: a sorted table of claimed address ranges and the lookup for each
 * access.
 *
 * Exported (contracts in bus.h): bus_add, bus_remove, bus_read, bus_write.
 */
#include <errno.h>
#include <string.h>

#include "bus.h"

int bus_add(struct bus *bus, uint64_t base, uint64_t len,
    const struct bus_ops *ops, void *dev, const char *name)
{
	uint64_t end;
	unsigned i;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &end))
		return -EINVAL;
	if (bus->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->range[i];

		if (base <= r->base + (r->len - 1) && r->base <= end)
			return -EEXIST;
		if (r->base > base)
			break;
	}
	memmove(&bus->range[i + 1], &bus->range[i],
	    (bus->nr - i) * sizeof(bus->range[0]));
	bus->range[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .dev = dev, .name = name,
	};
	bus->nr++;
	return 0;
}

int bus_remove(struct bus *bus, uint64_t base)
{
	for (unsigned i = 0; i < bus->nr; i++) {
		if (bus->range[i].base != base)
			continue;
		memmove(&bus->range[i], &bus->range[i + 1],
		    (bus->nr - i - 1) * sizeof(bus->range[0]));
		bus->nr--;
		return 0;
	}
	return -ENOENT;
}

/*
 * bus_find: the range holding all of [addr, addr + size), or NULL. An access
 * that straddles a range end is unclaimed: no device sees bytes it did not
 * claim.
 */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr,
    unsigned size)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->range[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			if (size > r->len - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

static bool bus_size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size)
{
	const struct bus_range *r = bus_size_ok(size) ? bus_find(bus, addr, size) : NULL;
	uint64_t val;

	if (!r || !r->ops->read) {
		memset(data, 0xff, size < 8 ? size : 8);
		return false;
	}
	val = r->ops->read(r->dev, addr - r->base, size);
	memcpy(data, &val, size);	/* x86 and arm64 hosts are little-endian */
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const void *data,
    unsigned size)
{
	const struct bus_range *r = bus_size_ok(size) ? bus_find(bus, addr, size) : NULL;
	uint64_t val = 0;

	if (!r || !r->ops->write)
		return false;
	memcpy(&val, data, size);
	r->ops->write(r->dev, addr - r->base, val, size);
	return true;
}
