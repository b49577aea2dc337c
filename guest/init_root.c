/*
 * init_root.c: run the command on a root image instead of the initramfs.
 * With `ringvm.root=/dev/vdX` on the kernel command line, ringvm-init
 * mounts that disk read-only, puts a tmpfs-backed overlay on it (the
 * command may write; nothing reaches the image) and moves the root there
 * the way switch_root(8) does from an initramfs, which cannot pivot_root:
 * MS_MOVE the new root onto "/", then chroot into it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define INIT_ROOT_LOWER "/ringvm/lower"
#define INIT_ROOT_RW "/ringvm/rw"
#define INIT_ROOT_NEW "/ringvm/newroot"
#define INIT_ROOT_WAIT_MS 2000		/* for the disk's device node */
#define INIT_ROOT_ARG_MAX 64		/* longest ringvm.root= value taken */

/* The mounts carried into the new root, in an order that undoes in reverse. */
static const char *const init_root_moved[] = { "/proc", "/sys", "/dev", "/run", "/tmp" };
#define INIT_ROOT_NMOVED (sizeof(init_root_moved) / sizeof(init_root_moved[0]))

/*
 * init_root_arg: copy the value of `key` (e.g. "ringvm.root=") from the
 * command line `cmdline` into val (val_len bytes). 1 when found and it
 * fits, 0 when absent, -EINVAL when too long.
 */
static int init_root_arg(const char *cmdline, const char *key, char *val, size_t val_len)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p; ) {
		size_t n;

		while (*p && isspace((unsigned char)*p))
			p++;
		n = strcspn(p, " \t\n");
		if (n > klen && !strncmp(p, key, klen)) {
			if (n - klen >= val_len)
				return -EINVAL;
			memcpy(val, p + klen, n - klen);
			val[n - klen] = '\0';
			return 1;
		}
		p += n;
	}
	return 0;
}

/* init_root_devname_ok: a plain /dev/ path: no "..", only [A-Za-z0-9/._-]. */
static bool init_root_devname_ok(const char *dev)
{
	if (strncmp(dev, "/dev/", 5) || strstr(dev, ".."))
		return false;
	for (const char *p = dev; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/._-", *p))
			return false;
	return true;
}

/* init_root_wait_dev: wait up to INIT_ROOT_WAIT_MS for a block device node. */
static int init_root_wait_dev(const char *dev)
{
	const struct timespec step = { 0, 10 * 1000 * 1000 };
	struct stat st;

	for (unsigned waited = 0; ; waited += 10) {
		if (stat(dev, &st) == 0)
			return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
		if (errno != ENOENT || waited >= INIT_ROOT_WAIT_MS)
			return -errno;
		nanosleep(&step, NULL);
	}
}

/* init_root_lower: mount dev read-only on INIT_ROOT_LOWER as `fstype`, or try each. */
static int init_root_lower(const char *dev, const char *fstype)
{
	static const char *const types[] = { "ext4", "squashfs", "erofs" };
	int r = -EINVAL;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (fstype[0] && strcmp(fstype, types[i]))
			continue;
		if (mount(dev, INIT_ROOT_LOWER, types[i], MS_RDONLY, NULL) == 0)
			return 0;
		r = -errno;
	}
	return r;
}

