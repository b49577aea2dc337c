/*
 * test_kmod.c: module resolution and packing (src/kmod.c, src/kmod_dep.c)
 * on fake module trees built in a scratch directory: dependency chains in
 * load order, each file once, '-' and '_' alike, built-in modules, a cycle
 * and a self-cycle (refused, not looped on), missing files and unlisted
 * dependencies (required: an error; optional: skipped, and what the failed
 * walk had added is taken back), traversal in the text and through
 * symlinks, malformed files, the limits, and the archive kmod_pack writes.
 * test_kmod_version covers the bzImage version and this machine's tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"
#include "kmod.h"
#include "newc.h"
#include "tmptree.h"
#include "unit.h"

static struct unit u = { .file = "kmod" };

static char top[TMPTREE_DIR];		/* the scratch tree */
static char moddir[2 * TMPTREE_DIR];	/* top/lib/modules/9.9.9-test */

static const char fake_dep[] =
    "kernel/a/top.ko: kernel/b/mid.ko kernel/c/base.ko\n"
    "kernel/b/mid.ko: kernel/c/base.ko\n"
    "kernel/c/base.ko:\n"
    "kernel/d/dash-name.ko: kernel/c/base.ko\n"
    "\n"
    "kernel/e/cyc1.ko: kernel/e/cyc2.ko\n"
    "kernel/e/cyc2.ko: kernel/e/cyc1.ko\n"
    "kernel/e/self.ko: kernel/e/self.ko\n"
    "kernel/f/gone.ko:\n"
    "kernel/f/needs_gone.ko: kernel/f/gone.ko kernel/c/base.ko\n"
    "kernel/g/needs_unlisted.ko: kernel/g/unlisted.ko\n"
    "kernel/h/needs_builtin.ko: kernel/builtin/in_kernel.ko\n"
    "kernel/x/comp.ko.xz: kernel/c/base.ko\n"
    "kernel/x/zst.ko.zst:\n"
    "kernel/s/escape.ko:\n"
    "kernel/s/inside.ko:\n"
    "kernel/s/fifo.ko:\n"
    "kernel/s/adir.ko:";	/* no final newline */

static const char *const fake_files[] = {
	"kernel/a/top.ko", "kernel/b/mid.ko", "kernel/c/base.ko", "kernel/d/dash-name.ko",
	"kernel/e/cyc1.ko", "kernel/e/cyc2.ko", "kernel/e/self.ko", "kernel/f/needs_gone.ko",
	"kernel/g/needs_unlisted.ko", "kernel/g/unlisted.ko", "kernel/h/needs_builtin.ko",
	"kernel/x/comp.ko.xz", "kernel/x/zst.ko.zst",
};

static void make_fake_tree(void)
{
	char path[TMPTREE_PATH], text[128];

	snprintf(moddir, sizeof(moddir), "%s/lib/modules/9.9.9-test", top);
	for (size_t i = 0; i < sizeof(fake_files) / sizeof(fake_files[0]); i++) {
		snprintf(text, sizeof(text), "module file %s\n", fake_files[i]);
		tmptree_puts(moddir, fake_files[i], text);
	}
	tmptree_puts(moddir, "modules.dep", fake_dep);
	tmptree_puts(moddir, "modules.builtin", "kernel/builtin/in-kernel.ko\nkernel/z/built_in2.ko\n");
	/* escape.ko leaves the tree through an absolute symlink; inside.ko stays in. */
	tmptree_puts(top, "secret.ko", "outside the module directory\n");
	snprintf(path, sizeof(path), "%s/secret.ko", top);
	tmptree_symlink(moddir, "kernel/s/escape.ko", path);
	tmptree_symlink(moddir, "kernel/s/inside.ko", "../c/base.ko");
	snprintf(path, sizeof(path), "%s/kernel/s/fifo.ko", moddir);
	mkfifo(path, 0644);
	tmptree_mkdir(moddir, "kernel/s/adir.ko");
}

