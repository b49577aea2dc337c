/*
 * fuzz_kmod.c: the guest-module code that reads files a user names
 * (src/kmod.c, src/kmod_dep.c, src/kmod_walk.c): a kernel image's version field, and the
 * modules.dep / modules.builtin parser with the dependency walk.
 *
 * Input: byte 0 bit 0 picks the part.
 *   0: bytes 1.. are a kernel file (a memfd), read by kmod_kernel_version.
 *      Invariants: an accepted release is non-empty, under
 *      KMOD_VERSION_LEN, made of [A-Za-z0-9._+~-], not "." or "..", and
 *      is exactly the first word at kernel_version + 0x200 in the file.
 *   1: bytes 1..2 are the length L of a modules.builtin text (little
 *      endian, clamped), bytes 3..3+L that text, the rest modules.dep.
 *      Invariants: every parsed path passes kmod_dep_check_path and every
 *      linked dependency names the module it points at; kmod_dep_find
 *      returns a module of that name; each walk (a fake file check fails
 *      for paths holding "zz") either appends modules whose listed
 *      dependencies are all earlier, or leaves the list and every state as
 *      they were; no module is ACTIVE between walks and DONE ones are
 *      exactly the listed ones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kmod.h"
#include "kmod_dep.h"
#include "kmod_walk.h"

#define WALK_MAX 64

#define CHECK(c) do { if (!(c)) fail(#c, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_kmod: invariant broken at line %d: %s\n", line, what);
	abort();
}

static void fuzz_version(const uint8_t *data, size_t size)
{
	char ver[KMOD_VERSION_LEN], err[256];
	int fd = memfd_create("kernel", MFD_CLOEXEC);
	size_t n, off;

	if (fd < 0)
		return;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	if (kmod_kernel_version(fd, ver, sizeof(ver), err, sizeof(err)) == 0) {
		n = strlen(ver);
		CHECK(n > 0 && n < KMOD_VERSION_LEN);
		CHECK(strspn(ver, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._+~-") == n);
		CHECK(strcmp(ver, ".") && strcmp(ver, ".."));
		CHECK(size >= 0x210);
		if (!memcmp(data, "\177ELF", 4)) {
			/* An ELF's release follows a "Linux version " banner somewhere in it. */
			const uint8_t *p = data;
			int found = 0;

			while (!found && (p = memmem(p, size - (size_t)(p - data), "Linux version ", 14))) {
				off = (size_t)(p - data) + 14;
				found = off + n <= size && !memcmp(data + off, ver, n) &&
				    (off + n == size || data[off + n] == ' ' || data[off + n] == '\0');
				p++;
			}
			CHECK(found);
		} else {
			off = (size_t)(data[0x20e] | data[0x20f] << 8) + 0x200;
			CHECK(off + n < size && !memcmp(data + off, ver, n));
			CHECK(data[off + n] == ' ' || data[off + n] == '\0');
		}
	} else {
		CHECK(err[0] && !strchr(err, '\n'));
	}
	close(fd);
}

static int fake_check(void *arg, const char *path, char *err, size_t errlen)
{
	(void)arg;
	if (strstr(path, "zz")) {
		snprintf(err, errlen, "%s: no file", path);
		return -2;
	}
	return 0;
}

/* states_match: no module ACTIVE, and DONE exactly for the n listed. */
static void states_match(const struct kmod_dep *d, struct kmod_dep_mod **order, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < d->nmod; i++) {
		CHECK(d->mod[i].state != KMOD_ACTIVE);
		done += d->mod[i].state == KMOD_DONE;
	}
	CHECK(done == n);
	for (size_t i = 0; i < n; i++)
		CHECK(order[i]->state == KMOD_DONE);
}

/* position: where m is in order[0..n), or n. */
static size_t position(struct kmod_dep_mod **order, size_t n, const struct kmod_dep_mod *m)
{
	size_t i;

	for (i = 0; i < n && order[i] != m; i++)
		;
	return i;
}

static void fuzz_deps(const uint8_t *data, size_t size)
{
	struct kmod_dep_mod *order[WALK_MAX], *f;
	struct kmod_dep d;
	char err[256];
	size_t blen, n = 0, before;
	int r;

	if (size < 2)
		return;
	blen = (size_t)(data[0] | data[1] << 8);
	if (blen > size - 2)
		blen = size - 2;
	if (kmod_dep_parse(&d, (const char *)data + 2 + blen, size - 2 - blen, err,
	    sizeof(err)) < 0) {
		CHECK(err[0] && !strchr(err, '\n'));
		return;
	}
	if (kmod_dep_parse_builtin(&d, (const char *)data + 2, blen, err, sizeof(err)) < 0)
		CHECK(err[0] && !strchr(err, '\n') && d.builtin == NULL);
	for (size_t i = 0; i < d.nmod; i++) {
		const struct kmod_dep_mod *m = &d.mod[i];

		CHECK(kmod_dep_check_path(m->path, strlen(m->path)) == NULL);
		CHECK(m->name[0] && !strchr(m->name, '-') && !strchr(m->name, '/'));
		f = kmod_dep_find(&d, m->name);
		CHECK(f && !strcmp(f->name, m->name) && f->line <= m->line);
		for (size_t j = 0; j < m->ndeps; j++) {
			const struct kmod_dep_ref *ref = &d.dep[m->dep0 + j];

			CHECK(kmod_dep_check_path(ref->path, strlen(ref->path)) == NULL);
			CHECK(ref->mod == KMOD_DEP_NONE ||
			    (ref->mod < d.nmod && !strcmp(d.mod[ref->mod].path, ref->path)));
		}
	}
	for (size_t i = 0; i < d.nmod && i < 32; i++) {
		before = n;
		r = kmod_walk(&d, &d.mod[i], order, &n, WALK_MAX, fake_check, NULL, err,
		    sizeof(err));
		if (r < 0) {
			CHECK(n == before && err[0] && !strchr(err, '\n'));
		} else {
			CHECK(position(order, n, &d.mod[i]) < n);
			for (size_t k = before; k < n; k++) {
				const struct kmod_dep_mod *m = order[k];

				CHECK(position(order, k, m) == k);	/* once */
				for (size_t j = 0; j < m->ndeps; j++) {
					size_t dm = d.dep[m->dep0 + j].mod;

					if (dm != KMOD_DEP_NONE)
						CHECK(position(order, k, &d.mod[dm]) < k);
				}
			}
		}
		states_match(&d, order, n);
	}
	kmod_dep_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_deps(data + 1, size - 1);
	else
		fuzz_version(data + 1, size - 1);
	return 0;
}