/* init_root_overlay: the tmpfs upper layer and the overlay on INIT_ROOT_NEW. */
static int init_root_overlay(void)
{
	const char *opts = "lowerdir=" INIT_ROOT_LOWER ",upperdir=" INIT_ROOT_RW
	    "/upper,workdir=" INIT_ROOT_RW "/work";
	int r;

	if (mount("tmpfs", INIT_ROOT_RW, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return -errno;
	if ((r = init_mount_mkdirs(INIT_ROOT_RW "/upper", 0755)) ||
	    (r = init_mount_mkdirs(INIT_ROOT_RW "/work", 0755)))
		return r;
	if (mount("overlay", INIT_ROOT_NEW, "overlay", 0, opts) < 0)
		return -errno;
	return 0;
}

/* init_root_unmove: move the first `done` early mounts back out of the new root. */
static void init_root_unmove(size_t done)
{
	char to[PATH_MAX];

	while (done--) {
		snprintf(to, sizeof(to), INIT_ROOT_NEW "%s", init_root_moved[done]);
		if (mount(to, init_root_moved[done], NULL, MS_MOVE, NULL) < 0)
			init_warn("moving %s back", init_root_moved[done]);
	}
}

/* init_root_move: move the early mounts into the new root; all or none. */
static int init_root_move(void)
{
	char to[PATH_MAX];
	size_t done;
	int r = 0;

	for (done = 0; done < INIT_ROOT_NMOVED; done++) {
		snprintf(to, sizeof(to), INIT_ROOT_NEW "%s", init_root_moved[done]);
		if ((r = init_mount_mkdirs(to, 0755)))
			break;
		if (mount(init_root_moved[done], to, NULL, MS_MOVE, NULL) < 0) {
			r = -errno;
			break;
		}
	}
	if (!r)
		return 0;
	init_log("moving %s into the new root failed: %s", init_root_moved[done], strerror(-r));
	init_root_unmove(done);
	return r;
}

/* init_root_cmdline: read /proc/cmdline into buf (NUL-terminated). */
static int init_root_cmdline(char *buf, size_t len)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int init_root_switch(void)
{
	char cmdline[4096], dev[INIT_ROOT_ARG_MAX], fstype[16] = "";
	int r;

	if ((r = init_root_cmdline(cmdline, sizeof(cmdline))))
		return 0;		/* no /proc: no root image asked for either */
	r = init_root_arg(cmdline, "ringvm.root=", dev, sizeof(dev));
	if (r == 0)
		return 0;
	if (r < 0 || !init_root_devname_ok(dev)) {
		init_log("ringvm.root= must name a device under /dev/");
		return -EINVAL;
	}
	if (init_root_arg(cmdline, "ringvm.rootfstype=", fstype, sizeof(fstype)) < 0 ||
	    (fstype[0] && strcmp(fstype, "ext4") && strcmp(fstype, "squashfs") &&
	    strcmp(fstype, "erofs"))) {
		init_log("ringvm.rootfstype= must be ext4, squashfs or erofs");
		return -EINVAL;
	}
	if ((r = init_mount_mkdirs(INIT_ROOT_LOWER, 0755)) ||
	    (r = init_mount_mkdirs(INIT_ROOT_RW, 0755)) ||
	    (r = init_mount_mkdirs(INIT_ROOT_NEW, 0755))) {
		init_log("creating /ringvm mount points: %s", strerror(-r));
		return r;
	}
	if ((r = init_root_wait_dev(dev))) {
		init_log("root device %s: %s", dev, strerror(-r));
		return r;
	}
	if ((r = init_root_lower(dev, fstype))) {
		init_log("mounting %s read-only (%s): %s", dev, fstype[0] ? fstype : "ext4, squashfs, erofs", strerror(-r));
		return r;
	}
	if ((r = init_root_overlay())) {
		init_log("overlay on %s: %s", dev, strerror(-r));
		return r;
	}
	if ((r = init_root_move()))
		return r;
	/* switch_root's sequence: the new root's mount replaces "/". */
	if (chdir(INIT_ROOT_NEW) < 0 || mount(INIT_ROOT_NEW, "/", NULL, MS_MOVE, NULL) < 0) {
		r = -errno;
		init_warn("switching the root to %s", dev);
		if (chdir("/") == 0)
			init_root_unmove(INIT_ROOT_NMOVED);
		return r;
	}
	/* From here the old root is hidden: chroot cannot sensibly fail. */
	if (chroot(".") < 0 || chdir("/") < 0) {
		r = -errno;
		init_warn("chroot into %s", dev);
		return r;
	}
	return 0;
}
