/*
 * test_cpio.c: the newc writer (src/cpio.c). What it writes is read back
 * three ways: byte for byte against a header written out by hand, with the
 * independent reader of newc.c (alone and after another archive, as the
 * kernel sees an appended initramfs), and with the host's GNU cpio (-t to
 * list, -i to extract and compare bytes). Also: the name rules, the size
 * cap (to the byte, and before a large file is read), and the
 * archive-unchanged-on-failure promise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "newc.h"
#include "tmptree.h"
#include "unit.h"

static struct unit u = { .file = "cpio" };

/* A header written out by hand: "ringvm", directory 0755, inode 1. */
static const char golden_dir[] =
    "070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000"
    "00000000" "00000000" "00000000" "00000000" "00000000" "00000007" "00000000"
    "ringvm\0\0\0\0";
static const char golden_trailer[] =
    "070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000"
    "00000000" "00000000" "00000000" "00000000" "00000000" "0000000B" "00000000"
    "TRAILER!!!\0\0\0\0";

static void test_golden(void)
{
	struct cpio c;
	char err[256];
	size_t hl = sizeof(golden_dir) - 1, tl = sizeof(golden_trailer) - 1;

	cpio_init(&c, 1 << 20);
	UNIT_OK(&u, cpio_add_dir(&c, "ringvm", 0755, err, sizeof(err)) == 0, "add a directory");
	UNIT_OK(&u, cpio_finish(&c, err, sizeof(err)) == 0, "finish");
	UNIT_OK(&u, hl == 120 && tl == 124, "hand-written header lengths are 4-aligned");
	UNIT_OK(&u, c.len == 512, "a small archive is one 512-byte block");
	UNIT_OK(&u, c.len >= hl + tl && !memcmp(c.buf, golden_dir, hl),
	    "directory header matches the hand-written bytes");
	UNIT_OK(&u, c.len >= hl + tl && !memcmp(c.buf + hl, golden_trailer, tl),
	    "trailer matches the hand-written bytes");
	UNIT_OK(&u, c.len == 512 && c.buf[511] == 0 && c.buf[hl + tl] == 0,
	    "padding after the trailer is zeros");
	cpio_free(&c);
}

/* One of each kind, data lengths 0..5 to cover every padding case. */
static void build_sample(struct cpio *c, const char *host_file)
{
	char err[256], name[32];
	int r = 0;

	r |= cpio_add_dir(c, "etc", 0755, err, sizeof(err));
	r |= cpio_add_dir(c, "etc/sub", 0700, err, sizeof(err));
	for (unsigned i = 0; i <= 5; i++) {
		snprintf(name, sizeof(name), "etc/f%u", i);
		r |= cpio_add_data(c, name, 0640, "abcde", i, err, sizeof(err));
	}
	r |= cpio_add_symlink(c, "etc/link", "/etc/f3", err, sizeof(err));
	r |= cpio_add_file(c, "init", 0755, host_file, err, sizeof(err));
	UNIT_OK(&u, r == 0, "sample: directories, data of 0..5 bytes, a symlink, a host file");
}

