/*
 * test_kmod_version.c: a bzImage's kernel release (kmod_kernel_version) on
 * images made here, each field bounds-checked, and on this machine's
 * kernels: every /boot/vmlinuz-VER must read as VER. Then the module tree
 * of this machine's running kernel, or else of an installed Debian kernel
 * (/lib/modules/VER): the vsock transport resolves after vsock and
 * vmw_vsock_virtio_transport_common, ringvm's usual module set resolves
 * with every file after the files modules.dep says it needs, and packs
 * into an archive whose files match the tree byte for byte. A machine
 * without an installed kernel reports each check it could not make as a
 * skip ("ok - ... # SKIP").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cpio.h"
#include "kmod.h"
#include "newc.h"
#include "tmptree.h"
#include "unit.h"

static struct unit u = { .file = "kmod_version" };

#define IMG_LEN 0x1400	/* setup_sects 4: setup code up to 0xa00 */

/* image: a minimal bzImage header with kernel_version `ptr` and `text` at ptr + 0x200. */
static void image(uint8_t *img, unsigned setup_sects, unsigned proto, unsigned ptr,
    const char *text)
{
	memset(img, 0, IMG_LEN);
	img[0x1f1] = (uint8_t)setup_sects;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = (uint8_t)proto;
	img[0x207] = (uint8_t)(proto >> 8);
	img[0x20e] = (uint8_t)ptr;
	img[0x20f] = (uint8_t)(ptr >> 8);
	if (text && ptr + 0x200 + strlen(text) <= IMG_LEN)
		memcpy(img + ptr + 0x200, text, strlen(text));
}

/* version: kmod_kernel_version on the first `len` bytes of img; the release or "E<errno>". */
static const char *version(const uint8_t *img, size_t len, size_t verlen)
{
	static char out[256];
	char ver[KMOD_VERSION_LEN], err[256];
	int fd = memfd_create("bzimage", MFD_CLOEXEC), r;

	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		return "memfd failed";
	r = kmod_kernel_version(fd, ver, verlen, err, sizeof(err));
	close(fd);
	if (r < 0)
		snprintf(out, sizeof(out), "E%d", -r);
	else
		snprintf(out, sizeof(out), "%s", ver);
	return out;
}

#define VER(want, len, verlen, what) do { \
	const char *got_ = version(img, (len), (verlen)); \
	if (!UNIT_OK(&u, !strcmp(got_, (want)), (what))) \
		printf("#   got '%s', want '%s'\n", got_, (want)); \
} while (0)

static void test_synthetic(void)
{
	static const char debian[] = "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP";
	uint8_t img[IMG_LEN];
	char big[100];

	image(img, 4, 0x20f, 0x300, debian);
	VER("6.1.0-56-amd64", IMG_LEN, KMOD_VERSION_LEN, "the first word of kernel_version");
	image(img, 0, 0x20f, 0x300, debian);
	VER("6.1.0-56-amd64", IMG_LEN, KMOD_VERSION_LEN, "setup_sects 0 means 4");
	image(img, 4, 0x20f, 0x300, "6.12.9+rv~1\0garbage");
	VER("6.12.9+rv~1", IMG_LEN, KMOD_VERSION_LEN, "a release ended by NUL");
	VER("E36", IMG_LEN, 5, "a release longer than the buffer is -ENAMETOOLONG");
	VER("E8", 0x100, KMOD_VERSION_LEN, "a file too small is -ENOEXEC");
	memcpy(img + 0x202, "HdrX", 4);
	VER("E8", IMG_LEN, KMOD_VERSION_LEN, "no HdrS magic is -ENOEXEC");
	memcpy(img, "\177ELF", 4);
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "an ELF vmlinux without a banner is -ENODATA");
	image(img, 4, 0x20f, 0, NULL);
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "kernel_version 0 is -ENODATA");
	image(img, 4, 0x0100, 0x300, debian);
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "protocol before 2.00 has no version");
	image(img, 1, 0x20f, 0x300, debian);
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "a pointer past the setup code is refused");
	image(img, 4, 0x20f, 0x300, debian);
	VER("E61", 0x480, KMOD_VERSION_LEN, "a pointer past the end of the file is refused");
	VER("E61", 0x506, KMOD_VERSION_LEN, "a text cut by the end of the file is refused");
	image(img, 4, 0x20f, 0x7fc, "6.1");	/* the last bytes of the setup code, no NUL */
	img[0x9ff] = '0';
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "a text cut by the end of the setup code is refused");
	image(img, 4, 0x20f, 0x300, "../../etc x");
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "a release with '/' is refused");
	image(img, 4, 0x20f, 0x300, ".. x");
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "a release '..' is refused");
	image(img, 4, 0x20f, 0x300, " 6.1");
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "an empty first word is refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	image(img, 4, 0x20f, 0x300, big);
	VER("E61", IMG_LEN, KMOD_VERSION_LEN, "a release over 64 bytes is refused");
}

