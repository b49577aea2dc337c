/*
 * kcache_memo.h: the kernel cache's memo of keys. A hit needs the SHA-256
 * of the bzImage (the entry's name), 30-40 ms for Debian's 8 MB kernel;
 * the memo remembers it for one version of one file, named by the file's
 * device and inode and checked against its size, mtime and ctime, so that
 * the next start skips the hash. The kernel sets a file's ctime on every
 * change, and no user can set it back, so a file changed since is hashed
 * again. A file changed less than KCACHE_MEMO_SETTLE_S seconds before it
 * would be memoised is not (a second change within a coarse timestamp's
 * tick would otherwise look unchanged), as git treats "racily clean" files.
 */
#ifndef RINGVM_KCACHE_MEMO_H
#define RINGVM_KCACHE_MEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define KCACHE_MEMO_SETTLE_S 2		/* a file changed this recently is not memoised */
#define KCACHE_MEMO_MAX 64		/* memos kept; the least recently used go */

/*
 * kcache_memo_get: the key memoised in the cache directory `dirfd` for
 * the file whose fstat is `st`. Returns true with `key` filled when a
 * whole memo (its own checksum holds) matches every field; false otherwise.
 */
bool kcache_memo_get(int dirfd, const struct stat *st, uint8_t key[32]);

/*
 * kcache_memo_put: remember `key` for `st` (a temporary file renamed into
 * place), unless the file changed within `settle_s` seconds of now
 * (KCACHE_MEMO_SETTLE_S; the tests pass 0 for files they just made); then
 * keep at most KCACHE_MEMO_MAX memos. Best effort: a memo that cannot be
 * written costs the next start a hash, nothing else.
 */
void kcache_memo_put(int dirfd, const struct stat *st, const uint8_t key[32], int settle_s);

/* kcache_memo_is_memo: whether a directory entry's name is a memo's. */
bool kcache_memo_is_memo(const char *name);

#endif