/* names: the list's module names joined by spaces, for comparisons. */
static const char *names(const struct kmod_list *l)
{
	static char buf[1024];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? " " : "",
		    l->file[i].name);
	return buf;
}

/* resolve: kmod_resolve on the fake tree; the list's names, or "E<errno>: reason". */
static const char *resolve(const char *const *req, const char *const *opt, struct kmod_list *l)
{
	static char out[600];
	char err[512];
	int r = kmod_resolve(moddir, req, opt, l, err, sizeof(err));

	if (r < 0) {
		snprintf(out, sizeof(out), "E%d: %s", -r, err);
		return out;
	}
	return names(l);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* check: resolve `req`/`opt` and compare with `want` ("E<errno>" matches the prefix). */
static void check(const char *const *req, const char *const *opt, const char *want,
    const char *what)
{
	struct kmod_list l;
	const char *got = resolve(req, opt, &l);
	int ok = want[0] == 'E' ? !strncmp(got, want, strlen(want)) : !strcmp(got, want);

	if (!UNIT_OK(&u, ok, what))
		printf("#   got '%s', want '%s'\n", got, want);
	if (want[0] == 'E')
		UNIT_OK(&u, l.n == 0 && l.file == NULL && !strchr(got, '\n'),
		    "a failed resolution leaves the list empty, with a one-line reason");
	kmod_list_free(&l);
}

static void test_resolve(void)
{
	struct kmod_list l;

	check(LIST("top"), NULL, "base mid top", "a chain in load order");
	check(LIST("top", "mid", "base", "top"), NULL, "base mid top", "each module once");
	check(LIST("dash_name"), NULL, "base dash_name", "a '-' file found by its '_' name");
	check(LIST("dash-name"), NULL, "base dash_name", "and by its '-' name");
	check(LIST("cyc1"), NULL, "E40:", "a dependency cycle is -ELOOP, not a loop");
	check(LIST("self"), NULL, "E40:", "a module needing itself is -ELOOP");
	check(LIST("needs_gone"), NULL, "E2:", "a listed dependency without its file is -ENOENT");
	check(LIST("needs_unlisted"), NULL, "E2:", "a dependency modules.dep does not list");
	check(LIST("needs_builtin"), NULL, "needs_builtin", "a built-in dependency is satisfied");
	check(LIST("in_kernel", "built-in2"), NULL, "", "wanted built-in modules need no file");
	check(LIST("absent"), NULL, "E2:", "a required module that is absent is -ENOENT");
	check(LIST("../x"), NULL, "E22:", "a bad module name is -EINVAL");
	check(LIST("comp", "zst"), NULL, "base comp zst", "compressed modules are listed");
	check(LIST("escape"), NULL, "E2:", "a symlink out of the module directory is refused");
	check(LIST("inside"), NULL, "inside", "a symlink that stays inside is followed");
	check(LIST("fifo"), NULL, "E2:", "a FIFO is refused, without blocking");
	check(LIST("adir"), NULL, "E2:", "a directory is refused");
	check(NULL, NULL, "", "nothing wanted, nothing listed");

	/* Optional: skipped, and a failed walk takes back what it added (base). */
	check(NULL, LIST("needs_gone", "absent", "cyc1"), "", "optional modules that fail are skipped");
	check(LIST("mid"), LIST("needs_gone"), "base mid", "a skipped module's partial walk is undone");
	check(NULL, LIST("needs_gone", "mid"), "base mid", "and later walks still add its dependencies");
	resolve(LIST("top"), LIST("absent", "cyc1", "top"), &l);
	UNIT_OK(&u, l.n == 3 && l.nskip == 2 && !strcmp(l.skip[0].name, "absent") &&
	    strstr(l.skip[0].why, "not in") && !strcmp(l.skip[1].name, "cyc1") &&
	    strstr(l.skip[1].why, "cycle"), "skipped modules are reported with their reason");
	UNIT_OK(&u, l.n == 3 && !strcmp(l.file[0].path, "kernel/c/base.ko") &&
	    !strcmp(l.file[2].path, "kernel/a/top.ko"), "paths are relative to the directory");
	kmod_list_free(&l);
}

/* bad_dep: a tree whose modules.dep is `text` (len bytes) must be refused with `want`. */
static void bad_dep(const char *text, size_t len, int want, const char *needle, const char *what)
{
	char dir[TMPTREE_PATH], err[512];
	struct kmod_list l;
	int r;

	snprintf(dir, sizeof(dir), "%s/bad", top);
	tmptree_put(dir, "modules.dep", text, len);
	tmptree_puts(dir, "kernel/a.ko", "a");
	r = kmod_resolve(dir, LIST("a"), NULL, &l, err, sizeof(err));
	if (!UNIT_OK(&u, r == want && strstr(err, needle) && !strchr(err, '\n'), what))
		printf("#   got %d '%s'\n", r, err);
	kmod_list_free(&l);
}

#define BAD(text, ...) bad_dep(text, sizeof(text) - 1, __VA_ARGS__)

static void test_malformed(void)
{
	char *big, dir[TMPTREE_PATH], err[512];
	struct kmod_list l;
	size_t n = KMOD_LINE_MAX + 100;

	BAD("kernel/a.ko:\n../../etc/passwd.ko:\n", -EINVAL, "line 2",
	    "a '..' path is refused, with its line");
	BAD("/lib/modules/kernel/a.ko:\n", -EINVAL, "absolute", "an absolute path is refused");
	BAD("kernel/a.ko: kernel/../../x.ko\n", -EINVAL, "dependency",
	    "a '..' dependency is refused");
	BAD("kernel/./a.ko:\n", -EINVAL, "'.'", "a '.' component is refused");
	BAD("kernel/a.ko\n", -EINVAL, "no ':'", "a line without ':' is refused");
	BAD("kernel/a.o:\n", -EINVAL, ".ko", "a path without .ko is refused");
	BAD("kernel/a.ko:\nkernel/a.ko:\n", -EINVAL, "twice", "a module listed twice");
	BAD("kernel/a.ko:\0\n", -EINVAL, "NUL", "a NUL byte is refused");
	BAD("kernel/a\n.ko:\n", -EINVAL, "no ':'", "a newline in a path cannot pass");
	big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, "kernel/a.ko:", 12);
	bad_dep(big, n, -EINVAL, "longer than", "an over-long line is refused");
	free(big);

	snprintf(dir, sizeof(dir), "%s/nodep", top);
	tmptree_puts(dir, "kernel/a.ko", "a");
	UNIT_OK(&u, kmod_resolve(dir, LIST("a"), NULL, &l, err, sizeof(err)) == -ENOENT &&
	    strstr(err, "modules.dep") && strstr(err, "depmod"), "a missing modules.dep is named");
	snprintf(dir, sizeof(dir), "%s/none", top);
	UNIT_OK(&u, kmod_resolve(dir, LIST("a"), NULL, &l, err, sizeof(err)) == -ENOENT &&
	    strstr(err, dir), "a missing module directory is named");
	/* A tree without modules.builtin is fine. */
	snprintf(dir, sizeof(dir), "%s/bad", top);
	tmptree_puts(dir, "modules.dep", "kernel/a.ko:\n");
	UNIT_OK(&u, kmod_resolve(dir, LIST("a"), NULL, &l, err, sizeof(err)) == 0 && l.n == 1,
	    "modules.builtin may be absent");
	kmod_list_free(&l);
}

