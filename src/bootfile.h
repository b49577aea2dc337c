/* bootfile.h: the kernel and initrd files and the command line, for every architecture's boot (bootfile.c). */
#ifndef RINGVM_BOOTFILE_H
#define RINGVM_BOOTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct gmem;
struct rv_config;

/*
 * bootfile_open: open `path`, a regular file, read-only into *fd; `what`
 * ("kernel") names it in errors. Returns 0, or -errno
 * with status 3 and a clear line in `err` (*fd stays open for
 * arch_boot_fini when only a later step failed).
 */
int bootfile_open(const char *what, const char *path, int *fd, uint64_t *size,
    struct rv_err *err);

/*
 * bootfile_cmdline: the kernel command line: `defaults`, then `noinitrd`
 * when the VM has no initrd at all, then the command runner's parameters
 * (cfg->cmdline_extra), then -a's text, space-separated, so a later
 * parameter overrides an earlier one. *out is malloc'd, *len its length;
 * the architecture judges the length. Returns 0 or -ENOMEM (status 1).
 */
int bootfile_cmdline(const char *defaults, const char *noinitrd, const struct rv_config *cfg,
    char **out, size_t *len, struct rv_err *err);

/*
 * bootfile_initrd_open: open -i's file, if any, into *fd (left alone
 * without one) with its size in *file_size, and set *total to the bytes the
 * initrd takes in guest memory: the file at a 4-byte boundary plus ringvm's
 * own archive (cfg->initrd_extra), 0 when there is neither. Returns 0, or
 * -errno with status 3 (missing, not a regular file, empty).
 */
int bootfile_initrd_open(const struct rv_config *cfg, int *fd, uint64_t *file_size,
    uint64_t *total, struct rv_err *err);

/*
 * bootfile_initrd_load: copy the file (fd >= 0) to `gpa` and ringvm's own
 * archive to the end of the `total` bytes there. Returns 0 or -errno.
 */
int bootfile_initrd_load(const struct gmem *mem, const struct rv_config *cfg, uint64_t gpa,
    int fd, uint64_t file_size, uint64_t total, struct rv_err *err);

/* bootfile_close: close *fd when it is open and set it to -1. */
void bootfile_close(int *fd);

#endif
