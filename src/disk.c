/*
 * disk.c: raw images and their I/O engines (io_uring, or synchronous for
 * comparison). Reads and writes go straight between the file and guest
 * memory; no request is ever copied through a host buffer.
 *
 * Exported (contracts in disk.h): disk_open, disk_start, disk_readv,
 * disk_writev, disk_flush, disk_discard, disk_zero, disk_submit, disk_close.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "disk.h"
#include "log.h"

int disk_open(struct disk *d, const char *path, bool ro, char *err, size_t errlen)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->efd = -1;
	d->ro = ro;
	/* O_NONBLOCK: opening a FIFO read-only would otherwise wait for a writer. */
	d->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (d->fd < 0) {
		int e = errno;

		if (!ro && (e == EROFS || e == EACCES || e == EPERM))
			snprintf(err, errlen, "is read-only (%s); add ,ro", strerror(e));
		else
			snprintf(err, errlen, "cannot be opened: %s", strerror(e));
		return -e;
	}
	if (fstat(d->fd, &st) < 0) {
		snprintf(err, errlen, "cannot be examined: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "is not a regular file");
		goto fail;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "is empty");
		goto fail;
	}
	/* The guest sees whole sectors; a partial one would be unreachable or overrun. */
	if (st.st_size % 512) {
		snprintf(err, errlen, "has %" PRIu64 " bytes, not a multiple of 512",
		    (uint64_t)st.st_size);
		goto fail;
	}
	if (fcntl(d->fd, F_SETFL, 0) < 0) {
		snprintf(err, errlen, "cannot be set to blocking I/O: %s", strerror(errno));
		goto fail;
	}
	d->size = (uint64_t)st.st_size;
	return 0;
fail:
	close(d->fd);
	d->fd = -1;
	return -EINVAL;
}

/* disk_on_complete: deliver finished requests of either engine. */
static void disk_on_complete(struct ev_loop *ev, ev_io *w, int revents)
{
	struct disk *d = w->data;
	struct io_uring_cqe *cqe;
	uint64_t n;

	(void)ev;
	(void)revents;
	if (read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	/* Requests finished in the loop thread (the sync engine, cache hits). */
	if (d->sync_n) {
		unsigned count = d->sync_n;

		d->sync_n = 0;
		for (unsigned i = 0; i < count; i++) {
			d->inflight--;
			d->done(d->owner, d->sync_tag[i], d->sync_res[i]);
		}
	}
	if (d->engine == DISK_SYNC) {
		d->drained(d->owner);
		return;
	}
	while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&d->ring, cqe);
		d->inflight--;
		d->done(d->owner, tag, res);
	}
	d->drained(d->owner);
}

static void disk_on_retry(struct ev_loop *ev, ev_timer *w, int revents);

int disk_start(struct disk *d, struct ev_loop *ev, enum disk_engine engine, unsigned depth,
    disk_done_fn *done, disk_drained_fn *drained, void *owner)
{
	int r;

	if (depth == 0 || depth > DISK_MAX_DEPTH)
		return -EINVAL;
	d->engine = engine;
	d->depth = depth;
	d->done = done;
	d->drained = drained;
	d->owner = owner;
	d->ev = ev;
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0)
		return -errno;
	d->nowait_read = true;
	if (engine == DISK_URING) {
		r = io_uring_queue_init(depth, &d->ring, 0);
		if (r < 0)
			return r;
		d->ring_ready = true;
		r = io_uring_register_eventfd(&d->ring, d->efd);
		if (r < 0)
			return r;
	}
	ev_io_init(&d->watcher, disk_on_complete, d->efd, EV_READ);
	d->watcher.data = d;
	ev_timer_init(&d->retry, disk_on_retry, 0., 0.);
	d->retry.data = d;
	ev_io_start(ev, &d->watcher);
	return 0;
}

