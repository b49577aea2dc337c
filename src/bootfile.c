/*
 * bootfile.c: the kernel and initrd files as every architecture's boot
 * code opens them: read-only, regular files only, never waiting on a FIFO.
 *
 * Exported (contract in bootfile.h): bootfile_open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootfile.h"
#include "log.h"

int bootfile_open(const char *what, const char *path, int *fd, uint64_t *size,
    struct rv_err *err)
{
	struct stat st;

	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot open %s '%s'", what, path);
	if (fstat(*fd, &st) < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot stat %s '%s'", what, path);
	if (!S_ISREG(st.st_mode))
		return rv_fail(err, RV_EXIT_BADFILE, 0, "%s '%s' is not a regular file", what, path);
	if (fcntl(*fd, F_SETFL, 0) < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "cannot use %s '%s'", what, path);
	*size = (uint64_t)st.st_size;
	return 0;
}
