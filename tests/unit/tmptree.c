/* tmptree.c: scratch directory trees for tests (tmptree.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmptree.h"

/* tmptree_fail: the machine failed the test's setup: say so and stop. */
static void tmptree_fail(const char *what, const char *path)
{
	fprintf(stderr, "tmptree: %s %s: %s\n", what, path, strerror(errno));
	printf("not ok - tmptree: %s %s\n", what, path);
	exit(1);
}

void tmptree_make(char *dir, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, TMPTREE_DIR, "%.400s/ringvm-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(dir))
		tmptree_fail("mkdtemp", dir);
}

/* tmptree_parents: create the directories above dir/rel (dir's own included). */
static void tmptree_parents(const char *dir, const char *rel)
{
	char path[TMPTREE_PATH];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			tmptree_fail("mkdir", path);
		*p = '/';
	}
}

void tmptree_put(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[TMPTREE_PATH];
	int fd;

	tmptree_parents(dir, rel);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		tmptree_fail("write", path);
	close(fd);
}

void tmptree_puts(const char *dir, const char *rel, const char *text)
{
	tmptree_put(dir, rel, text, strlen(text));
}

void tmptree_mkdir(const char *dir, const char *rel)
{
	char path[TMPTREE_PATH];

	tmptree_parents(dir, rel);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		tmptree_fail("mkdir", path);
}

void tmptree_symlink(const char *dir, const char *rel, const char *target)
{
	char path[TMPTREE_PATH];

	tmptree_parents(dir, rel);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (symlink(target, path) < 0)
		tmptree_fail("symlink", path);
}

void *tmptree_read(const char *dir, const char *rel, size_t *len)
{
	char path[TMPTREE_PATH];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		tmptree_fail("fstat", path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		tmptree_fail("read", path);
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static int tmptree_unlink(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

void tmptree_remove(const char *dir)
{
	if (nftw(dir, tmptree_unlink, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "tmptree: cannot remove %s: %s\n", dir, strerror(errno));
}