/* disk_sync_done: a request finished in the loop thread; deliver it from the watcher. */
static int disk_sync_done(struct disk *d, uint64_t tag, ssize_t res)
{
	uint64_t one = 1;

	if (d->sync_n == DISK_MAX_DEPTH)
		return -EBUSY;
	d->sync_tag[d->sync_n] = tag;
	d->sync_res[d->sync_n] = res < 0 ? -errno : (int)res;
	d->sync_n++;
	d->inflight++;
	/* One wakeup per batch: the watcher delivers every finished request. */
	if (d->sync_n == 1 && write(d->efd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static struct io_uring_sqe *disk_sqe(struct disk *d, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (sqe) {
		io_uring_sqe_set_data64(sqe, tag);
		d->queued++;
		d->inflight++;
	}
	return sqe;
}

/* disk_iov_len: total bytes of an iovec array. */
static size_t disk_iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

int disk_readv(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off)
{
	struct io_uring_sqe *sqe;

	if (d->engine == DISK_SYNC)
		return disk_sync_done(d, tag, preadv(d->fd, iov, n, (off_t)off));
	/*
	 * Page-cache hits first, in the loop thread: RWF_NOWAIT never blocks
	 * (it fails with EAGAIN instead), and it saves the ring round trip
	 * that bench/blk measured. Anything short goes to io_uring whole.
	 */
	if (d->nowait_read) {
		ssize_t r = preadv2(d->fd, iov, n, (off_t)off, RWF_NOWAIT);

		if (r >= 0 && (size_t)r == disk_iov_len(iov, n))
			return disk_sync_done(d, tag, r);
		if (r < 0 && errno == EOPNOTSUPP)
			d->nowait_read = false;	/* this file system cannot; stop asking */
	}
	sqe = disk_sqe(d, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv(sqe, d->fd, iov, (unsigned)n, off);
	return 0;
}

int disk_writev(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off)
{
	struct io_uring_sqe *sqe;

	if (d->ro)
		return -EROFS;
	if (d->engine == DISK_SYNC)
		return disk_sync_done(d, tag, pwritev(d->fd, iov, n, (off_t)off));
	sqe = disk_sqe(d, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_writev(sqe, d->fd, iov, (unsigned)n, off);
	return 0;
}

int disk_flush(struct disk *d, uint64_t tag)
{
	struct io_uring_sqe *sqe;

	if (d->engine == DISK_SYNC)
		return disk_sync_done(d, tag, fdatasync(d->fd));
	sqe = disk_sqe(d, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
	return 0;
}

static int disk_fallocate(struct disk *d, uint64_t tag, int mode, uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe;

	if (d->ro)
		return -EROFS;
	if (d->engine == DISK_SYNC)
		return disk_sync_done(d, tag, fallocate(d->fd, mode, (off_t)off, (off_t)len));
	sqe = disk_sqe(d, tag);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_fallocate(sqe, d->fd, mode, off, len);
	return 0;
}

int disk_discard(struct disk *d, uint64_t tag, uint64_t off, uint64_t len)
{
	return disk_fallocate(d, tag, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

int disk_zero(struct disk *d, uint64_t tag, uint64_t off, uint64_t len, bool unmap)
{
	/* Both read back as zeros; unmap lets the file give the space back. */
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;

	return disk_fallocate(d, tag, mode | FALLOC_FL_KEEP_SIZE, off, len);
}

/* disk_on_retry: the backoff ran out: try the refused submission again. */
static void disk_on_retry(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct disk *d = w->data;

	(void)ev;
	(void)revents;
	disk_submit(d);
}

void disk_submit(struct disk *d)
{
	int r;

	if (d->engine != DISK_URING || !d->queued)
		return;
	r = io_uring_submit(&d->ring);
	if (r >= (int)d->queued) {
		d->queued = 0;
		d->retry_ms = 0;
		return;
	}
	/*
	 * Refused or partly taken: what was not consumed stays in the
	 * submission ring and goes with the next submit. Retry on a timer,
	 * never in a loop.
	 */
	if (r > 0)
		d->queued -= (unsigned)r;
	if (r < 0 && d->submit_failures++ == 0) {
		errno = -r;
		log_warn("disk: io_uring_submit failed; retrying every %d ms at most",
		    DISK_RETRY_MAX_MS);
	}
	d->retry_ms = d->retry_ms ? d->retry_ms * 2 : DISK_RETRY_MIN_MS;
	if (d->retry_ms > DISK_RETRY_MAX_MS)
		d->retry_ms = DISK_RETRY_MAX_MS;
	ev_timer_stop(d->ev, &d->retry);
	ev_timer_set(&d->retry, d->retry_ms / 1000.0, 0.);
	ev_timer_start(d->ev, &d->retry);
}

int disk_close(struct disk *d)
{
	int r = 0;

	if (d->ev && d->efd >= 0) {
		ev_io_stop(d->ev, &d->watcher);
		ev_timer_stop(d->ev, &d->retry);
	}
	if (d->ring_ready) {
		struct io_uring_cqe *cqe;

		/* What is still queued goes now; a refusal is retried for a second at most. */
		for (int tries = 0; d->queued && tries < 100; tries++) {
			int n = io_uring_submit(&d->ring);

			if (n >= (int)d->queued) {
				d->queued = 0;
				break;
			}
			if (n > 0)
				d->queued -= (unsigned)n;
			usleep(10000);
		}
		/*
		 * Reap everything the kernel took: it may still write guest
		 * memory. What it never took will never complete.
		 */
		while (d->inflight > d->sync_n + d->queued && io_uring_wait_cqe(&d->ring, &cqe) == 0) {
			io_uring_cqe_seen(&d->ring, cqe);
			d->inflight--;
		}
		io_uring_queue_exit(&d->ring);
		d->ring_ready = false;
	}
	if (d->fd >= 0) {
		/* The durability promise holds at exit too: what the guest wrote is on disk. */
		if (!d->ro && fdatasync(d->fd) < 0)
			r = -errno;
		/* close reports write-back errors some file systems (NFS) hold until then. */
		if (close(d->fd) < 0 && !r)
			r = -errno;
	}
	if (d->efd >= 0)
		close(d->efd);
	d->fd = d->efd = -1;
	return r;
}
