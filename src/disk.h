/*
 * disk.h: a disk image behind the disk I/O engine (disk_io.h): raw, or a
 * snapshot (a read-only base under a throwaway overlay, disk_cow.h).
 *
 * Requests name guest memory directly (iovecs from the virtqueue walker);
 * completions arrive in the loop through the engine and are handed to the
 * owner's callback, once per request, with the request's tag.
 */
#ifndef RINGVM_DISK_H
#define RINGVM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "disk_cow.h"
#include "disk_io.h"

#define DISK_MAX_IOV DISK_COW_IOV_MAX	/* segments per request, at most */

/* How the image is used. */
enum disk_mode {
	DISK_RW,		/* read and written */
	DISK_RO,		/* read only; writes fail with -EROFS */
	DISK_SNAPSHOT,		/* read only; the guest's writes go to an overlay */
};

struct disk {
	struct disk_file img;		/* the image (a snapshot's base) */
	enum disk_mode mode;
	uint64_t size;			/* bytes, a multiple of 512 */
	struct disk_io io;
	struct disk_cow *cow;		/* a snapshot's overlay, else NULL */
};

/*
 * disk_open: open `path` as an image for `mode` (read-only unless DISK_RW;
 * a snapshot also gets its overlay, disk_cow_open). Errors come back as
 * -errno with a one-line reason in `err`, to follow "disk 'PATH' ": not a
 * regular file, empty, a size that is not a multiple of 512, read-only file
 * opened read-write, and the overlay's own reasons.
 */
int disk_open(struct disk *d, const char *path, enum disk_mode mode, char *err, size_t errlen);

/*
 * disk_start: set up the engine for `depth` requests in flight and watch
 * completions on loop `ev`: `done` for each, `drained` after each batch.
 * Returns 0 or -errno.
 */
int disk_start(struct disk *d, struct ev_loop *ev, enum disk_engine engine, unsigned depth,
    disk_done_fn *done, disk_drained_fn *drained, void *owner);

/*
 * disk_readv, disk_writev, disk_flush, disk_discard, disk_zero: queue one
 * request. At most `depth` may be outstanding; the caller counts. `iov`
 * holds at most DISK_MAX_IOV segments and must stay valid until `done`,
 * which fires once per request with its total (bytes for reads and
 * writes, 0 for the others) or -errno. The request starts by disk_submit().
 * Return 0 or -errno (nothing queued). On a snapshot disk, discard and
 * write-zeroes both punch a hole in the overlay: the range reads as zeros.
 */
int disk_readv(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_writev(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_flush(struct disk *d, uint64_t tag);
int disk_discard(struct disk *d, uint64_t tag, uint64_t off, uint64_t len);
int disk_zero(struct disk *d, uint64_t tag, uint64_t off, uint64_t len, bool unmap);

/* disk_submit: start every queued request (disk_io_submit: retried on a timer when refused). */
void disk_submit(struct disk *d);

/*
 * disk_close: wait for what is in flight, fdatasync a read-write image
 * (the durability promise), close. A snapshot's overlay is closed without
 * a flush: nothing can read it afterwards. Returns 0, or -errno when the
 * final fdatasync or close failed: what the guest wrote may not be on the
 * disk.
 */
int disk_close(struct disk *d);

/*
 * disk_release: close a disk that was opened and never started, without a
 * flush (nothing was written): for a check that only looks at the image.
 */
void disk_release(struct disk *d);

#endif
