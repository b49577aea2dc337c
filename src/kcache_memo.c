/*
 * kcache_memo.c: the kernel cache's memo of keys (kcache_memo.h). One
 * small file per kernel file, "id-<dev>-<ino>", holding the file's size,
 * mtime and ctime when it was hashed, its SHA-256 and an XXH3-64 of all
 * that, so a torn or damaged memo is never believed: a wrong key would
 * serve another kernel's entry.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "kcache_evict.h"
#include "kcache_memo.h"

#define KCACHE_MEMO_MAGIC "RVKMEMO1"
#define KCACHE_MEMO_NAME_LEN 37		/* "id-" + 16 + "-" + 16 hex digits, and the NUL */

struct kcache_memo_rec {
	char magic[8];
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint8_t key[32];
	uint64_t check;			/* XXH3-64 of every byte above */
};

static void kcache_memo_name(const struct stat *st, char name[KCACHE_MEMO_NAME_LEN])
{
	snprintf(name, KCACHE_MEMO_NAME_LEN, "id-%016" PRIx64 "-%016" PRIx64,
	    (uint64_t)st->st_dev, (uint64_t)st->st_ino);
}

static void kcache_memo_fill(struct kcache_memo_rec *m, const struct stat *st)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->magic, KCACHE_MEMO_MAGIC, sizeof(m->magic));
	m->dev = (uint64_t)st->st_dev;
	m->ino = (uint64_t)st->st_ino;
	m->size = (uint64_t)st->st_size;
	m->mtime_s = st->st_mtim.tv_sec;
	m->mtime_ns = st->st_mtim.tv_nsec;
	m->ctime_s = st->st_ctim.tv_sec;
	m->ctime_ns = st->st_ctim.tv_nsec;
}

bool kcache_memo_is_memo(const char *name)
{
	return strlen(name) == KCACHE_MEMO_NAME_LEN - 1 && !strncmp(name, "id-", 3);
}

bool kcache_memo_get(int dirfd, const struct stat *st, uint8_t key[32])
{
	char name[KCACHE_MEMO_NAME_LEN];
	struct kcache_memo_rec m, want;
	ssize_t n;
	int fd;

	kcache_memo_name(st, name);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, &m, sizeof(m), 0);
	/* Least recently used: a use touches it (NULL: now). */
	if (n == (ssize_t)sizeof(m))
		futimens(fd, NULL);
	close(fd);
	kcache_memo_fill(&want, st);
	/* Every field of this version of the file, and the memo's own checksum. */
	if (n != (ssize_t)sizeof(m) || XXH3_64bits(&m, offsetof(struct kcache_memo_rec, check)) != m.check ||
	    memcmp(&m, &want, offsetof(struct kcache_memo_rec, key)))
		return false;
	memcpy(key, m.key, 32);
	return true;
}

void kcache_memo_put(int dirfd, const struct stat *st, const uint8_t key[32], int settle_s)
{
	char name[KCACHE_MEMO_NAME_LEN], tmp[64];
	struct kcache_memo_rec m;
	struct timespec now;
	int fd;

	clock_gettime(CLOCK_REALTIME, &now);
	/* Racily clean: changed within the timestamps' tick, a second change could hide. */
	if (now.tv_sec - st->st_ctim.tv_sec < settle_s)
		return;
	kcache_memo_fill(&m, st);
	memcpy(m.key, key, 32);
	m.check = XXH3_64bits(&m, offsetof(struct kcache_memo_rec, check));
	kcache_memo_name(st, name);
	snprintf(tmp, sizeof(tmp), "tmp-%ld-memo-%ld", (long)getpid(), (long)now.tv_nsec);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return;
	}
	if (close(fd) || renameat(dirfd, tmp, dirfd, name)) {
		unlinkat(dirfd, tmp, 0);
		return;
	}
	kcache_evict_run(dirfd, kcache_memo_is_memo, name, KCACHE_MEMO_MAX, UINT64_MAX);
}