static void test_readback(const char *dir, const uint8_t *blob, size_t blob_len)
{
	struct cpio c;
	struct newc a;
	char err[256], file[TMPTREE_PATH];
	const struct newc_entry *e;
	int inos_unique = 1, meta_zero = 1;

	snprintf(file, sizeof(file), "%s/blob", dir);
	cpio_init(&c, 1 << 20);
	build_sample(&c, file);
	UNIT_OK(&u, cpio_finish(&c, err, sizeof(err)) == 0, "finish the sample");
	UNIT_OK(&u, c.len % 512 == 0, "finished archive is a multiple of 512 bytes");
	if (!UNIT_OK(&u, newc_parse(c.buf, c.len, &a, err, sizeof(err)) == 0,
	    "independent reader parses the archive")) {
		printf("#   %s\n", err);
		cpio_free(&c);
		return;
	}
	UNIT_OK(&u, a.n == 10 && a.archives == 1, "ten entries and one trailer");
	for (size_t i = 0; i < a.n; i++) {
		meta_zero &= a.e[i].uid == 0 && a.e[i].gid == 0 && a.e[i].mtime == 0 &&
		    a.e[i].check == 0 && a.e[i].rdevmajor == 0 && a.e[i].ino != 0;
		for (size_t j = 0; j < i; j++)
			inos_unique &= a.e[i].ino != a.e[j].ino;
	}
	UNIT_OK(&u, meta_zero, "uid, gid, mtime 0 on every entry (reproducible)");
	UNIT_OK(&u, inos_unique, "inode numbers are unique");
	e = newc_find(&a, "etc/sub");
	UNIT_OK(&u, e && e->mode == (S_IFDIR | 0700) && e->size == 0, "directory mode and size");
	e = newc_find(&a, "etc/f3");
	UNIT_OK(&u, e && e->mode == (S_IFREG | 0640) && e->size == 3 && e->nlink == 1 &&
	    !memcmp(e->data, "abc", 3), "file mode, size and bytes");
	e = newc_find(&a, "etc/f0");
	UNIT_OK(&u, e && e->size == 0, "empty file");
	e = newc_find(&a, "etc/link");
	UNIT_OK(&u, e && e->mode == (S_IFLNK | 0777) && e->size == 7 &&
	    !memcmp(e->data, "/etc/f3", 7), "symlink mode and target");
	e = newc_find(&a, "init");
	UNIT_OK(&u, e && e->mode == (S_IFREG | 0755) && e->size == blob_len &&
	    !memcmp(e->data, blob, blob_len), "host file bytes, mode from the caller");
	newc_free(&a);
	cpio_free(&c);
}

/* The kernel reads an appended archive after the user's; the later name wins. */
static void test_concat(void)
{
	struct cpio c1, c2;
	struct newc a;
	char err[256];
	uint8_t *both;
	const struct newc_entry *e;

	cpio_init(&c1, 1 << 20);
	cpio_init(&c2, 1 << 20);
	cpio_add_data(&c1, "x", 0644, "one", 3, err, sizeof(err));
	cpio_add_data(&c1, "only1", 0644, "1", 1, err, sizeof(err));
	cpio_finish(&c1, err, sizeof(err));
	cpio_add_data(&c2, "x", 0644, "two!", 4, err, sizeof(err));
	cpio_finish(&c2, err, sizeof(err));
	both = malloc(c1.len + c2.len);
	memcpy(both, c1.buf, c1.len);
	memcpy(both + c1.len, c2.buf, c2.len);
	if (UNIT_OK(&u, newc_parse(both, c1.len + c2.len, &a, err, sizeof(err)) == 0,
	    "two concatenated archives parse")) {
		e = newc_find(&a, "x");
		UNIT_OK(&u, a.archives == 2 && e && e->size == 4 && !memcmp(e->data, "two!", 4),
		    "the later archive's file wins");
		UNIT_OK(&u, newc_find(&a, "only1") != NULL, "the earlier archive's other files stay");
		newc_free(&a);
	}
	free(both);
	cpio_free(&c1);
	cpio_free(&c2);
}

