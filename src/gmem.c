/*
 * gmem.c: guest RAM: one anonymous mapping, split into regions, reached only
 * by range.
 *
 * Exported (contracts in gmem.h): gmem_init, gmem_fini, gmem_ptr, gmem_read,
 * gmem_write, gmem_fill_from_fd.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem.h"

/*
 * gmem_map: an anonymous mapping of `len` bytes whose start is aligned to
 * GMEM_ALIGN. KVM backs guest memory with huge pages only where guest-physical
 * and host-virtual addresses are congruent modulo the huge page size, so the
 * alignment decides whether the guest runs on 2 MiB or 4 KiB mappings (the
 * difference is most of a second of kernel decompression under nested
 * virtualisation, from page faults alone).
 */
static void *gmem_map(size_t len)
{
	uint8_t *raw, *aligned;
	size_t head;

	raw = mmap(NULL, len + GMEM_ALIGN, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	aligned = (uint8_t *)(((uintptr_t)raw + GMEM_ALIGN - 1) & ~(uintptr_t)(GMEM_ALIGN - 1));
	head = (size_t)(aligned - raw);
	if (head)
		munmap(raw, head);
	munmap(aligned + len, GMEM_ALIGN - head);
	/* Best effort: huge pages where the host allows, and no guest data in core dumps. */
	madvise(aligned, len, MADV_HUGEPAGE);
	madvise(aligned, len, MADV_DONTDUMP);
	return aligned;
}

int gmem_init(struct gmem *gm, uint64_t ram_size, const uint64_t *base,
    const uint64_t *limit, unsigned nr_layout)
{
	uint64_t left = ram_size, off = 0;
	void *map;

	memset(gm, 0, sizeof(*gm));
	if (ram_size == 0 || nr_layout == 0 || nr_layout > GMEM_MAX_REGIONS)
		return -EINVAL;
	if (ram_size > SIZE_MAX - GMEM_ALIGN)
		return -ENOMEM;
	map = gmem_map(ram_size);
	if (!map)
		return -errno;
	gm->map = map;
	gm->map_len = ram_size;
	for (unsigned i = 0; i < nr_layout && left; i++) {
		uint64_t take = left < limit[i] ? left : limit[i];
		uint64_t end;

		/* A region whose end wraps would defeat every later check. */
		if (take == 0 || __builtin_add_overflow(base[i], take, &end)) {
			gmem_fini(gm);
			return -EINVAL;
		}
		gm->region[gm->nr_regions++] = (struct gmem_region){
			.gpa = base[i], .len = take, .hva = gm->map + off,
		};
		off += take;
		left -= take;
	}
	if (left) {
		gmem_fini(gm);
		return -EINVAL;
	}
	gm->ram_size = ram_size;
	return 0;
}

void gmem_fini(struct gmem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_len);
	memset(gm, 0, sizeof(*gm));
}

void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0)
		len = 1;
	/* addr + len must not wrap 2^64 (HOSTILE.md M2). */
	if (__builtin_add_overflow(gpa, len, &end))
		goto fault;
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *r = &gm->region[i];

		/* Written so no sum can overflow: r->gpa + r->len was checked at init. */
		if (gpa >= r->gpa && end <= r->gpa + r->len)
			return r->hva + (gpa - r->gpa);
	}
fault:
	errno = EFAULT;
	return NULL;
}

int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gmem_fill_from_fd(const struct gmem *gm, uint64_t gpa, int fd, uint64_t off,
    uint64_t len)
{
	uint8_t *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = pread(fd, p, chunk, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}
