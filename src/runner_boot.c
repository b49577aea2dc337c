/*
 * runner_boot.c: what the command runner (`ringvm ... -- COMMAND`) adds to
 * the boot before anything is opened for the VM: ringvm's own initramfs
 * (ringvm-init as /ringvm/init, the kernel modules it loads, and a minimal
 * busybox root when the user gave no root), the kernel parameters that make
 * ringvm-init PID 1, and the read-only disk of a --root image.
 *
 * Exported (contracts in runner.h): runner_boot_prepare, runner_boot_free.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "cpio.h"
#include "devinst.h"
#include "kmod.h"
#include "log.h"
#include "runner.h"

#ifndef RINGVM_LIBEXECDIR
#define RINGVM_LIBEXECDIR "/usr/local/libexec"
#endif

/* The largest archive ringvm builds: ringvm-init, busybox and the modules. */
#define RUNNER_INITRAMFS_MAX (64u << 20)

/* runner_has: the configuration has an instance of the device whose option is `option`. */
static bool runner_has(const struct rv_config *cfg, const char *option)
{
	for (unsigned i = 0; i < cfg->nr_dev; i++)
		if (cfg->dev[i].ops->option && !strcmp(cfg->dev[i].ops->option->name, option))
			return true;
	return false;
}

/*
 * Modules ringvm-init loads when the kernel has them as modules: vsock
 * (the agent's way home) and PCI virtio are required; pvpanic always, and
 * the disk, network, entropy and root file system drivers only when the VM
 * has disks, a network, the entropy device (on unless --rng off) or a
 * --root image, each when present. Every module costs the guest its load
 * at every boot.
 */
static const char *const runner_mods_required[] = {
	"virtio_pci", "vmw_vsock_virtio_transport", NULL,
};

/* runner_mods_optional: the optional modules this configuration needs, NULL-terminated in `m`. */
static void runner_mods_optional(const struct rv_config *cfg, const char *m[], size_t max)
{
	static const char *const root[] = { "overlay", "ext4", "squashfs", "erofs", "crc32c_generic" };
	size_t n = 0;

	m[n++] = "pvpanic_mmio";
	if (runner_has(cfg, "disk"))
		m[n++] = "virtio_blk";
	if (runner_has(cfg, "net"))
		m[n++] = "virtio_net";
	if (runner_has(cfg, "rng"))
		m[n++] = "virtio_rng";
	for (size_t i = 0; cfg->run.root && i < sizeof(root) / sizeof(root[0]) && n + 1 < max; i++)
		m[n++] = root[i];
	m[n] = NULL;
}

/* runner_find_init: $RINGVM_INIT, then ringvm-init beside ringvm, then the installed one. */
static int runner_find_init(char *path, size_t len, struct rv_err *err)
{
	const char *env = getenv("RINGVM_INIT");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return access(path, X_OK) ? rv_fail(err, RV_EXIT_FAILURE, errno,
		    "RINGVM_INIT '%s' is not executable", env) : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && (size_t)(slash - self) + sizeof("/ringvm-init") <= len) {
			memcpy(path, self, (size_t)(slash - self));
			memcpy(path + (slash - self), "/ringvm-init", sizeof("/ringvm-init"));
			if (!access(path, X_OK))
				return 0;
		}
	}
	snprintf(path, len, "%s/ringvm/ringvm-init", RINGVM_LIBEXECDIR);
	if (!access(path, X_OK))
		return 0;
	return rv_fail(err, RV_EXIT_FAILURE, 0, "ringvm-init not found beside ringvm or in %s/ringvm "
	    "(make builds it; RINGVM_INIT names another)", RINGVM_LIBEXECDIR);
}

/*
 * runner_busybox: a static busybox and a link for each of its applets in
 * bin/, the minimal root when the user gave none. Returns 0, or -ENOENT
 * when the host has no static busybox (the caller says what to install).
 */
static int runner_busybox(struct cpio *c, char *err, size_t errlen)
{
	static const char *const where[] = { "/bin/busybox", "/usr/bin/busybox" };
	const char *bb = NULL;
	char line[128], link[160];
	FILE *list;
	int r = 0, st;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) && !bb; i++)
		if (!access(where[i], X_OK))
			bb = where[i];
	if (!bb) {
		snprintf(err, errlen, "no busybox on this host for a minimal root (install "
		    "busybox-static, or give -i INITRD or --root IMAGE)");
		return -ENOENT;
	}
	if ((r = cpio_add_dir(c, "bin", 0755, err, errlen)) ||
	    (r = cpio_add_file(c, "bin/busybox", 0755, bb, err, errlen)))
		return r;
	/* The applet list from busybox itself; nothing else runs on the host. */
	snprintf(line, sizeof(line), "'%s' --list", bb);
	list = popen(line, "r");
	if (!list) {
		snprintf(err, errlen, "cannot run %s --list: %s", bb, strerror(errno));
		return -errno;
	}
	while (!r && fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || strchr(line, '/') || !strcmp(line, "busybox"))
			continue;
		snprintf(link, sizeof(link), "bin/%s", line);
		r = cpio_add_symlink(c, link, "busybox", err, errlen);
	}
	st = pclose(list);
	if (!r && (!WIFEXITED(st) || WEXITSTATUS(st))) {
		snprintf(err, errlen, "%s --list failed: is it busybox-static?", bb);
		r = -ENOEXEC;
	}
	return r;
}

