/*
 * kvmdev.c: the KVM device: its path, and errors that say what to do. The
 * two causes users meet most are a machine without KVM (no module, or a VM
 * without nested virtualization) and a user outside the kvm group.
 *
 * Exported (contracts in kvmdev.h): kvmdev_path, kvmdev_hint, kvmdev_open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "kvmdev.h"
#include "log.h"

const char *kvmdev_path(void)
{
	const char *p = getenv("RINGVM_KVM_DEVICE");

	return p && *p ? p : "/dev/kvm";
}

const char *kvmdev_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return "KVM is not available here: load the kvm_intel or kvm_amd module, "
		    "enable virtualization in the firmware, or, inside a VM, enable nested "
		    "virtualization for it";
	case EACCES:
	case EPERM:
		return "this user may not use KVM: add it to the kvm group "
		    "(Debian: adduser $USER kvm), then log in again";
	default:
		return NULL;
	}
}

int kvmdev_open(struct rv_err *err)
{
	const char *path = kvmdev_path(), *hint;
	int fd = open(path, O_RDWR | O_CLOEXEC), e = errno;

	if (fd >= 0)
		return fd;
	hint = kvmdev_hint(e);
	if (hint)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "cannot open %s: %s: %s", path, strerror(e),
		    hint);
	return rv_fail(err, RV_EXIT_FAILURE, e, "cannot open %s", path);
}
