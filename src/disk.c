/*
 * disk.c: disk images: opening and checking the file, and the requests of
 * a virtio disk mapped onto the I/O engine (disk_io.c), straight for a raw
 * image, through the overlay (disk_cow.c) for a snapshot.
 *
 * Exported (contracts in disk.h): disk_open, disk_start, disk_readv,
 * disk_writev, disk_flush, disk_discard, disk_zero, disk_submit, disk_close,
 * disk_release.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "disk.h"

int disk_open(struct disk *d, const char *path, enum disk_mode mode, char *err, size_t errlen)
{
	bool ro = mode != DISK_RW;	/* a snapshot's base is never written */
	struct stat st;
	int fd, r;

	memset(d, 0, sizeof(*d));
	disk_io_init(&d->io);
	disk_file_init(&d->img, -1);
	d->mode = mode;
	/* O_NONBLOCK: opening a FIFO read-only would otherwise wait for a writer. */
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (!ro && (e == EROFS || e == EACCES || e == EPERM))
			snprintf(err, errlen, "is read-only (%s); add ,ro or ,snapshot",
			    strerror(e));
		else
			snprintf(err, errlen, "cannot be opened: %s", strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
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
	if (fcntl(fd, F_SETFL, 0) < 0) {
		snprintf(err, errlen, "cannot be set to blocking I/O: %s", strerror(errno));
		goto fail;
	}
	d->size = (uint64_t)st.st_size;
	disk_file_init(&d->img, fd);
	if (mode == DISK_SNAPSHOT && (r = disk_cow_open(&d->cow, &d->img, d->size, err, errlen))) {
		close(fd);
		d->img.fd = -1;
		return r;
	}
	return 0;
fail:
	close(fd);
	return -EINVAL;
}

int disk_start(struct disk *d, struct ev_loop *ev, enum disk_engine engine, unsigned depth,
    disk_done_fn *done, disk_drained_fn *drained, void *owner)
{
	if (d->cow)
		return disk_cow_start(d->cow, &d->io, ev, engine, depth, done, drained, owner);
	return disk_io_start(&d->io, ev, engine, depth, done, drained, owner);
}

int disk_readv(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off)
{
	if (d->cow)
		return disk_cow_readv(d->cow, tag, iov, n, off);
	return disk_io_readv(&d->io, &d->img, tag, iov, n, off);
}

int disk_writev(struct disk *d, uint64_t tag, const struct iovec *iov, int n, uint64_t off)
{
	if (d->mode == DISK_RO)
		return -EROFS;
	if (d->cow)
		return disk_cow_writev(d->cow, tag, iov, n, off);
	return disk_io_writev(&d->io, &d->img, tag, iov, n, off);
}

int disk_flush(struct disk *d, uint64_t tag)
{
	if (d->cow)
		return disk_cow_flush(d->cow, tag);
	return disk_io_fdatasync(&d->io, &d->img, tag);
}

int disk_discard(struct disk *d, uint64_t tag, uint64_t off, uint64_t len)
{
	if (d->mode == DISK_RO)
		return -EROFS;
	if (d->cow)
		return disk_cow_fill(d->cow, tag, off, len);
	return disk_io_fallocate(&d->io, &d->img, tag, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    off, len);
}

int disk_zero(struct disk *d, uint64_t tag, uint64_t off, uint64_t len, bool unmap)
{
	/* Both read back as zeros; unmap lets the file give the space back. */
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;

	if (d->mode == DISK_RO)
		return -EROFS;
	if (d->cow)
		return disk_cow_fill(d->cow, tag, off, len);
	return disk_io_fallocate(&d->io, &d->img, tag, mode | FALLOC_FL_KEEP_SIZE, off, len);
}

void disk_submit(struct disk *d)
{
	disk_io_submit(&d->io);
}

int disk_close(struct disk *d)
{
	int r = 0;

	disk_io_stop(&d->io);
	disk_cow_close(d->cow);
	d->cow = NULL;
	if (d->img.fd >= 0) {
		/* The durability promise holds at exit too: what the guest wrote is on disk. */
		if (d->mode == DISK_RW && fdatasync(d->img.fd) < 0)
			r = -errno;
		/* close reports write-back errors some file systems (NFS) hold until then. */
		if (close(d->img.fd) < 0 && !r)
			r = -errno;
	}
	d->img.fd = -1;
	return r;
}

void disk_release(struct disk *d)
{
	disk_cow_close(d->cow);
	d->cow = NULL;
	if (d->img.fd >= 0)
		close(d->img.fd);
	d->img.fd = -1;
}
