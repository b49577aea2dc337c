/*
 * disk_io.c: the disk I/O engine (io_uring, or synchronous for comparison).
 * Reads and writes go straight between the file and the caller's iovecs
 * (guest memory); nothing is copied through a host buffer.
 *
 * Exported (contracts in disk_io.h): disk_file_init, disk_io_init,
 * disk_io_start, disk_io_readv, disk_io_writev, disk_io_fdatasync,
 * disk_io_fallocate, disk_io_submit, disk_io_stop.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "disk_io.h"
#include "log.h"

void disk_file_init(struct disk_file *f, int fd)
{
	f->fd = fd;
	f->nowait_read = true;
}

void disk_io_init(struct disk_io *io)
{
	memset(io, 0, sizeof(*io));
	io->efd = -1;
}

/* disk_io_deliver_sync: hand over what finished in the loop thread. */
static void disk_io_deliver_sync(struct disk_io *io)
{
	uint64_t tag[DISK_MAX_DEPTH];
	int res[DISK_MAX_DEPTH];
	unsigned count = io->sync_n;

	/*
	 * Copied out first: an owner's `done` may queue the next operation
	 * (a snapshot read's next run), which lands in the emptied list and
	 * is delivered on the next wakeup, never overwriting this batch.
	 */
	memcpy(tag, io->sync_tag, count * sizeof(tag[0]));
	memcpy(res, io->sync_res, count * sizeof(res[0]));
	io->sync_n = 0;
	for (unsigned i = 0; i < count; i++) {
		io->inflight--;
		io->done(io->owner, tag[i], res[i]);
	}
}

/* disk_io_on_complete: deliver finished operations of either engine. */
static void disk_io_on_complete(struct ev_loop *ev, ev_io *w, int revents)
{
	struct disk_io *io = w->data;
	struct io_uring_cqe *cqe;
	uint64_t n;

	(void)ev;
	(void)revents;
	if (read(io->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	/* Operations finished in the loop thread (the sync engine, cache hits). */
	if (io->sync_n)
		disk_io_deliver_sync(io);
	if (io->engine == DISK_URING) {
		while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&io->ring, cqe);
			io->inflight--;
			io->done(io->owner, tag, res);
		}
	}
	io->drained(io->owner);
}

static void disk_io_on_retry(struct ev_loop *ev, ev_timer *w, int revents);

int disk_io_start(struct disk_io *io, struct ev_loop *ev, enum disk_engine engine,
    unsigned depth, disk_done_fn *done, disk_drained_fn *drained, void *owner)
{
	int r;

	if (depth == 0 || depth > DISK_MAX_DEPTH)
		return -EINVAL;
	io->engine = engine;
	io->depth = depth;
	io->done = done;
	io->drained = drained;
	io->owner = owner;
	io->ev = ev;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0)
		return -errno;
	if (engine == DISK_URING) {
		r = io_uring_queue_init(depth, &io->ring, 0);
		if (r < 0)
			return r;
		io->ring_ready = true;
		r = io_uring_register_eventfd(&io->ring, io->efd);
		if (r < 0)
			return r;
	}
	ev_io_init(&io->watcher, disk_io_on_complete, io->efd, EV_READ);
	io->watcher.data = io;
	ev_timer_init(&io->retry, disk_io_on_retry, 0., 0.);
	io->retry.data = io;
	ev_io_start(ev, &io->watcher);
	return 0;
}

