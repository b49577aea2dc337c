/*
 * kmod.c: a guest kernel's release, its module files in load order, and
 * their place in ringvm's initramfs (kmod.h). The dependency graph itself
 * is kmod_dep.c's; this file reads the files, beneath the module directory.
 * Reference for the version field: Documentation/arch/x86/boot.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "kmod.h"

#define KMOD_HDR_LEN 0x210		/* the setup header up to kernel_version */
#define KMOD_VERSION_SCAN 128		/* bytes of the version text looked at */
#define KMOD_SCAN_CHUNK (1u << 20)	/* an ELF vmlinux is scanned for its banner this much at a time */
/* KMOD_GUEST_DIR and KMOD_GUEST_LIST as archive names (relative to the root). */
#define KMOD_ENTRY_DIR "ringvm/mod"
#define KMOD_ENTRY_LIST "ringvm/modules"

static uint16_t kmod_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* kmod_pread_all: `len` bytes at `off`, or -errno (-ENODATA when the file is shorter). */
static int kmod_pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, (uint8_t *)buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

/*
 * kmod_release: the release that starts `text` (`n` bytes), up to a space or
 * a NUL, into `ver`. It becomes a directory name on the host
 * (/lib/modules/<release>), so only what releases are made of passes: no
 * '/', no "..". Returns 0 or -errno with a reason (kmod_kernel_version's).
 */
static int kmod_release(const uint8_t *text, size_t n, char *ver, size_t len, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < n && text[i] != ' ' && text[i] != '\0'; i++) {
		if (!(text[i] >= 'a' && text[i] <= 'z') && !(text[i] >= 'A' && text[i] <= 'Z') &&
		    !(text[i] >= '0' && text[i] <= '9') && !strchr("._+~-", text[i]))
			break;
	}
	if (i == 0 || i == n || (text[i] != ' ' && text[i] != '\0') || i >= KMOD_VERSION_LEN ||
	    (text[0] == '.' && (i == 1 || (i == 2 && text[1] == '.')))) {
		snprintf(err, errlen, "has a kernel version string that is not a release name");
		return -ENODATA;
	}
	if (i >= len) {
		snprintf(err, errlen, "has a kernel release of %zu bytes, too long here", i);
		return -ENAMETOOLONG;
	}
	memcpy(ver, text, i);
	ver[i] = '\0';
	return 0;
}


/*
 * kmod_elf_version: an ELF vmlinux (or an arm64 Image) has no boot header; its release is in
 * the banner /proc/version prints, "Linux version <release> (...". The
 * file is scanned for the first such text whose release passes
 * kmod_release, KMOD_SCAN_CHUNK bytes at a time with an overlap so that no
 * banner is cut between chunks.
 */
static int kmod_elf_version(int fd, uint64_t size, char *ver, size_t len, char *err,
    size_t errlen)
{
	static const char tag[] = "Linux version ";
	const size_t tl = sizeof(tag) - 1, keep = tl + KMOD_VERSION_SCAN;
	uint8_t *buf = malloc(KMOD_SCAN_CHUNK + keep);
	uint64_t off = 0;
	size_t have = 0;
	int r = -ENODATA;

	if (!buf) {
		snprintf(err, errlen, "cannot be scanned for its version: out of memory");
		return -ENOMEM;
	}
	while (off < size && r == -ENODATA) {
		size_t want = size - off < KMOD_SCAN_CHUNK ? (size_t)(size - off) : KMOD_SCAN_CHUNK;
		const uint8_t *p = buf, *end;
		int e = kmod_pread_all(fd, buf + have, want, (off_t)off);

		if (e < 0) {
			snprintf(err, errlen, "cannot be read: %s", strerror(-e));
			r = e;
			break;
		}
		off += want;
		have += want;
		end = buf + have;
		while ((p = memmem(p, (size_t)(end - p), tag, tl)) != NULL) {
			/* A banner too near the end waits for the next chunk, unless this is the last. */
			if ((size_t)(end - p) < keep && off < size)
				break;
			if (kmod_release(p + tl, (size_t)(end - p) - tl < KMOD_VERSION_SCAN ?
			    (size_t)(end - p) - tl : KMOD_VERSION_SCAN, ver, len, err, errlen) == 0) {
				r = 0;
				break;
			}
			p += tl;
		}
		if (r == 0)
			break;
		/* Keep the tail: a banner may start in it. */
		if (have > keep) {
			memmove(buf, end - keep, keep);
			have = keep;
		}
	}
	free(buf);
	if (r == -ENODATA)
		snprintf(err, errlen, "is an ELF vmlinux with no \"Linux version\" banner; name the "
		    "modules with --modules DIR");
	return r;
}

