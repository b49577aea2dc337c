/*
 * bootfile.c: what every architecture's boot code does the same way: open
 * the kernel and initrd files (read-only, regular files only, never
 * waiting on a FIFO), assemble the kernel command line from ringvm's
 * defaults, the command runner's parameters and -a, and load the initrd
 * with ringvm's own archive after it. Where they go is the architecture's.
 *
 * Exported (contracts in bootfile.h): bootfile_open, bootfile_cmdline,
 * bootfile_initrd_open, bootfile_initrd_load, bootfile_close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootfile.h"
#include "config.h"
#include "gmem.h"
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

int bootfile_cmdline(const char *defaults, const char *noinitrd, const struct rv_config *cfg,
    char **out, size_t *len, struct rv_err *err)
{
	const char *extra = cfg->initrd || cfg->initrd_extra_len ? "" : noinitrd;
	const char *own = cfg->cmdline_extra ? cfg->cmdline_extra : "";
	size_t n = strlen(defaults) + (*extra ? strlen(extra) + 1 : 0) +
	    (*own ? strlen(own) + 1 : 0) + (cfg->append ? strlen(cfg->append) + 1 : 0);
	char *s = malloc(n + 1);

	if (!s)
		return rv_fail(err, RV_EXIT_FAILURE, ENOMEM, "kernel command line");
	snprintf(s, n + 1, "%s%s%s%s%s%s%s", defaults, *extra ? " " : "", extra, *own ? " " : "",
	    own, cfg->append ? " " : "", cfg->append ? cfg->append : "");
	*out = s;
	*len = n;
	return 0;
}

int bootfile_initrd_open(const struct rv_config *cfg, int *fd, uint64_t *file_size,
    uint64_t *total, struct rv_err *err)
{
	int r;

	*file_size = *total = 0;
	if (cfg->initrd) {
		r = bootfile_open("initrd", cfg->initrd, fd, file_size, err);
		if (r)
			return r;
		if (*file_size == 0)
			return rv_fail(err, RV_EXIT_BADFILE, 0, "initrd '%s' is empty", cfg->initrd);
	}
	if (!cfg->initrd && !cfg->initrd_extra_len)
		return 0;
	/* ringvm's own archive follows the user's at a 4-byte boundary, as Linux reads them. */
	*total = ((*file_size + 3) & ~3ull) + cfg->initrd_extra_len;
	return 0;
}

int bootfile_initrd_load(const struct gmem *mem, const struct rv_config *cfg, uint64_t gpa,
    int fd, uint64_t file_size, uint64_t total, struct rv_err *err)
{
	int r;

	if (fd >= 0) {
		r = gmem_fill_from_fd(mem, gpa, fd, 0, file_size);
		if (r)
			return rv_fail(err, RV_EXIT_BADFILE, -r, "cannot load initrd '%s'", cfg->initrd);
	}
	if (cfg->initrd_extra_len && gmem_write(mem, gpa + total - cfg->initrd_extra_len,
	    cfg->initrd_extra, cfg->initrd_extra_len))
		return rv_fail(err, RV_EXIT_FAILURE, 0, "ringvm's initramfs does not fit in guest memory");
	return 0;
}

void bootfile_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
