/*
 * kvmdev.h: the KVM device: which path ringvm opens, and what a user who
 * cannot open it is told to do (man/ringvm.1 DIAGNOSTICS).
 */
#ifndef RINGVM_KVMDEV_H
#define RINGVM_KVMDEV_H

#include "log.h"

/*
 * kvmdev_path: $RINGVM_KVM_DEVICE when set and not empty (for tests and
 * unusual systems), else /dev/kvm.
 */
const char *kvmdev_path(void);

/*
 * kvmdev_hint: the advice for an open of the KVM device that failed with
 * errno `err`: for a missing device, or one this user may not open; NULL
 * when there is none beyond the error itself.
 */
const char *kvmdev_hint(int err);

/*
 * kvmdev_open: open kvmdev_path() read-write (close-on-exec) and return the
 * fd; on failure return -errno with status RV_EXIT_FAILURE and the path,
 * the error and the hint in `err`.
 */
int kvmdev_open(struct rv_err *err);

#endif