int kmod_kernel_version(int fd, char *ver, size_t len, char *err, size_t errlen)
{
	uint8_t hdr[KMOD_HDR_LEN], text[KMOD_VERSION_SCAN];
	uint64_t size, off, setup_end;
	size_t n;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot be examined: %s", strerror(-r));
		return r;
	}
	size = (uint64_t)st.st_size;
	if (!S_ISREG(st.st_mode) || size < KMOD_HDR_LEN) {
		snprintf(err, errlen, "is not a bzImage (too small or not a regular file)");
		return -ENOEXEC;
	}
	r = kmod_pread_all(fd, hdr, sizeof(hdr), 0);
	if (r < 0) {
		snprintf(err, errlen, "cannot be read: %s", strerror(-r));
		return r;
	}
	/*
	 * An ELF vmlinux and an arm64 Image ("ARM\x64" at 0x38) have no version
	 * field: both hold the kernel's text uncompressed, banner included.
	 */
	if (!memcmp(hdr, "\177ELF", 4) || !memcmp(hdr + 0x38, "ARM\x64", 4))
		return kmod_elf_version(fd, size, ver, len, err, errlen);
	if (memcmp(hdr + 0x202, "HdrS", 4)) {
		snprintf(err, errlen, "is not a bzImage (no HdrS boot header at 0x202)");
		return -ENOEXEC;
	}
	/* kernel_version exists from protocol 2.00; 0 means "no string". */
	off = kmod_rd16(hdr + 0x20e);
	if (kmod_rd16(hdr + 0x206) < 0x0200 || off == 0) {
		snprintf(err, errlen, "has no kernel version string in its boot header");
		return -ENODATA;
	}
	/* The text lives in the setup code: (setup_sects + 1) sectors, 0 meaning 4. */
	off += 0x200;
	setup_end = (uint64_t)((hdr[0x1f1] ? hdr[0x1f1] : 4) + 1) * 512;
	if (off >= setup_end || off >= size) {
		snprintf(err, errlen, "has a kernel version pointer (%#llx) outside its %s",
		    (unsigned long long)off - 0x200, off >= size ? "file" : "setup code");
		return -ENODATA;
	}
	n = sizeof(text);
	if (n > setup_end - off)
		n = (size_t)(setup_end - off);
	if (n > size - off)
		n = (size_t)(size - off);
	r = kmod_pread_all(fd, text, n, (off_t)off);
	if (r < 0) {
		snprintf(err, errlen, "cannot be read: %s", strerror(-r));
		return r;
	}
	return kmod_release(text, n, ver, len, err, errlen);
}

int kmod_moddir(const char *base, const char *ver, char *dir, size_t dirlen, char *err,
    size_t errlen)
{
	struct stat st;
	int n;

	/* The release names one directory below base, never a path. */
	if (!*ver || strchr(ver, '/') || !strcmp(ver, ".") || !strcmp(ver, "..")) {
		snprintf(err, errlen, "'%.64s' is not a kernel release", ver);
		return -EINVAL;
	}
	n = snprintf(dir, dirlen, "%s/%s", base, ver);
	if (n < 0 || (size_t)n >= dirlen) {
		snprintf(err, errlen, "module directory name too long for kernel %s", ver);
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st) < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errlen, "no modules for kernel %s in %s: install "
			    "linux-image-%s or use --modules DIR", ver, dir, ver);
		else
			snprintf(err, errlen, "cannot use module directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "module directory %s is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

/*
 * kmod_open_beneath: open `path` below directory `dirfd`, refusing any
 * resolution (a symlink, "..") that leaves it. Without openat2 (kernels
 * before 5.6, or a seccomp filter), the textual checks of kmod_dep.c stand
 * alone and the last component must not be a symlink. Returns fd or -errno.
 */
static int kmod_open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		/* O_NONBLOCK: a FIFO planted in the tree must not block the open. */
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	return fd < 0 ? -errno : (int)fd;
}

