/*
 * cpio.c: the newc cpio writer behind ringvm's own initramfs (cpio.h).
 * Each entry is a 110-byte ASCII header, the name with its NUL padded so
 * header + name is a multiple of 4, then the data padded to 4.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"

#define CPIO_HDR_LEN 110		/* "070701" + 13 fields of 8 hex digits */
#define CPIO_TRAILER "TRAILER!!!"
#define CPIO_ALLOC_MIN (64u << 10)	/* the buffer's first allocation */

/* cpio_pad4: `n` rounded up to a multiple of 4. */
static size_t cpio_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* cpio_entry_len: bytes of an entry whose name has `name_len` bytes (no NUL). */
static size_t cpio_entry_len(size_t name_len, size_t data_len)
{
	return cpio_pad4(CPIO_HDR_LEN + name_len + 1) + cpio_pad4(data_len);
}

/*
 * cpio_fits: whether `more` bytes can be added while keeping room for the
 * trailer and the final padding under max_len. Sums are overflow-checked
 * (a caller's data length can be anything).
 */
static bool cpio_fits(const struct cpio *c, size_t more)
{
	size_t end;

	if (__builtin_add_overflow(c->len, more, &end) ||
	    __builtin_add_overflow(end, cpio_entry_len(sizeof(CPIO_TRAILER) - 1, 0), &end) ||
	    __builtin_add_overflow(end, CPIO_BLOCK - 1, &end))
		return false;
	return (end & ~(size_t)(CPIO_BLOCK - 1)) <= c->max_len;
}

/* cpio_reserve: make room for `more` bytes after len (the caller checked the cap). */
static int cpio_reserve(struct cpio *c, size_t more, char *err, size_t errlen)
{
	size_t want = c->len + more, n = c->alloc ? c->alloc : CPIO_ALLOC_MIN;
	uint8_t *p;

	if (want <= c->alloc)
		return 0;
	while (n < want)
		n = n > SIZE_MAX / 2 ? want : n * 2;
	/* Never allocate past the cap (cpio_fits kept `want` under it). */
	if (n > c->max_len && want <= c->max_len)
		n = c->max_len;
	p = realloc(c->buf, n);
	if (!p) {
		snprintf(err, errlen, "cpio: out of memory for a %zu-byte archive", want);
		return -ENOMEM;
	}
	c->buf = p;
	c->alloc = n;
	return 0;
}

/*
 * cpio_check_name: the kernel's unpacker takes a name relative to the root;
 * a ".." component or an absolute name would place the entry somewhere the
 * archive's author did not see, and an empty component hides one.
 */
static int cpio_check_name(const char *name, char *err, size_t errlen)
{
	const char *p = name, *slash;
	size_t n;

	if (!*name) {
		snprintf(err, errlen, "cpio: empty entry name");
		return -EINVAL;
	}
	if (strlen(name) > CPIO_NAME_MAX) {
		snprintf(err, errlen, "cpio: entry name longer than %u bytes", CPIO_NAME_MAX);
		return -EINVAL;
	}
	if (name[0] == '/') {
		snprintf(err, errlen, "cpio: entry '%s' is absolute; names are relative to the root",
		    name);
		return -EINVAL;
	}
	/* The trailer's name ends the archive: an entry with it would hide the rest. */
	if (!strcmp(name, CPIO_TRAILER)) {
		snprintf(err, errlen, "cpio: '%s' is the trailer's name", name);
		return -EINVAL;
	}
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(err, errlen, "cpio: entry '%s' has an empty, '.' or '..' component",
			    name);
			return -EINVAL;
		}
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

/* cpio_put_header: write an entry's header and padded name at len; advance len. */
static void cpio_put_header(struct cpio *c, uint32_t ino, uint32_t mode, uint32_t nlink,
    size_t data_len, const char *name)
{
	size_t name_len = strlen(name) + 1, end;
	char hdr[CPIO_HDR_LEN + 1];

	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	    ino, mode, 0u, 0u, nlink, 0u, (uint32_t)data_len, 0u, 0u, 0u, 0u,
	    (uint32_t)name_len, 0u);
	memcpy(c->buf + c->len, hdr, CPIO_HDR_LEN);
	memcpy(c->buf + c->len + CPIO_HDR_LEN, name, name_len);
	end = cpio_pad4(CPIO_HDR_LEN + name_len);
	memset(c->buf + c->len + CPIO_HDR_LEN + name_len, 0, end - CPIO_HDR_LEN - name_len);
	c->len += end;
}

/*
 * cpio_begin: the checks every entry shares, then room for it. On success
 * the caller writes the header and `data_len` data bytes, then cpio_end.
 */
