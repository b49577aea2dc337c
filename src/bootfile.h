/* bootfile.h: opening the kernel and initrd files (bootfile.c). */
#ifndef RINGVM_BOOTFILE_H
#define RINGVM_BOOTFILE_H

#include <stdint.h>

#include "log.h"

/*
 * bootfile_open: open `path`, a regular file, read-only into *fd; `what`
 * ("kernel") names it in errors. Returns 0, or -errno
 * with status 3 and a clear line in `err` (*fd stays open for
 * arch_boot_fini when only a later step failed).
 */
int bootfile_open(const char *what, const char *path, int *fd, uint64_t *size,
    struct rv_err *err);

#endif
