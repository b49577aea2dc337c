/*
 * init_mount.c: the file systems every guest command expects, mounted by
 * ringvm-init as PID 1 before anything else: /proc, /sys, /dev with
 * /dev/pts and /dev/shm, /tmp and /run.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "init.h"

/* Magic numbers from <linux/magic.h>, named here to keep the header list short. */
#define INIT_PROC_MAGIC 0x9fa0
#define INIT_SYSFS_MAGIC 0x62656572
#define INIT_TMPFS_MAGIC 0x01021994	/* tmpfs and devtmpfs */
#define INIT_DEVPTS_MAGIC 0x1cd1

struct init_mount {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
	long magic;		/* f_type of an existing mount we keep */
	bool required;		/* without it the agent cannot work */
};

/* In order: each target's parent is mounted before it. */
static const struct init_mount init_mount_table[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	    INIT_PROC_MAGIC, true },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	    INIT_SYSFS_MAGIC, false },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755",
	    INIT_TMPFS_MAGIC, true },
	/* A private instance: /dev/ptmx resolves to its ptmx (Linux >= 4.7). */
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    "newinstance,ptmxmode=0666,mode=0620,gid=5", INIT_DEVPTS_MAGIC, true },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
	    INIT_TMPFS_MAGIC, false },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
	    INIT_TMPFS_MAGIC, false },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755",
	    INIT_TMPFS_MAGIC, false },
};

int init_mount_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	/* Each prefix ending before a '/', then the whole path. */
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (i < len)
			buf[i] = '/';
	}
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/*
 * init_mount_present: is `target` already a mount point holding a file
 * system with f_type `magic`? (A mount point: its device differs from its
 * parent's.)
 */
static bool init_mount_present(const char *target, long magic)
{
	char parent[PATH_MAX];
	struct stat st, pst;
	struct statfs sf;
	char *slash;

	if (strlen(target) >= sizeof(parent))
		return false;
	strcpy(parent, target);
	slash = strrchr(parent, '/');
	if (!slash)
		return false;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(target, &st) < 0 || stat(parent, &pst) < 0 || statfs(target, &sf) < 0)
		return false;
	return st.st_dev != pst.st_dev && (long)sf.f_type == magic;
}

/* init_mount_links: the /dev/fd and /dev/std* links shells expect. */
static void init_mount_links(void)
{
	static const char *const link[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};

	for (size_t i = 0; i < sizeof(link) / sizeof(link[0]); i++)
		if (symlink(link[i][0], link[i][1]) < 0 && errno != EEXIST)
			init_warn("symlink %s", link[i][1]);
}

int init_mount_early(void)
{
	int ret = 0;

	for (size_t i = 0; i < sizeof(init_mount_table) / sizeof(init_mount_table[0]); i++) {
		const struct init_mount *m = &init_mount_table[i];
		int r = init_mount_mkdirs(m->target, 0755);

		if (!r && init_mount_present(m->target, m->magic))
			continue;
		if (!r && mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
			r = -errno;
		if (!r)
			continue;
		errno = -r;
		init_warn("mount %s on %s", m->fstype, m->target);
		if (m->required && !ret)
			ret = r;
	}
	init_mount_links();
	return ret;
}
