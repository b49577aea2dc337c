/*
 * disk.h: a raw disk image and its asynchronous I/O engine.
 *
 * Requests name guest memory directly (iovecs from the virtqueue walker);
 * completions arrive in the loop through an eventfd watcher and are handed
 * to the owner's callback. The io_uring engine is the default; the "sync"
 * engine runs each request at once in the loop thread and exists so the
 * benchmark can show what io_uring buys.
 */
#ifndef RINGVM_DISK_H
#define RINGVM_DISK_H

#include <ev.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_MAX_DEPTH 128	/* requests in flight per disk, at most */
#define DISK_RETRY_MIN_MS 1	/* a refused submission is retried after this, */
#define DISK_RETRY_MAX_MS 100	/* doubling up to this */

enum disk_engine { DISK_URING, DISK_SYNC };

/* disk_done_fn: request `tag` finished with `res` (bytes, or -errno). */
typedef void disk_done_fn(void *owner, uint64_t tag, int res);
/* disk_drained_fn: a batch of completions was delivered (interrupt the guest once). */
typedef void disk_drained_fn(void *owner);

struct disk {
	int fd;
	bool ro;
	uint64_t size;			/* bytes, a multiple of 512 */
	enum disk_engine engine;
	unsigned depth;
	int efd;			/* completion eventfd */
	ev_io watcher;
	struct ev_loop *ev;
	struct io_uring ring;
	bool ring_ready;
	unsigned queued;		/* SQEs prepared, not yet submitted */
	ev_timer retry;			/* resubmits what the kernel refused */
	unsigned retry_ms;		/* its current backoff, 0 when idle */
	unsigned long submit_failures;	/* io_uring_submit errors, logged once */
	unsigned inflight;		/* queued or running, not yet delivered */
	disk_done_fn *done;
	disk_drained_fn *drained;
	void *owner;
	/* the sync engine's finished requests, delivered from the watcher */
	uint64_t sync_tag[DISK_MAX_DEPTH];
	int sync_res[DISK_MAX_DEPTH];
	unsigned sync_n;
	bool nowait_read;		/* try page-cache reads inline (RWF_NOWAIT) */
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
 * request. At most `depth` may be outstanding; the caller counts. The
 * request starts by disk_submit(). Return 0 or -errno (nothing queued).
 */
int disk_readv(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_writev(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off);
int disk_flush(struct disk *d, uint64_t tag);
int disk_discard(struct disk *d, uint64_t tag, uint64_t off, uint64_t len);
int disk_zero(struct disk *d, uint64_t tag, uint64_t off, uint64_t len, bool unmap);

/*
 * disk_submit: start every queued request. When the kernel refuses (memory
 * pressure, a full completion queue), the requests stay queued and a timer
 * retries with a backoff from DISK_RETRY_MIN_MS to DISK_RETRY_MAX_MS, so
 * the queue never hangs and the loop never spins; the first failure is
 * logged.
 */
void disk_submit(struct disk *d);

/*
 * disk_close: wait for what is in flight, fdatasync (the durability
 * promise), close. Returns 0, or -errno when the final fdatasync or close
 * failed: what the guest wrote may not be on the disk.
 */
int disk_close(struct disk *d);

#endif
