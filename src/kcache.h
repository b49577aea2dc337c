/*
 * kcache.h: the host-side kernel cache. A bzImage's compressed vmlinux is
 * unpacked once (the architecture's kimage.c) and kept in
 * $XDG_CACHE_HOME/ringvm (else $HOME/.cache/ringvm), keyed by the SHA-256
 * of the bzImage's bytes; later runs with the same kernel boot the cached
 * ELF through PVH and skip the decompression (about 0.7 s of xz for
 * Debian's kernel on the host, seconds inside the nested bed).
 * docs/ARCHITECTURE.md, "Kernel cache", has the figures and the on-disk
 * format.
 *
 * Guarantees:
 *  - an entry is verified on every use (length, key, XXH3-128 of the ELF,
 *    ELF header); a truncated or corrupt entry is unlinked, rebuilt and
 *    never returned;
 *  - an entry holds what its name says: it is unpacked from a private
 *    copy of the bzImage whose own hash names it, whatever happens to the
 *    file meanwhile;
 *  - entries are written to a unique temporary name, fsync'd and renamed:
 *    readers never see a partial file, and several ringvm starting at once
 *    with the same kernel each unpack and the last rename wins with the
 *    same bytes (no lock needed);
 *  - at most KCACHE_MAX_ENTRIES entries and KCACHE_MAX_BYTES in all; the
 *    least recently used go first (a hit touches the entry's mtime);
 *  - a directory not owned by the user, or writable by group or others, is
 *    never used (someone else could plant a kernel there): ringvm warns
 *    and unpacks into memory instead, as it does with the cache off or when
 *    the cache cannot be written.
 */
#ifndef RINGVM_KCACHE_H
#define RINGVM_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_err;

#define KCACHE_MAX_ENTRIES 8			/* kernels kept */
#define KCACHE_MAX_BYTES (1ull << 30)		/* bytes kept, all entries together */
#define KCACHE_SCAN_MAX 64			/* entries an eviction pass sorts */
#define KCACHE_TMP_AGE_S 3600			/* a temporary file this old was left by a crash */

/* What the caller wants; zeroes mean the defaults above. */
struct kcache_opts {
	bool off;		/* --kcache off: unpack into memory every time */
	const char *dir;	/* the cache directory; NULL: from the environment */
	unsigned max_entries;	/* KCACHE_MAX_ENTRIES when 0 (at most KCACHE_SCAN_MAX) */
	uint64_t max_bytes;	/* KCACHE_MAX_BYTES when 0 */
	uint64_t max_out;	/* the unpack bound, KIMAGE_MAX_OUT when 0 */
	bool memo_now;		/* tests: memoise a key even for a file changed just now */
};

/* Where the ELF came from. */
enum kcache_how {
	KCACHE_HIT,		/* a verified cache entry */
	KCACHE_MISS,		/* unpacked now and stored */
	KCACHE_REBUILT,		/* the entry was truncated or corrupt: unpacked and stored again */
	KCACHE_OFF,		/* unpacked into a memfd: the cache is off */
	KCACHE_UNUSABLE,	/* unpacked into a memfd: the cache could not be used (warned) */
};

struct kcache_result {
	int fd;			/* read-only, O_CLOEXEC; the ELF starts at offset 0 */
	uint64_t size;		/* the ELF's length (a cache file has a trailer after it) */
	enum kcache_how how;
};

/*
 * kcache_kernel_fd: an fd of the verified x86-64 ELF vmlinux inside the
 * bzImage open on `bz_fd` (`path` names it in messages), from the cache or
 * unpacked now. The caller owns res->fd. Cache trouble (unsafe directory,
 * full disk) costs a warning and the unpack, never the boot.
 * Returns 0, or -errno with `err` filled: RV_EXIT_BADFILE for a file that is
 * not a bzImage with a payload that unpacks to an x86-64 ELF within the
 * bound, RV_EXIT_FAILURE for host failures (memory).
 */
int kcache_kernel_fd(const char *path, int bz_fd, const struct kcache_opts *o,
    struct kcache_result *res, struct rv_err *err);

/*
 * kcache_dir: the cache directory's path in `buf` (`len` bytes):
 * "$XDG_CACHE_HOME/ringvm" when `xdg` is an absolute path (the XDG base
 * directory specification ignores a relative one), else
 * "$HOME/.cache/ringvm" when `home` is absolute. Returns 0, -ENOENT when
 * neither is set, -ENAMETOOLONG.
 */
int kcache_dir(char *buf, size_t len, const char *xdg, const char *home);

/* kcache_how_name: "hit", "miss", "rebuilt", "off", "unusable". */
const char *kcache_how_name(enum kcache_how how);

#endif
