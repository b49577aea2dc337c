/*
 * disk.h: a raw disk image behind the disk I/O engine (disk_io.h).
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

#include "disk_io.h"

struct disk {
	struct disk_file img;		/* the image */
	bool ro;
	uint64_t size;			/* bytes, a multiple of 512 */
	struct disk_io io;
};

/*
 * disk_open: open `path` as a raw image, read-only when `ro`. Errors come
 * back as -errno with a one-line reason in `err`: not a regular file, empty,
 * a size that is not a multiple of 512, read-only file opened read-write.
 */
int disk_open(struct disk *d, const char *path, bool ro, char *err, size_t errlen);

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
 * must stay valid until `done`. The request starts by disk_submit().
 * Return 0 or -errno (nothing queued).
 */
int disk_readv(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_writev(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_flush(struct disk *d, uint64_t tag);
int disk_discard(struct disk *d, uint64_t tag, uint64_t off, uint64_t len);
int disk_zero(struct disk *d, uint64_t tag, uint64_t off, uint64_t len, bool unmap);

/* disk_submit: start every queued request (disk_io_submit: retried on a timer when refused). */
void disk_submit(struct disk *d);

/*
 * disk_close: wait for what is in flight, fdatasync (the durability
 * promise), close. Returns 0, or -errno when the final fdatasync or close
 * failed: what the guest wrote may not be on the disk.
 */
int disk_close(struct disk *d);

/*
 * disk_release: close a disk that was opened and never started, without a
 * flush (nothing was written): for a check that only looks at the image.
 */
void disk_release(struct disk *d);

#endif