/* A chain `depth` modules long (each lists only the next) and KMOD_MAX_LIST + 1 modules. */
static void test_limits(void)
{
	char dir[TMPTREE_PATH], line[128], err[512], name[16];
	const char *want[KMOD_MAX_LIST + 2];
	static char wnames[KMOD_MAX_LIST + 1][16];
	char *text = malloc(64 * 1024);
	struct kmod_list l;
	size_t used;
	int r;

	for (unsigned depth = KMOD_MAX_DEPTH; depth <= KMOD_MAX_DEPTH + 1; depth++) {
		snprintf(dir, sizeof(dir), "%s/chain%u", top, depth);
		used = 0;
		for (unsigned i = 0; i < depth; i++) {
			snprintf(name, sizeof(name), "m%u.ko", i);
			tmptree_puts(dir, name, "m");
			if (i + 1 < depth)
				snprintf(line, sizeof(line), "m%u.ko: m%u.ko\n", i, i + 1);
			else
				snprintf(line, sizeof(line), "m%u.ko:\n", i);
			used += (size_t)snprintf(text + used, 64 * 1024 - used, "%s", line);
		}
		tmptree_put(dir, "modules.dep", text, used);
		r = kmod_resolve(dir, LIST("m0"), NULL, &l, err, sizeof(err));
		if (depth == KMOD_MAX_DEPTH)
			UNIT_OK(&u, r == 0 && l.n == depth && !strcmp(l.file[0].name, "m63"),
			    "a chain KMOD_MAX_DEPTH long resolves, deepest first");
		else
			UNIT_OK(&u, r == -E2BIG && strstr(err, "deep"), "a longer chain is refused");
		kmod_list_free(&l);
	}
	snprintf(dir, sizeof(dir), "%s/many", top);
	used = 0;
	for (unsigned i = 0; i <= KMOD_MAX_LIST; i++) {
		snprintf(name, sizeof(name), "n%u.ko", i);
		tmptree_puts(dir, name, "n");
		used += (size_t)snprintf(text + used, 64 * 1024 - used, "n%u.ko:\n", i);
		snprintf(wnames[i], sizeof(wnames[i]), "n%u", i);
		want[i] = wnames[i];
	}
	want[KMOD_MAX_LIST + 1] = NULL;
	tmptree_put(dir, "modules.dep", text, used);
	UNIT_OK(&u, kmod_resolve(dir, want, NULL, &l, err, sizeof(err)) == -E2BIG,
	    "more than KMOD_MAX_LIST files is -E2BIG");
	want[KMOD_MAX_LIST] = NULL;
	UNIT_OK(&u, kmod_resolve(dir, want, NULL, &l, err, sizeof(err)) == 0 &&
	    l.n == KMOD_MAX_LIST, "KMOD_MAX_LIST files are fine");
	kmod_list_free(&l);
	free(text);
}

