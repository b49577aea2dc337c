/*
 * kcache_evict.h: keep the kernel cache (kcache.h) within its bounds,
 * least recently used first, and sweep temporary files a crash left.
 */
#ifndef RINGVM_KCACHE_EVICT_H
#define RINGVM_KCACHE_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An entry's file name: 64 hex digits of the key, then ".elf". */
#define KCACHE_EVICT_NAME_LEN (64 + 4)

/*
 * kcache_evict_is_entry: `name` is an entry's file name. Nothing else in
 * the directory is ever removed, except "tmp-*" files older than
 * KCACHE_TMP_AGE_S.
 */
bool kcache_evict_is_entry(const char *name);

/* Which files of the directory a pass bounds: entries, or the key memos. */
typedef bool kcache_evict_member_fn(const char *name);

/*
 * kcache_evict_run: in the cache directory `dirfd`, unlink the files
 * `member` names (kcache_evict_is_entry, kcache_memo_is_memo; names of at
 * most KCACHE_EVICT_NAME_LEN bytes) from the least recently modified on
 * until at most `max_entries` remain and their sizes sum to at most
 * `max_bytes`; `keep` (the file just used, or NULL) counts first and is
 * never removed. Stale temporary files are removed too. Another ringvm
 * doing the same at once is harmless (ENOENT is ignored). Returns the
 * number of files removed, or -errno when the directory cannot be read.
 */
int kcache_evict_run(int dirfd, kcache_evict_member_fn *member, const char *keep,
    unsigned max_entries, uint64_t max_bytes);

#endif