static void test_names(void)
{
	static const char *const bad[] = {
		"", "/init", "a/../b", "..", ".", "./a", "a//b", "a/", "a/.", "TRAILER!!!",
	};
	struct cpio c;
	char err[256], *longname;
	int all = 1;

	cpio_init(&c, 1 << 20);
	cpio_add_dir(&c, "ok", 0755, err, sizeof(err));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		all &= cpio_add_data(&c, bad[i], 0644, "x", 1, err, sizeof(err)) == -EINVAL &&
		    err[0] && !strchr(err, '\n');
	}
	UNIT_OK(&u, all, "bad names refused with one line each");
	longname = malloc(CPIO_NAME_MAX + 2);
	memset(longname, 'a', CPIO_NAME_MAX + 1);
	longname[CPIO_NAME_MAX + 1] = '\0';
	UNIT_OK(&u, cpio_add_dir(&c, longname, 0755, err, sizeof(err)) == -EINVAL,
	    "a name over CPIO_NAME_MAX refused");
	longname[CPIO_NAME_MAX] = '\0';
	UNIT_OK(&u, cpio_add_dir(&c, longname, 0755, err, sizeof(err)) == 0,
	    "a name of CPIO_NAME_MAX bytes taken");
	free(longname);
	UNIT_OK(&u, cpio_add_data(&c, "..a/b..", 0644, "x", 1, err, sizeof(err)) == 0,
	    "dots inside a component are fine");
	UNIT_OK(&u, cpio_add_dir(&c, "d", 010000, err, sizeof(err)) == -EINVAL,
	    "mode beyond 07777 refused");
	UNIT_OK(&u, cpio_add_symlink(&c, "l", "", err, sizeof(err)) == -EINVAL,
	    "empty symlink target refused");
	cpio_finish(&c, err, sizeof(err));
	UNIT_OK(&u, cpio_add_dir(&c, "late", 0755, err, sizeof(err)) == -EINVAL,
	    "no entry after finish");
	UNIT_OK(&u, cpio_finish(&c, err, sizeof(err)) == -EINVAL, "finish only once");
	cpio_free(&c);
}