/* elf_version: kmod_kernel_version on an ELF of `len` bytes with `text` at `at`. */
static const char *elf_version(size_t len, size_t at, const char *text)
{
	uint8_t *img = calloc(1, len);
	const char *v;

	memcpy(img, "\177ELF", 4);
	if (text)
		memcpy(img + at, text, strlen(text));
	v = version(img, len, KMOD_VERSION_LEN);
	free(img);
	return v;
}

#define ELFVER(want, len, at, text, what) do { \
	const char *got_ = elf_version((len), (at), (text)); \
	if (!UNIT_OK(&u, !strcmp(got_, (want)), (what))) \
		printf("#   got '%s', want '%s'\n", got_, (want)); \
} while (0)

/* test_elf: an ELF vmlinux's release comes from its "Linux version" banner. */
static void test_elf(void)
{
	static const char banner[] = "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)";
	const size_t mib = 1u << 20;

	ELFVER("6.1.0-56-amd64", 3 * mib, 2 * mib + 77, banner, "ELF: the banner's release");
	ELFVER("6.1.0-56-amd64", 3 * mib, mib - 5, banner, "ELF: a banner across a 1 MiB chunk");
	ELFVER("6.1.0-56-amd64", 4096, 4096 - sizeof(banner) + 1, banner,
	    "ELF: a banner that ends the file");
	ELFVER("E61", 2 * mib, 100, "Linux version %s (", "ELF: a format string is no banner");
	ELFVER("E61", 2 * mib, 100, "Linux version ../../etc (x)", "ELF: a release with '/' is refused");
	ELFVER("E61", 2 * mib, 0, NULL, "ELF: no banner is -ENODATA");
}

/* test_arm64: an arm64 Image ("ARM\x64" at 0x38) is scanned for its banner too. */
static void test_arm64(void)
{
	static const char banner[] = "Linux version 6.1.0-57-arm64 (debian-kernel@lists.debian.org)";
	uint8_t *img = calloc(1, 1u << 20);
	const char *v;

	memcpy(img + 0x38, "ARM\x64", 4);
	memcpy(img + 300000, banner, sizeof(banner) - 1);
	v = version(img, 1u << 20, KMOD_VERSION_LEN);
	UNIT_OK(&u, !strcmp(v, "6.1.0-57-arm64"), "arm64 Image: the banner's release");
	memset(img + 300000, 0, sizeof(banner));
	v = version(img, 1u << 20, KMOD_VERSION_LEN);
	UNIT_OK(&u, !strcmp(v, "E61"), "arm64 Image: no banner is -ENODATA");
	free(img);
}

/* test_boot: every /boot/vmlinuz-VER reads as VER; the first VER with modules goes to `ver`. */
static void test_boot(char *ver, size_t len)
{
	char path[512], got[KMOD_VERSION_LEN], err[256], msg[600], dir[600];
	DIR *d = opendir("/boot");
	struct dirent *e;
	unsigned seen = 0;
	int fd, r;

	ver[0] = '\0';
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "vmlinuz-", 8))
			continue;
		snprintf(path, sizeof(path), "/boot/%.400s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not readable by this user */
		r = kmod_kernel_version(fd, got, sizeof(got), err, sizeof(err));
		close(fd);
		snprintf(msg, sizeof(msg), "%s reads as %s", path, e->d_name + 8);
		if (!UNIT_OK(&u, r == 0 && !strcmp(got, e->d_name + 8), msg))
			printf("#   got %d '%s' (%s)\n", r, r ? "" : got, r ? err : "");
		snprintf(dir, sizeof(dir), "/lib/modules/%s", got);
		if (r == 0 && !ver[0] && access(dir, F_OK) == 0)
			snprintf(ver, len, "%s", got);
		seen++;
	}
	if (d)
		closedir(d);
	if (!seen)
		printf("ok - kmod_version: /boot/vmlinuz-* # SKIP no installed kernel\n");
}

/* dep_line: the modules.dep line of `path` (a copy), or NULL. */
static char *dep_line(const char *deps, const char *path)
{
	size_t n = strlen(path);

	for (const char *p = deps; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, path, n) && p[n] == ':')
			return strndup(p, strcspn(p, "\n"));
	return NULL;
}

