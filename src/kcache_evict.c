/*
 * kcache_evict.c: the kernel cache's size bound (kcache_evict.h). One pass
 * reads the directory, keeps the KCACHE_SCAN_MAX most recent entries in a
 * table (anything older goes at once), sorts them newest first and unlinks
 * from the first one past the bounds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcache.h"
#include "kcache_evict.h"

struct kcache_evict_ent {
	char name[KCACHE_EVICT_NAME_LEN + 1];
	struct timespec mtime;
	uint64_t size;
};

struct kcache_evict_scan {
	struct kcache_evict_ent ent[KCACHE_SCAN_MAX];
	unsigned n;
	int removed;
};

bool kcache_evict_is_entry(const char *name)
{
	if (strlen(name) != KCACHE_EVICT_NAME_LEN || strcmp(name + 64, ".elf"))
		return false;
	for (int i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", name[i]) || !name[i])
			return false;
	return true;
}

/* Newer first; the name breaks ties so every process orders alike. */
static int kcache_evict_cmp(const void *a, const void *b)
{
	const struct kcache_evict_ent *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void kcache_evict_unlink(int dirfd, const char *name, struct kcache_evict_scan *s)
{
	/* ENOENT: another ringvm evicted or replaced it first. */
	if (!unlinkat(dirfd, name, 0))
		s->removed++;
}

/* kcache_evict_add: record one entry; with the table full, drop the oldest of all. */
static void kcache_evict_add(int dirfd, struct kcache_evict_scan *s,
    const struct kcache_evict_ent *e)
{
	unsigned oldest = 0;

	if (s->n < KCACHE_SCAN_MAX) {
		s->ent[s->n++] = *e;
		return;
	}
	for (unsigned i = 1; i < s->n; i++)
		if (kcache_evict_cmp(&s->ent[i], &s->ent[oldest]) > 0)
			oldest = i;
	if (kcache_evict_cmp(e, &s->ent[oldest]) > 0) {
		kcache_evict_unlink(dirfd, e->name, s);
		return;
	}
	kcache_evict_unlink(dirfd, s->ent[oldest].name, s);
	s->ent[oldest] = *e;
}

int kcache_evict_run(int dirfd, kcache_evict_member_fn *member, const char *keep,
    unsigned max_entries, uint64_t max_bytes)
{
	struct kcache_evict_scan *s;
	struct dirent *de;
	unsigned count = 0;
	uint64_t bytes = 0;
	bool full = false;
	time_t now = time(NULL);
	DIR *d;
	int fd, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		free(s);
		return r;
	}
	while ((de = readdir(d))) {
		struct kcache_evict_ent e;
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		/* A temporary file an hour old belongs to a ringvm that died writing it. */
		if (!strncmp(de->d_name, "tmp-", 4)) {
			if (st.st_mtime + KCACHE_TMP_AGE_S < now)
				kcache_evict_unlink(dirfd, de->d_name, s);
			continue;
		}
		if (!member(de->d_name) || strlen(de->d_name) > KCACHE_EVICT_NAME_LEN ||
		    (keep && !strcmp(de->d_name, keep)))
			continue;
		memcpy(e.name, de->d_name, sizeof(e.name));
		e.mtime = st.st_mtim;
		e.size = (uint64_t)st.st_size;
		kcache_evict_add(dirfd, s, &e);
	}
	closedir(d);
	if (keep) {
		struct stat st;

		if (!fstatat(dirfd, keep, &st, AT_SYMLINK_NOFOLLOW)) {
			count = 1;
			bytes = (uint64_t)st.st_size;
		}
	}
	/* Least recently used: keep the newest that fit, and nothing older than the first that does not. */
	qsort(s->ent, s->n, sizeof(s->ent[0]), kcache_evict_cmp);
	for (unsigned i = 0; i < s->n; i++) {
		if (!full && (count + 1 > max_entries || bytes + s->ent[i].size > max_bytes))
			full = true;
		if (full) {
			kcache_evict_unlink(dirfd, s->ent[i].name, s);
			continue;
		}
		count++;
		bytes += s->ent[i].size;
	}
	r = s->removed;
	free(s);
	return r;
}
