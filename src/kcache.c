/*
 * kcache.c: the host-side kernel cache (kcache.h): where it lives, how an
 * entry is found, verified and written, and the in-memory fallback.
 *
 * An entry is the file "<sha256 of the bzImage, hex>.elf", mode 0400:
 * the ELF's bytes from offset 0 (so its fd is handed to the PVH loader as
 * it is), then a struct kcache_trailer. Trailing bytes are invisible to an
 * ELF reader, and a file cut short loses its trailer first.
 *
 * The two hashes have different jobs. The key must not collide even for a
 * bzImage built on purpose to collide with another kernel the user boots
 * (a crafted kernel would then be served for the trusted one): SHA-256,
 * from GLib's GChecksum (GLib is already linked for libslirp; libcrypto
 * would hash in 6-10 ms instead of 30-40 ms but cost every VM 3.4 MB of
 * resident library pages). The
 * entry check only has to catch a torn or damaged file in a directory only
 * the user can write: XXH3-128 (libxxhash), about 10 ms for the 66 MB ELF
 * where SHA-256 takes 50-90 ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <glib.h>

#include "kcache.h"
#include "kcache_memo.h"
#include "kcache_evict.h"
#include "kimage.h"
#include "log.h"

#define KCACHE_MAGIC "RVKCACHE"
#define KCACHE_VERSION 1
#define KCACHE_HASH_CHUNK (256u << 10)	/* the key is hashed through this much memory */

/* After the ELF, in host byte order (the cache never leaves the host). */
struct kcache_trailer {
	char magic[8];		/* KCACHE_MAGIC */
	uint32_t version;	/* KCACHE_VERSION */
	uint32_t trailer_len;	/* sizeof(struct kcache_trailer) */
	uint64_t elf_len;	/* the file's size less the trailer */
	uint8_t key[32];	/* SHA-256 of the bzImage: the name, repeated */
	uint8_t elf_hash[16];	/* XXH3-128 of the ELF's bytes, canonical (big-endian) form */
};

/* One call's state: the bzImage mapped, its key, the cache directory. */
struct kcache_run {
	const char *path;
	const struct kcache_opts *o;
	const uint8_t *bz;
	size_t bz_len;
	struct kimage_payload payload;
	uint8_t key[32];
	char name[KCACHE_EVICT_NAME_LEN + 1];
	int dirfd;
};

const char *kcache_how_name(enum kcache_how how)
{
	static const char *const names[] = {
		[KCACHE_HIT] = "hit", [KCACHE_MISS] = "miss", [KCACHE_REBUILT] = "rebuilt",
		[KCACHE_OFF] = "off", [KCACHE_UNUSABLE] = "unusable",
	};

	return (unsigned)how < sizeof(names) / sizeof(names[0]) ? names[how] : "?";
}