/* before: whether every dependency modules.dep lists for file i comes earlier in l. */
static int before(const struct kmod_list *l, size_t i, const char *deps)
{
	char *line = dep_line(deps, l->file[i].path), *tok, *save;
	int ok = line != NULL, found;

	for (tok = line ? strtok_r(strchr(line, ':') + 1, " ", &save) : NULL; tok;
	    tok = strtok_r(NULL, " ", &save)) {
		found = 0;
		for (size_t j = 0; j < i; j++)
			found |= !strcmp(l->file[j].path, tok);
		ok &= found;
	}
	free(line);
	return ok;
}

static size_t find(const struct kmod_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->file[i].name, name))
			return i;
	return (size_t)-1;
}

static void test_tree(const char *dir)
{
	const char *const vsock[] = { "vmw_vsock_virtio_transport", NULL };
	const char *const req[] = { "vmw_vsock_virtio_transport", "virtio_pci", "virtio_blk",
		"virtio_net", NULL };
	const char *const opt[] = { "overlay", "ext4", "squashfs", "erofs", "virtio-rng", NULL };
	char err[512], path[600], *deps, name[160];
	struct kmod_list l;
	struct cpio c;
	struct newc a;
	size_t len, t, ok = 1;
	const struct newc_entry *e;
	void *want;

	printf("# kmod_version: module tree %s\n", dir);
	deps = tmptree_read(dir, "modules.dep", &len);
	UNIT_OK(&u, kmod_resolve(dir, vsock, NULL, &l, err, sizeof(err)) == 0 && l.n > 0 &&
	    !strcmp(l.file[l.n - 1].name, "vmw_vsock_virtio_transport"), "resolve the vsock transport");
	t = find(&l, "vmw_vsock_virtio_transport");
	UNIT_OK(&u, find(&l, "vsock") < t && find(&l, "vmw_vsock_virtio_transport_common") < t &&
	    find(&l, "vsock") < find(&l, "vmw_vsock_virtio_transport_common"),
	    "vsock, then vmw_vsock_virtio_transport_common, before the transport");
	UNIT_OK(&u, find(&l, "virtio_ring") < find(&l, "virtio"), "virtio_ring before virtio");
	kmod_list_free(&l);

	if (!UNIT_OK(&u, kmod_resolve(dir, req, opt, &l, err, sizeof(err)) == 0,
	    "resolve ringvm's module set"))
		printf("#   %s\n", err);
	for (size_t i = 0; i < l.n; i++) {
		ok &= deps && before(&l, i, deps);
		for (size_t j = 0; j < i; j++)
			ok &= strcmp(l.file[i].path, l.file[j].path) != 0;
	}
	UNIT_OK(&u, ok && l.n > 0, "each file once, after every file modules.dep says it needs");
	for (size_t i = 0; i < l.nskip; i++)
		printf("# kmod_version: skipped %s: %s\n", l.skip[i].name, l.skip[i].why);
	cpio_init(&c, 256u << 20);
	UNIT_OK(&u, kmod_pack(&c, dir, &l, err, sizeof(err)) == 0 &&
	    cpio_finish(&c, err, sizeof(err)) == 0 && newc_parse(c.buf, c.len, &a, err,
	    sizeof(err)) == 0, "pack the set and read it back");
	for (size_t i = 0; i < l.n; i++) {
		snprintf(name, sizeof(name), "ringvm/mod/%03zu-%s%s", i + 1, l.file[i].name,
		    kmod_dep_suffix(l.file[i].path));
		snprintf(path, sizeof(path), "%s", l.file[i].path);
		want = tmptree_read(dir, path, &len);
		e = newc_find(&a, name);
		ok &= want && e && e->size == len && !memcmp(e->data, want, len);
		free(want);
	}
	e = newc_find(&a, "ringvm/modules");
	UNIT_OK(&u, ok && e && e->size > 0, "every packed module matches its file");
	printf("# kmod_version: %zu files, archive %zu bytes\n", l.n, c.len);
	newc_free(&a);
	cpio_free(&c);
	kmod_list_free(&l);
	free(deps);
}

int main(void)
{
	char ver[KMOD_VERSION_LEN], dir[600];
	struct utsname un;

	test_synthetic();
	test_elf();
	test_arm64();
	test_boot(ver, sizeof(ver));
	/* The running kernel's tree when there is one, else an installed kernel's. */
	if (uname(&un) == 0) {
		snprintf(dir, sizeof(dir), "/lib/modules/%.64s", un.release);
		if (access(dir, F_OK) == 0)
			snprintf(ver, sizeof(ver), "%.64s", un.release);
	}
	snprintf(dir, sizeof(dir), "/lib/modules/%s", ver);
	if (ver[0] && access(dir, R_OK) == 0)
		test_tree(dir);
	else
		printf("ok - kmod_version: a real module tree # SKIP none installed\n");
	return unit_done(&u);
}