/* same_file: whether entry `e` holds the bytes of moddir/rel. */
static int same_file(const struct newc_entry *e, const char *rel)
{
	size_t len;
	void *want = tmptree_read(moddir, rel, &len);
	int same = want && e && e->size == len && !memcmp(e->data, want, len) &&
	    e->mode == (S_IFREG | 0644);

	free(want);
	return same;
}

static void test_pack(void)
{
	static const char want_list[] = "/ringvm/mod/001-base.ko\n/ringvm/mod/002-mid.ko\n"
	    "/ringvm/mod/003-top.ko\n/ringvm/mod/004-dash_name.ko\n/ringvm/mod/005-comp.ko.xz\n";
	struct kmod_list l;
	struct cpio c;
	struct newc a;
	char err[512];
	const struct newc_entry *e;

	resolve(LIST("top", "dash-name", "comp"), NULL, &l);
	cpio_init(&c, 1 << 20);
	UNIT_OK(&u, kmod_pack(&c, moddir, &l, err, sizeof(err)) == 0 &&
	    cpio_finish(&c, err, sizeof(err)) == 0, "pack five modules");
	if (UNIT_OK(&u, newc_parse(c.buf, c.len, &a, err, sizeof(err)) == 0,
	    "the packed archive parses")) {
		UNIT_OK(&u, a.n == 8 && !strcmp(a.e[0].name, "ringvm") &&
		    !strcmp(a.e[1].name, "ringvm/mod") && (a.e[1].mode & S_IFMT) == S_IFDIR,
		    "directories first, then modules, then the list");
		e = newc_find(&a, "ringvm/modules");
		UNIT_OK(&u, e && e->size == sizeof(want_list) - 1 &&
		    !memcmp(e->data, want_list, e->size), "ringvm/modules: absolute paths in load order");
		UNIT_OK(&u, same_file(newc_find(&a, "ringvm/mod/001-base.ko"), "kernel/c/base.ko") &&
		    same_file(newc_find(&a, "ringvm/mod/004-dash_name.ko"), "kernel/d/dash-name.ko"),
		    "module files carry their bytes");
		UNIT_OK(&u, same_file(newc_find(&a, "ringvm/mod/005-comp.ko.xz"), "kernel/x/comp.ko.xz"),
		    "a compressed module keeps its suffix and its bytes");
		newc_free(&a);
	}
	cpio_free(&c);

	cpio_init(&c, 1024);
	UNIT_OK(&u, kmod_pack(&c, moddir, &l, err, sizeof(err)) == -EFBIG && strstr(err, "cap"),
	    "the archive's cap stops a pack");
	cpio_free(&c);
	kmod_list_free(&l);

	cpio_init(&c, 1 << 20);
	UNIT_OK(&u, kmod_pack(&c, moddir, &l, err, sizeof(err)) == 0 &&
	    cpio_finish(&c, err, sizeof(err)) == 0 &&
	    newc_parse(c.buf, c.len, &a, err, sizeof(err)) == 0, "pack an empty list");
	e = newc_find(&a, "ringvm/modules");
	UNIT_OK(&u, a.n == 3 && e && e->size == 0, "an empty list writes an empty ringvm/modules");
	newc_free(&a);
	cpio_free(&c);
}

