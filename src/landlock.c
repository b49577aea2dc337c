/*
 * landlock.c: restrict the filesystem with Landlock (Linux 5.13+): after
 * setup, ringvm's threads may open nothing new, whatever path a bug would
 * hand a guest. The seccomp filters already refuse open(2); Landlock holds
 * even for a path reached some other way (a library's openat on a
 * directory fd, a bind of a socket file). Raw system calls: glibc has no
 * wrappers and the kernel's header is all we need.
 *
 * Exported (contracts in landlock.h): landlock_prepare, landlock_enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "landlock.h"

/* The filesystem rights each Landlock ABI version knows: all of them are handled (denied). */
static __u64 landlock_rights(int abi)
{
	__u64 r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		r |= 1ull << 13;	/* LANDLOCK_ACCESS_FS_REFER */
	if (abi >= 3)
		r |= 1ull << 14;	/* LANDLOCK_ACCESS_FS_TRUNCATE */
	return r;
}

/*
 * landlock_allow_read: let the ruleset's threads read the file at `path`
 * (the inode it names now; a file replaced later by rename is not it).
 * A missing file is no error: there is nothing to read. Returns 0 or -errno.
 */
static int landlock_allow_read(struct landlock *ll, const char *path)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE };
	int r = 0;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (syscall(SYS_landlock_add_rule, ll->fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		r = -errno;
	close(rule.parent_fd);
	return r;
}

int landlock_prepare(struct landlock *ll, const char *const *paths, unsigned n)
{
	struct landlock_ruleset_attr attr;
	int abi;

	ll->fd = -1;
	ll->abi = 0;
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;	/* not built into this kernel, or not enabled at boot */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_rights(abi);
	/* Rights this kernel does not know would make it refuse the ruleset: ask for ABI 3's at most. */
	ll->fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ll->fd < 0)
		return -errno;
	ll->abi = abi;
	for (unsigned i = 0; i < n; i++) {
		int r = landlock_allow_read(ll, paths[i]);

		if (r)
			return r;
	}
	return 0;
}

int landlock_enter(const struct landlock *ll)
{
	if (ll->fd < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ll->fd, 0) < 0)
		return -errno;
	return 0;
}

void landlock_fini(struct landlock *ll)
{
	if (ll->fd >= 0)
		close(ll->fd);
	ll->fd = -1;
}
