/*
 * gmem.h: guest physical memory and the one checked accessor.
 *
 * BRIEF rule 1: every guest-physical access in ringvm goes through
 * gmem_ptr() (or the gmem_read/gmem_write copies built on it). Nothing else
 * computes a host pointer from a guest address.
 */
#ifndef RINGVM_GMEM_H
#define RINGVM_GMEM_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 4
#define GMEM_ALIGN (2u << 20)	/* host alignment of guest RAM: the x86 huge page */

/* One contiguous run of guest RAM backed by one host mapping. */
struct gmem_region {
	uint64_t gpa;		/* first guest-physical address */
	uint64_t len;		/* bytes; never 0 for a live region */
	uint8_t *hva;		/* host address of gpa */
};

struct gmem {
	struct gmem_region region[GMEM_MAX_REGIONS];
	unsigned nr_regions;
	uint64_t ram_size;	/* sum of region lengths */
	uint8_t *map;		/* the single host mapping behind all regions */
	size_t map_len;
};

/*
 * gmem_init: map `ram_size` bytes of anonymous memory (MAP_NORESERVE: pages
 * are allocated when the guest touches them), 2 MiB aligned so KVM can use
 * huge pages, and split it into regions at
 * the guest-physical holes the architecture asks for. `layout` gives each
 * region's base; region i takes min(remaining, limit[i]) bytes.
 * Returns 0, or -errno (ENOMEM when mmap fails, EINVAL for a bad layout).
 */
int gmem_init(struct gmem *gm, uint64_t ram_size, const uint64_t *base,
    const uint64_t *limit, unsigned nr_layout);

/* gmem_fini: unmap guest memory. Safe on a zeroed or finished gmem. */
void gmem_fini(struct gmem *gm);

/*
 * gmem_ptr: the checked accessor. Returns the host address of guest range
 * [gpa, gpa + len) when all of it lies inside one RAM region and the sum does
 * not wrap; otherwise NULL with errno = EFAULT. A zero `len` is checked as
 * one byte, so the result can always be dereferenced for at least `len`
 * bytes and never points past RAM.
 */
void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* gmem_read: copy len bytes from guest memory. Returns 0 or -EFAULT. */
int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, size_t len);

/* gmem_write: copy len bytes into guest memory. Returns 0 or -EFAULT. */
int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, size_t len);

/*
 * gmem_fill_from_fd: read exactly `len` bytes from `fd` at `off` into guest
 * memory at `gpa` (range checked first). Returns 0, -EFAULT for a bad range,
 * -EIO for a short file, or the -errno of pread.
 */
int gmem_fill_from_fd(const struct gmem *gm, uint64_t gpa, int fd, uint64_t off,
    uint64_t len);

#endif