/* runner_modules: the modules ringvm-init needs, from the kernel's own tree or --modules. */
static int runner_modules(struct cpio *c, const struct rv_config *cfg, char *err, size_t errlen)
{
	char ver[KMOD_VERSION_LEN], dir[PATH_MAX], why[256];
	const char *optional[16];
	struct kmod_list l = { 0 };
	int fd, r;

	runner_mods_optional(cfg, optional, sizeof(optional) / sizeof(optional[0]));
	if (cfg->run.modules) {
		snprintf(dir, sizeof(dir), "%s", cfg->run.modules);
	} else {
		fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, strerror(errno));
			return -errno;
		}
		r = kmod_kernel_version(fd, ver, sizeof(ver), why, sizeof(why));
		close(fd);
		if (r) {
			snprintf(err, errlen, "kernel '%s' %s", cfg->kernel, why);
			return r;
		}
		r = kmod_moddir("/lib/modules", ver, dir, sizeof(dir), err, errlen);
		if (r)
			return r;
	}
	r = kmod_resolve(dir, runner_mods_required, optional, &l, err, errlen);
	if (!r)
		r = kmod_pack(c, dir, &l, err, errlen);
	kmod_list_free(&l);
	return r;
}

/*
 * runner_root_type: the file system of a --root image from its magic:
 * "ext4" (0xEF53 at 1080), "squashfs" ("hsqs" at 0), "erofs" (0xE0F5E1E2
 * at 1024), or NULL.
 */
static const char *runner_root_type(int fd)
{
	uint8_t b[1088];

	if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return NULL;
	if (!memcmp(b, "hsqs", 4))
		return "squashfs";
	if (b[1024] == 0xe2 && b[1025] == 0xe1 && b[1026] == 0xf5 && b[1027] == 0xe0)
		return "erofs";
	if (b[1080] == 0x53 && b[1081] == 0xef)
		return "ext4";
	return NULL;
}

/*
 * runner_root: the --root image becomes the last virtio disk, read-only to
 * the guest and opened read-only here, and ringvm-init is told which
 * device and file system it is.
 */
static int runner_root(struct rv_config *cfg, char *params, size_t len, struct rv_err *err)
{
	const char *type;
	unsigned disks = 0;
	int fd, r;

	fd = open(cfg->run.root, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rv_fail(err, RV_EXIT_BADFILE, errno, "root image '%s'", cfg->run.root);
	type = runner_root_type(fd);
	close(fd);
	if (!type)
		return rv_fail(err, RV_EXIT_BADFILE, 0, "root image '%s' is not ext4, squashfs or "
		    "erofs", cfg->run.root);
	snprintf(cfg->run.root_spec, sizeof(cfg->run.root_spec), "%s,ro", cfg->run.root);
	for (unsigned i = 0; i < cfg->nr_dev; i++)
		disks += cfg->dev[i].ops->option && !strcmp(cfg->dev[i].ops->option->name, "disk");
	/* Its letter: the disks are created in command-line order, and it comes last. */
	if (disks >= 26)
		return rv_fail(err, RV_EXIT_USAGE, 0, "no disk letter left for the root image");
	r = devinst_parse(cfg, devices_find_option("disk", 0), cfg->run.root_spec, err->msg,
	    sizeof(err->msg));
	if (r)
		return err->status = RV_EXIT_USAGE, r;
	snprintf(params + strlen(params), len - strlen(params),
	    " ringvm.root=/dev/vd%c ringvm.rootfstype=%s", 'a' + disks, type);
	return 0;
}

int runner_boot_prepare(struct rv_config *cfg, struct rv_err *err)
{
	char init[PATH_MAX], why[384];
	struct cpio *c = &cfg->run.initramfs;
	int r;

	if (!cfg->run.argc)
		return 0;
	r = runner_find_init(init, sizeof(init), err);
	if (r)
		return r;
	/* The agent's way home: a vsock device, the user's or one of ringvm's own. */
	if (!runner_has(cfg, "vsock") && devinst_parse(cfg, devices_find_option("vsock", 0), "",
	    err->msg, sizeof(err->msg)))
		return err->status = RUNNER_EXIT_FAILED, -EINVAL;
	/* rdinit: ringvm-init is PID 1 whatever the user's archive has as /init. */
	snprintf(cfg->run.params, sizeof(cfg->run.params), "rdinit=/ringvm/init%s",
	    cfg->run.console ? "" : " quiet");
	if (cfg->run.root && (r = runner_root(cfg, cfg->run.params, sizeof(cfg->run.params), err)))
		return r;
	cpio_init(c, RUNNER_INITRAMFS_MAX);
	/* kmod_pack makes ringvm/ first; init goes in after it. */
	r = runner_modules(c, cfg, why, sizeof(why));
	if (!r)
		r = cpio_add_file(c, "ringvm/init", 0755, init, why, sizeof(why));
	if (!r && !cfg->initrd && !cfg->run.root)
		r = runner_busybox(c, why, sizeof(why));
	if (!r)
		r = cpio_finish(c, why, sizeof(why));
	if (r)
		return rv_fail(err, RV_EXIT_FAILURE, 0, "ringvm's initramfs: %s", why);
	cfg->initrd_extra = c->buf;
	cfg->initrd_extra_len = c->len;
	cfg->cmdline_extra = cfg->run.params;
	return 0;
}

void runner_boot_free(struct rv_config *cfg)
{
	cpio_free(&cfg->run.initramfs);
	cfg->initrd_extra = NULL;
	cfg->initrd_extra_len = 0;
}
