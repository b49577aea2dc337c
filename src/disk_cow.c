/*
 * disk_cow.c: the copy-on-write overlay of a snapshot disk: the cluster
 * map, and each request of the guest turned into operations on the base
 * and the overlay through the I/O engine (disk_io.c).
 *
 *   read     runs of clusters on the same side (overlay or base), one
 *            engine read per run, one run in flight per request; the owner
 *            hears once, with the total
 *   write    the overlay, in one engine write, after the clusters it covers
 *            only in part have been copied up
 *   flush    fdatasync of the overlay (the base is never written)
 *   fill     discard and write-zeroes: a hole punched in the overlay, after
 *            the same copy-ups; the range then reads as zeros
 *
 * Why copy-ups are synchronous: a write that covers a cluster only in part
 * needs the cluster's other bytes from the base in the overlay before its
 * bit may be set. Copying in the loop thread, before the write is queued,
 * makes the copy complete before any later request can look at the bit,
 * so two writes into one fresh cluster can never both copy it (the second
 * copy would overwrite the first write), and no per-cluster wait queue is
 * needed. The cost is bounded: two clusters per request at most (its first
 * and its last), 4 KiB each, one pread and one pwrite apiece; a guest's
 * page-sized, page-aligned writes (what Linux sends) never need one.
 *
 * Exported (contracts in disk_cow.h): disk_cow_open, disk_cow_start,
 * disk_cow_readv, disk_cow_writev, disk_cow_flush, disk_cow_fill,
 * disk_cow_close.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "disk_cow.h"
#include "disk_tmp.h"

#define CL DISK_COW_CLUSTER

enum disk_cow_op { DISK_COW_READ, DISK_COW_WRITE, DISK_COW_FLUSH, DISK_COW_FILL };

int disk_cow_open(struct disk_cow **cowp, struct disk_file *base, uint64_t size, char *err,
    size_t errlen)
{
	struct disk_cow *c;
	int fd;

	*cowp = NULL;
	/* The map grows with the disk: capping the disk caps what the map can cost the host. */
	if (size > DISK_COW_SIZE_MAX) {
		snprintf(err, errlen, "has %" PRIu64 " bytes; a snapshot disk may have at most "
		    "%" PRIu64 " GiB (its overlay map, one bit per 4 KiB, is capped at %u MiB)",
		    size, DISK_COW_SIZE_MAX >> 30, DISK_COW_MAP_MAX >> 20);
		return -EFBIG;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->buf = malloc(CL))) {
		free(c);
		snprintf(err, errlen, "has no memory for its snapshot overlay");
		return -ENOMEM;
	}
	c->base = base;
	c->size = size;
	disk_file_init(&c->overlay, -1);
	/*
	 * Anonymous and MAP_NORESERVE: a page of the map costs memory only
	 * once the guest writes into the 128 MiB of disk it covers.
	 */
	c->map_len = (size_t)((size + CL - 1) / CL + 7) / 8;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->map == MAP_FAILED) {
		int e = errno;

		c->map = NULL;
		snprintf(err, errlen, "has no memory for its snapshot overlay map (%zu bytes): %s",
		    c->map_len, strerror(e));
		disk_cow_close(c);
		return -e;
	}
	fd = disk_tmp_create(disk_tmp_dir(), size, err, errlen);
	if (fd < 0) {
		disk_cow_close(c);
		return fd;
	}
	disk_file_init(&c->overlay, fd);
	*cowp = c;
	return 0;
}

/* disk_cow_in: whether cluster `cl` is in the overlay (cl < the disk's clusters). */
static bool disk_cow_in(const struct disk_cow *c, uint64_t cl)
{
	return c->map[cl / 8] & (1u << (cl % 8));
}

/* disk_cow_cl_end: the byte after cluster `cl` (the disk's last cluster may be short). */
static uint64_t disk_cow_cl_end(const struct disk_cow *c, uint64_t cl)
{
	uint64_t end = (cl + 1) * CL;

	return end < c->size ? end : c->size;
}

/* disk_cow_mark: clusters first..last are in the overlay from now on. */
static void disk_cow_mark(struct disk_cow *c, uint64_t first, uint64_t last)
{
	uint64_t cl = first;

	for (; cl <= last && cl % 8; cl++)
		c->map[cl / 8] |= (uint8_t)(1u << (cl % 8));
	if (cl + 8 <= last + 1) {
		uint64_t bytes = (last + 1 - cl) / 8;

		memset(&c->map[cl / 8], 0xff, (size_t)bytes);
		cl += bytes * 8;
	}
	for (; cl <= last; cl++)
		c->map[cl / 8] |= (uint8_t)(1u << (cl % 8));
}