/* kmod_open_file: kmod_open_beneath, and the result must be a regular file. */
static int kmod_open_file(int dirfd, const char *path, off_t *size)
{
	struct stat st;
	int fd = kmod_open_beneath(dirfd, path);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (size)
		*size = st.st_size;
	return fd;
}

/* kmod_slurp: the whole of `name` beneath dirfd, at most `max` bytes, in *buf. */
static int kmod_slurp(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	off_t size;
	int fd = kmod_open_file(dirfd, name, &size), r;

	if (fd < 0)
		return fd;
	if ((uint64_t)size > max) {
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)size;
	*buf = malloc(*len ? *len : 1);
	r = *buf ? kmod_pread_all(fd, *buf, *len, 0) : -ENOMEM;
	close(fd);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

/* The walk's check: the module file opens beneath the directory and is regular. */
struct kmod_check_ctx {
	int dirfd;
	const char *moddir;
};

static int kmod_check_file(void *arg, const char *path, char *err, size_t errlen)
{
	const struct kmod_check_ctx *ctx = arg;
	int fd = kmod_open_file(ctx->dirfd, path, NULL);

	if (fd < 0) {
		snprintf(err, errlen, "%s/%s is listed in modules.dep but cannot be used: %s",
		    ctx->moddir, path, fd == -EINVAL ? "not a regular file" : strerror(-fd));
		return fd == -ENOMEM ? fd : -ENOENT;
	}
	close(fd);
	return 0;
}

/* kmod_skip_add: record optional module `name` as left out, for `why`. */
static int kmod_skip_add(struct kmod_list *l, const char *name, const char *why)
{
	struct kmod_skip *s = reallocarray(l->skip, l->nskip + 1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	l->skip = s;
	s += l->nskip++;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->why, sizeof(s->why), "%s", why);
	return 0;
}

/*
 * kmod_want: add one wanted module's closure to `order`. An optional module
 * that cannot be had is recorded in l->skip and is no error, unless memory
 * ran out.
 */
static int kmod_want(struct kmod_dep *d, const char *want, int required,
    struct kmod_dep_mod **order, size_t *n, struct kmod_check_ctx *ctx, struct kmod_list *l,
    char *err, size_t errlen)
{
	char name[KMOD_NAME_LEN], why[KMOD_REASON_LEN];
	/* An optional module's reason goes to l->skip, not to the caller's err. */
	char *e = required ? err : why;
	size_t elen = required ? errlen : sizeof(why);
	struct kmod_dep_mod *m;
	int r;

	if (kmod_dep_norm(want, strlen(want), name) < 0) {
		snprintf(err, errlen, "'%.64s' is not a module name", want);
		return -EINVAL;
	}
	m = kmod_dep_find(d, name);
	if (m)
		r = kmod_walk(d, m, order, n, KMOD_MAX_LIST, kmod_check_file, ctx, e, elen);
	else if (kmod_dep_builtin(d, name))
		r = 0;		/* in the kernel already */
	else {
		snprintf(e, elen, "module %s is not in %s (neither in modules.dep nor built in)",
		    name, ctx->moddir);
		r = -ENOENT;
	}
	if (r < 0 && !required && r != -ENOMEM)
		r = kmod_skip_add(l, name, why);
	return r;
}

/* kmod_read_deps: parse moddir's modules.dep and (when there) modules.builtin. */
static int kmod_read_deps(int dirfd, const char *moddir, struct kmod_dep *d, char *err,
    size_t errlen)
{
	char *text, why[KMOD_REASON_LEN];
	size_t len;
	int r;

	r = kmod_slurp(dirfd, "modules.dep", KMOD_DEP_MAX_BYTES, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s/modules.dep: %s", moddir, r == -ENOENT ?
		    "missing (run depmod for this kernel)" : strerror(-r));
		return r;
	}
	r = kmod_dep_parse(d, text, len, why, sizeof(why));
	free(text);
	if (r < 0) {
		snprintf(err, errlen, "%s/%s", moddir, why);
		return r;
	}
	r = kmod_slurp(dirfd, "modules.builtin", KMOD_DEP_MAX_BYTES, &text, &len);
	if (r == -ENOENT)
		return 0;	/* an old or hand-made tree: nothing is known built in */
	if (r < 0) {
		snprintf(err, errlen, "%s/modules.builtin: %s", moddir, strerror(-r));
		goto fail;
	}
	r = kmod_dep_parse_builtin(d, text, len, why, sizeof(why));
	free(text);
	if (r < 0) {
		snprintf(err, errlen, "%s/%s", moddir, why);
		goto fail;
	}
	return 0;
fail:
	kmod_dep_free(d);
	return r;
}

