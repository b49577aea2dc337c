/*
 * kmod.h: kernel modules for the guest: which kernel a bzImage is, which
 * module files a set of wanted modules needs and in what order, and how
 * they go into ringvm's own initramfs for ringvm-init to load.
 *
 * The layout in the guest (kmod_pack): each module file as
 *   /ringvm/mod/NNN-NAME.ko            (NNN = load position from 001)
 * and the list ringvm-init reads,
 *   /ringvm/modules                    one absolute path per line, in load order.
 * A flat directory of its own keeps clear of the user's /lib/modules (a
 * later archive wins for a duplicate name) and needs no depmod in the guest.
 *
 * Compressed modules (".ko.xz", ".ko.zst", ".ko.gz", keeping their suffix in
 * the guest) are passed through unchanged, not decompressed on the host:
 * Debian 12's kernels ship plain .ko files, and ringvm then needs no
 * liblzma/libzstd/zlib (the design card fixes its libraries) nor a
 * decompressor running on host bytes from a user-supplied tree. The cost:
 * a guest kernel whose modules are compressed must have
 * CONFIG_MODULE_DECOMPRESS (Linux 5.17 and later) for the matching format,
 * and ringvm-init must hand such a file to finit_module with
 * MODULE_INIT_COMPRESSED_FILE.
 */
#ifndef RINGVM_KMOD_H
#define RINGVM_KMOD_H

#include <stddef.h>

#include "cpio.h"
#include "kmod_dep.h"
#include "kmod_walk.h"

#define KMOD_VERSION_LEN 65	/* a kernel release with its NUL (utsname's 64 + 1) */
#define KMOD_MAX_LIST 256	/* module files one resolution may produce */
#define KMOD_REASON_LEN 160	/* a skipped module's reason */
#define KMOD_GUEST_DIR "/ringvm/mod"
#define KMOD_GUEST_LIST "/ringvm/modules"

struct kmod_file {
	char *path;			/* relative to the module directory */
	char name[KMOD_NAME_LEN];	/* normalized module name */
};

struct kmod_skip {
	char name[KMOD_NAME_LEN];	/* a "wanted if present" module left out */
	char why[KMOD_REASON_LEN];	/* one line: absent, or what it lacks */
};

struct kmod_list {
	struct kmod_file *file;		/* in load order, each once */
	size_t n;
	struct kmod_skip *skip;		/* optional modules not found or not loadable */
	size_t nskip;
};

/*
 * kmod_kernel_version: read the release ("6.1.0-56-amd64") of the x86
 * kernel open on `fd`. A bzImage: the setup header's kernel_version field
 * (0x20e, boot protocol 2.00 and later) points, less 0x200, at a
 * NUL-terminated text in the setup code whose first word is the release.
 * An ELF vmlinux: the first "Linux version <release> " banner in the file
 * (the text /proc/version prints) whose release passes the checks below. Every offset is
 * checked against the file's size, and the release must be a usable
 * directory name ([A-Za-z0-9._+~-], not "." or "..", under
 * KMOD_VERSION_LEN bytes). Writes it to `ver` (`len` bytes) and returns 0,
 * or -errno with a reason that completes "kernel 'PATH' ...":
 *   -ENOEXEC       not a bzImage or ELF (too small, no "HdrS")
 *   -ENODATA       a bzImage without a version string, or with a bad one;
 *                  an ELF with no banner
 *   -ENAMETOOLONG  the release does not fit in `len`
 *   -errno         fstat or pread failed
 */
int kmod_kernel_version(int fd, char *ver, size_t len, char *err, size_t errlen);

/*
 * kmod_moddir: write "<base>/<ver>" (base is "/lib/modules" but for tests)
 * to `dir` and check that it is a directory. Returns 0, or -errno with a
 * one-line reason naming the fix: -ENOENT ("no modules for kernel VER in
 * DIR: install linux-image-VER or use --modules DIR"), -ENOTDIR,
 * -ENAMETOOLONG, -EINVAL (`ver` empty, ".", ".." or holding a '/').
 */
int kmod_moddir(const char *base, const char *ver, char *dir, size_t dirlen, char *err,
    size_t errlen);

/*
 * kmod_resolve: the files to load, in order, for the modules named in the
 * NULL-terminated arrays `required` and `optional` (either may be NULL;
 * names as modprobe takes them, '-' and '_' alike), from `moddir`'s
 * modules.dep and modules.builtin (the latter may be absent). Dependencies
 * come before what needs them, each file once; a built-in module needs no
 * file. A required module that is absent, or whose dependencies are, fails
 * the call; an optional one is left out and listed in out->skip. Every
 * path stays inside moddir (checked in the text, and opened with
 * RESOLVE_BENEATH), and every file is checked to be a regular file.
 * Returns 0 with `out` filled (free it with kmod_list_free), or -errno with
 * a one-line reason and `out` empty:
 *   -ENOENT   moddir or its modules.dep missing, a required module absent
 *   -EINVAL   a bad module name, or malformed modules.dep/modules.builtin
 *   -ELOOP    a dependency cycle; -E2BIG: over KMOD_MAX_LIST files
 *   -EFBIG    a modules.* file over KMOD_DEP_MAX_BYTES; -ENOMEM; -errno
 */
int kmod_resolve(const char *moddir, const char *const *required,
    const char *const *optional, struct kmod_list *out, char *err, size_t errlen);

/* kmod_list_free: release what kmod_resolve put in `l`, and empty it. */
void kmod_list_free(struct kmod_list *l);

/*
 * kmod_pack: add to archive `c` the directories ringvm and ringvm/mod, each
 * file of `l` (read from `moddir`, beneath it) as ringvm/mod/NNN-NAME.SUFFIX
 * with mode 0644, then ringvm/modules listing their absolute guest paths in
 * load order (empty when `l` is). Returns 0, or -errno with a one-line
 * reason (cpio_add_*'s errors, -EFBIG at the archive's cap included, and
 * open failures); entries added before a failure stay in the archive.
 */
int kmod_pack(struct cpio *c, const char *moddir, const struct kmod_list *l, char *err,
    size_t errlen);

#endif