/* disk_cow_copy_up: copy cluster `cl` from the base into the overlay and mark it. Returns 0 or -errno. */
static int disk_cow_copy_up(struct disk_cow *c, uint64_t cl)
{
	uint64_t start = cl * CL;
	size_t len = (size_t)(disk_cow_cl_end(c, cl) - start);
	ssize_t r;

	r = pread(c->base->fd, c->buf, len, (off_t)start);
	if (r != (ssize_t)len)
		return r < 0 ? -errno : -EIO;	/* the base shrank under us */
	r = pwrite(c->overlay.fd, c->buf, len, (off_t)start);
	if (r != (ssize_t)len)
		return r < 0 ? -errno : -ENOSPC;
	disk_cow_mark(c, cl, cl);
	c->copyups++;
	return 0;
}

/*
 * disk_cow_edges: copy up the clusters at either end of [off, end) that
 * the range covers only in part and the overlay does not hold yet.
 */
static int disk_cow_edges(struct disk_cow *c, uint64_t off, uint64_t end)
{
	uint64_t first = off / CL, last = (end - 1) / CL;
	int r = 0;

	if (!disk_cow_in(c, first) && (off % CL || end < disk_cow_cl_end(c, first)))
		r = disk_cow_copy_up(c, first);
	if (!r && last != first && !disk_cow_in(c, last) && end < disk_cow_cl_end(c, last))
		r = disk_cow_copy_up(c, last);
	return r;
}

/*
 * disk_cow_range_ok: [off, off + len) is non-empty and inside the disk.
 * The owner checks this too; checked again because an index past the map
 * would be a host memory bug, not a guest error.
 */
static bool disk_cow_range_ok(const struct disk_cow *c, uint64_t off, uint64_t len)
{
	uint64_t end;

	return len && !__builtin_add_overflow(off, len, &end) && end <= c->size;
}

/* disk_cow_slot: a free request slot, filled in; its index, or -EBUSY. */
static int disk_cow_slot(struct disk_cow *c, enum disk_cow_op op, uint64_t tag, uint64_t off,
    uint64_t len)
{
	for (unsigned i = 0; i < c->depth; i++) {
		struct disk_cow_req *rq = &c->req[i];

		if (rq->busy)
			continue;
		rq->op = (uint8_t)op;
		rq->tag = tag;
		rq->off = off;
		rq->len = len;
		rq->done_len = rq->run_len = 0;
		rq->iov = NULL;
		rq->n = 0;
		return (int)i;
	}
	return -EBUSY;
}

/* disk_cow_iov_len: total bytes of an iovec array, or UINT64_MAX on overflow. */
static uint64_t disk_cow_iov_len(const struct iovec *iov, int n)
{
	uint64_t len = 0;

	for (int i = 0; i < n; i++)
		if (__builtin_add_overflow(len, iov[i].iov_len, &len))
			return UINT64_MAX;
	return len;
}

/*
 * disk_cow_run_end: the end of the run that starts at `pos`: the bytes up
 * to `end` whose clusters are on the same side as pos's. *in_overlay says
 * which side.
 */
static uint64_t disk_cow_run_end(const struct disk_cow *c, uint64_t pos, uint64_t end,
    bool *in_overlay)
{
	uint64_t cl = pos / CL, last = (end - 1) / CL;
	bool side = disk_cow_in(c, cl);

	*in_overlay = side;
	for (cl++; cl <= last; cl++) {
		/* Eight clusters at a time where a whole map byte agrees. */
		if (cl % 8 == 0 && cl + 7 <= last && c->map[cl / 8] == (side ? 0xff : 0)) {
			cl += 7;
			continue;
		}
		if (disk_cow_in(c, cl) != side)
			return cl * CL;
	}
	return end;
}

/* disk_cow_slice: the iovecs for bytes [from, from + len) of iov[0..n) into `out`; their count. */
static int disk_cow_slice(const struct iovec *iov, int n, uint64_t from, uint64_t len,
    struct iovec *out)
{
	int k = 0;

