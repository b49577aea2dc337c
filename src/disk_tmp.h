/*
 * disk_tmp.h: the unlinked, sparse temporary file behind a snapshot disk's
 * overlay.
 */
#ifndef RINGVM_DISK_TMP_H
#define RINGVM_DISK_TMP_H

#include <stddef.h>
#include <stdint.h>

/* disk_tmp_dir: where overlays go: $TMPDIR, or /tmp when it is unset or empty. */
const char *disk_tmp_dir(void);

/*
 * disk_tmp_create: a new read-write file of `size` bytes (a hole) in `dir`
 * that no name reaches: open(O_TMPFILE | O_EXCL) where the file system has
 * it (O_EXCL: it can never be linked in later), else mkstemp and an unlink
 * at once. It must take hole punching (discard and write-zeroes use it).
 * Returns the fd (close-on-exec), or -errno with a one-line reason naming
 * `dir` in `err`.
 */
int disk_tmp_create(const char *dir, uint64_t size, char *err, size_t errlen);

#endif
