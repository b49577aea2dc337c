/*
 * disk_cow.h: the copy-on-write overlay of a snapshot disk
 * (-d base.img,snapshot).
 *
 * The base image is read-only and never written. What the guest writes
 * lands in an overlay: an unlinked sparse temporary file in $TMPDIR, as
 * large as the disk, at the same offsets. A map with one bit per 4 KiB
 * cluster says which clusters the overlay holds; reads take those from the
 * overlay and the rest from the base. Nothing names the overlay, so
 * nothing remains of it once ringvm exits, however it exits.
 *
 * Ordering: a cluster's bit is set before the loop returns from queueing
 * the request that first writes, discards or zeroes it, and a cluster that
 * a request covers only in part is copied from the base first,
 * synchronously (disk_cow.c says why), so no request ever copies a cluster
 * over data another request wrote.
 */
#ifndef RINGVM_DISK_COW_H
#define RINGVM_DISK_COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "disk_io.h"

#define DISK_COW_CLUSTER 4096u			/* bytes per map bit */
#define DISK_COW_MAP_MAX (16u << 20)		/* bytes of map, at most */
/* The largest snapshot disk: 16 MiB of map at 32 KiB per GiB, 512 GiB. */
#define DISK_COW_SIZE_MAX ((uint64_t)DISK_COW_MAP_MAX * 8 * DISK_COW_CLUSTER)
#define DISK_COW_IOV_MAX 256			/* segments per read request */

/* One request in flight: the owner's tag and, for a read, where it stands. */
struct disk_cow_req {
	bool busy;
	uint8_t op;			/* enum disk_cow_op (disk_cow.c) */
	uint64_t tag;			/* the owner's */
	const struct iovec *iov;	/* the owner's buffers (reads) */
	int n;
	uint64_t off, len;		/* the request's bytes on the disk */
	uint64_t done_len;		/* read: bytes delivered by finished runs */
	uint64_t run_len;		/* read: bytes of the run in flight */
	struct iovec run[DISK_COW_IOV_MAX];	/* read: the run's slice of iov */
};

struct disk_cow {
	struct disk_file *base;		/* the image, opened read-only (struct disk's) */
	struct disk_file overlay;
	uint64_t size;			/* the disk's bytes, a multiple of 512 */
	uint8_t *map;			/* bit c: cluster c is in the overlay */
	size_t map_len;
	uint8_t *buf;			/* one cluster, for copy-ups */
	struct disk_io *io;		/* the disk's engine */
	unsigned depth;
	struct disk_cow_req *req;	/* depth slots, engine tag = slot index */
	disk_done_fn *done;
	disk_drained_fn *drained;
	void *owner;
	unsigned long copyups;		/* clusters copied from the base */
};

/*
 * disk_cow_open: an overlay for a disk of `size` bytes over `base`, in the
 * directory $TMPDIR names (/tmp when unset or empty): O_TMPFILE where the
 * file system has it, else mkstemp and an unlink at once. Refuses a disk
 * over DISK_COW_SIZE_MAX, a directory that cannot hold the file, and a file
 * system that cannot punch holes. Returns 0, or -errno with a one-line
 * reason in `err` (it follows "disk 'PATH' ").
 */
int disk_cow_open(struct disk_cow **cowp, struct disk_file *base, uint64_t size, char *err,
    size_t errlen);

/*
 * disk_cow_start: start the overlay's requests on engine `io` (not yet
 * started), for `depth` requests in flight; `done` fires once per request
 * with the owner's tag and the request's total, `drained` after each batch.
 * Returns 0 or -errno.
 */
int disk_cow_start(struct disk_cow *c, struct disk_io *io, struct ev_loop *ev,
    enum disk_engine engine, unsigned depth, disk_done_fn *done, disk_drained_fn *drained,
    void *owner);

/*
 * disk_cow_readv, disk_cow_writev, disk_cow_flush, disk_cow_fill: queue one
 * request (disk.h's contract: at most `depth` outstanding, `iov` valid
 * until `done`, started by disk_io_submit). A read takes at most
 * DISK_COW_IOV_MAX segments; lengths fit an int. Fill (discard and
 * write-zeroes alike) makes the range read as zeros. Return 0 or -errno
 * (nothing queued; -EINVAL for a range outside the disk).
 */
int disk_cow_readv(struct disk_cow *c, uint64_t tag, const struct iovec *iov, int n,
    uint64_t off);
int disk_cow_writev(struct disk_cow *c, uint64_t tag, const struct iovec *iov, int n,
    uint64_t off);
int disk_cow_flush(struct disk_cow *c, uint64_t tag);
int disk_cow_fill(struct disk_cow *c, uint64_t tag, uint64_t off, uint64_t len);

/*
 * disk_cow_close: release the overlay (the engine is stopped first). No
 * flush: nothing can read the file once it is closed.
 */
void disk_cow_close(struct disk_cow *c);

#endif