int kcache_dir(char *buf, size_t len, const char *xdg, const char *home)
{
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/ringvm", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/ringvm", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* kcache_mkdirs: mkdir -p `path` with mode 0700 for what it creates. */
static int kcache_mkdirs(char *path)
{
	for (char *p = path + 1; ; p++) {
		char c = *p;

		if (c != '/' && c)
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * kcache_open_dir: open the cache directory and check that only the user
 * can write it. A directory someone else owns or can write is a place to
 * plant a kernel (or to swap one between check and use): refused. Returns
 * the directory fd, or -errno with a reason in `why`.
 */
static int kcache_open_dir(const struct kcache_opts *o, char *dir, size_t len, const char **why)
{
	struct stat st;
	int fd, r;

	if (o->dir)
		r = snprintf(dir, len, "%s", o->dir) >= (int)len ? -ENAMETOOLONG : 0;
	else
		r = kcache_dir(dir, len, getenv("XDG_CACHE_HOME"), getenv("HOME"));
	if (r)
		return *why = r == -ENOENT ? "neither XDG_CACHE_HOME nor HOME is set" :
		    "its path is too long", r;
	if ((r = kcache_mkdirs(dir)))
		return *why = "cannot create it", r;
	/* O_NOFOLLOW: the last component is not a symlink to somewhere else. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return *why = "cannot open it", -errno;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return *why = "it is not owned by this user or others can write it", -EPERM;
	}
	return fd;
}

/* kcache_write_all: write `len` bytes of `buf` to `fd` at its offset. */
static int kcache_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* kcache_read_all: exactly `len` bytes from offset 0 of `fd`; -EIO if the file is shorter now. */
static int kcache_read_all(int fd, uint8_t *buf, size_t len)
{
	for (size_t done = 0; done < len; ) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static void kcache_elf_hash(const uint8_t *elf, size_t len, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(elf, len));
	memcpy(out, c.digest, 16);
}

/*
 * kcache_check: is the entry open on `fd` whole and ours? Returns 0 with
 * *elf_len set, or a reason ("truncated", "corrupt") for a bad one.
 */
static const char *kcache_check(const struct kcache_run *k, int fd, uint64_t *elf_len)
{
	struct kcache_trailer t;
	struct stat st;
	uint8_t hash[16];
	struct rv_err err;
	void *map;
	int bad;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return "not a regular file of this user";
	if ((uint64_t)st.st_size < sizeof(t) ||
	    pread(fd, &t, sizeof(t), st.st_size - (off_t)sizeof(t)) != (ssize_t)sizeof(t) ||
	    memcmp(t.magic, KCACHE_MAGIC, 8) || t.version != KCACHE_VERSION ||
	    t.trailer_len != sizeof(t) || t.elf_len != (uint64_t)st.st_size - sizeof(t))
		return "truncated";
	if (memcmp(t.key, k->key, sizeof(t.key)) || !t.elf_len || t.elf_len > KIMAGE_MAX_OUT)
		return "corrupt";
	map = mmap(NULL, t.elf_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return "unreadable";
	kcache_elf_hash(map, t.elf_len, hash);
	bad = memcmp(hash, t.elf_hash, sizeof(hash)) || kimage_check_elf(map, t.elf_len, &err);
	munmap(map, t.elf_len);
	if (bad)
		return "corrupt";
	*elf_len = t.elf_len;
	return NULL;
}

/*
 * kcache_lookup: the entry for k->key. Returns 1 with res filled (a hit),
 * 0 when there is none, or -1 when there was a bad one (now unlinked).
 */
static int kcache_lookup(const struct kcache_run *k, struct kcache_result *res)
{
	const char *bad;
	int fd;

	fd = openat(k->dirfd, k->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	bad = kcache_check(k, fd, &res->size);
	if (!bad) {
		/* Least recently used: a hit is a use (NULL: now; we own it). */
		futimens(fd, NULL);
		res->fd = fd;
		res->how = KCACHE_HIT;
		return 1;
	}
	close(fd);
	log_warnx("kernel cache: entry %s for %s is %s: unpacking it again", k->name, k->path, bad);
	/* Never booted; if another ringvm just replaced it with a good one, it is rebuilt. */
	unlinkat(k->dirfd, k->name, 0);
	return -1;
}

/*
 * kcache_store: write the ELF as the entry k->name: a unique temporary
 * file (0400), fsync, rename over the name, fsync the directory. Returns a
 * read-only fd of the entry, or -errno (the caller falls back to memory).
 */
static int kcache_store(const struct kcache_run *k, const uint8_t *elf, size_t len)
{
	struct kcache_trailer t = { .version = KCACHE_VERSION, .trailer_len = sizeof(t),
	    .elf_len = len };
	char tmp[64], self[32];
	int fd = -1, ro, r;

	memcpy(t.magic, KCACHE_MAGIC, 8);
	memcpy(t.key, k->key, sizeof(t.key));
	kcache_elf_hash(elf, len, t.elf_hash);
	for (int tries = 0; fd < 0 && tries < 8; tries++) {
		uint32_t rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd ^= (uint32_t)tries * 0x9e3779b9u;
		snprintf(tmp, sizeof(tmp), "tmp-%d-%08x", (int)getpid(), rnd);
		fd = openat(k->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = kcache_write_all(fd, elf, len);
	if (!r)
		r = kcache_write_all(fd, (const uint8_t *)&t, sizeof(t));
	/* Durable before visible: a crash leaves a whole entry or none. */
	if (!r && fsync(fd))
		r = -errno;
	if (!r && renameat(k->dirfd, tmp, k->dirfd, k->name))
		r = -errno;
	if (r) {
		unlinkat(k->dirfd, tmp, 0);
		close(fd);
		return r;
	}
	fsync(k->dirfd);
	/* The same inode, read-only: the loader has no business writing it. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ro = open(self, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return fd;
	close(fd);
	return ro;
}

/* kcache_memfd: the ELF in a sealed memfd (no cache). Returns the fd or -errno. */
static int kcache_memfd(const uint8_t *elf, size_t len)
{
	int fd = memfd_create("ringvm-vmlinux", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	r = kcache_write_all(fd, elf, len);
	/* Sealed: the bytes checked are the bytes booted. */
	if (!r && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* kcache_prefix: put "PATH: " before the message kimage left in `err`. */
static int kcache_prefix(struct rv_err *err, const char *path, int r)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	snprintf(err->msg, sizeof(err->msg), "%s: %.*s", path,
	    (int)(sizeof(err->msg) > strlen(path) + 3 ? sizeof(err->msg) - strlen(path) - 3 : 0), msg);
	return r;
}

/*
 * kcache_unpack: unpack the payload and hand it over: stored in the cache
 * when k->dirfd is open (res->how is MISS or REBUILT, as the caller set
 * it), else, or when storing fails, in a memfd (res->how UNUSABLE).
 */
static int kcache_unpack(struct kcache_run *k, struct kcache_result *res, struct rv_err *err)
{
	uint64_t max_bytes = k->o->max_bytes ? k->o->max_bytes : KCACHE_MAX_BYTES;
	unsigned max_entries = k->o->max_entries ? k->o->max_entries : KCACHE_MAX_ENTRIES;
	uint8_t *elf;
	size_t len;
	int fd = -1, r;

	r = kimage_unpack(&k->payload, k->o->max_out ? k->o->max_out : KIMAGE_MAX_OUT, &elf,
	    &len, err);
	if (r)
		return kcache_prefix(err, k->path, r);
	if (max_entries > KCACHE_SCAN_MAX)
		max_entries = KCACHE_SCAN_MAX;
	if (k->dirfd >= 0 && len + sizeof(struct kcache_trailer) > max_bytes) {
		log_warnx("kernel cache: %s unpacks to %zu bytes, more than the cache holds: "
		    "not cached", k->path, len);
	} else if (k->dirfd >= 0) {
		fd = kcache_store(k, elf, len);
		if (fd < 0) {
			errno = -fd;
			log_warn("kernel cache: cannot store %s", k->name);
		}
	}
	if (fd >= 0) {
		kcache_evict_run(k->dirfd, kcache_evict_is_entry, k->name, max_entries, max_bytes);
	} else {
		if (res->how != KCACHE_OFF)
			res->how = KCACHE_UNUSABLE;
		fd = kcache_memfd(elf, len);
	}
	kimage_free(elf, len);
	if (fd < 0)
		return rv_fail(err, RV_EXIT_FAILURE, -fd, "%s: cannot hold the unpacked kernel",
		    k->path);
	res->fd = fd;
	res->size = len;
	return 0;
}

/* kcache_set_key: k->key and the entry name it gives. */
static void kcache_set_key(struct kcache_run *k, const uint8_t key[32])
{
	memcpy(k->key, key, sizeof(k->key));
	for (int i = 0; i < 32; i++)
		snprintf(k->name + 2 * i, 3, "%02x", key[i]);
	memcpy(k->name + 64, ".elf", 5);
}

/*
 * kcache_hash_fd: SHA-256 of the `len` bytes of `fd`, read in chunks into
 * one small buffer: no mapping of a file that might shrink under it
 * (SIGBUS), no 8 MB of fresh memory to fault in on a hit. Returns 0 or
 * -errno.
 */
static int kcache_hash_fd(int fd, uint64_t len, uint8_t key[32])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	uint8_t *buf = malloc(KCACHE_HASH_CHUNK);
	uint64_t done = 0;
	gsize klen = 32;
	int r = -ENOMEM;

	if (!c || !buf)
		goto out;
	while (done < len) {
		size_t want = len - done < KCACHE_HASH_CHUNK ? (size_t)(len - done) : KCACHE_HASH_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		g_checksum_update(c, buf, (gssize)n);
		done += (uint64_t)n;
	}
	g_checksum_get_digest(c, key, &klen);
	r = klen == 32 ? 0 : -EIO;
out:
	free(buf);
	if (c)
		g_checksum_free(c);
	return r;
}

/* kcache_sha256: SHA-256 of `len` bytes in memory (at most KIMAGE_MAX_FILE). */
static void kcache_sha256(const uint8_t *p, size_t len, uint8_t key[32])
{
	/* GLib aborts rather than return NULL when it has no memory. */
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	gsize klen = 32;

	g_checksum_update(c, p, (gssize)len);
	g_checksum_get_digest(c, key, &klen);
	g_checksum_free(c);
}

/*
 * kcache_miss: read the bzImage once into private memory, check it, and
 * unpack that copy. The key is taken again from the same copy, so the
 * entry holds exactly what its name says even if the file changed since
 * it was hashed for the lookup: someone who can write the file the user
 * boots must not be able to have it hashed as a trusted kernel and
 * unpacked as another, and so plant that one under the trusted key.
 */
static int kcache_miss(struct kcache_run *k, int bz_fd, uint64_t size,
    struct kcache_result *res, struct rv_err *err)
{
	uint8_t key[32];
	uint8_t *copy;
	int r;

	copy = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return rv_fail(err, RV_EXIT_FAILURE, errno, "%s: no memory to read it", k->path);
	r = kcache_read_all(bz_fd, copy, (size_t)size);
	if (r) {
		rv_fail(err, RV_EXIT_BADFILE, -r, "%s: cannot read it", k->path);
		goto out;
	}
	k->bz = copy;
	k->bz_len = (size_t)size;
	r = kimage_payload(k->bz, k->bz_len, &k->payload, err);
	if (r) {
		kcache_prefix(err, k->path, r);
		goto out;
	}
	if (k->dirfd >= 0) {
		kcache_sha256(copy, (size_t)size, key);
		kcache_set_key(k, key);
	}
	r = kcache_unpack(k, res, err);
out:
	munmap(copy, (size_t)size);
	return r;
}

int kcache_kernel_fd(const char *path, int bz_fd, const struct kcache_opts *o,
    struct kcache_result *res, struct rv_err *err)
{
	struct kcache_run k = { .path = path, .o = o, .dirfd = -1 };
	char dir[4096] = "(unset)";
	const char *why = NULL;
	int dir_err = 0;	/* -errno of the cache directory, said once the kernel unpacked */
	uint8_t key[32];
	struct stat st;
	int r;

	res->fd = -1;
	res->how = o->off ? KCACHE_OFF : KCACHE_MISS;
	if (fstat(bz_fd, &st))
		return rv_fail(err, RV_EXIT_BADFILE, errno, "%s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > KIMAGE_MAX_FILE)
		return rv_fail(err, RV_EXIT_BADFILE, EFBIG,
		    "%s: not a regular file of at most %llu MiB", path, KIMAGE_MAX_FILE >> 20);
	if (!st.st_size)
		return rv_fail(err, RV_EXIT_BADFILE, ENOEXEC, "%s: empty file", path);
	if (!o->off) {
		k.dirfd = kcache_open_dir(o, dir, sizeof(dir), &why);
		if (k.dirfd < 0) {
			dir_err = k.dirfd;
			res->how = KCACHE_UNUSABLE;
		}
	}
	/*
	 * A hit needs only the key: the entry was checked when it was made
	 * (from a copy whose hash is its name) and is checked again now; the
	 * file's bytes go nowhere else.
	 */
	if (k.dirfd >= 0) {
		/* The memo spares the hash when this version of the file was hashed before. */
		bool memo = kcache_memo_get(k.dirfd, &st, key);

		if (!memo && (r = kcache_hash_fd(bz_fd, (uint64_t)st.st_size, key))) {
			r = rv_fail(err, RV_EXIT_BADFILE, -r, "%s: cannot read it", path);
			goto out;
		}
		kcache_set_key(&k, key);
		r = kcache_lookup(&k, res);
		if (r > 0) {
			if (!memo)
				kcache_memo_put(k.dirfd, &st, key, o->memo_now ? 0 : KCACHE_MEMO_SETTLE_S);
			r = 0;
			goto out;
		}
		res->how = r < 0 ? KCACHE_REBUILT : KCACHE_MISS;
	}
	r = kcache_miss(&k, bz_fd, (uint64_t)st.st_size, res, err);
	/*
	 * Said only once the kernel did unpack: a bzImage that holds no ELF
	 * (the tiny test guest) boots as a bzImage, and the cache is not its
	 * business.
	 */
	if (!r && dir_err) {
		bool sys = !strncmp(why, "cannot", 6);

		log_warnx("kernel cache %s not used: %s%s%s; unpacked %s in memory", dir, why,
		    sys ? ": " : "", sys ? strerror(-dir_err) : "", path);
	}
out:
	if (k.dirfd >= 0)
		close(k.dirfd);
	return r;
}
