/*
 * tmptree.h: scratch directory trees for the initramfs tests (test_cpio,
 * test_kmod): make one under $TMPDIR, put files, directories and symlinks
 * in it, and remove it whole. Failures abort the test binary: they are the
 * test machine's, not the code under test's.
 */
#ifndef RINGVM_TMPTREE_H
#define RINGVM_TMPTREE_H

#include <stddef.h>

#define TMPTREE_DIR 512		/* a tree's own path, at most */
#define TMPTREE_PATH 4096	/* a path inside it */

/* tmptree_make: create a fresh directory; its path goes to `dir` (TMPTREE_DIR bytes). */
void tmptree_make(char *dir, const char *tag);

/* tmptree_put: write `len` bytes to dir/rel, creating the parent directories. */
void tmptree_put(const char *dir, const char *rel, const void *data, size_t len);

/* tmptree_puts: tmptree_put of a C string. */
void tmptree_puts(const char *dir, const char *rel, const char *text);

/* tmptree_mkdir: create dir/rel and its parents. */
void tmptree_mkdir(const char *dir, const char *rel);

/* tmptree_symlink: make dir/rel a symlink to `target`, creating the parents. */
void tmptree_symlink(const char *dir, const char *rel, const char *target);

/* tmptree_read: read dir/rel into a malloc'ed buffer (NULL when absent); *len its size. */
void *tmptree_read(const char *dir, const char *rel, size_t *len);

/* tmptree_remove: remove dir and everything below it (symlinks are not followed). */
void tmptree_remove(const char *dir);

#endif