static void test_moddir(void)
{
	char dir[TMPTREE_PATH], base[TMPTREE_PATH], err[512], want[TMPTREE_PATH * 2];

	snprintf(base, sizeof(base), "%s/lib/modules", top);
	UNIT_OK(&u, kmod_moddir(base, "9.9.9-test", dir, sizeof(dir), err, sizeof(err)) == 0 &&
	    !strcmp(dir, moddir), "the module directory of an installed kernel");
	snprintf(want, sizeof(want), "no modules for kernel 1.0-x in %s/1.0-x: install "
	    "linux-image-1.0-x or use --modules DIR", base);
	UNIT_OK(&u, kmod_moddir(base, "1.0-x", dir, sizeof(dir), err, sizeof(err)) == -ENOENT &&
	    !strcmp(err, want), "a kernel without modules: the fix is named");
	tmptree_puts(base, "8.8.8-file", "not a directory");
	UNIT_OK(&u, kmod_moddir(base, "8.8.8-file", dir, sizeof(dir), err, sizeof(err)) ==
	    -ENOTDIR, "a file is not a module directory");
	UNIT_OK(&u, kmod_moddir(base, "9.9.9-test/../..", dir, sizeof(dir), err, sizeof(err)) ==
	    -EINVAL && kmod_moddir(base, "..", dir, sizeof(dir), err, sizeof(err)) == -EINVAL,
	    "a release that is a path is refused");
	UNIT_OK(&u, kmod_moddir(base, "9.9.9-test", dir, 8, err, sizeof(err)) == -ENAMETOOLONG,
	    "a name that does not fit is refused");
}

int main(void)
{
	tmptree_make(top, "kmod");
	make_fake_tree();
	test_resolve();
	test_malformed();
	test_limits();
	test_pack();
	test_moddir();
	tmptree_remove(top);
	return unit_done(&u);
}
