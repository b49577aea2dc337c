/*
 * newc.h: a small newc cpio reader for the initramfs tests, written apart
 * from src/cpio.c so that the writer is checked against an independent
 * reading of the format. It reads the way the kernel's unpacker does
 * (init/initramfs.c): archives may follow one another, with zero bytes
 * between them, each starting 4-byte aligned; for a name present twice,
 * the later entry wins (newc_find). It is stricter than the kernel about
 * what the writer must get right: exact hex fields, zeroed padding, a
 * trailer at the end of every archive.
 */
#ifndef RINGVM_NEWC_H
#define RINGVM_NEWC_H

#include <stddef.h>
#include <stdint.h>

struct newc_entry {
	char name[4096];
	uint32_t ino, mode, uid, gid, nlink, mtime, size;
	uint32_t devmajor, devminor, rdevmajor, rdevminor, check;
	const uint8_t *data;	/* size bytes, inside the parsed buffer */
	unsigned archive;	/* which archive of the buffer, from 0 */
};

struct newc {
	struct newc_entry *e;	/* every entry but the trailers, in order */
	size_t n;
	unsigned archives;	/* trailers seen */
};

/* newc_parse: read buf; 0, or -1 with the reason in `why`. Free with newc_free. */
int newc_parse(const uint8_t *buf, size_t len, struct newc *out, char *why, size_t whylen);

/* newc_find: the last entry named `name`, as the kernel would leave it; NULL if none. */
const struct newc_entry *newc_find(const struct newc *a, const char *name);

void newc_free(struct newc *a);

#endif
