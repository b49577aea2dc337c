/*
 * disk_io.h: the disk I/O engine: asynchronous reads, writes, syncs and
 * fallocates on host files, completed in the loop.
 *
 * Each operation names a file and a 64-bit tag; when it finishes, the
 * engine calls its owner's `done` with the tag and the result, from the
 * loop (never from inside the call that queued it), and `drained` after
 * each batch. The io_uring engine is the default; the "sync" engine runs
 * each operation at once in the loop thread and exists so the benchmark can
 * show what io_uring buys. disk.c (a raw image) and disk_cow.c (a snapshot
 * overlay) sit on top; neither knows which engine runs.
 */
#ifndef RINGVM_DISK_IO_H
#define RINGVM_DISK_IO_H

#include <ev.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_MAX_DEPTH 128	/* operations in flight per engine, at most */
#define DISK_RETRY_MIN_MS 1	/* a refused submission is retried after this, */
#define DISK_RETRY_MAX_MS 100	/* doubling up to this */

enum disk_engine { DISK_URING, DISK_SYNC };

/* disk_done_fn: operation `tag` finished with `res` (bytes, or -errno). */
typedef void disk_done_fn(void *owner, uint64_t tag, int res);
/* disk_drained_fn: a batch of completions was delivered (interrupt the guest once). */
typedef void disk_drained_fn(void *owner);

/* One host file the engine reads or writes. */
struct disk_file {
	int fd;
	bool nowait_read;	/* try page-cache reads inline (RWF_NOWAIT) */
};

struct disk_io {
	enum disk_engine engine;
	unsigned depth;
	int efd;			/* completion eventfd, -1 until started */
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
	/* operations finished in the loop thread, delivered from the watcher */
	uint64_t sync_tag[DISK_MAX_DEPTH];
	int sync_res[DISK_MAX_DEPTH];
	unsigned sync_n;
};

/* disk_file_init: a file for the engine (reads try RWF_NOWAIT until the file system refuses). */
void disk_file_init(struct disk_file *f, int fd);

/*
 * disk_io_init: an engine that is not started (disk_io_stop is then a
 * no-op), so an owner can be torn down at any point of its setup.
 */
void disk_io_init(struct disk_io *io);

/*
 * disk_io_start: set up the engine for `depth` operations in flight and
 * watch completions on loop `ev`: `done` for each, `drained` after each
 * batch, both with `owner`. Returns 0 or -errno (-EINVAL for a depth of 0
 * or over DISK_MAX_DEPTH).
 */
int disk_io_start(struct disk_io *io, struct ev_loop *ev, enum disk_engine engine,
    unsigned depth, disk_done_fn *done, disk_drained_fn *drained, void *owner);

/*
 * disk_io_readv, disk_io_writev, disk_io_fdatasync, disk_io_fallocate: queue
 * one operation on `f`. At most `depth` may be outstanding; the caller
 * counts. `iov` must stay valid until `done` (io_uring may read it when the
 * operation starts). The operation starts by disk_io_submit(). Return 0 or
 * -errno (nothing queued). Page-cache hits of a read complete inline
 * (RWF_NOWAIT cannot block) and, like every result, reach `done` from the
 * loop.
 */
int disk_io_readv(struct disk_io *io, struct disk_file *f, uint64_t tag, const struct iovec *iov,
    int n, uint64_t off);
int disk_io_writev(struct disk_io *io, struct disk_file *f, uint64_t tag, const struct iovec *iov,
    int n, uint64_t off);
int disk_io_fdatasync(struct disk_io *io, struct disk_file *f, uint64_t tag);
int disk_io_fallocate(struct disk_io *io, struct disk_file *f, uint64_t tag, int mode,
    uint64_t off, uint64_t len);

/*
 * disk_io_submit: start every queued operation. When the kernel refuses
 * (memory pressure, a full completion queue), the operations stay queued
 * and a timer retries with a backoff from DISK_RETRY_MIN_MS to
 * DISK_RETRY_MAX_MS, so the queue never hangs and the loop never spins; the
 * first failure is logged.
 */
void disk_io_submit(struct disk_io *io);

/*
 * disk_io_stop: stop watching, submit what is queued (retrying for a
 * second at most), wait for every operation the kernel took (it may still
 * write guest memory), and release the ring and the eventfd. Undelivered
 * results are dropped. Safe on an engine that never started.
 */
void disk_io_stop(struct disk_io *io);

#endif