/* disk_io_sync_done: an operation finished in the loop thread; deliver it from the watcher. */
static int disk_io_sync_done(struct disk_io *io, uint64_t tag, ssize_t res)
{
	uint64_t one = 1;

	if (io->sync_n == DISK_MAX_DEPTH)
		return -EBUSY;
	io->sync_tag[io->sync_n] = tag;
	io->sync_res[io->sync_n] = res < 0 ? -errno : (int)res;
	io->sync_n++;
	io->inflight++;
	/* One wakeup per batch: the watcher delivers every finished operation. */
	if (io->sync_n == 1 && write(io->efd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static struct io_uring_sqe *disk_io_sqe(struct disk_io *io, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (sqe) {
		io_uring_sqe_set_data64(sqe, tag);
		io->queued++;
		io->inflight++;
	}
	return sqe;
}

/* disk_io_iov_len: total bytes of an iovec array. */
static size_t disk_io_iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

int disk_io_readv(struct disk_io *io, struct disk_file *f, uint64_t tag, const struct iovec *iov,
    int n, uint64_t off)
{
	struct io_uring_sqe *sqe;

	if (io->engine == DISK_SYNC)
		return disk_io_sync_done(io, tag, preadv(f->fd, iov, n, (off_t)off));
	/*
	 * Page-cache hits first, in the loop thread: RWF_NOWAIT never blocks
	 * (it fails with EAGAIN instead), and it saves the ring round trip
	 * that bench/blk measured. Anything short goes to io_uring whole.
	 */
	if (f->nowait_read) {
		ssize_t r = preadv2(f->fd, iov, n, (off_t)off, RWF_NOWAIT);

		if (r >= 0 && (size_t)r == disk_io_iov_len(iov, n))
			return disk_io_sync_done(io, tag, r);
		if (r < 0 && errno == EOPNOTSUPP)
			f->nowait_read = false;	/* this file system cannot; stop asking */
	}
	sqe = disk_io_sqe(io, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv(sqe, f->fd, iov, (unsigned)n, off);
	return 0;
}

int disk_io_writev(struct disk_io *io, struct disk_file *f, uint64_t tag, const struct iovec *iov,
    int n, uint64_t off)
{
	struct io_uring_sqe *sqe;

	if (io->engine == DISK_SYNC)
		return disk_io_sync_done(io, tag, pwritev(f->fd, iov, n, (off_t)off));
	sqe = disk_io_sqe(io, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_writev(sqe, f->fd, iov, (unsigned)n, off);
	return 0;
}

int disk_io_fdatasync(struct disk_io *io, struct disk_file *f, uint64_t tag)
{
	struct io_uring_sqe *sqe;

	if (io->engine == DISK_SYNC)
		return disk_io_sync_done(io, tag, fdatasync(f->fd));
	sqe = disk_io_sqe(io, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
	return 0;
}

int disk_io_fallocate(struct disk_io *io, struct disk_file *f, uint64_t tag, int mode,
    uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe;

	if (io->engine == DISK_SYNC)
		return disk_io_sync_done(io, tag, fallocate(f->fd, mode, (off_t)off, (off_t)len));
	sqe = disk_io_sqe(io, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_fallocate(sqe, f->fd, mode, off, len);
	return 0;
}

/* disk_io_on_retry: the backoff ran out: try the refused submission again. */
static void disk_io_on_retry(struct ev_loop *ev, ev_timer *w, int revents)
{
	(void)ev;
	(void)revents;
	disk_io_submit(w->data);
}

void disk_io_submit(struct disk_io *io)
{
	int r;

	if (io->engine != DISK_URING || !io->queued)
		return;
	r = io_uring_submit(&io->ring);
	if (r >= (int)io->queued) {
		io->queued = 0;
		io->retry_ms = 0;
		return;
	}
	/*
	 * Refused or partly taken: what was not consumed stays in the
	 * submission ring and goes with the next submit. Retry on a timer,
	 * never in a loop.
	 */
	if (r > 0)
		io->queued -= (unsigned)r;
	if (r < 0 && io->submit_failures++ == 0) {
		errno = -r;
		log_warn("disk: io_uring_submit failed; retrying every %d ms at most",
		    DISK_RETRY_MAX_MS);
	}
	io->retry_ms = io->retry_ms ? io->retry_ms * 2 : DISK_RETRY_MIN_MS;
	if (io->retry_ms > DISK_RETRY_MAX_MS)
		io->retry_ms = DISK_RETRY_MAX_MS;
	ev_timer_stop(io->ev, &io->retry);
	ev_timer_set(&io->retry, io->retry_ms / 1000.0, 0.);
	ev_timer_start(io->ev, &io->retry);
}

void disk_io_stop(struct disk_io *io)
{
	if (io->ev && io->efd >= 0) {
		ev_io_stop(io->ev, &io->watcher);
		ev_timer_stop(io->ev, &io->retry);
	}
	if (io->ring_ready) {
		struct io_uring_cqe *cqe;

		/* What is still queued goes now; a refusal is retried for a second at most. */
		for (int tries = 0; io->queued && tries < 100; tries++) {
			int n = io_uring_submit(&io->ring);

			if (n >= (int)io->queued) {
				io->queued = 0;
				break;
			}
			if (n > 0)
				io->queued -= (unsigned)n;
			usleep(10000);
		}
		/*
		 * Reap everything the kernel took: it may still write guest
		 * memory. What it never took will never complete.
		 */
		while (io->inflight > io->sync_n + io->queued &&
		    io_uring_wait_cqe(&io->ring, &cqe) == 0) {
			io_uring_cqe_seen(&io->ring, cqe);
			io->inflight--;
		}
		io_uring_queue_exit(&io->ring);
		io->ring_ready = false;
	}
	if (io->efd >= 0)
		close(io->efd);
	io->efd = -1;
	io->ev = NULL;
}