int kmod_resolve(const char *moddir, const char *const *required,
    const char *const *optional, struct kmod_list *out, char *err, size_t errlen)
{
	struct kmod_dep_mod *order[KMOD_MAX_LIST];
	struct kmod_check_ctx ctx = { -1, moddir };
	struct kmod_dep d;
	size_t n = 0, i;
	int r;

	memset(out, 0, sizeof(*out));
	ctx.dirfd = open(moddir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0) {
		r = -errno;
		snprintf(err, errlen, "module directory %s: %s", moddir, strerror(-r));
		return r;
	}
	r = kmod_read_deps(ctx.dirfd, moddir, &d, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; r == 0 && required && required[i]; i++)
		r = kmod_want(&d, required[i], 1, order, &n, &ctx, out, err, errlen);
	for (i = 0; r == 0 && optional && optional[i]; i++)
		r = kmod_want(&d, optional[i], 0, order, &n, &ctx, out, err, errlen);
	if (r == 0) {
		out->file = calloc(n ? n : 1, sizeof(*out->file));
		r = out->file ? 0 : -ENOMEM;
	}
	for (i = 0; r == 0 && i < n; i++) {
		out->file[i].path = strdup(order[i]->path);
		if (!out->file[i].path) {
			r = -ENOMEM;
			break;
		}
		memcpy(out->file[i].name, order[i]->name, KMOD_NAME_LEN);
		out->n = i + 1;
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory resolving modules in %s", moddir);
	kmod_dep_free(&d);
out:
	close(ctx.dirfd);
	if (r < 0)
		kmod_list_free(out);
	return r;
}

void kmod_list_free(struct kmod_list *l)
{
	size_t i;

	for (i = 0; l->file && i < l->n; i++)
		free(l->file[i].path);
	free(l->file);
	free(l->skip);
	memset(l, 0, sizeof(*l));
}

int kmod_pack(struct cpio *c, const char *moddir, const struct kmod_list *l, char *err,
    size_t errlen)
{
	/* A guest path, "/ringvm/mod/NNN-NAME.ko.zst", is under 80 bytes; one list line each. */
	char name[128], *list;
	size_t i, used = 0, len;
	int dirfd, fd, r;

	if (l->n > KMOD_MAX_LIST) {
		snprintf(err, errlen, "more than %u modules to pack", KMOD_MAX_LIST);
		return -E2BIG;
	}
	list = malloc(l->n * sizeof(name) + 1);
	if (!list) {
		snprintf(err, errlen, "out of memory for the module list");
		return -ENOMEM;
	}
	dirfd = open(moddir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		snprintf(err, errlen, "module directory %s: %s", moddir, strerror(-r));
		goto out;
	}
	r = cpio_add_dir(c, "ringvm", 0755, err, errlen);
	if (r == 0)
		r = cpio_add_dir(c, KMOD_ENTRY_DIR, 0755, err, errlen);
	for (i = 0; r == 0 && i < l->n; i++) {
		len = (size_t)snprintf(name, sizeof(name), "%s/%03u-%s%s", KMOD_GUEST_DIR,
		    (unsigned)i + 1, l->file[i].name, kmod_dep_suffix(l->file[i].path));
		fd = kmod_open_file(dirfd, l->file[i].path, NULL);
		if (fd < 0) {
			r = fd;
			snprintf(err, errlen, "%s/%s cannot be used: %s", moddir, l->file[i].path,
			    fd == -EINVAL ? "not a regular file" : strerror(-fd));
			break;
		}
		/* The entry's name is the guest path without its leading '/'. */
		r = cpio_add_fd(c, name + 1, 0644, fd, err, errlen);
		close(fd);
		if (r == 0) {
			memcpy(list + used, name, len);
			list[used + len] = '\n';
			used += len + 1;
		}
	}
	if (r == 0)
		r = cpio_add_data(c, KMOD_ENTRY_LIST, 0644, list, used, err, errlen);
	close(dirfd);
out:
	free(list);
	return r;
}
