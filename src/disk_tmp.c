/*
 * disk_tmp.c: the unlinked, sparse temporary file behind a snapshot disk's
 * overlay. Unlinked from the start, so no exit path (SIGKILL, a crash, a
 * power cut) can leave it behind: the kernel frees it at the last close.
 *
 * Exported (contracts in disk_tmp.h): disk_tmp_dir, disk_tmp_create.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "disk_tmp.h"

const char *disk_tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

/*
 * disk_tmp_named: the fallback for file systems without O_TMPFILE: a
 * mkstemp name, unlinked before anything is written. Only a SIGKILL between
 * the two calls could leave an empty file behind.
 */
static int disk_tmp_named(const char *dir)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/ringvm-snapshot-XXXXXX", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int disk_tmp_create(const char *dir, uint64_t size, char *err, size_t errlen)
{
	const char *why = "";
	int fd, e;

	/* 0600: the guest's data is nobody else's business, even for an unnamed file. */
	fd = open(dir, O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	/* EOPNOTSUPP: this file system has no O_TMPFILE; EISDIR: this kernel does not know it. */
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR))
		fd = disk_tmp_named(dir);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0) {
		e = -fd;
		goto fail;
	}
	if (size > INT64_MAX || ftruncate(fd, (off_t)size) < 0) {
		e = size > INT64_MAX ? EFBIG : errno;
		why = "cannot make it the disk's size: ";
		goto fail_fd;
	}
	/*
	 * Discard and write-zeroes punch holes in the overlay; a file system
	 * without them would fail those requests one by one at run time, so
	 * it is refused here, once, with the reason.
	 */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	    (off_t)(size < 4096 ? size : 4096)) < 0) {
		e = errno;
		why = "its file system cannot punch holes: ";
		goto fail_fd;
	}
	return fd;
fail_fd:
	close(fd);
fail:
	snprintf(err, errlen, "cannot have its snapshot overlay in '%s' (TMPDIR): %s%s", dir, why,
	    strerror(e));
	return -e;
}