static int cpio_begin(struct cpio *c, const char *name, unsigned perm, size_t data_len,
    char *err, size_t errlen)
{
	size_t total;
	int r;

	if (c->finished) {
		snprintf(err, errlen, "cpio: the archive is finished; cannot add '%s'", name);
		return -EINVAL;
	}
	r = cpio_check_name(name, err, errlen);
	if (r < 0)
		return r;
	if (perm > 07777) {
		snprintf(err, errlen, "cpio: entry '%s' has mode %#o, beyond 07777", name, perm);
		return -EINVAL;
	}
	/* newc's filesize field has 32 bits. */
	if (data_len > UINT32_MAX || !cpio_fits(c, cpio_entry_len(strlen(name), data_len))) {
		snprintf(err, errlen, "cpio: adding '%s' (%zu bytes) would take the initramfs "
		    "over its cap of %zu bytes", name, data_len, c->max_len);
		return -EFBIG;
	}
	total = cpio_entry_len(strlen(name), data_len);
	return cpio_reserve(c, total, err, errlen);
}

/* cpio_end: pad the data just written (`data_len` bytes at len) to 4. */
static void cpio_end(struct cpio *c, size_t data_len)
{
	size_t padded = cpio_pad4(data_len);

	memset(c->buf + c->len + data_len, 0, padded - data_len);
	c->len += padded;
}

void cpio_init(struct cpio *c, size_t max_len)
{
	memset(c, 0, sizeof(*c));
	c->max_len = max_len;
	c->next_ino = 1;
}

int cpio_add_dir(struct cpio *c, const char *name, unsigned perm, char *err, size_t errlen)
{
	int r = cpio_begin(c, name, perm, 0, err, errlen);

	if (r < 0)
		return r;
	cpio_put_header(c, c->next_ino++, S_IFDIR | perm, 2, 0, name);
	return 0;
}

int cpio_add_data(struct cpio *c, const char *name, unsigned perm, const void *data,
    size_t len, char *err, size_t errlen)
{
	int r = cpio_begin(c, name, perm, len, err, errlen);

	if (r < 0)
		return r;
	cpio_put_header(c, c->next_ino++, S_IFREG | perm, 1, len, name);
	if (len)
		memcpy(c->buf + c->len, data, len);
	cpio_end(c, len);
	return 0;
}

int cpio_add_symlink(struct cpio *c, const char *name, const char *target, char *err,
    size_t errlen)
{
	size_t len = strlen(target);
	int r;

	if (len == 0 || len > CPIO_NAME_MAX) {
		snprintf(err, errlen, "cpio: symlink '%s' has an empty or over-long target", name);
		return -EINVAL;
	}
	r = cpio_begin(c, name, 0777, len, err, errlen);
	if (r < 0)
		return r;
	cpio_put_header(c, c->next_ino++, S_IFLNK | 0777, 1, len, name);
	memcpy(c->buf + c->len, target, len);
	cpio_end(c, len);
	return 0;
}

int cpio_add_fd(struct cpio *c, const char *name, unsigned perm, int fd, char *err,
    size_t errlen)
{
	size_t start = c->len, size, got = 0;
	struct stat st;
	uint8_t *data;
	char extra;
	ssize_t n = 0;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cpio: '%s': cannot stat its file: %s", name, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cpio: '%s': its file is not a regular file", name);
		return -EINVAL;
	}
	/* The cap is checked on the stated size, before a byte is read. */
	size = (size_t)st.st_size;
	r = cpio_begin(c, name, perm, size, err, errlen);
	if (r < 0)
		return r;
	cpio_put_header(c, c->next_ino, S_IFREG | perm, 1, size, name);
	data = c->buf + c->len;
	while (got < size) {
		n = pread(fd, data + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0) {
		r = -errno;
		snprintf(err, errlen, "cpio: '%s': read failed: %s", name, strerror(-r));
		goto undo;
	}
	/* A file that shrank or grew would leave a header that lies. */
	if (got != size || pread(fd, &extra, 1, (off_t)size) != 0) {
		snprintf(err, errlen, "cpio: '%s': its file changed size while it was read", name);
		r = -EINVAL;
		goto undo;
	}
	cpio_end(c, size);
	c->next_ino++;
	return 0;
undo:
	c->len = start;
	return r;
}

int cpio_add_file(struct cpio *c, const char *name, unsigned perm, const char *path,
    char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cpio: cannot open '%s': %s", path, strerror(-r));
		return r;
	}
	r = cpio_add_fd(c, name, perm, fd, err, errlen);
	close(fd);
	return r;
}

int cpio_finish(struct cpio *c, char *err, size_t errlen)
{
	size_t trailer = cpio_entry_len(sizeof(CPIO_TRAILER) - 1, 0), end;
	int r;

	if (c->finished) {
		snprintf(err, errlen, "cpio: the archive is already finished");
		return -EINVAL;
	}
	end = (c->len + trailer + CPIO_BLOCK - 1) & ~(size_t)(CPIO_BLOCK - 1);
	/* Only a cap below one block can refuse here: each add kept this room. */
	if (end > c->max_len) {
		snprintf(err, errlen, "cpio: the cap of %zu bytes is below one %u-byte block",
		    c->max_len, CPIO_BLOCK);
		return -EFBIG;
	}
	r = cpio_reserve(c, end - c->len, err, errlen);
	if (r < 0)
		return r;
	/* The trailer: inode 0, mode 0, one link, no data. */
	cpio_put_header(c, 0, 0, 1, 0, CPIO_TRAILER);
	memset(c->buf + c->len, 0, end - c->len);
	c->len = end;
	c->finished = true;
	return 0;
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}