	for (int i = 0; i < n && len; i++) {
		uint64_t take;

		if (from >= iov[i].iov_len) {
			from -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - from < len ? iov[i].iov_len - from : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + from;
		out[k].iov_len = (size_t)take;
		k++;
		len -= take;
		from = 0;
	}
	return k;
}

/* disk_cow_read_run: queue the next run of read slot `idx`. Returns 0 or -errno. */
static int disk_cow_read_run(struct disk_cow *c, unsigned idx)
{
	struct disk_cow_req *rq = &c->req[idx];
	uint64_t pos = rq->off + rq->done_len;
	const struct iovec *iov = rq->iov;
	int n = rq->n;
	bool overlay;

	rq->run_len = disk_cow_run_end(c, pos, rq->off + rq->len, &overlay) - pos;
	/* One run for the whole request (the usual case) takes the owner's buffers as they are. */
	if (rq->run_len != rq->len) {
		n = disk_cow_slice(rq->iov, rq->n, rq->done_len, rq->run_len, rq->run);
		iov = rq->run;
	}
	return disk_io_readv(c->io, overlay ? &c->overlay : c->base, idx, iov, n, pos);
}

int disk_cow_readv(struct disk_cow *c, uint64_t tag, const struct iovec *iov, int n,
    uint64_t off)
{
	uint64_t len = disk_cow_iov_len(iov, n);
	int idx, r;

	/* The run slices must fit their array, and the total the done callback's int. */
	if (n < 1 || n > DISK_COW_IOV_MAX || len > INT_MAX || !disk_cow_range_ok(c, off, len))
		return -EINVAL;
	idx = disk_cow_slot(c, DISK_COW_READ, tag, off, len);
	if (idx < 0)
		return idx;
	c->req[idx].iov = iov;
	c->req[idx].n = n;
	r = disk_cow_read_run(c, (unsigned)idx);
	if (!r)
		c->req[idx].busy = true;
	return r;
}

int disk_cow_writev(struct disk_cow *c, uint64_t tag, const struct iovec *iov, int n,
    uint64_t off)
{
	uint64_t len = disk_cow_iov_len(iov, n);
	int idx, r;

	if (n < 1 || len > INT_MAX || !disk_cow_range_ok(c, off, len))
		return -EINVAL;
	idx = disk_cow_slot(c, DISK_COW_WRITE, tag, off, len);
	if (idx < 0)
		return idx;
	r = disk_cow_edges(c, off, off + len);
	if (!r)
		r = disk_io_writev(c->io, &c->overlay, (unsigned)idx, iov, n, off);
	if (r)
		return r;
	/*
	 * Marked as soon as the write is queued: a later request into these
	 * clusters must find them in the overlay, or a partial write would
	 * copy the base over this one. A read racing this write may see the
	 * overlay's zeros; a failed write leaves its own range undefined, as
	 * on any disk (the clusters it covers in part hold their base bytes).
	 */
	disk_cow_mark(c, off / CL, (off + len - 1) / CL);
	c->req[idx].busy = true;
	return 0;
}

int disk_cow_flush(struct disk_cow *c, uint64_t tag)
{
	int idx = disk_cow_slot(c, DISK_COW_FLUSH, tag, 0, 0), r;

	if (idx < 0)
		return idx;
	r = disk_io_fdatasync(c->io, &c->overlay, (unsigned)idx);
	if (!r)
		c->req[idx].busy = true;
	return r;
}

int disk_cow_fill(struct disk_cow *c, uint64_t tag, uint64_t off, uint64_t len)
{
	int idx, r;

	if (!disk_cow_range_ok(c, off, len))
		return -EINVAL;
	idx = disk_cow_slot(c, DISK_COW_FILL, tag, off, len);
	if (idx < 0)
		return idx;
	/* A hole in the overlay reads as zeros, never as the base: both requests become one. */
	r = disk_cow_edges(c, off, off + len);
	if (!r)
		r = disk_io_fallocate(c->io, &c->overlay, (unsigned)idx,
		    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	if (r)
		return r;
	disk_cow_mark(c, off / CL, (off + len - 1) / CL);	/* as for a write */
	c->req[idx].busy = true;
	return 0;
}

/* disk_cow_io_done: an engine operation finished: the next run of a read, or the owner's done. */
static void disk_cow_io_done(void *owner, uint64_t tag, int res)
{
	struct disk_cow *c = owner;
	struct disk_cow_req *rq;

	if (tag >= c->depth || !c->req[tag].busy)
		return;		/* not ours: cannot happen, and must not index past the slots */
	rq = &c->req[tag];
	if (rq->op == DISK_COW_READ && res >= 0) {
		if ((uint64_t)res == rq->run_len && rq->done_len + rq->run_len < rq->len) {
			rq->done_len += rq->run_len;
			res = disk_cow_read_run(c, (unsigned)tag);
			if (res == 0)
				return;		/* the next run is queued */
		} else {
			/* The total: the request's length, or short, which the owner reports as an error. */
			res = (int)(rq->done_len + (uint64_t)res);
		}
	}
	rq->busy = false;
	c->done(c->owner, rq->tag, res);
}

/* disk_cow_io_drained: a batch was delivered: start the runs it queued, then tell the owner. */
static void disk_cow_io_drained(void *owner)
{
	struct disk_cow *c = owner;

	disk_io_submit(c->io);
	c->drained(c->owner);
}

int disk_cow_start(struct disk_cow *c, struct disk_io *io, struct ev_loop *ev,
    enum disk_engine engine, unsigned depth, disk_done_fn *done, disk_drained_fn *drained,
    void *owner)
{
	if (depth == 0 || depth > DISK_MAX_DEPTH)
		return -EINVAL;
	/* One engine operation per request at a time: the engine needs no more depth than the owner. */
	c->req = calloc(depth, sizeof(*c->req));
	if (!c->req)
		return -ENOMEM;
	c->depth = depth;
	c->io = io;
	c->done = done;
	c->drained = drained;
	c->owner = owner;
	return disk_io_start(io, ev, engine, depth, disk_cow_io_done, disk_cow_io_drained, c);
}

void disk_cow_close(struct disk_cow *c)
{
	if (!c)
		return;
	if (c->overlay.fd >= 0)
		close(c->overlay.fd);	/* the last reference: the kernel frees the file */
	if (c->map)
		munmap(c->map, c->map_len);
	free(c->buf);
	free(c->req);
	free(c);
}
