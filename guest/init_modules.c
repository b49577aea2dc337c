/*
 * init_modules.c: load the kernel modules the initramfs lists in
 * /ringvm/modules (virtio transports, vsock, block and file system
 * drivers), in the listed order, since no modprobe resolves dependencies
 * here: the image builder writes them dependencies first (ringvm's own
 * initramfs: /ringvm/mod/NNN-NAME.ko, listed with absolute paths).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/module.h>

#include "init.h"

#define INIT_MODULES_LIST_MAX (64 * 1024)	/* bytes of list read; the rest ignored */

/*
 * init_modules_flags: finit_module flags for `path`: a compressed module
 * (.ko.xz, .ko.zst, .ko.gz, which ringvm passes through unchanged) is
 * decompressed by the kernel (CONFIG_MODULE_DECOMPRESS, Linux 5.17).
 */
static int init_modules_flags(const char *path)
{
	static const char *const suffix[] = { ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		size_t n = strlen(suffix[i]);

		if (len > n && !strcmp(path + len - n, suffix[i]))
			return MODULE_INIT_COMPRESSED_FILE;
	}
	return 0;
}

/* init_modules_one: load the module file at `path`; EEXIST is success. */
static int init_modules_one(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0) {
		r = -errno;
		init_warn("module %s", path);
		return r;
	}
	/* glibc 2.36 has no wrapper for finit_module(2). */
	if (syscall(SYS_finit_module, fd, "", init_modules_flags(path)) < 0 && errno != EEXIST) {
		r = -errno;
		init_warn("loading module %s", path);
	}
	close(fd);
	return r;
}

/* init_modules_read: read up to cap-1 bytes of the list into buf; NUL-terminated. */
static ssize_t init_modules_read(const char *list_path, char *buf, size_t cap)
{
	int fd = open(list_path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have < cap - 1) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (ssize_t)have;
}

int init_modules_load(const char *list_path)
{
	char buf[INIT_MODULES_LIST_MAX];
	ssize_t n = init_modules_read(list_path, buf, sizeof(buf));
	int failed = 0;

	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		errno = (int)-n;
		init_warn("reading %s", list_path);
		return (int)n;
	}
	for (char *line = buf, *next; *line; line = next) {
		size_t len = strcspn(line, "\n");

		next = line + len + (line[len] == '\n');
		line[len] = '\0';
		/* Trailing blanks and a carriage return are not part of a path. */
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (init_modules_one(line) < 0)
			failed++;
	}
	return failed;
}