static void test_cap(const char *dir)
{
	struct cpio c;
	char err[256], path[TMPTREE_PATH], buf[1024] = { 0 };
	size_t before;
	int fd;

	/* "f": header + name = 112; trailer 124; 112 + 788 + 124 = 1024. */
	cpio_init(&c, 1024);
	UNIT_OK(&u, cpio_add_data(&c, "f", 0644, buf, 789, err, sizeof(err)) == -EFBIG &&
	    c.len == 0, "one byte over the cap refused, archive unchanged");
	UNIT_OK(&u, cpio_add_data(&c, "f", 0644, buf, 788, err, sizeof(err)) == 0,
	    "exactly at the cap taken");
	before = c.len;
	UNIT_OK(&u, cpio_add_dir(&c, "d", 0755, err, sizeof(err)) == -EFBIG && c.len == before,
	    "nothing more fits");
	UNIT_OK(&u, cpio_finish(&c, err, sizeof(err)) == 0 && c.len == 1024,
	    "finish within the cap");
	cpio_free(&c);

	cpio_init(&c, 100);
	UNIT_OK(&u, cpio_finish(&c, err, sizeof(err)) == -EFBIG, "a cap under one block refused");
	cpio_free(&c);

	/* A 1 GiB sparse file against a 1 MiB cap: refused on its size, unread. */
	snprintf(path, sizeof(path), "%s/big", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	UNIT_OK(&u, fd >= 0 && ftruncate(fd, 1l << 30) == 0, "make a sparse 1 GiB file");
	close(fd);
	cpio_init(&c, 1 << 20);
	UNIT_OK(&u, cpio_add_file(&c, "big", 0644, path, err, sizeof(err)) == -EFBIG &&
	    c.len == 0 && c.alloc == 0, "a file over the cap refused before reading");
	UNIT_OK(&u, strstr(err, "cap") != NULL, "the reason names the cap");
	UNIT_OK(&u, cpio_add_file(&c, "no", 0644, "/nonexistent/file", err, sizeof(err)) ==
	    -ENOENT, "a missing file is -ENOENT");
	UNIT_OK(&u, cpio_add_file(&c, "dir", 0644, dir, err, sizeof(err)) == -EINVAL,
	    "a directory is not a regular file");
	cpio_free(&c);
}

/* run: a shell command's exit status (-1 if it did not exit). */
static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A user's initramfs made by GNU cpio, then ours appended: both parse as
 * the kernel would read them, and our file of the same name wins.
 */
static void test_after_host_archive(const char *dir)
{
	char err[256], cmd[2 * TMPTREE_PATH];
	struct cpio c;
	struct newc a;
	uint8_t *both;
	void *user;
	size_t ulen;
	const struct newc_entry *e;

	tmptree_puts(dir, "user/x", "user's");
	tmptree_puts(dir, "user/keep", "kept");
	snprintf(cmd, sizeof(cmd), "cd %s/user && printf 'x\\nkeep\\n' | "
	    "cpio -o -H newc --quiet > %s/user.cpio", dir, dir);
	UNIT_OK(&u, run(cmd) == 0, "cpio -o makes a user archive");
	user = tmptree_read(dir, "user.cpio", &ulen);
	cpio_init(&c, 1 << 20);
	cpio_add_data(&c, "x", 0644, "ours", 4, err, sizeof(err));
	cpio_finish(&c, err, sizeof(err));
	both = malloc(ulen + c.len);
	if (user && both) {
		memcpy(both, user, ulen);
		memcpy(both + ulen, c.buf, c.len);
	}
	if (UNIT_OK(&u, user && both && newc_parse(both, ulen + c.len, &a, err, sizeof(err)) == 0,
	    "GNU cpio's archive followed by ours parses")) {
		e = newc_find(&a, "x");
		UNIT_OK(&u, a.archives == 2 && e && e->size == 4 && !memcmp(e->data, "ours", 4) &&
		    newc_find(&a, "keep") != NULL, "after the user's archive, ours wins for x");
		newc_free(&a);
	}
	free(both);
	free(user);
	cpio_free(&c);
}

/* The host's GNU cpio reads the same archive: list it, extract it, compare. */
static void test_host_cpio(const char *dir, const uint8_t *blob, size_t blob_len)
{
	struct cpio c;
	char err[256], cmd[3 * TMPTREE_PATH], file[TMPTREE_PATH], out[TMPTREE_DIR], link[64];
	size_t len;
	uint8_t *got;
	char *list;
	ssize_t n;
	int ok = 1;

	if (!UNIT_OK(&u, run("command -v cpio > /dev/null") == 0,
	    "host cpio present (scripts/install-deps.sh installs cpio)"))
		return;
	snprintf(file, sizeof(file), "%s/blob", dir);
	cpio_init(&c, 1 << 20);
	build_sample(&c, file);
	cpio_finish(&c, err, sizeof(err));
	tmptree_put(dir, "sample.cpio", c.buf, c.len);
	snprintf(out, sizeof(out), "%.400s/x", dir);
	tmptree_mkdir(dir, "x");
	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < %s/sample.cpio > %s/list 2>&1", dir, dir);
	UNIT_OK(&u, run(cmd) == 0, "cpio -t reads the archive");
	list = tmptree_read(dir, "list", &len);
	UNIT_OK(&u, list && !strcmp(list, "etc\netc/sub\netc/f0\netc/f1\netc/f2\netc/f3\n"
	    "etc/f4\netc/f5\netc/link\ninit\n"), "cpio -t lists every name in order");
	free(list);
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -id --quiet < %s/sample.cpio", out, dir);
	UNIT_OK(&u, run(cmd) == 0, "cpio -i extracts the archive");
	for (unsigned i = 0; i <= 5; i++) {
		snprintf(file, sizeof(file), "etc/f%u", i);
		got = tmptree_read(out, file, &len);
		ok &= got && len == i && !memcmp(got, "abcde", i);
		free(got);
	}
	UNIT_OK(&u, ok, "extracted data files have the bytes written");
	got = tmptree_read(out, "init", &len);
	UNIT_OK(&u, got && len == blob_len && !memcmp(got, blob, len), "extracted host file matches");
	free(got);
	snprintf(file, sizeof(file), "%s/etc/link", out);
	n = readlink(file, link, sizeof(link) - 1);
	UNIT_OK(&u, n == 7 && !memcmp(link, "/etc/f3", 7), "extracted symlink target");
	cpio_free(&c);
	test_after_host_archive(dir);
}

int main(void)
{
	char dir[TMPTREE_DIR];
	uint8_t blob[70001];

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 131 + (i >> 8));
	tmptree_make(dir, "cpio");
	tmptree_put(dir, "blob", blob, sizeof(blob));
	test_golden();
	test_readback(dir, blob, sizeof(blob));
	test_concat();
	test_names();
	test_cap(dir);
	test_host_cpio(dir, blob, sizeof(blob));
	tmptree_remove(dir);
	return unit_done(&u);
}
