/*
 * cpio.h: a writer of "newc" cpio archives (the initramfs format) into a
 * growable memory buffer with a hard size cap.
 *
 * The archive is reproducible: every entry has uid 0, gid 0, mtime 0 and the
 * permission bits the caller names (never the host file's), and inode
 * numbers count up from 1 in the order entries are added. The finished
 * archive ends with the TRAILER!!! entry and is zero-padded to a multiple of
 * 512 bytes, so it can follow or precede another archive: the kernel skips
 * zeros between concatenated archives, and for a name present in both the
 * later archive wins.
 *
 * Names are relative ("init", "lib/modules"), as the kernel's unpacker
 * expects: no leading '/', no empty, "." or ".." component, at most
 * CPIO_NAME_MAX bytes. The kernel creates entries in archive order and does
 * not create missing parents, so add a directory before what it holds.
 * Reference: the "New ASCII Format" in cpio(5) (libarchive) and the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst.
 */
#ifndef RINGVM_CPIO_H
#define RINGVM_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPIO_NAME_MAX 4095	/* bytes in a name, without its NUL (PATH_MAX - 1) */
#define CPIO_BLOCK 512		/* the finished archive is a multiple of this */

struct cpio {
	uint8_t *buf;		/* the archive so far (NULL until the first entry) */
	size_t len;		/* bytes of buf in use */
	size_t alloc;		/* bytes of buf allocated */
	size_t max_len;		/* the caller's cap on the finished archive, padding included */
	uint32_t next_ino;	/* the next entry's inode number */
	bool finished;		/* cpio_finish ran: no more entries */
};

/*
 * cpio_init: start an empty archive whose finished size, trailer and padding
 * included, will never exceed `max_len` bytes. Allocates nothing.
 */
void cpio_init(struct cpio *c, size_t max_len);

/*
 * cpio_add_dir: add directory `name` with permission bits `perm` (<= 07777).
 * Every cpio_add_* returns 0, or -errno with a one-line reason in `err`:
 *   -EINVAL  a bad name or perm, or the archive is finished
 *   -EFBIG   the entry would take the finished archive over max_len
 *   -ENOMEM  out of memory
 * and leaves the archive unchanged on failure.
 */
int cpio_add_dir(struct cpio *c, const char *name, unsigned perm, char *err, size_t errlen);

/* cpio_add_data: add regular file `name` holding `len` bytes of `data`. */
int cpio_add_data(struct cpio *c, const char *name, unsigned perm, const void *data,
    size_t len, char *err, size_t errlen);

/*
 * cpio_add_fd: add regular file `name` with the contents of `fd` (a regular
 * file, read from offset 0 with pread; the fd is not closed). The size is
 * checked against the cap before anything is read. Also returns -errno from
 * fstat/pread, and -EINVAL when fd is not a regular file or changed size
 * while it was read.
 */
int cpio_add_fd(struct cpio *c, const char *name, unsigned perm, int fd, char *err,
    size_t errlen);

/* cpio_add_file: cpio_add_fd on the regular file at host path `path`. */
int cpio_add_file(struct cpio *c, const char *name, unsigned perm, const char *path,
    char *err, size_t errlen);

/*
 * cpio_add_symlink: add symbolic link `name` pointing to `target` (any
 * non-empty text of at most CPIO_NAME_MAX bytes; absolute targets are fine).
 */
int cpio_add_symlink(struct cpio *c, const char *name, const char *target, char *err,
    size_t errlen);

/*
 * cpio_finish: append the trailer and pad to CPIO_BLOCK. The archive is then
 * c->buf[0 .. c->len). Cannot fail for lack of room (each add reserved it);
 * returns -EINVAL when already finished, -ENOMEM when out of memory.
 */
int cpio_finish(struct cpio *c, char *err, size_t errlen);

/* cpio_free: release the buffer; the struct may be cpio_init'ed again. */
void cpio_free(struct cpio *c);

#endif
